/*
 * Policy file: commits: (include/tollgate/policy.h), the signers whose
 * commits may be deployed. Each signer's key file is read and parsed at
 * load time, so a missing or malformed one is an error naming the policy
 * file, line and column and the line of the key file; its digest goes
 * into the policy hash.
 */
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/cmssig.h"
#include "tollgate/openpgp.h"
#include "tollgate/schema.h"
#include "tollgate/sshsig.h"
#include "tollgate/util.h"

#define KEYS(...) ((const char *const[]){ __VA_ARGS__, NULL })

const tg_policy__section tg_policy__s_commits = { "commits",
	                                          KEYS("mode", "signers") };
const tg_policy__section tg_policy__s_signer = {
	"commits.signers[]",
	KEYS("name", "ssh", "allowedSigners", "openpgp", "x509")
};
const tg_policy__section tg_policy__s_x509 = {
	"commits.signers[].x509",
	KEYS("roots", "subject", "subjectRegExp", "issuer")
};

static const tg_policy__loc root_loc = { "", "" };

/* The keys naming a signer's kind, in tg_policy_signer_kind order. */
static const char *const kind_keys[] = { "ssh", "allowedSigners", "openpgp",
	                                 "x509", NULL };

/* A file the policy names: read whole, digest into the hash material. */
static int read_named_file(tg_policy__ctx *c,
                           tg_policy__loc at,
                           const char *value,
                           const char **path_out,
                           char **data_out,
                           size_t *len_out)
{
	char digest[TG_DIGEST_STR_LEN + 1];
	char *path;
	int error;

	if (value[0] == '/' || c->base_dir == NULL)
		path = tg_policy__arena_strdup(&c->p->mem, value);
	else
		path = tg_policy__arena_keep(&c->p->mem,
		                             tg_path_join(c->base_dir, value));
	*path_out = path;
	if ((error = tg_file_read(data_out, len_out, path, TG_MAX_FILE_BYTES)) <
	    0)
		return tg_policy__perr_code(c, error, at, "%s",
		                            tg_error_last());
	tg_sha256_digest_str(digest, *data_out, *len_out);
	if ((error = tg_buf_printf(&c->canon, "file %s %s\n", at.disp,
	                           digest)) < 0) {
		free(*data_out);
		*data_out = NULL;
		return tg_policy__perr_code(c, error, at,
		                            "too much key material to hash");
	}
	return 0;
}

static int load_ssh(tg_policy__ctx *c,
                    tg_policy__loc at,
                    const char *value,
                    tg_policy_signer *s)
{
	char *data = NULL;
	size_t len;
	tg_ssh_signers *set = NULL;
	tg_policy *p = c->p;
	int error;

	if ((error = read_named_file(c, at, value, &s->path, &data, &len)) < 0)
		return error;
	error = s->kind == TG_SIGNER_SSH
	                ? tg_ssh_signers_parse_keys(&set, s->path, data, len)
	                : tg_ssh_signers_parse_allowed(&set, s->path, data,
	                                               len);
	free(data);
	if (error < 0)
		return tg_policy__perr_code(c, error, at, "%s",
		                            tg_error_last());
	p->ssh_sets = tg_realloc(p->ssh_sets,
	                         (p->nssh_sets + 1) * sizeof(*p->ssh_sets));
	p->ssh_sets[p->nssh_sets++] = set;
	s->ssh = set;
	return 0;
}

static int load_openpgp(tg_policy__ctx *c,
                        tg_policy__loc at,
                        const char *value,
                        tg_policy_signer *s)
{
	tg_pgp_keyring *set = NULL;
	tg_policy *p = c->p;
	char *data = NULL;
	size_t len;
	int error;

	if ((error = read_named_file(c, at, value, &s->path, &data, &len)) < 0)
		return error;
	error = tg_pgp_keyring_parse(&set, s->path, data, len);
	free(data);
	if (error < 0)
		return tg_policy__perr_code(c, error, at, "%s",
		                            tg_error_last());
	p->pgp_sets = tg_realloc(p->pgp_sets,
	                         (p->npgp_sets + 1) * sizeof(*p->pgp_sets));
	p->pgp_sets[p->npgp_sets++] = set;
	s->openpgp = set;
	return 0;
}

static int load_x509(tg_policy__ctx *c,
                     const json_t *m,
                     tg_policy__loc ml,
                     tg_policy_signer *s)
{
	tg_policy_x509 *x = tg_policy__arena_calloc(&c->p->mem, 1, sizeof(*x));
	const char *roots;
	char *data = NULL;
	int error;

	if (!json_is_object(m))
		return tg_policy__perr(c, ml,
		                       "x509 must be a mapping {roots, subject "
		                       "or subjectRegExp, issuer}");
	if ((error = tg_policy__check_keys(c, m, ml, &tg_policy__s_x509)) < 0 ||
	    (error = tg_policy__get_str(c, m, ml, "roots", true, &roots)) < 0 ||
	    (error = tg_policy__get_str(c, m, ml, "subject", false,
	                                &x->subject)) < 0 ||
	    (error = tg_policy__get_regexp(c, m, ml, "subjectRegExp",
	                                   &x->subject_regexp)) < 0 ||
	    (error = tg_policy__get_str(c, m, ml, "issuer", false,
	                                &x->issuer)) < 0)
		return error;
	if (!x->subject == !x->subject_regexp)
		return tg_policy__perr(c, ml,
		                       "give exactly one of subject and "
		                       "subjectRegExp");
	if ((error = read_named_file(c, tg_policy__loc_key(c, ml, "roots"),
	                             roots, &x->roots_path, &data,
	                             &x->roots_len)) < 0)
		return error;
	x->roots = tg_policy__arena_keep(&c->p->mem, data);
	if ((error = tg_cmssig_check_roots(x->roots, x->roots_len,
	                                   x->roots_path)) < 0)
		return tg_policy__perr_code(c, error,
		                            tg_policy__loc_key(c, ml, "roots"),
		                            "%s", tg_error_last());
	s->path = x->roots_path;
	s->x509 = x;
	return 0;
}

/* The one key of ssh / allowedSigners / openpgp / x509 a signer has. */
static int find_kind(tg_policy__ctx *c,
                     const json_t *v,
                     tg_policy__loc at,
                     tg_policy_signer *s)
{
	unsigned i, found = 0;

	for (i = 0; kind_keys[i]; i++) {
		if (!json_object_get(v, kind_keys[i]))
			continue;
		s->kind = (tg_policy_signer_kind)i;
		found++;
	}
	if (found == 1)
		return 0;
	return tg_policy__perr(c, at,
	                       "signer \"%s\" needs exactly one of ssh, "
	                       "allowedSigners, openpgp and x509 (%u given)",
	                       s->name, found);
}

static int parse_signer(tg_policy__ctx *c,
                        const json_t *v,
                        tg_policy__loc at,
                        tg_policy_signer *s)
{
	const char *key, *file;
	tg_policy__loc kl;
	int error;

	if (!json_is_object(v))
		return tg_policy__perr(c, at,
		                       "a signer must be a mapping, not %s",
		                       tg_schema_type_name(v));
	tg_yaml_docs_line_at(&s->line, NULL, c->docs, 0, at.ptr);
	if ((error = tg_policy__check_keys(c, v, at, &tg_policy__s_signer)) <
	            0 ||
	    (error = tg_policy__get_str(c, v, at, "name", true, &s->name)) < 0)
		return error;
	if (tg_policy__check_name(s->name) < 0)
		return tg_policy__perr(c, tg_policy__loc_key(c, at, "name"),
		                       "%s", tg_error_last());
	if ((error = find_kind(c, v, at, s)) < 0)
		return error;
	key = kind_keys[s->kind];
	kl = tg_policy__loc_key(c, at, key);
	if (s->kind == TG_SIGNER_X509)
		return load_x509(c, json_object_get(v, key), kl, s);
	if ((error = tg_policy__get_str(c, v, at, key, true, &file)) < 0)
		return error;
	if (s->kind == TG_SIGNER_OPENPGP)
		return load_openpgp(c, kl, file, s);
	return load_ssh(c, kl, file, s);
}

static int parse_signers(tg_policy__ctx *c,
                         const json_t *m,
                         tg_policy__loc ml,
                         tg_policy_commits *pc)
{
	json_t *list, *v;
	tg_policy_signer *signers;
	tg_policy__loc ll;
	size_t i, j;
	int error;

	if ((error = tg_policy__get_list(c, m, ml, "signers", true, &list,
	                                 &ll)) < 0)
		return error;
	if (json_array_size(list) == 0)
		return tg_policy__perr(c, ll, "list at least one signer");
	signers = tg_policy__arena_calloc(&c->p->mem, json_array_size(list),
	                                  sizeof(*signers));
	pc->signers = signers;
	json_array_foreach(list, i, v) {
		tg_policy__loc il = tg_policy__loc_index(c, ll, i);

		if ((error = parse_signer(c, v, il, &signers[i])) < 0)
			return error;
		for (j = 0; j < i; j++)
			if (!strcmp(signers[j].name, signers[i].name))
				return tg_policy__perr(
				        c, tg_policy__loc_key(c, il, "name"),
				        "duplicate signer name \"%s\" (also "
				        "at line %u)",
				        signers[i].name, signers[j].line);
		pc->nsigners = i + 1;
	}
	return 0;
}

static const char *const mode_names[] = { "head", "history", NULL };

int tg_policy__parse_commits(tg_policy__ctx *c, const json_t *doc)
{
	json_t *m;
	tg_policy__loc ml;
	tg_policy_commits *pc;
	unsigned mode = TG_COMMITS_HEAD;
	int error;

	if ((error = tg_policy__get_map(c, doc, root_loc, "commits", false, &m,
	                                &ml)) < 0 ||
	    m == NULL)
		return error;
	pc = tg_policy__arena_calloc(&c->p->mem, 1, sizeof(*pc));
	tg_yaml_docs_line_at(&pc->line, NULL, c->docs, 0, ml.ptr);
	if ((error = tg_policy__check_keys(c, m, ml, &tg_policy__s_commits)) <
	            0 ||
	    (error = tg_policy__get_enum(c, m, ml, "mode", mode_names, &mode)) <
	            0 ||
	    (error = parse_signers(c, m, ml, pc)) < 0)
		return error;
	pc->mode = (tg_policy_commit_mode)mode;
	c->p->commits = pc;
	return 0;
}

void tg_policy__commits_free(tg_policy *p)
{
	size_t i;

	for (i = 0; i < p->nssh_sets; i++)
		tg_ssh_signers_free(p->ssh_sets[i]);
	free(p->ssh_sets);
	for (i = 0; i < p->npgp_sets; i++)
		tg_pgp_keyring_free(p->pgp_sets[i]);
	free(p->pgp_sets);
}

const tg_policy_commits *tg_policy_commits_get(const tg_policy *policy)
{
	return policy->commits;
}
