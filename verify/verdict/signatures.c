/*
 * The signature check of a verifier job (verify/verdict/verifier.c): the
 * Sigstore bundles among the image's referrers are verified and filed as
 * signatures or attestations, then the .sig layers and the referrer
 * signatures are checked against the rule's authorities.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/cosign.h"
#include "tollgate/attestation.h"
#include "tollgate/error.h"
#include "tollgate/imageref.h"
#include "tollgate/limits.h"
#include "tollgate/image_age.h"
#include "tollgate/predicate.h"
#include "tollgate/provenance.h"
#include "tollgate/sbom.h"
#include "tollgate/vuln.h"
#include "tollgate/referrer.h"
#include "tollgate/util.h"
#include "tollgate/verifier.h"

#include "verifier_int.h"

static tg_cosign_layer layer_view(const struct fetch *f)
{
	tg_cosign_layer l = { 0 };

	l.media_type = f->desc->media_type;
	l.signature = tg_descriptor_annotation(f->desc,
	                                       TG_COSIGN_SIGNATURE_ANNOTATION);
	l.certificate = tg_descriptor_annotation(
	        f->desc, TG_COSIGN_CERTIFICATE_ANNOTATION);
	l.chain = tg_descriptor_annotation(f->desc, TG_COSIGN_CHAIN_ANNOTATION);
	l.bundle =
	        tg_descriptor_annotation(f->desc, TG_COSIGN_BUNDLE_ANNOTATION);
	l.error = f->error;
	if (f->blob) {
		l.payload = f->blob->data;
		l.payload_len = f->blob->len;
	} else if (!f->error) {
		l.error = "not fetched";
	}
	return l;
}

/* Referrer bundles: verification ------------------------------------------ */

/* Verify each fetched bundle under the rule's authorities and file it as
 * a signature or an attestation (by its annotation when it does not
 * verify). */
void tg_verifier__refbs_verify(struct job *j)
{
	const char *pt;
	size_t i;

	for (i = 0; i < j->nrefbs; i++) {
		struct refb *f = &j->refbs[i];

		pt = f->manifest
		             ? tg_oci_manifest_annotation(
		                       f->manifest,
		                       TG_BUNDLE_PREDICATE_ANNOTATION)
		             : tg_descriptor_annotation(
		                       f->desc, TG_BUNDLE_PREDICATE_ANNOTATION);
		f->kind = tg_referrer_kind_hint(pt);
		if (!f->blob) {
			if (!f->error)
				f->error = tg_strdup("not fetched");
			continue;
		}
		if (tg_referrer_verify(&f->verified, f->desc->digest,
		                       f->blob->data, f->blob->len, j->digest,
		                       &j->rule->signatures) < 0) {
			f->error = tg_strdup(tg_error_last());
			continue;
		}
		f->kind = f->verified->kind;
	}
}

static tg_identity_rule identity_rule(const tg_policy_signatures *s)
{
	tg_identity_rule id = { 0 };

	id.mode = s->signed_identity;
	id.remap_prefix = s->remap_prefix;
	id.remap_signed_prefix = s->remap_signed_prefix;
	return id;
}

/* signedIdentity for a referrer signature: the statement's subject name
 * stands for the signed reference (it has no tag). False with f->error. */
static bool refb_identity_ok(struct refb *f,
                             const struct job *j,
                             const tg_identity_rule *id)
{
	if (id->mode == TG_IDENTITY_ANY)
		return true;
	if (!f->verified->subject_name)
		f->error = tg_strdup("the bundle names no image, and the "
		                     "rule's signedIdentity needs one");
	else if (tg_cosign_check_reference(f->verified->subject_name, j->ref,
	                                   id) < 0)
		f->error = tg_strdup(tg_error_last());
	return f->error == NULL;
}

/* The referrer signatures, as extras of the signature check. */
static tg_cosign_extra *signature_extras(struct job *j, size_t *n_out)
{
	tg_identity_rule id = identity_rule(&j->rule->signatures);
	tg_cosign_extra *x = tg_calloc(j->nrefbs ? j->nrefbs : 1, sizeof(*x));
	size_t i, n = 0;

	for (i = 0; i < j->nrefbs; i++) {
		struct refb *f = &j->refbs[i];

		if (f->kind != TG_REFERRER_SIGNATURE)
			continue;
		x[n].source = f->source;
		if (f->verified && refb_identity_ok(f, j, &id)) {
			x[n].authority = f->verified->authority;
			x[n].signer = f->verified->signer;
			x[n].valid_until = f->verified->valid_until;
		} else {
			x[n].rejected = f->error;
		}
		n++;
	}
	*n_out = n;
	return x;
}

/* Evidence of each referrer signature that counted: who signed, and the
 * transparency log entry when the bundle has one. */
static void bundle_evidence(tg_check *c, const struct job *j)
{
	const tg_policy_signatures *s = &j->rule->signatures;
	json_t *arr = json_array(), *o;
	size_t i;

	for (i = 0; i < j->nrefbs; i++) {
		const struct refb *f = &j->refbs[i];
		const tg_referrer_bundle *ev = f->verified;

		if (f->kind != TG_REFERRER_SIGNATURE || !ev || f->error)
			continue;
		o = json_pack("{s:s, s:s, s:s}", "referrer", f->desc->digest,
		              "authority", s->authorities[ev->authority]->name,
		              "signer", ev->signer);
		if (ev->issuer)
			json_object_set_new(o, "issuer",
			                    json_string(ev->issuer));
		if (ev->log_index >= 0)
			json_object_set_new(o, "logIndex",
			                    json_integer(ev->log_index));
		if (ev->integrated_time >= 0)
			json_object_set_new(o, "integratedTime",
			                    json_integer(ev->integrated_time));
		json_array_append_new(arr, o);
	}
	if (json_array_size(arr))
		json_object_set_new(tg_check_evidence(c), "bundles", arr);
	else
		json_decref(arr);
}

/* A reason that does not decide the check: a note when it passed. */
static void side_reason(tg_check *c,
                        const char *what,
                        const char *where,
                        const char *detail)
{
	if (tg_check_passed(c))
		tg_check_note(c, "cannot read %s %s: %s", what, where, detail);
	else
		tg_check_fail(c, "cannot read %s %s: %s", what, where, detail);
}

/* Neither a .sig tag nor a referrer signature. */
static tg_check *no_signatures(struct job *j, const char *tag)
{
	tg_check *c = tg_verifier__check_new(TG_CHECK_SIGNATURE);

	if (j->sig_result != TG_ENOTFOUND)
		tg_check_fail(c, "cannot read the signatures at %s: %s", tag,
		              j->sig_error);
	else if (j->ref_result < 0)
		tg_check_fail(c,
		              "no signatures found (no tag %s in %s), and "
		              "the referrers cannot be read: %s",
		              tag, j->ref->name, j->ref_error);
	else
		tg_check_fail(c,
		              "no signatures found (no tag %s in %s, and no "
		              "Sigstore bundle among its referrers); sign "
		              "the image with cosign",
		              tag, j->ref->name);
	return c;
}

tg_check *tg_verifier__signature_check(struct job *j)
{
	const tg_policy_signatures *s = &j->rule->signatures;
	char *tag = tg_registry_digest_tag(j->digest, ".sig");
	tg_cosign_options o = { 0 };
	tg_cosign_layer *layers = NULL;
	tg_cosign_extra *extra;
	tg_check *c = NULL;
	size_t i, total = 0, nextra;

	extra = signature_extras(j, &nextra);
	if (j->sig_result < 0 && nextra == 0) {
		c = no_signatures(j, tag);
		goto out;
	}
	if (j->sig_result >= 0) {
		total = j->sig_manifest->layers_count;
		layers = tg_calloc(total ? total : 1, sizeof(*layers));
		for (i = 0; i < j->nsigs; i++)
			layers[i] = layer_view(&j->sigs[i]);
	}
	o.digest = j->digest;
	o.image = j->ref;
	o.identity = identity_rule(s);
	o.authorities = j->auths->auths;
	o.authorities_count = j->auths->count;
	o.threshold = s->threshold;
	o.extra = extra;
	o.extra_count = nextra;
	if (tg_cosign_verify(&c, layers, total, &o) < 0) {
		c = tg_verifier__check_new(TG_CHECK_SIGNATURE);
		tg_check_fail(c, "%s", tg_error_last());
	}
	free(layers);
	if (j->sig_result < 0 && j->sig_result != TG_ENOTFOUND)
		side_reason(c, "the signatures at", tag, j->sig_error);
	if (j->ref_result < 0)
		side_reason(c, "the referrers of", j->ref->name, j->ref_error);
	if (j->referrers && j->referrers->count > j->nrefbs)
		tg_check_note(c,
		              "%zu Sigstore bundle referrers beyond the limit "
		              "of %d were not looked at",
		              j->referrers->count - j->nrefbs,
		              TG_MAX_REFERRER_BUNDLES);
	bundle_evidence(c, j);
out:
	free(extra);
	json_object_set_new(tg_check_evidence(c), "tag", json_string(tag));
	free(tag);
	return c;
}
