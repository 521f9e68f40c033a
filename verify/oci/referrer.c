/*
 * Sigstore bundles found as OCI 1.1 referrers: see
 * include/tollgate/referrer.h.
 */
#include <stdlib.h>
#include <string.h>

#include "tollgate/buf.h"
#include "tollgate/bundle.h"
#include "tollgate/error.h"
#include "tollgate/referrer.h"
#include "tollgate/sigstore.h"
#include "tollgate/util.h"

/* Layer media types that hold a bundle: cosign v3 writes the first; the
 * others are the same document under its older names. */
static const char *const bundle_media_types[] = {
	TG_BUNDLE_MEDIA_TYPE_V03,
	"application/vnd.dev.sigstore.bundle+json;version=0.3",
	"application/vnd.dev.sigstore.bundle+json;version=0.2",
	"application/vnd.dev.sigstore.bundle+json;version=0.1",
};

static bool is_bundle_media_type(const char *mt)
{
	size_t i;

	for (i = 0;
	     i < sizeof(bundle_media_types) / sizeof(bundle_media_types[0]);
	     i++)
		if (mt && !strcmp(mt, bundle_media_types[i]))
			return true;
	return false;
}

tg_referrer_kind tg_referrer_kind_hint(const char *pt)
{
	if (!pt || !strcmp(pt, TG_COSIGN_SIGN_PREDICATE))
		return TG_REFERRER_SIGNATURE;
	return TG_REFERRER_ATTESTATION;
}

int tg_referrer_bundle_layer(const tg_descriptor **out,
                             const tg_oci_manifest *m,
                             const char *digest)
{
	const tg_descriptor *found = NULL;
	size_t i;

	*out = NULL;
	if (m->kind != TG_OCI_MANIFEST_IMAGE)
		return tg_error_set(TG_EINVALID,
		                    "the referrer is an index, not a bundle "
		                    "manifest");
	/* The listing is the registry's word (or the fallback tag's, which
	 * anyone with push rights writes); the manifest must say it too. */
	if (!m->subject || strcmp(m->subject->digest, digest))
		return tg_error_set(TG_EINVALID,
		                    "the referrer manifest's subject is %s, "
		                    "not this image",
		                    m->subject ? m->subject->digest : "absent");
	for (i = 0; i < m->layers_count; i++) {
		if (!is_bundle_media_type(m->layers[i].media_type))
			continue;
		if (found)
			return tg_error_set(TG_EINVALID,
			                    "the referrer manifest has more "
			                    "than one bundle layer");
		found = &m->layers[i];
	}
	if (!found)
		return tg_error_set(TG_EINVALID,
		                    "the referrer manifest has no layer of "
		                    "media type %s",
		                    TG_BUNDLE_MEDIA_TYPE_V03);
	*out = found;
	return 0;
}

void tg_referrer_bundle_free(tg_referrer_bundle *b)
{
	if (!b)
		return;
	free(b->signer);
	free(b->issuer);
	free(b->subject_name);
	tg_attestation_free(b->attestation);
	free(b);
}

/* The first authority of sigs that verifies the bundle: its index and
 * evidence; TG_EUNTRUSTED with every authority's reason. */
static int verify_any(size_t *which,
                      tg_sigstore_evidence **ev,
                      const unsigned char *json,
                      size_t len,
                      const char *digest,
                      const tg_policy_signatures *sigs)
{
	tg_buf why;
	size_t i;
	int error = TG_EUNTRUSTED;

	tg_buf_init(&why, TG_ERROR_MAX);
	for (i = 0; i < sigs->nauthorities; i++) {
		if (tg_sigstore_verify_bundle(ev, sigs->authorities[i],
		                              "bundle", (const char *)json, len,
		                              digest) == 0) {
			*which = i;
			error = 0;
			goto out;
		}
		/* A reason that does not fit is left out: the message is
		 * capped at TG_ERROR_MAX anyway. */
		tg_discard(tg_buf_printf(&why, "%s%s", why.len ? "; " : "",
		                         tg_error_last()));
	}
	error = tg_error_set(TG_EUNTRUSTED,
	                     "no authority of the rule verifies the bundle "
	                     "(%s)",
	                     why.data ? why.data : "no authorities");
out:
	tg_buf_free(&why);
	return error;
}

/* A DSSE bundle: file it by its verified statement's predicate type. */
static int classify_statement(tg_referrer_bundle *b,
                              const tg_sigstore_evidence *ev,
                              const char *source,
                              const char *digest,
                              const char *authority)
{
	tg_intoto_statement *st = NULL;
	const char *name;
	int error;

	if (ev->predicate_type &&
	    strcmp(ev->predicate_type, TG_COSIGN_SIGN_PREDICATE) != 0) {
		b->kind = TG_REFERRER_ATTESTATION;
		if ((error = tg_attestation_from_statement(
		             &b->attestation, ev->payload, ev->payload_len,
		             digest, authority, ev->signer, source)) < 0)
			return error;
		name = tg_intoto_statement_subject_name(
		        tg_attestation_statement(b->attestation), digest);
	} else {
		b->kind = TG_REFERRER_SIGNATURE;
		if ((error = tg_intoto_statement_parse(&st, ev->payload,
		                                       ev->payload_len)) < 0)
			return error;
		name = tg_intoto_statement_subject_name(st, digest);
	}
	b->subject_name = name ? tg_strdup(name) : NULL;
	if (b->attestation)
		tg_attestation_set_valid_until(b->attestation, ev->valid_until);
	tg_intoto_statement_free(st);
	return 0;
}

int tg_referrer_verify(tg_referrer_bundle **out,
                       const char *source,
                       const unsigned char *json,
                       size_t len,
                       const char *digest,
                       const tg_policy_signatures *sigs)
{
	tg_referrer_bundle *b = tg_calloc(1, sizeof(*b));
	tg_sigstore_evidence *ev = NULL;
	int error;

	*out = NULL;
	if ((error = verify_any(&b->authority, &ev, json, len, digest, sigs)) <
	    0)
		goto out;
	b->signer = tg_strdup(ev->signer);
	b->issuer = ev->issuer ? tg_strdup(ev->issuer) : NULL;
	b->log_index = ev->log_index;
	b->integrated_time = ev->integrated_time;
	b->valid_until = ev->valid_until;
	if (!ev->payload_type) {
		/* A message signature: tg_bundle_verify() checked it over
		 * the image digest itself. */
		b->kind = TG_REFERRER_SIGNATURE;
	} else if ((error = classify_statement(
	                    b, ev, source, digest,
	                    sigs->authorities[b->authority]->name)) < 0) {
		goto out;
	}
	*out = b;
	b = NULL;
out:
	tg_sigstore_evidence_free(ev);
	tg_referrer_bundle_free(b);
	return error;
}
