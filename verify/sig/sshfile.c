/*
 * The SSH key files a policy names (tollgate/sshsig.h): OpenSSH public
 * key lines ("type base64 comment") and allowed_signers lines
 * ("principals [options] type base64 [comment]", ssh-keygen(1) ALLOWED
 * SIGNERS). One function per element of a line; every refusal names the
 * file and line.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ssh_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

/* One line being read: [p, end), its number, and the file's name. */
typedef struct line_rd {
	const char *p;
	const char *end;
	unsigned no;
	const char *file;
} line_rd;

static void skip_space(line_rd *l)
{
	while (l->p < l->end && (*l->p == ' ' || *l->p == '\t'))
		l->p++;
}

/* The next word: up to a blank outside double quotes. */
static size_t next_word(line_rd *l, const char **w)
{
	bool quoted = false;
	const char *s;

	skip_space(l);
	s = l->p;
	while (l->p < l->end && (quoted || (*l->p != ' ' && *l->p != '\t'))) {
		if (*l->p == '"')
			quoted = !quoted;
		l->p++;
	}
	*w = s;
	return (size_t)(l->p - s);
}

static int line_err(const line_rd *l, int code, const char *what)
{
	return tg_error_set(code, "%s:%u: %s", l->file, l->no, what);
}

/* The key: "type base64"; the comment after it is ignored. */
static int read_key(tg_sshkey *k, line_rd *l)
{
	const char *type, *b64;
	size_t tn = next_word(l, &type), bn = next_word(l, &b64);
	unsigned char *blob = NULL;
	size_t blen;
	bool known;
	char *name;
	int error;

	if (!tg_sshkey_type_supported(type, tn, &known))
		return known ? tg_error_set(
		                       TG_EINVALID,
		                       "%s:%u: key type \"%.*s\" is not "
		                       "supported (use ssh-ed25519, "
		                       "ecdsa-sha2-nistp256/384 or ssh-rsa)",
		                       l->file, l->no, (int)tn, type)
		             : line_err(l, TG_EPARSE,
		                        "not an OpenSSH public key (expected "
		                        "\"ssh-ed25519 AAAA...\")");
	if (bn == 0 || tg_base64_decode(&blob, &blen, b64, bn) < 0)
		return line_err(l, TG_EPARSE, "the key is not valid base64");
	/* The type before the key must be the one inside it. */
	if (blen < 4 + tn || blob[0] || blob[1] || blob[2] != (tn >> 8) ||
	    blob[3] != (tn & 0xff) || memcmp(blob + 4, type, tn) != 0) {
		free(blob);
		return line_err(l, TG_EPARSE,
		                "the key's type differs from the type written "
		                "before it");
	}
	name = tg_aprintf("%s:%u", l->file, l->no);
	error = tg_sshkey_from_blob(k, blob, blen, name);
	free(name);
	free(blob);
	if (error < 0)
		return tg_error_prefix(error, "%s:%u", l->file, l->no);
	return 0;
}

/* "YYYYMMDD[HHMM[SS]][Z]" as UTC seconds (see sshsig.h). */
static int parse_ssh_time(int64_t *out, const char *s, size_t n)
{
	unsigned v[6] = { 0, 1, 1, 0, 0, 0 };
	static const unsigned width[6] = { 4, 2, 2, 2, 2, 2 };
	size_t i, at = 0, parts;
	int64_t y, m, days;

	if (n > 0 && s[n - 1] == 'Z')
		n--;
	if (n != 8 && n != 12 && n != 14)
		return -1;
	parts = n == 8 ? 3 : n == 12 ? 5 : 6;
	for (i = 0; i < parts; i++) {
		size_t j;
		for (v[i] = 0, j = 0; j < width[i]; j++, at++) {
			if (s[at] < '0' || s[at] > '9')
				return -1;
			v[i] = v[i] * 10 + (unsigned)(s[at] - '0');
		}
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60)
		return -1;
	/* days from civil (proleptic Gregorian) */
	y = (int64_t)v[0] - (v[1] <= 2);
	m = v[1] <= 2 ? v[1] + 9 : v[1] - 3;
	days = 365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + v[2] -
	       1 - 719468;
	*out = days * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
	return 0;
}

/* The value of name="value" or name=value (quotes removed). */
static char *opt_value(const char *v, size_t n)
{
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		return tg_strndup(v + 1, n - 2);
	return tg_strndup(v, n);
}

static int apply_time_opt(
        tg_ssh_entry *e, const line_rd *l, bool after, const char *v, size_t n)
{
	char *val = opt_value(v, n);
	int64_t t;
	int rc = parse_ssh_time(&t, val, strlen(val));

	free(val);
	if (rc < 0)
		return line_err(
		        l, TG_EINVALID,
		        after ? "valid-after: expected YYYYMMDD[HHMM[SS]][Z]"
		              : "valid-before: expected "
		                "YYYYMMDD[HHMM[SS]][Z]");
	*(after ? &e->valid_after : &e->valid_before) = t;
	return 0;
}

/* One option of an allowed_signers line. */
static int apply_opt(tg_ssh_entry *e, const line_rd *l, const char *o, size_t n)
{
	const char *eq = memchr(o, '=', n);
	size_t kn = eq ? (size_t)(eq - o) : n, vn = eq ? n - kn - 1 : 0;

	if (kn == 14 && !strncasecmp(o, "cert-authority", 14))
		return line_err(l, TG_EINVALID,
		                "cert-authority lines are not supported: list "
		                "the signers' own keys");
	if (!eq)
		return line_err(l, TG_EINVALID, "unknown option");
	if (kn == 10 && !strncasecmp(o, "namespaces", 10)) {
		free(e->namespaces);
		e->namespaces = opt_value(eq + 1, vn);
		if (strchr(e->namespaces, '!'))
			return line_err(l, TG_EINVALID,
			                "negated namespaces are not supported");
		return 0;
	}
	if (kn == 11 && !strncasecmp(o, "valid-after", 11))
		return apply_time_opt(e, l, true, eq + 1, vn);
	if (kn == 12 && !strncasecmp(o, "valid-before", 12))
		return apply_time_opt(e, l, false, eq + 1, vn);
	return line_err(l, TG_EINVALID, "unknown option");
}

/* "opt,opt=\"a,b\",..." split on commas outside quotes. */
static int
apply_opts(tg_ssh_entry *e, const line_rd *l, const char *s, size_t n)
{
	size_t i, start = 0;
	bool quoted = false;
	int error;

	if (n > TG_MAX_SSH_PRINCIPALS)
		return line_err(l, TG_ETOOBIG, "options too long");
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] == '"')
			quoted = !quoted;
		if (i < n && (quoted || s[i] != ','))
			continue;
		if ((error = apply_opt(e, l, s + start, i - start)) < 0)
			return error;
		start = i + 1;
	}
	return 0;
}

/* The principals, then options when the next word is no key type. */
static int read_allowed_head(tg_ssh_entry *e, line_rd *l)
{
	const char *w, *save;
	size_t n = next_word(l, &w);
	bool known;

	if (n > TG_MAX_SSH_PRINCIPALS)
		return line_err(l, TG_ETOOBIG, "principals too long");
	e->principals = opt_value(w, n);
	save = l->p;
	n = next_word(l, &w);
	if (n == 0)
		return line_err(l, TG_EPARSE, "no key after the principals");
	if (tg_sshkey_type_supported(w, n, &known) || known) {
		l->p = save;
		return 0;
	}
	return apply_opts(e, l, w, n);
}

static void entry_clear(tg_ssh_entry *e)
{
	tg_sshkey_clear(&e->key);
	free(e->principals);
	free(e->namespaces);
}

void tg_ssh_signers_free(tg_ssh_signers *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		entry_clear(&s->e[i]);
	free(s->e);
	free(s->name);
	free(s);
}

size_t tg_ssh_signers_count(const tg_ssh_signers *s)
{
	return s->n;
}

/* One line that is not blank or a comment. */
static int read_line(tg_ssh_signers *s, line_rd *l, bool allowed)
{
	tg_ssh_entry e;
	int error;

	memset(&e, 0, sizeof(e));
	e.line = l->no;
	if (s->n >= TG_MAX_SSH_KEYS)
		return line_err(l, TG_ETOOBIG, "too many keys in one file");
	if ((allowed && (error = read_allowed_head(&e, l)) < 0) ||
	    (error = read_key(&e.key, l)) < 0) {
		entry_clear(&e);
		return error;
	}
	s->e = tg_realloc(s->e, (s->n + 1) * sizeof(*s->e));
	s->e[s->n++] = e;
	return 0;
}

/* The next line of l's file from *p on, without its "\r\n". */
static void next_line(line_rd *l, const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));

	l->p = *p;
	l->end = nl ? nl : end;
	l->no++;
	*p = nl ? nl + 1 : end;
	if (l->end > l->p && l->end[-1] == '\r')
		l->end--;
}

static int parse_file(tg_ssh_signers **out,
                      const char *name,
                      const char *data,
                      size_t len,
                      bool allowed)
{
	tg_ssh_signers *s = tg_calloc(1, sizeof(*s));
	line_rd l = { data, data, 0, name };
	const char *p = data, *end = data + len;
	int error = 0;

	s->name = tg_strdup(name);
	*out = NULL;
	while (error == 0 && p < end) {
		next_line(&l, &p, end);
		if ((size_t)(l.end - l.p) > TG_MAX_SSH_LINE) {
			error = line_err(&l, TG_ETOOBIG, "line too long");
			break;
		}
		skip_space(&l);
		if (l.p < l.end && *l.p != '#')
			error = read_line(s, &l, allowed);
	}
	if (error == 0 && s->n == 0)
		error = tg_error_set(TG_EPARSE, "%s: no public key in the file",
		                     name);
	if (error < 0) {
		tg_ssh_signers_free(s);
		return error;
	}
	*out = s;
	return 0;
}

int tg_ssh_signers_parse_keys(tg_ssh_signers **out,
                              const char *name,
                              const char *data,
                              size_t len)
{
	return parse_file(out, name, data, len, false);
}

int tg_ssh_signers_parse_allowed(tg_ssh_signers **out,
                                 const char *name,
                                 const char *data,
                                 size_t len)
{
	return parse_file(out, name, data, len, true);
}
