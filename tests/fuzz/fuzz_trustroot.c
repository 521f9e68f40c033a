/* A Sigstore TrustedRoot document: tg_trustroot_parse; and the same bytes
 * as PEM for the legacy trust material (fulcioCerts, rekor publicKey). */
#include "fuzz.h"
#include "tollgate/trustroot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_trustroot *root = NULL;

	if (tg_trustroot_parse(&root, "trusted_root.json", (const char *)data,
	                       size) == 0) {
		(void)tg_trustroot_tlog_count(root);
		(void)tg_trustroot_tsa_count(root);
		tg_trustroot_free(root);
	}
	if (tg_trustroot_new(&root) < 0)
		return 0;
	tg_discard(tg_trustroot_add_ca_pem(root, "fulcio.pem",
	                                   (const char *)data, size));
	tg_discard(tg_trustroot_add_tlog_pem(root, "rekor.pub",
	                                     (const char *)data, size));
	tg_trustroot_free(root);
	return 0;
}
