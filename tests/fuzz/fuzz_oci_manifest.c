/* OCI and Docker manifests and indexes as a registry serves them:
 * tg_oci_manifest_parse under each Content-Type the registry may send
 * (the first byte picks it), then what the verifier reads of a referrer. */
#include "fuzz.h"
#include "tollgate/oci_manifest.h"
#include "tollgate/referrer.h"

static const char *const types[] = { NULL,
	                             TG_MEDIA_OCI_MANIFEST,
	                             TG_MEDIA_OCI_INDEX,
	                             TG_MEDIA_DOCKER_MANIFEST,
	                             TG_MEDIA_DOCKER_LIST,
	                             "application/json" };

#define SUBJECT                                                                \
	"sha256:a8a89ddac563a6c7d1d02a9f0a0b4f9d6e0b7cc4ad881f3551ab633da219"  \
	"2a29"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_oci_manifest *m = NULL;
	const tg_descriptor *layer = NULL;
	size_t i;

	if (size < 1)
		return 0;
	if (tg_oci_manifest_parse(
	            &m, "registry.test/r@sha256:00",
	            types[data[0] % (sizeof(types) / sizeof(types[0]))],
	            (const char *)data + 1, size - 1) < 0)
		return 0;
	(void)tg_oci_manifest_annotation(m,
	                                 "dev.sigstore.bundle.predicateType");
	for (i = 0; i < m->layers_count; i++)
		(void)tg_descriptor_annotation(&m->layers[i],
		                               "dev.cosignproject.cosign/"
		                               "signature");
	for (i = 0; i < m->manifests_count; i++)
		(void)tg_referrer_kind_hint(tg_descriptor_annotation(
		        &m->manifests[i], "dev.sigstore.bundle.predicateType"));
	tg_discard(tg_referrer_bundle_layer(&layer, m, SUBJECT));
	tg_oci_manifest_free(m);
	return 0;
}
