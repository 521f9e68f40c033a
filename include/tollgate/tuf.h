/*
 * A TUF client (The Update Framework, specification 1.0.x) for one target:
 * Sigstore's trusted_root.json, kept current from a TUF mirror.
 *
 * Metadata: root, timestamp, snapshot and targets files, each
 * {"signed": {...}, "signatures": [{"keyid", "sig"}]}, signed over the
 * canonical JSON (OLPC, as TUF uses it) of "signed". Keys: ed25519 (hex),
 * ecdsa with scheme ecdsa-sha2-nistp256 and rsa with rsassa-pss-sha256
 * (PEM public keys, as Sigstore's root uses). A role's threshold counts
 * distinct keys (by key ID and by key material) of that role whose
 * signature verifies; keys of unknown types are ignored; a threshold of 0
 * is refused.
 *
 * tg_tuf_refresh follows the client workflow of the specification
 * (section 5): root rotation one version at a time (each new root signed
 * by a threshold of the previous root's keys and of its own, version
 * exactly N+1, at most TG_TUF_MAX_ROOT_ROTATIONS), then the expiry of the
 * final root, then timestamp (no rollback of its version or of the
 * snapshot version it names), snapshot (hashes and length from the
 * timestamp, version as named, no targets file rolled back), targets
 * (version from the snapshot) and the target by length and hashes, with
 * consistent snapshot paths when the root asks for them. Trusted metadata
 * and the target are kept in a cache directory, written atomically.
 */
#ifndef TOLLGATE_TUF_H
#define TOLLGATE_TUF_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tollgate/error.h"
#include "tollgate/http.h"

/*
 * The canonical JSON of v (OLPC canonical JSON as TUF uses it: object keys
 * sorted by their bytes, no whitespace, strings with only '"' and '\'
 * escaped, integers only), at most max bytes and TG_TUF_MAX_DEPTH deep.
 * *out is malloc'd and NUL-terminated. 0, TG_EINVALID (a real number),
 * TG_ETOOBIG (too deep or too long).
 */
TG_WUR int
tg_tuf_canonical_json(char **out, size_t *len, const json_t *v, size_t max);

/* A parsed metadata file (signatures not yet checked). */
typedef struct tg_tuf_metadata tg_tuf_metadata;

/*
 * Parse a metadata file of type ("root", "timestamp", "snapshot",
 * "targets"). name is used in messages. 0, TG_EPARSE (not JSON, a field
 * missing or of the wrong type), TG_EINVALID (another type, a spec_version
 * other than 1.x, a threshold of 0, a bad hash), TG_ETOOBIG.
 */
TG_WUR int tg_tuf_metadata_parse(tg_tuf_metadata **out,
                                 const char *name,
                                 const char *type,
                                 const char *json,
                                 size_t len);

int64_t tg_tuf_metadata_version(const tg_tuf_metadata *md);
int64_t tg_tuf_metadata_expires(const tg_tuf_metadata *md);

/*
 * Check that md carries signatures of at least the threshold of distinct
 * keys that root (a parsed root) gives to role. 0, or TG_EUNTRUSTED with
 * "N of M" in the message.
 */
TG_WUR int tg_tuf_verify_role(const tg_tuf_metadata *root,
                              const char *role,
                              const tg_tuf_metadata *md);

void tg_tuf_metadata_free(tg_tuf_metadata *md);

typedef struct tg_tuf_opts {
	/* Base URL of the repository: metadata at <mirror>/<file>, targets
	 * at <mirror>/targets/<path>. */
	const char *mirror;
	/* Directory holding the trusted metadata and the target (created
	 * 0700 when missing). */
	const char *cache_dir;
	/* The bootstrap root.json, trusted as given, used when the cache
	 * holds no root yet; its name for messages. */
	const char *bootstrap;
	size_t bootstrap_len;
	const char *bootstrap_name;
	/* The target to fetch (e.g. "trusted_root.json"). */
	const char *target;
	tg_http *http; /* borrowed */
} tg_tuf_opts;

/* A verified target. */
typedef struct tg_tuf_result {
	char *data; /* the target's bytes, NUL-terminated (not counted) */
	size_t len;
	int64_t root_version;
	int64_t targets_version;
	int64_t verified_at; /* Unix time of the update that verified it */
	int64_t expires;     /* earliest expiry of the metadata used */
} tg_tuf_result;

/*
 * Run the client workflow against the mirror and hand back the target.
 * 0; TG_ENET (mirror unreachable), TG_EUNTRUSTED (a signature threshold
 * not met, a rollback, a hash or length mismatch), TG_EEXPIRED (expired
 * metadata), TG_EPARSE / TG_EINVALID / TG_ETOOBIG (bad metadata),
 * TG_EIO (cache). Nothing unverified is ever written to the cache or
 * returned.
 */
TG_WUR int tg_tuf_refresh(tg_tuf_result *out, const tg_tuf_opts *opts);

/*
 * The target last verified, from the cache alone (no network, expiry not
 * checked: the caller reports its age): the cached root (signed by itself),
 * the cached targets metadata signed by that root's targets keys, and the
 * target matching its length and hashes. TG_ENOTFOUND when the cache holds
 * none; other codes as tg_tuf_refresh.
 */
TG_WUR int tg_tuf_load_cached(tg_tuf_result *out, const tg_tuf_opts *opts);

void tg_tuf_result_clear(tg_tuf_result *r);

#endif
