/* Attestations (DSSE envelope + in-toto statement): see
 * include/tollgate/attestation.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "tollgate/attestation.h"
#include "tollgate/buf.h"
#include "tollgate/dsse.h"
#include "tollgate/error.h"
#include "tollgate/intoto.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

struct tg_attestation {
	tg_intoto_statement *statement;
	char *authority;
	char *signer;
	char *digest;
	int64_t valid_until; /* INT64_MAX: the signature holds for good */
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
	if (strcmp(tg_dsse_envelope_payload_type(e), TG_INTOTO_PAYLOAD_TYPE) !=
	    0) {
		error = tg_error_set(TG_EINVALID,
		                     "DSSE payloadType \"%.100s\" is not %s",
		                     tg_dsse_envelope_payload_type(e),
		                     TG_INTOTO_PAYLOAD_TYPE);
		goto out;
	}
	if ((error = tg_dsse_envelope_verify(
	             &which, &a->signer, &a->valid_until, e, auths, count,
	             l->certificate, l->chain, l->bundle)) < 0)
		goto out;
	a->authority = tg_strdup(auths[which].name);
	payload = tg_dsse_envelope_payload(&plen, e);
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
	a->valid_until = INT64_MAX;
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

int64_t tg_attestation_valid_until(const tg_attestation *a)
{
	return a->valid_until;
}

void tg_attestation_set_valid_until(tg_attestation *a, int64_t t)
{
	a->valid_until = t;
}

const char *tg_attestation_signer(const tg_attestation *a)
{
	return a->signer;
}

const char *tg_attestation_digest(const tg_attestation *a)
{
	return a->digest;
}
