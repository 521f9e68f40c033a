/*
 * Is this commit signed by a signer of the policy's commits: section?
 * The signature (a commit's gpgsig header) and the signed payload come
 * from the caller (reconciler/source/): this module knows nothing of
 * Git. The signature's armour picks the verifier: SSH
 * ("-----BEGIN SSH SIGNATURE-----", namespace "git", tollgate/sshsig.h),
 * OpenPGP ("-----BEGIN PGP SIGNATURE-----") and X.509 CMS
 * ("-----BEGIN SIGNED MESSAGE-----", as gitsign and smimesign write it).
 * Each signer of that format is tried in policy order; the first that
 * accepts the signature is the commit's signer.
 */
#ifndef TOLLGATE_COMMITSIG_H
#define TOLLGATE_COMMITSIG_H

#include <stddef.h>
#include <stdint.h>

#include "tollgate/error.h"
#include "tollgate/policy.h"
#include "tollgate/siginfo.h"

typedef struct tg_commitsig_result {
	tg_sig_info info;   /* what the signature showed (even refused) */
	const char *signer; /* the policy signer's name (borrowed), or NULL */
	/* "alice (ssh ed25519 SHA256:...)" when verified, else "" */
	char signed_by[TG_MAX_SIGNER_DESC * 2];
} tg_commitsig_result;

/*
 * Check sig (NULL or empty: the commit is unsigned) over payload, made at
 * time when (the committer time), against the signers of commits.
 * 0 with out->signer set; otherwise TG_ENOTFOUND (unsigned),
 * TG_EUNTRUSTED (no listed signer made it, or it does not verify),
 * TG_EEXPIRED (a listed key outside its validity), TG_EPARSE /
 * TG_ETOOBIG / TG_EINVALID (a malformed or unsupported signature), with
 * the reason in tg_error_last() ("signed by ssh ed25519 SHA256:...,
 * which no signer of the policy lists").
 */
TG_WUR int tg_commitsig_verify(tg_commitsig_result *out,
                               const tg_policy_commits *commits,
                               const char *sig,
                               size_t sig_len,
                               const char *payload,
                               size_t payload_len,
                               int64_t when);

#endif
