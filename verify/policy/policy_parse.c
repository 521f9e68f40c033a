/*
 * Policy file: the parser's building blocks, shared by policy.c and
 * policy_sig.c through policy_int.h: the arena a policy is allocated in,
 * locations and the "<file>:<line>:<col>: <where>: <message>" errors, the
 * check of a mapping's keys against the keys its section allows (the
 * schema walker's, verify/base/schema.c, plus a "belongs in" hint), typed
 * values (presence and type checked by the schema walker), and the checks
 * of names and ids in lists.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/schema.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

/* Characters in a rule, authority or exception name (they appear in
 * messages and status documents). */
#define POLICY_MAX_NAME 128

/* Arena ---------------------------------------------------------------- */

void *tg_policy__arena_keep(tg_arena *a, void *ptr)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->ptrs = tg_realloc(a->ptrs, a->cap * sizeof(*a->ptrs));
	}
	a->ptrs[a->n++] = ptr;
	return ptr;
}

void *tg_policy__arena_calloc(tg_arena *a, size_t n, size_t size)
{
	return tg_policy__arena_keep(a, tg_calloc(n ? n : 1, size));
}

char *tg_policy__arena_strdup(tg_arena *a, const char *s)
{
	return tg_policy__arena_keep(a, tg_strdup(s));
}

void tg_policy__arena_free(tg_arena *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->ptrs[i]);
	free(a->ptrs);
	memset(a, 0, sizeof(*a));
}

/* Locations ---------------------------------------------------------------- */

/* The location of member key (or element i when key is NULL) of parent;
 * both strings live in the scratch arena. */
static tg_policy__loc
loc_child(tg_policy__ctx *c, tg_policy__loc parent, const char *key, size_t i)
{
	tg_buf ptr, path;
	tg_policy__loc l;

	tg_buf_init(&ptr, TG_MAX_FILE_BYTES);
	tg_buf_init(&path, TG_MAX_FILE_BYTES);
	/* The pointer and path of a member of a file at most
	 * TG_MAX_FILE_BYTES long are shorter than that file; should they not
	 * be, messages point at the parent. */
	if (tg_schema_child(&ptr, &path, parent.ptr, parent.disp, key, i) < 0) {
		tg_buf_free(&ptr);
		tg_buf_free(&path);
		return parent;
	}
	l.ptr = tg_policy__arena_keep(&c->scratch, tg_buf_detach(NULL, &ptr));
	l.disp = tg_policy__arena_keep(&c->scratch, tg_buf_detach(NULL, &path));
	return l;
}

tg_policy__loc
tg_policy__loc_key(tg_policy__ctx *c, tg_policy__loc parent, const char *key)
{
	return loc_child(c, parent, key, 0);
}

tg_policy__loc
tg_policy__loc_index(tg_policy__ctx *c, tg_policy__loc parent, size_t i)
{
	return loc_child(c, parent, NULL, i);
}

/*
 * Record "<file>:<line>:<col>: <where>: <message>" and return code. The
 * message is formatted first, so it may quote tg_error_last().
 */
int tg_policy__perr_code(
        tg_policy__ctx *c, int code, tg_policy__loc at, const char *fmt, ...)
{
	char msg[TG_POLICY_MESSAGE_MAX];
	va_list ap;
	tg_buf where;
	int error;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tg_buf_init(&where, TG_ERROR_MAX);
	/* A prefix cut short by TG_ERROR_MAX still names the file. */
	tg_discard(tg_schema_where(&where, c->docs, c->name, at.ptr, at.disp));
	error = tg_error_set(code, "%s%s", where.data ? where.data : "", msg);
	tg_buf_free(&where);
	return error;
}

/* Keys --------------------------------------------------------------------- */

/* The one section other than sec that has key, or NULL when none or
 * several do (then "belongs in" would be a guess). */
static const tg_policy__section *home_of(const char *key,
                                         const tg_policy__section *sec)
{
	const tg_policy__section *found = NULL;
	size_t i;

	for (i = 0; tg_policy__all_sections[i] != NULL; i++) {
		if (tg_policy__all_sections[i] == sec ||
		    !tg_schema_known(key, tg_policy__all_sections[i]->keys))
			continue;
		if (found != NULL)
			return NULL;
		found = tg_policy__all_sections[i];
	}
	return found;
}

/* A check of a mapping's keys under way. */
typedef struct unknown_arg {
	tg_policy__ctx *c;
	tg_policy__loc at;
	const tg_policy__section *sec;
	bool reported;
} unknown_arg;

/* Refuse an unknown key: where it belongs when it is no typo of a key
 * here and one other section has it, else msg. */
static int refuse_unknown(void *arg, const char *key, const char *msg)
{
	unknown_arg *u = arg;
	tg_policy__loc kl = tg_policy__loc_key(u->c, u->at, key);
	const tg_policy__section *home;

	u->reported = true;
	if (tg_schema_suggest(key, u->sec->keys) == NULL &&
	    (home = home_of(key, u->sec)) != NULL)
		return tg_policy__perr(u->c, kl,
		                       "key \"%s\" does not belong here; "
		                       "it belongs in %s",
		                       key, home->where);
	return tg_policy__perr(u->c, kl, "%s", msg);
}

/* Refuse any key of obj that sec does not allow, saying what was meant. */
int tg_policy__check_keys(tg_policy__ctx *c,
                          const json_t *obj,
                          tg_policy__loc at,
                          const tg_policy__section *sec)
{
	unknown_arg u = { c, at, sec, false };
	int error = tg_schema_check_keys(obj, sec->keys, refuse_unknown, &u);

	if (error < 0 && !u.reported) /* the message did not fit */
		return tg_policy__perr(c, at, "unknown key");
	return error;
}

/* Values ------------------------------------------------------------------- */

/* The member key of obj, with its location; NULL when absent. A null
 * value ("key:" with nothing after it) counts as present, so it is
 * reported as the wrong type rather than read as a default. */
json_t *tg_policy__member(tg_policy__ctx *c,
                          const json_t *obj,
                          tg_policy__loc at,
                          const char *key,
                          tg_policy__loc *kl)
{
	json_t *v = json_object_get(obj, key);

	if (v != NULL)
		*kl = tg_policy__loc_key(c, at, key);
	return v;
}

/* A value that must be a string: with " (quote the value)" when YAML
 * resolved it to a number or boolean ("version: 1.2", "name: yes"). */
static int want_string(tg_policy__ctx *c, tg_policy__loc at, const json_t *v)
{
	static const tg_schema_want want = { TG_SCHEMA_STRING, false, false,
		                             TG_SCHEMA_MUST_BE };
	tg_buf msg;
	int error;

	tg_buf_init(&msg, TG_SCHEMA_MESSAGE_MAX);
	error = tg_schema_check(&msg, v, &want);
	if (error != 0)
		error = tg_policy__perr(c, at, "%s", msg.data ? msg.data : "");
	tg_buf_free(&msg);
	return error;
}

/* A member of type type checked by the schema walker (a null value is
 * the wrong type, not a default); *out NULL when absent and not
 * required. */
static int get_typed(tg_policy__ctx *c,
                     const json_t *obj,
                     tg_policy__loc at,
                     const char *key,
                     bool required,
                     tg_schema_type type,
                     json_t **out,
                     tg_policy__loc *kl)
{
	tg_schema_want want = { type, required, false, TG_SCHEMA_MUST_BE };
	tg_buf msg;
	int error;

	if (json_object_get(obj, key) != NULL)
		*kl = tg_policy__loc_key(c, at, key);
	tg_buf_init(&msg, TG_SCHEMA_MESSAGE_MAX);
	error = tg_schema_get(out, &msg, obj, key, &want);
	if (error != 0)
		error = tg_policy__perr(
		        c, error == TG_SCHEMA_WRONG_TYPE ? *kl : at, "%s",
		        msg.data ? msg.data : "");
	tg_buf_free(&msg);
	return error;
}

/* A non-empty string value, copied into the policy; *out NULL when absent
 * and not required. */
int tg_policy__get_str(tg_policy__ctx *c,
                       const json_t *obj,
                       tg_policy__loc at,
                       const char *key,
                       bool required,
                       const char **out)
{
	tg_policy__loc kl;
	json_t *v;
	int error;

	*out = NULL;
	if ((error = get_typed(c, obj, at, key, required, TG_SCHEMA_STRING, &v,
	                       &kl)) < 0 ||
	    v == NULL)
		return error;
	if (json_string_length(v) == 0)
		return tg_policy__perr(c, kl, "must not be empty");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return tg_policy__perr(c, kl,
		                       "must not contain NUL characters");
	*out = tg_policy__arena_strdup(&c->p->mem, json_string_value(v));
	return 0;
}

int tg_policy__get_bool(tg_policy__ctx *c,
                        const json_t *obj,
                        tg_policy__loc at,
                        const char *key,
                        bool def,
                        bool *out)
{
	tg_policy__loc kl;
	json_t *v;
	int error;

	*out = def;
	if ((error = get_typed(c, obj, at, key, false, TG_SCHEMA_BOOL, &v,
	                       &kl)) < 0 ||
	    v == NULL)
		return error;
	*out = json_is_true(v);
	return 0;
}

/* A duration ("7d", "1h30m") above zero; 0 when absent. */
int tg_policy__get_duration(tg_policy__ctx *c,
                            const json_t *obj,
                            tg_policy__loc at,
                            const char *key,
                            int64_t *out)
{
	const char *s;
	int error;
	tg_policy__loc kl;

	*out = 0;
	if ((error = tg_policy__get_str(c, obj, at, key, false, &s)) < 0 ||
	    s == NULL)
		return error;
	kl = tg_policy__loc_key(c, at, key);
	if (tg_parse_duration(out, s) < 0)
		return tg_policy__perr(c, kl, "%s", tg_error_last());
	if (*out <= 0)
		return tg_policy__perr(
		        c, kl, "duration \"%s\" must be more than zero", s);
	return 0;
}

/* A mapping; *out NULL when absent and not required. */
int tg_policy__get_map(tg_policy__ctx *c,
                       const json_t *obj,
                       tg_policy__loc at,
                       const char *key,
                       bool required,
                       json_t **out,
                       tg_policy__loc *kl)
{
	return get_typed(c, obj, at, key, required, TG_SCHEMA_MAPPING, out, kl);
}

/* A non-empty list; *out NULL when absent and not required. */
int tg_policy__get_list(tg_policy__ctx *c,
                        const json_t *obj,
                        tg_policy__loc at,
                        const char *key,
                        bool required,
                        json_t **out,
                        tg_policy__loc *kl)
{
	json_t *v;
	int error;

	*out = NULL;
	if ((error = get_typed(c, obj, at, key, required, TG_SCHEMA_LIST, &v,
	                       kl)) < 0 ||
	    v == NULL)
		return error;
	if (json_array_size(v) == 0)
		return tg_policy__perr(c, *kl, "must not be an empty list");
	if (json_array_size(v) > TG_POLICY_MAX_LIST)
		return tg_policy__perr_code(c, TG_ETOOBIG, *kl,
		                            "more than %d entries",
		                            TG_POLICY_MAX_LIST);
	*out = v;
	return 0;
}

/* A non-empty list of non-empty strings, each passing check (may be
 * NULL), copied into the policy. */
int tg_policy__get_str_list(tg_policy__ctx *c,
                            const json_t *obj,
                            tg_policy__loc at,
                            const char *key,
                            bool required,
                            tg_policy__str_check_fn check,
                            const char *const **out,
                            size_t *n_out)
{
	json_t *list, *v;
	const char **items;
	size_t i;
	tg_policy__loc kl;
	int error;

	*out = NULL;
	*n_out = 0;
	if ((error = tg_policy__get_list(c, obj, at, key, required, &list,
	                                 &kl)) < 0 ||
	    list == NULL)
		return error;
	items = tg_policy__arena_calloc(&c->p->mem, json_array_size(list),
	                                sizeof(*items));
	json_array_foreach(list, i, v) {
		tg_policy__loc il = tg_policy__loc_index(c, kl, i);

		if (!json_is_string(v))
			return want_string(c, il, v);
		if (json_string_length(v) == 0 ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return tg_policy__perr(c, il,
			                       "must be a non-empty string");
		if (check != NULL && check(json_string_value(v)) < 0)
			return tg_policy__perr(c, il, "\"%.200s\": %s",
			                       json_string_value(v),
			                       tg_error_last());
		items[i] = tg_policy__arena_strdup(&c->p->mem,
		                                   json_string_value(v));
	}
	*out = items;
	*n_out = json_array_size(list);
	return 0;
}

/* "unknown value" of v, not one of names, with a hint when near one. */
static int unknown_value(tg_policy__ctx *c,
                         const json_t *v,
                         tg_policy__loc at,
                         const char *const *names)
{
	const char *hint = tg_schema_suggest(json_string_value(v), names);
	tg_buf list;
	int error;

	tg_buf_init(&list, TG_SCHEMA_MESSAGE_MAX);
	/* A list cut short by its maximum still reads as a hint. */
	tg_discard(tg_schema_list(&list, names));
	if (hint != NULL)
		error = tg_policy__perr(c, at,
		                        "unknown value \"%.100s\" (did you "
		                        "mean \"%s\"? allowed: %s)",
		                        json_string_value(v), hint,
		                        list.data ? list.data : "");
	else
		error = tg_policy__perr(
		        c, at, "unknown value \"%.100s\" (allowed: %s)",
		        json_string_value(v), list.data ? list.data : "");
	tg_buf_free(&list);
	return error;
}

/* One of names (exactly); *idx_out its index. */
int tg_policy__parse_enum(tg_policy__ctx *c,
                          const json_t *v,
                          tg_policy__loc at,
                          const char *const *names,
                          unsigned *idx_out)
{
	unsigned i;

	if (!json_is_string(v))
		return want_string(c, at, v);
	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(json_string_value(v), names[i]) == 0) {
			*idx_out = i;
			return 0;
		}
	}
	return unknown_value(c, v, at, names);
}

/* An optional enum member; *idx_out keeps its default when absent. */
int tg_policy__get_enum(tg_policy__ctx *c,
                        const json_t *obj,
                        tg_policy__loc at,
                        const char *key,
                        const char *const *names,
                        unsigned *idx_out)
{
	tg_policy__loc kl;
	json_t *v = tg_policy__member(c, obj, at, key, &kl);

	if (v == NULL)
		return 0;
	return tg_policy__parse_enum(c, v, kl, names, idx_out);
}

/* Checkers for list items ------------------------------------------------- */

/*
 * s has at most max characters, each an ASCII letter, digit or one of
 * extra; otherwise TG_EINVALID with bad as the message.
 */
static int
check_chars(const char *s, size_t max, const char *extra, const char *bad)
{
	size_t i, n = strlen(s);

	if (n > max)
		return tg_error_set(TG_EINVALID, "longer than %zu characters",
		                    max);
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr(extra, ch)))
			return tg_error_set(TG_EINVALID, "%s", bad);
	}
	return 0;
}

/* Rule, authority and exception names. */
int tg_policy__check_name(const char *s)
{
	return check_chars(s, POLICY_MAX_NAME, "-_.",
	                   "names use letters, digits, '-', '_' and '.' "
	                   "only");
}

/* Vulnerability ids: CVE-2023-44487, GHSA-xxxx-xxxx-xxxx, DSA-5000-1,
 * ALAS2-2023-1234, ... */
int tg_policy__check_vuln_id(const char *s)
{
	return check_chars(s, 128, "-_.:",
	                   "not a vulnerability id (like CVE-2023-44487 or "
	                   "GHSA-xxxx-xxxx-xxxx)");
}

/* SPDX license ids (MIT, GPL-3.0-only, LicenseRef-acme,
 * DocumentRef-x:LicenseRef-y). Expressions are not ids. */
int tg_policy__check_license_id(const char *s)
{
	return check_chars(s, 128, "-.+:",
	                   "not an SPDX license id (like MIT or "
	                   "GPL-3.0-only; list each id of an expression on "
	                   "its own)");
}

int tg_policy__get_regexp(tg_policy__ctx *c,
                          const json_t *obj,
                          tg_policy__loc at,
                          const char *key,
                          const tg_regexp **out)
{
	const char *s;
	tg_regexp *re;
	tg_policy *p = c->p;
	int error;

	*out = NULL;
	if ((error = tg_policy__get_str(c, obj, at, key, false, &s)) < 0 ||
	    s == NULL)
		return error;
	if ((error = tg_regexp_compile(&re, s)) < 0)
		return tg_policy__perr_code(c, error,
		                            tg_policy__loc_key(c, at, key),
		                            "%s", tg_error_last());
	p->regexps =
	        tg_realloc(p->regexps, (p->nregexps + 1) * sizeof(*p->regexps));
	p->regexps[p->nregexps++] = re;
	*out = re;
	return 0;
}
