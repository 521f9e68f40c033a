/*
 * Policy lookups: image globs, registries.allowed prefixes, regular
 * expressions, rule selection, exceptions and keyless identities.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

static const char *const severity_names[] = { "none", "low", "medium", "high",
	                                      "critical" };

const char *tg_severity_name(tg_severity s)
{
	if ((unsigned)s > TG_SEVERITY_CRITICAL)
		return "unknown";
	return severity_names[s];
}

int tg_severity_parse(tg_severity *out, const char *s)
{
	unsigned i;

	for (i = 0; i <= TG_SEVERITY_CRITICAL; i++) {
		if (strcmp(s, severity_names[i]) == 0) {
			*out = (tg_severity)i;
			return 0;
		}
	}
	return tg_error_set(TG_EINVALID,
	                    "unknown severity \"%.64s\" (expected none, low, "
	                    "medium, high or critical)",
	                    s);
}

const char *tg_policy_waive_name(unsigned bit)
{
	switch (bit) {
	case TG_WAIVE_SIGNATURE:
		return "signature";
	case TG_WAIVE_SBOM:
		return "sbom";
	case TG_WAIVE_VULNERABILITIES:
		return "vulnerabilities";
	case TG_WAIVE_PROVENANCE:
		return "provenance";
	case TG_WAIVE_AGE:
		return "age";
	default:
		return "unknown";
	}
}

/* Globs ------------------------------------------------------------------ */

enum glob_tok {
	GT_LIT,         /* one literal character */
	GT_ANY1,        /* ?: one character but '/' */
	GT_STAR,        /* *: a run without '/' */
	GT_DSTAR,       /* **: any run */
	GT_DSTAR_SLASH, /* "**" + "/" at a component start: "" or a run
	                   ending in '/', so a/(that)b matches a/b too */
};

typedef struct glob_token {
	enum glob_tok kind;
	char c;
} glob_token;

/* Split the name part of a pattern (n bytes) into tokens; returns how
 * many (at most n). */
static size_t glob_tokenize(glob_token *toks, const char *p, size_t n)
{
	size_t i = 0, nt = 0;

	while (i < n) {
		if (p[i] == '*' && i + 1 < n && p[i + 1] == '*') {
			bool at_start = i == 0 || p[i - 1] == '/';

			if (at_start && i + 2 < n && p[i + 2] == '/') {
				toks[nt++].kind = GT_DSTAR_SLASH;
				i += 3;
			} else {
				toks[nt++].kind = GT_DSTAR;
				i += 2;
			}
		} else if (p[i] == '*') {
			toks[nt++].kind = GT_STAR;
			i++;
		} else if (p[i] == '?') {
			toks[nt++].kind = GT_ANY1;
			i++;
		} else {
			toks[nt].kind = GT_LIT;
			toks[nt++].c = p[i++];
		}
	}
	return nt;
}

/* One DP step: cur[j] says whether the tokens so far match t[0..j). */
static void glob_step(bool *cur,
                      const bool *prev,
                      const glob_token *tok,
                      const char *t,
                      size_t n)
{
	size_t j;
	bool anyp = false;

	cur[0] = tok->kind == GT_LIT || tok->kind == GT_ANY1 ? false : prev[0];
	for (j = 1; j <= n; j++) {
		char c = t[j - 1];

		switch (tok->kind) {
		case GT_LIT:
			cur[j] = prev[j - 1] && c == tok->c;
			break;
		case GT_ANY1:
			cur[j] = prev[j - 1] && c != '/';
			break;
		case GT_STAR:
			cur[j] = prev[j] || (cur[j - 1] && c != '/');
			break;
		case GT_DSTAR:
			cur[j] = prev[j] || cur[j - 1];
			break;
		case GT_DSTAR_SLASH:
			anyp = anyp || prev[j - 1];
			cur[j] = prev[j] || (c == '/' && anyp);
			break;
		}
	}
}

/* Whether the glob p[0..pn) matches all of t. Dynamic programming over
 * (token, text position): linear in each, so no pattern can make matching
 * take exponential time the way naive backtracking over several stars
 * can. */
static bool glob_match_name(const char *p, size_t pn, const char *t)
{
	size_t n = strlen(t), nt, i;
	glob_token *toks;
	bool *prev, *cur, *tmp, result;

	if (pn > TG_POLICY_MAX_PATTERN || n > TG_MAX_IMAGEREF_BYTES)
		return false;
	toks = tg_calloc(pn + 1, sizeof(*toks));
	prev = tg_calloc(n + 1, sizeof(*prev));
	cur = tg_calloc(n + 1, sizeof(*cur));
	nt = glob_tokenize(toks, p, pn);
	prev[0] = true;
	for (i = 0; i < nt; i++) {
		glob_step(cur, prev, &toks[i], t, n);
		tmp = prev;
		prev = cur;
		cur = tmp;
	}
	result = prev[n];
	free(toks);
	free(prev);
	free(cur);
	return result;
}

bool tg_policy_glob_match(const char *pattern,
                          const char *name,
                          const char *digest)
{
	const char *at = strchr(pattern, '@');

	if (at == NULL)
		return glob_match_name(pattern, strlen(pattern), name);
	if (digest == NULL || strcmp(at + 1, digest) != 0)
		return false;
	return glob_match_name(pattern, (size_t)(at - pattern), name);
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-';
}

/* A registry host as the distribution grammar tells it from a path
 * component: it has a '.' or a ':' port, or is "localhost". */
static bool looks_like_host(const char *c, size_t n)
{
	return memchr(c, '.', n) != NULL || memchr(c, ':', n) != NULL ||
	       (n == 9 && memcmp(c, "localhost", 9) == 0);
}

/* Check one component [c, c+n) of a glob or prefix: allowed characters,
 * at most two stars in a row, ':' only in the first component. */
static int check_component(const char *c, size_t n, bool first, bool glob)
{
	size_t i, stars = 0;

	if (n == 0)
		return tg_error_set(TG_EINVALID, "empty path component");
	for (i = 0; i < n; i++) {
		char ch = c[i];

		stars = ch == '*' ? stars + 1 : 0;
		if (stars > 2)
			return tg_error_set(TG_EINVALID,
			                    "\"***\" is not a glob; use * "
			                    "or **");
		if (glob && (ch == '*' || ch == '?'))
			continue;
		if (ch == ':' && first)
			continue;
		if (ch >= 'A' && ch <= 'Z')
			return tg_error_set(TG_EINVALID,
			                    "uppercase letter '%c': image "
			                    "names are lowercase, so it would "
			                    "never match",
			                    ch);
		if (ch == ':')
			return tg_error_set(TG_EINVALID,
			                    "':' outside the registry host: "
			                    "tags are mutable, so patterns "
			                    "name repositories (add "
			                    "@sha256:<digest> to pin one "
			                    "image)");
		if (!is_name_char(ch))
			return tg_error_set(TG_EINVALID,
			                    "character '%c' is not allowed",
			                    ch);
	}
	return 0;
}

/* Check name[0..n): components separated by single '/', the first one a
 * registry host (or a wildcard). */
static int check_name_pattern(const char *p, size_t n, bool glob)
{
	size_t i = 0, start = 0;
	bool first = true;
	int error;

	if (n == 0 || p[0] == '/')
		return tg_error_set(TG_EINVALID, "must start with a registry "
		                                 "host");
	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		if (i == n && !first && start == n && !glob)
			break; /* prefix with a trailing '/' */
		if ((error = check_component(p + start, i - start, first,
		                             glob)) < 0)
			return error;
		if (first && !looks_like_host(p + start, i - start) &&
		    !(glob && memchr(p + start, '*', i - start)))
			return tg_error_set(
			        TG_EINVALID,
			        "must start with a registry host (names are "
			        "normalised: \"nginx\" is "
			        "docker.io/library/nginx)");
		first = false;
		start = i + 1;
	}
	return 0;
}

int tg_policy_glob_check(const char *pattern)
{
	size_t len = strlen(pattern);
	const char *at = strchr(pattern, '@');

	if (len > TG_POLICY_MAX_PATTERN)
		return tg_error_set(TG_ETOOBIG, "longer than %d characters",
		                    TG_POLICY_MAX_PATTERN);
	if (at != NULL) {
		if (!tg_str_has_prefix(at + 1, "sha256:") ||
		    !tg_digest_is_valid(at + 1))
			return tg_error_set(TG_EINVALID,
			                    "\"%.100s\" is not a digest "
			                    "(expected @sha256:<64 lowercase "
			                    "hex>)",
			                    at + 1);
		len = (size_t)(at - pattern);
	}
	if (len > 0 && pattern[len - 1] == '/')
		return tg_error_set(TG_EINVALID,
		                    "ends with '/': add ** to match the "
		                    "repositories below it");
	return check_name_pattern(pattern, len, true);
}

int tg_policy_registry_check(const char *entry)
{
	size_t len = strlen(entry);

	if (len > TG_POLICY_MAX_PATTERN)
		return tg_error_set(TG_ETOOBIG, "longer than %d characters",
		                    TG_POLICY_MAX_PATTERN);
	if (strpbrk(entry, "*?@") != NULL)
		return tg_error_set(TG_EINVALID,
		                    "is a prefix, not a glob or digest "
		                    "(write registry.example.com/ or "
		                    "ghcr.io/acme/)");
	return check_name_pattern(entry, len, false);
}

bool tg_policy_registry_allowed(const tg_policy *policy, const char *name)
{
	size_t i;

	if (!policy->has_registries)
		return true;
	for (i = 0; i < policy->nallowed; i++) {
		const char *e = policy->allowed[i];
		size_t n = strlen(e);

		if (n > 0 && e[n - 1] == '/')
			n--;
		/* Component boundaries: "ghcr.io/acme" must not allow
		 * "ghcr.io/acmex/...". */
		if (strncmp(name, e, n) == 0 &&
		    (name[n] == '/' || name[n] == '\0'))
			return true;
	}
	return false;
}

/* Regular expressions -------------------------------------------------------
 */

/* Skip a bracket expression starting at re[i] == '['; returns the index
 * after its ']', or 0 when it is not closed. Refuses a backslash inside:
 * POSIX reads it literally where RE2 reads a class like [\d]. */
static size_t skip_bracket(const char *re, size_t i, int *error)
{
	i++;
	if (re[i] == '^')
		i++;
	if (re[i] == ']')
		i++;
	for (; re[i] != '\0'; i++) {
		if (re[i] == '\\') {
			*error = tg_error_set(
			        TG_EINVALID,
			        "backslash inside [...] is a literal "
			        "backslash in POSIX regular expressions "
			        "(RE2 reads [\\d] as a digit): use [0-9] "
			        "or [[:space:]] style classes");
			return 0;
		}
		if (re[i] == '[' && (re[i + 1] == ':' || re[i + 1] == '.' ||
		                     re[i + 1] == '=')) {
			const char *end;
			char close[3] = { re[i + 1], ']', '\0' };

			end = strstr(re + i + 2, close);
			if (end == NULL)
				return 0;
			i = (size_t)(end - re) + 1;
			continue;
		}
		if (re[i] == ']')
			return i + 1;
	}
	return 0;
}

/*
 * Repeats. glibc's regcomp copies a repeated expression once for each
 * count it may take ("x{2,5}" five times, "x+" twice), and a repeat of a
 * repeat multiplies: "((x{9}){9}){9}" is 729 copies, and 30 nested or
 * stacked "+" over a billion, which takes gigabytes before regcomp
 * returns (found by fuzzing the policy). RE2 refuses a repeat over 1000
 * and a quantifier right after another ("x**", "x++"); so does this, the
 * count of copies taken along the nesting as RE2 counts it.
 */
#define REGEXP_MAX_REPEAT 1000

/* The copies quantifier re[i] makes (1 for "*" and "?"), its length in
 * *len; 0 when re[i] starts no quantifier ("{" without a bound: regcomp
 * refuses it). glibc reads "{,n}" as "{0,n}". */
static size_t quantifier(const char *re, size_t i, size_t *len)
{
	size_t j = i + 1, m = 0, n = 0;
	bool comma = false, has_n = false;

	*len = 1;
	if (re[i] == '*' || re[i] == '?')
		return 1;
	if (re[i] == '+')
		return 2;
	if (re[i] != '{' || !(isdigit((unsigned char)re[j]) || re[j] == ','))
		return 0;
	for (; isdigit((unsigned char)re[j]); j++)
		m = m > REGEXP_MAX_REPEAT ? m : m * 10 + (size_t)(re[j] - '0');
	if (re[j] == ',') {
		comma = true;
		for (j++; isdigit((unsigned char)re[j]); j++) {
			has_n = true;
			n = n > REGEXP_MAX_REPEAT
			            ? n
			            : n * 10 + (size_t)(re[j] - '0');
		}
	}
	if (re[j] != '}')
		return 0;
	*len = j + 1 - i;
	if (!comma)
		return m ? m : 1;
	if (!has_n)
		return m + 1; /* "{m,}": m copies and a star */
	return n > m ? n : (m ? m : 1);
}

/* Refuse a quantifier after a quantifier, and repeats whose copies
 * multiply past REGEXP_MAX_REPEAT. Brackets and escapes are atoms. */
static int regexp_repeats(const char *re)
{
	size_t len = strlen(re), depth = 0, i = 0, qlen;
	/* per open group: the most copies inside it so far */
	size_t *outer = tg_calloc(len + 1, sizeof(*outer));
	size_t most = 1, atom = 0; /* copies of the last atom; 0: none */
	bool after_quantifier = false;
	int error = 0;

	while (re[i] != '\0' && error == 0) {
		char c = re[i];
		size_t q = quantifier(re, i, &qlen);

		if (q && atom) {
			if (after_quantifier)
				error = tg_error_set(
				        TG_EINVALID,
				        "a quantifier right after another "
				        "(\"%.*s\" at character %zu): RE2 "
				        "refuses it, and glibc's regcomp "
				        "copies "
				        "the expression for each",
				        (int)qlen, re + i, i + 1);
			else if (atom * q > REGEXP_MAX_REPEAT)
				error = tg_error_set(
				        TG_EINVALID,
				        "repeats multiply to more than %d "
				        "copies (\"%.*s\" at character %zu; "
				        "RE2 refuses them too)",
				        REGEXP_MAX_REPEAT, (int)qlen, re + i,
				        i + 1);
			atom *= q;
			most = atom > most ? atom : most;
			after_quantifier = true;
			i += qlen;
			continue;
		}
		after_quantifier = false;
		if (c == '(') {
			outer[depth++] = most;
			most = 1;
			atom = 0;
			i++;
		} else if (c == ')' && depth > 0) {
			atom = most; /* the group, as a quantifier sees it */
			most = outer[--depth];
			most = atom > most ? atom : most;
			i++;
		} else if (c == '|' || c == '^' || c == '$') {
			atom = 0;
			i++;
		} else if (c == '[') {
			size_t next = skip_bracket(re, i, &error);

			atom = 1;
			i = next ? next : len; /* unclosed: regcomp says so */
		} else {
			atom = 1;
			i += c == '\\' && re[i + 1] != '\0' ? 2 : 1;
		}
	}
	free(outer);
	return error;
}

/* Refuse what RE2 (cosign, Kyverno, policy-controller) and POSIX ERE read
 * differently, so a policy copied from those tools fails loudly instead
 * of matching something else. */
static int regexp_precheck(const char *re)
{
	size_t i = 0;
	int error = 0;

	while (re[i] != '\0') {
		char c = re[i];

		if (c == '[') {
			size_t next = skip_bracket(re, i, &error);

			if (error < 0)
				return error;
			if (next == 0)
				return 0; /* regcomp reports it */
			i = next;
			continue;
		}
		if (c == '\\' && isalnum((unsigned char)re[i + 1]))
			return tg_error_set(
			        TG_EINVALID,
			        "\\%c is RE2/Perl syntax that POSIX "
			        "regular expressions do not have (use "
			        "[0-9], [[:alnum:]_], [[:space:]], or "
			        "escape only punctuation)",
			        re[i + 1]);
		if (c == '\\' && re[i + 1] != '\0') {
			i += 2;
			continue;
		}
		if (c == '(' && re[i + 1] == '?')
			return tg_error_set(TG_EINVALID,
			                    "\"(?\" groups and flags are RE2 "
			                    "syntax that POSIX regular "
			                    "expressions do not have");
		if ((c == '*' || c == '+' || c == '?' || c == '}') &&
		    re[i + 1] == '?')
			return tg_error_set(TG_EINVALID,
			                    "lazy quantifier \"%c?\" is RE2 "
			                    "syntax that POSIX regular "
			                    "expressions do not have",
			                    c);
		i++;
	}
	return regexp_repeats(re);
}

int tg_regexp_compile(tg_regexp **out, const char *source)
{
	tg_regexp *re;
	int error, rc;
	char msg[256];

	*out = NULL;
	if (strlen(source) > TG_POLICY_MAX_REGEXP)
		return tg_error_set(TG_ETOOBIG,
		                    "regular expression longer than %d "
		                    "characters",
		                    TG_POLICY_MAX_REGEXP);
	if ((error = regexp_precheck(source)) < 0)
		return error;
	re = tg_calloc(1, sizeof(*re));
	rc = regcomp(&re->re, source, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &re->re, msg, sizeof(msg));
		free(re);
		return tg_error_set(TG_EINVALID,
		                    "bad regular expression \"%.200s\": %s",
		                    source, msg);
	}
	re->source = tg_strdup(source);
	*out = re;
	return 0;
}

void tg_regexp_free(tg_regexp *re)
{
	if (re == NULL)
		return;
	regfree(&re->re);
	free(re->source);
	free(re);
}

bool tg_regexp_match(const tg_regexp *re, const char *s)
{
	return regexec(&re->re, s, 0, NULL, 0) == 0;
}

const char *tg_regexp_source(const tg_regexp *re)
{
	return re->source;
}

/* Rules and exceptions --------------------------------------------------- */

size_t tg_policy_rule_count(const tg_policy *policy)
{
	return policy->nrules;
}

const tg_policy_rule *tg_policy_rule_at(const tg_policy *policy, size_t i)
{
	return i < policy->nrules ? &policy->rules[i] : NULL;
}

static bool any_glob_matches(const char *const *globs,
                             size_t n,
                             const char *name,
                             const char *digest)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (tg_policy_glob_match(globs[i], name, digest))
			return true;
	}
	return false;
}

bool tg_policy_rule_matches(const tg_policy_rule *rule,
                            const char *name,
                            const char *digest)
{
	return any_glob_matches(rule->images, rule->nimages, name, digest);
}

/* "a, b, c" of registries.allowed for a message, cut at a sane length. */
static void allowed_list(char *buf, size_t size, const tg_policy *policy)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < policy->nallowed && len + 1 < size; i++) {
		int n = snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
		                 policy->allowed[i]);

		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (len >= size && size > 4)
		memcpy(buf + size - 4, "...", 4);
}

int tg_policy_select(const tg_policy_rule **out,
                     const tg_policy *policy,
                     const char *name,
                     const char *digest)
{
	size_t i;
	char list[512];

	*out = NULL;
	if (!tg_policy_registry_allowed(policy, name)) {
		allowed_list(list, sizeof(list), policy);
		return tg_error_set(TG_EINVALID,
		                    "%s: registry not allowed by the policy "
		                    "(registries.allowed: %s)",
		                    name, list);
	}
	for (i = 0; i < policy->nrules; i++) {
		if (tg_policy_rule_matches(&policy->rules[i], name, digest)) {
			*out = &policy->rules[i];
			return 0;
		}
	}
	return tg_error_set(TG_EINVALID,
	                    "%s: no policy rule matches; add the image to a "
	                    "rule's images in %s",
	                    name, policy->name);
}

size_t tg_policy_exception_count(const tg_policy *policy)
{
	return policy->nexceptions;
}

const tg_policy_exception *tg_policy_exception_at(const tg_policy *policy,
                                                  size_t i)
{
	return i < policy->nexceptions ? &policy->exceptions[i] : NULL;
}

bool tg_policy_exception_matches(const tg_policy_exception *exc,
                                 const char *name,
                                 const char *digest)
{
	return any_glob_matches(exc->images, exc->nimages, name, digest);
}

bool tg_policy_exception_active(const tg_policy_exception *exc, int64_t now)
{
	return now <= exc->expires_at;
}

size_t tg_policy_exceptions_for(const tg_policy_exception **out,
                                size_t max,
                                const tg_policy *policy,
                                const char *name,
                                const char *digest)
{
	size_t i, n = 0;

	for (i = 0; i < policy->nexceptions; i++) {
		if (!tg_policy_exception_matches(&policy->exceptions[i], name,
		                                 digest))
			continue;
		if (n < max)
			out[n] = &policy->exceptions[i];
		n++;
	}
	return n;
}

unsigned tg_policy_waivers(const tg_policy *policy,
                           const char *name,
                           const char *digest,
                           int64_t now)
{
	size_t i;
	unsigned bits = 0;

	for (i = 0; i < policy->nexceptions; i++) {
		const tg_policy_exception *e = &policy->exceptions[i];

		if (tg_policy_exception_matches(e, name, digest) &&
		    tg_policy_exception_active(e, now))
			bits |= e->waive;
	}
	return bits;
}

/* Keyless ------------------------------------------------------------------ */

/* Check one certificate field against an exact value and a regexp. */
static int match_field(const char *what,
                       const char *value,
                       const char *exact,
                       const tg_regexp *re)
{
	if (value == NULL)
		return tg_error_set(TG_EUNTRUSTED, "certificate has no %s",
		                    what);
	if (exact != NULL && strcmp(value, exact) != 0)
		return tg_error_set(TG_EUNTRUSTED,
		                    "certificate %s \"%.300s\" is not "
		                    "\"%.300s\"",
		                    what, value, exact);
	if (re != NULL && !tg_regexp_match(re, value))
		return tg_error_set(TG_EUNTRUSTED,
		                    "certificate %s \"%.300s\" does not match "
		                    "\"%.300s\"",
		                    what, value, re->source);
	return 0;
}

int tg_policy_keyless_match(const tg_policy_keyless *keyless,
                            const char *issuer,
                            const char *subject)
{
	int error;

	if ((error = match_field("issuer", issuer, keyless->issuer,
	                         keyless->issuer_regexp)) < 0)
		return error;
	return match_field("subject", subject, keyless->subject,
	                   keyless->subject_regexp);
}
