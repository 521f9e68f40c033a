/* The verdict data model: see include/tollgate/verdict.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"
#include "tollgate/verdict.h"

struct verdict_check {
	tg_check *check;
	tg_check_result result;
};

struct verdict_platform {
	char *digest;
	char *platform;
};

struct tg_verdict {
	char *image;
	char *name;
	char *digest;
	char *rule;
	char *mode;
	int64_t time;
	tg_verdict_kind kind;
	struct verdict_check *checks;
	size_t nchecks;
	struct verdict_platform *platforms;
	size_t nplatforms;
};

int tg_verdict_new(tg_verdict **out, const char *image)
{
	tg_verdict *v = tg_calloc(1, sizeof(*v));

	v->image = tg_strdup(image ? image : "");
	v->kind = TG_VERDICT_BLOCKED;
	*out = v;
	return 0;
}

void tg_verdict_free(tg_verdict *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->nchecks; i++)
		tg_check_free(v->checks[i].check);
	free(v->checks);
	for (i = 0; i < v->nplatforms; i++) {
		free(v->platforms[i].digest);
		free(v->platforms[i].platform);
	}
	free(v->platforms);
	free(v->image);
	free(v->name);
	free(v->digest);
	free(v->rule);
	free(v->mode);
	free(v);
}

static void set_str(char **field, const char *s)
{
	char *copy = s ? tg_strdup(s) : NULL;

	free(*field);
	*field = copy;
}

void tg_verdict_set_image(tg_verdict *v, const char *image)
{
	set_str(&v->image, image ? image : "");
}

void tg_verdict_set_name(tg_verdict *v, const char *name)
{
	set_str(&v->name, name);
}

void tg_verdict_set_digest(tg_verdict *v, const char *digest)
{
	set_str(&v->digest, digest);
}

void tg_verdict_set_rule(tg_verdict *v, const char *rule, const char *mode)
{
	set_str(&v->rule, rule);
	set_str(&v->mode, mode);
}

void tg_verdict_set_time(tg_verdict *v, int64_t unix_time)
{
	v->time = unix_time;
}

void tg_verdict_add_platform(tg_verdict *v,
                             const char *digest,
                             const char *platform)
{
	struct verdict_platform *p;

	v->platforms = tg_realloc(v->platforms,
	                          (v->nplatforms + 1) * sizeof(*v->platforms));
	p = &v->platforms[v->nplatforms++];
	p->digest = tg_strdup(digest ? digest : "");
	p->platform = tg_strdup(platform ? platform : "");
}

void tg_verdict_add_check(tg_verdict *v,
                          tg_check *check,
                          tg_check_result result)
{
	if (result == TG_CHECK_PASS && !tg_check_passed(check))
		result = TG_CHECK_FAIL;
	v->checks =
	        tg_realloc(v->checks, (v->nchecks + 1) * sizeof(*v->checks));
	v->checks[v->nchecks].check = check;
	v->checks[v->nchecks].result = result;
	v->nchecks++;
}

void tg_verdict_fail(tg_verdict *v, const char *name, const char *fmt, ...)
{
	tg_check *c = NULL;
	char text[TG_ERROR_MAX];
	va_list ap;

	/* tg_check_new returns 0 always: out of memory aborts. */
	tg_discard(tg_check_new(&c, name));
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	tg_check_fail(c, "%s", text);
	tg_verdict_add_check(v, c, TG_CHECK_FAIL);
}

int64_t tg_verdict_valid_until(const tg_verdict *v,
                               const char **check_out,
                               const char **why_out)
{
	int64_t best = TG_TIME_NEVER, t;
	const char *why, *name = NULL, *best_why = NULL;
	size_t i;

	for (i = 0; i < v->nchecks; i++) {
		t = tg_check_valid_until(v->checks[i].check, &why);
		if (t < best) {
			best = t;
			best_why = why;
			name = tg_check_name(v->checks[i].check);
		}
	}
	if (check_out)
		*check_out = name;
	if (why_out)
		*why_out = best_why;
	return best;
}

void tg_verdict_note(tg_verdict *v, const char *name, const char *fmt, ...)
{
	char text[TG_ERROR_MAX];
	long i = tg_verdict_find_check(v, name);
	va_list ap;

	if (i < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	tg_check_note(v->checks[i].check, "%s", text);
}

long tg_verdict_find_check(const tg_verdict *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->nchecks; i++)
		if (!strcmp(tg_check_name(v->checks[i].check), name))
			return (long)i;
	return -1;
}

void tg_verdict_finish(tg_verdict *v)
{
	bool fail = false, warn = false;
	size_t i;

	for (i = 0; i < v->nchecks; i++) {
		if (v->checks[i].result == TG_CHECK_FAIL)
			fail = true;
		else if (v->checks[i].result == TG_CHECK_WARN)
			warn = true;
	}
	if (v->nchecks == 0 || fail)
		v->kind = TG_VERDICT_BLOCKED;
	else if (warn)
		v->kind = TG_VERDICT_WARNED;
	else
		v->kind = TG_VERDICT_ALLOWED;
}

const char *tg_verdict_image(const tg_verdict *v)
{
	return v->image;
}

const char *tg_verdict_name(const tg_verdict *v)
{
	return v->name;
}

const char *tg_verdict_digest(const tg_verdict *v)
{
	return v->digest;
}

const char *tg_verdict_rule(const tg_verdict *v)
{
	return v->rule;
}

const char *tg_verdict_mode(const tg_verdict *v)
{
	return v->mode;
}

int64_t tg_verdict_time(const tg_verdict *v)
{
	return v->time;
}

tg_verdict_kind tg_verdict_get(const tg_verdict *v)
{
	return v->kind;
}

size_t tg_verdict_check_count(const tg_verdict *v)
{
	return v->nchecks;
}

const tg_check *tg_verdict_check(const tg_verdict *v, size_t i)
{
	return i < v->nchecks ? v->checks[i].check : NULL;
}

tg_check_result tg_verdict_check_result(const tg_verdict *v, size_t i)
{
	return i < v->nchecks ? v->checks[i].result : TG_CHECK_FAIL;
}

size_t tg_verdict_platform_count(const tg_verdict *v)
{
	return v->nplatforms;
}

void tg_verdict_platform(const tg_verdict *v,
                         size_t i,
                         const char **digest,
                         const char **platform)
{
	if (digest)
		*digest = i < v->nplatforms ? v->platforms[i].digest : NULL;
	if (platform)
		*platform = i < v->nplatforms ? v->platforms[i].platform : NULL;
}

static const char *const kind_names[] = { "allowed", "warned", "blocked" };
static const char *const result_names[] = { "pass", "fail", "warn", "waived",
	                                    "skipped" };

const char *tg_verdict_kind_name(tg_verdict_kind k)
{
	return (unsigned)k < 3 ? kind_names[k] : "blocked";
}

const char *tg_check_result_name(tg_check_result r)
{
	return (unsigned)r < 5 ? result_names[r] : "fail";
}

int tg_verdict_kind_parse(tg_verdict_kind *out, const char *s)
{
	int i;

	for (i = 0; i < 3; i++)
		if (!strcmp(s, kind_names[i])) {
			*out = (tg_verdict_kind)i;
			return 0;
		}
	return tg_error_set(TG_EPARSE, "unknown verdict \"%.40s\"", s);
}

int tg_check_result_parse(tg_check_result *out, const char *s)
{
	int i;

	for (i = 0; i < 5; i++)
		if (!strcmp(s, result_names[i])) {
			*out = (tg_check_result)i;
			return 0;
		}
	return tg_error_set(TG_EPARSE, "unknown check result \"%.40s\"", s);
}

static json_t *check_to_json(const struct verdict_check *vc)
{
	json_t *reasons = json_array(), *notes = json_array();
	const tg_check *c = vc->check;
	char when[TG_RFC3339_BYTES];
	const char *why;
	int64_t until = tg_check_valid_until(c, &why);
	json_t *o;
	size_t i;

	for (i = 0; i < tg_check_reason_count(c); i++)
		json_array_append_new(reasons,
		                      json_string(tg_check_reason(c, i)));
	for (i = 0; i < tg_check_note_count(c); i++)
		json_array_append_new(notes,
		                      json_string(tg_check_note_at(c, i)));
	o = json_pack("{s:s, s:s, s:o, s:o, s:O}", "name", tg_check_name(c),
	              "result", tg_check_result_name(vc->result), "reasons",
	              reasons, "notes", notes, "evidence",
	              tg_check_evidence(c));
	if (until != TG_TIME_NEVER) {
		tg_format_rfc3339(when, until);
		json_object_set_new(o, "validUntil",
		                    json_pack("{s:s, s:s}", "time", when,
		                              "reason", why ? why : ""));
	}
	return o;
}

static void set_opt_str(json_t *o, const char *key, const char *value)
{
	json_object_set_new(o, key, value ? json_string(value) : json_null());
}

static json_t *platforms_to_json(const tg_verdict *v)
{
	json_t *plat = json_array();
	size_t i;

	for (i = 0; i < v->nplatforms; i++)
		json_array_append_new(
		        plat, json_pack("{s:s, s:s}", "digest",
		                        v->platforms[i].digest, "platform",
		                        v->platforms[i].platform));
	return plat;
}

json_t *tg_verdict_to_json(const tg_verdict *v)
{
	json_t *o = json_object(), *checks = json_array();
	char when[TG_RFC3339_BYTES];
	int64_t until;
	size_t i;

	json_object_set_new(o, "image", json_string(v->image));
	set_opt_str(o, "name", v->name);
	set_opt_str(o, "digest", v->digest);
	json_object_set_new(o, "verdict",
	                    json_string(tg_verdict_kind_name(v->kind)));
	set_opt_str(o, "rule", v->rule);
	set_opt_str(o, "mode", v->mode);
	for (i = 0; i < v->nchecks; i++)
		json_array_append_new(checks, check_to_json(&v->checks[i]));
	json_object_set_new(o, "checks", checks);
	if (v->nplatforms)
		json_object_set_new(o, "platforms", platforms_to_json(v));
	if (v->time) {
		tg_format_rfc3339(when, v->time);
		json_object_set_new(o, "verifiedAt", json_string(when));
	}
	until = tg_verdict_valid_until(v, NULL, NULL);
	if (until != TG_TIME_NEVER) {
		tg_format_rfc3339(when, until);
		json_object_set_new(o, "validUntil", json_string(when));
	}
	return o;
}

/* A string member or NULL (absent or null); TG_EPARSE for another type. */
static int opt_string(const char **out, const json_t *o, const char *key)
{
	json_t *m = json_object_get(o, key);

	*out = NULL;
	if (!m || json_is_null(m))
		return 0;
	if (!json_is_string(m))
		return tg_error_set(TG_EPARSE,
		                    "verdict: \"%s\" is not a string", key);
	*out = json_string_value(m);
	return 0;
}

/* Strings of an optional array member, each passed to add(). */
static int string_list(tg_check *c,
                       const json_t *arr,
                       const char *what,
                       void (*add)(tg_check *, const char *, ...))
{
	json_t *r;
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return tg_error_set(TG_EPARSE, "verdict: %s is not an array",
		                    what);
	json_array_foreach(arr, i, r) {
		if (!json_is_string(r))
			return tg_error_set(TG_EPARSE,
			                    "verdict: %s: not a string", what);
		add(c, "%s", json_string_value(r));
	}
	return 0;
}

/* A check's "validUntil" {"time", "reason"} (optional) onto c. */
static int bound_from_json(tg_check *c, const json_t *vu)
{
	const char *when = NULL, *why = NULL;
	int64_t t;

	if (!vu)
		return 0;
	if (!json_is_object(vu) || opt_string(&when, vu, "time") < 0 ||
	    opt_string(&why, vu, "reason") < 0 || !when ||
	    tg_parse_rfc3339(&t, when) < 0)
		return tg_error_set(TG_EPARSE, "bad \"validUntil\"");
	tg_check_bound(c, t, "%s", why ? why : "");
	return 0;
}

static int check_from_json(tg_verdict *v, const json_t *j)
{
	const char *name = NULL, *result = NULL;
	json_t *evidence;
	tg_check_result res = TG_CHECK_FAIL;
	tg_check *c = NULL;
	int error;

	if (!json_is_object(j) || opt_string(&name, j, "name") < 0 ||
	    opt_string(&result, j, "result") < 0 || !name || !result)
		return tg_error_set(TG_EPARSE,
		                    "verdict: check without name or result");
	if (tg_check_result_parse(&res, result) < 0)
		return tg_error_prefix(TG_EPARSE, "verdict: check %s", name);
	evidence = json_object_get(j, "evidence");
	if (evidence && !json_is_object(evidence))
		return tg_error_set(TG_EPARSE,
		                    "verdict: check %s: evidence is not an "
		                    "object",
		                    name);
	if ((error = tg_check_new(&c, name)) < 0)
		return error;
	if ((error = string_list(c, json_object_get(j, "reasons"), "reasons",
	                         tg_check_fail)) < 0 ||
	    (error = string_list(c, json_object_get(j, "notes"), "notes",
	                         tg_check_note)) < 0) {
		tg_check_free(c);
		return error;
	}
	if (evidence)
		json_object_update(tg_check_evidence(c), evidence);
	if ((error = bound_from_json(c, json_object_get(j, "validUntil"))) <
	    0) {
		tg_check_free(c);
		return tg_error_prefix(error, "verdict: check %s", name);
	}
	/* A stored failure without its reasons still fails. */
	if (res != TG_CHECK_PASS && res != TG_CHECK_SKIPPED &&
	    tg_check_passed(c))
		tg_check_fail(c, "failed");
	tg_verdict_add_check(v, c, res);
	return 0;
}

static int platforms_from_json(tg_verdict *v, const json_t *arr)
{
	const char *d = NULL, *p = NULL;
	json_t *e;
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return tg_error_set(TG_EPARSE,
		                    "verdict: \"platforms\" is not an array");
	json_array_foreach(arr, i, e) {
		if (!json_is_object(e) || opt_string(&d, e, "digest") < 0 ||
		    opt_string(&p, e, "platform") < 0)
			return tg_error_set(TG_EPARSE,
			                    "verdict: bad platform entry");
		tg_verdict_add_platform(v, d, p);
	}
	return 0;
}

static int verdict_fields_from_json(tg_verdict *v, const json_t *j)
{
	const char *name, *digest, *rule, *mode, *kind, *when;
	int64_t t = 0;

	if (opt_string(&name, j, "name") < 0 ||
	    opt_string(&digest, j, "digest") < 0 ||
	    opt_string(&rule, j, "rule") < 0 ||
	    opt_string(&mode, j, "mode") < 0 ||
	    opt_string(&kind, j, "verdict") < 0 ||
	    opt_string(&when, j, "verifiedAt") < 0)
		return TG_EPARSE;
	if (!kind)
		return tg_error_set(TG_EPARSE, "verdict: no \"verdict\"");
	if (tg_verdict_kind_parse(&v->kind, kind) < 0)
		return TG_EPARSE;
	if (when && tg_parse_rfc3339(&t, when) < 0)
		return TG_EPARSE;
	tg_verdict_set_name(v, name);
	tg_verdict_set_digest(v, digest);
	tg_verdict_set_rule(v, rule, mode);
	v->time = t;
	return 0;
}

int tg_verdict_from_json(tg_verdict **out, const json_t *j)
{
	tg_verdict *v = NULL;
	tg_verdict_kind kind;
	const char *image = NULL;
	json_t *checks, *c;
	size_t i;
	int error;

	*out = NULL;
	if (!json_is_object(j) || opt_string(&image, j, "image") < 0 || !image)
		return tg_error_set(TG_EPARSE, "verdict: no \"image\"");
	if ((error = tg_verdict_new(&v, image)) < 0 ||
	    (error = verdict_fields_from_json(v, j)) < 0)
		goto out;
	kind = v->kind;
	checks = json_object_get(j, "checks");
	if (!json_is_array(checks)) {
		error = tg_error_set(TG_EPARSE, "verdict: no \"checks\" array");
		goto out;
	}
	json_array_foreach(checks, i, c) {
		if ((error = check_from_json(v, c)) < 0)
			goto out;
	}
	if ((error = platforms_from_json(v, json_object_get(j, "platforms"))) <
	    0)
		goto out;
	/* The stored verdict must agree with its checks: a cache entry
	 * edited to "allowed" over a failed check stays blocked. */
	tg_verdict_finish(v);
	if (kind > v->kind)
		v->kind = kind;
	*out = v;
	v = NULL;
out:
	tg_verdict_free(v);
	return error;
}

int tg_verdict_dup(tg_verdict **out, const tg_verdict *v)
{
	json_t *j = tg_verdict_to_json(v);
	tg_verdict *copy = NULL;
	int error;

	*out = NULL;
	/* Our own JSON form always reads back; if it ever did not, the
	 * caller gets the parse error rather than a crash. */
	error = tg_verdict_from_json(&copy, j);
	json_decref(j);
	if (error < 0)
		return tg_error_prefix(error, "copying the verdict of %s",
		                       v->image);
	copy->time = v->time;
	copy->kind = v->kind;
	*out = copy;
	return 0;
}

static int
format_check(tg_buf *b, const tg_verdict *v, const struct verdict_check *vc)
{
	const char *ref = v->name ? v->name : v->image;
	size_t k;
	int error;

	for (k = 0; k < tg_check_reason_count(vc->check); k++) {
		error = tg_buf_printf(
		        b, "  %s%s%s: %s: %s%s\n", ref, v->digest ? "@" : "",
		        v->digest ? v->digest : "", tg_check_name(vc->check),
		        tg_check_reason(vc->check, k),
		        vc->result == TG_CHECK_WAIVED ? " (waived)" : "");
		if (error < 0)
			return error;
	}
	return 0;
}

int tg_verdict_format_text(tg_buf *b, const tg_verdict *v)
{
	size_t i;
	int error;

	if ((error = tg_buf_printf(b, "%s: %s", v->image,
	                           tg_verdict_kind_name(v->kind))) < 0)
		return error;
	if (v->digest && (error = tg_buf_printf(b, " %s", v->digest)) < 0)
		return error;
	if (v->rule &&
	    (error = tg_buf_printf(b, " (rule %s, %s)", v->rule,
	                           v->mode ? v->mode : "enforce")) < 0)
		return error;
	if ((error = tg_buf_puts(b, "\n")) < 0)
		return error;
	for (i = 0; i < v->nchecks; i++)
		if ((error = format_check(b, v, &v->checks[i])) < 0)
			return error;
	return 0;
}
