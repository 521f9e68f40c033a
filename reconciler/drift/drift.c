/*
 * Drift detection between desired and live objects: see
 * reconciler/include/tollgate/drift.h. Field ownership follows the
 * managedFields "FieldsV1" encoding of structured-merge-diff: "f:<name>" for a
 * map field, "k:<json of key fields>" for a list item matched by key, "v:<json
 * value>" for a set item, "i:<index>" for a positional item, and
 * "." for the element itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/drift.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

#include "drift_int.h"

/* Fields the server owns or that change on every write: never drift. */
static const char *const ignored_meta[] = {
	"managedFields",
	"resourceVersion",
	"uid",
	"generation",
	"creationTimestamp",
	"selfLink",
	"deletionTimestamp",
	"deletionGracePeriodSeconds",
	"ownerReferences",
	"finalizers",
};

typedef struct walk {
	json_t *out;
	json_t *live_root;
	const char *self;
	int secret; /* comparing a Secret's data: no values in the report */
} walk;

/* Append key escaped as a JSON pointer segment (RFC 6901). 0 or
 * TG_ETOOBIG. */
static int append_escaped(tg_buf *b, const char *key)
{
	int error = 0;

	for (; *key && error == 0; key++) {
		if (*key == '~')
			error = tg_buf_puts(b, "~0");
		else if (*key == '/')
			error = tg_buf_puts(b, "~1");
		else
			error = tg_buf_append(b, key, 1);
	}
	return error;
}

/* The pointer of member key below parent. One that would exceed the cap
 * is reported as its parent: the drift is still found, less precisely. */
static char *child_pointer(const char *parent, const char *key)
{
	tg_buf b;
	int error;

	tg_buf_init(&b, TG_DRIFT_MAX_POINTER_BYTES);
	if ((error = tg_buf_puts(&b, parent)) == 0 &&
	    (error = tg_buf_puts(&b, "/")) == 0)
		error = append_escaped(&b, key);
	if (error < 0) {
		tg_buf_free(&b);
		return tg_strdup(parent);
	}
	return tg_buf_detach(NULL, &b);
}

static json_t *small_copy(json_t *v)
{
	char *s;
	size_t n;

	if (!v)
		return json_null();
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	n = s ? strlen(s) : 0;
	free(s);
	if (n > TG_DRIFT_MAX_VALUE_BYTES)
		return json_string("(large value)");
	return json_deep_copy(v);
}

static void report(walk *w, const char *pointer, json_t *desired, json_t *live)
{
	json_t *d = json_object();

	json_object_set_new(d, "path", json_string(pointer));
	json_object_set_new(d, "managers",
	                    tg_drift_owners(w->live_root, pointer, w->self));
	if (!w->secret) {
		json_object_set_new(d, "desired", small_copy(desired));
		json_object_set_new(d, "live", small_copy(live));
	}
	json_array_append_new(w->out, d);
}

static void
compare(walk *w, const char *pointer, json_t *desired, json_t *live);

/* A list whose items are all objects with a string "name". */
static int named_list(json_t *arr)
{
	json_t *item;
	size_t i;

	if (json_array_size(arr) == 0)
		return 0;
	json_array_foreach(arr, i, item) {
		if (!json_is_string(json_object_get(item, "name")))
			return 0;
	}
	return 1;
}

/* Index of the item of arr whose "name" is name, or -1. */
static long find_named(json_t *arr, const char *name)
{
	json_t *item;
	size_t i;

	json_array_foreach(arr, i, item) {
		const char *n =
		        json_string_value(json_object_get(item, "name"));
		if (n && !strcmp(n, name))
			return (long)i;
	}
	return -1;
}

/* Items are matched by name; the pointer uses the item's index in the
 * live list so that it names the live field. */
static void
compare_named_list(walk *w, const char *pointer, json_t *desired, json_t *live)
{
	json_t *d;
	size_t i;

	json_array_foreach(desired, i, d) {
		const char *name =
		        json_string_value(json_object_get(d, "name"));
		long at = find_named(live, name);
		char idx[24], *p;

		if (at < 0) {
			p = child_pointer(pointer, name);
			report(w, p, d, NULL);
		} else {
			snprintf(idx, sizeof(idx), "%ld", at);
			p = child_pointer(pointer, idx);
			compare(w, p, d, json_array_get(live, (size_t)at));
		}
		free(p);
	}
}

static void
compare_object(walk *w, const char *pointer, json_t *desired, json_t *live)
{
	const char *key;
	json_t *d;

	json_object_foreach(desired, key, d) {
		char *p = child_pointer(pointer, key);
		compare(w, p, d, json_object_get(live, key));
		free(p);
	}
}

/* Numbers compare by value: 1 and 1.0 are the same field value. */
static int same_scalar(json_t *a, json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	return json_equal(a, b);
}

/* A list whose items are all objects. */
static int object_list(json_t *arr)
{
	json_t *item;
	size_t i;

	json_array_foreach(arr, i, item) {
		if (!json_is_object(item))
			return 0;
	}
	return 1;
}

static int owns(json_t *fields, json_t *live, const char *pointer);

static json_t *
owners_of(json_t *live, const char *pointer, const char *self, int *mine);

/* Whether another manager owns pointer and self does not. */
static int foreign(walk *w, const char *pointer)
{
	int mine = 0, other;
	json_t *owners = owners_of(w->live_root, pointer, w->self, &mine);

	other = json_array_size(owners) > 0;
	json_decref(owners);
	return other && !mine;
}

/* Whether a member live has and desired lacks, at any depth below
 * pointer (objects by key, lists of the same length item by item), is
 * foreign. */
static int
foreign_extra(walk *w, const char *pointer, json_t *desired, json_t *live)
{
	const char *key;
	json_t *l;
	size_t i;
	int hit = 0;

	if (json_is_object(desired) && json_is_object(live)) {
		json_object_foreach(live, key, l) {
			char *p = child_pointer(pointer, key);
			json_t *d = json_object_get(desired, key);

			hit = d ? foreign_extra(w, p, d, l) : foreign(w, p);
			free(p);
			if (hit)
				break;
		}
	} else if (json_is_array(desired) && json_is_array(live) &&
	           json_array_size(desired) == json_array_size(live)) {
		json_array_foreach(live, i, l) {
			char idx[24], *p;

			snprintf(idx, sizeof(idx), "%zu", i);
			p = child_pointer(pointer, idx);
			hit = foreign_extra(w, p, json_array_get(desired, i),
			                    l);
			free(p);
			if (hit)
				break;
		}
	}
	return hit;
}

/* Same length lists of objects without names (Service ports, tolerations,
 * rules): the server keeps the applied order, so item i is compared with
 * item i field by field, and fields the server defaulted in an item
 * (a port's protocol) are not drift. */
static void
compare_positional(walk *w, const char *pointer, json_t *desired, json_t *live)
{
	size_t i, before = json_array_size(w->out);
	json_t *d;

	json_array_foreach(desired, i, d) {
		char idx[24], *p;

		snprintf(idx, sizeof(idx), "%zu", i);
		p = child_pointer(pointer, idx);
		compare(w, p, d, json_array_get(live, i));
		free(p);
	}
	if (json_array_size(w->out) != before || json_equal(desired, live))
		return;
	/* Items carry more than tollgate set. Fields the server filled in
	 * are no one's; fields another writer added to an item of a list
	 * that is replaced whole (a NetworkPolicy peer widened with a
	 * namespaceSelector) belong to that writer, and they are drift. A
	 * list or field tollgate still owns beside another manager is one
	 * both applied with the same value (`kubectl apply --server-side`
	 * of the same file): not drift, or every cycle would correct it. */
	if (foreign(w, pointer) || foreign_extra(w, pointer, desired, live))
		report(w, pointer, desired, live);
}

/* Scalars and lists of scalars, numbers by value. */
static int same_value(json_t *a, json_t *b)
{
	size_t i, n;

	if (!json_is_array(a) || !json_is_array(b))
		return same_scalar(a, b);
	n = json_array_size(a);
	if (n != json_array_size(b))
		return 0;
	for (i = 0; i < n; i++)
		if (!same_value(json_array_get(a, i), json_array_get(b, i)))
			return 0;
	return 1;
}

static void compare(walk *w, const char *pointer, json_t *desired, json_t *live)
{
	if (json_is_object(desired) && json_is_object(live)) {
		compare_object(w, pointer, desired, live);
	} else if (json_is_array(desired) && json_is_array(live) &&
	           named_list(desired) && named_list(live)) {
		compare_named_list(w, pointer, desired, live);
	} else if (json_is_array(desired) && json_is_array(live) &&
	           json_array_size(desired) == json_array_size(live) &&
	           object_list(desired) && object_list(live)) {
		compare_positional(w, pointer, desired, live);
	} else if (json_is_array(desired) && json_is_array(live)) {
		size_t i, n = json_array_size(desired);
		int same = n == json_array_size(live);
		for (i = 0; same && i < n; i++)
			same = same_value(json_array_get(desired, i),
			                  json_array_get(live, i));
		if (!same)
			report(w, pointer, desired, live);
	} else if (json_is_null(desired) && !live) {
		/* null in a manifest means "unset": absent live is equal. */
	} else if (!live || !same_scalar(desired, live)) {
		report(w, pointer, desired, live);
	}
}

/* Secret stringData is write-only: compare it with base64 data. */
static void compare_secret(walk *w, json_t *desired, json_t *live)
{
	json_t *ddata = json_object_get(desired, "data");
	json_t *sdata = json_object_get(desired, "stringData");
	json_t *ldata = json_object_get(live, "data"), *v;
	const char *key;

	w->secret = 1;
	json_object_foreach(ddata, key, v) {
		json_t *l = json_object_get(ldata, key);
		if (!l || !json_equal(l, v)) {
			char *p = child_pointer("/data", key);
			report(w, p, NULL, NULL);
			free(p);
		}
	}
	json_object_foreach(sdata, key, v) {
		const char *s = json_string_value(v);
		json_t *l = json_object_get(ldata, key);
		char *enc = s ? tg_base64_encode((const unsigned char *)s,
		                                 strlen(s))
		              : NULL;
		if (!l || !enc ||
		    strcmp(json_string_value(l) ? json_string_value(l) : "",
		           enc)) {
			char *p = child_pointer("/data", key);
			report(w, p, NULL, NULL);
			free(p);
		}
		free(enc);
	}
	w->secret = 0;
}

void tg_drift_compare(json_t **out,
                      json_t *desired,
                      json_t *live,
                      const char *self)
{
	walk w = { .out = json_array(), .live_root = live, .self = self };
	json_t *d = json_deep_copy(desired), *meta;
	const char *kind = json_string_value(json_object_get(desired, "kind"));
	size_t i;

	meta = json_object_get(d, "metadata");
	for (i = 0; i < sizeof(ignored_meta) / sizeof(ignored_meta[0]); i++)
		json_object_del(meta, ignored_meta[i]);
	json_object_del(d, "status");
	if (kind && !strcmp(kind, "Secret")) {
		compare_secret(&w, d, live);
		json_object_del(d, "data");
		json_object_del(d, "stringData");
	}
	compare(&w, "", d, live);
	json_decref(d);
	*out = w.out;
}

/* Ownership --------------------------------------------------------------- */

/* True when every member of key (a "k:" list key) equals item's. */
static int key_matches(json_t *key, json_t *item)
{
	const char *k;
	json_t *v;

	if (!json_is_object(key) || !json_is_object(item))
		return 0;
	json_object_foreach(key, k, v) {
		if (!same_scalar(v, json_object_get(item, k)))
			return 0;
	}
	return 1;
}

/* The fieldsV1 entry for list item number idx of live list arr; the
 * key it was matched by into *key when key is not NULL (a "k:" entry: a
 * new reference to the key's object, else NULL). */
json_t *drift_item_fields(json_t *fields, json_t *arr, size_t idx, json_t **key)
{
	json_t *item = json_array_get(arr, idx), *sub;
	char want[sizeof("i:") + 3 * sizeof(size_t)];
	const char *k;

	if (key)
		*key = NULL;
	snprintf(want, sizeof(want), "i:%zu", idx);
	json_object_foreach(fields, k, sub) {
		json_t *parsed;
		int hit = 0;

		if (!strcmp(k, want))
			return sub;
		if (strncmp(k, "k:", 2) && strncmp(k, "v:", 2))
			continue;
		parsed = json_loads(k + 2, JSON_DECODE_ANY, NULL);
		hit = k[0] == 'k' ? key_matches(parsed, item)
		                  : json_equal(parsed, item);
		if (hit && key && k[0] == 'k')
			*key = json_incref(parsed);
		json_decref(parsed);
		if (hit)
			return sub;
	}
	return NULL;
}

/* Next unescaped pointer segment of *p into seg: 1, 0 at the end, or
 * TG_ETOOBIG for a segment over the cap. */
static int next_segment(tg_buf *seg, const char **p)
{
	const char *s = *p;
	int error;

	if (*s != '/')
		return 0;
	s++;
	tg_buf_clear(seg);
	error = tg_buf_puts(seg, "");
	while (error == 0 && *s && *s != '/') {
		if (s[0] == '~' && (s[1] == '1' || s[1] == '0')) {
			error = tg_buf_append(seg, s[1] == '1' ? "/" : "~", 1);
			s += 2;
		} else {
			error = tg_buf_append(seg, s++, 1);
		}
	}
	*p = s;
	return error < 0 ? error : 1;
}

/* Whether fieldsV1 (fields) covers pointer in live: its entries reach
 * the end of pointer, or a leaf on the way. */
static int owns(json_t *fields, json_t *live, const char *pointer)
{
	const char *p = pointer;
	tg_buf seg;
	int ok = 1, more;

	tg_buf_init(&seg, TG_DRIFT_MAX_POINTER_BYTES);
	while (ok && (more = next_segment(&seg, &p)) != 0) {
		uint64_t idx = 0;

		/* A segment over the cap cannot be matched: not owned. */
		if (more < 0 ||
		    (json_is_array(live) &&
		     tg_parse_u64(&idx, seg.data, seg.len,
		                  TG_DRIFT_MAX_POINTER_INDEX) < 0)) {
			ok = 0;
			break;
		}
		if (json_is_array(live)) {
			fields = drift_item_fields(fields, live, (size_t)idx,
			                           NULL);
			live = json_array_get(live, (size_t)idx);
		} else {
			char *f = tg_aprintf("f:%s", seg.data);
			fields = json_object_get(fields, f);
			live = json_object_get(live, seg.data);
			free(f);
		}
		ok = fields != NULL;
		/* A leaf ({}) is a value owned whole, as an atomic struct or
		 * list is: it covers everything below it. */
		if (ok && json_object_size(fields) == 0)
			break;
	}
	tg_buf_free(&seg);
	return ok;
}

/* The managers other than self whose fieldsV1 cover pointer in live, each
 * once; *mine (when not NULL) is set when self's own entry covers it. */
static json_t *
owners_of(json_t *live, const char *pointer, const char *self, int *mine)
{
	json_t *owners = json_array(), *entry;
	json_t *mf = json_object_get(json_object_get(live, "metadata"),
	                             "managedFields");
	size_t i;

	json_array_foreach(mf, i, entry) {
		const char *m =
		        json_string_value(json_object_get(entry, "manager"));
		json_t *fields = json_object_get(entry, "fieldsV1");
		size_t j;
		json_t *seen;
		int dup = 0;

		if (!m || !json_is_object(fields))
			continue;
		if (self && !strcmp(m, self)) {
			if (mine && !*mine)
				*mine = owns(fields, live, pointer);
			continue;
		}
		if (!owns(fields, live, pointer))
			continue;
		json_array_foreach(owners, j, seen)
			dup |= !strcmp(json_string_value(seen), m);
		if (!dup)
			json_array_append_new(owners, json_string(m));
	}
	return owners;
}

json_t *tg_drift_owners(json_t *live, const char *pointer, const char *self)
{
	return owners_of(live, pointer, self, NULL);
}
