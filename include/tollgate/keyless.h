/*
 * Keyless (Fulcio) signing certificates: chain to a trusted certificate
 * authority at the signing time, leaf usage, embedded SCTs, and the signer
 * identity (SAN, OIDC issuer, GitHub workflow extensions).
 */
#ifndef TOLLGATE_KEYLESS_H
#define TOLLGATE_KEYLESS_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "tollgate/error.h"
#include "tollgate/trustroot.h"

struct tg_cert_identity;

/*
 * What a keyless authority requires of a certificate (policy.yaml
 * `keyless:`). Strings are borrowed. Each of issuer and subject is matched
 * exactly, or by a POSIX extended regular expression (the *_regexp form,
 * searched unanchored like Go's regexp.MatchString: anchor it with ^...$).
 * At least one subject form and one issuer form must be set. The github_*
 * conditions, when set, must equal the certificate's extension exactly.
 */
typedef struct tg_keyless_policy {
	const char *issuer;
	const char *issuer_regexp;
	const char *subject;
	const char *subject_regexp;
	const char *github_repository; /* 1.3.6.1.4.1.57264.1.12 or .1.5 */
	const char *github_ref;        /* 1.3.6.1.4.1.57264.1.14 or .1.6 */
	const char *github_trigger;    /* 1.3.6.1.4.1.57264.1.20 or .1.2 */
	bool require_sct;              /* demand a valid embedded SCT */
	/* Accept a leaf without an extended key usage extension as Go's x509
	 * does (private PKIs; Fulcio leaves always say code signing). */
	bool allow_missing_eku;
	/* Instead of the four string conditions: a matcher of the caller's
	 * (the policy's own regexp dialect); 0 accepts, or a negative code
	 * with its message. ctx is match_ctx. */
	int (*match)(void *ctx, const struct tg_cert_identity *id);
	void *match_ctx;
} tg_keyless_policy;

/* What a certificate says about its signer. Fields NULL when absent. */
struct tg_cert_identity {
	char *subject; /* first SAN: URI, email, or Fulcio otherName */
	char *issuer;  /* OIDC issuer */
	char *github_repository;
	char *github_ref;
	char *github_trigger;
	char *github_sha;
};
typedef struct tg_cert_identity tg_cert_identity;

/*
 * Extract the identity of a Fulcio certificate. The issuer comes from
 * 1.3.6.1.4.1.57264.1.8 (DER UTF8String), else the deprecated
 * 1.3.6.1.4.1.57264.1.1 (raw bytes). 0, or TG_EPARSE for a certificate
 * without a usable SAN or with a malformed extension.
 */
TG_WUR int tg_keyless_identity(tg_cert_identity **out, X509 *cert);
void tg_cert_identity_free(tg_cert_identity *id);

/* 0 when id satisfies p; TG_EUNTRUSTED naming the field, the value found
 * and the value wanted; TG_EINVALID for a policy that cannot match (bad
 * regular expression, no subject or issuer condition). */
TG_WUR int tg_keyless_match(const tg_cert_identity *id,
                            const tg_keyless_policy *p);

/*
 * Check a signing certificate for a keyless signature made at time t
 * (Unix seconds, the Rekor integrated time or a trusted timestamp): a
 * leaf (no CA bit) with the code-signing extended key usage, valid at t,
 * chaining at t to a certificate authority of root whose validity window
 * contains t. On success *issuer_out (may be NULL) receives a reference to
 * the certificate that issued leaf (X509_free it). 0, TG_EUNTRUSTED,
 * TG_EEXPIRED (not valid at t), TG_EINVALID (not a signing leaf).
 */
TG_WUR int tg_keyless_verify_cert(X509 **issuer_out,
                                  X509 *leaf,
                                  const tg_trustroot *root,
                                  int64_t t);

/*
 * Verify the embedded SCTs of leaf (extension 1.3.6.1.4.1.11129.2.4.2)
 * against the CT logs of root: the precertificate TBS (leaf without the
 * SCT extension) signed by a known log, inside the log's validity window.
 * 0 when at least one SCT verifies; TG_ENOTFOUND when the certificate
 * carries none; TG_EUNTRUSTED otherwise.
 */
TG_WUR int
tg_keyless_verify_sct(X509 *leaf, X509 *issuer, const tg_trustroot *root);

#endif
