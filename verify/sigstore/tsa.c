/*
 * RFC 3161 timestamps from the timestamp authorities of a Sigstore trust
 * root (Rekor v2 bundles rely on them for the signing time).
 */
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ts.h>
#include <openssl/x509_vfy.h>

#include "sigstore_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

int tg_asn1_time_unix(int64_t *out, const ASN1_TIME *t)
{
	struct tm tm;

	/* Defined on every path: callers test the result with "< 0", and the
	 * compiler cannot know tg_error_set() returns a negative code. */
	*out = 0;
	memset(&tm, 0, sizeof(tm));
	if (!t || !ASN1_TIME_to_tm(t, &tm)) {
		ERR_clear_error();
		return tg_error_set(TG_EPARSE, "malformed ASN.1 time");
	}
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* A store trusting the first n certificates of ca (partial chains
 * allowed: the trust root names the authority, whichever certificate it
 * lists), with the verification time fixed to t. */
static X509_STORE *store_at(const tg_tr_ca *ca, size_t n, int64_t t)
{
	X509_STORE *store = X509_STORE_new();
	X509_VERIFY_PARAM *param;
	size_t i;

	if (!store)
		return NULL;
	for (i = 0; i < n; i++)
		X509_STORE_add_cert(store, ca->certs[i]);
	param = X509_STORE_get0_param(store);
	X509_VERIFY_PARAM_set_time(param, (time_t)t);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN |
	                                           X509_V_FLAG_USE_CHECK_TIME);
	return store;
}

/* Verify resp with the first n certificates of tsa trusted, at time t. 1
 * verified, 0 not, with OpenSSL's reason in why. */
static int verify_n(TS_RESP *resp,
                    const tg_tr_ca *tsa,
                    size_t n,
                    int64_t t,
                    const unsigned char *data,
                    size_t data_len,
                    char *why,
                    size_t why_len)
{
	TS_VERIFY_CTX *ctx = TS_VERIFY_CTX_new();
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509_STORE *store = store_at(tsa, n, t);
	BIO *bio = BIO_new_mem_buf(data, (int)data_len);
	size_t i;
	int ok = 0;

	if (!ctx || !certs || !store || !bio)
		goto out;
	for (i = 0; i < n; i++) {
		X509_up_ref(tsa->certs[i]);
		sk_X509_push(certs, tsa->certs[i]);
	}
	/* The context owns what it is given from here on. */
	TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNER |
	                                     TS_VFY_SIGNATURE | TS_VFY_DATA);
	TS_VERIFY_CTX_set_store(ctx, store);
	TS_VERIFY_CTX_set_certs(ctx, certs);
	TS_VERIFY_CTX_set_data(ctx, bio);
	store = NULL;
	certs = NULL;
	bio = NULL;
	ok = TS_RESP_verify_response(ctx, resp) == 1;
	if (!ok && ERR_peek_last_error())
		tg_strlcpy(
		        why,
		        ERR_reason_error_string(ERR_peek_last_error())
		                ? ERR_reason_error_string(ERR_peek_last_error())
		                : "unknown reason",
		        why_len);
out:
	TS_VERIFY_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(certs, X509_free);
	BIO_free(bio);
	ERR_clear_error();
	return ok;
}

/* Verify resp against one authority at time t: first with its signing
 * certificate alone trusted, whose chain was verified when the trust root
 * was loaded (no chain signature to check again), the certificates above
 * it valid at t; else with its whole chain. */
static int verify_with(TS_RESP *resp,
                       const tg_tr_ca *tsa,
                       int64_t t,
                       const unsigned char *data,
                       size_t data_len,
                       char *why,
                       size_t why_len)
{
	if (tsa->upper_ok && tg_validity_contains(&tsa->upper, t) &&
	    verify_n(resp, tsa, 1, t, data, data_len, why, why_len))
		return 1;
	return verify_n(resp, tsa, tsa->ncerts, t, data, data_len, why,
	                why_len);
}

/* Why no trusted timestamp authority vouches for the time t: none was
 * valid then (in_window 0), or none verifies (why: OpenSSL's reason). */
static int untrusted_time(int64_t t, size_t in_window, const char *why)
{
	char when[21];

	tg_format_rfc3339(when, t);
	if (in_window == 0)
		return tg_error_set(TG_EUNTRUSTED,
		                    "RFC 3161 "
		                    "timestamp of %s: no trusted "
		                    "timestamp authority was valid at "
		                    "that time",
		                    when);
	return tg_error_set(TG_EUNTRUSTED,
	                    "RFC 3161 "
	                    "timestamp of %s does not verify "
	                    "over this signature with a "
	                    "trusted timestamp authority: %s",
	                    when, why[0] ? why : "rejected");
}

int tg_tsa_verify(int64_t *t_out,
                  const unsigned char *der,
                  size_t der_len,
                  const unsigned char *data,
                  size_t data_len,
                  const tg_trustroot *root)
{
	const unsigned char *p = der;
	TS_RESP *resp = NULL;
	TS_TST_INFO *info;
	size_t i, in_window = 0;
	char why[TG_TSA_WHY_BYTES] = "";
	int64_t t;
	int error;

	resp = d2i_TS_RESP(NULL, &p, (long)der_len);
	if (!resp || p != der + der_len) {
		error = tg_error_set(TG_EPARSE, "RFC 3161 timestamp: not a DER "
		                                "TimeStampResp");
		goto out;
	}
	info = TS_RESP_get_tst_info(resp);
	if (!info ||
	    tg_asn1_time_unix(
	            &t, (const ASN1_TIME *)TS_TST_INFO_get_time(info)) < 0) {
		error = tg_error_set(TG_EPARSE,
		                     "RFC 3161 timestamp: no "
		                     "TSTInfo with a generation time");
		goto out;
	}
	for (i = 0; i < root->ntsas; i++) {
		if (!tg_validity_contains(&root->tsas[i].valid, t))
			continue;
		in_window++;
		if (verify_with(resp, &root->tsas[i], t, data, data_len, why,
		                sizeof(why))) {
			*t_out = t;
			error = 0;
			goto out;
		}
	}
	error = untrusted_time(t, in_window, why);
out:
	ERR_clear_error();
	TS_RESP_free(resp);
	return error;
}
