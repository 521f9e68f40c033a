/*
 * Sigstore verification for policy authorities: see
 * include/tollgate/sigstore.h.
 */
#include <stdlib.h>
#include <string.h>

#include "sigstore_int.h"
#include "tollgate/error.h"
#include "tollgate/sigstore.h"
#include "tollgate/util.h"

/* Everything one verification under an authority needs. */
typedef struct auth_ctx {
	tg_trustroot *root;
	tg_keyless_policy kp;
	tg_sigstore_policy pol;
} auth_ctx;

/* The trust root of authority a (see the header for the order). */
static int authority_root(tg_trustroot **out, const tg_policy_authority *a)
{
	const tg_policy_keyless *k =
	        a->kind == TG_AUTHORITY_KEYLESS ? a->keyless : NULL;
	tg_trustroot *root = NULL;
	int error;

	*out = NULL;
	if (k && k->trusted_root)
		error = tg_trustroot_parse(
		        &root,
		        k->trusted_root_path ? k->trusted_root_path
		                             : "trustedRoot",
		        k->trusted_root, k->trusted_root_len);
	else
		error = tg_trustroot_default(&root);
	if (error < 0)
		return error;
	if (k && !k->trusted_root && k->fulcio_certs) {
		tg_trustroot_clear_cas(root);
		error = tg_trustroot_add_ca_pem(
		        root,
		        k->fulcio_certs_path ? k->fulcio_certs_path
		                             : "fulcioCerts",
		        k->fulcio_certs, k->fulcio_certs_len);
	}
	if (!error && a->rekor.key)
		error = tg_trustroot_set_log_key(
		        root, false,
		        a->rekor.key_path ? a->rekor.key_path : "rekor",
		        a->rekor.key);
	if (!error && k && k->ctlog.key)
		error = tg_trustroot_set_log_key(
		        root, true,
		        k->ctlog.key_path ? k->ctlog.key_path : "ctlog",
		        k->ctlog.key);
	if (error < 0) {
		tg_trustroot_free(root);
		return error;
	}
	*out = root;
	return 0;
}

/* The policy's own matcher (exact values and its regexp dialect). */
static int policy_match(void *ctx, const tg_cert_identity *id)
{
	return tg_policy_keyless_match(ctx, id->issuer, id->subject);
}

static int auth_setup(auth_ctx *c, const tg_policy_authority *a)
{
	int error;

	memset(c, 0, sizeof(*c));
	if ((error = authority_root(&c->root, a)) < 0)
		return tg_error_prefix(error, "authority \"%s\"", a->name);
	c->pol.root = c->root;
	if (a->kind == TG_AUTHORITY_KEY) {
		c->pol.key = a->key;
	} else {
		c->kp.match = policy_match;
		c->kp.match_ctx = (void *)a->keyless;
		c->kp.require_sct = a->keyless->ctlog.required;
		c->kp.allow_missing_eku = a->keyless->fulcio_certs != NULL &&
		                          !a->keyless->trusted_root;
		c->pol.keyless = &c->kp;
	}
	/* Without a log entry, a long-lived certificate (private PKI) is
	 * checked at the current time, as cosign does. */
	c->pol.tlog_threshold = a->rekor.required ? 1 : TG_TLOG_NONE;
	c->pol.allow_current_time = !a->rekor.required;
	return 0;
}

/*
 * DSSE PAE "DSSEv1 <len> <type> <len> <body>": the payload type and body,
 * so the Rekor entry of an attestation can be matched. 1 when msg is one.
 */
static int parse_pae(char **type,
                     const unsigned char **body,
                     size_t *body_len,
                     const unsigned char *msg,
                     size_t len)
{
	const char *p = (const char *)msg, *end = p + len, *sp;
	uint64_t tlen, blen;

	if (len < 7 || memcmp(p, "DSSEv1 ", 7))
		return 0;
	p += 7;
	if (!(sp = memchr(p, ' ', (size_t)(end - p))) ||
	    tg_parse_u64(&tlen, p, (size_t)(sp - p), len) < 0 ||
	    tlen > (uint64_t)(end - sp - 1))
		return 0;
	*type = tg_strndup(sp + 1, (size_t)tlen);
	p = sp + 1 + tlen;
	if (p >= end || *p != ' ' ||
	    !(sp = memchr(p + 1, ' ', (size_t)(end - p - 1))) ||
	    tg_parse_u64(&blen, p + 1, (size_t)(sp - p - 1), len) < 0 ||
	    blen != (uint64_t)(end - sp - 1)) {
		free(*type);
		*type = NULL;
		return 0;
	}
	*body = (const unsigned char *)sp + 1;
	*body_len = (size_t)blen;
	return 1;
}

int tg_sigstore_verify_material(char **signer_out,
                                int64_t *until_out,
                                void *ctx,
                                const tg_sig_material *m)
{
	const tg_policy_authority *a = ctx;
	tg_sigstore_evidence *ev = NULL;
	tg_cosign_layer layer;
	char *type = NULL;
	auth_ctx c;
	int error;

	*signer_out = NULL;
	*until_out = INT64_MAX;
	memset(&layer, 0, sizeof(layer));
	if ((error = auth_setup(&c, a)) < 0)
		return error;
	if (parse_pae(&type, &layer.payload, &layer.payload_len, m->msg,
	              m->msg_len)) {
		layer.dsse_payload_type = type;
	} else {
		layer.payload = m->msg;
		layer.payload_len = m->msg_len;
	}
	layer.signature = m->sig;
	layer.signature_len = m->sig_len;
	layer.certificate_pem = m->certificate;
	layer.chain_pem = m->chain;
	layer.bundle_json = m->bundle;
	error = tg_cosign_legacy_verify(&ev, a->name, &layer, &c.pol);
	if (error == 0) {
		*signer_out = tg_strdup(ev->signer);
		*until_out = ev->valid_until;
	} else
		error = tg_error_prefix(error, "authority \"%s\"", a->name);
	tg_sigstore_evidence_free(ev);
	tg_trustroot_free(c.root);
	free(type);
	return error;
}

int tg_sigstore_verify_bundle(tg_sigstore_evidence **out,
                              const tg_policy_authority *a,
                              const char *name,
                              const char *json,
                              size_t len,
                              const char *digest)
{
	tg_artifact art;
	auth_ctx c;
	int error;

	*out = NULL;
	memset(&art, 0, sizeof(art));
	art.digest = digest;
	if ((error = auth_setup(&c, a)) < 0)
		return error;
	error = tg_bundle_verify(out, name, json, len, &art, &c.pol);
	if (error < 0)
		error = tg_error_prefix(error, "authority \"%s\"", a->name);
	tg_trustroot_free(c.root);
	return error;
}
