/*
 * Sigstore bundles (v0.1, v0.2, v0.3; protojson encoding) and the legacy
 * cosign layer annotations, verified offline against a trust root.
 *
 * A verification checks, in this order: the bundle's shape; the signature
 * over the artifact (message signature) or the DSSE envelope (exactly one
 * signature) and the in-toto subject against the artifact digest; the
 * transparency log entries (body matches the signature, key or certificate
 * and payload; SignedEntryTimestamp; inclusion proof up to a signed
 * checkpoint); RFC 3161 timestamps; then for a certificate the chain to a
 * trusted Fulcio CA at every verified signing time, the SCT and the
 * identity policy. It fails closed: any check that does not pass rejects.
 */
#ifndef TOLLGATE_BUNDLE_H
#define TOLLGATE_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tollgate/error.h"
#include "tollgate/keyless.h"
#include "tollgate/keys.h"
#include "tollgate/trustroot.h"

/* Media types of the bundle produced by cosign v3 (OCI referrers). */
#define TG_BUNDLE_MEDIA_TYPE_V03 "application/vnd.dev.sigstore.bundle.v0.3+json"
/* The in-toto predicate cosign v3 uses for plain signatures. */
#define TG_COSIGN_SIGN_PREDICATE "https://sigstore.dev/cosign/sign/v1"

/* What was signed: the bytes, or only their digest. */
typedef struct tg_artifact {
	const unsigned char *data; /* NULL when only the digest is known */
	size_t len;
	const char *digest; /* "sha256:<hex>" (or sha512), when data is NULL */
} tg_artifact;

/* tlog_threshold for signatures kept out of transparency logs. */
#define TG_TLOG_NONE (-1)

/* Who must have signed. Exactly one of key and keyless is set. */
typedef struct tg_sigstore_policy {
	const tg_trustroot *root;         /* logs, CAs, TSAs trusted */
	const tg_key *key;                /* key-based signature */
	const tg_keyless_policy *keyless; /* certificate identity */
	int tlog_threshold;      /* verified log entries needed: 0 means 1;
	                          TG_TLOG_NONE needs none (then a trusted RFC
	                          3161 timestamp must give the signing time) */
	bool allow_current_time; /* no verified signing time: check the
	                            certificate now (long-lived PKI) */
} tg_sigstore_policy;

/* What a successful verification established. */
typedef struct tg_sigstore_evidence {
	char *signer;            /* certificate SAN, or key id "sha256:..." */
	char *issuer;            /* OIDC issuer; NULL for a key */
	int64_t log_index;       /* Rekor log index; -1 when none */
	int64_t integrated_time; /* Rekor integrated time; -1 when none */
	int64_t timestamp;       /* RFC 3161 time; -1 when none */
	char *log_id;            /* hex log id of the entry */
	char *payload_type;      /* DSSE payload type; NULL for messages */
	unsigned char *payload;  /* DSSE payload (the statement); or NULL */
	size_t payload_len;
	char *predicate_type; /* in-toto predicateType, when DSSE */
	/* A certificate checked at the current time (no signed time,
	 * allow_current_time): the earliest notAfter of its chain, after
	 * which the same check fails. INT64_MAX otherwise. */
	int64_t valid_until;
} tg_sigstore_evidence;

void tg_sigstore_evidence_free(tg_sigstore_evidence *ev);

/*
 * Verify a bundle (JSON bytes; name is used in messages, e.g. a path or an
 * image digest) for artifact under policy. 0 with *out set, or a negative
 * code whose detail names the check that failed: TG_EPARSE (malformed
 * bundle), TG_EINVALID (unsupported version or shape), TG_EUNTRUSTED,
 * TG_EEXPIRED.
 */
TG_WUR int tg_bundle_verify(tg_sigstore_evidence **out,
                            const char *name,
                            const char *json,
                            size_t len,
                            const tg_artifact *artifact,
                            const tg_sigstore_policy *policy);

/*
 * Verify a legacy cosign signature layer: payload (the layer blob, the
 * signed bytes), its base64 signature (annotation
 * dev.cosignproject.cosign/signature), and optional annotations
 * dev.sigstore.cosign/certificate (PEM), dev.sigstore.cosign/chain (PEM)
 * and dev.sigstore.cosign/bundle (Rekor SET JSON). With policy->key the
 * signature is checked with the key; with policy->keyless the certificate
 * is, at the bundle's integrated time, which then is required. A bundle,
 * when present, must carry a valid SET over an entry that matches.
 */
typedef struct tg_cosign_layer {
	const unsigned char *payload; /* signed bytes; for DSSE the payload */
	size_t payload_len;
	const char *signature_b64;      /* base64 signature, or NULL and: */
	const unsigned char *signature; /* the raw signature */
	size_t signature_len;
	const char *certificate_pem; /* or NULL */
	const char *chain_pem;       /* or NULL */
	const char *bundle_json;     /* or NULL */
	/* An attestation (.att layer): the DSSE payload type; the signature
	 * is over the PAE of payload, and the Rekor entry is intoto/dsse. */
	const char *dsse_payload_type;
} tg_cosign_layer;

TG_WUR int tg_cosign_legacy_verify(tg_sigstore_evidence **out,
                                   const char *name,
                                   const tg_cosign_layer *layer,
                                   const tg_sigstore_policy *policy);

#endif
