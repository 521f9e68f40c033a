/*
 * Public keys and signature checks over OpenSSL.
 *
 * Keys: ECDSA P-256 and P-384, RSA (2048 bits or more), Ed25519, from PEM
 * (SubjectPublicKeyInfo "PUBLIC KEY", or "RSA PUBLIC KEY") or DER.
 * Signatures: ECDSA (DER, as cosign writes them), RSA PKCS#1 v1.5 and PSS,
 * Ed25519 (pure, over the message).
 */
#ifndef TOLLGATE_KEYS_H
#define TOLLGATE_KEYS_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tollgate/error.h"

typedef struct tg_key tg_key;

typedef enum {
	TG_KEY_ECDSA_P256,
	TG_KEY_ECDSA_P384,
	TG_KEY_ECDSA_P521,
	TG_KEY_RSA,
	TG_KEY_ED25519,
} tg_key_kind;

typedef enum {
	/* The hash that goes with the key: SHA-256 for P-256 and RSA,
	 * SHA-384 for P-384, SHA-512 for P-521; none for Ed25519. This is
	 * what cosign and Sigstore use. */
	TG_HASH_DEFAULT = 0,
	TG_HASH_SHA256,
	TG_HASH_SHA384,
	TG_HASH_SHA512,
} tg_hash;

/* name is used in messages (a path, or an authority name). 0, TG_EPARSE
 * (not a key), TG_EINVALID (unsupported type or weak RSA). */
TG_WUR int
tg_key_from_pem(tg_key **out, const char *name, const char *pem, size_t len);
TG_WUR int tg_key_from_der(tg_key **out,
                           const char *name,
                           const unsigned char *der,
                           size_t len);
TG_WUR int tg_key_load_file(tg_key **out, const char *path);
/* Takes its own reference to pkey. A NULL pkey (what OpenSSL returns for a
 * certificate key it cannot decode) is TG_EPARSE. */
TG_WUR int tg_key_from_evp(tg_key **out, const char *name, EVP_PKEY *pkey);

/* The key of certificate cert (its SubjectPublicKeyInfo as it stands in
 * the certificate, not re-encoded). As tg_key_from_evp(). */
TG_WUR int tg_key_from_x509(tg_key **out, const char *name, X509 *cert);

tg_key_kind tg_key_type(const tg_key *key);
const char *tg_key_type_name(const tg_key *key); /* "ecdsa-p256" ... */
const char *tg_key_name(const tg_key *key);
/* Borrowed. */
EVP_PKEY *tg_key_evp(const tg_key *key);
/* "sha256:<hex>" of the DER SubjectPublicKeyInfo: a stable key id for
 * evidence. Borrowed. */
const char *tg_key_id(const tg_key *key);
/* The DER SubjectPublicKeyInfo of the key (*len its bytes). Borrowed. */
const unsigned char *tg_key_spki(const tg_key *key, size_t *len);

/*
 * Verify sig over msg. For RSA both PKCS#1 v1.5 and PSS are tried.
 * 0 when it verifies, TG_EUNTRUSTED when it does not (with a message), and
 * TG_EINVALID for an unusable hash/key pair.
 */
TG_WUR int tg_key_verify(const tg_key *key,
                         tg_hash hash,
                         const unsigned char *msg,
                         size_t msg_len,
                         const unsigned char *sig,
                         size_t sig_len);

/*
 * Verify sig over a precomputed digest (for hashedrekord entries and
 * artifacts given as "sha256:<hex>"). Not for Ed25519 (pure Ed25519 signs
 * the message itself): TG_EINVALID.
 */
TG_WUR int tg_key_verify_digest(const tg_key *key,
                                tg_hash hash,
                                const unsigned char *digest,
                                size_t digest_len,
                                const unsigned char *sig,
                                size_t sig_len);

void tg_key_free(tg_key *key);

#endif
