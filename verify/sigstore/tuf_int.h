/*
 * Internals of the TUF client (include/tollgate/tuf.h): parsed metadata,
 * keys and roles, shared by tuf_meta.c (parsing), tuf_sig.c (keys and
 * thresholds) and tuf_client.c (the workflow).
 */
#ifndef TOLLGATE_TUF_INT_H
#define TOLLGATE_TUF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "tollgate/limits.h"
#include "tollgate/tuf.h"

enum { TUF_ROOT, TUF_TIMESTAMP, TUF_SNAPSHOT, TUF_TARGETS, TUF_NROLES };

typedef enum {
	TUF_SCHEME_NONE = 0, /* unknown type or scheme: never counts */
	TUF_SCHEME_ED25519,
	TUF_SCHEME_ECDSA_P256,
	TUF_SCHEME_RSA_PSS,
} tuf_scheme;

typedef struct tuf_key {
	char *id;
	tuf_scheme scheme;
	EVP_PKEY *pkey;      /* NULL when the scheme is unknown */
	unsigned char *spki; /* DER SubjectPublicKeyInfo, to count a key
	                        listed under two IDs once */
	size_t spki_len;
} tuf_key;

typedef struct tuf_role {
	char **keyids;
	size_t nkeyids;
	uint64_t threshold; /* >= 1 */
} tuf_role;

/* A file named in a timestamp, snapshot or targets file. */
typedef struct tuf_fileinfo {
	char *name;
	int64_t version; /* -1: not given (targets) */
	int64_t length;  /* -1: not given */
	bool has_sha256, has_sha512;
	bool unknown_hash; /* a hash of another algorithm: cannot be checked */
	unsigned char sha256[32];
	unsigned char sha512[64];
} tuf_fileinfo;

typedef struct tuf_sig {
	char *keyid;
	unsigned char *sig;
	size_t sig_len;
} tuf_sig;

struct tg_tuf_metadata {
	char *name; /* for messages */
	int type;   /* TUF_ROOT ... */
	int64_t version;
	int64_t expires;
	char *canon; /* canonical JSON of "signed": what is signed */
	size_t canon_len;
	tuf_sig *sigs;
	size_t nsigs;
	/* root */
	bool consistent_snapshot;
	tuf_key *keys;
	size_t nkeys;
	tuf_role roles[TUF_NROLES];
	/* timestamp and snapshot: meta; targets: targets */
	tuf_fileinfo *files;
	size_t nfiles;
};

extern const char *const tg_tuf__role_names[TUF_NROLES];

/* Parse the "keys" object of a root into md->keys. */
int tg_tuf__parse_keys(tg_tuf_metadata *md, const json_t *keys);

/* The file named name in md->files, or NULL. */
const tuf_fileinfo *tg_tuf__file(const tg_tuf_metadata *md, const char *name);

/*
 * Check data against info's length and hashes (every hash given must
 * match; at least one is required when need_hash). what names the data.
 */
int tg_tuf__check_file(const tuf_fileinfo *info,
                       const char *what,
                       const char *data,
                       size_t len,
                       bool need_hash);

/* True when the roles of a and b list the same key IDs. */
bool tg_tuf__same_keys(const tg_tuf_metadata *a,
                       const tg_tuf_metadata *b,
                       int role);

#endif
