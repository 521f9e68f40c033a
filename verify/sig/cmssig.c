/*
 * X.509 CMS detached signatures over bytes (tollgate/cmssig.h): the
 * armour and DER are bounded here, OpenSSL's CMS API does the parsing and
 * the signature and chain checks, and the signer's identity is read with
 * tg_keyless_identity (SAN and Fulcio issuer extension).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "tollgate/cmssig.h"
#include "tollgate/error.h"
#include "tollgate/keyless.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

static const char *const armours[] = { "SIGNED MESSAGE", "CMS", "PKCS7", NULL };

/* The first end in [s, s + n): the input need not end in a NUL. */
static const char *find_in(const char *s, size_t n, const char *end)
{
	size_t k = strlen(end), i;

	for (i = 0; k <= n && i <= n - k; i++)
		if (s[i] == end[0] && !memcmp(s + i, end, k))
			return s + i;
	return NULL;
}

/* The DER between "-----BEGIN <label>-----" and its END line. */
static int dearmour(unsigned char **der, size_t *len, const char *s, size_t n)
{
	char begin[48], end[48];
	const char *b = NULL, *e = NULL;
	size_t i;

	*der = NULL;
	if (n > TG_MAX_COMMIT_SIGNATURE_BYTES)
		return tg_error_set(TG_ETOOBIG, "X.509 signature over %u bytes",
		                    TG_MAX_COMMIT_SIGNATURE_BYTES);
	while (n > 0 && (*s == ' ' || *s == '\n' || *s == '\r')) {
		s++;
		n--;
	}
	for (i = 0; armours[i] && !b; i++) {
		snprintf(begin, sizeof(begin), "-----BEGIN %s-----",
		         armours[i]);
		snprintf(end, sizeof(end), "-----END %s-----", armours[i]);
		if (n > strlen(begin) && !memcmp(s, begin, strlen(begin)))
			b = s + strlen(begin);
	}
	if (b)
		e = find_in(b, n - (size_t)(b - s), end);
	if (!b || !e)
		return tg_error_set(TG_EPARSE, "X.509 signature: truncated or "
		                               "unknown armour");
	if (tg_base64_decode(der, len, b, (size_t)(e - b)) < 0)
		return tg_error_set(TG_EPARSE, "X.509 signature: the armour is "
		                               "not valid base64");
	return 0;
}

static int
parse_cms(CMS_ContentInfo **out, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	STACK_OF(CMS_SignerInfo) * si;

	*out = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (!*out || p != der + len)
		return tg_error_add_openssl(tg_error_set(
		        TG_EPARSE, "X.509 signature: not a DER CMS structure"));
	if (OBJ_obj2nid(CMS_get0_type(*out)) != NID_pkcs7_signed)
		return tg_error_set(TG_EPARSE,
		                    "X.509 signature: not SignedData");
	if (CMS_is_detached(*out) != 1)
		return tg_error_set(TG_EINVALID,
		                    "X.509 signature: not detached (it carries "
		                    "content of its own)");
	si = CMS_get0_SignerInfos(*out);
	if (!si || sk_CMS_SignerInfo_num(si) != 1)
		return tg_error_set(TG_EINVALID,
		                    "X.509 signature: %d signers (exactly one "
		                    "expected)",
		                    si ? sk_CMS_SignerInfo_num(si) : 0);
	return 0;
}

/* A store of the policy's roots, checking at when, any purpose (gitsign
 * leaves say code signing, S/MIME ones email protection). */
static int roots_store(X509_STORE **out, const tg_policy_x509 *x, int64_t when)
{
	BIO *bio = BIO_new_mem_buf(x->roots, (int)x->roots_len);
	X509 *c;
	int n = 0;

	*out = X509_STORE_new();
	while (bio && *out && (c = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		n += X509_STORE_add_cert(*out, c) == 1;
		X509_free(c);
	}
	ERR_clear_error();
	BIO_free(bio);
	if (!*out || n == 0)
		return tg_error_set(TG_EINVALID, "%s: no certificate",
		                    x->roots_path);
	X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(*out), (time_t)when);
	X509_VERIFY_PARAM_set_purpose(X509_STORE_get0_param(*out),
	                              X509_PURPOSE_ANY);
	return 0;
}

int tg_cmssig_check_roots(const char *pem, size_t len, const char *name)
{
	tg_policy_x509 x;
	X509_STORE *store = NULL;
	int error;

	memset(&x, 0, sizeof(x));
	x.roots = pem;
	x.roots_len = len;
	x.roots_path = name;
	error = roots_store(&store, &x, 0);
	X509_STORE_free(store);
	return error < 0 ? tg_error_set(TG_EPARSE,
	                                "%s: no PEM certificate in the file",
	                                name)
	                 : 0;
}

static void fill_info(tg_sig_info *info, X509 *cert)
{
	char *dn;

	if (!info || !cert)
		return;
	tg_strlcpy(info->format, "x509", sizeof(info->format));
	dn = X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0);
	tg_strlcpy(info->key, dn ? dn : "?", sizeof(info->key));
	OPENSSL_free(dn);
}

/* The signer's SAN and issuer against the policy. */
static int
check_identity(tg_sig_info *info, const tg_policy_x509 *x, X509 *cert)
{
	tg_cert_identity *id = NULL;
	int error = 0;

	if ((error = tg_keyless_identity(&id, cert)) < 0)
		return tg_error_prefix(error, "X.509 signer");
	if (info)
		tg_strlcpy(info->principal, id->subject,
		           sizeof(info->principal));
	if (x->subject && strcmp(x->subject, id->subject))
		error = tg_error_set(TG_EUNTRUSTED,
		                     "X.509 signer is \"%s\", not \"%s\"",
		                     id->subject, x->subject);
	else if (x->subject_regexp &&
	         !tg_regexp_match(x->subject_regexp, id->subject))
		error = tg_error_set(
		        TG_EUNTRUSTED, "X.509 signer \"%s\" does not match %s",
		        id->subject, tg_regexp_source(x->subject_regexp));
	else if (x->issuer && (!id->issuer || strcmp(x->issuer, id->issuer)))
		error = tg_error_set(
		        TG_EUNTRUSTED,
		        "X.509 signer's OIDC issuer is \"%s\", not "
		        "\"%s\"",
		        id->issuer ? id->issuer : "(none)", x->issuer);
	tg_cert_identity_free(id);
	return error;
}

/*
 * CMS_verify over msg with the store; its failure as a reason. The content
 * goes in through a null filter over the memory BIO: handed a memory BIO,
 * OpenSSL 3.0's CMS_verify copies it into a BIO of its own, which it leaks
 * when the signature's digest BIOs cannot be set up (a mangled digest
 * algorithm; fuzz_cmssig found it).
 */
static int verify_cms(CMS_ContentInfo *cms,
                      X509_STORE *store,
                      const void *msg,
                      size_t msg_len)
{
	BIO *mem = BIO_new_mem_buf(msg, (int)msg_len);
	BIO *in = mem ? BIO_new(BIO_f_null()) : NULL;
	unsigned long e;
	int ok;
	char detail[256];

	if (in)
		BIO_push(in, mem);
	else
		BIO_free(mem);
	ok = in && CMS_verify(cms, NULL, store, in, NULL, CMS_BINARY) == 1;
	BIO_free_all(in);
	if (ok)
		return 0;
	e = ERR_peek_last_error();
	ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	if (ERR_GET_REASON(e) == CMS_R_CERTIFICATE_VERIFY_ERROR)
		return tg_error_set(
		        TG_EUNTRUSTED,
		        "X.509 signature: the certificate does not "
		        "chain to the policy's roots at the signing "
		        "time (%s)",
		        detail);
	return tg_error_set(TG_EUNTRUSTED,
	                    "X.509 signature does not verify over this "
	                    "content (%s)",
	                    detail);
}

int tg_cmssig_verify(tg_sig_info *info,
                     const tg_policy_x509 *x,
                     const char *sig,
                     size_t sig_len,
                     const void *msg,
                     size_t msg_len,
                     int64_t when)
{
	unsigned char *der = NULL;
	size_t der_len = 0;
	CMS_ContentInfo *cms = NULL;
	X509_STORE *store = NULL;
	STACK_OF(X509) *signers = NULL;
	int error;

	if (info)
		memset(info, 0, sizeof(*info));
	/* OpenSSL's memory BIOs take an int length */
	if (msg_len > TG_MAX_COMMIT_PAYLOAD_BYTES)
		return tg_error_set(TG_ETOOBIG, "signed content over %u bytes",
		                    TG_MAX_COMMIT_PAYLOAD_BYTES);
	if ((error = dearmour(&der, &der_len, sig, sig_len)) < 0 ||
	    (error = parse_cms(&cms, der, der_len)) < 0 ||
	    (error = roots_store(&store, x, when)) < 0)
		goto out;
	error = verify_cms(cms, store, msg, msg_len);
	signers = CMS_get0_signers(cms);
	fill_info(info, sk_X509_value(signers, 0));
	if (error == 0)
		error = check_identity(info, x, sk_X509_value(signers, 0));
out:
	sk_X509_free(signers);
	X509_STORE_free(store);
	CMS_ContentInfo_free(cms);
	free(der);
	return error;
}
