/* cosign signatures in the tag scheme: see include/tollgate/cosign.h. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/cosign.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

struct tg_cosign_payload {
	char *digest;
	char *reference;
};

void tg_cosign_payload_free(tg_cosign_payload *p)
{
	if (!p)
		return;
	free(p->digest);
	free(p->reference);
	free(p);
}

const char *tg_cosign_payload_digest(const tg_cosign_payload *p)
{
	return p->digest;
}

const char *tg_cosign_payload_reference(const tg_cosign_payload *p)
{
	return p->reference;
}

/*
 * An object whose only member is key, a string. The simple-signing format
 * (containers/image docs/containers-signature.5.md) says consumers must
 * reject critical objects with members they do not know, so an extension
 * that would narrow a signature's meaning is never silently ignored.
 */
static int only_string_member(const char **out,
                              const json_t *obj,
                              const char *where,
                              const char *key)
{
	json_t *v;

	if (!json_is_object(obj))
		return tg_error_set(TG_EPARSE, "%s is not an object", where);
	v = json_object_get(obj, key);
	if (!json_is_string(v))
		return tg_error_set(TG_EPARSE, "%s.%s is %s", where, key,
		                    v ? "not a string" : "missing");
	if (json_object_size(obj) != 1)
		return tg_error_set(TG_EPARSE, "%s has members other than %s",
		                    where, key);
	*out = json_string_value(v);
	return 0;
}

static int parse_critical(tg_cosign_payload *p, const json_t *crit)
{
	const char *type, *digest = NULL, *ref = NULL;
	json_t *t;

	if (!json_is_object(crit))
		return tg_error_set(TG_EPARSE, "\"critical\" is %s",
		                    crit ? "not an object" : "missing");
	if (json_object_size(crit) != 3 || !json_object_get(crit, "type") ||
	    !json_object_get(crit, "image") ||
	    !json_object_get(crit, "identity"))
		return tg_error_set(
		        TG_EPARSE, "\"critical\" must have exactly the members "
		                   "type, image and identity");
	t = json_object_get(crit, "type");
	if (!json_is_string(t))
		return tg_error_set(TG_EPARSE, "critical.type is not a string");
	type = json_string_value(t);
	if (strcmp(type, TG_COSIGN_PAYLOAD_TYPE) != 0)
		return tg_error_set(TG_EINVALID,
		                    "critical.type is \"%.80s\", not \"%s\"",
		                    type, TG_COSIGN_PAYLOAD_TYPE);
	if (only_string_member(&digest, json_object_get(crit, "image"),
	                       "critical.image",
	                       "docker-manifest-digest") < 0 ||
	    only_string_member(&ref, json_object_get(crit, "identity"),
	                       "critical.identity", "docker-reference") < 0)
		return TG_EPARSE;
	if (!tg_digest_is_valid(digest))
		return tg_error_set(TG_EPARSE,
		                    "critical.image.docker-manifest-digest "
		                    "\"%.80s\" is not a valid digest",
		                    digest);
	p->digest = tg_strdup(digest);
	p->reference = tg_strdup(ref);
	return 0;
}

char *tg_cosign_payload_canonical(const char *docker_reference,
                                  const char *digest)
{
	const char *c;

	if (!tg_digest_is_valid(digest) ||
	    strlen(docker_reference) > TG_MAX_IMAGEREF_BYTES)
		return NULL;
	/* Image names are letters, digits, separators and a port: nothing
	 * JSON (or Go's encoder, which also escapes <, > and &) would write
	 * otherwise; a name with anything else is fetched. */
	for (c = docker_reference; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || strchr("._-/:", *c)))
			return NULL;
	return tg_aprintf(
	        "{\"critical\":{\"identity\":{\"docker-reference\":"
	        "\"%s\"},\"image\":{\"docker-manifest-digest\":\"%s\"},"
	        "\"type\":\"" TG_COSIGN_PAYLOAD_TYPE "\"},"
	        "\"optional\":null}",
	        docker_reference, digest);
}

int tg_cosign_payload_parse(tg_cosign_payload **out,
                            const unsigned char *data,
                            size_t len)
{
	tg_cosign_payload *p = NULL;
	json_error_t jerr;
	json_t *root = NULL, *opt;
	int error;

	*out = NULL;
	if (len > TG_MAX_SIGNATURE_PAYLOAD_BYTES)
		return tg_error_set(
		        TG_ETOOBIG,
		        "signature payload of %zu bytes is over the "
		        "limit of %u bytes",
		        len, TG_MAX_SIGNATURE_PAYLOAD_BYTES);
	root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES,
	                  &jerr);
	if (!root)
		return tg_error_set(TG_EPARSE,
		                    "signature payload: line %d column %d: %s",
		                    jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		error = tg_error_set(TG_EPARSE,
		                     "signature payload is not a JSON object");
		goto out;
	}
	opt = json_object_get(root, "optional");
	if (opt && !json_is_object(opt) && !json_is_null(opt)) {
		error = tg_error_set(TG_EPARSE,
		                     "\"optional\" is neither an object nor "
		                     "null");
		goto out;
	}
	p = tg_calloc(1, sizeof(*p));
	if ((error = parse_critical(p, json_object_get(root, "critical"))) < 0)
		goto out;
	*out = p;
	p = NULL;
out:
	tg_cosign_payload_free(p);
	json_decref(root);
	return error;
}

/*
 * remapIdentity: when image's name starts with prefix (at a path component
 * boundary), the reference with signed_prefix in its place, parsed; else
 * NULL and 0.
 */
static int remap_image(tg_imageref **out,
                       const tg_imageref *image,
                       const tg_identity_rule *rule)
{
	const char *name = image->name, *pre = rule->remap_prefix, *rest;
	size_t n;
	char *s;
	int error;

	*out = NULL;
	if (!pre || !rule->remap_signed_prefix || !*pre)
		return 0;
	n = strlen(pre);
	if (strncmp(name, pre, n) != 0)
		return 0;
	rest = name + n;
	if (pre[n - 1] != '/' && *rest != '\0' && *rest != '/')
		return 0;
	s = tg_aprintf("%s%s%s%s%s%s", rule->remap_signed_prefix, rest,
	               image->tag ? ":" : "", image->tag ? image->tag : "",
	               image->digest ? "@" : "",
	               image->digest ? image->digest : "");
	error = tg_imageref_parse(out, s);
	if (error < 0)
		error = tg_error_prefix(TG_EINVALID,
		                        "remapIdentity turns %s into \"%s\"",
		                        name, s);
	free(s);
	return error;
}

static int identity_mismatch(const char *signed_ref,
                             const tg_imageref *want,
                             const char *mode)
{
	return tg_error_set(TG_EINVALID,
	                    "signed for \"%s\", not \"%s%s%s\" (signedIdentity "
	                    "%s)",
	                    signed_ref, want->name, want->tag ? ":" : "",
	                    want->tag ? want->tag : "", mode);
}

/* signedIdentity exact: same name and the same tag (or, for a signed
 * reference by digest, the same digest). */
static bool exact_match(const tg_imageref *sig, const tg_imageref *img)
{
	if (strcmp(sig->name, img->name) != 0)
		return false;
	if (sig->tag && !sig->tag_defaulted)
		return img->tag && !strcmp(sig->tag, img->tag);
	if (sig->digest)
		return img->digest && !strcmp(sig->digest, img->digest);
	return false;
}

int tg_cosign_check_identity(const tg_cosign_payload *p,
                             const tg_imageref *image,
                             const tg_identity_rule *rule)
{
	return tg_cosign_check_reference(p->reference, image, rule);
}

int tg_cosign_check_reference(const char *reference,
                              const tg_imageref *image,
                              const tg_identity_rule *rule)
{
	tg_imageref *sig = NULL, *mapped = NULL;
	const tg_imageref *want;
	int error;

	if (rule->mode == TG_IDENTITY_ANY)
		return 0;
	if (tg_imageref_parse(&sig, reference) < 0)
		return tg_error_prefix(TG_EINVALID,
		                       "signed reference is not an image "
		                       "reference");
	if ((error = remap_image(&mapped, image, rule)) < 0)
		goto out;
	want = mapped ? mapped : image;
	if (rule->mode == TG_IDENTITY_REPOSITORY) {
		if (strcmp(sig->name, want->name) != 0)
			error = identity_mismatch(reference, want,
			                          "repository");
	} else if (!exact_match(sig, want)) {
		error = identity_mismatch(reference, want, "exact");
	}
out:
	tg_imageref_free(sig);
	tg_imageref_free(mapped);
	return error;
}

/* What one run of tg_cosign_verify() learnt. */
/* Reasons kept: one per layer and referrer bundle, one for the rest. */
#define MAX_REJECTED (TG_MAX_SIGNATURES + TG_MAX_REFERRER_BUNDLES + 1)

/*
 * Who verified what. The threshold counts authorities met by distinct
 * signers: a signer (a key id, or a certificate identity) that several
 * authorities accept counts for one of them only, so one key listed under
 * two names, or one identity that two keyless authorities match, is one
 * signer. The count is a largest matching of authorities to signers.
 */
struct sig_tally {
	size_t valid;
	size_t nauth;
	char **ids; /* distinct signers seen, up to cap */
	size_t nids, cap;
	unsigned char *met; /* met[a * cap + s]: authority a accepted ids[s] */
	long *owner;        /* per signer: the authority it counts for, or -1 */
	long *counted; /* per authority: the signer it counts with, or -1 */
	char *rejected[MAX_REJECTED];
	size_t nrejected;
	/* The earliest time a counted signature stops verifying (its
	 * certificate was checked at the current time), and its signer. */
	int64_t until;
	char *until_signer;
};

static void tally_until(struct sig_tally *t, int64_t until, const char *signer)
{
	if (until >= t->until)
		return;
	t->until = until;
	free(t->until_signer);
	t->until_signer = tg_strdup(signer);
}

static void tally_init(struct sig_tally *t, size_t nauth, size_t cap)
{
	memset(t, 0, sizeof(*t));
	t->nauth = nauth;
	t->cap = cap ? cap : 1;
	t->ids = tg_calloc(t->cap, sizeof(*t->ids));
	t->met = tg_calloc(nauth * t->cap, 1);
	t->owner = tg_calloc(t->cap, sizeof(*t->owner));
	t->counted = tg_calloc(nauth, sizeof(*t->counted));
	t->until = INT64_MAX;
}

static void tally_free(struct sig_tally *t)
{
	size_t i;

	for (i = 0; i < t->nids; i++)
		free(t->ids[i]);
	for (i = 0; i < t->nrejected; i++)
		free(t->rejected[i]);
	free(t->ids);
	free(t->met);
	free(t->owner);
	free(t->counted);
	free(t->until_signer);
}

/* Authority a accepted a signature by signer. The caller gives at most
 * cap signatures, so a new signer always fits. */
static void tally_met(struct sig_tally *t, size_t a, const char *signer)
{
	size_t s;

	for (s = 0; s < t->nids; s++)
		if (!strcmp(t->ids[s], signer))
			break;
	if (s == t->nids) {
		if (s == t->cap)
			return;
		t->ids[t->nids++] = tg_strdup(signer);
	}
	t->met[a * t->cap + s] = 1;
}

/* Kuhn's augmenting path from authority a; tried marks the signers this
 * search already visited. */
static bool augment(struct sig_tally *t, size_t a, unsigned char *tried)
{
	size_t s;

	for (s = 0; s < t->nids; s++) {
		if (!t->met[a * t->cap + s] || tried[s])
			continue;
		tried[s] = 1;
		if (t->owner[s] < 0 || augment(t, (size_t)t->owner[s], tried)) {
			t->owner[s] = (long)a;
			return true;
		}
	}
	return false;
}

/* Authorities met by pairwise distinct signers; sets owner and counted. */
static size_t distinct_authorities(struct sig_tally *t)
{
	unsigned char *tried = tg_calloc(t->cap, 1);
	size_t a, s, k = 0;

	for (s = 0; s < t->cap; s++)
		t->owner[s] = -1;
	for (a = 0; a < t->nauth; a++) {
		memset(tried, 0, t->cap);
		if (augment(t, a, tried))
			k++;
	}
	for (a = 0; a < t->nauth; a++)
		t->counted[a] = -1;
	for (s = 0; s < t->nids; s++)
		if (t->owner[s] >= 0)
			t->counted[t->owner[s]] = (long)s;
	free(tried);
	return k;
}

/* The first signer authority a accepted, or NULL. */
static const char *first_met(const struct sig_tally *t, size_t a)
{
	size_t s;

	for (s = 0; s < t->nids; s++)
		if (t->met[a * t->cap + s])
			return t->ids[s];
	return NULL;
}

static void reject(struct sig_tally *t, size_t i, const char *what)
{
	if (t->nrejected < MAX_REJECTED)
		t->rejected[t->nrejected++] =
		        tg_aprintf("signature %zu: %s", i + 1, what);
}

/*
 * Check a payload whose signature verified: it must be a valid
 * simple-signing document naming this digest (else a signature copied from
 * another image, or a tag moved after signing, would pass) and, by rule,
 * this reference. 0 or negative with the message set.
 */
static int check_payload(const tg_cosign_layer *l, const tg_cosign_options *o)
{
	tg_cosign_payload *p = NULL;
	int error;

	if ((error = tg_cosign_payload_parse(&p, l->payload, l->payload_len)) <
	    0)
		return tg_error_prefix(error, "payload rejected");
	if (strcmp(p->digest, o->digest) != 0)
		error = tg_error_set(TG_EUNTRUSTED,
		                     "payload is for %s, not this image (a "
		                     "signature of another image, or the tag "
		                     "moved after signing)",
		                     p->digest);
	else if (o->image)
		error = tg_cosign_check_identity(p, o->image, &o->identity);
	tg_cosign_payload_free(p);
	return error;
}

/* Try every authority on m; verified_by[a] gets the signer of each one
 * that verifies, *until the earliest time one of them stops verifying,
 * why the failures. True when at least one did. */
static bool verify_authorities(char **verified_by,
                               int64_t *until,
                               const tg_sig_material *m,
                               const tg_cosign_options *o,
                               tg_buf *why)
{
	bool any = false;
	int64_t u;
	size_t a;

	*until = INT64_MAX;
	for (a = 0; a < o->authorities_count; a++) {
		char *signer = NULL;

		if (tg_authority_verify(&signer, &u, &o->authorities[a], m) <
		    0) {
			/* A full buffer only leaves later reasons out of
			 * the message; the verdict does not depend on it. */
			tg_discard(tg_buf_printf(why, "%s%s",
			                         why->len ? "; " : "",
			                         tg_error_last()));
			continue;
		}
		any = true;
		if (u < *until)
			*until = u;
		free(verified_by[a]);
		verified_by[a] = signer;
	}
	return any;
}

static void decode_and_verify(struct sig_tally *t,
                              size_t i,
                              const tg_cosign_layer *l,
                              const tg_cosign_options *o)
{
	char **by = tg_calloc(o->authorities_count, sizeof(char *));
	tg_sig_material m = { 0 };
	unsigned char *sig = NULL;
	size_t sig_len = 0, a;
	int64_t until = INT64_MAX;
	tg_buf why;

	tg_buf_init(&why, TG_ERROR_MAX);
	if (tg_base64_decode(&sig, &sig_len, l->signature,
	                     strlen(l->signature)) < 0) {
		reject(t, i, "the signature annotation is not base64");
		goto out;
	}
	m.msg = l->payload;
	m.msg_len = l->payload_len;
	m.sig = sig;
	m.sig_len = sig_len;
	m.certificate = l->certificate;
	m.chain = l->chain;
	m.bundle = l->bundle;
	if (!verify_authorities(by, &until, &m, o, &why)) {
		char *msg = tg_aprintf("does not verify (%s)",
		                       why.data ? why.data : "");
		reject(t, i, msg);
		free(msg);
		goto out;
	}
	if (check_payload(l, o) < 0) {
		reject(t, i, tg_error_last());
		goto out;
	}
	t->valid++;
	for (a = 0; a < o->authorities_count; a++)
		if (by[a]) {
			tally_met(t, a, by[a]);
			tally_until(t, until, by[a]);
		}
out:
	for (a = 0; a < o->authorities_count; a++)
		free(by[a]);
	free(by);
	free(sig);
	tg_buf_free(&why);
}

static void check_layer(struct sig_tally *t,
                        size_t i,
                        const tg_cosign_layer *l,
                        const tg_cosign_options *o)
{
	char *msg;

	if (l->error) {
		msg = tg_aprintf("cannot be fetched: %s", l->error);
		reject(t, i, msg);
		free(msg);
		return;
	}
	if (!l->media_type || strcmp(l->media_type, TG_COSIGN_MEDIA_TYPE)) {
		msg = tg_aprintf("layer media type \"%.100s\" is not %s",
		                 l->media_type ? l->media_type : "",
		                 TG_COSIGN_MEDIA_TYPE);
		reject(t, i, msg);
		free(msg);
		return;
	}
	if (!l->signature) {
		reject(t, i,
		       "no " TG_COSIGN_SIGNATURE_ANNOTATION " annotation");
		return;
	}
	decode_and_verify(t, i, l, o);
}

/* A signature verified elsewhere (a referrer bundle): counted like a
 * layer whose signature and payload were valid. */
static void check_extra(struct sig_tally *t,
                        size_t i,
                        const tg_cosign_extra *x,
                        const tg_cosign_options *o)
{
	char *msg;

	if (!x->signer || x->authority >= o->authorities_count) {
		msg = tg_aprintf("%s: %s", x->source,
		                 x->rejected ? x->rejected : "not verified");
		reject(t, i, msg);
		free(msg);
		return;
	}
	t->valid++;
	tally_met(t, x->authority, x->signer);
	if (x->valid_until)
		tally_until(t, x->valid_until, x->signer);
}

static void fill_evidence(tg_check *c,
                          const struct sig_tally *t,
                          size_t seen,
                          unsigned threshold,
                          const tg_cosign_options *o)
{
	json_t *ev = tg_check_evidence(c), *auths = json_array(),
	       *rej = json_array();
	size_t a;

	/* The authorities that count, each with the signer it counts by. */
	for (a = 0; a < o->authorities_count; a++)
		if (t->counted[a] >= 0)
			json_array_append_new(auths,
			                      json_pack("{s:s, s:s}", "name",
			                                o->authorities[a].name,
			                                "signer",
			                                t->ids[t->counted[a]]));
	for (a = 0; a < t->nrejected; a++)
		json_array_append_new(rej, json_string(t->rejected[a]));
	/* seen counts the layers looked at; "rejected" says why each
	 * other one did not count. */
	json_object_set_new(ev, "seen", json_integer((json_int_t)seen));
	json_object_set_new(ev, "valid", json_integer((json_int_t)t->valid));
	json_object_set_new(ev, "threshold", json_integer(threshold));
	json_object_set_new(ev, "authorities", auths);
	json_object_set_new(ev, "rejected", rej);
}

/* Each authority that a signature met but that does not count: its
 * signers already count for other authorities. */
#define UNCOUNTED                                                              \
	"authority \"%s\" does not count: its signer %s already counts for "   \
	"another authority (one signer counts once)"

static void explain_uncounted(tg_check *c,
                              const struct sig_tally *t,
                              const tg_cosign_options *o,
                              bool failed)
{
	const char *who;
	size_t a;

	for (a = 0; a < o->authorities_count; a++) {
		if (t->counted[a] >= 0 || !(who = first_met(t, a)))
			continue;
		if (failed)
			tg_check_fail(c, UNCOUNTED, o->authorities[a].name,
			              who);
		else
			tg_check_note(c, UNCOUNTED, o->authorities[a].name,
			              who);
	}
}

static void summarise(tg_check *c,
                      const struct sig_tally *t,
                      size_t have,
                      size_t seen,
                      unsigned threshold,
                      const tg_cosign_options *o)
{
	size_t i;
	tg_buf who;

	explain_uncounted(c, t, o, have < threshold);
	if (have >= threshold) {
		for (i = 0; i < t->nrejected; i++)
			tg_check_note(c, "%s", t->rejected[i]);
		return;
	}
	tg_buf_init(&who, TG_ERROR_MAX);
	/* A full buffer only shortens the list of names in the message; the
	 * check fails either way. */
	tg_discard(tg_authority_describe(&who, o->authorities,
	                                 o->authorities_count));
	if (seen == 0)
		tg_check_fail(c, "no signatures found; sign the image with "
		                 "cosign");
	else if (t->valid == 0)
		tg_check_fail(c,
		              "%zu of %zu signatures verify with %s; "
		              "re-sign or add the signer to the policy",
		              t->valid, seen, who.data);
	else
		tg_check_fail(c,
		              "signed by %zu of the %u authorities "
		              "required (%s); add signatures by the "
		              "missing authorities",
		              have, threshold, who.data);
	for (i = 0; i < t->nrejected; i++)
		tg_check_fail(c, "%s", t->rejected[i]);
	tg_buf_free(&who);
}

int tg_cosign_verify(tg_check **out,
                     const tg_cosign_layer *layers,
                     size_t count,
                     const tg_cosign_options *opts)
{
	tg_check *check;
	struct sig_tally t;
	unsigned threshold = opts->threshold ? opts->threshold : 1;
	size_t i, seen = count < TG_MAX_SIGNATURES ? count : TG_MAX_SIGNATURES;
	int error;

	*out = NULL;
	if (!opts->digest || !opts->authorities_count ||
	    threshold > opts->authorities_count)
		return tg_error_set(TG_EINVALID,
		                    "signature check needs a digest and at "
		                    "least threshold (%u) authorities",
		                    threshold);
	if ((error = tg_check_new(&check, "signature")) < 0)
		return error;
	tally_init(&t, opts->authorities_count, seen + opts->extra_count);
	for (i = 0; i < seen; i++)
		check_layer(&t, i, &layers[i], opts);
	if (count > seen && t.nrejected < MAX_REJECTED)
		t.rejected[t.nrejected++] = tg_aprintf(
		        "%zu signatures beyond the limit of %d were not looked "
		        "at",
		        count - seen, TG_MAX_SIGNATURES);
	for (i = 0; i < opts->extra_count; i++)
		check_extra(&t, seen + i, &opts->extra[i], opts);
	seen += opts->extra_count;
	i = distinct_authorities(&t);
	fill_evidence(check, &t, seen, threshold, opts);
	summarise(check, &t, i, seen, threshold, opts);
	if (t.until != INT64_MAX)
		tg_check_bound(check, t.until,
		               "the signing certificate of %s, checked at the "
		               "current time, expires",
		               t.until_signer);
	tally_free(&t);
	*out = check;
	return 0;
}
