/*
 * The text of status.json and units/<unit>.json: the bytes that jansson's
 * json_dump_callback writes with JSON_INDENT(2) | JSON_SORT_KEYS, made
 * with less work for a status of many units. An image's entry is one
 * json_t shared by every unit that runs the image (plan.c); at 10,000
 * objects in 100 units of 33 images each, those entries are two thirds of
 * the 11 MB written, 100 distinct ones written 6,600 times. Each is
 * written once by jansson here, before the status threads start, and
 * copied into every place it appears, indented for its depth.
 *
 * The first levels of a document (the document, its units, a unit, its
 * lists) are written here: braces, sorted keys, the separators and the
 * indentation as jansson writes them. Any value deeper, and any scalar
 * that is not a plain string or an integer, is written by jansson itself
 * and indented for its depth. Text goes to the blob in large pieces.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statusdoc_int.h"
#include "tollgate/limits.h"

#define FLAGS (JSON_INDENT(2) | JSON_SORT_KEYS)
#define INDENT 2

/* The deepest level written here: a shared image entry is at depth 4 in
 * status.json (document, units, unit, images, entry) and at depth 2 in a
 * unit's file; anything deeper is written by jansson. */
#define WALK_DEPTH 4

struct tg_status_frags {
	const json_t **v; /* sorted by address */
	char **text;      /* each written alone, at depth 0 */
	size_t *len;
	size_t n;
};

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (const json_t *const *)a;
	uintptr_t y = (uintptr_t) * (const json_t *const *)b;

	return x < y ? -1 : x > y;
}

tg_status_frags *tg_status_frags_new(const json_t *doc)
{
	tg_status_frags *f = tg_calloc(1, sizeof(*f));
	const json_t *u, *img;
	const char *name;
	size_t i, n = 0, cap = 0, bytes = 0, k;

	json_object_foreach((json_t *)json_object_get(doc, "units"), name, u) {
		json_array_foreach(json_object_get(u, "images"), i, img) {
			if (!json_is_object(img))
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				f->v = tg_realloc(f->v, cap * sizeof(*f->v));
			}
			f->v[n++] = img;
		}
	}
	if (n == 0)
		return f;
	qsort(f->v, n, sizeof(*f->v), cmp_ptr);
	for (i = 1, k = 1; i < n; i++)
		if (f->v[i] != f->v[k - 1])
			f->v[k++] = f->v[i];
	n = k;
	f->text = tg_calloc(n, sizeof(*f->text));
	f->len = tg_calloc(n, sizeof(*f->len));
	/* Entries past the limit are not kept: jansson writes them in
	 * place, as it would anyway. */
	for (i = 0, k = 0; i < n && bytes < TG_STATUS_FRAGS_MAX_BYTES; i++) {
		char *t = json_dumps(f->v[i], FLAGS);

		if (!t)
			continue;
		f->v[k] = f->v[i];
		f->text[k] = t;
		f->len[k] = strlen(t);
		bytes += f->len[k];
		k++;
	}
	f->n = k;
	return f;
}

void tg_status_frags_free(tg_status_frags *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++)
		free(f->text[i]);
	free(f->text);
	free(f->len);
	free(f->v);
	free(f);
}

static const char *
frag_find(const tg_status_frags *f, const json_t *v, size_t *len)
{
	const json_t **hit;

	if (!f || f->n == 0)
		return NULL;
	hit = bsearch(&v, f->v, f->n, sizeof(*f->v), cmp_ptr);
	if (!hit)
		return NULL;
	*len = f->len[hit - f->v];
	return f->text[hit - f->v];
}

/* Output ------------------------------------------------------------------ */

typedef struct out {
	tg_gitrepo_put_fn put;
	void *wctx;
	const tg_status_frags *frags;
	size_t pad; /* spaces after each newline of text indented */
	size_t used;
	char buf[64 * 1024];
} out;

static int flush(out *o)
{
	if (o->used && o->put(o->buf, o->used, o->wctx) < 0)
		return -1;
	o->used = 0;
	return 0;
}

static int emit(out *o, const char *p, size_t n)
{
	while (n > 0) {
		size_t k = sizeof(o->buf) - o->used;

		if (k == 0) {
			if (flush(o) < 0)
				return -1;
			continue;
		}
		if (k > n)
			k = n;
		memcpy(o->buf + o->used, p, k);
		o->used += k;
		p += k;
		n -= k;
	}
	return 0;
}

static int emit_spaces(out *o, size_t n)
{
	static const char sp[] = "                                ";

	while (n > 0) {
		size_t k = n < sizeof(sp) - 1 ? n : sizeof(sp) - 1;

		if (emit(o, sp, k) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* A newline and the indentation of depth. */
static int emit_newline(out *o, size_t depth)
{
	return emit(o, "\n", 1) < 0 ? -1 : emit_spaces(o, depth * INDENT);
}

/* Text written at depth 0, at o->pad: the pad after each newline (JSON
 * text has a newline only between tokens: in strings it is "\n"). */
static int emit_indented(out *o, const char *p, size_t n)
{
	const char *nl;

	while (o->pad > 0 && (nl = memchr(p, '\n', n)) != NULL) {
		size_t k = (size_t)(nl - p) + 1;

		if (emit(o, p, k) < 0 || emit_spaces(o, o->pad) < 0)
			return -1;
		p += k;
		n -= k;
	}
	return emit(o, p, n);
}

static int jansson_put(const char *p, size_t n, void *data)
{
	return emit_indented(data, p, n);
}

/* v as jansson writes it at depth. */
static int emit_jansson(out *o, const json_t *v, size_t depth)
{
	int rc;

	o->pad = depth * INDENT;
	rc = json_dump_callback(v, jansson_put, o, FLAGS | JSON_ENCODE_ANY);
	o->pad = 0;
	return rc;
}

/* A string as jansson writes it: bytes 0x20 to 0x7e other than '"' and
 * '\\' as they are, between quotes; anything else by jansson. */
static int emit_string(out *o, const char *s, size_t len)
{
	size_t i;
	json_t *j;
	int rc;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			break;
	}
	if (i == len)
		return emit(o, "\"", 1) < 0 || emit(o, s, len) < 0 ||
		                       emit(o, "\"", 1) < 0
		               ? -1
		               : 0;
	if ((j = json_stringn_nocheck(s, len)) == NULL)
		return -1;
	rc = emit_jansson(o, j, 0);
	json_decref(j);
	return rc;
}

/* Writing ----------------------------------------------------------------- */

static int write_value(out *o, const json_t *v, size_t depth);

typedef struct key {
	const char *s;
	size_t len;
	const json_t *v;
} key;

/* jansson's order of keys: bytes, then the shorter first. */
static int cmp_key(const void *a, const void *b)
{
	const key *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);

	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static int write_object(out *o, const json_t *v, size_t depth)
{
	size_t n = json_object_size(v), i = 0;
	key *keys;
	void *it;
	int rc = 0;

	if (n == 0)
		return emit(o, "{}", 2);
	keys = tg_calloc(n, sizeof(*keys));
	for (it = json_object_iter((json_t *)v); it && i < n;
	     it = json_object_iter_next((json_t *)v, it), i++) {
		keys[i].s = json_object_iter_key(it);
		keys[i].len = json_object_iter_key_len(it);
		keys[i].v = json_object_iter_value(it);
	}
	n = i;
	qsort(keys, n, sizeof(*keys), cmp_key);
	if (emit(o, "{", 1) < 0)
		rc = -1;
	for (i = 0; rc == 0 && i < n; i++) {
		if ((i > 0 && emit(o, ",", 1) < 0) ||
		    emit_newline(o, depth + 1) < 0 ||
		    emit_string(o, keys[i].s, keys[i].len) < 0 ||
		    emit(o, ": ", 2) < 0 ||
		    write_value(o, keys[i].v, depth + 1) < 0)
			rc = -1;
	}
	free(keys);
	if (rc < 0 || emit_newline(o, depth) < 0 || emit(o, "}", 1) < 0)
		return -1;
	return 0;
}

static int write_array(out *o, const json_t *v, size_t depth)
{
	size_t n = json_array_size(v), i;

	if (n == 0)
		return emit(o, "[]", 2);
	if (emit(o, "[", 1) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((i > 0 && emit(o, ",", 1) < 0) ||
		    emit_newline(o, depth + 1) < 0 ||
		    write_value(o, json_array_get(v, i), depth + 1) < 0)
			return -1;
	}
	if (emit_newline(o, depth) < 0 || emit(o, "]", 1) < 0)
		return -1;
	return 0;
}

static int write_value(out *o, const json_t *v, size_t depth)
{
	char num[32];
	const char *t;
	size_t len;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		if ((t = frag_find(o->frags, v, &len)) != NULL) {
			int rc;

			o->pad = depth * INDENT;
			rc = emit_indented(o, t, len);
			o->pad = 0;
			return rc;
		}
		if (depth >= WALK_DEPTH)
			return emit_jansson(o, v, depth);
		return json_is_object(v) ? write_object(o, v, depth)
		                         : write_array(o, v, depth);
	case JSON_STRING:
		return emit_string(o, json_string_value(v),
		                   json_string_length(v));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		         json_integer_value(v));
		return emit(o, num, strlen(num));
	case JSON_TRUE:
		return emit(o, "true", 4);
	case JSON_FALSE:
		return emit(o, "false", 5);
	case JSON_NULL:
		return emit(o, "null", 4);
	default:
		return emit_jansson(o, v, depth);
	}
}

int tg_status_json_write(const json_t *v,
                         const tg_status_frags *frags,
                         tg_gitrepo_put_fn put,
                         void *wctx)
{
	out *o = tg_calloc(1, sizeof(*o));
	int rc;

	o->put = put;
	o->wctx = wctx;
	o->frags = frags;
	/* As jansson: only an object or an array is a document. */
	if (!json_is_object(v) && !json_is_array(v))
		rc = -1;
	else
		rc = write_value(o, v, 0) < 0 ? -1 : flush(o);
	free(o);
	return rc;
}
