/* DSSE envelopes and in-toto statements: see include/tollgate/dsse.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/dsse.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

struct dsse_sig {
	char *keyid;
	unsigned char *sig;
	size_t len;
};

struct tg_dsse_envelope {
	char *payload_type;
	unsigned char *payload;
	size_t payload_len;
	struct dsse_sig *sigs;
	size_t nsigs;
};

void tg_dsse_envelope_free(tg_dsse_envelope *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->nsigs; i++) {
		free(e->sigs[i].keyid);
		free(e->sigs[i].sig);
	}
	free(e->sigs);
	free(e->payload_type);
	free(e->payload);
	free(e);
}

/*
 * The DSSE spec lets signers use either base64 alphabet, padded or not
 * (protocol.md: "Either standard or URL-safe encoding is allowed"). Map the
 * URL-safe alphabet to the standard one and restore the padding, then use
 * the strict decoder.
 */
static int b64_decode_any(unsigned char **out,
                          size_t *out_len,
                          const char *in,
                          size_t len,
                          const char *what)
{
	char *s = tg_malloc(len + 4);
	size_t i, n = 0;
	int error;

	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		s[n++] = c;
	}
	while (n % 4)
		s[n++] = '=';
	error = tg_base64_decode(out, out_len, s, n);
	free(s);
	if (error < 0)
		return tg_error_set(TG_EPARSE,
		                    "DSSE envelope: %s is not base64", what);
	return 0;
}

static int b64_member(unsigned char **out,
                      size_t *out_len,
                      const json_t *obj,
                      const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return tg_error_set(TG_EPARSE, "DSSE envelope: \"%s\" is %s",
		                    key, v ? "not a string" : "missing");
	return b64_decode_any(out, out_len, json_string_value(v),
	                      json_string_length(v), key);
}

static int parse_signature(struct dsse_sig *s, const json_t *j, size_t i)
{
	json_t *keyid;

	if (!json_is_object(j))
		return tg_error_set(TG_EPARSE,
		                    "DSSE envelope: signature %zu is not an "
		                    "object",
		                    i + 1);
	keyid = json_object_get(j, "keyid");
	if (keyid && !json_is_string(keyid))
		return tg_error_set(TG_EPARSE,
		                    "DSSE envelope: signature %zu: keyid is "
		                    "not a string",
		                    i + 1);
	s->keyid = tg_strdup(keyid ? json_string_value(keyid) : "");
	if (b64_member(&s->sig, &s->len, j, "sig") < 0)
		return tg_error_prefix(TG_EPARSE, "signature %zu", i + 1);
	if (s->len == 0)
		return tg_error_set(TG_EPARSE,
		                    "DSSE envelope: signature %zu is empty",
		                    i + 1);
	return 0;
}

static int parse_signatures(tg_dsse_envelope *e, const json_t *arr)
{
	size_t i, n;
	int error;

	if (!json_is_array(arr))
		return tg_error_set(TG_EPARSE,
		                    "DSSE envelope: \"signatures\" is %s",
		                    arr ? "not an array" : "missing");
	n = json_array_size(arr);
	if (n == 0)
		return tg_error_set(TG_EPARSE, "DSSE envelope: no signatures");
	if (n > TG_MAX_DSSE_SIGNATURES)
		return tg_error_set(TG_ETOOBIG,
		                    "DSSE envelope: %zu signatures, over the "
		                    "limit of %d",
		                    n, TG_MAX_DSSE_SIGNATURES);
	e->sigs = tg_calloc(n, sizeof(*e->sigs));
	for (i = 0; i < n; i++) {
		e->nsigs = i + 1;
		if ((error = parse_signature(&e->sigs[i],
		                             json_array_get(arr, i), i)) < 0)
			return error;
	}
	return 0;
}

int tg_dsse_envelope_parse(tg_dsse_envelope **out,
                           const unsigned char *data,
                           size_t len)
{
	tg_dsse_envelope *e = NULL;
	json_t *root = NULL, *pt;
	json_error_t jerr;
	int error;

	*out = NULL;
	if (len > TG_MAX_DSSE_ENVELOPE_BYTES)
		return tg_error_set(TG_ETOOBIG,
		                    "DSSE envelope of %zu bytes is over the "
		                    "limit of %u bytes",
		                    len, TG_MAX_DSSE_ENVELOPE_BYTES);
	root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES,
	                  &jerr);
	if (!root)
		return tg_error_set(TG_EPARSE,
		                    "DSSE envelope: line %d column %d: %s",
		                    jerr.line, jerr.column, jerr.text);
	e = tg_calloc(1, sizeof(*e));
	pt = json_object_get(root, "payloadType");
	if (!json_is_object(root) || !json_is_string(pt)) {
		error = tg_error_set(TG_EPARSE,
		                     "DSSE envelope: not an object with a "
		                     "string \"payloadType\"");
		goto out;
	}
	e->payload_type = tg_strdup(json_string_value(pt));
	if ((error = b64_member(&e->payload, &e->payload_len, root,
	                        "payload")) < 0 ||
	    (error = parse_signatures(e, json_object_get(root, "signatures"))) <
	            0)
		goto out;
	*out = e;
	e = NULL;
	error = 0;
out:
	tg_dsse_envelope_free(e);
	json_decref(root);
	return error;
}

const char *tg_dsse_envelope_payload_type(const tg_dsse_envelope *e)
{
	return e->payload_type;
}

const unsigned char *tg_dsse_envelope_payload(const tg_dsse_envelope *e,
                                              size_t *len_out)
{
	*len_out = e->payload_len;
	return e->payload;
}

size_t tg_dsse_envelope_signature_count(const tg_dsse_envelope *e)
{
	return e->nsigs;
}

const char *tg_dsse_envelope_keyid(const tg_dsse_envelope *e, size_t i)
{
	return i < e->nsigs ? e->sigs[i].keyid : NULL;
}

const unsigned char *
tg_dsse_envelope_signature(const tg_dsse_envelope *e, size_t i, size_t *len_out)
{
	*len_out = i < e->nsigs ? e->sigs[i].len : 0;
	return i < e->nsigs ? e->sigs[i].sig : NULL;
}

int tg_dsse_pae(unsigned char **out,
                size_t *out_len,
                const char *type,
                const unsigned char *body,
                size_t body_len)
{
	char head[64];
	size_t tlen = strlen(type), hlen, n;
	unsigned char *p;
	int k;

	k = snprintf(head, sizeof(head), "DSSEv1 %zu ", tlen);
	hlen = (size_t)k;
	n = hlen + tlen + 1 + 24 + body_len;
	p = tg_malloc(n + 1);
	memcpy(p, head, hlen);
	memcpy(p + hlen, type, tlen);
	k = snprintf((char *)p + hlen + tlen, 26, " %zu ", body_len);
	hlen += tlen + (size_t)k;
	if (body_len)
		memcpy(p + hlen, body, body_len);
	*out_len = hlen + body_len;
	p[*out_len] = '\0';
	*out = p;
	return 0;
}

int tg_dsse_envelope_verify(size_t *authority_out,
                            char **signer_out,
                            const tg_dsse_envelope *e,
                            const tg_authority *auths,
                            size_t count,
                            const char *certificate,
                            const char *chain,
                            const char *bundle)
{
	tg_sig_material m = { 0 };
	unsigned char *pae = NULL;
	size_t pae_len = 0, i, a;
	tg_buf why;
	int error = TG_EUNTRUSTED;

	*signer_out = NULL;
	tg_buf_init(&why, TG_ERROR_MAX);
	tg_dsse_pae(&pae, &pae_len, e->payload_type, e->payload,
	            e->payload_len);
	m.msg = pae;
	m.msg_len = pae_len;
	m.certificate = certificate;
	m.chain = chain;
	m.bundle = bundle;
	for (i = 0; i < e->nsigs; i++) {
		m.sig = e->sigs[i].sig;
		m.sig_len = e->sigs[i].len;
		for (a = 0; a < count; a++) {
			if (tg_authority_verify(signer_out, &auths[a], &m) ==
			    0) {
				*authority_out = a;
				error = 0;
				goto out;
			}
			tg_buf_printf(&why, "%s%s", why.len ? "; " : "",
			              tg_error_last());
		}
	}
	error = tg_error_set(TG_EUNTRUSTED,
	                     "no signature of the DSSE envelope verifies (%s)",
	                     why.data ? why.data : "no authorities");
out:
	free(pae);
	tg_buf_free(&why);
	return error;
}

/* Statements --------------------------------------------------------------- */

struct tg_intoto_statement {
	json_t *root;
	const char *type;
	const char *predicate_type;
	json_t *predicate;
	json_t *subjects;
};

void tg_intoto_statement_free(tg_intoto_statement *s)
{
	if (!s)
		return;
	json_decref(s->root);
	json_decref(s->predicate);
	free(s);
}

static int check_subject(const json_t *subj, size_t i)
{
	json_t *digest, *name, *v;
	const char *alg;

	if (!json_is_object(subj))
		return tg_error_set(TG_EPARSE,
		                    "in-toto statement: subject %zu is not an "
		                    "object",
		                    i + 1);
	name = json_object_get(subj, "name");
	digest = json_object_get(subj, "digest");
	if ((name && !json_is_string(name)) || !json_is_object(digest))
		return tg_error_set(TG_EPARSE,
		                    "in-toto statement: subject %zu needs a "
		                    "digest object (and a string name)",
		                    i + 1);
	json_object_foreach(digest, alg, v) {
		if (!json_is_string(v))
			return tg_error_set(TG_EPARSE,
			                    "in-toto statement: subject %zu: "
			                    "digest %s is not a string",
			                    i + 1, alg);
	}
	return 0;
}

static int check_subjects(const json_t *arr)
{
	size_t i, n;
	int error;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return tg_error_set(TG_EPARSE,
		                    "in-toto statement: \"subject\" must be a "
		                    "non-empty array");
	n = json_array_size(arr);
	if (n > TG_MAX_INTOTO_SUBJECTS)
		return tg_error_set(TG_ETOOBIG,
		                    "in-toto statement: %zu subjects, over the "
		                    "limit of %d",
		                    n, TG_MAX_INTOTO_SUBJECTS);
	for (i = 0; i < n; i++)
		if ((error = check_subject(json_array_get(arr, i), i)) < 0)
			return error;
	return 0;
}

static int statement_fields(tg_intoto_statement *s)
{
	json_t *type = json_object_get(s->root, "_type"),
	       *pt = json_object_get(s->root, "predicateType"),
	       *pred = json_object_get(s->root, "predicate");
	int error;

	if (!json_is_string(type) ||
	    (strcmp(json_string_value(type), TG_INTOTO_STATEMENT_V01) &&
	     strcmp(json_string_value(type), TG_INTOTO_STATEMENT_V1)))
		return tg_error_set(
		        TG_EPARSE,
		        "in-toto statement: _type \"%.80s\" is "
		        "neither %s nor %s",
		        json_is_string(type) ? json_string_value(type) : "",
		        TG_INTOTO_STATEMENT_V01, TG_INTOTO_STATEMENT_V1);
	if (!json_is_string(pt) || json_string_length(pt) == 0)
		return tg_error_set(TG_EPARSE,
		                    "in-toto statement: predicateType is "
		                    "missing or not a string");
	if (pred && !json_is_object(pred) && !json_is_null(pred))
		return tg_error_set(TG_EPARSE,
		                    "in-toto statement: predicate is not an "
		                    "object");
	s->subjects = json_object_get(s->root, "subject");
	if ((error = check_subjects(s->subjects)) < 0)
		return error;
	s->type = json_string_value(type);
	s->predicate_type = json_string_value(pt);
	s->predicate = json_is_object(pred) ? json_incref(pred) : json_object();
	return 0;
}

int tg_intoto_statement_parse(tg_intoto_statement **out,
                              const unsigned char *data,
                              size_t len)
{
	tg_intoto_statement *s = NULL;
	json_error_t jerr;
	int error;

	*out = NULL;
	if (len > TG_MAX_DSSE_ENVELOPE_BYTES)
		return tg_error_set(TG_ETOOBIG,
		                    "in-toto statement of %zu bytes is over "
		                    "the limit",
		                    len);
	s = tg_calloc(1, sizeof(*s));
	s->root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES,
	                     &jerr);
	if (!s->root) {
		error = tg_error_set(TG_EPARSE,
		                     "in-toto statement: line %d column %d: "
		                     "%s",
		                     jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(s->root)) {
		error = tg_error_set(TG_EPARSE,
		                     "in-toto statement is not an object");
		goto out;
	}
	if ((error = statement_fields(s)) < 0)
		goto out;
	*out = s;
	s = NULL;
out:
	tg_intoto_statement_free(s);
	return error;
}

const char *tg_intoto_statement_type(const tg_intoto_statement *s)
{
	return s->type;
}

const char *tg_intoto_statement_predicate_type(const tg_intoto_statement *s)
{
	return s->predicate_type;
}

json_t *tg_intoto_statement_predicate(const tg_intoto_statement *s)
{
	return s->predicate;
}

size_t tg_intoto_statement_subject_count(const tg_intoto_statement *s)
{
	return json_array_size(s->subjects);
}

/* The first subject whose digest map holds digest, or NULL. */
static const json_t *find_subject(const tg_intoto_statement *s,
                                  const char *digest)
{
	const char *colon = strchr(digest, ':');
	char alg[16];
	json_t *subj, *v;
	size_t i, alen;

	if (!colon || (alen = (size_t)(colon - digest)) >= sizeof(alg))
		return NULL;
	memcpy(alg, digest, alen);
	alg[alen] = '\0';
	json_array_foreach(s->subjects, i, subj) {
		v = json_object_get(json_object_get(subj, "digest"), alg);
		if (json_is_string(v) &&
		    strlen(colon + 1) == json_string_length(v) &&
		    !strcasecmp(json_string_value(v), colon + 1))
			return subj;
	}
	return NULL;
}

bool tg_intoto_statement_has_subject(const tg_intoto_statement *s,
                                     const char *digest)
{
	return find_subject(s, digest) != NULL;
}

const char *tg_intoto_statement_subject_name(const tg_intoto_statement *s,
                                             const char *digest)
{
	const json_t *subj = find_subject(s, digest);

	return subj ? json_string_value(json_object_get(subj, "name")) : NULL;
}

/* Attestations ------------------------------------------------------------- */

struct tg_attestation {
	tg_intoto_statement *statement;
	char *authority;
	char *signer;
	char *digest;
};

void tg_attestation_free(tg_attestation *a)
{
	if (!a)
		return;
	tg_intoto_statement_free(a->statement);
	free(a->authority);
	free(a->signer);
	free(a->digest);
	free(a);
}

static int check_layer_shape(const tg_dsse_layer *l)
{
	if (!l->media_type || strcmp(l->media_type, TG_DSSE_MEDIA_TYPE))
		return tg_error_set(
		        TG_EINVALID, "layer media type \"%.100s\" is not %s",
		        l->media_type ? l->media_type : "", TG_DSSE_MEDIA_TYPE);
	return 0;
}

/* Parse and authenticate the envelope; only then is its payload trusted
 * enough to parse. */
static int open_envelope(tg_attestation *a,
                         const tg_dsse_layer *l,
                         const tg_authority *auths,
                         size_t count)
{
	tg_dsse_envelope *e = NULL;
	size_t which = 0, plen;
	const unsigned char *payload;
	int error;

	if ((error = tg_dsse_envelope_parse(&e, l->envelope, l->envelope_len)) <
	    0)
		return error;
	if (strcmp(e->payload_type, TG_INTOTO_PAYLOAD_TYPE) != 0) {
		error = tg_error_set(TG_EINVALID,
		                     "DSSE payloadType \"%.100s\" is not %s",
		                     e->payload_type, TG_INTOTO_PAYLOAD_TYPE);
		goto out;
	}
	if ((error = tg_dsse_envelope_verify(&which, &a->signer, e, auths,
	                                     count, l->certificate, l->chain,
	                                     l->bundle)) < 0)
		goto out;
	a->authority = tg_strdup(auths[which].name);
	payload = tg_dsse_envelope_payload(e, &plen);
	error = tg_intoto_statement_parse(&a->statement, payload, plen);
out:
	tg_dsse_envelope_free(e);
	return error;
}

/* 0 when a's statement is about the image digest, else TG_EINVALID: a
 * signed statement about another image must not vouch for this one. */
static int check_about_image(const tg_attestation *a, const char *digest)
{
	if (!tg_intoto_statement_has_subject(a->statement, digest))
		return tg_error_set(TG_EINVALID,
		                    "the statement's subjects do not include "
		                    "%s (an attestation of another image)",
		                    digest);
	return 0;
}

int tg_attestation_verify(tg_attestation **out,
                          const tg_dsse_layer *layer,
                          const char *digest,
                          const tg_authority *auths,
                          size_t count)
{
	tg_attestation *a = NULL;
	int error;

	*out = NULL;
	if ((error = check_layer_shape(layer)) < 0)
		return error;
	a = tg_calloc(1, sizeof(*a));
	a->digest = tg_strdup(layer->digest ? layer->digest : "");
	if ((error = open_envelope(a, layer, auths, count)) < 0 ||
	    (error = check_about_image(a, digest)) < 0)
		goto out;
	*out = a;
	a = NULL;
out:
	tg_attestation_free(a);
	return error;
}

int tg_attestation_from_statement(tg_attestation **out,
                                  const unsigned char *statement,
                                  size_t len,
                                  const char *digest,
                                  const char *authority,
                                  const char *signer,
                                  const char *source)
{
	tg_attestation *a = tg_calloc(1, sizeof(*a));
	int error;

	*out = NULL;
	a->authority = tg_strdup(authority);
	a->signer = tg_strdup(signer);
	a->digest = tg_strdup(source ? source : "");
	if ((error = tg_intoto_statement_parse(&a->statement, statement, len)) <
	            0 ||
	    (error = check_about_image(a, digest)) < 0)
		goto out;
	*out = a;
	a = NULL;
out:
	tg_attestation_free(a);
	return error;
}

const char *tg_attestation_predicate_type(const tg_attestation *a)
{
	return tg_intoto_statement_predicate_type(a->statement);
}

json_t *tg_attestation_predicate(const tg_attestation *a)
{
	return tg_intoto_statement_predicate(a->statement);
}

const tg_intoto_statement *tg_attestation_statement(const tg_attestation *a)
{
	return a->statement;
}

const char *tg_attestation_authority(const tg_attestation *a)
{
	return a->authority;
}

const char *tg_attestation_signer(const tg_attestation *a)
{
	return a->signer;
}

const char *tg_attestation_digest(const tg_attestation *a)
{
	return a->digest;
}
