/*
 * Sigstore bundle verifications per second, all checks included (bundle
 * parsing, signature, Rekor SET, inclusion proof and checkpoint, RFC 3161
 * timestamp, certificate chain at signing time, SCT, identity), over real
 * bundles of the conformance suite. Built and run by tests/bench/sigstore.sh.
 *
 *   sigstore_bench FIXTURES_DIR [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate/bundle.h"
#include "tollgate/error.h"
#include "tollgate/trustroot.h"
#include "tollgate/util.h"

#define BEACON_ID                                                              \
	"https://github.com/sigstore-conformance/extremely-dangerous-public-"  \
	"oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@"   \
	"refs/heads/main"

static int bench(const char *fixtures,
                 const char *name,
                 const char *root_rel,
                 double seconds)
{
	tg_keyless_policy kp = { .subject = BEACON_ID,
		                 .issuer = "https://token.actions."
		                           "githubusercontent.com",
		                 .require_sct = true };
	tg_sigstore_policy pol = { 0 };
	tg_sigstore_evidence *ev;
	tg_trustroot *root = NULL;
	tg_artifact art = { 0 };
	char *bpath, *apath, *rpath = NULL, *bundle, *data;
	size_t blen, alen;
	double start, el;
	long n = 0;

	bpath = tg_aprintf("%s/sigstore-conformance/bundle-verify/%s/"
	                   "bundle.sigstore.json",
	                   fixtures, name);
	apath = tg_aprintf("%s/sigstore-conformance/bundle-verify/a.txt",
	                   fixtures);
	if (root_rel)
		rpath = tg_aprintf(
		        "%s/sigstore-conformance/bundle-verify/%s/%s", fixtures,
		        name, root_rel);
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
	start = tg_monotonic();
	do {
		if (tg_bundle_verify(&ev, name, bundle, blen, &art, &pol) < 0) {
			fprintf(stderr, "%s\n", tg_error_last());
			return 1;
		}
		tg_sigstore_evidence_free(ev);
		n++;
		el = tg_monotonic() - start;
	} while (el < seconds);
	printf("%-32s %8.0f bundle verifications/s (%ld in %.2fs)\n", name,
	       n / el, n, el);
	tg_trustroot_free(root);
	free(bundle);
	free(data);
	free(bpath);
	free(apath);
	free(rpath);
	return 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 2 ? strtod(argv[2], NULL) : 3.0;

	if (argc < 2) {
		fprintf(stderr,
		        "usage: sigstore_bench FIXTURES_DIR [SECONDS]\n");
		return 2;
	}
	/* Rekor v1: SET + inclusion proof + checkpoint, chain, SCT. */
	if (bench(argv[1], "happy-path-v0.3", NULL, secs))
		return 1;
	/* Rekor v2: inclusion proof + Ed25519 checkpoint, RFC 3161. */
	if (bench(argv[1], "rekor2-happy-path", "trusted_root.json", secs))
		return 1;
	/* DSSE in-toto, Rekor v1 dsse entry. */
	return bench(argv[1], "happy-path-intoto-in-dsse-v3", NULL, secs);
}
