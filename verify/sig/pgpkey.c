/*
 * OpenPGP public keys (RFC 9580 5.5.2 v4 key packets) and key files of
 * transferable public keys (10.1): every self-signature by the primary
 * key is verified, user IDs, subkey bindings with their embedded primary
 * key binding, key flags, expiry and revocations are kept for the
 * signature check of pgpsig.c (tollgate/openpgp.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "pgp_int.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

/* Key material ------------------------------------------------------------- */

const char *tg_pgp_alg_name(int alg, char buf[24])
{
	switch (alg) {
	case TG_PGP_RSA:
		return "rsa";
	case TG_PGP_ECDSA:
		return "ecdsa";
	case TG_PGP_EDDSA_LEGACY:
	case TG_PGP_ED25519:
		return "ed25519";
	}
	snprintf(buf, 24, "algorithm-%d", alg);
	return buf;
}

static int from_params(EVP_PKEY **out, const char *alg, OSSL_PARAM_BLD *b)
{
	OSSL_PARAM *params = b ? OSSL_PARAM_BLD_to_param(b) : NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	int ok;

	ok = params && ctx && EVP_PKEY_fromdata_init(ctx) > 0 &&
	     EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) > 0;
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	if (ok)
		return 0;
	return tg_error_add_openssl(
	        tg_error_set(TG_EPARSE, "not a valid %s public key", alg));
}

static int key_rsa(tg_pgp_key *k, tg_pgp_rd *r)
{
	const unsigned char *n, *e;
	size_t nn, en;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *b = NULL;
	int error;

	if ((error = tg_pgp_rd_mpi(r, &n, &nn, "RSA modulus")) < 0 ||
	    (error = tg_pgp_rd_mpi(r, &e, &en, "RSA exponent")) < 0)
		return error;
	bn = BN_bin2bn(n, (int)nn, NULL);
	/* the same floor as tollgate/keys.h for every RSA key */
	if (bn && BN_num_bits(bn) < 2048) {
		error = tg_error_set(TG_EINVALID,
		                     "RSA key of %d bits (2048 at least)",
		                     BN_num_bits(bn));
		BN_free(bn);
		return error;
	}
	be = BN_bin2bn(e, (int)en, NULL);
	b = OSSL_PARAM_BLD_new();
	if (!bn || !be || !b ||
	    !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be))
		error = tg_error_set(TG_ERROR, "RSA key: out of memory");
	else
		error = from_params(&k->pkey, "RSA", b);
	OSSL_PARAM_BLD_free(b);
	BN_free(bn);
	BN_free(be);
	return error;
}

/* The curve OID (RFC 9580 9.2), its length octet first. */
static int rd_oid(tg_pgp_rd *r, const unsigned char **oid, size_t *n)
{
	unsigned len;
	int error;

	if ((error = tg_pgp_rd_u8(r, &len, "curve OID")) < 0)
		return error;
	if (len == 0 || len == 0xff)
		return tg_error_set(TG_EPARSE, "curve OID of reserved length");
	*n = len;
	return tg_pgp_rd_bytes(r, oid, len, "curve OID");
}

static bool oid_is(const unsigned char *p, size_t n, const char *hex)
{
	unsigned char want[16];
	size_t wn = strlen(hex) / 2;

	return n == wn && tg_hex_decode(want, wn, hex, 2 * wn) == 0 &&
	       !memcmp(p, want, n);
}

static int key_ecdsa(tg_pgp_key *k, tg_pgp_rd *r)
{
	const unsigned char *oid, *q;
	const char *group;
	size_t on = 0, qn;
	OSSL_PARAM_BLD *b;
	int error;

	if ((error = rd_oid(r, &oid, &on)) < 0 ||
	    (error = tg_pgp_rd_mpi(r, &q, &qn, "ECDSA point")) < 0)
		return error;
	if (oid_is(oid, on, "2a8648ce3d030107")) {
		group = "P-256";
		k->alg_name = "ecdsa-p256";
	} else if (oid_is(oid, on, "2b81040022")) {
		group = "P-384";
		k->alg_name = "ecdsa-p384";
	} else {
		return tg_error_set(TG_EINVALID,
		                    "ECDSA curve not supported (P-256 and "
		                    "P-384 only)");
	}
	b = OSSL_PARAM_BLD_new();
	if (!b ||
	    !OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME,
	                                     group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, q,
	                                      qn))
		error = tg_error_set(TG_ERROR, "ECDSA key: out of memory");
	else
		error = from_params(&k->pkey, "EC", b);
	OSSL_PARAM_BLD_free(b);
	return error;
}

/* EdDSA: the legacy form (algorithm 22, OID 1.3.6.1.4.1.11591.15.1,
 * point 0x40 || 32 bytes in an MPI) or Ed25519 (27, 32 raw bytes). */
static int key_ed25519(tg_pgp_key *k, tg_pgp_rd *r)
{
	const unsigned char *oid, *q;
	size_t on = 0, qn;
	int error;

	if (k->alg == TG_PGP_ED25519) {
		if ((error = tg_pgp_rd_bytes(r, &q, 32, "Ed25519 key")) < 0)
			return error;
	} else {
		if ((error = rd_oid(r, &oid, &on)) < 0 ||
		    (error = tg_pgp_rd_mpi(r, &q, &qn, "EdDSA point")) < 0)
			return error;
		if (!oid_is(oid, on, "2b06010401da470f01"))
			return tg_error_set(TG_EINVALID,
			                    "EdDSA curve not supported "
			                    "(Ed25519 only)");
		if (qn != 33 || q[0] != 0x40)
			return tg_error_set(TG_EPARSE,
			                    "EdDSA point is not 0x40 and 32 "
			                    "bytes");
		q++;
	}
	k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, q, 32);
	return k->pkey ? 0
	               : tg_error_add_openssl(tg_error_set(
	                         TG_EPARSE, "not a valid Ed25519 key"));
}

static void fingerprint(tg_pgp_key *k)
{
	unsigned char hdr[3];
	tg_pgp_part parts[2];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t i;

	tg_pgp_key_parts(parts, hdr, k);
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) <= 0 ||
	    EVP_DigestUpdate(ctx, parts[0].p, parts[0].n) <= 0 ||
	    EVP_DigestUpdate(ctx, parts[1].p, parts[1].n) <= 0 ||
	    EVP_DigestFinal_ex(ctx, k->fp, NULL) <= 0)
		memset(k->fp, 0, sizeof(k->fp)); /* matches no issuer */
	EVP_MD_CTX_free(ctx);
	tg_hex_encode(k->fp_hex, k->fp, TG_PGP_FP_LEN);
	for (i = 0; k->fp_hex[i]; i++)
		k->fp_hex[i] = (char)toupper((unsigned char)k->fp_hex[i]);
}

static int key_material(tg_pgp_key *k, tg_pgp_rd *r, bool primary)
{
	char buf[24];
	int error;

	switch (k->alg) {
	case TG_PGP_RSA:
		error = key_rsa(k, r);
		break;
	case TG_PGP_ECDSA:
		error = key_ecdsa(k, r);
		break;
	case TG_PGP_EDDSA_LEGACY:
	case TG_PGP_ED25519:
		error = key_ed25519(k, r);
		break;
	default:
		/* an encryption subkey (ECDH, ElGamal...) never signs */
		if (!primary)
			return 0;
		return tg_error_set(TG_EINVALID,
		                    "primary key of %s (RSA, EdDSA Ed25519 "
		                    "and ECDSA P-256/P-384 only)",
		                    tg_pgp_alg_name(k->alg, buf));
	}
	if (error == 0 && r->n != 0)
		error = tg_error_set(TG_EPARSE,
		                     "%zu bytes after the key material", r->n);
	return error;
}

int tg_pgp_key_parse(tg_pgp_key *k,
                     const unsigned char *body,
                     size_t len,
                     bool primary)
{
	tg_pgp_rd r = { body, len };
	unsigned v, alg;
	uint32_t created;
	char buf[24];
	int error;

	memset(k, 0, sizeof(*k));
	/* a v4 key is hashed with a two-octet length (5.2.4) */
	if (len > 0xffff)
		return tg_error_set(TG_ETOOBIG, "key packet of %zu bytes", len);
	if ((error = tg_pgp_rd_u8(&r, &v, "key version")) < 0)
		return error;
	if (v != 4)
		return tg_error_set(TG_EINVALID,
		                    "key version %u (only version 4 is "
		                    "supported)",
		                    v);
	if ((error = tg_pgp_rd_u32(&r, &created, "key creation time")) < 0 ||
	    (error = tg_pgp_rd_u8(&r, &alg, "key algorithm")) < 0)
		return error;
	k->alg = (int)alg;
	k->created = created;
	k->alg_name = tg_pgp_alg_name(k->alg, buf);
	if ((error = key_material(k, &r, primary)) < 0) {
		tg_pgp_key_clear(k);
		return error;
	}
	if (!k->pkey)
		k->alg_name = "other"; /* buf does not outlive this call */
	k->pkt = tg_malloc(len);
	memcpy(k->pkt, body, len);
	k->pkt_len = len;
	fingerprint(k);
	return 0;
}

void tg_pgp_key_parts(tg_pgp_part out[2],
                      unsigned char hdr[3],
                      const tg_pgp_key *k)
{
	hdr[0] = 0x99;
	hdr[1] = (unsigned char)(k->pkt_len >> 8);
	hdr[2] = (unsigned char)k->pkt_len;
	out[0].p = hdr;
	out[0].n = 3;
	out[1].p = k->pkt;
	out[1].n = k->pkt_len;
}

void tg_pgp_key_clear(tg_pgp_key *k)
{
	EVP_PKEY_free(k->pkey);
	free(k->pkt);
	memset(k, 0, sizeof(*k));
}
