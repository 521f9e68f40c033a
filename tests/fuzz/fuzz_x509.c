/*
 * X.509 certificates and chains as bundles carry them (DER, one after the
 * other: the leaf, then its chain): the product's certificate checks on
 * them. The leaf's key as tg_key_from_evp takes it, its Fulcio identity
 * (tg_keyless_identity), the chain built to the public-good Fulcio CAs at
 * the leaf's notBefore (tg_keyless_verify_cert_with), and its SCTs.
 */
#include <openssl/err.h>
#include <openssl/x509.h>

#include "fuzz.h"
#include "sigstore_int.h"
#include "tollgate/keyless.h"
#include "tollgate/keys.h"
#include "tollgate/limits.h"
#include "tollgate/trustroot.h"

static tg_trustroot *root;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return tg_trustroot_default(&root) < 0;
}

/* The leaf's identity and key, as a bundle's signer. */
static void check_leaf(X509 *leaf)
{
	tg_cert_identity *id = NULL;
	tg_key *key = NULL;

	if (tg_keyless_identity(&id, leaf) == 0)
		tg_cert_identity_free(id);
	if (tg_key_from_evp(&key, "certificate", X509_get0_pubkey(leaf)) == 0)
		tg_key_free(key);
}

static void check_chain(X509 *leaf, STACK_OF(X509) * chain)
{
	X509 *issuer = NULL;
	int64_t t = 0, until = 0;

	if (tg_asn1_time_unix(&t, X509_get0_notBefore(leaf)) < 0)
		return;
	if (tg_keyless_verify_cert_with(&issuer, &until, leaf, chain, root,
	                                t + 1, TG_KEYLESS_ALLOW_NO_EKU) < 0)
		return;
	tg_discard(tg_keyless_verify_sct(leaf, issuer, root));
	X509_free(issuer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data, *end = data + size;
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *leaf = NULL, *c;

	while (p < end && sk_X509_num(chain) < TG_MAX_CHAIN_DEPTH) {
		c = d2i_X509(NULL, &p, (long)(end - p));
		if (!c)
			break;
		if (!leaf)
			leaf = c;
		else
			sk_X509_push(chain, c);
	}
	ERR_clear_error();
	if (leaf) {
		check_leaf(leaf);
		check_chain(leaf, chain);
	}
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return 0;
}
