/*
 * OpenPGP commit signatures (signed commits): the first byte picks the
 * input. 0: an armoured key file (tg_pgp_keyring_parse, as a policy's
 * openpgp: signer is loaded); anything else: the rest is an armoured
 * signature checked by tg_pgpsig_verify over a fixed payload against the
 * GnuPG keys of tests/data/openpgp/keys.asc.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "tollgate/openpgp.h"

static tg_pgp_keyring *keys;
static char *payload;
static size_t payload_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len;
	char *s;
	int error;

	(void)argc;
	(void)argv;
	payload = fuzz_source_file(&payload_len, "tests/data/openpgp/payload");
	s = fuzz_source_file(&len, "tests/data/openpgp/keys.asc");
	error = tg_pgp_keyring_parse(&keys, "keys.asc", s, len);
	free(s);
	return error < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *rest = (const char *)data + 1;
	tg_pgp_keyring *k = NULL;
	tg_sig_info info = { 0 };

	if (size == 0)
		return 0;
	if (data[0] == 0 &&
	    tg_pgp_keyring_parse(&k, "keys", rest, size - 1) == 0)
		(void)tg_pgp_keyring_count(k);
	else if (data[0] > 0)
		tg_discard(tg_pgpsig_verify(&info, keys, rest, size - 1,
		                            payload, payload_len, 1767229200));
	tg_pgp_keyring_free(k);
	return 0;
}
