/*
 * Desired objects kept as compact JSON text between the steps that need
 * their trees (apply_int.h, struct obj). At 10,000 objects the trees of
 * every object took about 35 MiB, their text about 5 MiB; each step now
 * parses the objects it works on and drops them after.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"
#include "tollgate/log.h"
#include "tollgate/yaml.h"

static char *dup_or_null(const char *s)
{
	return s ? tg_strdup(s) : NULL;
}

/* Compact JSON text as jansson writes it (no white space), scanned
 * without parsing it: indexes just past what starts at s[i], or 0 when the
 * text is not what was expected. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

/* A value: past its end (a string, object or array), or at the ',', '}'
 * or ']' that ends a number or literal. */
static size_t skip_value(const char *s, size_t n, size_t i)
{
	size_t depth = 0;

	while (i < n) {
		if (s[i] == '"') {
			if (!(i = skip_string(s, n, i)) || depth == 0)
				return i;
			continue;
		}
		if (s[i] == '{' || s[i] == '[') {
			depth++;
		} else if (s[i] == '}' || s[i] == ']') {
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (s[i] == ',' && depth == 0) {
			return i;
		}
		i++;
	}
	return 0;
}

/* In the object whose '{' is at s[i]: where the value of the member named
 * key (as written, quotes included) starts, or 0. */
static size_t member(const char *s, size_t n, size_t i, const char *key)
{
	size_t klen = strlen(key), end;

	if (i >= n || s[i] != '{')
		return 0;
	for (i++; i < n && s[i] == '"'; i++) {
		if (!(end = skip_string(s, n, i)) || end >= n || s[end] != ':')
			return 0;
		if (end - i == klen && !memcmp(s + i, key, klen))
			return end + 1;
		if (!(i = skip_value(s, n, end + 1)) || i >= n || s[i] != ',')
			return 0;
	}
	return 0;
}

static bool plain_hex(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* The body from the text: the commit annotation written into
 * metadata.annotations, every other byte as in the text. The text has its
 * keys sorted, which means nothing to the server; it writes reals in 17
 * digits, so a tree with a real is not made this way. NULL when the text
 * is not as expected. */
static char *body_from_text(const char *text, size_t n, const char *commit)
{
	size_t meta, ann, end;
	char *body, *p;
	const char *sep;

	if (!plain_hex(commit) ||
	    !(meta = member(text, n, 0, "\"metadata\"")) ||
	    !(ann = member(text, n, meta, "\"annotations\"")) ||
	    text[ann] != '{' || !(end = skip_value(text, n, ann)) ||
	    text[end - 1] != '}')
		return NULL;
	/* before the annotations' closing brace */
	end--;
	sep = end == ann + 1 ? "" : ",";
	body = tg_malloc(n + strlen(commit) + sizeof(TG_ANN_COMMIT) + 8);
	p = body;
	memcpy(p, text, end);
	p += end;
	p += sprintf(p, "%s\"" TG_ANN_COMMIT "\":\"%s\"", sep, commit);
	memcpy(p, text + end, n - end + 1);
	return body;
}

/* The body of tree's apply with the commit annotation, as restore() and
 * the kube client make it from the parked text (reconciler/cluster/kube.c:
 * compact, reals in the fewest digits that read back the same), made
 * while the tree is loaded so that the apply neither parses the text
 * back nor serialises the tree again. NULL (the tree is then serialised
 * at the apply, as before) when the namespace is not a string, which
 * restore() would replace, or the tree cannot be serialised. Without a
 * real it is the text with the annotation written in; else the tree is
 * serialised with the annotation, which is then taken off again: the
 * text and the content hash stay without it. */
static char *
apply_body(json_t *tree, const char *text, size_t n, const char *commit)
{
	json_t *meta = json_object_get(tree, "metadata");
	json_t *ns = json_object_get(meta, "namespace");
	json_t *ann = json_object_get(meta, "annotations");
	int digits;
	char *body;

	if ((ns && !json_is_string(ns)) || !json_is_object(ann) ||
	    json_object_get(ann, TG_ANN_COMMIT))
		return NULL;
	if (!(digits = tg_json_real_digits(tree)) &&
	    (body = body_from_text(text, n, commit)))
		return body;
	json_object_set_new(ann, TG_ANN_COMMIT, json_string(commit));
	body = json_dumps(tree, JSON_COMPACT | JSON_REAL_PRECISION(digits));
	json_object_del(ann, TG_ANN_COMMIT);
	return body;
}

void apply_obj_init(obj *o, json_t *tree, const char *commit)
{
	json_t *meta = json_object_get(tree, "metadata");

	memset(o, 0, sizeof(*o));
	o->desired = json_incref(tree);
	o->api_version = dup_or_null(
	        json_string_value(json_object_get(tree, "apiVersion")));
	o->kind = dup_or_null(json_string_value(json_object_get(tree, "kind")));
	o->name = dup_or_null(json_string_value(json_object_get(meta, "name")));
	o->ns = dup_or_null(
	        json_string_value(json_object_get(meta, "namespace")));
	/* Sorted keys: the same object gives the same text, which the
	 * unit's content hash is made of. NULL (cannot be serialised): the
	 * tree stays loaded, and the unit fails (see unit_hash). */
	o->text = json_dumps(tree, JSON_COMPACT | JSON_SORT_KEYS);
	o->text_len = o->text ? strlen(o->text) : 0;
	if (o->text && commit &&
	    (o->body = apply_body(tree, o->text, o->text_len, commit)))
		o->body_commit = commit;
}

const char *apply_obj_body(const obj *o)
{
	/* The namespace is checked where it changes (set_namespace). */
	if (!o->body || !o->commit || strcmp(o->commit, o->body_commit))
		return NULL;
	return o->body;
}

void apply_obj_drop_body(obj *o)
{
	free(o->body);
	o->body = NULL;
	o->body_commit = NULL;
}

void apply_obj_clear(obj *o)
{
	json_decref(o->desired);
	json_decref(o->changed);
	free(o->text);
	free(o->body);
	free(o->api_version);
	free(o->kind);
	free(o->name);
	free(o->ns);
}

/* What steps did to the tree since its text was made: the namespace
 * resolved by discovery and the commit annotation. */
static void restore(obj *o)
{
	json_t *meta = apply_object_member(o->desired, "metadata");

	if (o->scoped && o->ns)
		json_object_set_new(meta, "namespace", json_string(o->ns));
	else if (o->scoped)
		json_object_del(meta, "namespace");
	if (o->commit)
		json_object_set_new(apply_object_member(meta, "annotations"),
		                    TG_ANN_COMMIT, json_string(o->commit));
}

json_t *apply_desired(obj *o)
{
	json_error_t err;

	if (o->desired)
		return o->desired;
	/* Text tollgate wrote from a valid tree: it parses back unless
	 * memory runs out (NUL bytes are allowed as in the tree). */
	o->desired = json_loadb(o->text, o->text_len, JSON_ALLOW_NUL, &err);
	if (!o->desired) {
		tg_log(TG_LOG_ERROR, "desired object not readable back", "kind",
		       o->kind, "name", o->name, "error", err.text, NULL);
		tg_oom(o->text_len);
	}
	restore(o);
	return o->desired;
}

void apply_park(obj *o)
{
	if (!o->text)
		return;
	json_decref(o->desired);
	o->desired = NULL;
}

void apply_obj_set_namespace(obj *o, const char *ns)
{
	json_t *meta;

	/* The body holds the namespace the tree had: another one (or none
	 * where it had one) makes it stale. */
	if (o->body && (!ns != !o->ns || (ns && strcmp(ns, o->ns))))
		apply_obj_drop_body(o);
	if (ns != o->ns) {
		char *copy = dup_or_null(ns);

		free(o->ns);
		o->ns = copy;
	}
	o->scoped = true;
	if (!o->desired)
		return;
	meta = apply_object_member(o->desired, "metadata");
	if (o->ns)
		json_object_set_new(meta, "namespace", json_string(o->ns));
	else
		json_object_del(meta, "namespace");
}

void apply_obj_stamp(obj *o, const char *commit)
{
	o->commit = commit;
	if (o->desired)
		restore(o);
}
