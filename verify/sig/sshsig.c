/*
 * SSH signatures over bytes (OpenSSH PROTOCOL.sshsig): the armoured
 * blob, the signed data rebuilt from it, and the check against the keys
 * of a policy signer (tollgate/sshsig.h). Keys and files are in sshkey.c
 * and sshfile.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "ssh_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

#define SSHSIG_MAGIC "SSHSIG"
#define SSHSIG_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define SSHSIG_END "-----END SSH SIGNATURE-----"

/* The fields of a signature blob (borrowed from the decoded blob). */
typedef struct sshsig {
	const unsigned char *pubkey, *ns, *reserved, *hashalg, *sig;
	size_t pubkey_n, ns_n, reserved_n, hashalg_n, sig_n;
} sshsig;

/* Armour ------------------------------------------------------------------- */

/* The first n bytes of needle within hay, or NULL. */
static const char *find(const char *hay, size_t hn, const char *needle)
{
	size_t i, n = strlen(needle);

	for (i = 0; i + n <= hn; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

static bool only_space(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return false;
	return true;
}

/* The base64 between the armour lines, decoded. */
static int
dearmour(unsigned char **out, size_t *out_len, const char *s, size_t n)
{
	const char *end = s + n, *b, *e;

	*out = NULL;
	if (n > TG_MAX_COMMIT_SIGNATURE_BYTES)
		return tg_error_set(TG_ETOOBIG, "SSH signature over %u bytes",
		                    TG_MAX_COMMIT_SIGNATURE_BYTES);
	while (s < end && (*s == ' ' || *s == '\n' || *s == '\r'))
		s++;
	if ((size_t)(end - s) < strlen(SSHSIG_BEGIN) ||
	    memcmp(s, SSHSIG_BEGIN, strlen(SSHSIG_BEGIN)) != 0)
		return tg_error_set(TG_EPARSE, "SSH signature: no \"%s\" line",
		                    SSHSIG_BEGIN);
	b = s + strlen(SSHSIG_BEGIN);
	e = find(b, (size_t)(end - b), SSHSIG_END);
	if (!e || !only_space(e + strlen(SSHSIG_END), end))
		return tg_error_set(
		        TG_EPARSE,
		        "SSH signature: truncated armour (no \"%s\" "
		        "line at the end)",
		        SSHSIG_END);
	while (b < e && (*b == '\n' || *b == '\r'))
		b++;
	while (e > b && (e[-1] == '\n' || e[-1] == '\r'))
		e--;
	if (tg_base64_decode(out, out_len, b, (size_t)(e - b)) < 0)
		return tg_error_set(TG_EPARSE,
		                    "SSH signature: the armour is not valid "
		                    "base64");
	return 0;
}

/* Blob --------------------------------------------------------------------- */

static int parse_blob(sshsig *g, const unsigned char *blob, size_t len)
{
	tg_ssh_rd r = { blob, len };
	uint32_t version;
	int error;

	if (len < 6 || memcmp(blob, SSHSIG_MAGIC, 6) != 0)
		return tg_error_set(TG_EPARSE,
		                    "SSH signature: no SSHSIG preamble");
	r.p += 6;
	r.n -= 6;
	if ((error = tg_ssh_rd_u32(&r, &version)) < 0)
		return tg_error_prefix(error, "SSH signature");
	if (version != 1)
		return tg_error_set(TG_EINVALID,
		                    "SSH signature: version %u (only 1 is "
		                    "defined)",
		                    (unsigned)version);
	if ((error = tg_ssh_rd_string(&r, &g->pubkey, &g->pubkey_n,
	                              "SSH signature: public key")) < 0 ||
	    (error = tg_ssh_rd_string(&r, &g->ns, &g->ns_n,
	                              "SSH signature: namespace")) < 0 ||
	    (error = tg_ssh_rd_string(&r, &g->reserved, &g->reserved_n,
	                              "SSH signature: reserved")) < 0 ||
	    (error = tg_ssh_rd_string(&r, &g->hashalg, &g->hashalg_n,
	                              "SSH signature: hash algorithm")) < 0 ||
	    (error = tg_ssh_rd_string(&r, &g->sig, &g->sig_n,
	                              "SSH signature: signature")) < 0)
		return error;
	if (r.n != 0)
		return tg_error_set(TG_EPARSE,
		                    "SSH signature: %zu bytes after its end",
		                    r.n);
	return 0;
}

/* H(message) with the signature's hash algorithm (sha256 or sha512). */
static int hash_message(unsigned char *out,
                        unsigned *out_len,
                        const sshsig *g,
                        const void *msg,
                        size_t msg_len)
{
	const EVP_MD *md;

	if (tg_ssh_str_is(g->hashalg, g->hashalg_n, "sha512"))
		md = EVP_sha512();
	else if (tg_ssh_str_is(g->hashalg, g->hashalg_n, "sha256"))
		md = EVP_sha256();
	else
		return tg_error_set(TG_EINVALID,
		                    "SSH signature: hash algorithm is neither "
		                    "sha256 nor sha512");
	if (!EVP_Digest(msg, msg_len, out, out_len, md, NULL))
		return tg_error_add_openssl(tg_error_set(
		        TG_ERROR, "SSH signature: hashing failed"));
	return 0;
}

static int put_string(tg_buf *b, const void *p, size_t n)
{
	unsigned char len[4] = { (unsigned char)(n >> 24),
		                 (unsigned char)(n >> 16),
		                 (unsigned char)(n >> 8), (unsigned char)n };
	int error;

	if ((error = tg_buf_append(b, len, 4)) < 0)
		return error;
	return tg_buf_append(b, p, n);
}

/* The data the key signed (PROTOCOL.sshsig "Signed Data"). */
static int
signed_data(tg_buf *b, const sshsig *g, const void *msg, size_t msg_len)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned hn = 0;
	int error;

	if ((error = hash_message(h, &hn, g, msg, msg_len)) < 0)
		return error;
	if ((error = tg_buf_append(b, SSHSIG_MAGIC, 6)) < 0 ||
	    (error = put_string(b, g->ns, g->ns_n)) < 0 ||
	    (error = put_string(b, g->reserved, g->reserved_n)) < 0 ||
	    (error = put_string(b, g->hashalg, g->hashalg_n)) < 0)
		return error;
	return put_string(b, h, hn);
}

/* Crypto ------------------------------------------------------------------- */

/* The algorithm named in the signature must suit the key: rsa-sha2-256
 * or -512 for RSA (never ssh-rsa, SHA-1), the key's own name otherwise. */
static int
pick_hash(tg_hash *h, const tg_sshkey *k, const unsigned char *alg, size_t n)
{
	*h = TG_HASH_DEFAULT;
	switch (k->type) {
	case TG_SSHKEY_RSA:
		if (tg_ssh_str_is(alg, n, "rsa-sha2-256"))
			*h = TG_HASH_SHA256;
		else if (tg_ssh_str_is(alg, n, "rsa-sha2-512"))
			*h = TG_HASH_SHA512;
		else
			break;
		return 0;
	case TG_SSHKEY_ED25519:
		if (tg_ssh_str_is(alg, n, "ssh-ed25519"))
			return 0;
		break;
	case TG_SSHKEY_ECDSA_P256:
		*h = TG_HASH_SHA256;
		if (tg_ssh_str_is(alg, n, "ecdsa-sha2-nistp256"))
			return 0;
		break;
	case TG_SSHKEY_ECDSA_P384:
		*h = TG_HASH_SHA384;
		if (tg_ssh_str_is(alg, n, "ecdsa-sha2-nistp384"))
			return 0;
		break;
	}
	return tg_error_set(TG_EINVALID,
	                    "SSH signature: algorithm not allowed for a %s "
	                    "key (RSA needs rsa-sha2-256 or rsa-sha2-512)",
	                    tg_sshkey_type_short(k->type));
}

/* ECDSA: the SSH form (mpint r, mpint s) as DER for OpenSSL. */
static int ecdsa_der(unsigned char **der, int *der_len, tg_ssh_rd *r)
{
	const unsigned char *rp, *sp;
	size_t rn, sn;
	ECDSA_SIG *es;
	BIGNUM *br, *bs;
	int error;

	*der = NULL;
	if ((error = tg_ssh_rd_string(r, &rp, &rn, "ECDSA r")) < 0 ||
	    (error = tg_ssh_rd_string(r, &sp, &sn, "ECDSA s")) < 0)
		return error;
	if (r->n != 0)
		return tg_error_set(TG_EPARSE, "ECDSA signature: extra bytes");
	es = ECDSA_SIG_new();
	br = BN_bin2bn(rp, (int)rn, NULL);
	bs = BN_bin2bn(sp, (int)sn, NULL);
	if (!es || !br || !bs || !ECDSA_SIG_set0(es, br, bs)) {
		BN_free(br);
		BN_free(bs);
		ECDSA_SIG_free(es);
		return tg_error_set(TG_ERROR, "ECDSA signature: no memory");
	}
	*der_len = i2d_ECDSA_SIG(es, der);
	ECDSA_SIG_free(es);
	return *der_len > 0 ? 0
	                    : tg_error_set(TG_EPARSE, "ECDSA signature: bad");
}

static int verify_crypto(const tg_sshkey *k, const sshsig *g, const tg_buf *d)
{
	tg_ssh_rd r = { g->sig, g->sig_n };
	const unsigned char *alg, *s;
	unsigned char *der = NULL;
	size_t an, sn;
	int der_len = 0, error;
	tg_hash h;

	if ((error = tg_ssh_rd_string(&r, &alg, &an,
	                              "SSH signature: algorithm")) < 0 ||
	    (error = pick_hash(&h, k, alg, an)) < 0 ||
	    (error = tg_ssh_rd_string(&r, &s, &sn, "SSH signature: bytes")) < 0)
		return error;
	if (r.n != 0)
		return tg_error_set(TG_EPARSE, "SSH signature: extra bytes");
	if (k->type == TG_SSHKEY_ECDSA_P256 ||
	    k->type == TG_SSHKEY_ECDSA_P384) {
		tg_ssh_rd er = { s, sn };
		if ((error = ecdsa_der(&der, &der_len, &er)) < 0)
			return error;
		s = der;
		sn = (size_t)der_len;
	}
	error = tg_key_verify(k->key, h, (const unsigned char *)d->data, d->len,
	                      s, sn);
	OPENSSL_free(der);
	if (error < 0)
		return tg_error_set(TG_EUNTRUSTED,
		                    "SSH signature by %s %s does not verify "
		                    "over this content",
		                    tg_sshkey_type_short(k->type), k->fp);
	return 0;
}

/* Listed keys -------------------------------------------------------------- */

/* '*' and '?' patterns, as OpenSSH's match_pattern. */
static bool wild_match(const char *p, const char *pe, const char *s, size_t n)
{
	const char *se = s + n, *star = NULL, *resume = NULL;

	while (s < se) {
		if (p < pe && *p == '*') {
			star = ++p;
			resume = s;
		} else if (p < pe && (*p == '?' || *p == *s)) {
			p++;
			s++;
		} else if (star) {
			p = star;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (p < pe && *p == '*')
		p++;
	return p == pe;
}

static bool namespace_allowed(const char *list, const char *ns)
{
	const char *p = list;

	if (!list)
		return true;
	for (;;) {
		const char *c = strchr(p, ',');
		const char *e = c ? c : p + strlen(p);
		if (wild_match(p, e, ns, strlen(ns)))
			return true;
		if (!c)
			return false;
		p = c + 1;
	}
}

/* The line's options against ns and when. */
static int check_entry(const tg_ssh_signers *s,
                       const tg_ssh_entry *e,
                       const char *ns,
                       int64_t when)
{
	char t[21];

	if (!namespace_allowed(e->namespaces, ns))
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s:%u: the key may sign namespaces \"%s\" "
		                    "only, not \"%s\"",
		                    s->name, e->line, e->namespaces, ns);
	if (e->valid_after && when < e->valid_after) {
		tg_format_rfc3339(t, e->valid_after);
		return tg_error_set(TG_EEXPIRED,
		                    "%s:%u: the key is valid only after %s",
		                    s->name, e->line, t);
	}
	if (e->valid_before && when > e->valid_before) {
		tg_format_rfc3339(t, e->valid_before);
		return tg_error_set(TG_EEXPIRED,
		                    "%s:%u: the key was valid only before %s",
		                    s->name, e->line, t);
	}
	return 0;
}

/* The first line listing key k whose options allow ns at when. */
static int find_entry(const tg_ssh_entry **out,
                      const tg_ssh_signers *s,
                      const tg_sshkey *k,
                      const char *ns,
                      int64_t when)
{
	size_t i;
	int error = 0;
	bool listed = false;

	*out = NULL;
	for (i = 0; i < s->n; i++) {
		const tg_ssh_entry *e = &s->e[i];
		if (e->key.blob_len != k->blob_len ||
		    memcmp(e->key.blob, k->blob, k->blob_len) != 0)
			continue;
		listed = true;
		if ((error = check_entry(s, e, ns, when)) == 0) {
			*out = e;
			return 0;
		}
	}
	if (listed)
		return error;
	return tg_error_set(TG_ENOTFOUND, "key %s %s is not listed in %s",
	                    tg_sshkey_type_short(k->type), k->fp, s->name);
}

static void fill_info(tg_sig_info *info, const tg_sshkey *k)
{
	if (!info)
		return;
	tg_strlcpy(info->format, "ssh", sizeof(info->format));
	snprintf(info->key, sizeof(info->key), "%s %s",
	         tg_sshkey_type_short(k->type), k->fp);
}

static int verify_blob(tg_sig_info *info,
                       const tg_ssh_signers *signers,
                       const sshsig *g,
                       const void *msg,
                       size_t msg_len,
                       const char *ns,
                       int64_t when)
{
	tg_sshkey k;
	const tg_ssh_entry *e = NULL;
	tg_buf d;
	int error;

	if ((error = tg_sshkey_from_blob(&k, g->pubkey, g->pubkey_n,
	                                 "signing key")) < 0)
		return tg_error_prefix(error, "SSH signature");
	fill_info(info, &k);
	tg_buf_init(&d, TG_MAX_SSH_STRING * 4);
	if (!tg_ssh_str_is(g->ns, g->ns_n, ns))
		error = tg_error_set(TG_EUNTRUSTED,
		                     "SSH signature made for another namespace "
		                     "than \"%s\" (not a Git signature)",
		                     ns);
	else if ((error = signed_data(&d, g, msg, msg_len)) == 0 &&
	         (error = verify_crypto(&k, g, &d)) == 0)
		error = find_entry(&e, signers, &k, ns, when);
	if (error == 0 && info && e->principals)
		tg_strlcpy(info->principal, e->principals,
		           sizeof(info->principal));
	tg_buf_free(&d);
	tg_sshkey_clear(&k);
	return error;
}

int tg_sshsig_verify(tg_sig_info *info,
                     const tg_ssh_signers *signers,
                     const char *sig,
                     size_t sig_len,
                     const void *msg,
                     size_t msg_len,
                     const char *ns,
                     int64_t when)
{
	unsigned char *blob = NULL;
	size_t blob_len = 0;
	sshsig g;
	int error;

	if (info)
		memset(info, 0, sizeof(*info));
	if ((error = dearmour(&blob, &blob_len, sig, sig_len)) == 0 &&
	    (error = parse_blob(&g, blob, blob_len)) == 0)
		error = verify_blob(info, signers, &g, msg, msg_len, ns, when);
	free(blob);
	return error;
}
