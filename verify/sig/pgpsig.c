/*
 * OpenPGP v4 signature packets (RFC 9580 5.2.3): parsing with their
 * subpackets, the hash over the signed data and the signature's trailer
 * (5.2.4), the public key check with OpenSSL, and the verification of a
 * detached signature over bytes against a keyring (tollgate/openpgp.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "pgp_int.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

/* Subpacket types (RFC 9580 5.2.3.7) read here. */
enum {
	SP_CREATED = 2,
	SP_SIG_EXPIRES = 3,
	SP_KEY_EXPIRES = 9,
	SP_ISSUER = 16,
	SP_NOTATION = 20,
	SP_PRIMARY_UID = 25,
	SP_KEY_FLAGS = 27,
	SP_REASON = 29,
	SP_EMBEDDED = 32,
	SP_ISSUER_FP = 33,
};

/* Known subpackets that change nothing here but may be critical: the
 * rest, when critical, makes the signature unusable (RFC 9580
 * 5.2.3.7). */
static bool sp_known(unsigned t)
{
	static const unsigned char known[] = { 4,  5,  6,  7,  11, 12, 21,
		                               22, 23, 24, 26, 28, 30, 31,
		                               34, 35, 37, 38, 39 };
	size_t i;

	for (i = 0; i < sizeof(known); i++)
		if (known[i] == t)
			return true;
	return false;
}

static int sp_u32(int64_t *out, const tg_pgp_subpkt *sp)
{
	if (sp->n != 4)
		return tg_error_set(TG_EPARSE,
		                    "subpacket %u of %zu bytes (must be 4)",
		                    sp->type, sp->n);
	*out = (int64_t)((uint32_t)sp->p[0] << 24 | (uint32_t)sp->p[1] << 16 |
	                 (uint32_t)sp->p[2] << 8 | sp->p[3]);
	return 0;
}

/* The reason for revocation (5.2.3.31), printable only. */
static void sp_reason(tg_pgp_sig *s, const tg_pgp_subpkt *sp)
{
	static const char *const codes[] = { "no reason given",
		                             "key superseded",
		                             "key compromised", "key retired" };
	size_t i, o;
	int w;

	if (sp->n == 0)
		return;
	w = snprintf(s->reason, sizeof(s->reason), "%s",
	             sp->p[0] < 4 ? codes[sp->p[0]] : "reason code");
	o = w > 0 ? (size_t)w : 0;
	if (sp->n > 1 && o + 3 < sizeof(s->reason)) {
		memcpy(s->reason + o, ": ", 2);
		o += 2;
	}
	for (i = 1; i < sp->n && o + 1 < sizeof(s->reason); i++, o++)
		s->reason[o] = sp->p[i] >= 0x20 && sp->p[i] < 0x7f
		                       ? (char)sp->p[i]
		                       : '?';
	s->reason[o] = '\0';
}

/* What only the hashed area may say: times, flags, reasons. */
static int sp_hashed(tg_pgp_sig *s, const tg_pgp_subpkt *sp)
{
	switch (sp->type) {
	case SP_CREATED:
		s->has_created = true;
		return sp_u32(&s->created, sp);
	case SP_SIG_EXPIRES:
		return sp_u32(&s->sig_expires, sp);
	case SP_KEY_EXPIRES:
		return sp_u32(&s->key_expires, sp);
	case SP_KEY_FLAGS:
		s->has_flags = sp->n > 0;
		s->flags = sp->n > 0 ? sp->p[0] : 0;
		return 0;
	case SP_PRIMARY_UID:
		s->primary_uid = sp->n == 1 && sp->p[0];
		return 0;
	case SP_REASON:
		sp_reason(s, sp);
		return 0;
	}
	if (sp->critical && (sp->type == SP_NOTATION || !sp_known(sp->type)))
		return tg_error_set(TG_EINVALID,
		                    "critical subpacket %u not understood",
		                    sp->type);
	return 0;
}

/* Issuers and the embedded signature, from either area. */
static int sp_any(tg_pgp_sig *s, const tg_pgp_subpkt *sp)
{
	if (sp->type == SP_ISSUER) {
		if (sp->n != 8)
			return tg_error_set(TG_EPARSE,
			                    "issuer subpacket of %zu bytes",
			                    sp->n);
		memcpy(s->issuer_id, sp->p, 8);
		s->has_id = true;
	} else if (sp->type == SP_ISSUER_FP) {
		/* version 4 fingerprints only; v6 ones name no v4 key */
		if (sp->n == 1 + TG_PGP_FP_LEN && sp->p[0] == 4) {
			memcpy(s->issuer_fp, sp->p + 1, TG_PGP_FP_LEN);
			s->has_fp = true;
		}
	} else if (sp->type == SP_EMBEDDED) {
		s->embedded = sp->p;
		s->embedded_len = sp->n;
	}
	return 0;
}

static int read_area(tg_pgp_sig *s, tg_pgp_rd *r, bool hashed, const char *what)
{
	const unsigned char *p;
	tg_pgp_subpkt sp;
	unsigned len, count = 0;
	tg_pgp_rd a;
	int error;

	if ((error = tg_pgp_rd_u16(r, &len, what)) < 0 ||
	    (error = tg_pgp_rd_bytes(r, &p, len, what)) < 0)
		return error;
	a.p = p;
	a.n = len;
	while (a.n > 0) {
		if (++count > TG_MAX_PGP_SUBPACKETS)
			return tg_error_set(TG_ETOOBIG,
			                    "%s: over %u subpackets", what,
			                    TG_MAX_PGP_SUBPACKETS);
		if ((error = tg_pgp_next_subpkt(&a, &sp)) < 0 ||
		    (hashed && (error = sp_hashed(s, &sp)) < 0) ||
		    (error = sp_any(s, &sp)) < 0)
			return tg_error_prefix(error, "%s", what);
		if (!hashed && sp.critical && !sp_known(sp.type) &&
		    sp.type != SP_ISSUER && sp.type != SP_ISSUER_FP &&
		    sp.type != SP_EMBEDDED)
			return tg_error_set(TG_EINVALID,
			                    "%s: critical subpacket %u not "
			                    "understood",
			                    what, sp.type);
	}
	return 0;
}

/* The signature value: one MPI (RSA), two (ECDSA, EdDSA legacy), or 64
 * raw bytes (Ed25519, RFC 9580 5.2.3.4). */
static int read_value(tg_pgp_sig *s, tg_pgp_rd *r)
{
	int error;

	switch (s->pkalg) {
	case TG_PGP_RSA:
		return tg_pgp_rd_mpi(r, &s->m1, &s->n1, "RSA signature");
	case TG_PGP_ECDSA:
	case TG_PGP_EDDSA_LEGACY:
		if ((error = tg_pgp_rd_mpi(r, &s->m1, &s->n1, "signature r")) <
		    0)
			return error;
		return tg_pgp_rd_mpi(r, &s->m2, &s->n2, "signature s");
	case TG_PGP_ED25519:
		s->n1 = 64;
		return tg_pgp_rd_bytes(r, &s->m1, 64, "Ed25519 signature");
	}
	return tg_error_set(TG_EINVALID,
	                    "signature of public key algorithm %u (not "
	                    "RSA, ECDSA or EdDSA)",
	                    s->pkalg);
}

int tg_pgp_sig_parse(tg_pgp_sig *s, const unsigned char *body, size_t len)
{
	tg_pgp_rd r = { body, len };
	const unsigned char *pre;
	unsigned v;
	int error;

	memset(s, 0, sizeof(*s));
	s->body = body;
	if ((error = tg_pgp_rd_u8(&r, &v, "signature version")) < 0)
		return error;
	if (v != 4)
		return tg_error_set(TG_EINVALID,
		                    "signature version %u (only version 4 is "
		                    "supported)",
		                    v);
	if ((error = tg_pgp_rd_u8(&r, &s->type, "signature type")) < 0 ||
	    (error = tg_pgp_rd_u8(&r, &s->pkalg, "signature algorithm")) < 0 ||
	    (error = tg_pgp_rd_u8(&r, &s->halg, "signature hash")) < 0 ||
	    (error = read_area(s, &r, true, "hashed subpackets")) < 0)
		return error;
	s->hashed_end = len - r.n;
	if ((error = read_area(s, &r, false, "unhashed subpackets")) < 0 ||
	    (error = tg_pgp_rd_bytes(&r, &pre, 2, "hash prefix")) < 0 ||
	    (error = read_value(s, &r)) < 0)
		return error;
	memcpy(s->prefix, pre, 2);
	if (r.n != 0)
		return tg_error_set(TG_EPARSE,
		                    "%zu bytes after the signature value", r.n);
	if (!s->has_created)
		return tg_error_set(TG_EPARSE,
		                    "signature without a hashed creation time");
	return 0;
}

bool tg_pgp_sig_from(const tg_pgp_sig *s, const tg_pgp_key *k)
{
	if (s->has_fp)
		return !memcmp(s->issuer_fp, k->fp, TG_PGP_FP_LEN);
	/* the key ID is the fingerprint's last 8 bytes (5.5.4.2) */
	return s->has_id && !memcmp(s->issuer_id, k->fp + TG_PGP_FP_LEN - 8, 8);
}

static const EVP_MD *hash_md(unsigned halg)
{
	switch (halg) {
	case 8:
		return EVP_sha256();
	case 9:
		return EVP_sha384();
	case 10:
		return EVP_sha512();
	}
	return NULL;
}

bool tg_pgp_hash_ok(unsigned halg)
{
	return hash_md(halg) != NULL;
}

/* The digest of parts, the hashed part of the packet and the trailer. */
static int digest(unsigned char *out,
                  unsigned *out_len,
                  const tg_pgp_sig *s,
                  const tg_pgp_part *parts,
                  size_t nparts)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char trailer[6] = { 4, 0xff };
	size_t i, h = s->hashed_end;
	int ok;

	trailer[2] = (unsigned char)(h >> 24);
	trailer[3] = (unsigned char)(h >> 16);
	trailer[4] = (unsigned char)(h >> 8);
	trailer[5] = (unsigned char)h;
	ok = ctx && EVP_DigestInit_ex(ctx, hash_md(s->halg), NULL) > 0;
	for (i = 0; ok && i < nparts; i++)
		ok = EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) > 0;
	ok = ok && EVP_DigestUpdate(ctx, s->body, h) > 0 &&
	     EVP_DigestUpdate(ctx, trailer, sizeof(trailer)) > 0 &&
	     EVP_DigestFinal_ex(ctx, out, out_len) > 0;
	EVP_MD_CTX_free(ctx);
	return ok ? 0
	          : tg_error_add_openssl(
	                    tg_error_set(TG_ERROR, "cannot hash the data"));
}

/* The DER ECDSA-Sig-Value of the r and s MPIs. */
static int ecdsa_der(unsigned char **der, int *der_len, const tg_pgp_sig *s)
{
	BIGNUM *r = BN_bin2bn(s->m1, (int)s->n1, NULL);
	BIGNUM *sv = BN_bin2bn(s->m2, (int)s->n2, NULL);
	ECDSA_SIG *es = ECDSA_SIG_new();

	*der = NULL;
	*der_len = 0;
	if (r && sv && es && ECDSA_SIG_set0(es, r, sv) == 1) {
		r = sv = NULL;
		*der_len = i2d_ECDSA_SIG(es, der);
	}
	BN_free(r);
	BN_free(sv);
	ECDSA_SIG_free(es);
	return *der_len > 0 ? 0 : tg_error_set(TG_ERROR, "out of memory");
}

/* EdDSA over the digest: pure Ed25519 whose message is the hash value
 * (RFC 9580 5.2.3.4 and the legacy form of 5.2.3.3). */
static bool ed_verify(const tg_pgp_sig *s,
                      EVP_PKEY *pk,
                      const unsigned char *d,
                      unsigned dn)
{
	unsigned char sig[64] = { 0 };
	EVP_MD_CTX *ctx;
	bool ok;

	if (s->pkalg == TG_PGP_ED25519) {
		memcpy(sig, s->m1, 64);
	} else {
		if (s->n1 > 32 || s->n2 > 32)
			return false;
		memcpy(sig + 32 - s->n1, s->m1, s->n1);
		memcpy(sig + 64 - s->n2, s->m2, s->n2);
	}
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) > 0 &&
	     EVP_DigestVerify(ctx, sig, sizeof(sig), d, dn) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* RSA PKCS#1 v1.5 (never PSS: RFC 9580 5.2.3.1) or ECDSA over d. */
static bool pk_verify(const tg_pgp_sig *s,
                      EVP_PKEY *pk,
                      const unsigned char *d,
                      unsigned dn)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
	unsigned char *sig = NULL;
	size_t size = (size_t)EVP_PKEY_get_size(pk);
	int sig_len = 0;
	bool ok = false;

	if (!ctx || EVP_PKEY_verify_init(ctx) <= 0)
		goto out;
	if (s->pkalg == TG_PGP_RSA) {
		/* the MPI drops leading zeros the padding may have */
		if (s->n1 > size)
			goto out;
		sig = OPENSSL_zalloc(size);
		if (!sig ||
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_signature_md(ctx, hash_md(s->halg)) <= 0)
			goto out;
		memcpy(sig + size - s->n1, s->m1, s->n1);
		sig_len = (int)size;
	} else if (ecdsa_der(&sig, &sig_len, s) < 0) {
		goto out;
	}
	ok = EVP_PKEY_verify(ctx, sig, (size_t)sig_len, d, dn) == 1;
out:
	OPENSSL_free(sig);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

int tg_pgp_sig_check(const tg_pgp_sig *s,
                     const tg_pgp_key *k,
                     const tg_pgp_part *parts,
                     size_t nparts)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dn = 0;
	bool ok;
	int error;

	if (!tg_pgp_hash_ok(s->halg))
		return tg_error_set(TG_EINVALID,
		                    "hash algorithm %u refused (SHA-256, "
		                    "SHA-384 or SHA-512 only; never SHA-1 or "
		                    "MD5)",
		                    s->halg);
	if (!k->pkey || (int)s->pkalg != k->alg)
		return tg_error_set(TG_EUNTRUSTED,
		                    "signature algorithm %u does not match key "
		                    "%s (%s)",
		                    s->pkalg, k->fp_hex, k->alg_name);
	if ((error = digest(d, &dn, s, parts, nparts)) < 0)
		return error;
	if (memcmp(d, s->prefix, 2) != 0)
		return tg_error_set(TG_EUNTRUSTED,
		                    "signature does not verify with key %s "
		                    "(the data differs)",
		                    k->fp_hex);
	if (k->alg == TG_PGP_RSA || k->alg == TG_PGP_ECDSA)
		ok = pk_verify(s, k->pkey, d, dn);
	else
		ok = ed_verify(s, k->pkey, d, dn);
	ERR_clear_error();
	if (!ok)
		return tg_error_set(TG_EUNTRUSTED,
		                    "signature does not verify with key %s",
		                    k->fp_hex);
	return 0;
}
