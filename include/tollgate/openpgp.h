/*
 * OpenPGP signatures over bytes (RFC 9580, RFC 4880: a detached v4
 * signature packet of type 0x00, as `gpg -bsa` and git's
 * gpg.format=openpgp make them) and the public keys that may make them:
 * a file of ASCII-armoured transferable public keys ("-----BEGIN PGP
 * PUBLIC KEY BLOCK-----", as `gpg --armor --export` writes them; several
 * blocks and several keys per block are read).
 *
 * Keys: v4 only; RSA (2048 bits or more), EdDSA Ed25519 (the legacy
 * OID form gpg writes, and the RFC 9580 Ed25519 algorithm 27), ECDSA
 * P-256 and P-384. Other algorithms (DSA, ECDH, ElGamal) are read but
 * never sign; a primary key of such an algorithm is refused. Hashes:
 * SHA-256, SHA-384, SHA-512; SHA-1, MD5 and the rest are refused.
 *
 * At load every self-signature by the primary key is verified: a user
 * ID certification or subkey binding that does not verify refuses the
 * file; a key needs a user ID with a valid certification. A signing
 * subkey needs the sign flag in its binding signature and a valid
 * embedded primary key binding signature (0x19). Revocations (0x20
 * key, 0x28 subkey, 0x30 user ID) by the primary key and key expiry
 * (subpacket 9 of the latest self-signature) are kept with the key: a
 * signature by a revoked or expired key is refused with the reason.
 *
 * Everything read is bounded by the limits in tollgate/limits.h; a bad
 * input is TG_EPARSE / TG_EINVALID / TG_ETOOBIG / TG_EUNTRUSTED with the
 * file (and key) or the field of the signature, never a crash.
 */
#ifndef TOLLGATE_OPENPGP_H
#define TOLLGATE_OPENPGP_H

#include <stddef.h>
#include <stdint.h>

#include "tollgate/error.h"
#include "tollgate/siginfo.h"

typedef struct tg_pgp_keyring tg_pgp_keyring;

/*
 * Parse an armoured key file (name is used in messages). At least one
 * key is required. 0, TG_EPARSE (bad armour, CRC, packet), TG_ETOOBIG,
 * TG_EINVALID (unsupported version or algorithm of a primary key, no
 * valid user ID), TG_EUNTRUSTED (a self-signature that does not verify).
 */
TG_WUR int tg_pgp_keyring_parse(tg_pgp_keyring **out,
                                const char *name,
                                const char *data,
                                size_t len);

/* Primary keys in the keyring. */
size_t tg_pgp_keyring_count(const tg_pgp_keyring *k);
void tg_pgp_keyring_free(tg_pgp_keyring *k);

/*
 * Verify the armoured detached signature sig ("-----BEGIN PGP
 * SIGNATURE-----") over msg against the keys of keys; the key must be
 * valid both at the signature's creation time and at when (Unix
 * seconds; for commits the committer time). info (may be NULL) gets
 * "openpgp", "<algo> <fingerprint>" as soon as the signature names its
 * issuer, and the key's user ID once it is found.
 * 0 when a listed key made it; TG_EPARSE / TG_ETOOBIG (malformed),
 * TG_ENOTFOUND (no listed key or subkey), TG_EUNTRUSTED (does not
 * verify, revoked key, subkey not for signing), TG_EEXPIRED (the key or
 * signature expired), TG_EINVALID (an unsupported version, type or
 * algorithm), each with a message.
 */
TG_WUR int tg_pgpsig_verify(tg_sig_info *info,
                            const tg_pgp_keyring *keys,
                            const char *sig,
                            size_t sig_len,
                            const void *msg,
                            size_t msg_len,
                            int64_t when);

#endif
