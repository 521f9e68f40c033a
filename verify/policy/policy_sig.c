/*
 * Policy file: the signatures section of a rule (rules[].signatures):
 * authorities and the keys, trusted roots and transparency logs they name,
 * signedIdentity, remapIdentity and threshold. The rest of the file is
 * parsed in policy.c, with the helpers declared in policy_int.h.
 *
 * Every key and file an authority names is loaded here, at load time, so a
 * missing or malformed one is an error naming the file, line and column; its
 * key id or digest goes into the policy hash.
 */
#include <string.h>

#include "policy_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/keys.h"
#include "tollgate/limits.h"
#include "tollgate/schema.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

/* Files ---------------------------------------------------------------- */

/* A path from the policy, resolved against the policy's directory. */
static char *resolve(tg_policy__ctx *c, const char *path)
{
	if (path[0] == '/' || c->base_dir == NULL)
		return tg_policy__arena_strdup(&c->p->mem, path);
	return tg_policy__arena_keep(&c->p->mem,
	                             tg_path_join(c->base_dir, path));
}

static void keep_key(tg_policy *p, tg_key *key)
{
	p->keys = tg_realloc(p->keys, (p->nkeys + 1) * sizeof(*p->keys));
	p->keys[p->nkeys++] = key;
}

/* Load the public key named by a key/publicKey value: a path, or PEM
 * written inline ("-----BEGIN PUBLIC KEY-----..."). */
static int load_key(tg_policy__ctx *c,
                    tg_policy__loc at,
                    const char *value,
                    const char *label,
                    const tg_key **key_out,
                    const char **path_out)
{
	tg_key *key = NULL;
	int error;

	*path_out = NULL;
	if (tg_str_has_prefix(value, "-----BEGIN")) {
		error = tg_key_from_pem(&key, label, value, strlen(value));
	} else {
		*path_out = resolve(c, value);
		error = tg_key_load_file(&key, *path_out);
	}
	if (error < 0)
		return tg_policy__perr_code(c, error, at, "%s",
		                            tg_error_last());
	keep_key(c->p, key);
	/* The hash must cover every key: fail closed when it cannot. */
	if ((error = tg_buf_printf(&c->canon, "key %s %s\n", at.disp,
	                           tg_key_id(key))) < 0)
		return tg_policy__perr_code(c, error, at,
		                            "too much key material to hash");
	*key_out = key;
	return 0;
}

/* Read a trust file named by the policy into the policy, adding its digest
 * to the hash material. */
static int load_file(tg_policy__ctx *c,
                     tg_policy__loc at,
                     const char *value,
                     const char **path_out,
                     const char **data_out,
                     size_t *len_out)
{
	char *data = NULL;
	char digest[TG_DIGEST_STR_LEN + 1];
	int error;

	*path_out = resolve(c, value);
	if ((error = tg_file_read(&data, len_out, *path_out,
	                          TG_MAX_FILE_BYTES)) < 0)
		return tg_policy__perr_code(c, error, at, "%s",
		                            tg_error_last());
	tg_policy__arena_keep(&c->p->mem, data);
	tg_sha256_digest_str(digest, data, *len_out);
	if ((error = tg_buf_printf(&c->canon, "file %s %s\n", at.disp,
	                           digest)) < 0)
		return tg_policy__perr_code(c, error, at,
		                            "too much trust material to hash");
	*data_out = data;
	return 0;
}

/* Sections ----------------------------------------------------------------- */

/* rekor: / ctlog: {required, publicKey}; absent keeps the defaults. */
static int parse_tlog(tg_policy__ctx *c,
                      const json_t *obj,
                      tg_policy__loc at,
                      const char *key,
                      bool def_required,
                      tg_policy_tlog *out)
{
	json_t *m;
	const char *pk;
	tg_policy__loc ml;
	int error;

	out->required = def_required;
	if ((error = tg_policy__get_map(c, obj, at, key, false, &m, &ml)) < 0 ||
	    m == NULL)
		return error;
	if ((error = tg_policy__check_keys(c, m, ml, &tg_policy__s_tlog)) < 0 ||
	    (error = tg_policy__get_bool(c, m, ml, "required", def_required,
	                                 &out->required)) < 0 ||
	    (error = tg_policy__get_str(c, m, ml, "publicKey", false, &pk)) < 0)
		return error;
	if (pk == NULL)
		return 0;
	return load_key(c, tg_policy__loc_key(c, ml, "publicKey"), pk, key,
	                &out->key, &out->key_path);
}

static int parse_keyless_trust(tg_policy__ctx *c,
                               const json_t *m,
                               tg_policy__loc ml,
                               tg_policy_keyless *k)
{
	const char *root, *certs;
	json_t *doc;
	int error;

	if ((error = tg_policy__get_str(c, m, ml, "trustedRoot", false,
	                                &root)) < 0 ||
	    (error = tg_policy__get_str(c, m, ml, "fulcioCerts", false,
	                                &certs)) < 0)
		return error;
	/* Neither: the default root (built in, or the one the agent keeps
	 * current through TUF, sigstore.tuf in tollgate.yaml). */
	if (root != NULL) {
		tg_policy__loc rl = tg_policy__loc_key(c, ml, "trustedRoot");

		if ((error = load_file(c, rl, root, &k->trusted_root_path,
		                       &k->trusted_root,
		                       &k->trusted_root_len)) < 0)
			return error;
		doc = json_loadb(k->trusted_root, k->trusted_root_len,
		                 JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(doc)) {
			json_decref(doc);
			return tg_policy__perr(c, rl,
			                       "%s: not a JSON trusted root",
			                       k->trusted_root_path);
		}
		json_decref(doc);
	}
	if (certs == NULL)
		return 0;
	if ((error = load_file(c, tg_policy__loc_key(c, ml, "fulcioCerts"),
	                       certs, &k->fulcio_certs_path, &k->fulcio_certs,
	                       &k->fulcio_certs_len)) < 0)
		return error;
	if (strstr(k->fulcio_certs, "-----BEGIN CERTIFICATE-----") == NULL)
		return tg_policy__perr(
		        c, tg_policy__loc_key(c, ml, "fulcioCerts"),
		        "%s: no PEM certificate in it", k->fulcio_certs_path);
	return 0;
}

static int parse_keyless(tg_policy__ctx *c,
                         const json_t *m,
                         tg_policy__loc ml,
                         tg_policy_keyless *k)
{
	int error;

	if ((error = tg_policy__check_keys(c, m, ml, &tg_policy__s_keyless)) <
	            0 ||
	    (error = tg_policy__get_str(c, m, ml, "issuer", false,
	                                &k->issuer)) < 0 ||
	    (error = tg_policy__get_regexp(c, m, ml, "issuerRegExp",
	                                   &k->issuer_regexp)) < 0 ||
	    (error = tg_policy__get_str(c, m, ml, "subject", false,
	                                &k->subject)) < 0 ||
	    (error = tg_policy__get_regexp(c, m, ml, "subjectRegExp",
	                                   &k->subject_regexp)) < 0)
		return error;
	/* As cosign: an identity without an issuer, or the reverse, would
	 * trust anyone the other half lets through. */
	if (k->issuer == NULL && k->issuer_regexp == NULL)
		return tg_policy__perr(
		        c, ml,
		        "keyless needs issuer or issuerRegExp "
		        "(the OIDC issuer of the signer's certificate)");
	if (k->subject == NULL && k->subject_regexp == NULL)
		return tg_policy__perr(
		        c, ml,
		        "keyless needs subject or subjectRegExp "
		        "(the signer identity in the certificate)");
	if ((error = parse_keyless_trust(c, m, ml, k)) < 0)
		return error;
	return parse_tlog(c, m, ml, "ctlog", true, &k->ctlog);
}

static int parse_authority(tg_policy__ctx *c,
                           const json_t *v,
                           tg_policy__loc at,
                           tg_policy_authority *a)
{
	const char *key;
	json_t *kl_map;
	tg_policy__loc kl;
	int error;
	tg_policy_keyless *k;

	if (!json_is_object(v))
		return tg_policy__perr(c, at,
		                       "an authority must be a mapping, not %s",
		                       tg_schema_type_name(v));
	tg_yaml_docs_line_at(&a->line, NULL, c->docs, 0, at.ptr);
	if ((error = tg_policy__check_keys(c, v, at, &tg_policy__s_auth)) < 0 ||
	    (error = tg_policy__get_str(c, v, at, "name", true, &a->name)) <
	            0 ||
	    (error = tg_policy__get_str(c, v, at, "key", false, &key)) < 0 ||
	    (error = tg_policy__get_map(c, v, at, "keyless", false, &kl_map,
	                                &kl)) < 0)
		return error;
	if (tg_policy__check_name(a->name) < 0)
		return tg_policy__perr(c, tg_policy__loc_key(c, at, "name"),
		                       "%s", tg_error_last());
	if (key != NULL && kl_map != NULL)
		return tg_policy__perr(
		        c, at,
		        "authority \"%s\" has both key and keyless; "
		        "give one (use two authorities for both)",
		        a->name);
	if (key == NULL && kl_map == NULL)
		return tg_policy__perr(c, at,
		                       "authority \"%s\" needs key or keyless",
		                       a->name);
	if (key != NULL) {
		a->kind = TG_AUTHORITY_KEY;
		error = load_key(c, tg_policy__loc_key(c, at, "key"), key,
		                 a->name, &a->key, &a->key_path);
	} else {
		a->kind = TG_AUTHORITY_KEYLESS;
		k = tg_policy__arena_calloc(&c->p->mem, 1, sizeof(*k));
		a->keyless = k;
		error = parse_keyless(c, kl_map, kl, k);
	}
	if (error < 0)
		return error;
	/* A Fulcio certificate lives ten minutes: only a log entry shows
	 * it signed in that window, so keyless requires Rekor by default. */
	return parse_tlog(c, v, at, "rekor", a->kind == TG_AUTHORITY_KEYLESS,
	                  &a->rekor);
}

/* Authority i against those before it: no name twice, and no public key
 * under two names (a threshold counts one key once, so a second name for
 * it would only make the rule look stricter than it is). */
static int check_unique(tg_policy__ctx *c,
                        const tg_policy_authority *auths,
                        size_t i,
                        tg_policy__loc il)
{
	const tg_policy_authority *a = &auths[i];
	size_t j;

	for (j = 0; j < i; j++) {
		if (strcmp(auths[j].name, a->name) == 0)
			return tg_policy__perr(
			        c, tg_policy__loc_key(c, il, "name"),
			        "duplicate authority name \"%s\" "
			        "(also at line %u)",
			        a->name, auths[j].line);
		if (a->key && auths[j].key &&
		    strcmp(tg_key_id(a->key), tg_key_id(auths[j].key)) == 0)
			return tg_policy__perr(
			        c, tg_policy__loc_key(c, il, "key"),
			        "authorities \"%s\" (line %u) and \"%s\" have "
			        "the same public key %s; one key is one signer "
			        "and counts once towards threshold, so list "
			        "it under one authority",
			        auths[j].name, auths[j].line, a->name,
			        tg_key_id(a->key));
	}
	return 0;
}

static int parse_authorities(tg_policy__ctx *c,
                             const json_t *m,
                             tg_policy__loc ml,
                             tg_policy_signatures *s)
{
	json_t *list, *v;
	tg_policy_authority *auths;
	const tg_policy_authority **ptrs;
	size_t i;
	tg_policy__loc ll;
	int error;

	if ((error = tg_policy__get_list(c, m, ml, "authorities", true, &list,
	                                 &ll)) < 0)
		return error;
	auths = tg_policy__arena_calloc(&c->p->mem, json_array_size(list),
	                                sizeof(*auths));
	ptrs = tg_policy__arena_calloc(&c->p->mem, json_array_size(list),
	                               sizeof(*ptrs));
	json_array_foreach(list, i, v) {
		tg_policy__loc il = tg_policy__loc_index(c, ll, i);

		if ((error = parse_authority(c, v, il, &auths[i])) < 0 ||
		    (error = check_unique(c, auths, i, il)) < 0)
			return error;
		ptrs[i] = &auths[i];
	}
	s->authorities = ptrs;
	s->nauthorities = json_array_size(list);
	return 0;
}

/* A remap prefix: a registry prefix ending in '/'. */
static int get_remap_prefix(tg_policy__ctx *c,
                            const json_t *m,
                            tg_policy__loc ml,
                            const char *key,
                            const char **out)
{
	int error;
	tg_policy__loc kl;

	if ((error = tg_policy__get_str(c, m, ml, key, true, out)) < 0)
		return error;
	kl = tg_policy__loc_key(c, ml, key);
	if (tg_policy_registry_check(*out) < 0)
		return tg_policy__perr(c, kl, "\"%s\": %s", *out,
		                       tg_error_last());
	if (!tg_str_has_suffix(*out, "/"))
		return tg_policy__perr(c, kl,
		                       "\"%s\" must end with '/' (a repository "
		                       "prefix)",
		                       *out);
	return 0;
}

static int parse_remap(tg_policy__ctx *c,
                       const json_t *m,
                       tg_policy__loc ml,
                       tg_policy_signatures *s)
{
	json_t *r;
	tg_policy__loc rl;
	int error;

	if ((error = tg_policy__get_map(c, m, ml, "remapIdentity", false, &r,
	                                &rl)) < 0 ||
	    r == NULL)
		return error;
	if ((error = tg_policy__check_keys(c, r, rl, &tg_policy__s_remap)) <
	            0 ||
	    (error = get_remap_prefix(c, r, rl, "prefix", &s->remap_prefix)) <
	            0)
		return error;
	return get_remap_prefix(c, r, rl, "signedPrefix",
	                        &s->remap_signed_prefix);
}

static const char *const identity_names[] = { "any", "repository", "exact",
	                                      NULL };

/* See policy_int.h. */
int tg_policy__parse_signatures(tg_policy__ctx *c,
                                const json_t *m,
                                tg_policy__loc ml,
                                tg_policy_signatures *s)
{
	json_t *t;
	tg_policy__loc tl;
	unsigned ident = TG_IDENTITY_ANY;
	int error;

	if ((error = tg_policy__check_keys(c, m, ml, &tg_policy__s_sigs)) < 0 ||
	    (error = parse_authorities(c, m, ml, s)) < 0 ||
	    (error = tg_policy__get_enum(c, m, ml, "signedIdentity",
	                                 identity_names, &ident)) < 0 ||
	    (error = parse_remap(c, m, ml, s)) < 0)
		return error;
	s->signed_identity = (tg_policy_identity)ident;
	s->threshold = 1;
	if ((t = tg_policy__member(c, m, ml, "threshold", &tl)) == NULL)
		return 0;
	if (!json_is_integer(t) || json_integer_value(t) < 1)
		return tg_policy__perr(c, tl,
		                       "must be a whole number of at least 1");
	if ((json_int_t)s->nauthorities < json_integer_value(t))
		return tg_policy__perr(
		        c, tl,
		        "threshold %lld is more than the %zu "
		        "authorities listed, so no image could pass",
		        (long long)json_integer_value(t), s->nauthorities);
	s->threshold = (unsigned)json_integer_value(t);
	return 0;
}
