/*
 * Policy file: load and validate (include/tollgate/policy.h). The loader
 * lands with verify/yaml.c, which it needs; until then loading fails
 * closed. Lookups are in policy_match.c.
 */
#include <stdlib.h>

#include "policy_int.h"
#include "tollgate/error.h"

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
