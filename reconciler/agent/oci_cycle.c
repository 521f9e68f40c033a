/*
 * The cycle's source step for an OCI source (issue 17, DESIGN.md 1 step
 * 1): resolve the tag, verify the artifact's digest by the policy exactly
 * like an image (first rule whose images match, registries.allowed), and
 * only then read it. A refused artifact (unverified, of the wrong shape,
 * a layer that does not match its digest, a hostile archive) blocks the
 * cycle's new content: the last verified artifact is read again in its
 * place, so the cluster stays at that content; without one nothing is
 * applied. What happened is the status document's "artifact" member.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent_int.h"
#include "tollgate/error.h"
#include "tollgate/log.h"
#include "tollgate/oci_source.h"
#include "tollgate/plan.h"
#include "tollgate/util.h"
#include "tollgate/verifier.h"

int tg_agent__oci_open(tg_agent *a)
{
	tg_oci_source_opts o = { 0 };

	o.url = a->cfg->source.url;
	o.layer_type = a->cfg->source.layer_media_type;
	o.path = a->cfg->source.path;
	o.state_dir = a->cfg->state_dir;
	return tg_oci_source_open(&a->oci, &o);
}

/* Errors that are the artifact's fault (it is refused, the cycle goes
 * on with the last verified one) rather than the network's or ours. */
static bool artifact_fault(int error)
{
	return error == TG_EINVALID || error == TG_EUNTRUSTED ||
	       error == TG_EPARSE || error == TG_ETOOBIG ||
	       error == TG_ENOTFOUND;
}

/* A refusal that is not a verdict: {ref, digest, verdict, reasons}. */
static json_t *refused_entry(const char *ref, const char *digest)
{
	json_t *e = json_pack("{s:s,s:s,s:[s]}", "ref", ref, "verdict",
	                      "blocked", "reasons", tg_error_last());

	if (digest && *digest)
		json_object_set_new(e, "digest", json_string(digest));
	return e;
}

/* The annotations flux push --source/--revision set, when present. */
static void add_annotations(json_t *e, const tg_oci_source *s)
{
	const char *src = tg_oci_source_annotation(s, TG_OCI_ANNOTATION_SOURCE);
	const char *rev =
	        tg_oci_source_annotation(s, TG_OCI_ANNOTATION_REVISION);

	if (src)
		json_object_set_new(
		        e, "source",
		        json_stringn(
		                src,
		                strnlen(src,
		                        TG_MAX_OCI_SOURCE_ANNOTATION_BYTES)));
	if (rev)
		json_object_set_new(
		        e, "revision",
		        json_stringn(
		                rev,
		                strnlen(rev,
		                        TG_MAX_OCI_SOURCE_ANNOTATION_BYTES)));
}

/* Verify the resolved digest: *entry gets the verdict as an image entry;
 * 0 when allowed or warned, TG_EUNTRUSTED when blocked. */
static int verify_artifact(json_t **entry, tg_agent *a, const char *ref)
{
	tg_verdict *v = NULL;
	tg_verifier_stats st;
	tg_verdict_kind k;
	int error;

	if ((error = tg_verifier_verify(&v, a->verifier, &ref, 1)) < 0) {
		*entry = refused_entry(ref, tg_oci_source_digest(a->oci));
		return error;
	}
	/* the cycle's counters: the verdict cache is saved when anything
	 * was verified over the network */
	tg_verifier_get_stats(&st, a->verifier);
	tg_agent__add_stats(&a->verify_stats, &st);
	*entry = tg_plan_image_entry(ref, v);
	k = tg_verdict_get(v);
	tg_verdict_free(v);
	if (k == TG_VERDICT_ALLOWED || k == TG_VERDICT_WARNED)
		return 0;
	return tg_error_set(TG_EUNTRUSTED, "%s: blocked by the policy", ref);
}

/*
 * Resolve (the tag, or digest when not NULL), verify and read. *entry
 * gets the artifact's status entry (also on refusal). 0 with *tree, an
 * artifact_fault() refusal, or another error (network: the cycle fails).
 */
static int try_artifact(tg_source_tree **tree,
                        json_t **entry,
                        tg_agent *a,
                        const char *digest)
{
	char *ref = NULL;
	int error;

	*tree = NULL;
	*entry = NULL;
	error = tg_oci_source_resolve(a->oci, a->registry, digest);
	ref = *tg_oci_source_digest(a->oci)
	              ? tg_oci_source_ref(a->oci)
	              : tg_strdup(a->cfg->source.url +
	                          strlen(TG_OCI_SOURCE_SCHEME));
	if (error < 0) {
		*entry = refused_entry(ref, tg_oci_source_digest(a->oci));
		goto out;
	}
	/* Verified before a single byte of the layer is read. */
	if ((error = verify_artifact(entry, a, ref)) < 0)
		goto out;
	if ((error = tg_oci_source_read(tree, a->oci, a->registry)) < 0) {
		json_decref(*entry);
		*entry = refused_entry(ref, tg_oci_source_digest(a->oci));
	}
out:
	if (*entry) {
		json_object_set_new(*entry, "url",
		                    json_string(a->cfg->source.url));
		add_annotations(*entry, a->oci);
	}
	free(ref);
	return error;
}

/* The new artifact was refused: read the last verified one instead. */
static int fall_back(tg_source_tree **tree, tg_agent *a, const char *refused)
{
	char *last = tg_strdup(tg_oci_source_last(a->oci));
	json_t *entry = NULL;
	int error = 0;

	if (*last && strcmp(last, refused)) {
		error = try_artifact(tree, &entry, a, last);
		if (error < 0)
			tg_log(TG_LOG_ERROR,
			       "the last verified artifact cannot be read "
			       "again: nothing is applied",
			       "digest", last, "error", tg_error_last(), NULL);
		json_decref(entry);
	}
	free(last);
	return artifact_fault(error) ? 0 : error;
}

int tg_agent__oci_tree(tg_source_tree **tree, tg_agent *a)
{
	json_t *entry = NULL;
	char *refused;
	int error;

	json_decref(a->artifact);
	a->artifact = NULL;
	a->artifact_blocked = false;
	error = try_artifact(tree, &entry, a, NULL);
	a->artifact = entry;
	if (error == 0 || !artifact_fault(error))
		return error;
	a->artifact_blocked = true;
	tg_log(TG_LOG_WARN, "artifact refused: the last verified one stays",
	       "url", a->cfg->source.url, "error", tg_error_last(), NULL);
	refused = tg_strdup(tg_oci_source_digest(a->oci));
	error = fall_back(tree, a, refused);
	free(refused);
	return error;
}

json_t *tg_agent__oci_doc(tg_agent *a, const char *digest)
{
	char now[21];
	json_t *doc;

	tg_format_rfc3339(now, tg_now());
	doc = json_pack("{s:s,s:s,s:s,s:{},s:[],s:[]}", "sourceRef",
	                a->cfg->source.url, "sourceUrl", a->cfg->source.url,
	                "time", now, "units", "drift", "prunedUnits");
	/* With nothing verified yet, the refused artifact is named. */
	if (digest && *digest)
		json_object_set_new(doc, "sourceDigest", json_string(digest));
	else if (json_string_value(json_object_get(a->artifact, "digest")))
		json_object_set(doc, "sourceDigest",
		                json_object_get(a->artifact, "digest"));
	if (a->artifact)
		json_object_set(doc, "artifact", a->artifact);
	return doc;
}

int tg_agent__oci_moved(bool *moved, tg_agent *a)
{
	const char *seen;
	int error;

	*moved = false;
	error = tg_oci_source_resolve(a->oci, a->registry, NULL);
	if (error < 0 && !artifact_fault(error))
		return error;
	/* Moved: not what the last cycle saw (a refused artifact is not
	 * looked at again every poll). */
	seen = json_string_value(json_object_get(a->artifact, "digest"));
	if (!seen)
		seen = tg_oci_source_last(a->oci);
	*moved = strcmp(tg_oci_source_digest(a->oci), seen) != 0;
	return 0;
}
