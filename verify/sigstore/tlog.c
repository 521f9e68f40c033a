/*
 * Transparency log proofs: see include/tollgate/tlog.h.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sigstore_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/tlog.h"
#include "tollgate/util.h"

/* Audit path entries: a tree of 2^64 leaves needs 64. */
#define TG_MAX_PROOF_HASHES 64
/* Signature lines in one checkpoint (the log plus witnesses). */
#define TG_MAX_CHECKPOINT_SIGS 64
/* Bytes in one checkpoint note. */
#define TG_MAX_CHECKPOINT_BYTES (64u * 1024)
/* Bytes of one decoded note signature (4-byte hint + ECDSA/Ed25519/RSA). */
#define TG_MAX_NOTE_SIG_BYTES 1024

/* ---- RFC 8785 canonical JSON ------------------------------------------ */

/* Next UTF-16 code unit sequence of a UTF-8 string: decode one code point
 * at *p and return it; jansson has already validated the UTF-8. */
static uint32_t utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t c = s[0];
	int n = 0;

	if (c >= 0xf0) {
		c &= 0x07;
		n = 3;
	} else if (c >= 0xe0) {
		c &= 0x0f;
		n = 2;
	} else if (c >= 0xc0) {
		c &= 0x1f;
		n = 1;
	}
	(*p)++;
	while (n-- > 0 && **p)
		c = (c << 6) | (*(*p)++ & 0x3f);
	return c;
}

/* First UTF-16 code unit of code point c (what RFC 8785 sorts by). */
static uint32_t utf16_unit(uint32_t c, uint32_t *second)
{
	*second = 0;
	if (c < 0x10000)
		return c;
	c -= 0x10000;
	*second = 0xdc00 | (c & 0x3ff);
	return 0xd800 | (c >> 10);
}

/* RFC 8785 section 3.2.3: compare keys as arrays of UTF-16 code units. */
static int key_cmp(const void *a, const void *b)
{
	const unsigned char *p = *(const unsigned char *const *)a;
	const unsigned char *q = *(const unsigned char *const *)b;
	uint32_t pa, pb, qa, qb;

	while (*p && *q) {
		pa = utf16_unit(utf8_next(&p), &pb);
		qa = utf16_unit(utf8_next(&q), &qb);
		if (pa != qa)
			return pa < qa ? -1 : 1;
		if (pb != qb)
			return pb < qb ? -1 : 1;
	}
	return (*p != 0) - (*q != 0);
}

static int put_string(tg_buf *out, const char *s, size_t len)
{
	size_t i;
	int error = tg_buf_puts(out, "\"");

	for (i = 0; i < len && !error; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
			error = tg_buf_puts(out, "\\\"");
			break;
		case '\\':
			error = tg_buf_puts(out, "\\\\");
			break;
		case '\b':
			error = tg_buf_puts(out, "\\b");
			break;
		case '\f':
			error = tg_buf_puts(out, "\\f");
			break;
		case '\n':
			error = tg_buf_puts(out, "\\n");
			break;
		case '\r':
			error = tg_buf_puts(out, "\\r");
			break;
		case '\t':
			error = tg_buf_puts(out, "\\t");
			break;
		default:
			if (c < 0x20)
				error = tg_buf_printf(out, "\\u%04x", c);
			else
				error = tg_buf_append(out, &s[i], 1);
		}
	}
	return error ? error : tg_buf_puts(out, "\"");
}

static int put_object(tg_buf *out, const json_t *v)
{
	const char **keys;
	const char *k;
	json_t *item;
	size_t n = 0, i;
	int error;

	keys = tg_calloc(json_object_size(v) + 1, sizeof(*keys));
	json_object_foreach((json_t *)v, k, item)
		keys[n++] = k;
	tg_qsort(keys, n, sizeof(*keys), key_cmp);
	error = tg_buf_puts(out, "{");
	for (i = 0; i < n && !error; i++) {
		if (i)
			error = tg_buf_puts(out, ",");
		if (!error)
			error = put_string(out, keys[i], strlen(keys[i]));
		if (!error)
			error = tg_buf_puts(out, ":");
		if (!error)
			error = tg_tlog_canonical_json(
			        out, json_object_get(v, keys[i]));
	}
	free(keys);
	return error ? error : tg_buf_puts(out, "}");
}

int tg_tlog_canonical_json(tg_buf *out, const json_t *v)
{
	size_t i;
	int error = 0;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return put_object(out, v);
	case JSON_ARRAY:
		error = tg_buf_puts(out, "[");
		for (i = 0; i < json_array_size(v) && !error; i++) {
			if (i)
				error = tg_buf_puts(out, ",");
			if (!error)
				error = tg_tlog_canonical_json(
				        out, json_array_get(v, i));
		}
		return error ? error : tg_buf_puts(out, "]");
	case JSON_STRING:
		return put_string(out, json_string_value(v),
		                  json_string_length(v));
	case JSON_INTEGER:
		return tg_buf_printf(out, "%" JSON_INTEGER_FORMAT,
		                     json_integer_value(v));
	case JSON_TRUE:
		return tg_buf_puts(out, "true");
	case JSON_FALSE:
		return tg_buf_puts(out, "false");
	case JSON_NULL:
		return tg_buf_puts(out, "null");
	default:
		return tg_error_set(TG_EINVALID,
		                    "canonical JSON: floating "
		                    "point numbers are not supported");
	}
}

/* ---- RFC 6962 / 9162 Merkle trees -------------------------------------- */

void tg_tlog_leaf_hash(unsigned char out[TG_SHA256_LEN],
                       const void *data,
                       size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char prefix = 0x00;

	if (!ctx)
		tg_oom(sizeof(*out));
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, &prefix, 1);
	EVP_DigestUpdate(ctx, data, len);
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
}

/* SHA-256(0x01 || left || right), the interior node hash. */
static void node_hash(unsigned char out[TG_SHA256_LEN],
                      const unsigned char *left,
                      const unsigned char *right)
{
	unsigned char buf[1 + 2 * TG_SHA256_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, left, TG_SHA256_LEN);
	memcpy(buf + 1 + TG_SHA256_LEN, right, TG_SHA256_LEN);
	tg_sha256(out, buf, sizeof(buf));
}

int tg_tlog_verify_inclusion(const unsigned char leaf[TG_SHA256_LEN],
                             uint64_t index,
                             uint64_t tree_size,
                             const unsigned char *hashes,
                             size_t nhashes,
                             const unsigned char root[TG_SHA256_LEN])
{
	unsigned char r[TG_SHA256_LEN];
	uint64_t fn = index, sn;
	size_t i;

	if (index >= tree_size)
		return tg_error_set(TG_EUNTRUSTED,
		                    "inclusion proof: index "
		                    "%llu is outside a tree of %llu leaves",
		                    (unsigned long long)index,
		                    (unsigned long long)tree_size);
	if (nhashes > TG_MAX_PROOF_HASHES)
		return tg_error_set(TG_EUNTRUSTED,
		                    "inclusion proof: %zu "
		                    "hashes, more than any tree needs",
		                    nhashes);
	sn = tree_size - 1;
	memcpy(r, leaf, TG_SHA256_LEN);
	for (i = 0; i < nhashes; i++) {
		const unsigned char *p = hashes + TG_SHA256_LEN * i;

		if (sn == 0)
			return tg_error_set(TG_EUNTRUSTED,
			                    "inclusion proof: "
			                    "longer than the path to the root");
		if ((fn & 1) || fn == sn) {
			node_hash(r, p, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			node_hash(r, r, p);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return tg_error_set(TG_EUNTRUSTED, "inclusion proof: shorter "
		                                   "than the path to the root");
	if (CRYPTO_memcmp(r, root, TG_SHA256_LEN))
		return tg_error_set(TG_EUNTRUSTED,
		                    "inclusion proof: computed "
		                    "root hash does not match the proof's root "
		                    "hash");
	return 0;
}

/* ---- Checkpoints (signed notes) ------------------------------------------ */

typedef struct note_sig {
	char *name;
	unsigned char *sig; /* 4-byte key hint, then the signature */
	size_t sig_len;
} note_sig;

struct tg_checkpoint {
	char *origin;
	uint64_t size;
	unsigned char root[TG_SHA256_LEN];
	char *body; /* the signed text: every line up to the blank line */
	size_t body_len;
	note_sig *sigs;
	size_t nsigs;
};

static int parse_body(tg_checkpoint *cp)
{
	const char *l1 = cp->body, *l2, *l3, *l4;
	unsigned char *root = NULL;
	size_t root_len;

	l2 = strchr(l1, '\n');
	l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
	l4 = l3 ? strchr(l3 + 1, '\n') : NULL;
	if (!l4 || l2 == l1)
		return tg_error_set(TG_EPARSE,
		                    "checkpoint: needs an origin, a "
		                    "tree size and a root hash line");
	cp->origin = tg_strndup(l1, (size_t)(l2 - l1));
	l2++;
	l3++;
	if (tg_parse_u64(&cp->size, l2, (size_t)(l3 - 1 - l2), UINT64_MAX) < 0)
		return tg_error_set(TG_EPARSE, "checkpoint: second line is not "
		                               "a tree size");
	if (tg_base64_decode(&root, &root_len, l3, (size_t)(l4 - l3)) < 0 ||
	    root_len != TG_SHA256_LEN) {
		free(root);
		return tg_error_set(TG_EPARSE, "checkpoint: third line is not "
		                               "a base64 SHA-256 root hash");
	}
	memcpy(cp->root, root, TG_SHA256_LEN);
	free(root);
	return 0;
}

/* "\u2014 <name> <base64>" */
static int parse_sig_line(note_sig *s, const char *line, size_t len)
{
	static const char dash[] = "\xe2\x80\x94 ";
	const char *sp;

	if (len < sizeof(dash) || memcmp(line, dash, sizeof(dash) - 1))
		return tg_error_set(TG_EPARSE,
		                    "checkpoint: signature line "
		                    "does not start with an em dash");
	line += sizeof(dash) - 1;
	len -= sizeof(dash) - 1;
	sp = memchr(line, ' ', len);
	if (!sp || sp == line)
		return tg_error_set(TG_EPARSE, "checkpoint: signature line "
		                               "has no signer name");
	s->name = tg_strndup(line, (size_t)(sp - line));
	sp++;
	if (tg_base64_decode(&s->sig, &s->sig_len, sp,
	                     len - (size_t)(sp - line)) < 0 ||
	    s->sig_len < 5 || s->sig_len > TG_MAX_NOTE_SIG_BYTES)
		return tg_error_set(TG_EPARSE,
		                    "checkpoint: signature of %s "
		                    "is not base64 of a key hint and a "
		                    "signature",
		                    s->name);
	return 0;
}

static int parse_sigs(tg_checkpoint *cp, const char *p, const char *end)
{
	const char *nl;
	int error;

	cp->sigs = tg_calloc(TG_MAX_CHECKPOINT_SIGS, sizeof(note_sig));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return tg_error_set(TG_EPARSE,
			                    "checkpoint: last "
			                    "signature line has no newline");
		if (cp->nsigs == TG_MAX_CHECKPOINT_SIGS)
			return tg_error_set(TG_ETOOBIG,
			                    "checkpoint: more than "
			                    "%d signatures",
			                    TG_MAX_CHECKPOINT_SIGS);
		error = parse_sig_line(&cp->sigs[cp->nsigs++], p,
		                       (size_t)(nl - p));
		if (error < 0)
			return error;
		p = nl + 1;
	}
	if (cp->nsigs == 0)
		return tg_error_set(TG_EPARSE, "checkpoint: no signature");
	return 0;
}

int tg_checkpoint_parse(tg_checkpoint **out, const char *text, size_t len)
{
	tg_checkpoint *cp = NULL;
	const char *blank;
	int error;

	*out = NULL;
	if (len > TG_MAX_CHECKPOINT_BYTES)
		return tg_error_set(TG_ETOOBIG,
		                    "checkpoint: %zu bytes, over "
		                    "the limit of %u",
		                    len, TG_MAX_CHECKPOINT_BYTES);
	if (memchr(text, '\0', len))
		return tg_error_set(TG_EPARSE, "checkpoint: contains a NUL");
	blank = NULL;
	for (size_t i = 0; i + 1 < len; i++)
		if (text[i] == '\n' && text[i + 1] == '\n') {
			blank = text + i;
			break;
		}
	if (!blank)
		return tg_error_set(TG_EPARSE,
		                    "checkpoint: no blank line "
		                    "between the note and its signatures");
	cp = tg_calloc(1, sizeof(*cp));
	cp->body_len = (size_t)(blank - text) + 1;
	cp->body = tg_strndup(text, cp->body_len);
	if ((error = parse_body(cp)) < 0 ||
	    (error = parse_sigs(cp, blank + 2, text + len)) < 0)
		goto out;
	*out = cp;
	cp = NULL;
out:
	tg_checkpoint_free(cp);
	return error;
}

const char *tg_checkpoint_origin(const tg_checkpoint *cp)
{
	return cp->origin;
}

uint64_t tg_checkpoint_size(const tg_checkpoint *cp)
{
	return cp->size;
}

const unsigned char *tg_checkpoint_root(const tg_checkpoint *cp)
{
	return cp->root;
}

size_t tg_checkpoint_signature_count(const tg_checkpoint *cp)
{
	return cp->nsigs;
}

void tg_checkpoint_free(tg_checkpoint *cp)
{
	size_t i;

	if (!cp)
		return;
	for (i = 0; i < cp->nsigs; i++) {
		free(cp->sigs[i].name);
		free(cp->sigs[i].sig);
	}
	free(cp->sigs);
	free(cp->origin);
	free(cp->body);
	free(cp);
}

int tg_note_key_id(unsigned char out[TG_NOTE_KEY_ID_LEN],
                   const tg_key *key,
                   const char *name)
{
	unsigned char h[TG_SHA256_LEN], raw[32], *der = NULL;
	size_t raw_len = sizeof(raw);
	EVP_MD_CTX *ctx;
	int der_len, ok;

	if (tg_key_type(key) != TG_KEY_ED25519) {
		der_len = i2d_PUBKEY(tg_key_evp(key), &der);
		if (der_len <= 0)
			return tg_error_set(TG_EINVALID, "cannot encode the "
			                                 "log's public key");
		tg_sha256(h, der, (size_t)der_len);
		OPENSSL_free(der);
		memcpy(out, h, TG_NOTE_KEY_ID_LEN);
		return 0;
	}
	if (EVP_PKEY_get_raw_public_key(tg_key_evp(key), raw, &raw_len) != 1 ||
	    raw_len != sizeof(raw))
		return tg_error_set(TG_EINVALID, "cannot encode the log's "
		                                 "Ed25519 key");
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		tg_oom(sizeof(h));
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, name, strlen(name)) == 1 &&
	     EVP_DigestUpdate(ctx, "\n\x01", 2) == 1 &&
	     EVP_DigestUpdate(ctx, raw, raw_len) == 1 &&
	     EVP_DigestFinal_ex(ctx, h, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return tg_error_set(TG_EINVALID, "SHA-256 failed");
	memcpy(out, h, TG_NOTE_KEY_ID_LEN);
	return 0;
}

/* Rekor v1 checkpoints have the origin "<signer name> - <tree id>" and are
 * signed under <signer name> (the log server's host name), which a trust
 * root does not record. */
static bool origin_names(const char *origin, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(origin, name, n) && !strncmp(origin + n, " - ", 3);
}

/*
 * Is signature line s of a note with origin by the log? C2SP signed-note:
 * a signature is by a key when both its name and its key ID are the key's;
 * a line that shares only one of them is someone else's (a witness) and is
 * ignored. The log's name is its host in the trust root (or, for a Rekor v1
 * origin, the name the origin starts with); a log pinned by key alone has
 * no known name. The key ID is computed under the line's name.
 */
static bool
note_sig_is_log(const note_sig *s, const tg_tr_log *log, const char *origin)
{
	unsigned char id[TG_NOTE_KEY_ID_LEN];

	if (log->has_name && !strcmp(s->name, log->host))
		return !memcmp(s->sig, log->note_id, TG_NOTE_KEY_ID_LEN);
	if (log->has_name && !origin_names(origin, s->name))
		return false;
	if (tg_note_key_id(id, log->key, s->name) < 0) {
		tg_error_clear();
		return false;
	}
	return !memcmp(s->sig, id, TG_NOTE_KEY_ID_LEN);
}

/*
 * One signature line by the log must verify; lines of other keys
 * (witness cosignatures) are skipped and may come first. A line by the
 * log that does not verify rejects the whole note, as the signed-note
 * specification recommends: the log does not sign a note twice.
 */
static int checkpoint_verify_sig(const tg_checkpoint *cp, const tg_tr_log *log)
{
	size_t i, by_log = 0;

	for (i = 0; i < cp->nsigs; i++) {
		const note_sig *s = &cp->sigs[i];

		if (!note_sig_is_log(s, log, cp->origin))
			continue;
		by_log++;
		if (tg_key_verify(log->key, TG_HASH_DEFAULT,
		                  (const unsigned char *)cp->body, cp->body_len,
		                  s->sig + TG_NOTE_KEY_ID_LEN,
		                  s->sig_len - TG_NOTE_KEY_ID_LEN) < 0) {
			tg_error_clear();
			return tg_error_set(TG_EUNTRUSTED,
			                    "checkpoint \"%s\": the "
			                    "signature of %s does not verify "
			                    "with the key of log %s",
			                    cp->origin, s->name, log->base_url);
		}
	}
	if (by_log > 0)
		return 0;
	return tg_error_set(TG_EUNTRUSTED,
	                    "checkpoint \"%s\": none of its %zu "
	                    "signatures is by log %s (a signature line "
	                    "named \"%s\" with the log's key ID)",
	                    cp->origin, cp->nsigs, log->base_url,
	                    log->has_name ? log->host : "<any>");
}

int tg_tlog_verify_proof(const tg_tr_log *log,
                         const unsigned char *body,
                         size_t body_len,
                         uint64_t index,
                         uint64_t tree_size,
                         const unsigned char root[TG_SHA256_LEN],
                         const unsigned char *hashes,
                         size_t nhashes,
                         const char *checkpoint)
{
	tg_checkpoint *cp = NULL;
	unsigned char leaf[TG_SHA256_LEN];
	int error;

	tg_tlog_leaf_hash(leaf, body, body_len);
	if ((error = tg_tlog_verify_inclusion(leaf, index, tree_size, hashes,
	                                      nhashes, root)) < 0)
		return error;
	if (!checkpoint)
		return tg_error_set(TG_EUNTRUSTED,
		                    "inclusion proof without a "
		                    "checkpoint signed by the log");
	if ((error = tg_checkpoint_parse(&cp, checkpoint, strlen(checkpoint))) <
	    0)
		return error;
	if (cp->size != tree_size ||
	    CRYPTO_memcmp(cp->root, root, TG_SHA256_LEN)) {
		error = tg_error_set(TG_EUNTRUSTED,
		                     "checkpoint \"%s\" is for "
		                     "a tree of %llu leaves with another root "
		                     "than the inclusion proof's",
		                     cp->origin, (unsigned long long)cp->size);
		goto out;
	}
	error = checkpoint_verify_sig(cp, log);
out:
	tg_checkpoint_free(cp);
	return error;
}

int tg_tlog_verify_set(const tg_tr_log *log,
                       const char *body_b64,
                       int64_t integrated_time,
                       int64_t log_index,
                       const unsigned char *set,
                       size_t set_len)
{
	char hex[2 * sizeof(log->id) + 1];
	json_t *doc;
	tg_buf buf;
	int error;

	tg_hex_encode(hex, log->id, log->id_len);
	doc = json_pack("{s:s, s:I, s:s, s:I}", "body", body_b64,
	                "integratedTime", (json_int_t)integrated_time, "logID",
	                hex, "logIndex", (json_int_t)log_index);
	tg_buf_init(&buf, 4 * strlen(body_b64) + 1024);
	error = doc ? tg_tlog_canonical_json(&buf, doc) : TG_ERROR;
	if (error == 0 && tg_key_verify(log->key, TG_HASH_DEFAULT,
	                                (const unsigned char *)buf.data,
	                                buf.len, set, set_len) < 0)
		error = tg_error_set(TG_EUNTRUSTED,
		                     "signed entry timestamp "
		                     "of log index %lld does not verify with "
		                     "the key of log %s",
		                     (long long)log_index, log->base_url);
	tg_buf_free(&buf);
	json_decref(doc);
	return error;
}
