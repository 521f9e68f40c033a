/*
 * Legacy cosign signature layers (.sig tags): tg_cosign_legacy_verify on
 * the layer's payload and its annotations. The input holds the parts
 * separated by NUL bytes: payload, base64 signature, certificate PEM,
 * chain PEM, Rekor bundle (SET) JSON; a part left out is absent. The
 * policy is keyless under the Fulcio v1 CA and the public-good logs.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tollgate/bundle.h"
#include "tollgate/trustroot.h"

static tg_trustroot *root;

static const tg_keyless_policy identity = {
	.subject = "mitr@redhat.com",
	.issuer = "https://github.com/login/oauth",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len;
	char *pem;
	int error;

	(void)argc;
	(void)argv;
	if (tg_trustroot_default(&root) < 0)
		return 1;
	pem = fuzz_source_file(&len, "tests/fuzz/material/fulcio_v1.crt.pem");
	error = tg_trustroot_add_ca_pem(root, "fulcio_v1.crt.pem", pem, len);
	free(pem);
	return error < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_sigstore_policy pol = { .root = root, .keyless = &identity };
	tg_sigstore_evidence *ev = NULL;
	tg_cosign_layer layer = { 0 };
	char *parts[5] = { NULL };
	const uint8_t *rest = data;
	size_t len, rest_len = size, i;

	for (i = 0; i < 5 && (i == 0 || rest_len); i++) {
		const uint8_t *next;
		size_t next_len;

		fuzz_split(&len, &next, &next_len, rest, rest_len, 0);
		parts[i] = fuzz_cstr(rest, len);
		rest = next;
		rest_len = next_len;
	}
	layer.payload = (const unsigned char *)parts[0];
	layer.payload_len = parts[0] ? strlen(parts[0]) : 0;
	layer.signature_b64 = parts[1] ? parts[1] : "";
	layer.certificate_pem = parts[2];
	layer.chain_pem = parts[3];
	layer.bundle_json = parts[4];
	if (tg_cosign_legacy_verify(&ev, "sig", &layer, &pol) == 0)
		tg_sigstore_evidence_free(ev);
	for (i = 0; i < 5; i++)
		free(parts[i]);
	return 0;
}
