/*
 * Policy file: load and validate (include/tollgate/policy.h). Lookups are
 * in policy_match.c; rules[].signatures is parsed in policy_sig.c and the
 * parser's building blocks (locations, errors, key checks, typed values)
 * are in policy_parse.c.
 *
 * One parse function per section of the file. Every section first checks
 * its keys against the list it allows, so a misspelled or misplaced key is
 * an error naming the file, line and column, the key, and (when it is a
 * near miss or belongs elsewhere) what was meant. Defaults never weaken a
 * policy silently: an attestation block that is present is required unless
 * it says required: false.
 */
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/sbom.h"
#include "tollgate/schema.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

/* Bytes of the material hashed into the policy hash besides the policy
 * itself (key ids and file digests: ~150 bytes per authority). */
#define POLICY_MAX_CANON (1u * 1024 * 1024)

static const tg_policy__loc root_loc = { "", "" };

/* Keys --------------------------------------------------------------------- */

#define KEYS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const tg_policy__section S_TOP = { "the top level", KEYS("apiVersion",
	                                                        "kind",
	                                                        "registries",
	                                                        "rules",
	                                                        "exceptions",
	                                                        "scopes",
	                                                        "workloads",
	                                                        "commits") };
static const tg_policy__section S_REGISTRIES = { "registries",
	                                         KEYS("allowed") };
static const tg_policy__section S_RULE = { "rules[]", KEYS("name",
	                                                   "images",
	                                                   "mode",
	                                                   "signatures",
	                                                   "attestations",
	                                                   "maxImageAge") };
const tg_policy__section tg_policy__s_sigs = {
	"rules[].signatures",
	KEYS("threshold", "signedIdentity", "remapIdentity", "authorities")
};
const tg_policy__section tg_policy__s_remap = {
	"rules[].signatures.remapIdentity", KEYS("prefix", "signedPrefix")
};
const tg_policy__section tg_policy__s_auth = {
	"rules[].signatures.authorities[]",
	KEYS("name", "key", "keyless", "rekor")
};
const tg_policy__section tg_policy__s_keyless = {
	"rules[].signatures.authorities[].keyless", KEYS("issuer",
	                                                 "issuerRegExp",
	                                                 "subject",
	                                                 "subjectRegExp",
	                                                 "trustedRoot",
	                                                 "fulcioCerts",
	                                                 "ctlog")
};
const tg_policy__section tg_policy__s_tlog = {
	"rules[].signatures.authorities[].rekor (or keyless.ctlog)",
	KEYS("required", "publicKey")
};
static const tg_policy__section S_ATT = {
	"rules[].attestations", KEYS("sbom", "vulnerabilities", "provenance")
};
static const tg_policy__section S_SBOM = {
	"rules[].attestations.sbom",
	KEYS("required", "formats", "deniedLicenses", "deniedPackages")
};
static const tg_policy__section S_DPKG = {
	"rules[].attestations.sbom.deniedPackages[]", KEYS("name", "version")
};
static const tg_policy__section S_VULN = {
	"rules[].attestations.vulnerabilities",
	KEYS("required", "maxSeverity", "maxScanAge", "ignore")
};
static const tg_policy__section S_PROV = { "rules[].attestations.provenance",
	                                   KEYS("required",
	                                        "builderId",
	                                        "builderIdRegExp",
	                                        "sourceRepository",
	                                        "sourceRepositoryRegExp") };
static const tg_policy__section S_EXC = { "exceptions[]", KEYS("name",
	                                                       "images",
	                                                       "objects",
	                                                       "waive",
	                                                       "cves",
	                                                       "reason",
	                                                       "approvedBy",
	                                                       "expires") };

const tg_policy__section *const tg_policy__all_sections[] = {
	&S_TOP,
	&S_REGISTRIES,
	&S_RULE,
	&tg_policy__s_sigs,
	&tg_policy__s_remap,
	&tg_policy__s_auth,
	&tg_policy__s_keyless,
	&tg_policy__s_tlog,
	&S_ATT,
	&S_SBOM,
	&S_DPKG,
	&S_VULN,
	&S_PROV,
	&S_EXC,
	&tg_policy__s_scope,
	&tg_policy__s_workload,
	&tg_policy__s_netpol,
	&tg_policy__s_commits,
	&tg_policy__s_signer,
	&tg_policy__s_x509,
	NULL
};

/* Sections ----------------------------------------------------------------- */

static int parse_denied_packages(tg_policy__ctx *c,
                                 const json_t *m,
                                 tg_policy__loc ml,
                                 tg_policy_sbom *s)
{
	json_t *list, *v;
	tg_policy_denied_package *pkgs;
	size_t i;
	tg_policy__loc ll;
	int error;

	if ((error = tg_policy__get_list(c, m, ml, "deniedPackages", false,
	                                 &list, &ll)) < 0 ||
	    list == NULL)
		return error;
	pkgs = tg_policy__arena_calloc(&c->p->mem, json_array_size(list),
	                               sizeof(*pkgs));
	json_array_foreach(list, i, v) {
		tg_policy__loc il = tg_policy__loc_index(c, ll, i);

		if (!json_is_object(v))
			return tg_policy__perr(
			        c, il,
			        "must be a mapping {name, version}, "
			        "not %s",
			        tg_schema_type_name(v));
		if ((error = tg_policy__check_keys(c, v, il, &S_DPKG)) < 0 ||
		    (error = tg_policy__get_str(c, v, il, "name", true,
		                                &pkgs[i].name)) < 0 ||
		    (error = tg_policy__get_str(c, v, il, "version", false,
		                                &pkgs[i].version)) < 0)
			return error;
		if (pkgs[i].version != NULL &&
		    tg_version_constraint_check(pkgs[i].version) < 0)
			return tg_policy__perr(
			        c, tg_policy__loc_key(c, il, "version"), "%s",
			        tg_error_last());
	}
	s->denied_packages = pkgs;
	s->ndenied_packages = json_array_size(list);
	return 0;
}

static const char *const sbom_format_names[] = { "spdx", "cyclonedx", NULL };

static int parse_sbom(tg_policy__ctx *c,
                      const json_t *m,
                      tg_policy__loc ml,
                      tg_policy_sbom *s)
{
	json_t *list, *v;
	size_t i;
	unsigned idx;
	tg_policy__loc ll;
	int error;

	s->present = true;
	s->formats = TG_SBOM_FORMAT_SPDX | TG_SBOM_FORMAT_CYCLONEDX;
	if ((error = tg_policy__check_keys(c, m, ml, &S_SBOM)) < 0 ||
	    (error = tg_policy__get_bool(c, m, ml, "required", true,
	                                 &s->required)) < 0 ||
	    (error = tg_policy__get_str_list(c, m, ml, "deniedLicenses", false,
	                                     tg_policy__check_license_id,
	                                     &s->denied_licenses,
	                                     &s->ndenied_licenses)) < 0 ||
	    (error = parse_denied_packages(c, m, ml, s)) < 0 ||
	    (error = tg_policy__get_list(c, m, ml, "formats", false, &list,
	                                 &ll)) < 0 ||
	    list == NULL)
		return error;
	s->formats = 0;
	json_array_foreach(list, i, v) {
		if ((error = tg_policy__parse_enum(
		             c, v, tg_policy__loc_index(c, ll, i),
		             sbom_format_names, &idx)) < 0)
			return error;
		s->formats |= 1u << idx;
	}
	return 0;
}

static const char *const severity_list[] = { "none", "low",      "medium",
	                                     "high", "critical", NULL };

static int parse_vulns(tg_policy__ctx *c,
                       const json_t *m,
                       tg_policy__loc ml,
                       tg_policy_vulns *s)
{
	unsigned sev = TG_SEVERITY_CRITICAL;
	int error;

	s->present = true;
	if ((error = tg_policy__check_keys(c, m, ml, &S_VULN)) < 0 ||
	    (error = tg_policy__get_bool(c, m, ml, "required", true,
	                                 &s->required)) < 0 ||
	    (error = tg_policy__get_enum(c, m, ml, "maxSeverity", severity_list,
	                                 &sev)) < 0 ||
	    (error = tg_policy__get_duration(c, m, ml, "maxScanAge",
	                                     &s->max_scan_age)) < 0)
		return error;
	s->max_severity = (tg_severity)sev;
	return tg_policy__get_str_list(c, m, ml, "ignore", false,
	                               tg_policy__check_vuln_id, &s->ignore,
	                               &s->nignore);
}

static int parse_provenance(tg_policy__ctx *c,
                            const json_t *m,
                            tg_policy__loc ml,
                            tg_policy_provenance *s)
{
	int error;

	s->present = true;
	if ((error = tg_policy__check_keys(c, m, ml, &S_PROV)) < 0 ||
	    (error = tg_policy__get_bool(c, m, ml, "required", true,
	                                 &s->required)) < 0 ||
	    (error = tg_policy__get_str(c, m, ml, "builderId", false,
	                                &s->builder_id)) < 0 ||
	    (error = tg_policy__get_regexp(c, m, ml, "builderIdRegExp",
	                                   &s->builder_id_regexp)) < 0 ||
	    (error = tg_policy__get_str(c, m, ml, "sourceRepository", false,
	                                &s->source_repository)) < 0)
		return error;
	return tg_policy__get_regexp(c, m, ml, "sourceRepositoryRegExp",
	                             &s->source_repository_regexp);
}

static int parse_attestations(tg_policy__ctx *c,
                              const json_t *m,
                              tg_policy__loc ml,
                              tg_policy_rule *r)
{
	json_t *v;
	tg_policy__loc vl;
	int error;

	if ((error = tg_policy__check_keys(c, m, ml, &S_ATT)) < 0)
		return error;
	if ((error = tg_policy__get_map(c, m, ml, "sbom", false, &v, &vl)) <
	            0 ||
	    (v != NULL && (error = parse_sbom(c, v, vl, &r->sbom)) < 0))
		return error;
	if ((error = tg_policy__get_map(c, m, ml, "vulnerabilities", false, &v,
	                                &vl)) < 0 ||
	    (v != NULL &&
	     (error = parse_vulns(c, v, vl, &r->vulnerabilities)) < 0))
		return error;
	if ((error = tg_policy__get_map(c, m, ml, "provenance", false, &v,
	                                &vl)) < 0 ||
	    v == NULL)
		return error;
	return parse_provenance(c, v, vl, &r->provenance);
}

static int check_glob(const char *s)
{
	return tg_policy_glob_check(s);
}

static const char *const mode_names[] = { "enforce", "warn", NULL };

static int parse_rule(tg_policy__ctx *c,
                      const json_t *v,
                      tg_policy__loc at,
                      tg_policy_rule *r)
{
	json_t *m;
	tg_policy__loc ml;
	unsigned mode = TG_POLICY_ENFORCE;
	int error;

	if (!json_is_object(v))
		return tg_policy__perr(c, at,
		                       "a rule must be a mapping, not %s",
		                       tg_schema_type_name(v));
	tg_yaml_docs_line_at(&r->line, NULL, c->docs, 0, at.ptr);
	if ((error = tg_policy__check_keys(c, v, at, &S_RULE)) < 0 ||
	    (error = tg_policy__get_str(c, v, at, "name", true, &r->name)) < 0)
		return error;
	if (tg_policy__check_name(r->name) < 0)
		return tg_policy__perr(c, tg_policy__loc_key(c, at, "name"),
		                       "%s", tg_error_last());
	if ((error = tg_policy__get_str_list(c, v, at, "images", true,
	                                     check_glob, &r->images,
	                                     &r->nimages)) < 0 ||
	    (error = tg_policy__get_enum(c, v, at, "mode", mode_names, &mode)) <
	            0 ||
	    (error = tg_policy__get_duration(c, v, at, "maxImageAge",
	                                     &r->max_image_age)) < 0 ||
	    (error = tg_policy__get_map(c, v, at, "signatures", true, &m,
	                                &ml)) < 0 ||
	    (error = tg_policy__parse_signatures(c, m, ml, &r->signatures)) <
	            0 ||
	    (error = tg_policy__get_map(c, v, at, "attestations", false, &m,
	                                &ml)) < 0)
		return error;
	r->mode = (tg_policy_mode)mode;
	if (m == NULL)
		return 0;
	return parse_attestations(c, m, ml, r);
}

static const char *const waive_names[] = {
	"signature", "sbom", "vulnerabilities", "provenance", "age", NULL
};

static int parse_waive(tg_policy__ctx *c,
                       const json_t *v,
                       tg_policy__loc at,
                       tg_policy_exception *e)
{
	json_t *list, *item;
	size_t i;
	unsigned idx;
	tg_policy__loc ll, il;
	int error;

	if ((error = tg_policy__get_list(c, v, at, "waive", false, &list,
	                                 &ll)) < 0 ||
	    list == NULL)
		return error;
	json_array_foreach(list, i, item) {
		il = tg_policy__loc_index(c, ll, i);
		/* podSecurity/<control> and networkPolicy first: a workload
		 * waiver is no image waiver */
		error = json_is_string(item)
		                ? tg_policy__parse_workload_waive(
		                          c, json_string_value(item), il, e)
		                : 1;
		if (error < 0)
			return error;
		if (error == 0)
			continue;
		if ((error = tg_policy__parse_enum(c, item, il, waive_names,
		                                   &idx)) < 0)
			return error;
		e->waive |= 1u << idx;
	}
	return 0;
}

/* What an exception waives must have something to apply to: image
 * waivers need images, workload waivers objects. */
static int check_exception_targets(tg_policy__ctx *c,
                                   tg_policy__loc at,
                                   const tg_policy_exception *e)
{
	bool images = e->waive != 0 || e->ncves != 0;
	bool objects = e->pss_waive != 0 || e->waive_network_policy;

	if (!images && !objects)
		return tg_policy__perr(
		        c, at,
		        "exception \"%s\" waives nothing: give "
		        "waive (signature, sbom, vulnerabilities, "
		        "provenance, age) or cves, or for objects "
		        "podSecurity/<control> or networkPolicy",
		        e->name);
	if (images && e->nimages == 0)
		return tg_policy__perr(c, at,
		                       "exception \"%s\" waives image checks "
		                       "but lists no images",
		                       e->name);
	if (objects && e->nobjects == 0)
		return tg_policy__perr(c, at,
		                       "exception \"%s\" waives workload "
		                       "controls but lists no objects "
		                       "(Kind/namespace/name globs)",
		                       e->name);
	return 0;
}

static int parse_exception(tg_policy__ctx *c,
                           const json_t *v,
                           tg_policy__loc at,
                           tg_policy_exception *e)
{
	int error;

	if (!json_is_object(v))
		return tg_policy__perr(c, at,
		                       "an exception must be a mapping, not %s",
		                       tg_schema_type_name(v));
	tg_yaml_docs_line_at(&e->line, NULL, c->docs, 0, at.ptr);
	if ((error = tg_policy__check_keys(c, v, at, &S_EXC)) < 0 ||
	    (error = tg_policy__get_str(c, v, at, "name", true, &e->name)) < 0)
		return error;
	if (tg_policy__check_name(e->name) < 0)
		return tg_policy__perr(c, tg_policy__loc_key(c, at, "name"),
		                       "%s", tg_error_last());
	if ((error = tg_policy__get_str_list(
	             c, v, at, "images", json_object_get(v, "objects") == NULL,
	             check_glob, &e->images, &e->nimages)) < 0 ||
	    (error = tg_policy__get_str_list(c, v, at, "objects", false,
	                                     tg_policy__check_object_glob,
	                                     &e->objects, &e->nobjects)) < 0 ||
	    (error = parse_waive(c, v, at, e)) < 0 ||
	    (error = tg_policy__get_str_list(c, v, at, "cves", false,
	                                     tg_policy__check_vuln_id, &e->cves,
	                                     &e->ncves)) < 0 ||
	    (error = tg_policy__get_str(c, v, at, "reason", true, &e->reason)) <
	            0 ||
	    (error = tg_policy__get_str(c, v, at, "approvedBy", true,
	                                &e->approved_by)) < 0 ||
	    (error = tg_policy__get_str(c, v, at, "expires", true,
	                                &e->expires)) < 0)
		return error;
	if ((error = check_exception_targets(c, at, e)) < 0)
		return error;
	if (tg_parse_date_end(&e->expires_at, e->expires) < 0)
		return tg_policy__perr(c, tg_policy__loc_key(c, at, "expires"),
		                       "%s", tg_error_last());
	return 0;
}

static int parse_registries(tg_policy__ctx *c, const json_t *doc)
{
	json_t *m;
	tg_policy__loc ml;
	int error;

	if ((error = tg_policy__get_map(c, doc, root_loc, "registries", false,
	                                &m, &ml)) < 0 ||
	    m == NULL)
		return error;
	c->p->has_registries = true;
	if ((error = tg_policy__check_keys(c, m, ml, &S_REGISTRIES)) < 0)
		return error;
	return tg_policy__get_str_list(c, m, ml, "allowed", true,
	                               tg_policy_registry_check, &c->p->allowed,
	                               &c->p->nallowed);
}

static int parse_rules(tg_policy__ctx *c, const json_t *doc)
{
	json_t *list, *v;
	size_t i, j;
	tg_policy__loc ll;
	int error;
	tg_policy *p = c->p;

	if ((error = tg_policy__get_list(c, doc, root_loc, "rules", true, &list,
	                                 &ll)) < 0)
		return error;
	p->rules = tg_policy__arena_calloc(&p->mem, json_array_size(list),
	                                   sizeof(*p->rules));
	json_array_foreach(list, i, v) {
		tg_policy__loc il = tg_policy__loc_index(c, ll, i);

		if ((error = parse_rule(c, v, il, &p->rules[i])) < 0)
			return error;
		for (j = 0; j < i; j++) {
			if (strcmp(p->rules[j].name, p->rules[i].name) == 0)
				return tg_policy__perr(
				        c, tg_policy__loc_key(c, il, "name"),
				        "duplicate rule name \"%s\" (also "
				        "at line %u)",
				        p->rules[i].name, p->rules[j].line);
		}
		p->nrules = i + 1;
	}
	return 0;
}

static int parse_exceptions(tg_policy__ctx *c, const json_t *doc)
{
	json_t *list, *v;
	size_t i, j;
	tg_policy__loc ll;
	int error;
	tg_policy *p = c->p;

	if ((error = tg_policy__get_list(c, doc, root_loc, "exceptions", false,
	                                 &list, &ll)) < 0 ||
	    list == NULL)
		return error;
	p->exceptions = tg_policy__arena_calloc(&p->mem, json_array_size(list),
	                                        sizeof(*p->exceptions));
	json_array_foreach(list, i, v) {
		tg_policy__loc il = tg_policy__loc_index(c, ll, i);
		tg_policy_exception *e = &p->exceptions[i];

		if ((error = parse_exception(c, v, il, e)) < 0)
			return error;
		for (j = 0; j < i; j++) {
			if (strcmp(p->exceptions[j].name, e->name) == 0)
				return tg_policy__perr(
				        c, tg_policy__loc_key(c, il, "name"),
				        "duplicate exception name \"%s\" "
				        "(also at line %u)",
				        e->name, p->exceptions[j].line);
		}
		p->nexceptions = i + 1;
	}
	return 0;
}

static int parse_document(tg_policy__ctx *c, const json_t *doc)
{
	const char *s;
	int error;

	if (!json_is_object(doc))
		return tg_policy__perr(c, root_loc,
		                       "a policy must be a mapping with "
		                       "apiVersion: %s and kind: %s, not %s",
		                       TG_POLICY_API_VERSION, TG_POLICY_KIND,
		                       tg_schema_type_name(doc));
	if ((error = tg_policy__check_keys(c, doc, root_loc, &S_TOP)) < 0 ||
	    (error = tg_policy__get_str(c, doc, root_loc, "apiVersion", true,
	                                &s)) < 0)
		return error;
	if (strcmp(s, TG_POLICY_API_VERSION) != 0)
		return tg_policy__perr(
		        c, tg_policy__loc_key(c, root_loc, "apiVersion"),
		        "\"%.100s\" is not supported (expected %s)", s,
		        TG_POLICY_API_VERSION);
	if ((error = tg_policy__get_str(c, doc, root_loc, "kind", true, &s)) <
	    0)
		return error;
	if (strcmp(s, TG_POLICY_KIND) != 0)
		return tg_policy__perr(
		        c, tg_policy__loc_key(c, root_loc, "kind"),
		        "\"%.100s\" is not a policy (expected kind %s)", s,
		        TG_POLICY_KIND);
	if ((error = parse_registries(c, doc)) < 0 ||
	    (error = parse_rules(c, doc)) < 0 ||
	    (error = parse_exceptions(c, doc)) < 0 ||
	    (error = tg_policy__parse_scopes(c, doc)) < 0 ||
	    (error = tg_policy__parse_commits(c, doc)) < 0)
		return error;
	return tg_policy__parse_workloads(c, doc);
}

/* sha256 over the canonical JSON of the policy (sorted keys, compact) and
 * the material its paths name. */
static int compute_hash(tg_policy__ctx *c, const json_t *doc)
{
	char *canon = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT |
	                                      JSON_ENCODE_ANY);
	tg_buf all;
	int error;

	if (canon == NULL)
		return tg_error_set(TG_ERROR, "%s: cannot serialise policy",
		                    c->name);
	tg_buf_init(&all, TG_MAX_FILE_BYTES * 4u + POLICY_MAX_CANON);
	error = tg_buf_printf(&all, "%s\n%s", canon,
	                      c->canon.data ? c->canon.data : "");
	if (error == 0)
		tg_sha256_digest_str(c->p->hash, all.data, all.len);
	else
		error = tg_error_set(error, "%s: policy too big to hash",
		                     c->name);
	free(canon);
	tg_buf_free(&all);
	return error;
}

static int parse_docs(tg_policy__ctx *c, const char *data, size_t len)
{
	tg_yaml_docs *docs = NULL;
	size_t n;
	int error;

	if ((error = tg_yaml_parse(&docs, c->name, data, len,
	                           TG_YAML_POSITIONS)) < 0)
		return error;
	c->docs = docs;
	n = tg_yaml_docs_count(docs);
	if (n != 1 || json_is_null(tg_yaml_docs_get(docs, 0))) {
		error = n > 1 ? tg_policy__perr(c, root_loc,
		                                "%zu YAML documents; a "
		                                "policy file holds exactly one",
		                                n)
		              : tg_error_set(TG_EINVALID,
		                             "%s: empty policy file", c->name);
		goto out;
	}
	if ((error = parse_document(c, tg_yaml_docs_get(docs, 0))) < 0)
		goto out;
	error = compute_hash(c, tg_yaml_docs_get(docs, 0));
out:
	tg_yaml_docs_free(docs);
	c->docs = NULL;
	return error;
}

int tg_policy_parse(tg_policy **out,
                    const char *name,
                    const char *data,
                    size_t len,
                    const char *base_dir)
{
	tg_policy__ctx c;
	int error;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.p = tg_calloc(1, sizeof(*c.p));
	c.p->name = tg_strdup(name);
	c.name = c.p->name;
	c.base_dir = base_dir;
	tg_buf_init(&c.canon, POLICY_MAX_CANON);
	if (len > TG_MAX_FILE_BYTES)
		error = tg_error_set(TG_ETOOBIG,
		                     "%s: policy larger than %u "
		                     "bytes",
		                     name, TG_MAX_FILE_BYTES);
	else
		error = parse_docs(&c, data, len);
	tg_policy__arena_free(&c.scratch);
	tg_buf_free(&c.canon);
	if (error < 0) {
		tg_policy_free(c.p);
		return error;
	}
	*out = c.p;
	return 0;
}

/* The directory part of path ("." when it has none). Caller frees. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return tg_strdup(".");
	if (slash == path)
		return tg_strdup("/");
	return tg_strndup(path, (size_t)(slash - path));
}

int tg_policy_load(tg_policy **out, const char *path)
{
	char *data = NULL, *dir = NULL;
	size_t len;
	int error;

	*out = NULL;
	if ((error = tg_file_read(&data, &len, path, TG_MAX_FILE_BYTES)) < 0)
		return tg_error_prefix(error, "policy");
	dir = dir_of(path);
	error = tg_policy_parse(out, path, data, len, dir);
	free(dir);
	free(data);
	return error;
}

void tg_policy_free(tg_policy *policy)
{
	size_t i;

	if (policy == NULL)
		return;
	for (i = 0; i < policy->nkeys; i++)
		tg_key_free(policy->keys[i]);
	free(policy->keys);
	for (i = 0; i < policy->nregexps; i++)
		tg_regexp_free(policy->regexps[i]);
	free(policy->regexps);
	tg_policy__commits_free(policy);
	tg_policy__arena_free(&policy->mem);
	free(policy->name);
	free(policy);
}

const char *tg_policy_name(const tg_policy *policy)
{
	return policy->name;
}

const char *tg_policy_hash(const tg_policy *policy)
{
	return policy->hash;
}
