/*
 * TUF keys and signature thresholds: see include/tollgate/tuf.h.
 *
 * Key types (securesystemslib's formats, as TUF repositories write them):
 *   ed25519 / ed25519                      public: 64 hex digits
 *   ecdsa (or ecdsa-sha2-nistp256) / ecdsa-sha2-nistp256   public: PEM
 *   rsa / rsassa-pss-sha256                public: PEM, 2048 bits or more
 * Signatures are hex: Ed25519's 64 bytes, ECDSA's DER, RSA-PSS with MGF1
 * SHA-256. A key of another type is kept but never counts.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "tollgate/error.h"
#include "tollgate/util.h"
#include "tuf_int.h"

/* EC P-256 or RSA of 2048 bits or more from PEM, per scheme; NULL else. */
static EVP_PKEY *pem_key(const char *pem, size_t len, tuf_scheme scheme)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pk = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	char group[32] = "";
	size_t glen = 0;

	BIO_free(bio);
	ERR_clear_error();
	if (!pk)
		return NULL;
	if (scheme == TUF_SCHEME_ECDSA_P256 && EVP_PKEY_is_a(pk, "EC") &&
	    EVP_PKEY_get_utf8_string_param(pk, "group", group, sizeof(group),
	                                   &glen) == 1 &&
	    !strcmp(group, "prime256v1"))
		return pk;
	if (scheme == TUF_SCHEME_RSA_PSS && EVP_PKEY_is_a(pk, "RSA") &&
	    EVP_PKEY_get_bits(pk) >= 2048)
		return pk;
	EVP_PKEY_free(pk);
	return NULL;
}

static EVP_PKEY *ed25519_key(const char *hex, size_t len)
{
	unsigned char raw[32];
	EVP_PKEY *pk;

	if (tg_hex_decode(raw, sizeof(raw), hex, len) < 0) {
		tg_error_clear();
		return NULL;
	}
	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw,
	                                 sizeof(raw));
	ERR_clear_error();
	return pk;
}

static tuf_scheme scheme_of(const char *type, const char *scheme)
{
	if (!strcmp(type, "ed25519") && !strcmp(scheme, "ed25519"))
		return TUF_SCHEME_ED25519;
	if ((!strcmp(type, "ecdsa") || !strcmp(type, "ecdsa-sha2-nistp256")) &&
	    !strcmp(scheme, "ecdsa-sha2-nistp256"))
		return TUF_SCHEME_ECDSA_P256;
	if (!strcmp(type, "rsa") && !strcmp(scheme, "rsassa-pss-sha256"))
		return TUF_SCHEME_RSA_PSS;
	return TUF_SCHEME_NONE;
}

/* One key. A value tollgate cannot use leaves the key unusable: it never
 * counts towards a threshold, as an unknown type. */
static int parse_key(tuf_key *k, const json_t *v, const char *ctx)
{
	const json_t *type = json_object_get(v, "keytype"),
	             *scheme = json_object_get(v, "scheme"),
	             *val = json_object_get(v, "keyval"), *pub;
	unsigned char *der = NULL;
	int n;

	if (!json_is_string(type) || !json_is_string(scheme) ||
	    !json_is_object(val))
		return tg_error_set(TG_EPARSE,
		                    "%s: key %s needs keytype, scheme and "
		                    "keyval",
		                    ctx, k->id);
	k->scheme =
	        scheme_of(json_string_value(type), json_string_value(scheme));
	pub = json_object_get(val, "public");
	if (k->scheme == TUF_SCHEME_NONE || !json_is_string(pub) ||
	    json_string_length(pub) > TG_TUF_MAX_PUBLIC_BYTES)
		return 0;
	if (k->scheme == TUF_SCHEME_ED25519)
		k->pkey = ed25519_key(json_string_value(pub),
		                      json_string_length(pub));
	else
		k->pkey = pem_key(json_string_value(pub),
		                  json_string_length(pub), k->scheme);
	if (!k->pkey || (n = i2d_PUBKEY(k->pkey, &der)) <= 0) {
		EVP_PKEY_free(k->pkey);
		k->pkey = NULL;
		ERR_clear_error();
		return 0;
	}
	k->spki = tg_malloc((size_t)n);
	memcpy(k->spki, der, (size_t)n);
	k->spki_len = (size_t)n;
	OPENSSL_free(der);
	return 0;
}

int tg_tuf__parse_keys(tg_tuf_metadata *md, const json_t *keys)
{
	const char *id;
	json_t *v;
	int error;

	if (json_object_size(keys) > TG_TUF_MAX_KEYS)
		return tg_error_set(TG_ETOOBIG, "%s: over %u keys", md->name,
		                    TG_TUF_MAX_KEYS);
	md->keys = tg_calloc(json_object_size(keys) + 1, sizeof(*md->keys));
	json_object_foreach((json_t *)keys, id, v) {
		tuf_key *k = &md->keys[md->nkeys++];

		if (strlen(id) > TG_TUF_MAX_KEYID_BYTES || !json_is_object(v))
			return tg_error_set(TG_EPARSE,
			                    "%s: a key ID over %u bytes or a "
			                    "key that is not an object",
			                    md->name, TG_TUF_MAX_KEYID_BYTES);
		k->id = tg_strdup(id);
		if ((error = parse_key(k, v, md->name)) < 0)
			return error;
	}
	return 0;
}

/* 1 when sig verifies over msg with k, else 0. */
static int
verify_one(const tuf_key *k, const char *msg, size_t len, const tuf_sig *s)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md =
	        k->scheme == TUF_SCHEME_ED25519 ? NULL : EVP_sha256();
	int ok = 0;

	if (!ctx || EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k->pkey) != 1)
		goto out;
	if (k->scheme == TUF_SCHEME_RSA_PSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1))
		goto out;
	ok = EVP_DigestVerify(ctx, s->sig, s->sig_len,
	                      (const unsigned char *)msg, len) == 1;
out:
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

static const tuf_key *find_key(const tg_tuf_metadata *root, const char *id)
{
	size_t i;

	for (i = 0; i < root->nkeys; i++)
		if (!strcmp(root->keys[i].id, id))
			return &root->keys[i];
	return NULL;
}

static bool in_role(const tuf_role *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->nkeyids; i++)
		if (!strcmp(r->keyids[i], id))
			return true;
	return false;
}

/* True when k (or the same key material under another ID) has counted. */
static bool
counted(const tg_tuf_metadata *root, const bool *used, const tuf_key *k)
{
	size_t i;

	for (i = 0; i < root->nkeys; i++)
		if (used[i] && root->keys[i].spki_len == k->spki_len &&
		    !memcmp(root->keys[i].spki, k->spki, k->spki_len))
			return true;
	return false;
}

int tg_tuf_verify_role(const tg_tuf_metadata *root,
                       const char *role,
                       const tg_tuf_metadata *md)
{
	const tuf_role *r = NULL;
	bool *used;
	uint64_t n = 0;
	size_t i;
	int ri;

	for (ri = 0; ri < TUF_NROLES; ri++)
		if (!strcmp(role, tg_tuf__role_names[ri]))
			r = &root->roles[ri];
	if (root->type != TUF_ROOT || !r)
		return tg_error_set(TG_EINVALID, "no role %s in %s", role,
		                    root->name);
	used = tg_calloc(root->nkeys + 1, sizeof(bool));
	for (i = 0; i < md->nsigs; i++) {
		const tuf_sig *s = &md->sigs[i];
		const tuf_key *k = find_key(root, s->keyid);

		if (!s->sig || !k || !k->pkey || !in_role(r, s->keyid) ||
		    counted(root, used, k))
			continue;
		if (verify_one(k, md->canon, md->canon_len, s)) {
			used[k - root->keys] = true;
			n++;
		}
	}
	free(used);
	if (n >= r->threshold)
		return 0;
	return tg_error_set(TG_EUNTRUSTED,
	                    "%s: signed by %llu of the %llu keys of role "
	                    "%s that version %lld of the root requires",
	                    md->name, (unsigned long long)n,
	                    (unsigned long long)r->threshold, role,
	                    (long long)root->version);
}

bool tg_tuf__same_keys(const tg_tuf_metadata *a,
                       const tg_tuf_metadata *b,
                       int role)
{
	const tuf_role *ra = &a->roles[role], *rb = &b->roles[role];
	size_t i;

	if (ra->threshold != rb->threshold)
		return false;
	for (i = 0; i < ra->nkeyids; i++) {
		const tuf_key *ka = find_key(a, ra->keyids[i]),
		              *kb = find_key(b, ra->keyids[i]);

		/* TAP 12 key IDs are names: the same ID may hold a new key */
		if (!in_role(rb, ra->keyids[i]) || !ka != !kb ||
		    (ka && (ka->spki_len != kb->spki_len ||
		            (ka->spki_len &&
		             memcmp(ka->spki, kb->spki, ka->spki_len)))))
			return false;
	}
	for (i = 0; i < rb->nkeyids; i++)
		if (!in_role(ra, rb->keyids[i]))
			return false;
	return true;
}
