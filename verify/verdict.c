/* The verdict data model: see include/tollgate/verdict.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate/error.h"
#include "tollgate/util.h"
#include "tollgate/verdict.h"

/* Reasons kept per check: a hostile image with TG_MAX_SIGNATURES bad
 * layers gives one reason per layer plus a summary. */
#define CHECK_MAX_REASONS 128

struct tg_check {
	char *name;
	tg_check_result result;
	char **reasons;
	size_t nreasons;
	json_t *evidence;
};

struct tg_platform {
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
	tg_check **checks;
	size_t nchecks;
	struct tg_platform *platforms;
	size_t nplatforms;
};

static void check_free(tg_check *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nreasons; i++)
		free(c->reasons[i]);
	free(c->reasons);
	json_decref(c->evidence);
	free(c->name);
	free(c);
}

tg_verdict *tg_verdict_new(const char *image)
{
	tg_verdict *v = tg_calloc(1, sizeof(*v));

	v->image = tg_strdup(image ? image : "");
	v->kind = TG_VERDICT_BLOCKED;
	return v;
}

void tg_verdict_free(tg_verdict *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->nchecks; i++)
		check_free(v->checks[i]);
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
	free(*field);
	*field = s ? tg_strdup(s) : NULL;
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

void tg_verdict_add_platform(tg_verdict *v, const char *digest,
			     const char *platform)
{
	struct tg_platform *p;

	v->platforms = tg_realloc(v->platforms,
				  (v->nplatforms + 1) * sizeof(*v->platforms));
	p = &v->platforms[v->nplatforms++];
	p->digest = tg_strdup(digest ? digest : "");
	p->platform = tg_strdup(platform ? platform : "");
}

tg_check *tg_verdict_add_check(tg_verdict *v, const char *name)
{
	tg_check *c;

	c = tg_calloc(1, sizeof(*c));
	c->name = tg_strdup(name);
	c->result = TG_CHECK_FAIL;
	c->evidence = json_object();
	v->checks = tg_realloc(v->checks, (v->nchecks + 1) * sizeof(*v->checks));
	v->checks[v->nchecks++] = c;
	return c;
}

tg_check *tg_verdict_find_check(const tg_verdict *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->nchecks; i++)
		if (!strcmp(v->checks[i]->name, name))
			return v->checks[i];
	return NULL;
}

void tg_verdict_finish(tg_verdict *v)
{
	bool fail = false, warn = false;
	size_t i;

	for (i = 0; i < v->nchecks; i++) {
		if (v->checks[i]->result == TG_CHECK_FAIL)
			fail = true;
		else if (v->checks[i]->result == TG_CHECK_WARN)
			warn = true;
	}
	if (v->nchecks == 0)
		v->kind = TG_VERDICT_BLOCKED;
	else if (fail)
		v->kind = v->mode && !strcmp(v->mode, "warn")
				  ? TG_VERDICT_WARNED
				  : TG_VERDICT_BLOCKED;
	else if (warn)
		v->kind = TG_VERDICT_WARNED;
	else
		v->kind = TG_VERDICT_ALLOWED;
}

void tg_verdict_block(tg_verdict *v)
{
	v->kind = TG_VERDICT_BLOCKED;
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

tg_check *tg_verdict_check(const tg_verdict *v, size_t i)
{
	return i < v->nchecks ? v->checks[i] : NULL;
}

size_t tg_verdict_platform_count(const tg_verdict *v)
{
	return v->nplatforms;
}

void tg_verdict_platform(const tg_verdict *v, size_t i, const char **digest,
			 const char **platform)
{
	if (digest)
		*digest = i < v->nplatforms ? v->platforms[i].digest : NULL;
	if (platform)
		*platform = i < v->nplatforms ? v->platforms[i].platform : NULL;
}

void tg_check_set_result(tg_check *c, tg_check_result r)
{
	c->result = r;
}

static void check_push_reason(tg_check *c, char *reason)
{
	if (c->nreasons == CHECK_MAX_REASONS) {
		free(reason);
		return;
	}
	c->reasons = tg_realloc(c->reasons,
				(c->nreasons + 1) * sizeof(*c->reasons));
	c->reasons[c->nreasons++] = reason;
}

void tg_check_add_reason(tg_check *c, const char *fmt, ...)
{
	va_list ap;
	tg_buf b;
	char *s;

	tg_buf_init(&b, TG_ERROR_MAX);
	va_start(ap, fmt);
	if (tg_buf_vprintf(&b, fmt, ap) < 0)
		tg_buf_puts(&b, "...");
	va_end(ap);
	s = tg_buf_detach(&b, NULL);
	check_push_reason(c, s ? s : tg_strdup(""));
}

void tg_check_clear_reasons(tg_check *c)
{
	size_t i;

	for (i = 0; i < c->nreasons; i++)
		free(c->reasons[i]);
	free(c->reasons);
	c->reasons = NULL;
	c->nreasons = 0;
}

const char *tg_check_name(const tg_check *c)
{
	return c->name;
}

tg_check_result tg_check_get(const tg_check *c)
{
	return c->result;
}

size_t tg_check_reason_count(const tg_check *c)
{
	return c->nreasons;
}

const char *tg_check_reason(const tg_check *c, size_t i)
{
	return i < c->nreasons ? c->reasons[i] : NULL;
}

json_t *tg_check_evidence(const tg_check *c)
{
	return c->evidence;
}

static const char *const kind_names[] = {"allowed", "warned", "blocked"};
static const char *const result_names[] = {"pass", "fail", "warn", "waived",
					   "skipped"};

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

static json_t *check_to_json(const tg_check *c)
{
	json_t *reasons = json_array();
	size_t i;

	for (i = 0; i < c->nreasons; i++)
		json_array_append_new(reasons, json_string(c->reasons[i]));
	return json_pack("{s:s, s:s, s:o, s:O}", "name", c->name, "result",
			 tg_check_result_name(c->result), "reasons", reasons,
			 "evidence", c->evidence);
}

static void set_opt_str(json_t *o, const char *key, const char *value)
{
	json_object_set_new(o, key, value ? json_string(value) : json_null());
}

json_t *tg_verdict_to_json(const tg_verdict *v)
{
	json_t *o = json_object(), *checks = json_array(), *plat;
	char when[21];
	size_t i;

	json_object_set_new(o, "image", json_string(v->image));
	set_opt_str(o, "name", v->name);
	set_opt_str(o, "digest", v->digest);
	json_object_set_new(o, "verdict",
			    json_string(tg_verdict_kind_name(v->kind)));
	set_opt_str(o, "rule", v->rule);
	set_opt_str(o, "mode", v->mode);
	for (i = 0; i < v->nchecks; i++)
		json_array_append_new(checks, check_to_json(v->checks[i]));
	json_object_set_new(o, "checks", checks);
	if (v->nplatforms) {
		plat = json_array();
		for (i = 0; i < v->nplatforms; i++)
			json_array_append_new(
				plat,
				json_pack("{s:s, s:s}", "digest",
					  v->platforms[i].digest, "platform",
					  v->platforms[i].platform));
		json_object_set_new(o, "platforms", plat);
	}
	if (v->time) {
		tg_format_rfc3339(when, v->time);
		json_object_set_new(o, "verifiedAt", json_string(when));
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
		return tg_error_set(TG_EPARSE, "verdict: \"%s\" is not a string",
				    key);
	*out = json_string_value(m);
	return 0;
}

static int check_from_json(tg_verdict *v, const json_t *j)
{
	const char *name = NULL, *result = NULL;
	json_t *reasons, *evidence, *r;
	tg_check_result res;
	tg_check *c;
	size_t i;

	if (!json_is_object(j) || opt_string(&name, j, "name") < 0 ||
	    opt_string(&result, j, "result") < 0 || !name || !result)
		return tg_error_set(TG_EPARSE,
				    "verdict: check without name or result");
	if (tg_check_result_parse(&res, result) < 0)
		return tg_error_prefix(TG_EPARSE, "verdict: check %s", name);
	reasons = json_object_get(j, "reasons");
	evidence = json_object_get(j, "evidence");
	if ((reasons && !json_is_array(reasons)) ||
	    (evidence && !json_is_object(evidence)))
		return tg_error_set(TG_EPARSE, "verdict: check %s malformed",
				    name);
	c = tg_verdict_add_check(v, name);
	c->result = res;
	json_array_foreach(reasons, i, r)
	{
		if (!json_is_string(r))
			return tg_error_set(TG_EPARSE,
					    "verdict: check %s: reason is not "
					    "a string",
					    name);
		check_push_reason(c, tg_strdup(json_string_value(r)));
	}
	if (evidence)
		json_object_update(c->evidence, evidence);
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
	json_array_foreach(arr, i, e)
	{
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
	const char *image = NULL;
	json_t *checks, *c;
	size_t i;
	int error = TG_EPARSE;

	*out = NULL;
	if (!json_is_object(j) || opt_string(&image, j, "image") < 0 ||
	    !image) {
		error = tg_error_set(TG_EPARSE, "verdict: no \"image\"");
		goto out;
	}
	v = tg_verdict_new(image);
	if ((error = verdict_fields_from_json(v, j)) < 0)
		goto out;
	checks = json_object_get(j, "checks");
	if (!json_is_array(checks)) {
		error = tg_error_set(TG_EPARSE, "verdict: no \"checks\" array");
		goto out;
	}
	json_array_foreach(checks, i, c)
	{
		if ((error = check_from_json(v, c)) < 0)
			goto out;
	}
	if ((error = platforms_from_json(v, json_object_get(j, "platforms"))) <
	    0)
		goto out;
	*out = v;
	v = NULL;
	error = 0;
out:
	tg_verdict_free(v);
	return error;
}

tg_verdict *tg_verdict_dup(const tg_verdict *v)
{
	json_t *j = tg_verdict_to_json(v);
	tg_verdict *copy = NULL;

	if (tg_verdict_from_json(&copy, j) < 0)
		abort(); /* our own JSON form always reads back */
	copy->time = v->time;
	copy->kind = v->kind;
	json_decref(j);
	return copy;
}

int tg_verdict_format_text(tg_buf *b, const tg_verdict *v)
{
	const char *ref = v->name ? v->name : v->image;
	size_t i, k;
	int error;

	if ((error = tg_buf_printf(b, "%s: %s", v->image,
				   tg_verdict_kind_name(v->kind))) < 0)
		return error;
	if (v->digest && (error = tg_buf_printf(b, " (%s)", v->digest)) < 0)
		return error;
	if (v->rule && (error = tg_buf_printf(b, " by rule %s (%s)", v->rule,
					      v->mode ? v->mode : "enforce")) < 0)
		return error;
	if ((error = tg_buf_puts(b, "\n")) < 0)
		return error;
	for (i = 0; i < v->nchecks; i++) {
		const tg_check *c = v->checks[i];

		for (k = 0; k < c->nreasons; k++) {
			error = tg_buf_printf(b, "  %s%s%s: %s: %s\n", ref,
					      v->digest ? "@" : "",
					      v->digest ? v->digest : "",
					      c->name, c->reasons[k]);
			if (error < 0)
				return error;
		}
	}
	return 0;
}
