/*
 * Sigstore bundles (v0.1, v0.2, v0.3, message signature and DSSE) as
 * tg_bundle_verify takes them from a referrer or a file. The low seven
 * bits of the first byte pick the policy (modulo 5): keyless under the
 * built-in public-good root; keyless under the conformance suite's Rekor
 * v2 root; a public key under the public-good root; keyless or a key under
 * the Rekor v2 root of tests/data/bundles/rekor2 (its own logs, CA and
 * timestamp authority). The high bit gives a keyless artifact as bytes
 * instead of a digest. The clock is fixed, so a finding does not depend
 * on the day it is replayed.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tollgate/bundle.h"
#include "tollgate/keys.h"
#include "tollgate/trustroot.h"
#include "tollgate/util.h"

/* 2026-12-01T00:00:00Z: after every signing time of the seeds. */
#define FUZZ_NOW 1796083200

static tg_trustroot *good_root, *v2_root, *local_root;
static tg_key *key, *local_key;
/* The conformance suite's artifact, signed by its bundles; the artifact
 * and image of tests/data/bundles/rekor2. */
static char *a_txt, *local_txt;
static size_t a_len, local_len;
static char local_image[TG_DIGEST_STR_LEN + 1];

static const tg_keyless_policy beacon = {
	.subject_regexp = "^https://github\\.com/sigstore-conformance/.*",
	.issuer = "https://token.actions.githubusercontent.com",
	.require_sct = true,
};

static const tg_keyless_policy acme = {
	.subject = "https://github.com/acme/app/.github/workflows/"
	           "release.yml@refs/tags/v1.0.0",
	.issuer = "https://token.actions.githubusercontent.com",
};

static int load_root(tg_trustroot **out, const char *rel)
{
	size_t len;
	char *s = fuzz_source_file(&len, rel);
	int error = tg_trustroot_parse(out, rel, s, len);

	free(s);
	return error;
}

static int load_key(tg_key **out, const char *rel)
{
	size_t len;
	char *s = fuzz_source_file(&len, rel);
	int error = tg_key_from_pem(out, rel, s, len);

	free(s);
	return error;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len;
	char *s;

	(void)argc;
	(void)argv;
	tg_clock_set(FUZZ_NOW);
	a_txt = fuzz_source_file(&a_len, "tests/fuzz/material/a.txt");
	local_txt = fuzz_source_file(&local_len,
	                             "tests/data/bundles/rekor2/artifact.txt");
	s = fuzz_source_file(&len, "tests/data/bundles/rekor2/image-digest");
	if (len < TG_DIGEST_STR_LEN) {
		free(s);
		return 1;
	}
	memcpy(local_image, s, TG_DIGEST_STR_LEN);
	free(s);
	if (tg_trustroot_default(&good_root) < 0 ||
	    load_root(&v2_root,
	              "tests/fuzz/material/rekor2-trusted-root.json") < 0 ||
	    load_root(&local_root,
	              "tests/data/bundles/rekor2/trusted_root.json") < 0 ||
	    load_key(&key, "tests/fuzz/material/release.pub") < 0 ||
	    load_key(&local_key, "tests/data/bundles/rekor2/keys/release.pub") <
	            0)
		return 1;
	return 0;
}

/* The policy and artifact that selector sel picks. */
static void
pick(tg_sigstore_policy *pol, tg_artifact *art, char *digest, uint8_t sel)
{
	const char *txt = a_txt;
	size_t len = a_len;

	switch ((sel & 0x7f) % 5) {
	case 0:
		pol->root = good_root;
		pol->keyless = &beacon;
		break;
	case 1:
		pol->root = v2_root;
		pol->keyless = &beacon;
		break;
	case 2:
		pol->root = good_root;
		pol->key = key;
		pol->tlog_threshold = TG_TLOG_NONE;
		pol->allow_current_time = true;
		break;
	case 3:
		pol->root = local_root;
		pol->keyless = &acme;
		txt = local_txt;
		len = local_len;
		break;
	default:
		pol->root = local_root;
		pol->key = local_key;
		art->digest = local_image;
		return;
	}
	if (sel & 0x80) {
		art->data = (const unsigned char *)txt;
		art->len = len;
	} else {
		tg_sha256_digest_str(digest, txt, len);
		art->digest = digest;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_sigstore_policy pol = { 0 };
	tg_sigstore_evidence *ev = NULL;
	tg_artifact art = { 0 };
	char digest[TG_DIGEST_STR_LEN + 1];

	if (size < 1)
		return 0;
	pick(&pol, &art, digest, data[0]);
	if (tg_bundle_verify(&ev, "bundle.json", (const char *)data + 1,
	                     size - 1, &art, &pol) == 0)
		tg_sigstore_evidence_free(ev);
	return 0;
}
