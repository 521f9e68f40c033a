/*
 * Patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
 * the part of strategic merge patch clients use (maps merge, lists of
 * keyed items such as containers merge by key, null deletes, the
 * "$patch: delete" directive on list items).
 */
#include <stdio.h>
#include <string.h>

#include "tc.h"
#include "tollgate/util.h"

/* Lists that Kubernetes' schemas mark as merged by key
 * (x-kubernetes-patch-merge-key / list-map-keys), by field name. */
static const struct {
	const char *field, *key;
} merge_keys[] = {
	{ "containers", "name" },
	{ "initContainers", "name" },
	{ "ephemeralContainers", "name" },
	{ "env", "name" },
	{ "volumes", "name" },
	{ "imagePullSecrets", "name" },
	{ "volumeMounts", "mountPath" },
	{ "volumeDevices", "devicePath" },
	{ "conditions", "type" },
	{ "hostAliases", "ip" },
	{ "webhooks", "name" },
};

const char *tc_list_merge_key(const char *field, json_t *item)
{
	size_t i;

	if (field == NULL || !json_is_object(item))
		return NULL;
	/* Ports: containers key them by containerPort, services by port. */
	if (strcmp(field, "ports") == 0) {
		if (json_object_get(item, "containerPort"))
			return "containerPort";
		if (json_object_get(item, "port"))
			return "port";
		return NULL;
	}
	for (i = 0; i < sizeof(merge_keys) / sizeof(merge_keys[0]); i++)
		if (strcmp(field, merge_keys[i].field) == 0)
			return json_object_get(item, merge_keys[i].key)
			               ? merge_keys[i].key
			               : NULL;
	return NULL;
}

/* Merge patch ----------------------------------------------------------- */

static json_t *merge_rec(json_t *target, json_t *patch)
{
	json_t *out;
	const char *k;
	json_t *v;

	if (!json_is_object(patch))
		return json_deep_copy(patch);
	out = json_is_object(target) ? json_deep_copy(target) : json_object();
	json_object_foreach(patch, k, v) {
		if (json_is_null(v)) {
			json_object_del(out, k);
			continue;
		}
		json_object_set_new(out, k,
		                    merge_rec(json_object_get(out, k), v));
	}
	return out;
}

json_t *tc_merge_patch(json_t *target, json_t *patch)
{
	return merge_rec(target, patch);
}

/* Strategic merge patch -------------------------------------------------- */

static json_t *strategic_rec(json_t *target, json_t *patch);

static json_t *
find_keyed(json_t *list, const char *key, json_t *want, size_t *index)
{
	json_t *item;
	size_t i;

	json_array_foreach(list, i, item) {
		if (json_equal(json_object_get(item, key), want)) {
			*index = i;
			return item;
		}
	}
	return NULL;
}

static json_t *strategic_list(json_t *target, json_t *patch, const char *key)
{
	json_t *out =
	        json_is_array(target) ? json_deep_copy(target) : json_array();
	json_t *item, *cur;
	size_t i, at;

	json_array_foreach(patch, i, item) {
		const char *directive =
		        json_string_value(json_object_get(item, "$patch"));

		cur = find_keyed(out, key, json_object_get(item, key), &at);
		if (directive != NULL && strcmp(directive, "delete") == 0) {
			if (cur != NULL)
				json_array_remove(out, at);
			continue;
		}
		if (cur == NULL)
			json_array_append_new(out, strategic_rec(NULL, item));
		else
			json_array_set_new(out, at, strategic_rec(cur, item));
	}
	return out;
}

static json_t *strategic_rec(json_t *target, json_t *patch)
{
	json_t *out;
	const char *k, *key;
	json_t *v;

	if (!json_is_object(patch))
		return json_deep_copy(patch);
	out = json_is_object(target) ? json_deep_copy(target) : json_object();
	json_object_foreach(patch, k, v) {
		if (k[0] == '$')
			continue; /* directives such as $setElementOrder */
		if (json_is_null(v)) {
			json_object_del(out, k);
			continue;
		}
		key = json_is_array(v)
		              ? tc_list_merge_key(k, json_array_get(v, 0))
		              : NULL;
		if (key != NULL)
			json_object_set_new(
			        out, k,
			        strategic_list(json_object_get(out, k), v,
			                       key));
		else
			json_object_set_new(
			        out, k,
			        strategic_rec(json_object_get(out, k), v));
	}
	return out;
}

json_t *tc_strategic_patch(json_t *target, json_t *patch)
{
	return strategic_rec(target, patch);
}

/* JSON patch ------------------------------------------------------------- */

/* Unescape one RFC 6901 reference token ("~1" is '/', "~0" is '~'). */
static char *pointer_token(const char *s, size_t n)
{
	char *out = tg_malloc(n + 1);
	size_t i, j = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '~' && i + 1 < n &&
		    (s[i + 1] == '0' || s[i + 1] == '1')) {
			out[j++] = s[i + 1] == '0' ? '~' : '/';
			i++;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	return out;
}

/* Array index token: digits, or "-" (one past the end) when end_ok. */
static int array_index(size_t *out, json_t *arr, const char *tok, bool end_ok)
{
	uint64_t v;

	if (strcmp(tok, "-") == 0 && end_ok) {
		*out = json_array_size(arr);
		return 0;
	}
	if (tg_parse_u64(&v, tok, strlen(tok), SIZE_MAX) < 0)
		return -1;
	if (v > json_array_size(arr) || (v == json_array_size(arr) && !end_ok))
		return -1;
	*out = (size_t)v;
	return 0;
}

/* Resolve all but the last token of ptr: the parent (borrowed) and the
 * last token (malloc'd). -1 when the path does not exist. */
static int
pointer_parent(json_t **parent, char **last, json_t *doc, const char *ptr)
{
	json_t *cur = doc;
	const char *p = ptr, *slash;
	char *tok;
	size_t idx;

	if (ptr[0] != '/')
		return -1;
	for (;;) {
		p++;
		slash = strchr(p, '/');
		tok = pointer_token(p, slash ? (size_t)(slash - p) : strlen(p));
		if (slash == NULL) {
			*parent = cur;
			*last = tok;
			return 0;
		}
		if (json_is_object(cur))
			cur = json_object_get(cur, tok);
		else if (json_is_array(cur) &&
		         array_index(&idx, cur, tok, false) == 0)
			cur = json_array_get(cur, idx);
		else
			cur = NULL;
		free(tok);
		if (cur == NULL)
			return -1;
		p = slash;
	}
}

static json_t *pointer_get(json_t *doc, const char *ptr)
{
	json_t *parent, *v = NULL;
	char *last;
	size_t idx;

	if (ptr[0] == '\0')
		return doc;
	if (pointer_parent(&parent, &last, doc, ptr) < 0)
		return NULL;
	if (json_is_object(parent))
		v = json_object_get(parent, last);
	else if (json_is_array(parent) &&
	         array_index(&idx, parent, last, false) == 0)
		v = json_array_get(parent, idx);
	free(last);
	return v;
}

/* add (insert into arrays) or replace (must exist) value at ptr. */
static int
pointer_put(json_t *doc, const char *ptr, json_t *value, bool replace)
{
	json_t *parent;
	char *last;
	size_t idx;
	int rc = -1;

	if (pointer_parent(&parent, &last, doc, ptr) < 0)
		return -1;
	if (json_is_object(parent)) {
		if (!replace || json_object_get(parent, last) != NULL)
			rc = json_object_set(parent, last, value);
	} else if (json_is_array(parent) &&
	           array_index(&idx, parent, last, !replace) == 0) {
		rc = replace ? json_array_set(parent, idx, value)
		             : json_array_insert(parent, idx, value);
	}
	free(last);
	return rc;
}

static int pointer_remove(json_t *doc, const char *ptr)
{
	json_t *parent;
	char *last;
	size_t idx;
	int rc = -1;

	if (pointer_parent(&parent, &last, doc, ptr) < 0)
		return -1;
	if (json_is_object(parent))
		rc = json_object_del(parent, last);
	else if (json_is_array(parent) &&
	         array_index(&idx, parent, last, false) == 0)
		rc = json_array_remove(parent, idx);
	free(last);
	return rc;
}

/* One operation; 0 or -1 with *err. */
static int json_patch_op(json_t *doc, json_t *op, char **err)
{
	const char *name = json_string_value(json_object_get(op, "op"));
	const char *path = json_string_value(json_object_get(op, "path"));
	const char *from = json_string_value(json_object_get(op, "from"));
	json_t *value = json_object_get(op, "value"), *src;
	int rc = -1;

	if (name == NULL || path == NULL) {
		*err = tg_strdup("json patch operation needs \"op\" and "
		                 "\"path\"");
		return -1;
	}
	if (strcmp(name, "add") == 0 && value)
		rc = pointer_put(doc, path, value, false);
	else if (strcmp(name, "replace") == 0 && value)
		rc = pointer_put(doc, path, value, true);
	else if (strcmp(name, "remove") == 0)
		rc = pointer_remove(doc, path);
	else if (strcmp(name, "test") == 0 && value)
		rc = json_equal(pointer_get(doc, path), value) ? 0 : -1;
	else if ((strcmp(name, "copy") == 0 || strcmp(name, "move") == 0) &&
	         from && (src = pointer_get(doc, from)) != NULL) {
		src = json_deep_copy(src);
		rc = name[0] == 'm' ? pointer_remove(doc, from) : 0;
		if (rc == 0)
			rc = pointer_put(doc, path, src, false);
		json_decref(src);
	}
	if (rc < 0)
		*err = tg_aprintf("json patch %s operation failed at path "
		                  "\"%s\"",
		                  name, path);
	return rc;
}

int tc_json_patch(json_t **out, json_t *target, json_t *patch, char **err)
{
	json_t *doc = json_deep_copy(target);
	json_t *op;
	size_t i;

	*out = NULL;
	*err = NULL;
	json_array_foreach(patch, i, op) {
		if (json_patch_op(doc, op, err) < 0) {
			json_decref(doc);
			return -1;
		}
	}
	*out = doc;
	return 0;
}
