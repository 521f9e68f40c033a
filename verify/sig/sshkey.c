/*
 * SSH public key blobs (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4) and the
 * wire reader they share with sshsig.c. Keys become OpenSSL keys
 * (tollgate/keys.h) so one verifier serves every format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "ssh_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

/* Wire reader ---------------------------------------------------------------
 */

int tg_ssh_rd_u32(tg_ssh_rd *r, uint32_t *out)
{
	if (r->n < 4)
		return tg_error_set(TG_EPARSE, "truncated (a length is cut)");
	*out = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	       (uint32_t)r->p[2] << 8 | (uint32_t)r->p[3];
	r->p += 4;
	r->n -= 4;
	return 0;
}

int tg_ssh_rd_string(tg_ssh_rd *r,
                     const unsigned char **p,
                     size_t *n,
                     const char *what)
{
	uint32_t len = 0;

	if (tg_ssh_rd_u32(r, &len) < 0)
		return tg_error_set(TG_EPARSE, "%s: truncated", what);
	if (len > TG_MAX_SSH_STRING)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: length %u over the limit of %u bytes",
		                    what, (unsigned)len, TG_MAX_SSH_STRING);
	if (len > r->n)
		return tg_error_set(TG_EPARSE,
		                    "%s: length %u but only %zu bytes left",
		                    what, (unsigned)len, r->n);
	*p = r->p;
	*n = len;
	r->p += len;
	r->n -= len;
	return 0;
}

bool tg_ssh_str_is(const unsigned char *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* Types ---------------------------------------------------------------------
 */

static const struct {
	const char *wire;
	const char *short_name;
	tg_sshkey_type type;
} key_types[] = {
	{ "ssh-ed25519", "ed25519", TG_SSHKEY_ED25519 },
	{ "ecdsa-sha2-nistp256", "ecdsa-nistp256", TG_SSHKEY_ECDSA_P256 },
	{ "ecdsa-sha2-nistp384", "ecdsa-nistp384", TG_SSHKEY_ECDSA_P384 },
	{ "ssh-rsa", "rsa", TG_SSHKEY_RSA },
};

#define N_KEY_TYPES (sizeof(key_types) / sizeof(key_types[0]))

const char *tg_sshkey_type_short(tg_sshkey_type t)
{
	size_t i;

	for (i = 0; i < N_KEY_TYPES; i++)
		if (key_types[i].type == t)
			return key_types[i].short_name;
	return "?";
}

bool tg_sshkey_type_supported(const char *name, size_t n, bool *known)
{
	static const char *const refused[] = {
		"ssh-dss", "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
		"sk-ecdsa-sha2-nistp256@openssh.com", NULL
	};
	size_t i;

	*known = false;
	for (i = 0; i < N_KEY_TYPES; i++)
		if (n == strlen(key_types[i].wire) &&
		    !memcmp(name, key_types[i].wire, n))
			return *known = true;
	for (i = 0; refused[i]; i++)
		*known |=
		        n == strlen(refused[i]) && !memcmp(name, refused[i], n);
	/* certificates: "<type>-cert-v01@openssh.com" */
	*known |= n > 21 && !memcmp(name + n - 21, "-cert-v01@openssh.com", 21);
	return false;
}

/* Keys ----------------------------------------------------------------------
 */

static int evp_from_params(EVP_PKEY **out, const char *alg, OSSL_PARAM_BLD *b)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	int ok;

	*out = NULL;
	ok = params && ctx && EVP_PKEY_fromdata_init(ctx) > 0 &&
	     EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) > 0;
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	if (ok)
		return 0;
	EVP_PKEY_free(*out);
	*out = NULL;
	return tg_error_add_openssl(
	        tg_error_set(TG_EPARSE, "not a valid %s public key", alg));
}

/* An mpint that must be positive (RFC 4251 5): no sign bit set. */
static int rd_positive_bn(BIGNUM **out, tg_ssh_rd *r, const char *what)
{
	const unsigned char *p;
	size_t n;
	int error;

	if ((error = tg_ssh_rd_string(r, &p, &n, what)) < 0)
		return error;
	if (n == 0 || (p[0] & 0x80))
		return tg_error_set(TG_EPARSE, "%s: not a positive integer",
		                    what);
	*out = BN_bin2bn(p, (int)n, NULL);
	return *out ? 0 : tg_error_set(TG_ERROR, "%s: out of memory", what);
}

static int key_rsa(EVP_PKEY **out, tg_ssh_rd *r)
{
	BIGNUM *e = NULL, *n = NULL;
	OSSL_PARAM_BLD *b = NULL;
	int error;

	*out = NULL;
	if ((error = rd_positive_bn(&e, r, "RSA exponent")) < 0 ||
	    (error = rd_positive_bn(&n, r, "RSA modulus")) < 0)
		goto out;
	b = OSSL_PARAM_BLD_new();
	if (!b || !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e)) {
		error = tg_error_set(TG_ERROR, "RSA key: out of memory");
		goto out;
	}
	error = evp_from_params(out, "RSA", b);
out:
	OSSL_PARAM_BLD_free(b);
	BN_free(e);
	BN_free(n);
	return error;
}

static int key_ecdsa(EVP_PKEY **out, tg_ssh_rd *r, tg_sshkey_type t)
{
	const char *curve = t == TG_SSHKEY_ECDSA_P256 ? "nistp256" : "nistp384";
	const char *group = t == TG_SSHKEY_ECDSA_P256 ? "P-256" : "P-384";
	const unsigned char *p, *q;
	size_t n, qn;
	OSSL_PARAM_BLD *b;
	int error;

	*out = NULL;
	if ((error = tg_ssh_rd_string(r, &p, &n, "ECDSA curve")) < 0 ||
	    (error = tg_ssh_rd_string(r, &q, &qn, "ECDSA point")) < 0)
		return error;
	/* The curve is named twice (type and field): they must agree. */
	if (!tg_ssh_str_is(p, n, curve))
		return tg_error_set(TG_EPARSE,
		                    "ECDSA key: curve field does not match "
		                    "the key type %s",
		                    curve);
	b = OSSL_PARAM_BLD_new();
	if (!b ||
	    !OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME,
	                                     group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, q,
	                                      qn))
		error = tg_error_set(TG_ERROR, "ECDSA key: out of memory");
	else
		error = evp_from_params(out, "EC", b);
	OSSL_PARAM_BLD_free(b);
	return error;
}

static int key_ed25519(EVP_PKEY **out, tg_ssh_rd *r)
{
	const unsigned char *p;
	size_t n;
	int error;

	*out = NULL;
	if ((error = tg_ssh_rd_string(r, &p, &n, "Ed25519 key")) < 0)
		return error;
	if (n != 32)
		return tg_error_set(TG_EPARSE,
		                    "Ed25519 key of %zu bytes (must be 32)", n);
	*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, p, n);
	return *out ? 0
	            : tg_error_add_openssl(tg_error_set(
	                      TG_EPARSE, "not a valid Ed25519 public key"));
}

/* The type named at the start of a blob. */
static int rd_key_type(tg_sshkey_type *t, tg_ssh_rd *r)
{
	const unsigned char *p;
	size_t n, i;
	bool known;
	int error;

	if ((error = tg_ssh_rd_string(r, &p, &n, "key type")) < 0)
		return error;
	for (i = 0; i < N_KEY_TYPES; i++) {
		if (tg_ssh_str_is(p, n, key_types[i].wire)) {
			*t = key_types[i].type;
			return 0;
		}
	}
	tg_sshkey_type_supported((const char *)p, n, &known);
	/* Only a name from the known list is quoted: the rest is input. */
	if (known)
		return tg_error_set(TG_EINVALID,
		                    "key type \"%.*s\" is not supported (use "
		                    "ssh-ed25519, ecdsa-sha2-nistp256/384 or "
		                    "ssh-rsa)",
		                    (int)n, (const char *)p);
	return tg_error_set(TG_EINVALID, "unknown key type");
}

static void
fingerprint(char out[TG_SSH_FP_LEN + 1], const unsigned char *blob, size_t len)
{
	unsigned char d[TG_SHA256_LEN];
	char *b64;
	size_t n;

	tg_sha256(d, blob, len);
	b64 = tg_base64_encode(d, sizeof(d));
	n = strcspn(b64, "=");
	snprintf(out, TG_SSH_FP_LEN + 1, "SHA256:%.*s", (int)n, b64);
	free(b64);
}

static int parse_key(EVP_PKEY **pk, tg_sshkey_type *t, tg_ssh_rd *r)
{
	int error;

	if ((error = rd_key_type(t, r)) < 0)
		return error;
	switch (*t) {
	case TG_SSHKEY_ED25519:
		error = key_ed25519(pk, r);
		break;
	case TG_SSHKEY_RSA:
		error = key_rsa(pk, r);
		break;
	default:
		error = key_ecdsa(pk, r, *t);
		break;
	}
	if (error == 0 && r->n != 0)
		error = tg_error_set(
		        TG_EPARSE, "%zu bytes after the end of the key", r->n);
	return error;
}

int tg_sshkey_from_blob(tg_sshkey *out,
                        const unsigned char *blob,
                        size_t len,
                        const char *name)
{
	tg_ssh_rd r = { blob, len };
	EVP_PKEY *pk = NULL;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = parse_key(&pk, &out->type, &r)) < 0)
		goto out;
	/* tg_key refuses RSA under 2048 bits: the same rule as for images */
	if ((error = tg_key_from_evp(&out->key, name, pk)) < 0)
		goto out;
	out->blob = tg_malloc(len);
	memcpy(out->blob, blob, len);
	out->blob_len = len;
	fingerprint(out->fp, blob, len);
out:
	EVP_PKEY_free(pk);
	return error;
}

void tg_sshkey_clear(tg_sshkey *k)
{
	tg_key_free(k->key);
	free(k->blob);
	memset(k, 0, sizeof(*k));
}
