/*
 * What a signature over bytes showed about its signer, whether or not it
 * verified: shared by the SSH (sshsig.h), OpenPGP (openpgp.h) and X.509
 * CMS (cms.h) verifiers and the commit check (commitsig.h), so a refusal
 * can still say which key signed.
 */
#ifndef TOLLGATE_SIGINFO_H
#define TOLLGATE_SIGINFO_H

#include "tollgate/limits.h"

typedef struct tg_sig_info {
	/* "ssh", "openpgp" or "x509"; "" when the signature did not parse */
	char format[16];
	/* The key: "ed25519 SHA256:<base64>" (SSH), "rsa <fingerprint>"
	 * (OpenPGP), the certificate subject (X.509); "" when unknown. */
	char key[TG_MAX_SIGNER_DESC];
	/* The name the trust file gives the key: the allowed_signers
	 * principals, the OpenPGP user id, the certificate's email or URI;
	 * "" when none. */
	char principal[TG_MAX_SIGNER_DESC];
} tg_sig_info;

#endif
