/*
 * Transparency log proofs (Rekor v1 and v2): RFC 8785 canonical JSON for
 * SignedEntryTimestamps, RFC 6962 / RFC 9162 Merkle inclusion proofs, and
 * checkpoints (signed notes, C2SP tlog-checkpoint and signed-note).
 */
#ifndef TOLLGATE_TLOG_H
#define TOLLGATE_TLOG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"

/*
 * Append the RFC 8785 canonical form of v to out: object keys sorted by
 * UTF-16 code units, no whitespace, minimal string escapes, integers in
 * decimal. Reals are refused (TG_EINVALID): no Sigstore document we
 * canonicalize carries one, and ES6 number formatting is easy to get wrong.
 */
TG_WUR int tg_tlog_canonical_json(tg_buf *out, const json_t *v);

/* RFC 6962 leaf hash SHA-256(0x00 || data). */
void tg_tlog_leaf_hash(unsigned char out[TG_SHA256_LEN],
                       const void *data,
                       size_t len);

/*
 * Check an inclusion proof (RFC 9162 section 2.1.3.2): the leaf with hash
 * leaf at index in a tree of tree_size leaves, with the audit path
 * hashes[0..nhashes) (TG_SHA256_LEN bytes each), gives root. 0, or
 * TG_EUNTRUSTED with the reason.
 */
TG_WUR int tg_tlog_verify_inclusion(const unsigned char leaf[TG_SHA256_LEN],
                                    uint64_t index,
                                    uint64_t tree_size,
                                    const unsigned char *hashes,
                                    size_t nhashes,
                                    const unsigned char root[TG_SHA256_LEN]);

/* A parsed checkpoint (signed note). Opaque. */
typedef struct tg_checkpoint tg_checkpoint;

/*
 * Parse a checkpoint note: origin line, tree size, base64 root hash,
 * optional extension lines, a blank line, then signature lines
 * "\u2014 <name> <base64(4-byte key hint || signature)>". 0 or TG_EPARSE.
 */
TG_WUR int
tg_checkpoint_parse(tg_checkpoint **out, const char *text, size_t len);
const char *tg_checkpoint_origin(const tg_checkpoint *cp);
uint64_t tg_checkpoint_size(const tg_checkpoint *cp);
const unsigned char *tg_checkpoint_root(const tg_checkpoint *cp);
size_t tg_checkpoint_signature_count(const tg_checkpoint *cp);
void tg_checkpoint_free(tg_checkpoint *cp);

#endif
