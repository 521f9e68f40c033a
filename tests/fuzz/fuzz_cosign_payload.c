/* A cosign simple-signing payload: tg_cosign_payload_parse, then the
 * identity check made on it under each signedIdentity mode, with a
 * remapIdentity prefix. */
#include "fuzz.h"
#include "tollgate/cosign.h"
#include "tollgate/imageref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_cosign_payload *p = NULL;
	tg_imageref *image = NULL;
	tg_identity_rule rule = { 0 };
	int mode;

	if (tg_cosign_payload_parse(&p, data, size) < 0)
		return 0;
	(void)tg_cosign_payload_digest(p);
	if (tg_imageref_parse(&image, "mirror.example/acme/api:1.0") < 0)
		goto out;
	rule.remap_prefix = "mirror.example/acme";
	rule.remap_signed_prefix = "ghcr.io/acme";
	for (mode = 0; mode <= TG_IDENTITY_EXACT; mode++) {
		rule.mode = (tg_policy_identity)mode;
		tg_discard(tg_cosign_check_identity(p, image, &rule));
	}
out:
	tg_imageref_free(image);
	tg_cosign_payload_free(p);
	return 0;
}
