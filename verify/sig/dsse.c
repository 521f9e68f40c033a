/* DSSE envelopes: see include/tollgate/dsse.h. */
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

const unsigned char *tg_dsse_envelope_payload(size_t *len_out,
                                              const tg_dsse_envelope *e)
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
tg_dsse_envelope_signature(size_t *len_out, const tg_dsse_envelope *e, size_t i)
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
	char head[TG_DSSE_PAE_HEAD_BYTES];
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
                            int64_t *until_out,
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
	int error;

	*signer_out = NULL;
	*until_out = INT64_MAX;
	if ((error = tg_dsse_pae(&pae, &pae_len, e->payload_type, e->payload,
	                         e->payload_len)) < 0)
		return error;
	tg_buf_init(&why, TG_ERROR_MAX);
	m.msg = pae;
	m.msg_len = pae_len;
	m.certificate = certificate;
	m.chain = chain;
	m.bundle = bundle;
	for (i = 0; i < e->nsigs; i++) {
		m.sig = e->sigs[i].sig;
		m.sig_len = e->sigs[i].len;
		for (a = 0; a < count; a++) {
			if (tg_authority_verify(signer_out, until_out,
			                        &auths[a], &m) == 0) {
				*authority_out = a;
				error = 0;
				goto out;
			}
			/* A full buffer only leaves later reasons out of
			 * the message; the verdict does not depend on it. */
			tg_discard(tg_buf_printf(&why, "%s%s",
			                         why.len ? "; " : "",
			                         tg_error_last()));
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
