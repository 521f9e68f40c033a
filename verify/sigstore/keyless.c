/*
 * Keyless (Fulcio) signing certificates: see include/tollgate/keyless.h.
 * Extension OIDs: github.com/sigstore/fulcio docs/oid-info.md.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "sigstore_int.h"
#include "tollgate/error.h"
#include "tollgate/buf.h"
#include "tollgate/keyless.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

/* Longest identity value kept from a certificate extension. */
#define TG_MAX_IDENTITY_BYTES 4096

#define OID_ISSUER_V1 "1.3.6.1.4.1.57264.1.1"
#define OID_GH_TRIGGER_V1 "1.3.6.1.4.1.57264.1.2"
#define OID_GH_SHA_V1 "1.3.6.1.4.1.57264.1.3"
#define OID_GH_REPOSITORY_V1 "1.3.6.1.4.1.57264.1.5"
#define OID_GH_REF_V1 "1.3.6.1.4.1.57264.1.6"
#define OID_OTHERNAME_SAN "1.3.6.1.4.1.57264.1.7"
#define OID_ISSUER_V2 "1.3.6.1.4.1.57264.1.8"
#define OID_SOURCE_REPO_URI "1.3.6.1.4.1.57264.1.12"
#define OID_SOURCE_REPO_DIGEST "1.3.6.1.4.1.57264.1.13"
#define OID_SOURCE_REPO_REF "1.3.6.1.4.1.57264.1.14"
#define OID_BUILD_TRIGGER "1.3.6.1.4.1.57264.1.20"

/* A string with no NUL inside (an embedded NUL would let
 * "good.example\0.evil" compare equal to "good.example"). */
static int
dup_value(char **out, const unsigned char *data, int len, const char *what)
{
	*out = NULL;
	if (len < 0 || len > TG_MAX_IDENTITY_BYTES ||
	    (len > 0 && memchr(data, '\0', (size_t)len)))
		return tg_error_set(TG_EPARSE,
		                    "certificate: %s is not a "
		                    "usable string",
		                    what);
	*out = tg_strndup((const char *)data, (size_t)len);
	return 0;
}

/* The value of extension oid: raw bytes (der = 0) or a DER UTF8String
 * (der = 1). 0 (with *out NULL when absent) or TG_EPARSE. */
static int ext_value(char **out, X509 *cert, const char *oid, int der)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os;
	ASN1_UTF8STRING *u = NULL;
	const unsigned char *p;
	int idx, error;

	*out = NULL;
	idx = obj ? X509_get_ext_by_OBJ(cert, obj, -1) : -1;
	ASN1_OBJECT_free(obj);
	if (idx < 0)
		return 0;
	os = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
	if (!der)
		return dup_value(out, ASN1_STRING_get0_data(os),
		                 ASN1_STRING_length(os), oid);
	p = ASN1_STRING_get0_data(os);
	u = d2i_ASN1_UTF8STRING(NULL, &p, ASN1_STRING_length(os));
	if (!u || p != ASN1_STRING_get0_data(os) + ASN1_STRING_length(os)) {
		ASN1_UTF8STRING_free(u);
		ERR_clear_error();
		return tg_error_set(TG_EPARSE,
		                    "certificate: extension %s is "
		                    "not a DER UTF8String",
		                    oid);
	}
	error = dup_value(out, ASN1_STRING_get0_data(u), ASN1_STRING_length(u),
	                  oid);
	ASN1_UTF8STRING_free(u);
	return error;
}

/* The first usable SAN: URI, email, or Fulcio's otherName (username). */
static int san_value(char **out, X509 *cert)
{
	GENERAL_NAMES *names =
	        X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	ASN1_OBJECT *other = OBJ_txt2obj(OID_OTHERNAME_SAN, 1);
	const ASN1_STRING *s = NULL;
	int i, error;

	*out = NULL;
	for (i = 0; names && i < sk_GENERAL_NAME_num(names) && !s; i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

		if (gn->type == GEN_URI || gn->type == GEN_EMAIL)
			s = gn->d.ia5;
		else if (gn->type == GEN_OTHERNAME && other &&
		         !OBJ_cmp(gn->d.otherName->type_id, other) &&
		         gn->d.otherName->value->type == V_ASN1_UTF8STRING)
			s = gn->d.otherName->value->value.utf8string;
	}
	if (!s)
		error = tg_error_set(TG_EPARSE,
		                     "certificate: no URI, email or "
		                     "username subject alternative name");
	else
		error = dup_value(out, ASN1_STRING_get0_data(s),
		                  ASN1_STRING_length(s),
		                  "subject alternative name");
	GENERAL_NAMES_free(names);
	ASN1_OBJECT_free(other);
	ERR_clear_error();
	return error;
}

/* New extension (DER UTF8String) first, else the deprecated raw one. */
static int ext_either(char **out, X509 *cert, const char *v2, const char *v1)
{
	int error = ext_value(out, cert, v2, 1);

	if (error < 0 || *out || !v1)
		return error;
	return ext_value(out, cert, v1, 0);
}

int tg_keyless_identity(tg_cert_identity **out, X509 *cert)
{
	tg_cert_identity *id = tg_calloc(1, sizeof(*id));
	int error;

	*out = NULL;
	if ((error = san_value(&id->subject, cert)) < 0 ||
	    (error = ext_either(&id->issuer, cert, OID_ISSUER_V2,
	                        OID_ISSUER_V1)) < 0 ||
	    (error = ext_either(&id->github_repository, cert,
	                        OID_SOURCE_REPO_URI, OID_GH_REPOSITORY_V1)) <
	            0 ||
	    (error = ext_either(&id->github_ref, cert, OID_SOURCE_REPO_REF,
	                        OID_GH_REF_V1)) < 0 ||
	    (error = ext_either(&id->github_trigger, cert, OID_BUILD_TRIGGER,
	                        OID_GH_TRIGGER_V1)) < 0 ||
	    (error = ext_either(&id->github_sha, cert, OID_SOURCE_REPO_DIGEST,
	                        OID_GH_SHA_V1)) < 0) {
		tg_cert_identity_free(id);
		return error;
	}
	*out = id;
	return 0;
}

void tg_cert_identity_free(tg_cert_identity *id)
{
	if (!id)
		return;
	free(id->subject);
	free(id->issuer);
	free(id->github_repository);
	free(id->github_ref);
	free(id->github_trigger);
	free(id->github_sha);
	free(id);
}

/* Exact value or regular expression; neither set matches anything. */
static int
match_one(const char *what, const char *have, const char *exact, const char *re)
{
	regex_t rx;
	int rc;

	if (!have)
		return tg_error_set(TG_EUNTRUSTED,
		                    "certificate has no %s; "
		                    "the policy requires one",
		                    what);
	if (exact) {
		if (strcmp(have, exact))
			return tg_error_set(TG_EUNTRUSTED,
			                    "certificate %s "
			                    "\"%s\" is not \"%s\"",
			                    what, have, exact);
		return 0;
	}
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return tg_error_set(TG_EINVALID,
		                    "policy: %s regular "
		                    "expression \"%s\" does not compile",
		                    what, re);
	rc = regexec(&rx, have, 0, NULL, 0);
	regfree(&rx);
	if (rc != 0)
		return tg_error_set(TG_EUNTRUSTED,
		                    "certificate %s \"%s\" does "
		                    "not match \"%s\"",
		                    what, have, re);
	return 0;
}

/* The new extension holds the repository as a URL, the old one as
 * "owner/name": a policy may use either form. */
static bool same_repository(const char *have, const char *want)
{
	static const char gh[] = "https://github.com/";

	if (!have)
		return false;
	if (tg_str_has_prefix(have, gh) && !tg_str_has_prefix(want, gh))
		have += sizeof(gh) - 1;
	else if (!tg_str_has_prefix(have, gh) && tg_str_has_prefix(want, gh))
		want += sizeof(gh) - 1;
	return !strcmp(have, want);
}

/* The optional GitHub workflow conditions. */
static int match_github(const tg_cert_identity *id, const tg_keyless_policy *p)
{
	int error = 0;

	if (p->github_repository &&
	    !same_repository(id->github_repository, p->github_repository) &&
	    (error = match_one("GitHub repository", id->github_repository,
	                       p->github_repository, NULL)) < 0)
		return error;
	if (p->github_ref && (error = match_one("GitHub ref", id->github_ref,
	                                        p->github_ref, NULL)) < 0)
		return error;
	if (p->github_trigger)
		error = match_one("GitHub workflow trigger", id->github_trigger,
		                  p->github_trigger, NULL);
	return error;
}

int tg_keyless_match(const tg_cert_identity *id, const tg_keyless_policy *p)
{
	int error;

	if (p->match) {
		if ((error = p->match(p->match_ctx, id)) < 0)
			return error;
		return match_github(id, p);
	}
	if ((!p->subject && !p->subject_regexp) ||
	    (!p->issuer && !p->issuer_regexp))
		return tg_error_set(TG_EINVALID,
		                    "policy: a keyless authority "
		                    "needs a subject (or subjectRegExp) and "
		                    "an issuer (or issuerRegExp)");
	if ((error = match_one("identity", id->subject, p->subject,
	                       p->subject_regexp)) < 0 ||
	    (error = match_one("OIDC issuer", id->issuer, p->issuer,
	                       p->issuer_regexp)) < 0)
		return error;
	return match_github(id, p);
}

/* A signing leaf: not a CA, code-signing EKU, digitalSignature usage. */
static int check_leaf_usage(X509 *leaf, unsigned flags)
{
	uint32_t ext = X509_get_extension_flags(leaf);

	if (X509_check_ca(leaf) != 0 || (ext & EXFLAG_CA))
		return tg_error_set(TG_EINVALID, "signing certificate is a CA "
		                                 "certificate, not a leaf");
	/* Go's x509 (and so cosign) reads a missing EKU extension as any
	 * usage; allowed only for private PKIs, Fulcio always sets it. */
	if (!(ext & EXFLAG_XKUSAGE) && (flags & TG_KEYLESS_ALLOW_NO_EKU))
		;
	else if (!(ext & EXFLAG_XKUSAGE) ||
	         !(X509_get_extended_key_usage(leaf) & XKU_CODE_SIGN))
		return tg_error_set(TG_EINVALID,
		                    "signing certificate lacks "
		                    "the code-signing extended key usage");
	if ((ext & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
		return tg_error_set(TG_EINVALID,
		                    "signing certificate lacks "
		                    "the digitalSignature key usage");
	return 0;
}

static int check_time(X509 *leaf, int64_t t)
{
	int64_t nb, na;
	char when[21];

	if (tg_asn1_time_unix(&nb, X509_get0_notBefore(leaf)) < 0 ||
	    tg_asn1_time_unix(&na, X509_get0_notAfter(leaf)) < 0)
		return tg_error_set(TG_EPARSE, "signing certificate has a "
		                               "malformed validity");
	if (t >= nb && t <= na)
		return 0;
	tg_format_rfc3339(when, t);
	return tg_error_set(TG_EEXPIRED,
	                    "signing time %s is outside the "
	                    "signing certificate's validity",
	                    when);
}

/* The earliest notAfter of the certificates of chain, and of the CA's own
 * validity window, into *until (kept when earlier). */
static void
chain_until(int64_t *until, STACK_OF(X509) * chain, const tg_tr_ca *ca)
{
	int64_t na;
	int i;

	for (i = 0; i < sk_X509_num(chain); i++)
		if (tg_asn1_time_unix(&na, X509_get0_notAfter(sk_X509_value(
		                                   chain, i))) == 0 &&
		    na < *until)
			*until = na;
	if (ca->valid.has_end && ca->valid.end < *until)
		*until = ca->valid.end;
}

/* Verify leaf's chain in store at t; 1 with the chain's second
 * certificate (the leaf's issuer) in *issuer_out and the earliest expiry
 * of the chain built (and of ca's window) in *until, else 0 and *verr. */
static int verify_in(X509 **issuer_out,
                     int64_t *until,
                     X509 *leaf,
                     STACK_OF(X509) * untrusted,
                     X509_STORE *store,
                     const tg_tr_ca *ca,
                     int64_t t,
                     int *verr)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) * chain;
	int ok = 0;

	if (!ctx || !X509_STORE_CTX_init(ctx, store, leaf, untrusted))
		goto out;
	X509_STORE_CTX_set_time(ctx, 0, (time_t)t);
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_verify_cert(ctx) == 1) {
		chain = X509_STORE_CTX_get0_chain(ctx);
		if (sk_X509_num(chain) >= 2) {
			*issuer_out = sk_X509_value(chain, 1);
			X509_up_ref(*issuer_out);
			chain_until(until, chain, ca);
			ok = 1;
		}
	} else {
		*verr = X509_STORE_CTX_get_error(ctx);
	}
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/*
 * Chain leaf to ca at t; 1 and *issuer_out on success. First to ca's
 * first certificate alone, whose own chain was verified when the trust
 * root was loaded (one signature check here instead of one per
 * certificate), with the validity of the certificates above it checked
 * against t; else to every certificate of ca.
 */
static int chain_to(X509 **issuer_out,
                    int64_t *until,
                    X509 *leaf,
                    STACK_OF(X509) * untrusted,
                    const tg_tr_ca *ca,
                    int64_t t,
                    int *verr)
{
	X509_STORE *store;
	size_t i;
	int ok = 0;

	if (ca->upper_ok && tg_validity_contains(&ca->upper, t) &&
	    verify_in(issuer_out, until, leaf, untrusted, ca->anchor, ca, t,
	              verr)) {
		/* The certificates above the anchor end with upper. */
		if (ca->upper.has_end && ca->upper.end < *until)
			*until = ca->upper.end;
		return 1;
	}
	store = X509_STORE_new();
	if (!store)
		return 0;
	for (i = 0; i < ca->ncerts; i++)
		X509_STORE_add_cert(store, ca->certs[i]);
	ok = verify_in(issuer_out, until, leaf, untrusted, store, ca, t, verr);
	X509_STORE_free(store);
	return ok;
}

int tg_keyless_verify_cert(X509 **issuer_out,
                           X509 *leaf,
                           const tg_trustroot *root,
                           int64_t t)
{
	return tg_keyless_verify_cert_with(issuer_out, NULL, leaf, NULL, root,
	                                   t, 0);
}

int tg_keyless_verify_cert_with(X509 **issuer_out,
                                int64_t *until_out,
                                X509 *leaf,
                                STACK_OF(X509) * untrusted,
                                const tg_trustroot *root,
                                int64_t t,
                                unsigned flags)
{
	X509 *issuer = NULL;
	size_t i, tried = 0;
	int error, verr = X509_V_OK;
	int64_t until = INT64_MAX;
	char when[21];

	if (issuer_out)
		*issuer_out = NULL;
	if (until_out)
		*until_out = INT64_MAX;
	if ((error = check_leaf_usage(leaf, flags)) < 0 ||
	    (error = check_time(leaf, t)) < 0)
		return error;
	for (i = 0; i < root->ncas && !issuer; i++) {
		if (!tg_validity_contains(&root->cas[i].valid, t))
			continue;
		tried++;
		chain_to(&issuer, &until, leaf, untrusted, &root->cas[i], t,
		         &verr);
	}
	if (!issuer) {
		tg_format_rfc3339(when, t);
		if (tried == 0)
			return tg_error_set(TG_EUNTRUSTED,
			                    "no trusted "
			                    "certificate authority was valid "
			                    "at the signing time %s",
			                    when);
		return tg_error_set(TG_EUNTRUSTED,
		                    "signing certificate does "
		                    "not chain to a trusted certificate "
		                    "authority at %s: %s",
		                    when, X509_verify_cert_error_string(verr));
	}
	if (issuer_out)
		*issuer_out = issuer;
	else
		X509_free(issuer);
	if (until_out)
		*until_out = until;
	return 0;
}

/* ---- Signed certificate timestamps (RFC 6962 section 3.2) ---------------- */

/* The precertificate TBS: leaf's TBSCertificate without the SCT list
 * extension, as the CT log saw it when it signed; re-encoded by OpenSSL
 * (the way for certificates whose DER tbs_cut() cannot walk). */
static int precert_tbs(unsigned char **out, int *len, X509 *leaf)
{
	X509 *pre = X509_dup(leaf);
	int idx;

	*out = NULL;
	if (!pre)
		return TG_ERROR;
	while ((idx = X509_get_ext_by_NID(pre, NID_ct_precert_scts, -1)) >= 0)
		X509_EXTENSION_free(X509_delete_ext(pre, idx));
	*len = i2d_re_X509_tbs(pre, out);
	X509_free(pre);
	return *len > 0 ? 0 : TG_ERROR;
}

/* DER of the SCT list extension's OID, 1.3.6.1.4.1.11129.2.4.2. */
static const unsigned char sct_oid[] = { 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
	                                 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02 };

/* One DER element at *p (before end): its content in [*c, *p) after the
 * call. 0, or -1 when it is not a definite-length element. */
static int der_next(const unsigned char **p,
                    const unsigned char *end,
                    const unsigned char **c,
                    int *tag,
                    int *cls)
{
	const unsigned char *q = *p;
	long clen;
	int r;

	if (end <= *p)
		return -1;
	r = ASN1_get_object(&q, &clen, tag, cls, end - *p);
	if ((r & 0x80) || r == 0x21)
		return -1;
	*c = q;
	*p = q + clen;
	return 0;
}

/* A DER header (tag byte, definite length) for content of n bytes. */
static int der_header(tg_buf *b, unsigned char tag, size_t n)
{
	unsigned char h[6];
	size_t k = 0, i;

	h[k++] = tag;
	if (n < 0x80) {
		h[k++] = (unsigned char)n;
	} else {
		for (i = 4; i > 0 && !(n >> (8 * (i - 1))); i--)
			;
		h[k++] = (unsigned char)(0x80 | i);
		while (i-- > 0)
			h[k++] = (unsigned char)(n >> (8 * i));
	}
	return tg_buf_append(b, h, k);
}

/* The extensions of [c, end) (a SEQUENCE OF Extension's content) but the
 * SCT list, into kept; how many were dropped, or -1. */
static int
exts_without_sct(tg_buf *kept, const unsigned char *c, const unsigned char *end)
{
	const unsigned char *start, *ec;
	int tag, cls, dropped = 0;

	while (c < end) {
		start = c;
		if (der_next(&c, end, &ec, &tag, &cls) < 0)
			return -1;
		if ((size_t)(c - ec) >= sizeof(sct_oid) &&
		    !memcmp(ec, sct_oid, sizeof(sct_oid))) {
			dropped++;
			continue;
		}
		if (tg_buf_append(kept, start, (size_t)(c - start)) < 0)
			return -1;
	}
	return dropped;
}

/* Where [3] extensions sits in the TBSCertificate of der: the TBS content
 * [*t, *tend), the [3] element [*x, *xend) and its SEQUENCE's content
 * [*seq, *xend). 0 or -1. */
static int find_exts(const unsigned char *der,
                     size_t len,
                     const unsigned char **t,
                     const unsigned char **tend,
                     const unsigned char **x,
                     const unsigned char **xend,
                     const unsigned char **seq)
{
	const unsigned char *p = der, *c, *xc;
	int tag, cls;

	if (der_next(&p, der + len, &c, &tag, &cls) < 0 ||
	    der_next(&c, p, t, &tag, &cls) < 0 || tag != V_ASN1_SEQUENCE)
		return -1;
	*tend = c;
	for (p = *t; p < *tend;) {
		*x = p;
		if (der_next(&p, *tend, &xc, &tag, &cls) < 0)
			return -1;
		if (cls != V_ASN1_CONTEXT_SPECIFIC || tag != 3)
			continue;
		*xend = p;
		return der_next(&xc, p, seq, &tag, &cls) < 0 ||
		                       tag != V_ASN1_SEQUENCE || xc != p
		               ? -1
		               : 0;
	}
	return -1;
}

/*
 * The precertificate TBS cut from the leaf's own DER: its TBSCertificate
 * with the SCT list extension taken out of [3] extensions, every other
 * byte as issued. Re-encoding through OpenSSL (precert_tbs) decodes the
 * whole certificate, public key included, once more for each bundle.
 * 0 with out (initialised here; caller frees), or -1 (then use
 * precert_tbs).
 */
static int tbs_cut(tg_buf *out, const unsigned char *der, size_t len)
{
	const unsigned char *t, *tend, *x, *xend, *seq;
	tg_buf kept, seqb, body;
	int ok;

	tg_buf_init(out, len + 32);
	if (find_exts(der, len, &t, &tend, &x, &xend, &seq) < 0)
		return -1;
	tg_buf_init(&kept, len);
	tg_buf_init(&seqb, len + 16);
	tg_buf_init(&body, len + 32);
	ok = exts_without_sct(&kept, seq, xend) > 0 && kept.len > 0 &&
	     der_header(&seqb, 0x30, kept.len) == 0 &&
	     tg_buf_append(&seqb, kept.data, kept.len) == 0 &&
	     tg_buf_append(&body, t, (size_t)(x - t)) == 0 &&
	     der_header(&body, 0xa3, seqb.len) == 0 &&
	     tg_buf_append(&body, seqb.data, seqb.len) == 0 &&
	     tg_buf_append(&body, xend, (size_t)(tend - xend)) == 0 &&
	     der_header(out, 0x30, body.len) == 0 &&
	     tg_buf_append(out, body.data, body.len) == 0;
	tg_buf_free(&kept);
	tg_buf_free(&seqb);
	tg_buf_free(&body);
	return ok ? 0 : -1;
}

/* v as bytes big-endian bytes; 0 or TG_ETOOBIG. */
static int put_be(tg_buf *b, uint64_t v, int bytes)
{
	unsigned char c;
	int error = 0;

	while (bytes-- > 0 && error == 0) {
		c = (unsigned char)(v >> (8 * bytes));
		error = tg_buf_append(b, &c, 1);
	}
	return error;
}

/* The digitally-signed struct of an SCT over a precertificate (RFC 6962
 * 3.2); 0, or TG_ETOOBIG when msg's maximum is too small. */
static int sct_message(tg_buf *msg,
                       uint64_t ts,
                       const unsigned char ikh[TG_SHA256_LEN],
                       const unsigned char *tbs,
                       size_t tbs_len,
                       const unsigned char *ext,
                       size_t ext_len)
{
	int error;

	if ((error = put_be(msg, 0, 1)) < 0 || /* version v1 */
	    /* signature_type certificate_timestamp */
	    (error = put_be(msg, 0, 1)) < 0 ||
	    (error = put_be(msg, ts, 8)) < 0 ||
	    /* entry_type precert_entry */
	    (error = put_be(msg, 1, 2)) < 0 ||
	    (error = tg_buf_append(msg, ikh, TG_SHA256_LEN)) < 0 ||
	    (error = put_be(msg, (uint64_t)tbs_len, 3)) < 0 ||
	    (error = tg_buf_append(msg, tbs, tbs_len)) < 0 ||
	    (error = put_be(msg, ext_len, 2)) < 0)
		return error;
	return ext_len ? tg_buf_append(msg, ext, ext_len) : 0;
}

/* 1 when sct verifies under a known CT log. */
static int sct_verifies(const SCT *sct,
                        const unsigned char *tbs,
                        int tbs_len,
                        const unsigned char ikh[TG_SHA256_LEN],
                        const tg_trustroot *root)
{
	const tg_tr_log *log;
	unsigned char *id, *ext, *sig;
	size_t id_len, ext_len, sig_len;
	uint64_t ts = SCT_get_timestamp(sct);
	tg_buf msg;
	int ok;

	if (SCT_get_version(sct) != SCT_VERSION_V1)
		return 0;
	id_len = SCT_get0_log_id(sct, &id);
	log = tg_trustroot_find_log(root->ctlogs, root->nctlogs, id, id_len);
	if (!log || !tg_validity_contains(&log->valid, (int64_t)(ts / 1000)))
		return 0;
	ext_len = SCT_get0_extensions(sct, &ext);
	sig_len = SCT_get0_signature(sct, &sig);
	tg_buf_init(&msg, (size_t)tbs_len + ext_len + 64);
	ok = sct_message(&msg, ts, ikh, tbs, (size_t)tbs_len, ext, ext_len) ==
	             0 &&
	     tg_key_verify(log->key, TG_HASH_SHA256,
	                   (const unsigned char *)msg.data, msg.len, sig,
	                   sig_len) == 0;
	tg_buf_free(&msg);
	return ok;
}

/* The precertificate TBS of leaf into tbs (caller frees): cut from its
 * DER, else re-encoded by OpenSSL. 0 or TG_ERROR. */
static int leaf_precert_tbs(tg_buf *tbs, X509 *leaf)
{
	unsigned char *der = NULL, *re = NULL;
	int len, error;

	len = i2d_X509(leaf, &der);
	if (len > 0 && tbs_cut(tbs, der, (size_t)len) == 0) {
		OPENSSL_free(der);
		return 0;
	}
	OPENSSL_free(der);
	tg_buf_free(tbs);
	tg_buf_init(tbs, TG_MAX_PEM_BYTES);
	if (precert_tbs(&re, &len, leaf) < 0)
		return TG_ERROR;
	error = tg_buf_append(tbs, re, (size_t)len);
	OPENSSL_free(re);
	return error;
}

int tg_keyless_verify_sct(X509 *leaf, X509 *issuer, const tg_trustroot *root)
{
	STACK_OF(SCT) *scts =
	        X509_get_ext_d2i(leaf, NID_ct_precert_scts, NULL, NULL);
	unsigned char ikh[TG_SHA256_LEN], *spki = NULL;
	int i, spki_len, n, error;
	tg_buf tbs;

	tg_buf_init(&tbs, 0);
	ERR_clear_error();
	if (!scts || (n = sk_SCT_num(scts)) == 0) {
		error = tg_error_set(TG_ENOTFOUND, "signing certificate has "
		                                   "no embedded SCT");
		goto out;
	}
	spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer), &spki);
	if (spki_len <= 0 || leaf_precert_tbs(&tbs, leaf) < 0) {
		error = tg_error_add_openssl(tg_error_set(
		        TG_ERROR, "cannot rebuild the precertificate"));
		goto out;
	}
	tg_sha256(ikh, spki, (size_t)spki_len);
	error = tg_error_set(TG_EUNTRUSTED,
	                     "none of the %d SCTs of the "
	                     "signing certificate verifies with a trusted CT "
	                     "log",
	                     n);
	for (i = 0; i < n; i++)
		if (sct_verifies(sk_SCT_value(scts, i),
		                 (const unsigned char *)tbs.data, (int)tbs.len,
		                 ikh, root)) {
			tg_error_clear();
			error = 0;
			break;
		}
out:
	SCT_LIST_free(scts);
	OPENSSL_free(spki);
	tg_buf_free(&tbs);
	ERR_clear_error();
	return error;
}
