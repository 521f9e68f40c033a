/*
 * Policy file: load, validate, look up (include/tollgate/policy.h).
 * API contract first; the loader follows.
 */
#include <string.h>

#include "tollgate/error.h"
#include "tollgate/policy.h"

static const char *const severity_names[] = {"none", "low", "medium", "high",
					     "critical"};

const char *tg_severity_name(tg_severity s)
{
	if ((unsigned)s > TG_SEVERITY_CRITICAL)
		return "unknown";
	return severity_names[s];
}

int tg_severity_parse(tg_severity *out, const char *s)
{
	unsigned i;

	for (i = 0; i <= TG_SEVERITY_CRITICAL; i++) {
		if (strcmp(s, severity_names[i]) == 0) {
			*out = (tg_severity)i;
			return 0;
		}
	}
	return tg_error_set(TG_EINVALID,
			    "unknown severity \"%s\" (none, low, medium, "
			    "high, critical)",
			    s);
}

bool tg_regexp_match(const tg_regexp *re, const char *s)
{
	(void)re;
	(void)s;
	return false;
}

const char *tg_regexp_source(const tg_regexp *re)
{
	(void)re;
	return "";
}

const char *tg_policy_waive_name(unsigned bit)
{
	(void)bit;
	return "";
}

int tg_policy_load(tg_policy **out, const char *path)
{
	*out = NULL;
	return tg_error_set(TG_ERROR, "%s: policy loader not implemented yet",
			    path);
}

int tg_policy_parse(tg_policy **out, const char *name, const char *data,
		    size_t len, const char *base_dir)
{
	(void)data;
	(void)len;
	(void)base_dir;
	*out = NULL;
	return tg_error_set(TG_ERROR, "%s: policy loader not implemented yet",
			    name);
}

void tg_policy_free(tg_policy *policy)
{
	(void)policy;
}

const char *tg_policy_name(const tg_policy *policy)
{
	(void)policy;
	return "";
}

const char *tg_policy_hash(const tg_policy *policy)
{
	(void)policy;
	return "";
}

bool tg_policy_registry_allowed(const tg_policy *policy, const char *name)
{
	(void)policy;
	(void)name;
	return false;
}

size_t tg_policy_rule_count(const tg_policy *policy)
{
	(void)policy;
	return 0;
}

const tg_policy_rule *tg_policy_rule_at(const tg_policy *policy, size_t i)
{
	(void)policy;
	(void)i;
	return NULL;
}

bool tg_policy_rule_matches(const tg_policy_rule *rule, const char *name,
			    const char *digest)
{
	(void)rule;
	(void)name;
	(void)digest;
	return false;
}

int tg_policy_select(const tg_policy_rule **out, const tg_policy *policy,
		     const char *name, const char *digest)
{
	(void)policy;
	(void)digest;
	*out = NULL;
	return tg_error_set(TG_EINVALID, "%s: no policy rule matches", name);
}

size_t tg_policy_exception_count(const tg_policy *policy)
{
	(void)policy;
	return 0;
}

const tg_policy_exception *tg_policy_exception_at(const tg_policy *policy,
						  size_t i)
{
	(void)policy;
	(void)i;
	return NULL;
}

bool tg_policy_exception_matches(const tg_policy_exception *exc,
				 const char *name, const char *digest)
{
	(void)exc;
	(void)name;
	(void)digest;
	return false;
}

bool tg_policy_exception_active(const tg_policy_exception *exc, int64_t now)
{
	return now <= exc->expires_at;
}

size_t tg_policy_exceptions_for(const tg_policy_exception **out, size_t max,
				const tg_policy *policy, const char *name,
				const char *digest)
{
	(void)out;
	(void)max;
	(void)policy;
	(void)name;
	(void)digest;
	return 0;
}

unsigned tg_policy_waivers(const tg_policy *policy, const char *name,
			   const char *digest, int64_t now)
{
	(void)policy;
	(void)name;
	(void)digest;
	(void)now;
	return 0;
}

int tg_policy_keyless_match(const tg_policy_keyless *keyless,
			    const char *issuer, const char *subject)
{
	(void)keyless;
	(void)issuer;
	(void)subject;
	return tg_error_set(TG_EUNTRUSTED, "keyless matching not implemented");
}
