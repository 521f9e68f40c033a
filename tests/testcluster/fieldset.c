/*
 * Field sets in the FieldsV1 format of managedFields
 * (sigs.k8s.io/structured-merge-diff): a tree keyed by "f:<field>" for
 * members, "k:<json of the key fields>" for items of keyed lists and "."
 * for "this node itself". A node is owned when it is a leaf ({}) or holds
 * "."; an interior node without "." only leads to owned children.
 *
 * A path is a JSON array of those keys, e.g.
 * ["f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"app\"}",
 * "f:image"].
 */
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/rand.h>

#include "tc.h"
#include "tollgate/util.h"

/* Maps (not structs) in Kubernetes types: an Update that creates one
 * owns the map itself ("."), as kube-apiserver records it. */
static const char *const map_fields[] = {
	"labels",     "annotations",  "data",        "stringData",
	"binaryData", "nodeSelector", "matchLabels",
};

static bool is_map_field(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(map_fields) / sizeof(map_fields[0]); i++)
		if (strcmp(name, map_fields[i]) == 0)
			return true;
	return false;
}

/* "k:{...}" for a keyed list item; ports also key on protocol, which
 * defaults to TCP. Caller frees. */
static char *item_key(json_t *item, const char *key)
{
	json_t *k = json_object();
	json_t *proto;
	char *s, *out;

	json_object_set(k, key, json_object_get(item, key));
	if (strcmp(key, "containerPort") == 0 || strcmp(key, "port") == 0) {
		proto = json_object_get(item, "protocol");
		json_object_set_new(k, "protocol",
		                    proto ? json_incref(proto)
		                          : json_string("TCP"));
	}
	s = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
	out = tg_aprintf("k:%s", s);
	free(s);
	json_decref(k);
	return out;
}

static json_t *child(json_t *node, const char *key)
{
	json_t *c = json_object_get(node, key);

	if (c == NULL) {
		c = json_object();
		json_object_set_new(node, key, c);
	}
	return c;
}

static void build_object(json_t *node, json_t *obj, bool dots);

static void build_member(json_t *node, const char *name, json_t *v, bool dots)
{
	/* "f:<name>", on the stack for any name a schema has: this runs
	 * for every field of every object applied. */
	size_t n = strlen(name);
	char buf[128], *fk = n + 3 <= sizeof(buf) ? buf : tg_malloc(n + 3);
	json_t *c;
	const char *key;
	json_t *item;
	size_t i;

	memcpy(fk, "f:", 2);
	memcpy(fk + 2, name, n + 1);
	c = child(node, fk);
	if (fk != buf)
		free(fk);
	if (json_is_object(v) && json_object_size(v) > 0) {
		build_object(c, v, dots);
		if (dots && is_map_field(name))
			json_object_set_new(c, ".", json_object());
		return;
	}
	key = json_is_array(v) ? tc_list_merge_key(name, json_array_get(v, 0))
	                       : NULL;
	if (key == NULL)
		return; /* scalar, empty map or atomic list: a leaf */
	json_array_foreach(v, i, item) {
		char *ik;
		json_t *in;

		if (!json_is_object(item) || !json_object_get(item, key))
			continue;
		ik = item_key(item, key);
		in = child(c, ik);
		free(ik);
		json_object_set_new(in, ".", json_object());
		build_object(in, item, dots);
	}
	if (json_object_size(c) == 0)
		json_object_set_new(c, ".", json_object());
}

static void build_object(json_t *node, json_t *obj, bool dots)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v) {
		if (!json_is_null(v))
			build_member(node, k, v, dots);
	}
}

json_t *tc_fieldset_from_object(json_t *obj, bool with_map_dots)
{
	json_t *set = json_object();

	build_object(set, obj, with_map_dots);
	return set;
}

static bool owned(json_t *node)
{
	return json_object_size(node) == 0 || json_object_get(node, ".");
}

/* The node at path, or the owned leaf above it (*above set), or NULL. */
static json_t *walk(json_t *set, json_t *path, bool *above)
{
	json_t *node = set, *el;
	size_t i;

	*above = false;
	json_array_foreach(path, i, el) {
		if (node != set && json_object_size(node) == 0) {
			*above = true;
			return node;
		}
		node = json_object_get(node, json_string_value(el));
		if (node == NULL)
			return NULL;
	}
	return node;
}

bool tc_fieldset_has(json_t *set, json_t *path)
{
	bool above;
	json_t *node = walk(set, path, &above);

	return node != NULL && (above || owned(node));
}

bool tc_fieldset_touches(json_t *set, json_t *path)
{
	bool above;

	return walk(set, path, &above) != NULL;
}

static void paths_rec(json_t *node, json_t *prefix, json_t *out)
{
	const char *k;
	json_t *c;

	json_object_foreach(node, k, c) {
		json_t *p;

		if (strcmp(k, ".") == 0)
			continue;
		p = json_copy(prefix);
		json_array_append_new(p, json_string(k));
		if (owned(c))
			json_array_append(out, p);
		paths_rec(c, p, out);
		json_decref(p);
	}
}

json_t *tc_fieldset_paths(json_t *set)
{
	json_t *out = json_array();
	json_t *prefix = json_array();

	paths_rec(set, prefix, out);
	json_decref(prefix);
	return out;
}

void tc_fieldset_add(json_t *set, json_t *path)
{
	json_t *node = set, *el;
	bool created = false;
	size_t i;

	json_array_foreach(path, i, el) {
		const char *k = json_string_value(el);
		json_t *c = json_object_get(node, k);

		/* Descending through an owned leaf keeps it owned. */
		if (node != set && !created && json_object_size(node) == 0)
			json_object_set_new(node, ".", json_object());
		created = c == NULL;
		if (created) {
			c = json_object();
			json_object_set_new(node, k, c);
		}
		node = c;
	}
	if (json_object_size(node) > 0)
		json_object_set_new(node, ".", json_object());
}

void tc_fieldset_remove(json_t *set, json_t *path)
{
	size_t n = json_array_size(path), i;
	json_t **chain = tg_calloc(n + 1, sizeof(*chain));
	json_t *node = set;

	chain[0] = set;
	for (i = 0; i < n; i++) {
		node = json_object_get(
		        node, json_string_value(json_array_get(path, i)));
		if (node == NULL)
			goto out;
		chain[i + 1] = node;
	}
	/* Delete the node, then every ancestor left empty (an empty
	 * interior node would read as an owned leaf). */
	for (i = n; i > 0; i--) {
		json_object_del(chain[i - 1],
		                json_string_value(json_array_get(path, i - 1)));
		if (json_object_size(chain[i - 1]) > 0)
			break;
	}
out:
	free(chain);
}

bool tc_fieldset_empty(json_t *set)
{
	return json_object_size(set) == 0;
}

/* Stored sets ---------------------------------------------------------- */

/*
 * A stored object keeps each fieldsV1 as its JSON text, as kube-apiserver
 * keeps raw bytes: as a tree of small objects a set takes about 15 times
 * its text, and sets were most of a stored Deployment's memory. The text
 * is held in a JSON string that starts with a tag no client can know (a
 * byte 1 and 16 random hex digits chosen at start); tc_dumps writes such
 * a string back as the object it holds.
 */
#define TAG_HEX 16

static char tag[1 + TAG_HEX + 1];     /* "\x01" and the digits */
static char tag_out[8 + TAG_HEX + 1]; /* how json_dumps writes it */
static size_t tag_out_len;
static pthread_once_t tag_once = PTHREAD_ONCE_INIT;

static void tag_init(void)
{
	unsigned char r[TAG_HEX / 2];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		RAND_bytes(r, sizeof(r));
	tag[0] = 1;
	tg_hex_encode(tag + 1, r, sizeof(r));
	snprintf(tag_out, sizeof(tag_out), "\"\\u0001%s", tag + 1);
	tag_out_len = strlen(tag_out);
}

static const char *packed_text(json_t *v)
{
	const char *s = json_string_value(v);

	if (s == NULL || s[0] != 1)
		return NULL;
	pthread_once(&tag_once, tag_init);
	return strncmp(s, tag, sizeof(tag) - 1) == 0 ? s + sizeof(tag) - 1
	                                             : NULL;
}

json_t *tc_fieldset_pack(json_t *set)
{
	char *text = json_dumps(set, JSON_COMPACT | JSON_SORT_KEYS), *s;
	json_t *v;

	pthread_once(&tag_once, tag_init);
	s = tg_aprintf("%s%s", tag, text);
	v = json_string_nocheck(s);
	free(text);
	free(s);
	return v;
}

json_t *tc_fieldset_unpack(json_t *v)
{
	const char *text = packed_text(v);
	json_t *set;

	if (text == NULL)
		return json_is_object(v) ? json_deep_copy(v) : json_object();
	set = json_loads(text, 0, NULL);
	if (!json_is_object(set)) {
		json_decref(set);
		set = json_object();
	}
	return set;
}

bool tc_fieldset_may_touch(json_t *v, json_t *path)
{
	const char *text = packed_text(v), *first, *c;
	char *quoted;
	bool found;

	if (text == NULL)
		return true;
	first = json_string_value(json_array_get(path, 0));
	if (first == NULL)
		return true;
	for (c = first; *c; c++)
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
			return true;
	/* Every relation of a path to a set starts at its first element,
	 * a key of the set's root, written as it is. */
	quoted = tg_aprintf("\"%s\"", first);
	found = strstr(text, quoted) != NULL;
	free(quoted);
	return found;
}

char *tc_dumps(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT), *r, *w, *hit;
	size_t n;

	if (s == NULL)
		return NULL;
	pthread_once(&tag_once, tag_init);
	if ((hit = strstr(s, tag_out)) == NULL)
		return s;
	/* One pass: copy up to each tagged string, then its text with one
	 * level of escapes undone (json_dumps escaped only quotes and
	 * backslashes in it: the text has no control characters and no
	 * flag asks for more), without the quotes around it. */
	r = w = s;
	for (; hit != NULL; hit = strstr(r, tag_out)) {
		n = (size_t)(hit - r);
		memmove(w, r, n);
		w += n;
		r = hit + tag_out_len;
		while (*r != '"' && *r != '\0') {
			if (*r == '\\' && r[1] != '\0') {
				*w++ = r[1];
				r += 2;
			} else
				*w++ = *r++;
		}
		if (*r == '"')
			r++;
	}
	memmove(w, r, strlen(r) + 1);
	return s;
}

/* Does item match the key fields of a "k:" element? */
static bool item_matches(json_t *item, json_t *keyobj)
{
	const char *k;
	json_t *v, *iv;

	json_object_foreach(keyobj, k, v) {
		iv = json_object_get(item, k);
		if (iv == NULL && strcmp(k, "protocol") == 0) {
			if (!json_is_string(v) ||
			    strcmp(json_string_value(v), "TCP") != 0)
				return false;
			continue;
		}
		if (!json_equal(iv, v))
			return false;
	}
	return true;
}

/* The index of the item an element names in list, or -1. */
static long find_item(json_t *list, const char *el)
{
	json_t *want = json_loads(el + 2, 0, NULL);
	json_t *item;
	size_t i;
	long found = -1;

	if (want == NULL)
		return -1;
	json_array_foreach(list, i, item) {
		if (el[0] == 'k' ? item_matches(item, want)
		                 : json_equal(item, want)) {
			found = (long)i;
			break;
		}
	}
	json_decref(want);
	return found;
}

static json_t *step(json_t *cur, const char *el)
{
	long i;

	if (el[0] == 'f' && el[1] == ':')
		return json_object_get(cur, el + 2);
	if ((el[0] == 'k' || el[0] == 'v') && el[1] == ':' &&
	    json_is_array(cur)) {
		i = find_item(cur, el);
		return i < 0 ? NULL : json_array_get(cur, (size_t)i);
	}
	return NULL;
}

json_t *tc_path_lookup(json_t *obj, json_t *path)
{
	json_t *cur = obj, *el;
	size_t i;

	json_array_foreach(path, i, el) {
		cur = step(cur, json_string_value(el));
		if (cur == NULL)
			return NULL;
	}
	return cur;
}

void tc_path_remove(json_t *obj, json_t *path)
{
	size_t n = json_array_size(path);
	json_t *parent_path, *parent;
	const char *last;
	long i;

	if (n == 0)
		return;
	parent_path = json_array();
	for (i = 0; i < (long)n - 1; i++)
		json_array_append(parent_path, json_array_get(path, (size_t)i));
	parent = tc_path_lookup(obj, parent_path);
	json_decref(parent_path);
	last = json_string_value(json_array_get(path, n - 1));
	if (parent == NULL)
		return;
	if (last[0] == 'f')
		json_object_del(parent, last + 2);
	else if ((i = find_item(parent, last)) >= 0)
		json_array_remove(parent, (size_t)i);
}

char *tc_path_text(json_t *path)
{
	tg_buf b;
	json_t *el, *key;
	size_t i;

	tg_buf_init(&b, 65536);
	json_array_foreach(path, i, el) {
		const char *s = json_string_value(el);
		const char *k;
		json_t *v;
		bool first = true;

		if (s[0] == 'f') {
			tc_buf_check(tg_buf_printf(&b, ".%s", s + 2));
			continue;
		}
		key = json_loads(s + 2, JSON_DECODE_ANY, NULL);
		tc_buf_check(tg_buf_puts(&b, "["));
		json_object_foreach(key, k, v) {
			char *vs = json_dumps(v, JSON_ENCODE_ANY);

			tc_buf_check(tg_buf_printf(&b, "%s%s=%s",
			                           first ? "" : ",", k, vs));
			free(vs);
			first = false;
		}
		if (!json_is_object(key))
			tc_buf_check(tg_buf_puts(&b, s + 2));
		tc_buf_check(tg_buf_puts(&b, "]"));
		json_decref(key);
	}
	return tg_buf_detach(NULL, &b);
}
