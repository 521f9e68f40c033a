/*
 * SBOM predicate checks: SPDX 2.x JSON and CycloneDX 1.4-1.6 JSON
 * (include/tollgate/sbom.h), and the version comparison used by
 * deniedPackages.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/sbom.h"
#include "tollgate/util.h"

/* Versions -------------------------------------------------------------- */

/* Compare two components [a, a+an) and [b, b+bn): numbers numerically
 * (by length after leading zeros, then digits, so no overflow), a number
 * before a word, words by bytes. */
static int cmp_component(const char *a, size_t an, const char *b, size_t bn)
{
	bool anum = an > 0, bnum = bn > 0;
	size_t i;
	int r;

	for (i = 0; i < an; i++)
		anum = anum && isdigit((unsigned char)a[i]);
	for (i = 0; i < bn; i++)
		bnum = bnum && isdigit((unsigned char)b[i]);
	if (anum && bnum) {
		while (an > 1 && *a == '0')
			a++, an--;
		while (bn > 1 && *b == '0')
			b++, bn--;
		if (an != bn)
			return an < bn ? -1 : 1;
		return memcmp(a, b, an);
	}
	if (anum != bnum)
		return anum ? -1 : 1;
	r = memcmp(a, b, an < bn ? an : bn);
	if (r != 0)
		return r;
	return an == bn ? 0 : (an < bn ? -1 : 1);
}

/* Length of the component at s, ended by any of seps or the end. */
static size_t comp_len(const char *s, const char *end, const char *seps)
{
	const char *p = s;

	while (p < end && strchr(seps, *p) == NULL)
		p++;
	return (size_t)(p - s);
}

/* Compare dotted sequences [a, ae) and [b, be). pad: a missing component
 * counts as "0" (release parts: 1.2 == 1.2.0); otherwise the shorter
 * sequence is lower (pre-release parts, as semver). */
static int cmp_seq(const char *a,
                   const char *ae,
                   const char *b,
                   const char *be,
                   const char *seps,
                   bool pad)
{
	while (a < ae || b < be) {
		size_t an, bn;
		int r;

		if (!pad && (a >= ae || b >= be))
			return a >= ae ? -1 : 1;
		an = a < ae ? comp_len(a, ae, seps) : 0;
		bn = b < be ? comp_len(b, be, seps) : 0;
		r = cmp_component(a < ae ? a : "0", a < ae ? an : 1,
		                  b < be ? b : "0", b < be ? bn : 1);
		if (r != 0)
			return r;
		a = a < ae ? a + an + 1 : a;
		b = b < be ? b + bn + 1 : b;
	}
	return 0;
}

/* Split v into release [*rel, *rel_end) and pre-release [*pre, *pre_end)
 * (empty when none); build metadata after '+' is dropped. */
static void split_version(const char *v,
                          const char **rel,
                          const char **rel_end,
                          const char **pre,
                          const char **pre_end)
{
	const char *end, *dash;

	if (*v == 'v' || *v == 'V')
		v++;
	end = v + strcspn(v, "+");
	dash = memchr(v, '-', (size_t)(end - v));
	*rel = v;
	*rel_end = dash ? dash : end;
	*pre = dash ? dash + 1 : end;
	*pre_end = end;
}

int tg_version_compare(const char *a, const char *b)
{
	const char *ar, *are, *ap, *ape, *br, *bre, *bp, *bpe;
	int r;

	split_version(a, &ar, &are, &ap, &ape);
	split_version(b, &br, &bre, &bp, &bpe);
	if ((r = cmp_seq(ar, are, br, bre, ".", true)) != 0)
		return r;
	if (ap == ape || bp == bpe) /* a release sorts after its pre */
		return ap == ape ? (bp == bpe ? 0 : 1) : -1;
	return cmp_seq(ap, ape, bp, bpe, ".-", false);
}

typedef enum { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE } version_op;

/* Parse one comparison [s, e) into op and a trimmed version copied into
 * ver (size TG_SBOM_MAX_TOKEN). 0 or TG_EINVALID. */
static int parse_cmp(const char *s, const char *e, version_op *op, char *ver)
{
	static const struct {
		const char *text;
		version_op op;
	} ops[] = { { "<=", OP_LE }, { ">=", OP_GE }, { "!=", OP_NE },
		    { "==", OP_EQ }, { "<", OP_LT },  { ">", OP_GT },
		    { "=", OP_EQ } };
	size_t i, n;

	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*op = OP_EQ;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		n = strlen(ops[i].text);
		if ((size_t)(e - s) >= n && memcmp(s, ops[i].text, n) == 0) {
			*op = ops[i].op;
			s += n;
			break;
		}
	}
	while (s < e && isspace((unsigned char)*s))
		s++;
	if (s == e || (size_t)(e - s) >= TG_SBOM_MAX_TOKEN)
		return TG_EINVALID;
	for (i = 0; s + i < e; i++) {
		char ch = s[i];

		if (!isalnum((unsigned char)ch) && strchr(".-+_~:", ch) == NULL)
			return TG_EINVALID;
	}
	memcpy(ver, s, (size_t)(e - s));
	ver[e - s] = '\0';
	return 0;
}

static bool op_holds(version_op op, int r)
{
	switch (op) {
	case OP_LT:
		return r < 0;
	case OP_LE:
		return r <= 0;
	case OP_GT:
		return r > 0;
	case OP_GE:
		return r >= 0;
	case OP_EQ:
		return r == 0;
	default:
		return r != 0;
	}
}

/* Check (version == NULL) or evaluate a constraint. *ok_out: whether
 * version satisfies every comparison. */
static int
eval_constraint(const char *constraint, const char *version, bool *ok_out)
{
	const char *s = constraint, *comma;
	char ver[TG_SBOM_MAX_TOKEN];
	version_op op;
	int r;
	bool ok = true;

	for (;;) {
		comma = strchr(s, ',');
		if (parse_cmp(s, comma ? comma : s + strlen(s), &op, ver) < 0)
			return tg_error_set(
			        TG_EINVALID,
			        "bad version constraint \"%.100s\": expected "
			        "comparisons like \"<1.2.3\" or \">=1.0, "
			        "<1.4\" (operators < <= > >= = !=)",
			        constraint);
		if (version != NULL) {
			r = tg_version_compare(version, ver);
			ok = ok && op_holds(op, r);
		}
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	*ok_out = ok;
	return 0;
}

int tg_version_constraint_check(const char *constraint)
{
	bool ok;

	return eval_constraint(constraint, NULL, &ok);
}

bool tg_version_satisfies(const char *version, const char *constraint)
{
	bool ok = false;

	if (eval_constraint(constraint, version, &ok) < 0)
		return false;
	return ok;
}

/* SBOM documents ------------------------------------------------------------
 */

typedef struct sbom_state {
	tg_check *check;
	const tg_policy_sbom *settings;
	size_t npackages;
	size_t nlicense_findings;
	size_t npackage_findings;
	json_t *denied_licenses; /* evidence arrays (borrowed from check) */
	json_t *denied_packages;
} sbom_state;

/* One package as both formats describe it. */
typedef struct sbom_pkg {
	const char *name;
	const char *group;   /* CycloneDX group (Maven groupId...), or NULL */
	const char *version; /* or NULL */
} sbom_pkg;

static const char *str_or_null(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool is_operator(const char *tok)
{
	return strcasecmp(tok, "AND") == 0 || strcasecmp(tok, "OR") == 0;
}

/* Record a denied license of a package (evidence capped). */
static void
license_finding(sbom_state *st, const sbom_pkg *pkg, const char *license)
{
	json_t *f;

	if (st->nlicense_findings++ >= TG_MAX_CHECK_FINDINGS)
		return;
	f = json_pack("{s:s, s:s?, s:s}", "package", pkg->name, "version",
	              pkg->version, "license", license);
	json_array_append_new(st->denied_licenses, f);
	tg_check_fail(st->check,
	              "package %.200s %.100s carries denied license "
	              "%.100s",
	              pkg->name, pkg->version ? pkg->version : "(no version)",
	              license);
}

/* Compare one license id token with deniedLicenses. "GPL-2.0+" is
 * GPL-2.0 or later, so its id is GPL-2.0. */
static void check_license_token(sbom_state *st, const sbom_pkg *pkg, char *tok)
{
	size_t n = strlen(tok), i;

	if (n > 1 && tok[n - 1] == '+')
		tok[n - 1] = '\0';
	if (strcmp(tok, "NOASSERTION") == 0 || strcmp(tok, "NONE") == 0)
		return;
	for (i = 0; i < st->settings->ndenied_licenses; i++) {
		if (strcasecmp(tok, st->settings->denied_licenses[i]) == 0) {
			license_finding(st, pkg,
			                st->settings->denied_licenses[i]);
			return;
		}
	}
}

/*
 * Every license id of an SPDX license expression. Ids after WITH name a
 * license exception, not a license, and are skipped. Any id counts, also
 * under OR: the SBOM does not say which branch applies.
 */
static void
check_expression(sbom_state *st, const sbom_pkg *pkg, const char *expr)
{
	char tok[TG_SBOM_MAX_TOKEN];
	const char *p = expr;
	bool after_with = false;

	while (*p) {
		size_t n;

		if (isspace((unsigned char)*p) || *p == '(' || *p == ')') {
			p++;
			continue;
		}
		n = strcspn(p, " \t\r\n()");
		if (n < sizeof(tok)) {
			memcpy(tok, p, n);
			tok[n] = '\0';
			if (strcasecmp(tok, "WITH") == 0)
				after_with = true;
			else if (after_with)
				after_with = false;
			else if (!is_operator(tok))
				check_license_token(st, pkg, tok);
		}
		p += n;
	}
}

static void package_finding(sbom_state *st,
                            const sbom_pkg *pkg,
                            const tg_policy_denied_package *d)
{
	if (st->npackage_findings++ >= TG_MAX_CHECK_FINDINGS)
		return;
	json_array_append_new(st->denied_packages,
	                      json_pack("{s:s, s:s?, s:s?}", "package",
	                                pkg->name, "version", pkg->version,
	                                "constraint", d->version));
	tg_check_fail(st->check, "package %.200s %.100s is denied%s%.100s",
	              pkg->name, pkg->version ? pkg->version : "(no version)",
	              d->version ? " by version constraint " : "",
	              d->version ? d->version : "");
}

/* Whether a deniedPackages name names pkg: the name itself, or
 * "group/name" / "group:name" for CycloneDX groups (Maven). */
static bool name_matches(const char *want, const sbom_pkg *pkg)
{
	size_t gl;

	if (strcmp(want, pkg->name) == 0)
		return true;
	if (pkg->group == NULL)
		return false;
	gl = strlen(pkg->group);
	return strncmp(want, pkg->group, gl) == 0 &&
	       (want[gl] == '/' || want[gl] == ':') &&
	       strcmp(want + gl + 1, pkg->name) == 0;
}

static void check_package(sbom_state *st, const sbom_pkg *pkg)
{
	size_t i;

	st->npackages++;
	for (i = 0; i < st->settings->ndenied_packages; i++) {
		const tg_policy_denied_package *d =
		        &st->settings->denied_packages[i];

		if (!name_matches(d->name, pkg))
			continue;
		/* Fail closed: a package with no version cannot be shown to
		 * be outside the denied range. */
		if (d->version == NULL || pkg->version == NULL ||
		    tg_version_satisfies(pkg->version, d->version))
			package_finding(st, pkg, d);
	}
}

static void spdx_packages(sbom_state *st, const json_t *doc)
{
	json_t *pkgs = json_object_get(doc, "packages"), *p;
	size_t i;

	json_array_foreach(pkgs, i, p) {
		sbom_pkg pkg = { str_or_null(p, "name"), NULL,
			         str_or_null(p, "versionInfo") };
		const char *lic;

		if (pkg.name == NULL)
			continue;
		check_package(st, &pkg);
		if ((lic = str_or_null(p, "licenseConcluded")) != NULL)
			check_expression(st, &pkg, lic);
		if ((lic = str_or_null(p, "licenseDeclared")) != NULL)
			check_expression(st, &pkg, lic);
	}
}

/* CycloneDX licenses: [{license: {id | name}} | {expression}]. A name is
 * free text; its words are compared too, so "GPL-3.0-only" written as a
 * name is still found. */
static void
cdx_licenses(sbom_state *st, const sbom_pkg *pkg, const json_t *lics)
{
	json_t *l;
	size_t i;
	const char *s;

	json_array_foreach(lics, i, l) {
		json_t *lic = json_object_get(l, "license");

		if ((s = str_or_null(l, "expression")) != NULL)
			check_expression(st, pkg, s);
		if ((s = str_or_null(lic, "id")) != NULL)
			check_expression(st, pkg, s);
		else if ((s = str_or_null(lic, "name")) != NULL)
			check_expression(st, pkg, s);
	}
}

/* components[] and their nested components, depth-limited. */
static void cdx_components(sbom_state *st, const json_t *comps, int depth)
{
	json_t *c;
	size_t i;

	if (depth > TG_MAX_JSON_DEPTH) {
		tg_check_fail(st->check,
		              "CycloneDX components nested deeper "
		              "than %d",
		              TG_MAX_JSON_DEPTH);
		return;
	}
	json_array_foreach(comps, i, c) {
		sbom_pkg pkg = { str_or_null(c, "name"),
			         str_or_null(c, "group"),
			         str_or_null(c, "version") };

		if (pkg.name != NULL) {
			check_package(st, &pkg);
			cdx_licenses(st, &pkg, json_object_get(c, "licenses"));
		}
		cdx_components(st, json_object_get(c, "components"), depth + 1);
	}
}

/* SPDX 2.x: spdxVersion "SPDX-2.<n>". 0, or a reason recorded. */
static int spdx_version(tg_check *c, const json_t *doc, const char **ver)
{
	*ver = str_or_null(doc, "spdxVersion");
	if (*ver == NULL) {
		tg_check_fail(c, "SPDX predicate has no spdxVersion: not an "
		                 "SPDX 2.x JSON document");
		return -1;
	}
	if (!tg_str_has_prefix(*ver, "SPDX-2.")) {
		tg_check_fail(c,
		              "SPDX version \"%.40s\" is not supported "
		              "(SPDX 2.x JSON)",
		              *ver);
		return -1;
	}
	if (!json_is_array(json_object_get(doc, "packages"))) {
		tg_check_fail(c, "SPDX document lists no packages");
		return -1;
	}
	return 0;
}

/* CycloneDX 1.4-1.6: bomFormat "CycloneDX", specVersion "1.<4-6>". */
static int cdx_version(tg_check *c, const json_t *doc, const char **ver)
{
	const char *fmt = str_or_null(doc, "bomFormat");

	*ver = str_or_null(doc, "specVersion");
	if (fmt == NULL || strcmp(fmt, "CycloneDX") != 0 || *ver == NULL) {
		tg_check_fail(c,
		              "CycloneDX predicate has no bomFormat "
		              "\"CycloneDX\" and specVersion: not a CycloneDX "
		              "JSON document");
		return -1;
	}
	if (strcmp(*ver, "1.4") != 0 && strcmp(*ver, "1.5") != 0 &&
	    strcmp(*ver, "1.6") != 0) {
		tg_check_fail(c,
		              "CycloneDX specVersion \"%.40s\" is not "
		              "supported (1.4, 1.5, 1.6)",
		              *ver);
		return -1;
	}
	return 0;
}

/* cosign writes a document it could not parse as a JSON string; a JSON
 * document in a string is unwrapped. Returns a new reference or NULL. */
static json_t *sbom_document(const json_t *predicate)
{
	if (json_is_string(predicate))
		return json_loadb(json_string_value(predicate),
		                  json_string_length(predicate),
		                  JSON_REJECT_DUPLICATES, NULL);
	return json_incref((json_t *)predicate);
}

static void
sbom_evaluate(sbom_state *st, tg_predicate_kind kind, const json_t *doc)
{
	const char *ver;
	json_t *ev = tg_check_evidence(st->check);
	unsigned bit = kind == TG_PREDICATE_SPDX ? TG_SBOM_FORMAT_SPDX
	                                         : TG_SBOM_FORMAT_CYCLONEDX;

	json_object_set_new(ev, "format",
	                    json_string(tg_predicate_kind_name(kind)));
	if (kind == TG_PREDICATE_SPDX ? spdx_version(st->check, doc, &ver)
	                              : cdx_version(st->check, doc, &ver))
		return;
	json_object_set_new(ev, "specVersion", json_string(ver));
	if (!(st->settings->formats & bit))
		tg_check_fail(st->check,
		              "SBOM format %s is not allowed by the "
		              "policy's formats",
		              tg_predicate_kind_name(kind));
	if (kind == TG_PREDICATE_SPDX)
		spdx_packages(st, doc);
	else
		cdx_components(st, json_object_get(doc, "components"), 0);
	json_object_set_new(ev, "packages",
	                    json_integer((json_int_t)st->npackages));
	if (st->nlicense_findings > TG_MAX_CHECK_FINDINGS)
		tg_check_fail(st->check,
		              "%zu packages with denied licenses in "
		              "all (first %d listed)",
		              st->nlicense_findings, TG_MAX_CHECK_FINDINGS);
	if (st->npackage_findings > TG_MAX_CHECK_FINDINGS)
		tg_check_fail(st->check,
		              "%zu denied packages in all (first %d "
		              "listed)",
		              st->npackage_findings, TG_MAX_CHECK_FINDINGS);
}

int tg_sbom_check(tg_check **out,
                  tg_predicate_kind kind,
                  const json_t *predicate,
                  const tg_policy_sbom *settings)
{
	sbom_state st;
	json_t *doc = NULL, *ev;
	int error;

	memset(&st, 0, sizeof(st));
	if ((error = tg_check_new(&st.check, "sbom")) < 0)
		return error;
	st.settings = settings;
	*out = st.check;
	ev = tg_check_evidence(st.check);
	st.denied_licenses = json_array();
	st.denied_packages = json_array();
	json_object_set_new(ev, "deniedLicenses", st.denied_licenses);
	json_object_set_new(ev, "deniedPackages", st.denied_packages);
	if (kind != TG_PREDICATE_SPDX && kind != TG_PREDICATE_CYCLONEDX) {
		tg_check_fail(st.check, "predicate is not an SBOM (SPDX or "
		                        "CycloneDX)");
		return 0;
	}
	doc = sbom_document(predicate);
	if (!json_is_object(doc))
		tg_check_fail(st.check, "%s predicate is not a JSON document",
		              tg_predicate_kind_name(kind));
	else
		sbom_evaluate(&st, kind, doc);
	json_decref(doc);
	return 0;
}
