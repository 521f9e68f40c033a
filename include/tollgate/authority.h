/*
 * Signing authorities: who may sign an image under a policy rule.
 *
 * An authority is a public key (key-based, cosign sign --key) or a keyless
 * identity (Fulcio certificate + Rekor, plugged in by the keyless module
 * through a verify hook). The cosign and DSSE modules hand every signature
 * they find to tg_authority_verify() as "signature material": the exact
 * bytes signed, the signature, and the certificate, chain and Rekor bundle
 * that came with it.
 */
#ifndef TOLLGATE_AUTHORITY_H
#define TOLLGATE_AUTHORITY_H

#include <stddef.h>
#include <stdint.h>

#include "tollgate/error.h"
#include "tollgate/keys.h"

typedef struct tg_sig_material {
	const unsigned char *msg; /* the bytes the signature covers */
	size_t msg_len;
	const unsigned char *sig; /* raw signature (DER for ECDSA) */
	size_t sig_len;
	/* As found beside the signature (cosign layer annotations
	 * dev.sigstore.cosign/certificate, .../chain, .../bundle); NULL when
	 * absent. Untrusted until a verify hook checks them. */
	const char *certificate;
	const char *chain;
	const char *bundle;
} tg_sig_material;

typedef struct tg_authority tg_authority;

/*
 * A keyless verify hook: 0 when m verifies for this authority, with a
 * heap string naming the signer (certificate identity) in *signer_out and
 * in *until_out the time after which the same check would fail (a
 * certificate checked at the current time: its chain's earliest notAfter;
 * INT64_MAX when the check does not depend on the time);
 * TG_EUNTRUSTED (message via tg_error_set) when it does not.
 */
typedef int (*tg_authority_verify_fn)(char **signer_out,
                                      int64_t *until_out,
                                      void *ctx,
                                      const tg_sig_material *m);

struct tg_authority {
	const char *name;              /* from the policy; used in messages */
	const tg_key *key;             /* key-based authority, or NULL */
	tg_authority_verify_fn verify; /* keyless authority, or NULL */
	void *ctx;                     /* passed to verify */
	/* A key-based authority that also requires a transparency-log
	 * entry (policy rekor.required): after the key verifies, verify
	 * must accept too; without a verify hook nothing passes. */
	int needs_tlog;
};

/*
 * Does m verify for authority a? 0 with *signer_out (heap) set to the key
 * id ("sha256:<hex>" of the public key) or the keyless signer;
 * TG_EUNTRUSTED when it does not; TG_EINVALID when the authority can verify
 * nothing (no key and no hook: keyless not available), so the caller fails
 * closed. The message names the authority.
 * With needs_tlog, the key check is followed by the verify hook (given
 * the same material); the signer is the key id. *until_out: as the hook's
 * (INT64_MAX for a key alone).
 */
TG_WUR int tg_authority_verify(char **signer_out,
                               int64_t *until_out,
                               const tg_authority *a,
                               const tg_sig_material *m);

/* "key \"release\"" or "authorities \"a\", \"b\"" for messages, into b. */
struct tg_buf;
TG_WUR int
tg_authority_describe(struct tg_buf *b, const tg_authority *auths, size_t n);

#endif
