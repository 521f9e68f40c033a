/*
 * Sigstore bundle verifications per second, all checks included (bundle
 * parsing, signature, Rekor SET, inclusion proof and checkpoint, RFC 3161
 * timestamp, certificate chain at signing time, SCT, identity), over real
 * bundles of the conformance suite and tests/data. Built and run by
 * tests/bench/sigstore.sh.
 *
 *   sigstore_bench FIXTURES_DIR [SECONDS [KIND]]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tollgate/bundle.h"
#include "tollgate/error.h"
#include "tollgate/trustroot.h"
#include "tollgate/util.h"

#define BEACON_ID                                                              \
	"https://github.com/sigstore-conformance/extremely-dangerous-public-"  \
	"oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@"   \
	"refs/heads/main"

/* A kind of bundle: the bundle, its trust root (NULL: the built-in
 * public-good root) and artifact, under FIXTURES (fx) or the source tree. */
typedef struct kind {
	const char *name;
	bool fx;
	const char *bundle;
	const char *root;
	const char *artifact;
	const char *identity;
} kind;

#define CONF "sigstore-conformance/bundle-verify/"
#define GHA "https://token.actions.githubusercontent.com"

static const kind kinds[] = {
	/* Rekor v1: SET + inclusion proof + checkpoint, chain, SCT. */
	{ "happy-path-v0.3", true, CONF "happy-path-v0.3/bundle.sigstore.json",
	  NULL, CONF "a.txt", BEACON_ID },
	/* Rekor v2: inclusion proof + Ed25519 checkpoint, RFC 3161. */
	{ "rekor2-happy-path", true,
	  CONF "rekor2-happy-path/bundle.sigstore.json",
	  CONF "rekor2-happy-path/trusted_root.json", CONF "a.txt", BEACON_ID },
	/* DSSE in-toto, Rekor v1 dsse entry. */
	{ "happy-path-intoto-in-dsse-v3", true,
	  CONF "happy-path-intoto-in-dsse-v3/bundle.sigstore.json", NULL,
	  CONF "a.txt", BEACON_ID },
	/* DSSE attestation, Rekor v2 dsse 0.0.2 entry, RFC 3161, no SCT. */
	{ "rekor2-dsse-attestation", false,
	  "tests/data/bundles/rekor2/good/attestation-ed25519.json",
	  "tests/data/bundles/rekor2/trusted_root.json",
	  "tests/data/bundles/rekor2/artifact.txt",
	  "https://github.com/acme/app/.github/workflows/release.yml@refs/"
	  "tags/v1.0.0" },
};

/* CPU seconds of this process: what `openssl speed` measures too (user
 * time), so that a busy machine lowers both sides alike. */
static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *at(const char *fixtures, const kind *k, const char *rel)
{
	return rel ? tg_aprintf("%s/%s", k->fx ? fixtures : ".", rel) : NULL;
}

static int bench(const char *fixtures, const kind *k, double seconds)
{
	tg_keyless_policy kp = { .subject = k->identity, .issuer = GHA };
	tg_sigstore_policy pol = { 0 };
	tg_sigstore_evidence *ev;
	tg_trustroot *root = NULL;
	tg_artifact art = { 0 };
	char *bpath = at(fixtures, k, k->bundle), *apath, *rpath, *bundle,
	     *data;
	size_t blen, alen;
	double start, el;
	long n = 0;

	apath = at(fixtures, k, k->artifact);
	rpath = at(fixtures, k, k->root);
	if (tg_file_read(&bundle, &blen, bpath, 1 << 24) < 0 ||
	    tg_file_read(&data, &alen, apath, 1 << 24) < 0 ||
	    (rpath ? tg_trustroot_load_file(&root, rpath)
	           : tg_trustroot_default(&root)) < 0) {
		fprintf(stderr, "%s\n", tg_error_last());
		return 1;
	}
	kp.require_sct = tg_trustroot_ctlog_count(root) > 0;
	pol.root = root;
	pol.keyless = &kp;
	art.data = (const unsigned char *)data;
	art.len = alen;
	start = cpu_now();
	do {
		if (tg_bundle_verify(&ev, k->name, bundle, blen, &art, &pol) <
		    0) {
			fprintf(stderr, "%s\n", tg_error_last());
			return 1;
		}
		tg_sigstore_evidence_free(ev);
		n++;
		el = cpu_now() - start;
	} while (el < seconds);
	printf("%-32s %8.0f bundle verifications/s (%ld in %.2fs of CPU)\n",
	       k->name, n / el, n, el);
	tg_trustroot_free(root);
	free(bundle);
	free(data);
	free(bpath);
	free(apath);
	free(rpath);
	return 0;
}

/* sigstore_bench FIXTURES_DIR [SECONDS [KIND]]: every kind, or the one
 * whose name starts with KIND; run from the source tree. */
int main(int argc, char **argv)
{
	double secs = argc > 2 ? strtod(argv[2], NULL) : 3.0;
	const char *only = argc > 3 ? argv[3] : NULL;
	size_t i;

	if (argc < 2) {
		fprintf(stderr, "usage: sigstore_bench FIXTURES_DIR [SECONDS "
		                "[KIND]]\n");
		return 2;
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (only && strncmp(kinds[i].name, only, strlen(only)))
			continue;
		if (bench(argv[1], &kinds[i], secs))
			return 1;
	}
	return 0;
}
