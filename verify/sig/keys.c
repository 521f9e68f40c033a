/*
 * Public keys and signature checks over OpenSSL: see
 * include/tollgate/keys.h.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "tollgate/error.h"
#include "tollgate/keys.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

/* RSA keys below this size are refused: 2048 bits is the NIST floor and
 * what cosign generates at the least. */
#define TG_MIN_RSA_BITS 2048

struct tg_key {
	EVP_PKEY *pkey;
	tg_key_kind type;
	char *name;
	char id[TG_DIGEST_STR_LEN + 1];
	unsigned char *spki; /* DER SubjectPublicKeyInfo (OPENSSL_malloc) */
	size_t spki_len;
};

static const char *const type_names[] = {
	[TG_KEY_ECDSA_P256] = "ecdsa-p256", [TG_KEY_ECDSA_P384] = "ecdsa-p384",
	[TG_KEY_ECDSA_P521] = "ecdsa-p521", [TG_KEY_RSA] = "rsa",
	[TG_KEY_ED25519] = "ed25519",
};

/* Classify pkey; TG_EINVALID for key types and curves we do not accept. */
static int classify(tg_key_kind *out, const char *name, EVP_PKEY *pkey)
{
	char curve[TG_KEY_CURVE_NAME_BYTES];
	size_t len = 0;

	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_ED25519:
		*out = TG_KEY_ED25519;
		return 0;
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(pkey) < TG_MIN_RSA_BITS)
			return tg_error_set(TG_EINVALID,
			                    "%s: RSA key of %d "
			                    "bits; at least %d are required",
			                    name, EVP_PKEY_get_bits(pkey),
			                    TG_MIN_RSA_BITS);
		*out = TG_KEY_RSA;
		return 0;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param(pkey,
		                                    OSSL_PKEY_PARAM_GROUP_NAME,
		                                    curve, sizeof(curve), &len))
			break;
		if (!strcmp(curve, "prime256v1") || !strcmp(curve, "P-256")) {
			*out = TG_KEY_ECDSA_P256;
			return 0;
		}
		if (!strcmp(curve, "secp384r1") || !strcmp(curve, "P-384")) {
			*out = TG_KEY_ECDSA_P384;
			return 0;
		}
		if (!strcmp(curve, "secp521r1") || !strcmp(curve, "P-521")) {
			*out = TG_KEY_ECDSA_P521;
			return 0;
		}
		return tg_error_set(TG_EINVALID,
		                    "%s: unsupported elliptic "
		                    "curve %s; use P-256, P-384 or P-521",
		                    name, curve);
	default:
		break;
	}
	return tg_error_set(TG_EINVALID,
	                    "%s: unsupported key type; use "
	                    "ECDSA, RSA or Ed25519",
	                    name);
}

/* A key of pkey whose DER SubjectPublicKeyInfo is der (owned by the key
 * from here on, OPENSSL_malloc'd), or NULL when it cannot be encoded. */
static int key_new(tg_key **out,
                   const char *name,
                   EVP_PKEY *pkey,
                   unsigned char *der,
                   int der_len)
{
	tg_key *key;
	tg_key_kind type = TG_KEY_ECDSA_P256; /* set by classify() */
	int error;

	*out = NULL;
	if ((error = classify(&type, name, pkey)) < 0) {
		OPENSSL_free(der);
		return error;
	}
	if (der_len <= 0)
		return tg_error_add_openssl(tg_error_set(
		        TG_EINVALID, "%s: cannot encode public key", name));
	key = tg_calloc(1, sizeof(*key));
	key->type = type;
	key->name = tg_strdup(name);
	tg_sha256_digest_str(key->id, der, (size_t)der_len);
	key->spki = der;
	key->spki_len = (size_t)der_len;
	EVP_PKEY_up_ref(pkey);
	key->pkey = pkey;
	*out = key;
	return 0;
}

int tg_key_from_evp(tg_key **out, const char *name, EVP_PKEY *pkey)
{
	unsigned char *der = NULL;
	int der_len;

	*out = NULL;
	if (!pkey)
		return tg_error_set(TG_EPARSE,
		                    "%s: the public key cannot be "
		                    "decoded",
		                    name);
	/* der is set by the encoder: read it only after the call (the
	 * order in which arguments are evaluated is unspecified) */
	der_len = i2d_PUBKEY(pkey, &der);
	return key_new(out, name, pkey, der, der_len);
}

/* OpenSSL 3 encodes an EVP_PKEY through its encoder machinery, which
 * costs more than a signature check; a certificate's X509_PUBKEY holds
 * the algorithm and key bits as they were and encodes cheaply. */
int tg_key_from_x509(tg_key **out, const char *name, X509 *cert)
{
	EVP_PKEY *pkey = X509_get0_pubkey(cert);
	unsigned char *der = NULL;
	int der_len;

	*out = NULL;
	ERR_clear_error();
	if (!pkey)
		return tg_error_set(TG_EPARSE,
		                    "%s: the public key cannot be "
		                    "decoded",
		                    name);
	der_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	return key_new(out, name, pkey, der, der_len);
}

/* A key of len bytes (PEM or DER) fits TG_MAX_PEM_BYTES; else TG_ETOOBIG
 * before OpenSSL parses it. */
static int check_key_size(const char *name, size_t len)
{
	if (len > TG_MAX_PEM_BYTES)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: %zu bytes, over the limit "
		                    "of %u for a key",
		                    name, len, TG_MAX_PEM_BYTES);
	return 0;
}

int tg_key_from_pem(tg_key **out, const char *name, const char *pem, size_t len)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio;
	int error;

	*out = NULL;
	if ((error = check_key_size(name, len)) < 0)
		return error;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return tg_error_set(TG_ERROR, "%s: out of memory", name);
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (!pkey) {
		/* "RSA PUBLIC KEY" (PKCS#1), as some tools still write. */
		OSSL_DECODER_CTX *dctx;

		ERR_clear_error();
		BIO_reset(bio);
		dctx = OSSL_DECODER_CTX_new_for_pkey(
		        &pkey, "PEM", "type-specific", "RSA",
		        EVP_PKEY_PUBLIC_KEY, NULL, NULL);
		if (dctx && !OSSL_DECODER_from_bio(dctx, bio)) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
		OSSL_DECODER_CTX_free(dctx);
	}
	BIO_free(bio);
	if (!pkey)
		return tg_error_add_openssl(
		        tg_error_set(TG_EPARSE,
		                     "%s: not a PEM public key (expected "
		                     "\"-----BEGIN PUBLIC KEY-----\")",
		                     name));
	error = tg_key_from_evp(out, name, pkey);
	EVP_PKEY_free(pkey);
	return error;
}

int tg_key_from_der(tg_key **out,
                    const char *name,
                    const unsigned char *der,
                    size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey;
	int error;

	*out = NULL;
	if ((error = check_key_size(name, len)) < 0)
		return error;
	pkey = d2i_PUBKEY(NULL, &p, (long)len);
	if (!pkey || p != der + len) {
		EVP_PKEY_free(pkey);
		return tg_error_add_openssl(tg_error_set(
		        TG_EPARSE, "%s: not a DER SubjectPublicKeyInfo", name));
	}
	error = tg_key_from_evp(out, name, pkey);
	EVP_PKEY_free(pkey);
	return error;
}

int tg_key_load_file(tg_key **out, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int error;

	*out = NULL;
	if ((error = tg_file_read(&data, &len, path, TG_MAX_PEM_BYTES)) < 0)
		return error;
	error = tg_key_from_pem(out, path, data, len);
	free(data);
	return error;
}

tg_key_kind tg_key_type(const tg_key *key)
{
	return key->type;
}

const char *tg_key_type_name(const tg_key *key)
{
	return type_names[key->type];
}

const char *tg_key_name(const tg_key *key)
{
	return key->name;
}

EVP_PKEY *tg_key_evp(const tg_key *key)
{
	return key->pkey;
}

const char *tg_key_id(const tg_key *key)
{
	return key->id;
}

const unsigned char *tg_key_spki(const tg_key *key, size_t *len)
{
	*len = key->spki_len;
	return key->spki;
}

/* The message digest for key and hash; NULL (and a message) when the pair
 * makes no sense. Ed25519 takes no digest: *md stays NULL, returns 0. */
static int pick_md(const EVP_MD **md, const tg_key *key, tg_hash hash)
{
	*md = NULL;
	if (key->type == TG_KEY_ED25519) {
		if (hash != TG_HASH_DEFAULT)
			return tg_error_set(TG_EINVALID,
			                    "%s: Ed25519 signs "
			                    "the message itself, not a "
			                    "pre-hashed digest",
			                    key->name);
		return 0;
	}
	if (hash == TG_HASH_DEFAULT) {
		if (key->type == TG_KEY_ECDSA_P384)
			hash = TG_HASH_SHA384;
		else if (key->type == TG_KEY_ECDSA_P521)
			hash = TG_HASH_SHA512;
		else
			hash = TG_HASH_SHA256;
	}
	switch (hash) {
	case TG_HASH_SHA256:
		*md = EVP_sha256();
		break;
	case TG_HASH_SHA384:
		*md = EVP_sha384();
		break;
	default:
		*md = EVP_sha512();
		break;
	}
	return 0;
}

/*
 * One verification attempt. padding is RSA_PKCS1_PADDING or
 * RSA_PKCS1_PSS_PADDING for RSA keys and ignored otherwise. digest mode
 * verifies a precomputed hash with EVP_PKEY_verify.
 */
static int verify_once(const tg_key *key,
                       const EVP_MD *md,
                       int padding,
                       int digest_mode,
                       const unsigned char *msg,
                       size_t msg_len,
                       const unsigned char *sig,
                       size_t sig_len)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	int ok = 0;

	if (digest_mode) {
		pctx = EVP_PKEY_CTX_new(key->pkey, NULL);
		if (!pctx || EVP_PKEY_verify_init(pctx) <= 0 ||
		    EVP_PKEY_CTX_set_signature_md(pctx, md) <= 0)
			goto out;
	} else {
		mctx = EVP_MD_CTX_new();
		if (!mctx ||
		    EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key->pkey) <= 0)
			goto out;
	}
	if (key->type == TG_KEY_RSA) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, padding) <= 0)
			goto out;
		/* PSS: salt length as long as the hash (what Go and cosign
		 * use), or recovered from the signature. */
		if (padding == RSA_PKCS1_PSS_PADDING &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		                                     RSA_PSS_SALTLEN_AUTO) <= 0)
			goto out;
	}
	if (digest_mode)
		ok = EVP_PKEY_verify(pctx, sig, sig_len, msg, msg_len) == 1;
	else
		ok = EVP_DigestVerify(mctx, sig, sig_len, msg, msg_len) == 1;
out:
	if (mctx)
		EVP_MD_CTX_free(mctx); /* frees pctx with it */
	else
		EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
	return ok;
}

static int verify_any(const tg_key *key,
                      tg_hash hash,
                      int digest_mode,
                      const unsigned char *msg,
                      size_t msg_len,
                      const unsigned char *sig,
                      size_t sig_len)
{
	const EVP_MD *md;
	int error;

	if ((error = pick_md(&md, key, hash)) < 0)
		return error;
	if (digest_mode && (size_t)EVP_MD_get_size(md) != msg_len)
		return tg_error_set(TG_EINVALID,
		                    "%s: digest of %zu bytes "
		                    "does not fit %s",
		                    key->name, msg_len, EVP_MD_get0_name(md));
	if (verify_once(key, md, RSA_PKCS1_PADDING, digest_mode, msg, msg_len,
	                sig, sig_len))
		return 0;
	if (key->type == TG_KEY_RSA &&
	    verify_once(key, md, RSA_PKCS1_PSS_PADDING, digest_mode, msg,
	                msg_len, sig, sig_len))
		return 0;
	return tg_error_set(TG_EUNTRUSTED,
	                    "signature does not verify with "
	                    "%s key \"%s\"",
	                    type_names[key->type], key->name);
}

int tg_key_verify(const tg_key *key,
                  tg_hash hash,
                  const unsigned char *msg,
                  size_t msg_len,
                  const unsigned char *sig,
                  size_t sig_len)
{
	return verify_any(key, hash, 0, msg, msg_len, sig, sig_len);
}

int tg_key_verify_digest(const tg_key *key,
                         tg_hash hash,
                         const unsigned char *digest,
                         size_t digest_len,
                         const unsigned char *sig,
                         size_t sig_len)
{
	if (key->type == TG_KEY_ED25519)
		return tg_error_set(TG_EINVALID,
		                    "%s: Ed25519 keys cannot "
		                    "verify a pre-hashed digest",
		                    key->name);
	return verify_any(key, hash, 1, digest, digest_len, sig, sig_len);
}

void tg_key_free(tg_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	OPENSSL_free(key->spki);
	free(key->name);
	free(key);
}
