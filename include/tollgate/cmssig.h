/*
 * X.509 CMS detached signatures over bytes (RFC 5652 SignedData, as
 * gitsign and smimesign write a commit's gpgsig: "-----BEGIN SIGNED
 * MESSAGE-----"; "-----BEGIN CMS-----" and "-----BEGIN PKCS7-----" are
 * read too). OpenSSL's CMS API parses and verifies; this module checks
 * the shape (detached, one signer), the chain to the policy's roots at
 * the signing time, and the signer's identity: its email or URI SAN
 * against subject / subjectRegExp, its Fulcio OIDC issuer extension
 * (1.3.6.1.4.1.57264.1.8, else .1.1) against issuer when the policy
 * names one.
 */
#ifndef TOLLGATE_CMSSIG_H
#define TOLLGATE_CMSSIG_H

#include <stddef.h>
#include <stdint.h>

#include "tollgate/error.h"
#include "tollgate/policy.h"
#include "tollgate/siginfo.h"

/*
 * Verify sig over msg, made at time when (Unix seconds; for commits the
 * committer time), against x. info (may be NULL) gets the signer's
 * certificate subject and SAN as soon as they are known. 0, TG_EPARSE /
 * TG_ETOOBIG (malformed), TG_EUNTRUSTED (does not verify, does not chain
 * to the roots, another identity or issuer), TG_EEXPIRED (a certificate
 * not valid at when), each with a message.
 */
TG_WUR int tg_cmssig_verify(tg_sig_info *info,
                            const tg_policy_x509 *x,
                            const char *sig,
                            size_t sig_len,
                            const void *msg,
                            size_t msg_len,
                            int64_t when);

/*
 * Check a roots file of a policy (name is used in messages): PEM with at
 * least one certificate. 0 or TG_EPARSE.
 */
TG_WUR int tg_cmssig_check_roots(const char *pem, size_t len, const char *name);

#endif
