/*
 * RFC 3161 timestamps (a bundle's signedTimestamp: a DER TimeStampResp or
 * a bare token) as tg_tsa_verify checks them over a signature, against the
 * timestamp authorities of the Rekor v2 conformance trust root.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "sigstore_int.h"
#include "tollgate/trustroot.h"

static tg_trustroot *root;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len;
	char *s;
	int error;

	(void)argc;
	(void)argv;
	s = fuzz_source_file(&len,
	                     "tests/fuzz/material/rekor2-trusted-root.json");
	error = tg_trustroot_parse(&root, "rekor2-trusted-root.json", s, len);
	free(s);
	return error < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char sig[] = "signature bytes";
	int64_t t;

	tg_discard(tg_tsa_verify(&t, data, size, sig, sizeof(sig) - 1, root));
	return 0;
}
