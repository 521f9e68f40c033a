/*
 * Sigstore bundles (v0.1, v0.2, v0.3, message signature and DSSE) as
 * tg_bundle_verify takes them from a referrer or a file. The first byte
 * picks the policy: keyless under the built-in public-good root, keyless
 * under the Rekor v2 root with timestamps, or a public key; its high bit
 * gives the artifact as bytes instead of a digest.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "tollgate/bundle.h"
#include "tollgate/keys.h"
#include "tollgate/trustroot.h"
#include "tollgate/util.h"

static tg_trustroot *good_root, *v2_root;
static tg_key *key;
/* The conformance suite's artifact, signed by its bundles. */
static char *a_txt;
static size_t a_len;

static const tg_keyless_policy beacon = {
	.subject_regexp = "^https://github\\.com/sigstore-conformance/.*",
	.issuer = "https://token.actions.githubusercontent.com",
	.require_sct = true,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len;
	char *s;
	int error;

	(void)argc;
	(void)argv;
	a_txt = fuzz_source_file(&a_len, "tests/fuzz/material/a.txt");
	if (tg_trustroot_default(&good_root) < 0)
		return 1;
	s = fuzz_source_file(&len,
	                     "tests/fuzz/material/rekor2-trusted-root.json");
	error = tg_trustroot_parse(&v2_root, "rekor2-trusted-root.json", s,
	                           len);
	free(s);
	if (error < 0)
		return 1;
	s = fuzz_source_file(&len, "tests/fuzz/material/release.pub");
	error = tg_key_from_pem(&key, "release.pub", s, len);
	free(s);
	return error < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_sigstore_policy pol = { 0 };
	tg_sigstore_evidence *ev = NULL;
	tg_artifact art = { 0 };
	char digest[TG_DIGEST_STR_LEN + 1];

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		pol.root = good_root;
		pol.keyless = &beacon;
		break;
	case 1:
		pol.root = v2_root;
		pol.keyless = &beacon;
		break;
	default:
		pol.root = good_root;
		pol.key = key;
		pol.tlog_threshold = TG_TLOG_NONE;
		pol.allow_current_time = true;
	}
	if (data[0] & 0x80) {
		art.data = (const unsigned char *)a_txt;
		art.len = a_len;
	} else {
		tg_sha256_digest_str(digest, a_txt, a_len);
		art.digest = digest;
	}
	if (tg_bundle_verify(&ev, "bundle.json", (const char *)data + 1,
	                     size - 1, &art, &pol) == 0)
		tg_sigstore_evidence_free(ev);
	return 0;
}
