/*
 * X.509 CMS commit signatures (gitsign, smimesign, gpgsm): the input is a
 * commit's gpgsig header, checked by tg_cmssig_verify over a fixed
 * payload against the roots of tests/data/cmssig/ca1.pem and the subject
 * ci@acme.example, as a policy's x509: signer does. The roots check of
 * policy load (tg_cmssig_check_roots) reads the same input too.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "tollgate/cmssig.h"

static tg_policy_x509 x509;
static char *payload;
static size_t payload_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	payload = fuzz_source_file(&payload_len, "tests/data/cmssig/payload");
	x509.roots_path = "ca1.pem";
	x509.roots =
	        fuzz_source_file(&x509.roots_len, "tests/data/cmssig/ca1.pem");
	x509.subject = "ci@acme.example";
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_sig_info info = { 0 };

	tg_discard(tg_cmssig_verify(&info, &x509, (const char *)data, size,
	                            payload, payload_len, 1800000000));
	tg_discard(tg_cmssig_check_roots((const char *)data, size, "roots"));
	return 0;
}
