/*
 * Limits on what the verifier reads: registry answers, image references,
 * signatures and attestations, certificates, Sigstore bundles, commit
 * signatures and OpenPGP packets. Part of limits.h, which includes it;
 * include limits.h, not this file.
 */
#ifndef TOLLGATE_LIMITS_VERIFY_H
#define TOLLGATE_LIMITS_VERIFY_H

/* Registries --------------------------------------------------------------- */

/* Bytes in an image manifest or index (the OCI distribution spec suggests
 * registries accept at least 4 MiB). */
#define TG_MAX_MANIFEST_BYTES (4u * 1024 * 1024)

/* Bytes in a blob we read into memory (config, signature payload, DSSE
 * envelope, SBOM). SBOMs of large images reach tens of MiB. */
#define TG_MAX_BLOB_BYTES (64u * 1024 * 1024)

/* Bytes in a token, error or ping response. */
#define TG_MAX_SMALL_RESPONSE_BYTES (1u * 1024 * 1024)

/* Signature or attestation layers considered per image. */
#define TG_MAX_SIGNATURES 64

/* Referrers pages followed. */
#define TG_MAX_REFERRER_PAGES 16

/* Redirects followed per request (blob storage redirects once). */
#define TG_MAX_REDIRECTS 5

/* Seconds for one HTTP request, connect included. */
#define TG_HTTP_TIMEOUT_S 30

/* Seconds to connect. */
#define TG_HTTP_CONNECT_TIMEOUT_S 10

/* Retries of a request that failed with 429, 5xx or a network error. */
#define TG_HTTP_MAX_RETRIES 3

/* Parallel transfers by default. */
#define TG_HTTP_DEFAULT_PARALLEL 16

/* First retry delay in milliseconds; doubled for each further retry. */
#define TG_HTTP_RETRY_BASE_MS 500

/* Longest Retry-After honoured, in seconds: a registry asking for more is
 * treated as down rather than stalling the whole cycle. */
#define TG_HTTP_RETRY_AFTER_MAX_S 10

/* Bytes of response headers kept per response (names and values). */
#define TG_MAX_HTTP_HEADER_BYTES (64u * 1024)

/* Bytes of manifests and blobs kept in a registry client's digest cache. */
#define TG_MAX_REGISTRY_CACHE_BYTES (64u * 1024 * 1024)

/* Descriptors (layers, index entries, referrers) in one manifest or index;
 * real images have tens of layers and indexes tens of platforms. */
#define TG_MAX_MANIFEST_DESCRIPTORS 1024

/* Annotations on one descriptor or manifest. */
#define TG_MAX_ANNOTATIONS 256

/* Seconds a Bearer token is reused when the token server gives no
 * expires_in (the distribution token spec's default is 60). */
#define TG_REGISTRY_TOKEN_DEFAULT_TTL_S 60

/* Credentials in one docker config.json (auths entries read). */
#define TG_MAX_AUTH_ENTRIES 1024

/* Characters in the longest digest string compared with received bytes:
 * "sha512:" + 128 hex (sha256 and sha512 are the algorithms verified). */
#define TG_MAX_DIGEST_STR_LEN 135

/* Bytes in a token request URL: the realm of a 401 challenge with the
 * service and scope added. Real ones are under 200; the realm comes from
 * a response header, which may be up to TG_MAX_HTTP_HEADER_BYTES. */
#define TG_MAX_TOKEN_URL_BYTES 8192

/* Bytes in a Bearer token value sent back in a header: JWTs of real token
 * servers are a few KiB; more is a broken or hostile token server. */
#define TG_MAX_TOKEN_BYTES 16384

/* Characters in a registry name ("host[:port]") given to the client: a
 * DNS name is at most 253, plus a port. */
#define TG_MAX_REGISTRY_NAME_BYTES 255

/* Characters in a repository name given to the client (the distribution
 * spec's 255 for the whole name bounds the path too). */
#define TG_MAX_REPOSITORY_BYTES 255

/* Bytes of an index's "<key>[<i>]" position named in manifest messages
 * (keys are "layers" or "manifests", i at most 4 digits). */
#define TG_MAX_MANIFEST_WHERE_BYTES 64

/* Bytes of a Content-Type kept to compare with a manifest's mediaType
 * (the longest media type recognised is 57). */
#define TG_MAX_CONTENT_TYPE_BYTES 128

/* Bytes of a registry's own error words ("CODE: message") quoted in a
 * message about an unexpected HTTP status. */
#define TG_MAX_REGISTRY_ERROR_DETAIL_BYTES 256

/* Image references --------------------------------------------------------- */

/* Characters in an image reference; the distribution spec caps the name
 * at 255 and a tag at 128, a digest adds ~72. */
#define TG_MAX_IMAGEREF_BYTES 512

/* Characters in registry "/" repository after normalisation: the OCI
 * distribution spec notes that many clients cap that concatenation at 255
 * (distribution/reference's NameTotalLengthMax). */
#define TG_MAX_IMAGE_NAME_BYTES 255

/* Characters in a tag (distribution/reference: [\w][\w.-]{0,127}). */
#define TG_MAX_IMAGE_TAG_BYTES 128

/* Hex digits a digest needs at least (distribution/reference's grammar:
 * 32 or more; 32 hex digits encode 16 bytes, shorter is no digest). */
#define TG_MIN_DIGEST_HEX 32

/* Bytes of the reason in a message about an invalid image reference. */
#define TG_MAX_IMAGEREF_ERROR_BYTES 512

/* Characters of an invalid image reference quoted in its message: enough
 * to find it, short enough that a hostile one cannot flood logs. */
#define TG_MAX_IMAGEREF_QUOTED_BYTES 200

/* Signatures and attestations ---------------------------------------------- */

/* Bytes in one cosign simple-signing payload. Real ones are ~300 bytes;
 * "optional" may carry a few annotations. */
#define TG_MAX_SIGNATURE_PAYLOAD_BYTES (64u * 1024)

/* Bytes in one DSSE envelope: it carries the whole in-toto statement, and
 * SBOM predicates of large images reach tens of MiB. */
#define TG_MAX_DSSE_ENVELOPE_BYTES TG_MAX_BLOB_BYTES

/* Sigstore bundles found as OCI 1.1 referrers (cosign v3) that are
 * fetched and verified per image: one signature and a few attestations
 * (SBOM, scan, provenance) per build, re-signed now and then; more is
 * clutter or an attempt to make verification slow. */
#define TG_MAX_REFERRER_BUNDLES 32

/* Signatures in one DSSE envelope (cosign writes one). */
#define TG_MAX_DSSE_SIGNATURES 16

/* Subjects in one in-toto statement (one per artifact; build provenance
 * of a multi-binary release has hundreds). */
#define TG_MAX_INTOTO_SUBJECTS 4096

/* Images verified in one call of the verifier (one cycle's images). */
#define TG_MAX_VERIFY_IMAGES 10000

/* Verdicts kept in a verdict cache. */
#define TG_MAX_VERDICT_CACHE_ENTRIES 100000

/* Certificates ------------------------------------------------------------- */

/* Certificates in one chain. */
#define TG_MAX_CHAIN_DEPTH 10

/* Bytes in one PEM or DER certificate or key. */
#define TG_MAX_PEM_BYTES (64u * 1024)

/* Sigstore ----------------------------------------------------------------- */

/* Bytes in a SHA-256 digest (FIPS 180-4): artifact digests, Rekor log ids,
 * Merkle tree hashes, key hashes. Fixed by the algorithm, not a choice. */
#define TG_SHA256_LEN 32

/* Bytes in a SHA-512 digest (FIPS 180-4): a bundle's artifact digest may
 * be given as SHA-512. Fixed by the algorithm. */
#define TG_SHA512_LEN 64

/* Bytes in one bundle: a DSSE bundle holds an attestation, which for SBOMs
 * reaches tens of MiB. */
#define TG_MAX_BUNDLE_BYTES TG_MAX_BLOB_BYTES

/* Transparency log entries and RFC 3161 timestamps in one bundle. */
#define TG_MAX_BUNDLE_ENTRIES 16

/* Seconds a log's integrated time may run ahead of our clock. */
#define TG_MAX_CLOCK_SKEW_S 300

/* Bytes of OpenSSL's reason why no trusted TSA verified a timestamp, and
 * of the error kept when a bundle's timestamp was not used: both end up
 * in one verdict reason, so they are cut rather than grown. */
#define TG_TSA_WHY_BYTES 256
#define TG_TSA_ERROR_BYTES 512

/* Bytes of the error context naming a trusted root entry
 * ("tlogs[3]") or a bundle's log entry ("NAME: tlogEntries[2]", "log
 * entry N"): a name and an index; a longer name is cut in the message. */
#define TG_TRUSTROOT_CTX_BYTES 256
#define TG_BUNDLE_CTX_BYTES 300

/* Signatures -------------------------------------------------------------- */

/* Bytes of the DSSE pre-authentication prefix "DSSEv1 <len> " before the
 * type: 7 characters and a size_t in decimal (at most 20 digits). */
#define TG_DSSE_PAE_HEAD_BYTES 64

/* Bytes of an EC curve name from OpenSSL ("prime256v1", "secp384r1"):
 * longer names are no curve we accept. */
#define TG_KEY_CURVE_NAME_BYTES 64

/* Bytes of a digest algorithm name in an in-toto subject ("sha256",
 * "sha512"): anything longer is no algorithm we match. */
#define TG_INTOTO_ALG_BYTES 16

/* Predicate checks --------------------------------------------------------- */

/* Findings (denied licenses or packages, vulnerability ids) listed in one
 * check's evidence and reasons; the counts stay exact. Keeps a status
 * document readable and bounded when a scan reports thousands. */
#define TG_MAX_CHECK_FINDINGS 100

/* Bytes of one reason or note of a check; a longer one is cut, so a
 * hostile document cannot make one reason huge. */
#define TG_CHECK_TEXT_MAX 4096

/* Characters in one version or license token of an SBOM that is compared
 * (deniedPackages, deniedLicenses); real ones are under 100. */
#define TG_SBOM_MAX_TOKEN 256

/* Seconds a scan time may lie ahead of our clock (clock skew between the
 * scanner's machine and ours) before the scan counts as from the future,
 * which no honest scanner writes. */
#define TG_VULN_MAX_CLOCK_SKEW_S 300

/* Vulnerability ids named in one reason line; the evidence lists more. */
#define TG_VULN_IDS_IN_REASON 10

/* Bytes of a time written as RFC 3339 UTC text, "2026-01-02T03:04:05Z"
 * (tg_format_rfc3339): 20 characters and the NUL. */
#define TG_RFC3339_BYTES 21
/* The latest time RFC 3339 text with a four-digit year can hold
 * (9999-12-31T23:59:59Z): a validity bound past it counts as none. */
#define TG_TIME_TEXT_MAX_S 253402300799LL

/* Bytes of a duration written as the policy writes it ("1d6h", "90d"):
 * the longest an int64_t of seconds gives, four units with their counts,
 * is under 30 characters; 64 leaves room. */
#define TG_DURATION_TEXT_BYTES 64

/* Verdicts ----------------------------------------------------------------- */

/* Exceptions looked at per image (the policy rarely has more than a few
 * for one image). */
#define TG_VERIFIER_MAX_EXCEPTIONS 32

/* Bytes of an image config blob read for maxImageAge: a config is JSON
 * of the size of a manifest. */
#define TG_VERIFIER_MAX_CONFIG_BYTES TG_MAX_MANIFEST_BYTES

/* Seconds a cached verdict stays valid by default: short enough that an
 * expired exception, a revoked key (policy change: new hash) or a new
 * scan is picked up within minutes. */
#define TG_VERDICT_CACHE_DEFAULT_TTL_S 600

/* Commit signatures (verify/sig/sshsig.c, openpgp.c, cms.c) -------------- */

/* Bytes of a commit's signature header (gpgsig) as extracted from the
 * commit: an SSH or OpenPGP signature is under 2 KiB, an X.509 CMS one
 * with its chain a few KiB; more is not a signature. */
#define TG_MAX_COMMIT_SIGNATURE_BYTES (64u * 1024)

/* Bytes of a commit object's signed payload (header and message): a
 * commit message is text; Git itself refuses nothing, but 1 MiB is far
 * beyond any real one. */
#define TG_MAX_COMMIT_PAYLOAD_BYTES (1u * 1024 * 1024)

/* Commits checked in commits.mode history between the last deployed
 * commit and the new head: a bound on the work one push can cause. */
#define TG_MAX_HISTORY_COMMITS 10000

/* Bytes of one string field inside an SSH wire blob (key type names,
 * key material, namespaces, signatures): an RSA-16384 modulus is 2 KiB. */
#define TG_MAX_SSH_STRING 8192

/* Bytes of one line of an OpenSSH public key or allowed_signers file
 * (RSA-16384 in base64 is ~2.8 KiB, plus principals and options). */
#define TG_MAX_SSH_LINE 16384

/* Keys in one ssh/allowedSigners file of the policy. */
#define TG_MAX_SSH_KEYS 1000

/* Bytes of the principals field and of each option value of an
 * allowed_signers line. */
#define TG_MAX_SSH_PRINCIPALS 4096

/* Bytes of a signer or key description in status text ("alice (ssh
 * ed25519 SHA256:...)", a certificate subject). */
#define TG_MAX_SIGNER_DESC 512

/* OpenPGP (verify/sig/pgppkt.c, pgpkey.c, pgpsig.c) ----------------------- */

/* Bytes of one OpenPGP packet body: an RSA-16384 key is ~2 KiB and a
 * self-signature with every preference a few hundred bytes; photo IDs
 * (user attribute packets) above this are refused rather than read. */
#define TG_MAX_PGP_PACKET 65536

/* Packets in one armoured block or key file: a key with a few user IDs,
 * subkeys and their signatures is a few dozen; third-party
 * certifications of a busy key run to hundreds. */
#define TG_MAX_PGP_PACKETS 4096

/* Primary keys in one openpgp: file of the policy. */
#define TG_MAX_PGP_KEYS 1000

/* Subkeys and user IDs of one primary key. */
#define TG_MAX_PGP_SUBKEYS 64
#define TG_MAX_PGP_UIDS 64

/* Self-signatures verified per key at load (each costs one public key
 * operation): a key re-signed on every expiry extension has a few. */
#define TG_MAX_PGP_SELF_SIGS 256

/* Bits of one multiprecision integer (RFC 9580 3.2): RSA-16384. */
#define TG_MAX_PGP_MPI_BITS 16384

/* Subpackets in one signature's hashed or unhashed area. */
#define TG_MAX_PGP_SUBPACKETS 128

/* Bytes of a user ID kept for messages and the status. */
#define TG_MAX_PGP_UID 256

#endif
