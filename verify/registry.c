/*
 * OCI distribution client (see include/tollgate/registry.h).
 * Placeholder until the implementation lands: every call fails cleanly.
 */
#include "tollgate/registry.h"

#include <stdlib.h>

#include "tollgate/error.h"

#define NOT_YET tg_error_set(TG_ERROR, "registry: not implemented yet")

int tg_registry_new(tg_registry **out, const tg_registry_options *opts)
{
	(void)opts;
	*out = NULL;
	return NOT_YET;
}

void tg_registry_free(tg_registry *reg)
{
	(void)reg;
}

tg_http *tg_registry_http(tg_registry *reg)
{
	(void)reg;
	return NULL;
}

int tg_registry_ping(tg_registry *reg, const char *registry)
{
	(void)reg;
	(void)registry;
	return NOT_YET;
}

int tg_registry_get_manifest(tg_manifest **out, tg_registry *reg,
			     const char *registry, const char *repository,
			     const char *reference)
{
	(void)reg;
	(void)registry;
	(void)repository;
	(void)reference;
	*out = NULL;
	return NOT_YET;
}

int tg_registry_get_manifest_async(tg_registry *reg, const char *registry,
				   const char *repository,
				   const char *reference,
				   tg_registry_manifest_fn done, void *ctx)
{
	(void)reg;
	(void)registry;
	(void)repository;
	(void)reference;
	(void)done;
	(void)ctx;
	return NOT_YET;
}

int tg_registry_get_blob(tg_blob **out, tg_registry *reg,
			 const char *registry, const char *repository,
			 const char *digest, size_t max_bytes)
{
	(void)reg;
	(void)registry;
	(void)repository;
	(void)digest;
	(void)max_bytes;
	*out = NULL;
	return NOT_YET;
}

int tg_registry_get_blob_async(tg_registry *reg, const char *registry,
			       const char *repository, const char *digest,
			       size_t max_bytes, tg_registry_blob_fn done,
			       void *ctx)
{
	(void)reg;
	(void)registry;
	(void)repository;
	(void)digest;
	(void)max_bytes;
	(void)done;
	(void)ctx;
	return NOT_YET;
}

int tg_registry_get_referrers(tg_referrers **out, tg_registry *reg,
			      const char *registry, const char *repository,
			      const char *digest, const char *artifact_type)
{
	(void)reg;
	(void)registry;
	(void)repository;
	(void)digest;
	(void)artifact_type;
	*out = NULL;
	return NOT_YET;
}

int tg_registry_get_referrers_async(tg_registry *reg, const char *registry,
				    const char *repository,
				    const char *digest,
				    const char *artifact_type,
				    tg_registry_referrers_fn done, void *ctx)
{
	(void)reg;
	(void)registry;
	(void)repository;
	(void)digest;
	(void)artifact_type;
	(void)done;
	(void)ctx;
	return NOT_YET;
}

int tg_registry_run(tg_registry *reg)
{
	(void)reg;
	return NOT_YET;
}

int tg_manifest_parse(tg_manifest **out, const char *name,
		      const char *content_type, const char *data, size_t len)
{
	(void)name;
	(void)content_type;
	(void)data;
	(void)len;
	*out = NULL;
	return NOT_YET;
}

void tg_manifest_free(tg_manifest *m)
{
	(void)m;
}

const char *tg_descriptor_annotation(const tg_descriptor *d, const char *key)
{
	(void)d;
	(void)key;
	return NULL;
}

const char *tg_manifest_annotation(const tg_manifest *m, const char *key)
{
	(void)m;
	(void)key;
	return NULL;
}

void tg_blob_free(tg_blob *b)
{
	(void)b;
}

void tg_referrers_free(tg_referrers *r)
{
	(void)r;
}

char *tg_registry_digest_tag(const char *digest, const char *suffix)
{
	(void)digest;
	(void)suffix;
	return NULL;
}

const char *tg_registry_api_host(const char *registry)
{
	return registry;
}
