/*
 * X.509 certificates and chains as bundles carry them: a flags byte, then
 * DER certificates one after the other (the leaf, then its chain). The
 * product's certificate checks on them, as bundle.c makes them: the
 * leaf's key (tg_key_from_x509), the chain built to the public-good
 * Fulcio CAs at the leaf's notBefore (tg_keyless_verify_cert_with; flags
 * bit 1 allows a leaf without an EKU, as for a policy's fulcioCerts), its
 * SCTs, its Fulcio identity (tg_keyless_identity) and the identity match
 * of a keyless policy with regular expressions (tg_keyless_match through
 * the policy's matcher, as sigstore.c sets it up; flags bit 2 adds the
 * GitHub workflow conditions, which the API takes but no policy key sets
 * yet).
 */
#include <openssl/err.h>
#include <openssl/x509.h>

#include "fuzz.h"
#include "sigstore_int.h"
#include "tollgate/keyless.h"
#include "tollgate/keys.h"
#include "tollgate/limits.h"
#include "tollgate/policy.h"
#include "tollgate/trustroot.h"

static tg_trustroot *root;
static tg_regexp *issuer_re, *subject_re;
static tg_policy_keyless keyless;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (tg_trustroot_default(&root) < 0 ||
	    tg_regexp_compile(&issuer_re, "^https://(token\\.actions\\."
	                                  "githubusercontent\\.com|accounts\\."
	                                  "google\\.com)$") < 0 ||
	    tg_regexp_compile(&subject_re,
	                      "^https://github\\.com/[^/]+/[^@]+@refs/"
	                      "(heads|tags)/[a-z0-9.]+$|@example\\.com$") < 0)
		return 1;
	keyless.issuer_regexp = issuer_re;
	keyless.subject_regexp = subject_re;
	return 0;
}

/* sigstore.c's policy_match. */
static int policy_match(void *ctx, const tg_cert_identity *id)
{
	return tg_policy_keyless_match(ctx, id->issuer, id->subject);
}

/* The leaf's key and identity, as a bundle's signer. */
static void check_leaf(X509 *leaf, uint8_t flags)
{
	tg_keyless_policy kp = { 0 };
	tg_cert_identity *id = NULL;
	tg_key *key = NULL;

	if (tg_key_from_x509(&key, "signing certificate", leaf) == 0)
		tg_key_free(key);
	if (tg_keyless_identity(&id, leaf) < 0)
		return;
	kp.match = policy_match;
	kp.match_ctx = &keyless;
	if (flags & 2) {
		kp.github_repository = "sigstore-conformance/"
		                       "extremely-dangerous-public-oidc-beacon";
		kp.github_ref = "refs/heads/main";
		kp.github_trigger = "workflow_dispatch";
	}
	tg_discard(tg_keyless_match(id, &kp));
	tg_cert_identity_free(id);
}

static void check_chain(X509 *leaf, STACK_OF(X509) * chain, uint8_t flags)
{
	X509 *issuer = NULL;
	int64_t t = 0, until = 0;

	if (tg_asn1_time_unix(&t, X509_get0_notBefore(leaf)) < 0)
		return;
	if (tg_keyless_verify_cert_with(
	            &issuer, &until, leaf, chain, root, t + 1,
	            flags & 1 ? TG_KEYLESS_ALLOW_NO_EKU : 0) < 0)
		return;
	tg_discard(tg_keyless_verify_sct(leaf, issuer, root));
	X509_free(issuer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data + 1, *end = data + size;
	STACK_OF(X509) * chain;
	X509 *leaf = NULL, *c;

	if (size < 1)
		return 0;
	chain = sk_X509_new_null();
	while (p < end && sk_X509_num(chain) < TG_MAX_CHAIN_DEPTH) {
		c = d2i_X509(NULL, &p, (long)(end - p));
		if (!c)
			break;
		if (!leaf)
			leaf = c;
		else if (!sk_X509_push(chain, c))
			X509_free(c);
	}
	ERR_clear_error();
	if (leaf) {
		check_chain(leaf, chain, data[0]);
		check_leaf(leaf, data[0]);
	}
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return 0;
}
