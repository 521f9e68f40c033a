/*
 * SLSA provenance predicate checks, v0.2 and v1
 * (include/tollgate/provenance.h).
 */
#include <stdlib.h>
#include <string.h>

#include "tollgate/error.h"
#include "tollgate/provenance.h"
#include "tollgate/util.h"

static const char *str_or_null(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A string, or an object's "uri" (in-toto ResourceDescriptor). */
static const char *uri_of(const json_t *v)
{
	if (json_is_string(v))
		return json_string_value(v);
	return str_or_null(v, "uri");
}

/* v0.2: invocation.configSource.uri, else the first material. */
static const char *source_v02(const json_t *pred)
{
	const char *s = uri_of(json_object_get(
	        json_object_get(pred, "invocation"), "configSource"));

	if (s != NULL)
		return s;
	return uri_of(json_array_get(json_object_get(pred, "materials"), 0));
}

/* v1: the build type decides where the source is. GitHub Actions build
 * types put it in externalParameters.workflow.repository; others use
 * externalParameters.source or .repository; the first resolved
 * dependency is the checkout in every builder we know. */
static const char *source_v1(const json_t *pred)
{
	json_t *bd = json_object_get(pred, "buildDefinition");
	json_t *ext = json_object_get(bd, "externalParameters");
	const char *s;

	if ((s = str_or_null(json_object_get(ext, "workflow"), "repository")) !=
	    NULL)
		return s;
	if ((s = uri_of(json_object_get(ext, "source"))) != NULL)
		return s;
	if ((s = uri_of(json_object_get(ext, "repository"))) != NULL)
		return s;
	return uri_of(
	        json_array_get(json_object_get(bd, "resolvedDependencies"), 0));
}

/*
 * The comparable form of a source URI: without a "git+" scheme prefix,
 * without "@<ref>" after the path and without a ".git" suffix, so
 * "git+https://github.com/acme/api.git@refs/heads/main" is
 * "https://github.com/acme/api". Caller frees.
 */
static char *normalise_uri(const char *uri)
{
	const char *s = uri, *path, *at;
	size_t n;

	if (tg_str_has_prefix(s, "git+"))
		s += 4;
	path = strstr(s, "://");
	path = path ? strchr(path + 3, '/') : NULL;
	at = path ? strchr(path, '@') : NULL;
	n = at ? (size_t)(at - s) : strlen(s);
	if (n > 4 && memcmp(s + n - 4, ".git", 4) == 0)
		n -= 4;
	while (n > 0 && s[n - 1] == '/')
		n--;
	return tg_strndup(s, n);
}

static void
check_builder(tg_check *c, const tg_policy_provenance *s, const char *builder)
{
	if (s->builder_id == NULL && s->builder_id_regexp == NULL)
		return;
	if (builder == NULL) {
		tg_check_fail(c, "provenance has no builder id");
		return;
	}
	if (s->builder_id != NULL && strcmp(builder, s->builder_id) != 0)
		tg_check_fail(c, "builder \"%.300s\" is not \"%.300s\"",
		              builder, s->builder_id);
	if (s->builder_id_regexp != NULL &&
	    !tg_regexp_match(s->builder_id_regexp, builder))
		tg_check_fail(c,
		              "builder \"%.300s\" does not match "
		              "builderIdRegExp \"%.300s\"",
		              builder, tg_regexp_source(s->builder_id_regexp));
}

static void
check_source(tg_check *c, const tg_policy_provenance *s, const char *source)
{
	char *norm, *want;

	if (s->source_repository == NULL && s->source_repository_regexp == NULL)
		return;
	if (source == NULL) {
		tg_check_fail(c, "provenance names no source repository");
		return;
	}
	norm = normalise_uri(source);
	if (s->source_repository != NULL) {
		want = normalise_uri(s->source_repository);
		if (strcmp(source, s->source_repository) != 0 &&
		    strcmp(norm, want) != 0)
			tg_check_fail(c,
			              "source repository \"%.300s\" is not "
			              "\"%.300s\"",
			              source, s->source_repository);
		free(want);
	}
	if (s->source_repository_regexp != NULL &&
	    !tg_regexp_match(s->source_repository_regexp, source) &&
	    !tg_regexp_match(s->source_repository_regexp, norm))
		tg_check_fail(c,
		              "source repository \"%.300s\" does not match "
		              "sourceRepositoryRegExp \"%.300s\"",
		              source,
		              tg_regexp_source(s->source_repository_regexp));
	free(norm);
}

static void set_str(json_t *ev, const char *key, const char *value)
{
	if (value != NULL)
		json_object_set_new(ev, key, json_string(value));
}

int tg_provenance_check(tg_check **out,
                        tg_predicate_kind kind,
                        const json_t *predicate,
                        const tg_policy_provenance *settings)
{
	tg_check *c = NULL;
	json_t *ev;
	const char *builder, *source, *build_type;
	int error;

	if ((error = tg_check_new(&c, "provenance")) < 0)
		return error;
	ev = tg_check_evidence(c);
	*out = c;
	if (kind != TG_PREDICATE_SLSA_V02 && kind != TG_PREDICATE_SLSA_V1) {
		tg_check_fail(c, "predicate is not SLSA provenance v0.2 or v1");
		return 0;
	}
	if (!json_is_object(predicate)) {
		tg_check_fail(c, "provenance predicate is not a JSON object");
		return 0;
	}
	if (kind == TG_PREDICATE_SLSA_V02) {
		builder = str_or_null(json_object_get(predicate, "builder"),
		                      "id");
		build_type = str_or_null(predicate, "buildType");
		source = source_v02(predicate);
	} else {
		builder = str_or_null(
		        json_object_get(
		                json_object_get(predicate, "runDetails"),
		                "builder"),
		        "id");
		build_type = str_or_null(
		        json_object_get(predicate, "buildDefinition"),
		        "buildType");
		source = source_v1(predicate);
	}
	set_str(ev, "slsaVersion",
	        kind == TG_PREDICATE_SLSA_V02 ? "v0.2" : "v1");
	set_str(ev, "builderId", builder);
	set_str(ev, "sourceRepository", source);
	set_str(ev, "buildType", build_type);
	check_builder(c, settings, builder);
	check_source(c, settings, source);
	return 0;
}
