/*
 * Sigstore TrustedRoot documents: see include/tollgate/trustroot.h.
 * Grammar: protobuf-specs dev.sigstore.trustroot.v1.TrustedRoot in
 * protojson (bytes in base64, timestamps in RFC 3339).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "sigstore_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

/* The public-good root, generated from verify/data/ (trustroot_data.c). */
extern const char tg_trustroot_public_good[];
extern const size_t tg_trustroot_public_good_len;

static void free_cas_one(tg_tr_ca *ca);
static void free_cas(tg_tr_ca *cas, size_t n);
static void free_logs(tg_tr_log *logs, size_t n);

static const char *const media_types[] = {
	"application/vnd.dev.sigstore.trustedroot+json;version=0.1",
	"application/vnd.dev.sigstore.trustedroot.v0.1+json",
	"application/vnd.dev.sigstore.trustedroot.v0.2+json",
	"application/vnd.dev.sigstore.trustedroot+json;version=0.2",
};

bool tg_validity_contains(const tg_validity *v, int64_t t)
{
	if (t < v->start)
		return false;
	return !v->has_end || t <= v->end;
}

const tg_tr_log *tg_trustroot_find_log(const tg_tr_log *logs,
                                       size_t n,
                                       const unsigned char *id,
                                       size_t id_len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (logs[i].id_len == id_len &&
		    !CRYPTO_memcmp(logs[i].id, id, id_len))
			return &logs[i];
	return NULL;
}

int tg_json_string(const char **out,
                   const json_t *obj,
                   const char *field,
                   const char *ctx)
{
	const json_t *v = json_object_get(obj, field);

	*out = NULL;
	if (!json_is_string(v))
		return tg_error_set(TG_EPARSE,
		                    "%s: \"%s\" is %s; a string is "
		                    "required",
		                    ctx, field, v ? "not a string" : "missing");
	*out = json_string_value(v);
	return 0;
}

int tg_json_bytes(unsigned char **out,
                  size_t *out_len,
                  const json_t *obj,
                  const char *field,
                  const char *ctx)
{
	const char *s;
	char *std = NULL;
	size_t i, k, n;
	int error;

	*out = NULL;
	if ((error = tg_json_string(&s, obj, field, ctx)) < 0)
		return error;
	/* protojson accepts the URL-safe alphabet and missing padding; Go's
	 * decoder (and so real bundles) also skips line breaks. */
	n = strlen(s);
	std = tg_malloc(n + 4);
	for (i = 0, k = 0; i < n; i++) {
		if (s[i] == '\n' || s[i] == '\r')
			continue;
		std[k++] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	}
	while (k % 4)
		std[k++] = '=';
	std[k] = '\0';
	error = tg_base64_decode(out, out_len, std, k);
	free(std);
	if (error < 0)
		return tg_error_set(TG_EPARSE, "%s: \"%s\" is not valid base64",
		                    ctx, field);
	return 0;
}

/*
 * Bundles and trust roots carry certificates the same way; one parser
 * serves both, so both get the size cap and the trailing-bytes check: a
 * DER certificate followed by anything else is not a certificate, and a
 * signer could otherwise hide bytes after one that other tools read.
 */
int tg_json_der_cert(X509 **out, const json_t *obj, const char *ctx)
{
	unsigned char *raw = NULL;
	const unsigned char *p;
	size_t len;
	int error;

	*out = NULL;
	if ((error = tg_json_bytes(&raw, &len, obj, "rawBytes", ctx)) < 0)
		return error;
	p = raw;
	*out = len <= TG_MAX_PEM_BYTES ? d2i_X509(NULL, &p, (long)len) : NULL;
	if (*out && p != raw + len) {
		X509_free(*out);
		*out = NULL;
	}
	free(raw);
	ERR_clear_error();
	if (!*out)
		return tg_error_set(TG_EPARSE,
		                    "%s: rawBytes is not a DER "
		                    "certificate",
		                    ctx);
	return 0;
}

int tg_json_int64(int64_t *out,
                  const json_t *obj,
                  const char *field,
                  const char *ctx)
{
	const json_t *v = json_object_get(obj, field);
	uint64_t u;

	/* protojson leaves out int64 fields that are zero. */
	if (!v) {
		*out = 0;
		return 0;
	}
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return tg_error_set(TG_EPARSE,
		                    "%s: \"%s\" is %s; a "
		                    "non-negative integer is required",
		                    ctx, field,
		                    v ? "not an integer" : "missing");
	if (tg_parse_u64(&u, json_string_value(v), json_string_length(v),
	                 INT64_MAX) < 0)
		return tg_error_set(TG_EPARSE,
		                    "%s: \"%s\" is \"%s\"; a "
		                    "non-negative integer is required",
		                    ctx, field, json_string_value(v));
	*out = (int64_t)u;
	return 0;
}

/* validFor {start, end?}: the start is required (a missing bound must not
 * widen trust to all time). */
static int parse_validity(tg_validity *out, const json_t *obj, const char *ctx)
{
	const json_t *vf = json_object_get(obj, "validFor");
	const json_t *end;

	if (!json_is_object(vf) ||
	    !json_is_string(json_object_get(vf, "start")))
		return tg_error_set(TG_EINVALID,
		                    "%s: validFor has no start; "
		                    "the trust root is malformed",
		                    ctx);
	if (tg_parse_rfc3339(&out->start, json_string_value(json_object_get(
	                                          vf, "start"))) < 0)
		return tg_error_prefix(TG_EPARSE, "%s: validFor.start", ctx);
	end = json_object_get(vf, "end");
	if (json_is_null(end))
		end = NULL;
	out->has_end = end != NULL;
	if (!end)
		return 0;
	if (!json_is_string(end) ||
	    tg_parse_rfc3339(&out->end, json_string_value(end)) < 0)
		return tg_error_set(TG_EPARSE,
		                    "%s: validFor.end is not an "
		                    "RFC 3339 time",
		                    ctx);
	return 0;
}

/* SubjectPublicKeyInfo DER, or a bare PKCS#1 RSAPublicKey (keyDetails
 * PKCS1_RSA_*, used by some CT logs). */
static int
parse_key(tg_key **out, const unsigned char *der, size_t len, const char *ctx)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey;
	int error;

	pkey = d2i_PUBKEY(NULL, &p, (long)len);
	if (!pkey) {
		p = der;
		pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
	}
	ERR_clear_error();
	if (!pkey)
		return tg_error_set(TG_EPARSE,
		                    "%s: publicKey.rawBytes is not "
		                    "a public key",
		                    ctx);
	error = tg_key_from_evp(out, ctx, pkey);
	EVP_PKEY_free(pkey);
	return error;
}

/* "https://host[:port]/path" -> "host[:port]". */
static char *url_host(const char *url)
{
	const char *p = strstr(url, "://");
	size_t n;

	p = p ? p + 3 : url;
	n = strcspn(p, "/");
	return tg_strndup(p, n);
}

static int parse_log(tg_tr_log *log, const json_t *obj, const char *ctx)
{
	const json_t *pk = json_object_get(obj, "publicKey");
	const json_t *id = json_object_get(obj, "logId");
	const char *url = "";
	unsigned char *raw = NULL;
	size_t raw_len;
	int error;

	if (json_is_string(json_object_get(obj, "baseUrl")))
		url = json_string_value(json_object_get(obj, "baseUrl"));
	log->base_url = tg_strdup(url);
	log->host = url_host(url);
	if (!json_is_object(pk) || !json_is_object(id))
		return tg_error_set(TG_EPARSE,
		                    "%s: publicKey and logId are "
		                    "required",
		                    ctx);
	if ((error = parse_validity(&log->valid, pk, ctx)) < 0)
		return error;
	if ((error = tg_json_bytes(&raw, &raw_len, id, "keyId", ctx)) < 0)
		return error;
	if (raw_len == 0 || raw_len > sizeof(log->id)) {
		free(raw);
		return tg_error_set(TG_EPARSE, "%s: logId.keyId has %zu bytes",
		                    ctx, raw_len);
	}
	memcpy(log->id, raw, raw_len);
	log->id_len = raw_len;
	free(raw);
	if ((error = tg_json_bytes(&raw, &raw_len, pk, "rawBytes", ctx)) < 0)
		return error;
	error = parse_key(&log->key, raw, raw_len, ctx);
	free(raw);
	if (error < 0)
		return error;
	/* Checkpoints are signed under the log's host name. */
	log->has_name = log->host[0] != '\0';
	if (log->has_name &&
	    (error = tg_note_key_id(log->note_id, log->key, log->host)) < 0)
		return tg_error_prefix(error, "%s", ctx);
	return 0;
}

/* Narrow w to the validity of certificate c. */
static int window_narrow(tg_validity *w, X509 *c)
{
	int64_t nb, na;

	if (tg_asn1_time_unix(&nb, X509_get0_notBefore(c)) < 0 ||
	    tg_asn1_time_unix(&na, X509_get0_notAfter(c)) < 0)
		return TG_EPARSE;
	if (nb > w->start)
		w->start = nb;
	if (!w->has_end || na < w->end)
		w->end = na;
	w->has_end = true;
	return 0;
}

void tg_tr_ca_prepare(tg_tr_ca *ca)
{
	X509_STORE *up = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) * chain;
	size_t i;
	int n;

	ca->upper = (tg_validity){ .start = INT64_MIN };
	if (!up || !ctx || ca->ncerts == 0)
		goto out;
	for (i = 1; i < ca->ncerts; i++)
		X509_STORE_add_cert(up, ca->certs[i]);
	/* Signatures now, times at each use: the chain's certificates
	 * are fixed, the signing times are not. */
	if (ca->ncerts > 1) {
		if (!X509_STORE_CTX_init(ctx, up, ca->certs[0], NULL))
			goto out;
		X509_STORE_CTX_set_flags(ctx,
		                         X509_V_FLAG_PARTIAL_CHAIN |
		                                 X509_V_FLAG_NO_CHECK_TIME);
		if (X509_verify_cert(ctx) != 1)
			goto out;
		chain = X509_STORE_CTX_get0_chain(ctx);
		n = sk_X509_num(chain);
		for (i = 1; i < (size_t)n; i++)
			if (window_narrow(&ca->upper,
			                  sk_X509_value(chain, (int)i)) < 0)
				goto out;
	}
	ca->anchor = X509_STORE_new();
	if (ca->anchor && X509_STORE_add_cert(ca->anchor, ca->certs[0]) == 1)
		ca->upper_ok = true;
out:
	if (!ca->upper_ok) {
		X509_STORE_free(ca->anchor);
		ca->anchor = NULL;
	}
	tg_error_clear();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(up);
	ERR_clear_error();
}

static int parse_ca(tg_tr_ca *ca, const json_t *obj, const char *ctx)
{
	const json_t *certs = json_object_get(json_object_get(obj, "certChain"),
	                                      "certificates");
	size_t i;
	int error;

	if (json_is_string(json_object_get(obj, "uri")))
		ca->uri = tg_strdup(
		        json_string_value(json_object_get(obj, "uri")));
	if ((error = parse_validity(&ca->valid, obj, ctx)) < 0)
		return error;
	if (!json_is_array(certs) || json_array_size(certs) == 0 ||
	    json_array_size(certs) > TG_MAX_CHAIN_DEPTH)
		return tg_error_set(TG_EPARSE,
		                    "%s: certChain.certificates "
		                    "must hold 1 to %d certificates",
		                    ctx, TG_MAX_CHAIN_DEPTH);
	ca->certs = tg_calloc(json_array_size(certs), sizeof(X509 *));
	for (i = 0; i < json_array_size(certs); i++) {
		if ((error = tg_json_der_cert(
		             &ca->certs[i], json_array_get(certs, i), ctx)) < 0)
			return error;
		ca->ncerts++;
	}
	tg_tr_ca_prepare(ca);
	return 0;
}

/*
 * The entries of the optional array root[field] of the trust root called
 * name, parsed as logs into *logs_out or as authorities into *cas_out (the
 * other is NULL); *n counts them, the one that failed included, so that
 * tg_trustroot_free() frees what was parsed. 0, or TG_EPARSE naming the
 * entry ("<name>: tlogs[2]: ...").
 */
static int parse_entries(tg_tr_log **logs_out,
                         tg_tr_ca **cas_out,
                         size_t *n,
                         const json_t *root,
                         const char *field,
                         const char *name)
{
	const json_t *arr = json_object_get(root, field);
	const json_t *item;
	char ctx[TG_TRUSTROOT_CTX_BYTES];
	size_t i;
	int error;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return tg_error_set(TG_EPARSE, "%s: \"%s\" is not an array",
		                    name, field);
	if (logs_out)
		*logs_out =
		        tg_calloc(json_array_size(arr) + 1, sizeof(tg_tr_log));
	else
		*cas_out =
		        tg_calloc(json_array_size(arr) + 1, sizeof(tg_tr_ca));
	json_array_foreach(arr, i, item) {
		snprintf(ctx, sizeof(ctx), "%s: %s[%zu]", name, field, i);
		(*n)++;
		error = logs_out ? parse_log(&(*logs_out)[i], item, ctx)
		                 : parse_ca(&(*cas_out)[i], item, ctx);
		if (error < 0)
			return error;
	}
	return 0;
}

static int check_media_type(const json_t *doc, const char *name)
{
	const char *mt;
	size_t i;

	if (tg_json_string(&mt, doc, "mediaType", name) < 0)
		return TG_EPARSE;
	for (i = 0; i < sizeof(media_types) / sizeof(media_types[0]); i++)
		if (!strcmp(mt, media_types[i]))
			return 0;
	return tg_error_set(TG_EINVALID,
	                    "%s: unsupported trust root media "
	                    "type \"%s\"",
	                    name, mt);
}

int tg_trustroot_parse(tg_trustroot **out,
                       const char *name,
                       const char *json,
                       size_t len)
{
	tg_trustroot *root = NULL;
	json_error_t jerr;
	json_t *doc = NULL;
	int error;

	*out = NULL;
	if (len > TG_MAX_FILE_BYTES)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: %zu bytes, over the limit "
		                    "of %u",
		                    name, len, TG_MAX_FILE_BYTES);
	doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc)) {
		error = tg_error_set(TG_EPARSE,
		                     "%s:%d:%d: not a JSON object: "
		                     "%s",
		                     name, jerr.line, jerr.column,
		                     doc ? "wrong type" : jerr.text);
		goto out;
	}
	if ((error = check_media_type(doc, name)) < 0)
		goto out;
	root = tg_calloc(1, sizeof(*root));
	if ((error = parse_entries(&root->tlogs, NULL, &root->ntlogs, doc,
	                           "tlogs", name)) < 0 ||
	    (error = parse_entries(&root->ctlogs, NULL, &root->nctlogs, doc,
	                           "ctlogs", name)) < 0 ||
	    (error = parse_entries(NULL, &root->cas, &root->ncas, doc,
	                           "certificateAuthorities", name)) < 0 ||
	    (error = parse_entries(NULL, &root->tsas, &root->ntsas, doc,
	                           "timestampAuthorities", name)) < 0)
		goto out;
	*out = root;
	root = NULL;
out:
	tg_trustroot_free(root);
	json_decref(doc);
	return error;
}

int tg_trustroot_load_file(tg_trustroot **out, const char *path)
{
	char *data = NULL;
	size_t len;
	int error;

	*out = NULL;
	if ((error = tg_file_read(&data, &len, path, TG_MAX_FILE_BYTES)) < 0)
		return error;
	error = tg_trustroot_parse(out, path, data, len);
	free(data);
	return error;
}

/* The default root put in place of the built-in one (a root verified
 * through TUF), shared by every thread. */
static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static char *default_json, *default_name;
static size_t default_len;

int tg_trustroot_set_default(const char *name, const char *json, size_t len)
{
	tg_trustroot *check = NULL;
	char *old_json, *old_name;
	int error;

	if (json && (error = tg_trustroot_parse(&check, name, json, len)) < 0)
		return error;
	tg_trustroot_free(check);
	pthread_mutex_lock(&default_lock);
	old_json = default_json;
	old_name = default_name;
	default_json = json ? tg_strndup(json, len) : NULL;
	default_name = json ? tg_strdup(name) : NULL;
	default_len = json ? len : 0;
	pthread_mutex_unlock(&default_lock);
	free(old_json);
	free(old_name);
	return 0;
}

int tg_trustroot_default(tg_trustroot **out)
{
	char *json = NULL, *name = NULL;
	size_t len = 0;
	int error;

	pthread_mutex_lock(&default_lock);
	if (default_json) {
		json = tg_strndup(default_json, default_len);
		name = tg_strdup(default_name);
		len = default_len;
	}
	pthread_mutex_unlock(&default_lock);
	if (!json)
		return tg_trustroot_parse(
		        out, "built-in Sigstore public-good root",
		        tg_trustroot_public_good, tg_trustroot_public_good_len);
	error = tg_trustroot_parse(out, name, json, len);
	free(json);
	free(name);
	return error;
}

int tg_trustroot_new(tg_trustroot **out)
{
	*out = tg_calloc(1, sizeof(**out));
	return 0;
}

/* Certificates of a PEM bundle, at most TG_MAX_CHAIN_DEPTH. */
static int
read_pem_certs(tg_tr_ca *ca, const char *name, const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *c;

	if (!bio || len > TG_MAX_PEM_BYTES * TG_MAX_CHAIN_DEPTH) {
		BIO_free(bio);
		return tg_error_set(TG_ETOOBIG,
		                    "%s: too large for a "
		                    "certificate chain",
		                    name);
	}
	ca->certs = tg_calloc(TG_MAX_CHAIN_DEPTH, sizeof(X509 *));
	while (ca->ncerts < TG_MAX_CHAIN_DEPTH &&
	       (c = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		ca->certs[ca->ncerts++] = c;
	BIO_free(bio);
	ERR_clear_error();
	if (ca->ncerts == 0)
		return tg_error_set(TG_EPARSE, "%s: no PEM certificate", name);
	return 0;
}

int tg_trustroot_add_ca_pem(tg_trustroot *root,
                            const char *name,
                            const char *pem,
                            size_t len)
{
	tg_tr_ca ca;
	int error;

	memset(&ca, 0, sizeof(ca));
	ca.valid.start = INT64_MIN;
	ca.uri = tg_strdup(name);
	if ((error = read_pem_certs(&ca, name, pem, len)) < 0) {
		free_cas_one(&ca);
		return error;
	}
	tg_tr_ca_prepare(&ca);
	root->cas = tg_realloc(root->cas, (root->ncas + 1) * sizeof(ca));
	root->cas[root->ncas++] = ca;
	return 0;
}

/* One log of key, without a validity limit; log id = SHA-256 of its DER. */
static int log_of_key(tg_tr_log *log, const char *name, EVP_PKEY *pkey)
{
	unsigned char *der = NULL;
	int der_len, error;

	memset(log, 0, sizeof(*log));
	if ((error = tg_key_from_evp(&log->key, name, pkey)) < 0)
		return error;
	der_len = i2d_PUBKEY(pkey, &der);
	if (der_len <= 0) {
		tg_key_free(log->key);
		log->key = NULL;
		return tg_error_set(TG_EINVALID, "%s: cannot encode the key",
		                    name);
	}
	tg_sha256(log->id, der, (size_t)der_len);
	OPENSSL_free(der);
	log->id_len = TG_SHA256_LEN;
	log->valid.start = INT64_MIN;
	log->base_url = tg_strdup(name);
	log->host = tg_strdup(name);
	log->has_name = false; /* a key alone: any checkpoint signer name */
	return 0;
}

int tg_trustroot_add_tlog_pem(tg_trustroot *root,
                              const char *name,
                              const char *pem,
                              size_t len)
{
	tg_key *key = NULL;
	tg_tr_log log;
	int error;

	if ((error = tg_key_from_pem(&key, name, pem, len)) < 0)
		return error;
	error = log_of_key(&log, name, tg_key_evp(key));
	tg_key_free(key);
	if (error < 0)
		return error;
	root->tlogs = tg_realloc(root->tlogs, (root->ntlogs + 1) * sizeof(log));
	root->tlogs[root->ntlogs++] = log;
	return 0;
}

void tg_trustroot_clear_cas(tg_trustroot *root)
{
	free_cas(root->cas, root->ncas);
	root->cas = NULL;
	root->ncas = 0;
}

int tg_trustroot_set_log_key(tg_trustroot *root,
                             bool ct,
                             const char *name,
                             const tg_key *key)
{
	tg_tr_log log, **logs = ct ? &root->ctlogs : &root->tlogs;
	size_t *n = ct ? &root->nctlogs : &root->ntlogs;
	int error;

	if ((error = log_of_key(&log, name, tg_key_evp(key))) < 0)
		return error;
	free_logs(*logs, *n);
	*logs = tg_calloc(1, sizeof(log));
	(*logs)[0] = log;
	*n = 1;
	return 0;
}

size_t tg_trustroot_tlog_count(const tg_trustroot *root)
{
	return root->ntlogs;
}

size_t tg_trustroot_ca_count(const tg_trustroot *root)
{
	return root->ncas;
}

size_t tg_trustroot_ctlog_count(const tg_trustroot *root)
{
	return root->nctlogs;
}

size_t tg_trustroot_tsa_count(const tg_trustroot *root)
{
	return root->ntsas;
}

static void free_logs(tg_tr_log *logs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(logs[i].base_url);
		free(logs[i].host);
		tg_key_free(logs[i].key);
	}
	free(logs);
}

static void free_cas_one(tg_tr_ca *ca)
{
	size_t j;

	X509_STORE_free(ca->anchor);
	for (j = 0; j < ca->ncerts; j++)
		X509_free(ca->certs[j]);
	free(ca->certs);
	free(ca->uri);
}

static void free_cas(tg_tr_ca *cas, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free_cas_one(&cas[i]);
	free(cas);
}

void tg_trustroot_free(tg_trustroot *root)
{
	if (!root)
		return;
	free_logs(root->tlogs, root->ntlogs);
	free_logs(root->ctlogs, root->nctlogs);
	free_cas(root->cas, root->ncas);
	free_cas(root->tsas, root->ntsas);
	free(root);
}
