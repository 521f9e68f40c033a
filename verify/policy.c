/*
 * Policy file: load and validate (include/tollgate/policy.h). Lookups are
 * in policy_match.c.
 *
 * One parse function per section of the file. Every section first checks
 * its keys against the list it allows, so a misspelled or misplaced key is
 * an error naming the file, line and column, the key, and (when it is a
 * near miss or belongs elsewhere) what was meant. Defaults never weaken a
 * policy silently: an attestation block that is present is required unless
 * it says required: false.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/predicate.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

/* Characters in a rule, authority or exception name (they appear in
 * messages and status documents). */
#define POLICY_MAX_NAME 128

/* Bytes of the material hashed into the policy hash besides the policy
 * itself (key ids and file digests: ~150 bytes per authority). */
#define POLICY_MAX_CANON (1u * 1024 * 1024)

/* Arena ---------------------------------------------------------------- */

static void *arena_keep(tg_arena *a, void *ptr)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->ptrs = tg_realloc(a->ptrs, a->cap * sizeof(*a->ptrs));
	}
	a->ptrs[a->n++] = ptr;
	return ptr;
}

static void *arena_calloc(tg_arena *a, size_t n, size_t size)
{
	return arena_keep(a, tg_calloc(n ? n : 1, size));
}

static char *arena_strdup(tg_arena *a, const char *s)
{
	return arena_keep(a, tg_strdup(s));
}

static void arena_free(tg_arena *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->ptrs[i]);
	free(a->ptrs);
	memset(a, 0, sizeof(*a));
}

/* Locations ---------------------------------------------------------------- */

/* Where a value is: its JSON pointer (for tg_yaml_docs_line_at) and the
 * dotted path shown to people ("rules[0].signatures.threshold"). */
typedef struct loc {
	const char *ptr;
	const char *disp;
} loc;

typedef struct ctx {
	tg_policy *p;
	const tg_yaml_docs *docs;
	const char *name;
	const char *base_dir;
	tg_arena scratch; /* locations; freed after loading */
	tg_buf canon;     /* key ids and file digests for the hash */
} ctx;

static const loc root_loc = { "", "" };

/* RFC 6901: '~' is written "~0" and '/' is written "~1". */
static loc loc_key(ctx *c, loc parent, const char *key)
{
	tg_buf b;
	loc l;
	const char *k;

	tg_buf_init(&b, TG_MAX_FILE_BYTES);
	tg_buf_printf(&b, "%s/", parent.ptr);
	for (k = key; *k; k++) {
		if (*k == '~')
			tg_buf_puts(&b, "~0");
		else if (*k == '/')
			tg_buf_puts(&b, "~1");
		else
			tg_buf_append(&b, k, 1);
	}
	l.ptr = arena_keep(&c->scratch, tg_buf_detach(&b, NULL));
	l.disp = arena_keep(&c->scratch,
	                    parent.disp[0]
	                            ? tg_aprintf("%s.%s", parent.disp, key)
	                            : tg_strdup(key));
	return l;
}

static loc loc_index(ctx *c, loc parent, size_t i)
{
	loc l;

	l.ptr = arena_keep(&c->scratch, tg_aprintf("%s/%zu", parent.ptr, i));
	l.disp = arena_keep(&c->scratch, tg_aprintf("%s[%zu]", parent.disp, i));
	return l;
}

/*
 * Record "<file>:<line>:<col>: <where>: <message>" and return code. The
 * message is formatted first, so it may quote tg_error_last().
 */
static int perr_code(ctx *c, int code, loc at, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int perr_code(ctx *c, int code, loc at, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;
	unsigned line, col = 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line = tg_yaml_docs_line_at(c->docs, 0, at.ptr, &col);
	if (line == 0)
		line = tg_yaml_docs_line(c->docs, 0);
	if (col == 0)
		col = 1;
	if (at.disp[0] == '\0')
		return tg_error_set(code, "%s:%u:%u: %s", c->name, line, col,
		                    msg);
	return tg_error_set(code, "%s:%u:%u: %s: %s", c->name, line, col,
	                    at.disp, msg);
}

#define perr(c, at, ...) perr_code((c), TG_EINVALID, (at), __VA_ARGS__)

/* Keys --------------------------------------------------------------------- */

typedef struct section {
	const char *where; /* generic path, for "belongs in ..." */
	const char *const *keys;
} section;

#define KEYS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const section S_TOP = {
	"the top level",
	KEYS("apiVersion", "kind", "registries", "rules", "exceptions")
};
static const section S_REGISTRIES = { "registries", KEYS("allowed") };
static const section S_RULE = { "rules[]", KEYS("name",
	                                        "images",
	                                        "mode",
	                                        "signatures",
	                                        "attestations",
	                                        "maxImageAge") };
static const section S_SIGS = {
	"rules[].signatures",
	KEYS("threshold", "signedIdentity", "remapIdentity", "authorities")
};
static const section S_REMAP = { "rules[].signatures.remapIdentity",
	                         KEYS("prefix", "signedPrefix") };
static const section S_AUTH = { "rules[].signatures.authorities[]",
	                        KEYS("name", "key", "keyless", "rekor") };
static const section S_KEYLESS = { "rules[].signatures.authorities[].keyless",
	                           KEYS("issuer",
	                                "issuerRegExp",
	                                "subject",
	                                "subjectRegExp",
	                                "trustedRoot",
	                                "fulcioCerts",
	                                "ctlog") };
static const section S_TLOG = {
	"rules[].signatures.authorities[].rekor (or keyless.ctlog)",
	KEYS("required", "publicKey")
};
static const section S_ATT = { "rules[].attestations",
	                       KEYS("sbom", "vulnerabilities", "provenance") };
static const section S_SBOM = {
	"rules[].attestations.sbom",
	KEYS("required", "formats", "deniedLicenses", "deniedPackages")
};
static const section S_DPKG = { "rules[].attestations.sbom.deniedPackages[]",
	                        KEYS("name", "version") };
static const section S_VULN = {
	"rules[].attestations.vulnerabilities",
	KEYS("required", "maxSeverity", "maxScanAge", "ignore")
};
static const section S_PROV = { "rules[].attestations.provenance",
	                        KEYS("required",
	                             "builderId",
	                             "builderIdRegExp",
	                             "sourceRepository",
	                             "sourceRepositoryRegExp") };
static const section S_EXC = { "exceptions[]", KEYS("name",
	                                            "images",
	                                            "waive",
	                                            "cves",
	                                            "reason",
	                                            "approvedBy",
	                                            "expires") };

static const section *const all_sections[] = {
	&S_TOP,  &S_REGISTRIES, &S_RULE, &S_SIGS, &S_REMAP,
	&S_AUTH, &S_KEYLESS,    &S_TLOG, &S_ATT,  &S_SBOM,
	&S_DPKG, &S_VULN,       &S_PROV, &S_EXC,  NULL
};

static char tolower_ascii(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* Levenshtein distance, case-insensitive, of two short strings (longer
 * ones count as far apart). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[65], prev_diag, tmp;

	if (la > 64 || lb > 64)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev_diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = tolower_ascii(a[i - 1]) ==
			                              tolower_ascii(b[j - 1])
			                      ? 0
			                      : 1;
			tmp = row[j];
			row[j] = prev_diag + cost;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev_diag = tmp;
		}
	}
	return row[lb];
}

/* The closest of names to word when it is a near miss (a typo or a case
 * slip), else NULL. */
static const char *suggest(const char *word, const char *const *names)
{
	const char *best = NULL;
	size_t d, best_d = 3, i;

	for (i = 0; names[i] != NULL; i++) {
		d = edit_distance(word, names[i]);
		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	return best;
}

static bool in_list(const char *word, const char *const *names)
{
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(word, names[i]) == 0)
			return true;
	}
	return false;
}

/* The one section other than sec that has key, or NULL when none or
 * several do (then "belongs in" would be a guess). */
static const section *home_of(const char *key, const section *sec)
{
	const section *found = NULL;
	size_t i;

	for (i = 0; all_sections[i] != NULL; i++) {
		if (all_sections[i] == sec ||
		    !in_list(key, all_sections[i]->keys))
			continue;
		if (found != NULL)
			return NULL;
		found = all_sections[i];
	}
	return found;
}

/* "a, b, c" of a key list. */
static void key_list(char *buf, size_t size, const char *const *names)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; names[i] != NULL && len < size; i++) {
		int n = snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
		                 names[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

/* Refuse any key of obj that sec does not allow, saying what was meant. */
static int check_keys(ctx *c, const json_t *obj, loc at, const section *sec)
{
	const char *key, *hint;
	const section *home;
	json_t *v;
	char list[512];

	json_object_foreach((json_t *)obj, key, v) {
		loc kl;

		if (in_list(key, sec->keys))
			continue;
		kl = loc_key(c, at, key);
		if ((hint = suggest(key, sec->keys)) != NULL)
			return perr(c, kl,
			            "unknown key \"%s\" (did you mean "
			            "\"%s\"?)",
			            key, hint);
		if ((home = home_of(key, sec)) != NULL)
			return perr(c, kl,
			            "key \"%s\" does not belong here; "
			            "it belongs in %s",
			            key, home->where);
		key_list(list, sizeof(list), sec->keys);
		return perr(c, kl, "unknown key \"%s\" (allowed here: %s)", key,
		            list);
	}
	return 0;
}

/* Values ------------------------------------------------------------------- */

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "a mapping";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "empty (null)";
	}
}

/* The member key of obj, with its location; NULL when absent. A null
 * value ("key:" with nothing after it) counts as present, so it is
 * reported as the wrong type rather than read as a default. */
static json_t *
member(ctx *c, const json_t *obj, loc at, const char *key, loc *kl)
{
	json_t *v = json_object_get(obj, key);

	if (v != NULL)
		*kl = loc_key(c, at, key);
	return v;
}

static int missing(ctx *c, loc at, const char *key)
{
	return perr(c, at, "missing required key \"%s\"", key);
}

/* A scalar that YAML resolved to a number or boolean where a string was
 * meant ("version: 1.2", "name: yes") needs quotes. */
static int want_string(ctx *c, loc at, const json_t *v)
{
	if (json_is_number(v) || json_is_boolean(v))
		return perr(c, at, "must be a string, not %s (quote the value)",
		            type_name(v));
	return perr(c, at, "must be a string, not %s", type_name(v));
}

/* A non-empty string value, copied into the policy; *out NULL when absent
 * and not required. */
static int get_str(ctx *c,
                   const json_t *obj,
                   loc at,
                   const char *key,
                   bool required,
                   const char **out)
{
	loc kl;
	json_t *v = member(c, obj, at, key, &kl);

	*out = NULL;
	if (v == NULL)
		return required ? missing(c, at, key) : 0;
	if (!json_is_string(v))
		return want_string(c, kl, v);
	if (json_string_length(v) == 0)
		return perr(c, kl, "must not be empty");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return perr(c, kl, "must not contain NUL characters");
	*out = arena_strdup(&c->p->mem, json_string_value(v));
	return 0;
}

static int get_bool(
        ctx *c, const json_t *obj, loc at, const char *key, bool def, bool *out)
{
	loc kl;
	json_t *v = member(c, obj, at, key, &kl);

	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return perr(c, kl, "must be true or false, not %s",
		            type_name(v));
	*out = json_is_true(v);
	return 0;
}

/* A duration ("7d", "1h30m") above zero; 0 when absent. */
static int
get_duration(ctx *c, const json_t *obj, loc at, const char *key, int64_t *out)
{
	const char *s;
	int error;
	loc kl;

	*out = 0;
	if ((error = get_str(c, obj, at, key, false, &s)) < 0 || s == NULL)
		return error;
	kl = loc_key(c, at, key);
	if (tg_parse_duration(out, s) < 0)
		return perr(c, kl, "%s", tg_error_last());
	if (*out <= 0)
		return perr(c, kl, "duration \"%s\" must be more than zero", s);
	return 0;
}

/* A mapping; *out NULL when absent and not required. */
static int get_map(ctx *c,
                   const json_t *obj,
                   loc at,
                   const char *key,
                   bool required,
                   json_t **out,
                   loc *kl)
{
	json_t *v = member(c, obj, at, key, kl);

	*out = NULL;
	if (v == NULL)
		return required ? missing(c, at, key) : 0;
	if (!json_is_object(v))
		return perr(c, *kl, "must be a mapping, not %s", type_name(v));
	*out = v;
	return 0;
}

/* A non-empty list; *out NULL when absent and not required. */
static int get_list(ctx *c,
                    const json_t *obj,
                    loc at,
                    const char *key,
                    bool required,
                    json_t **out,
                    loc *kl)
{
	json_t *v = member(c, obj, at, key, kl);

	*out = NULL;
	if (v == NULL)
		return required ? missing(c, at, key) : 0;
	if (!json_is_array(v))
		return perr(c, *kl, "must be a list, not %s", type_name(v));
	if (json_array_size(v) == 0)
		return perr(c, *kl, "must not be an empty list");
	if (json_array_size(v) > TG_POLICY_MAX_LIST)
		return perr_code(c, TG_ETOOBIG, *kl, "more than %d entries",
		                 TG_POLICY_MAX_LIST);
	*out = v;
	return 0;
}

/* Validates one string of a list; 0 or a tg_error with no location. */
typedef int (*str_check_fn)(const char *s);

/* A non-empty list of non-empty strings, each passing check (may be
 * NULL), copied into the policy. */
static int get_str_list(ctx *c,
                        const json_t *obj,
                        loc at,
                        const char *key,
                        bool required,
                        str_check_fn check,
                        const char *const **out,
                        size_t *n_out)
{
	json_t *list, *v;
	const char **items;
	size_t i;
	loc kl;
	int error;

	*out = NULL;
	*n_out = 0;
	if ((error = get_list(c, obj, at, key, required, &list, &kl)) < 0 ||
	    list == NULL)
		return error;
	items = arena_calloc(&c->p->mem, json_array_size(list), sizeof(*items));
	json_array_foreach(list, i, v) {
		loc il = loc_index(c, kl, i);

		if (!json_is_string(v))
			return want_string(c, il, v);
		if (json_string_length(v) == 0 ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return perr(c, il, "must be a non-empty string");
		if (check != NULL && check(json_string_value(v)) < 0)
			return perr(c, il, "\"%.200s\": %s",
			            json_string_value(v), tg_error_last());
		items[i] = arena_strdup(&c->p->mem, json_string_value(v));
	}
	*out = items;
	*n_out = json_array_size(list);
	return 0;
}

/* One of names (exactly); *idx_out its index. */
static int parse_enum(ctx *c,
                      const json_t *v,
                      loc at,
                      const char *const *names,
                      unsigned *idx_out)
{
	const char *hint;
	char list[256];
	unsigned i;

	if (!json_is_string(v))
		return want_string(c, at, v);
	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(json_string_value(v), names[i]) == 0) {
			*idx_out = i;
			return 0;
		}
	}
	key_list(list, sizeof(list), names);
	hint = suggest(json_string_value(v), names);
	if (hint != NULL)
		return perr(c, at,
		            "unknown value \"%.100s\" (did you mean "
		            "\"%s\"? allowed: %s)",
		            json_string_value(v), hint, list);
	return perr(c, at, "unknown value \"%.100s\" (allowed: %s)",
	            json_string_value(v), list);
}

/* An optional enum member; *idx_out keeps its default when absent. */
static int get_enum(ctx *c,
                    const json_t *obj,
                    loc at,
                    const char *key,
                    const char *const *names,
                    unsigned *idx_out)
{
	loc kl;
	json_t *v = member(c, obj, at, key, &kl);

	if (v == NULL)
		return 0;
	return parse_enum(c, v, kl, names, idx_out);
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
static int check_name(const char *s)
{
	return check_chars(s, POLICY_MAX_NAME, "-_.",
	                   "names use letters, digits, '-', '_' and '.' "
	                   "only");
}

/* Vulnerability ids: CVE-2023-44487, GHSA-xxxx-xxxx-xxxx, DSA-5000-1,
 * ALAS2-2023-1234, ... */
static int check_vuln_id(const char *s)
{
	return check_chars(s, 128, "-_.:",
	                   "not a vulnerability id (like CVE-2023-44487 or "
	                   "GHSA-xxxx-xxxx-xxxx)");
}

/* SPDX license ids (MIT, GPL-3.0-only, LicenseRef-acme,
 * DocumentRef-x:LicenseRef-y). Expressions are not ids. */
static int check_license_id(const char *s)
{
	return check_chars(s, 128, "-.+:",
	                   "not an SPDX license id (like MIT or "
	                   "GPL-3.0-only; list each id of an expression on "
	                   "its own)");
}

/* Files ---------------------------------------------------------------------
 */

/* A path from the policy, resolved against the policy's directory. */
static char *resolve(ctx *c, const char *path)
{
	if (path[0] == '/' || c->base_dir == NULL)
		return arena_strdup(&c->p->mem, path);
	return arena_keep(&c->p->mem, tg_path_join(c->base_dir, path));
}

static void keep_key(tg_policy *p, tg_pubkey *key)
{
	p->keys = tg_realloc(p->keys, (p->nkeys + 1) * sizeof(*p->keys));
	p->keys[p->nkeys++] = key;
}

/* Load the public key named by a key/publicKey value: a path, or PEM
 * written inline ("-----BEGIN PUBLIC KEY-----..."). */
static int load_key(ctx *c,
                    loc at,
                    const char *value,
                    const char *label,
                    const tg_pubkey **key_out,
                    const char **path_out)
{
	tg_pubkey *key = NULL;
	int error;

	*path_out = NULL;
	if (tg_str_has_prefix(value, "-----BEGIN")) {
		error = tg_pubkey_from_pem(&key, label, value, strlen(value));
	} else {
		*path_out = resolve(c, value);
		error = tg_pubkey_load_file(&key, *path_out);
	}
	if (error < 0)
		return perr_code(c, error, at, "%s", tg_error_last());
	keep_key(c->p, key);
	tg_buf_printf(&c->canon, "key %s %s\n", at.disp, tg_pubkey_id(key));
	*key_out = key;
	return 0;
}

/* Read a trust file named by the policy into the policy, adding its digest
 * to the hash material. */
static int load_file(ctx *c,
                     loc at,
                     const char *value,
                     const char **path_out,
                     const char **data_out,
                     size_t *len_out)
{
	char *data = NULL;
	char digest[TG_DIGEST_STR_LEN + 1];
	int error;

	*path_out = resolve(c, value);
	if ((error = tg_file_read(&data, len_out, *path_out,
	                          TG_MAX_FILE_BYTES)) < 0)
		return perr_code(c, error, at, "%s", tg_error_last());
	arena_keep(&c->p->mem, data);
	tg_sha256_digest_str(digest, data, *len_out);
	tg_buf_printf(&c->canon, "file %s %s\n", at.disp, digest);
	*data_out = data;
	return 0;
}

static int get_regexp(ctx *c,
                      const json_t *obj,
                      loc at,
                      const char *key,
                      const tg_regexp **out)
{
	const char *s;
	tg_regexp *re;
	tg_policy *p = c->p;
	int error;

	*out = NULL;
	if ((error = get_str(c, obj, at, key, false, &s)) < 0 || s == NULL)
		return error;
	if ((error = tg_regexp_compile(&re, s)) < 0)
		return perr_code(c, error, loc_key(c, at, key), "%s",
		                 tg_error_last());
	p->regexps =
	        tg_realloc(p->regexps, (p->nregexps + 1) * sizeof(*p->regexps));
	p->regexps[p->nregexps++] = re;
	*out = re;
	return 0;
}

/* Sections ----------------------------------------------------------------- */

/* rekor: / ctlog: {required, publicKey}; absent keeps the defaults. */
static int parse_tlog(ctx *c,
                      const json_t *obj,
                      loc at,
                      const char *key,
                      bool def_required,
                      tg_policy_tlog *out)
{
	json_t *m;
	const char *pk;
	loc ml;
	int error;

	out->required = def_required;
	if ((error = get_map(c, obj, at, key, false, &m, &ml)) < 0 || m == NULL)
		return error;
	if ((error = check_keys(c, m, ml, &S_TLOG)) < 0 ||
	    (error = get_bool(c, m, ml, "required", def_required,
	                      &out->required)) < 0 ||
	    (error = get_str(c, m, ml, "publicKey", false, &pk)) < 0)
		return error;
	if (pk == NULL)
		return 0;
	return load_key(c, loc_key(c, ml, "publicKey"), pk, key, &out->key,
	                &out->key_path);
}

static int
parse_keyless_trust(ctx *c, const json_t *m, loc ml, tg_policy_keyless *k)
{
	const char *root, *certs;
	json_t *doc;
	int error;

	if ((error = get_str(c, m, ml, "trustedRoot", false, &root)) < 0 ||
	    (error = get_str(c, m, ml, "fulcioCerts", false, &certs)) < 0)
		return error;
	if (root == NULL && certs == NULL)
		return perr(c, ml,
		            "keyless needs trustedRoot (a Sigstore "
		            "trusted_root.json) or fulcioCerts (PEM CA "
		            "certificates) to know which Fulcio to trust");
	if (root != NULL) {
		loc rl = loc_key(c, ml, "trustedRoot");

		if ((error = load_file(c, rl, root, &k->trusted_root_path,
		                       &k->trusted_root,
		                       &k->trusted_root_len)) < 0)
			return error;
		doc = json_loadb(k->trusted_root, k->trusted_root_len,
		                 JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(doc)) {
			json_decref(doc);
			return perr(c, rl, "%s: not a JSON trusted root",
			            k->trusted_root_path);
		}
		json_decref(doc);
	}
	if (certs == NULL)
		return 0;
	if ((error = load_file(c, loc_key(c, ml, "fulcioCerts"), certs,
	                       &k->fulcio_certs_path, &k->fulcio_certs,
	                       &k->fulcio_certs_len)) < 0)
		return error;
	if (strstr(k->fulcio_certs, "-----BEGIN CERTIFICATE-----") == NULL)
		return perr(c, loc_key(c, ml, "fulcioCerts"),
		            "%s: no PEM certificate in it",
		            k->fulcio_certs_path);
	return 0;
}

static int parse_keyless(ctx *c, const json_t *m, loc ml, tg_policy_keyless *k)
{
	int error;

	if ((error = check_keys(c, m, ml, &S_KEYLESS)) < 0 ||
	    (error = get_str(c, m, ml, "issuer", false, &k->issuer)) < 0 ||
	    (error = get_regexp(c, m, ml, "issuerRegExp", &k->issuer_regexp)) <
	            0 ||
	    (error = get_str(c, m, ml, "subject", false, &k->subject)) < 0 ||
	    (error = get_regexp(c, m, ml, "subjectRegExp",
	                        &k->subject_regexp)) < 0)
		return error;
	/* As cosign: an identity without an issuer, or the reverse, would
	 * trust anyone the other half lets through. */
	if (k->issuer == NULL && k->issuer_regexp == NULL)
		return perr(c, ml,
		            "keyless needs issuer or issuerRegExp "
		            "(the OIDC issuer of the signer's certificate)");
	if (k->subject == NULL && k->subject_regexp == NULL)
		return perr(c, ml,
		            "keyless needs subject or subjectRegExp "
		            "(the signer identity in the certificate)");
	if ((error = parse_keyless_trust(c, m, ml, k)) < 0)
		return error;
	return parse_tlog(c, m, ml, "ctlog", true, &k->ctlog);
}

static int
parse_authority(ctx *c, const json_t *v, loc at, tg_policy_authority *a)
{
	const char *key;
	json_t *kl_map;
	loc kl;
	int error;
	tg_policy_keyless *k;

	if (!json_is_object(v))
		return perr(c, at, "an authority must be a mapping, not %s",
		            type_name(v));
	a->line = tg_yaml_docs_line_at(c->docs, 0, at.ptr, NULL);
	if ((error = check_keys(c, v, at, &S_AUTH)) < 0 ||
	    (error = get_str(c, v, at, "name", true, &a->name)) < 0 ||
	    (error = get_str(c, v, at, "key", false, &key)) < 0 ||
	    (error = get_map(c, v, at, "keyless", false, &kl_map, &kl)) < 0)
		return error;
	if (check_name(a->name) < 0)
		return perr(c, loc_key(c, at, "name"), "%s", tg_error_last());
	if (key != NULL && kl_map != NULL)
		return perr(c, at,
		            "authority \"%s\" has both key and keyless; "
		            "give one (use two authorities for both)",
		            a->name);
	if (key == NULL && kl_map == NULL)
		return perr(c, at, "authority \"%s\" needs key or keyless",
		            a->name);
	if (key != NULL) {
		a->kind = TG_AUTHORITY_KEY;
		error = load_key(c, loc_key(c, at, "key"), key, a->name,
		                 &a->key, &a->key_path);
	} else {
		a->kind = TG_AUTHORITY_KEYLESS;
		k = arena_calloc(&c->p->mem, 1, sizeof(*k));
		a->keyless = k;
		error = parse_keyless(c, kl_map, kl, k);
	}
	if (error < 0)
		return error;
	/* A Fulcio certificate lives ten minutes: only a log entry shows
	 * it signed in that window, so keyless requires Rekor by default. */
	return parse_tlog(c, v, at, "rekor", a->kind == TG_AUTHORITY_KEYLESS,
	                  &a->rekor);
}

static int
parse_authorities(ctx *c, const json_t *m, loc ml, tg_policy_signatures *s)
{
	json_t *list, *v;
	tg_policy_authority *auths;
	const tg_policy_authority **ptrs;
	size_t i, j;
	loc ll;
	int error;

	if ((error = get_list(c, m, ml, "authorities", true, &list, &ll)) < 0)
		return error;
	auths = arena_calloc(&c->p->mem, json_array_size(list), sizeof(*auths));
	ptrs = arena_calloc(&c->p->mem, json_array_size(list), sizeof(*ptrs));
	json_array_foreach(list, i, v) {
		loc il = loc_index(c, ll, i);

		if ((error = parse_authority(c, v, il, &auths[i])) < 0)
			return error;
		for (j = 0; j < i; j++) {
			if (strcmp(auths[j].name, auths[i].name) == 0)
				return perr(c, loc_key(c, il, "name"),
				            "duplicate authority name \"%s\" "
				            "(also at line %u)",
				            auths[i].name, auths[j].line);
		}
		ptrs[i] = &auths[i];
	}
	s->authorities = ptrs;
	s->nauthorities = json_array_size(list);
	return 0;
}

/* A remap prefix: a registry prefix ending in '/'. */
static int get_remap_prefix(
        ctx *c, const json_t *m, loc ml, const char *key, const char **out)
{
	int error;
	loc kl;

	if ((error = get_str(c, m, ml, key, true, out)) < 0)
		return error;
	kl = loc_key(c, ml, key);
	if (tg_policy_registry_check(*out) < 0)
		return perr(c, kl, "\"%s\": %s", *out, tg_error_last());
	if (!tg_str_has_suffix(*out, "/"))
		return perr(c, kl,
		            "\"%s\" must end with '/' (a repository "
		            "prefix)",
		            *out);
	return 0;
}

static int parse_remap(ctx *c, const json_t *m, loc ml, tg_policy_signatures *s)
{
	json_t *r;
	loc rl;
	int error;

	if ((error = get_map(c, m, ml, "remapIdentity", false, &r, &rl)) < 0 ||
	    r == NULL)
		return error;
	if ((error = check_keys(c, r, rl, &S_REMAP)) < 0 ||
	    (error = get_remap_prefix(c, r, rl, "prefix", &s->remap_prefix)) <
	            0)
		return error;
	return get_remap_prefix(c, r, rl, "signedPrefix",
	                        &s->remap_signed_prefix);
}

static const char *const identity_names[] = { "any", "repository", "exact",
	                                      NULL };

static int
parse_signatures(ctx *c, const json_t *m, loc ml, tg_policy_signatures *s)
{
	json_t *t;
	loc tl;
	unsigned ident = TG_IDENTITY_ANY;
	int error;

	if ((error = check_keys(c, m, ml, &S_SIGS)) < 0 ||
	    (error = parse_authorities(c, m, ml, s)) < 0 ||
	    (error = get_enum(c, m, ml, "signedIdentity", identity_names,
	                      &ident)) < 0 ||
	    (error = parse_remap(c, m, ml, s)) < 0)
		return error;
	s->signed_identity = (tg_policy_identity)ident;
	s->threshold = 1;
	if ((t = member(c, m, ml, "threshold", &tl)) == NULL)
		return 0;
	if (!json_is_integer(t) || json_integer_value(t) < 1)
		return perr(c, tl, "must be a whole number of at least 1");
	if ((json_int_t)s->nauthorities < json_integer_value(t))
		return perr(c, tl,
		            "threshold %lld is more than the %zu "
		            "authorities listed, so no image could pass",
		            (long long)json_integer_value(t), s->nauthorities);
	s->threshold = (unsigned)json_integer_value(t);
	return 0;
}

static int
parse_denied_packages(ctx *c, const json_t *m, loc ml, tg_policy_sbom *s)
{
	json_t *list, *v;
	tg_policy_denied_package *pkgs;
	size_t i;
	loc ll;
	int error;

	if ((error = get_list(c, m, ml, "deniedPackages", false, &list, &ll)) <
	            0 ||
	    list == NULL)
		return error;
	pkgs = arena_calloc(&c->p->mem, json_array_size(list), sizeof(*pkgs));
	json_array_foreach(list, i, v) {
		loc il = loc_index(c, ll, i);

		if (!json_is_object(v))
			return perr(c, il,
			            "must be a mapping {name, version}, "
			            "not %s",
			            type_name(v));
		if ((error = check_keys(c, v, il, &S_DPKG)) < 0 ||
		    (error = get_str(c, v, il, "name", true, &pkgs[i].name)) <
		            0 ||
		    (error = get_str(c, v, il, "version", false,
		                     &pkgs[i].version)) < 0)
			return error;
		if (pkgs[i].version != NULL &&
		    tg_version_constraint_check(pkgs[i].version) < 0)
			return perr(c, loc_key(c, il, "version"), "%s",
			            tg_error_last());
	}
	s->denied_packages = pkgs;
	s->ndenied_packages = json_array_size(list);
	return 0;
}

static const char *const sbom_format_names[] = { "spdx", "cyclonedx", NULL };

static int parse_sbom(ctx *c, const json_t *m, loc ml, tg_policy_sbom *s)
{
	json_t *list, *v;
	size_t i;
	unsigned idx;
	loc ll;
	int error;

	s->present = true;
	s->formats = TG_SBOM_FORMAT_SPDX | TG_SBOM_FORMAT_CYCLONEDX;
	if ((error = check_keys(c, m, ml, &S_SBOM)) < 0 ||
	    (error = get_bool(c, m, ml, "required", true, &s->required)) < 0 ||
	    (error = get_str_list(c, m, ml, "deniedLicenses", false,
	                          check_license_id, &s->denied_licenses,
	                          &s->ndenied_licenses)) < 0 ||
	    (error = parse_denied_packages(c, m, ml, s)) < 0 ||
	    (error = get_list(c, m, ml, "formats", false, &list, &ll)) < 0 ||
	    list == NULL)
		return error;
	s->formats = 0;
	json_array_foreach(list, i, v) {
		if ((error = parse_enum(c, v, loc_index(c, ll, i),
		                        sbom_format_names, &idx)) < 0)
			return error;
		s->formats |= 1u << idx;
	}
	return 0;
}

static const char *const severity_list[] = { "none", "low",      "medium",
	                                     "high", "critical", NULL };

static int parse_vulns(ctx *c, const json_t *m, loc ml, tg_policy_vulns *s)
{
	unsigned sev = TG_SEVERITY_CRITICAL;
	int error;

	s->present = true;
	if ((error = check_keys(c, m, ml, &S_VULN)) < 0 ||
	    (error = get_bool(c, m, ml, "required", true, &s->required)) < 0 ||
	    (error = get_enum(c, m, ml, "maxSeverity", severity_list, &sev)) <
	            0 ||
	    (error = get_duration(c, m, ml, "maxScanAge", &s->max_scan_age)) <
	            0)
		return error;
	s->max_severity = (tg_severity)sev;
	return get_str_list(c, m, ml, "ignore", false, check_vuln_id,
	                    &s->ignore, &s->nignore);
}

static int
parse_provenance(ctx *c, const json_t *m, loc ml, tg_policy_provenance *s)
{
	int error;

	s->present = true;
	if ((error = check_keys(c, m, ml, &S_PROV)) < 0 ||
	    (error = get_bool(c, m, ml, "required", true, &s->required)) < 0 ||
	    (error = get_str(c, m, ml, "builderId", false, &s->builder_id)) <
	            0 ||
	    (error = get_regexp(c, m, ml, "builderIdRegExp",
	                        &s->builder_id_regexp)) < 0 ||
	    (error = get_str(c, m, ml, "sourceRepository", false,
	                     &s->source_repository)) < 0)
		return error;
	return get_regexp(c, m, ml, "sourceRepositoryRegExp",
	                  &s->source_repository_regexp);
}

static int
parse_attestations(ctx *c, const json_t *m, loc ml, tg_policy_rule *r)
{
	json_t *v;
	loc vl;
	int error;

	if ((error = check_keys(c, m, ml, &S_ATT)) < 0)
		return error;
	if ((error = get_map(c, m, ml, "sbom", false, &v, &vl)) < 0 ||
	    (v != NULL && (error = parse_sbom(c, v, vl, &r->sbom)) < 0))
		return error;
	if ((error = get_map(c, m, ml, "vulnerabilities", false, &v, &vl)) <
	            0 ||
	    (v != NULL &&
	     (error = parse_vulns(c, v, vl, &r->vulnerabilities)) < 0))
		return error;
	if ((error = get_map(c, m, ml, "provenance", false, &v, &vl)) < 0 ||
	    v == NULL)
		return error;
	return parse_provenance(c, v, vl, &r->provenance);
}

static int check_glob(const char *s)
{
	return tg_policy_glob_check(s);
}

static const char *const mode_names[] = { "enforce", "warn", NULL };

static int parse_rule(ctx *c, const json_t *v, loc at, tg_policy_rule *r)
{
	json_t *m;
	loc ml;
	unsigned mode = TG_POLICY_ENFORCE;
	int error;

	if (!json_is_object(v))
		return perr(c, at, "a rule must be a mapping, not %s",
		            type_name(v));
	r->line = tg_yaml_docs_line_at(c->docs, 0, at.ptr, NULL);
	if ((error = check_keys(c, v, at, &S_RULE)) < 0 ||
	    (error = get_str(c, v, at, "name", true, &r->name)) < 0)
		return error;
	if (check_name(r->name) < 0)
		return perr(c, loc_key(c, at, "name"), "%s", tg_error_last());
	if ((error = get_str_list(c, v, at, "images", true, check_glob,
	                          &r->images, &r->nimages)) < 0 ||
	    (error = get_enum(c, v, at, "mode", mode_names, &mode)) < 0 ||
	    (error = get_duration(c, v, at, "maxImageAge", &r->max_image_age)) <
	            0 ||
	    (error = get_map(c, v, at, "signatures", true, &m, &ml)) < 0 ||
	    (error = parse_signatures(c, m, ml, &r->signatures)) < 0 ||
	    (error = get_map(c, v, at, "attestations", false, &m, &ml)) < 0)
		return error;
	r->mode = (tg_policy_mode)mode;
	if (m == NULL)
		return 0;
	return parse_attestations(c, m, ml, r);
}

static const char *const waive_names[] = {
	"signature", "sbom", "vulnerabilities", "provenance", "age", NULL
};

static int parse_waive(ctx *c, const json_t *v, loc at, tg_policy_exception *e)
{
	json_t *list, *item;
	size_t i;
	unsigned idx;
	loc ll;
	int error;

	if ((error = get_list(c, v, at, "waive", false, &list, &ll)) < 0 ||
	    list == NULL)
		return error;
	json_array_foreach(list, i, item) {
		if ((error = parse_enum(c, item, loc_index(c, ll, i),
		                        waive_names, &idx)) < 0)
			return error;
		e->waive |= 1u << idx;
	}
	return 0;
}

static int
parse_exception(ctx *c, const json_t *v, loc at, tg_policy_exception *e)
{
	int error;

	if (!json_is_object(v))
		return perr(c, at, "an exception must be a mapping, not %s",
		            type_name(v));
	e->line = tg_yaml_docs_line_at(c->docs, 0, at.ptr, NULL);
	if ((error = check_keys(c, v, at, &S_EXC)) < 0 ||
	    (error = get_str(c, v, at, "name", true, &e->name)) < 0)
		return error;
	if (check_name(e->name) < 0)
		return perr(c, loc_key(c, at, "name"), "%s", tg_error_last());
	if ((error = get_str_list(c, v, at, "images", true, check_glob,
	                          &e->images, &e->nimages)) < 0 ||
	    (error = parse_waive(c, v, at, e)) < 0 ||
	    (error = get_str_list(c, v, at, "cves", false, check_vuln_id,
	                          &e->cves, &e->ncves)) < 0 ||
	    (error = get_str(c, v, at, "reason", true, &e->reason)) < 0 ||
	    (error = get_str(c, v, at, "approvedBy", true, &e->approved_by)) <
	            0 ||
	    (error = get_str(c, v, at, "expires", true, &e->expires)) < 0)
		return error;
	if (e->waive == 0 && e->ncves == 0)
		return perr(c, at,
		            "exception \"%s\" waives nothing: give "
		            "waive (signature, sbom, vulnerabilities, "
		            "provenance, age) or cves",
		            e->name);
	if (tg_parse_date_end(&e->expires_at, e->expires) < 0)
		return perr(c, loc_key(c, at, "expires"), "%s",
		            tg_error_last());
	return 0;
}

static int parse_registries(ctx *c, const json_t *doc)
{
	json_t *m;
	loc ml;
	int error;

	if ((error = get_map(c, doc, root_loc, "registries", false, &m, &ml)) <
	            0 ||
	    m == NULL)
		return error;
	c->p->has_registries = true;
	if ((error = check_keys(c, m, ml, &S_REGISTRIES)) < 0)
		return error;
	return get_str_list(c, m, ml, "allowed", true, tg_policy_registry_check,
	                    &c->p->allowed, &c->p->nallowed);
}

static int parse_rules(ctx *c, const json_t *doc)
{
	json_t *list, *v;
	size_t i, j;
	loc ll;
	int error;
	tg_policy *p = c->p;

	if ((error = get_list(c, doc, root_loc, "rules", true, &list, &ll)) < 0)
		return error;
	p->rules =
	        arena_calloc(&p->mem, json_array_size(list), sizeof(*p->rules));
	json_array_foreach(list, i, v) {
		loc il = loc_index(c, ll, i);

		if ((error = parse_rule(c, v, il, &p->rules[i])) < 0)
			return error;
		for (j = 0; j < i; j++) {
			if (strcmp(p->rules[j].name, p->rules[i].name) == 0)
				return perr(c, loc_key(c, il, "name"),
				            "duplicate rule name \"%s\" (also "
				            "at line %u)",
				            p->rules[i].name, p->rules[j].line);
		}
		p->nrules = i + 1;
	}
	return 0;
}

static int parse_exceptions(ctx *c, const json_t *doc)
{
	json_t *list, *v;
	size_t i, j;
	loc ll;
	int error;
	tg_policy *p = c->p;

	if ((error = get_list(c, doc, root_loc, "exceptions", false, &list,
	                      &ll)) < 0 ||
	    list == NULL)
		return error;
	p->exceptions = arena_calloc(&p->mem, json_array_size(list),
	                             sizeof(*p->exceptions));
	json_array_foreach(list, i, v) {
		loc il = loc_index(c, ll, i);
		tg_policy_exception *e = &p->exceptions[i];

		if ((error = parse_exception(c, v, il, e)) < 0)
			return error;
		for (j = 0; j < i; j++) {
			if (strcmp(p->exceptions[j].name, e->name) == 0)
				return perr(c, loc_key(c, il, "name"),
				            "duplicate exception name \"%s\" "
				            "(also at line %u)",
				            e->name, p->exceptions[j].line);
		}
		p->nexceptions = i + 1;
	}
	return 0;
}

static int parse_document(ctx *c, const json_t *doc)
{
	const char *s;
	int error;

	if (!json_is_object(doc))
		return perr(c, root_loc,
		            "a policy must be a mapping with "
		            "apiVersion: %s and kind: %s, not %s",
		            TG_POLICY_API_VERSION, TG_POLICY_KIND,
		            type_name(doc));
	if ((error = check_keys(c, doc, root_loc, &S_TOP)) < 0 ||
	    (error = get_str(c, doc, root_loc, "apiVersion", true, &s)) < 0)
		return error;
	if (strcmp(s, TG_POLICY_API_VERSION) != 0)
		return perr(c, loc_key(c, root_loc, "apiVersion"),
		            "\"%.100s\" is not supported (expected %s)", s,
		            TG_POLICY_API_VERSION);
	if ((error = get_str(c, doc, root_loc, "kind", true, &s)) < 0)
		return error;
	if (strcmp(s, TG_POLICY_KIND) != 0)
		return perr(c, loc_key(c, root_loc, "kind"),
		            "\"%.100s\" is not a policy (expected kind %s)", s,
		            TG_POLICY_KIND);
	if ((error = parse_registries(c, doc)) < 0 ||
	    (error = parse_rules(c, doc)) < 0)
		return error;
	return parse_exceptions(c, doc);
}

/* sha256 over the canonical JSON of the policy (sorted keys, compact) and
 * the material its paths name. */
static int compute_hash(ctx *c, const json_t *doc)
{
	char *canon = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT |
	                                      JSON_ENCODE_ANY);
	tg_buf all;
	int error;

	if (canon == NULL)
		return tg_error_set(TG_ERROR, "%s: cannot serialise policy",
		                    c->name);
	tg_buf_init(&all, TG_MAX_FILE_BYTES * 4u + POLICY_MAX_CANON);
	error = tg_buf_printf(&all, "%s\n%s", canon,
	                      c->canon.data ? c->canon.data : "");
	if (error == 0)
		tg_sha256_digest_str(c->p->hash, all.data, all.len);
	else
		error = tg_error_set(error, "%s: policy too big to hash",
		                     c->name);
	free(canon);
	tg_buf_free(&all);
	return error;
}

static int parse_docs(ctx *c, const char *data, size_t len)
{
	tg_yaml_docs *docs = NULL;
	size_t n;
	int error;

	if ((error = tg_yaml_parse(&docs, c->name, data, len,
	                           TG_YAML_POSITIONS)) < 0)
		return error;
	c->docs = docs;
	n = tg_yaml_docs_count(docs);
	if (n != 1 || json_is_null(tg_yaml_docs_get(docs, 0))) {
		error = n > 1 ? perr(c, root_loc,
		                     "%zu YAML documents; a "
		                     "policy file holds exactly one",
		                     n)
		              : tg_error_set(TG_EINVALID,
		                             "%s: empty policy file", c->name);
		goto out;
	}
	if ((error = parse_document(c, tg_yaml_docs_get(docs, 0))) < 0)
		goto out;
	error = compute_hash(c, tg_yaml_docs_get(docs, 0));
out:
	tg_yaml_docs_free(docs);
	c->docs = NULL;
	return error;
}

int tg_policy_parse(tg_policy **out,
                    const char *name,
                    const char *data,
                    size_t len,
                    const char *base_dir)
{
	ctx c;
	int error;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.p = tg_calloc(1, sizeof(*c.p));
	c.p->name = tg_strdup(name);
	c.name = c.p->name;
	c.base_dir = base_dir;
	tg_buf_init(&c.canon, POLICY_MAX_CANON);
	if (len > TG_MAX_FILE_BYTES)
		error = tg_error_set(TG_ETOOBIG,
		                     "%s: policy larger than %u "
		                     "bytes",
		                     name, TG_MAX_FILE_BYTES);
	else
		error = parse_docs(&c, data, len);
	arena_free(&c.scratch);
	tg_buf_free(&c.canon);
	if (error < 0) {
		tg_policy_free(c.p);
		return error;
	}
	*out = c.p;
	return 0;
}

/* The directory part of path ("." when it has none). Caller frees. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return tg_strdup(".");
	if (slash == path)
		return tg_strdup("/");
	return tg_strndup(path, (size_t)(slash - path));
}

int tg_policy_load(tg_policy **out, const char *path)
{
	char *data = NULL, *dir = NULL;
	size_t len;
	int error;

	*out = NULL;
	if ((error = tg_file_read(&data, &len, path, TG_MAX_FILE_BYTES)) < 0)
		return tg_error_prefix(error, "policy");
	dir = dir_of(path);
	error = tg_policy_parse(out, path, data, len, dir);
	free(dir);
	free(data);
	return error;
}

void tg_policy_free(tg_policy *policy)
{
	size_t i;

	if (policy == NULL)
		return;
	for (i = 0; i < policy->nkeys; i++)
		tg_pubkey_free(policy->keys[i]);
	free(policy->keys);
	for (i = 0; i < policy->nregexps; i++)
		tg_regexp_free(policy->regexps[i]);
	free(policy->regexps);
	arena_free(&policy->mem);
	free(policy->name);
	free(policy);
}

const char *tg_policy_name(const tg_policy *policy)
{
	return policy->name;
}

const char *tg_policy_hash(const tg_policy *policy)
{
	return policy->hash;
}
