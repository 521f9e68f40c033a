/*
 * --tls: a throwaway CA and a server certificate for 127.0.0.1 and
 * localhost, made with OpenSSL (EC P-256, valid from an hour ago for a
 * year); and the kubeconfig file that kubectl and tollgate use as is.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tc.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

/* Certificate lifetime: longer than any test run. */
#define TC_CERT_DAYS 365

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int rc;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	rc = X509_add_ext(cert, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return rc;
}

static int set_serial(X509 *cert)
{
	unsigned char b[16];
	BIGNUM *bn;
	int rc;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	b[0] &= 0x7f;
	bn = BN_bin2bn(b, sizeof(b), NULL);
	rc = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) ? 0 : -1;
	BN_free(bn);
	return rc;
}

/* A certificate for key with common name cn, signed by issuer_key (itself
 * when issuer is NULL). */
static X509 *make_cert(EVP_PKEY *key,
                       const char *cn,
                       X509 *issuer,
                       EVP_PKEY *issuer_key,
                       bool ca)
{
	X509 *cert = X509_new();
	X509_NAME *name;
	int ok;

	if (cert == NULL)
		return NULL;
	name = X509_get_subject_name(cert);
	ok = X509_set_version(cert, 2) == 1 && set_serial(cert) == 0 &&
	     X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != NULL &&
	     X509_gmtime_adj(X509_getm_notAfter(cert),
	                     (long)TC_CERT_DAYS * 86400) != NULL &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                                (const unsigned char *)cn, -1, -1,
	                                0) == 1 &&
	     X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer)
	                                       : name) == 1 &&
	     X509_set_pubkey(cert, key) == 1;
	if (ok && ca)
		ok = add_ext(cert, cert, NID_basic_constraints,
		             "critical,CA:TRUE") == 0 &&
		     add_ext(cert, cert, NID_key_usage,
		             "critical,keyCertSign,cRLSign") == 0;
	if (ok && !ca)
		ok = add_ext(cert, issuer, NID_subject_alt_name,
		             "IP:127.0.0.1,DNS:localhost") == 0 &&
		     add_ext(cert, issuer, NID_ext_key_usage, "serverAuth") ==
		             0 &&
		     add_ext(cert, issuer, NID_key_usage,
		             "critical,digitalSignature") == 0;
	if (ok)
		ok = X509_sign(cert, issuer_key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

static char *bio_string(BIO *bio)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);

	return tg_strndup(data, (size_t)n);
}

static char *cert_pem(X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (bio != NULL && PEM_write_bio_X509(bio, cert) == 1)
		s = bio_string(bio);
	BIO_free(bio);
	return s;
}

static char *key_pem(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (bio != NULL &&
	    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1)
		s = bio_string(bio);
	BIO_free(bio);
	return s;
}

int tc_tls_make(char **cert_out, char **key_out, char **ca_out)
{
	EVP_PKEY *ca_key = EVP_EC_gen("P-256");
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *ca = NULL, *cert = NULL;
	int rc = TG_ERROR;

	*cert_out = *key_out = *ca_out = NULL;
	if (ca_key == NULL || key == NULL)
		goto out;
	ca = make_cert(ca_key, "testcluster-ca", NULL, ca_key, true);
	if (ca == NULL)
		goto out;
	cert = make_cert(key, "testcluster", ca, ca_key, false);
	if (cert == NULL)
		goto out;
	*cert_out = cert_pem(cert);
	*key_out = key_pem(key);
	*ca_out = cert_pem(ca);
	if (*cert_out && *key_out && *ca_out)
		rc = 0;
out:
	if (rc < 0) {
		rc = tg_error_set(rc, "cannot make the TLS certificates");
		rc = tg_error_add_openssl(rc);
		free(*cert_out);
		free(*key_out);
		free(*ca_out);
		*cert_out = *key_out = *ca_out = NULL;
	}
	X509_free(ca);
	X509_free(cert);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	return rc;
}

int tc_kubeconfig_write(const char *path,
                        const char *url,
                        const char *token,
                        const char *ca_pem)
{
	tg_buf b;
	char *ca64 = NULL;
	int rc;

	tg_buf_init(&b, 1u << 20);
	tc_buf_check(tg_buf_printf(&b,
	                           "apiVersion: v1\n"
	                           "kind: Config\n"
	                           "clusters:\n"
	                           "- name: testcluster\n"
	                           "  cluster:\n"
	                           "    server: %s\n",
	                           url));
	if (ca_pem != NULL) {
		ca64 = tg_base64_encode((const unsigned char *)ca_pem,
		                        strlen(ca_pem));
		tc_buf_check(tg_buf_printf(
		        &b, "    certificate-authority-data: %s\n", ca64));
	}
	tc_buf_check(tg_buf_printf(&b,
	                           "users:\n"
	                           "- name: testcluster\n"
	                           "  user:\n"
	                           "    token: %s\n"
	                           "contexts:\n"
	                           "- name: testcluster\n"
	                           "  context:\n"
	                           "    cluster: testcluster\n"
	                           "    user: testcluster\n"
	                           "    namespace: default\n"
	                           "current-context: testcluster\n",
	                           token));
	rc = tg_file_write_atomic(path, b.data, b.len);
	free(ca64);
	tg_buf_free(&b);
	return rc;
}
