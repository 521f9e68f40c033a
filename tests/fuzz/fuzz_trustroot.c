/* A Sigstore TrustedRoot document (a policy's trustedRoot, the TUF
 * target): tg_trustroot_parse; and the same bytes as PEM certificates of
 * a policy's fulcioCerts (tg_trustroot_add_ca_pem). A policy's
 * rekor.publicKey and ctlog.publicKey are keys: fuzz_keys. */
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
	tg_trustroot_free(root);
	return 0;
}
