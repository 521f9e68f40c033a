/*
 * The status digests file (stateDir/status-digests): the summary
 * (statusprev.c) of the status tollgate committed last, so that the next
 * publish need not read status.json back at all. Text, one entry a line:
 *
 *   tollgate status digests 1
 *   commit <status commit hex>
 *   units <0|1>
 *   source-commit <hex of the string>          optional
 *   source-digest <hex of the string>          optional
 *   plain <0|1|2> <sha256 hex>                 drift, violations, artifact
 *   artifact-digest <sha256 hex>               optional
 *   artifact-verdict <sha256 hex>              optional
 *   top <hex of the member name> <sha256 hex>
 *   unit <hex of the unit name> <sha256 hex>
 *   end <sha256 hex of every byte above this line>
 *
 * written atomically (temp file, fsync, rename). It serves only the status
 * commit it names; anything unexpected (another first line, a malformed or
 * duplicate line, a missing or wrong end line, a file over its limit) and
 * it is dropped with a warning: status.json is then read from the tip.
 */
#include <stdlib.h>
#include <string.h>

#include "statusdoc_int.h"
#include "tollgate/buf.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

#define DIGESTS_HEADER "tollgate status digests 1\n"
#define DIGESTS_END "end "
#define HEX_D (2 * TG_SHA256_LEN)

/* ---- Save -------------------------------------------------------- */

static int put_hex(tg_buf *b, const char *tag, const char *s)
{
	size_t n = strlen(s);
	char *hex = tg_malloc(2 * n + 1);
	int error;

	tg_hex_encode(hex, (const unsigned char *)s, n);
	error = tg_buf_printf(b, "%s %s", tag, hex);
	free(hex);
	return error;
}

static int put_digest(tg_buf *b, const unsigned char d[TG_SHA256_LEN])
{
	char hex[HEX_D + 1];

	tg_hex_encode(hex, d, TG_SHA256_LEN);
	return tg_buf_printf(b, " %s\n", hex);
}

static int
put_entries(tg_buf *b, const char *tag, const tg_statusprev_entry *e, size_t n)
{
	size_t i;
	int error = 0;

	for (i = 0; i < n && error == 0; i++)
		if ((error = put_hex(b, tag, e[i].name)) == 0)
			error = put_digest(b, e[i].d);
	return error;
}

static int put_plain(tg_buf *b, const tg_statusprev *p)
{
	int i, error = 0;

	for (i = 0; i < TG_STATUSPREV_PLAIN_N && error == 0; i++)
		if (p->plain[i].has &&
		    (error = tg_buf_printf(b, "plain %d", i)) == 0)
			error = put_digest(b, p->plain[i].d);
	if (error == 0 && p->art_digest.has &&
	    (error = tg_buf_puts(b, "artifact-digest")) == 0)
		error = put_digest(b, p->art_digest.d);
	if (error == 0 && p->art_verdict.has &&
	    (error = tg_buf_puts(b, "artifact-verdict")) == 0)
		error = put_digest(b, p->art_verdict.d);
	return error;
}

static int put_body(tg_buf *b, const tg_statusprev *p, const char *commit)
{
	int error;

	if ((error = tg_buf_printf(b, DIGESTS_HEADER "commit %s\nunits %d\n",
	                           commit, p->has_units ? 1 : 0)) < 0 ||
	    (p->commit &&
	     ((error = put_hex(b, "source-commit", p->commit)) < 0 ||
	      (error = tg_buf_puts(b, "\n")) < 0)) ||
	    (p->digest &&
	     ((error = put_hex(b, "source-digest", p->digest)) < 0 ||
	      (error = tg_buf_puts(b, "\n")) < 0)) ||
	    (error = put_plain(b, p)) < 0 ||
	    (error = put_entries(b, "top", p->top, p->ntop)) < 0)
		return error;
	return put_entries(b, "unit", p->units, p->nunits);
}

int tg_statusprev_save(const tg_statusprev *p,
                       const char *path,
                       const char *commit)
{
	unsigned char d[TG_SHA256_LEN];
	char hex[HEX_D + 1];
	tg_buf b;
	int error;

	tg_buf_init(&b, TG_STATUS_DIGESTS_MAX_BYTES);
	if ((error = put_body(&b, p, commit)) == 0) {
		tg_sha256(d, b.data, b.len);
		tg_hex_encode(hex, d, sizeof(d));
		error = tg_buf_printf(&b, DIGESTS_END "%s\n", hex);
	}
	if (error == 0)
		error = tg_file_write_atomic(path, b.data, b.len);
	tg_buf_free(&b);
	return error;
}

/* ---- Load -------------------------------------------------------- */

static bool get_digest(unsigned char d[TG_SHA256_LEN], const char *hex)
{
	return hex && strlen(hex) == HEX_D &&
	       tg_hex_decode(d, TG_SHA256_LEN, hex, HEX_D) == 0;
}

/* A name as hex: not empty, bounded, no NUL inside. */
static char *get_name(const char *hex)
{
	size_t n = hex ? strlen(hex) : 0;
	char *s;

	if (!n || n % 2 || n > 2 * TG_STATUS_DIGESTS_MAX_NAME)
		return NULL;
	s = tg_calloc(n / 2 + 1, 1);
	if (tg_hex_decode((unsigned char *)s, n / 2, hex, n) < 0 ||
	    strlen(s) != n / 2) {
		free(s);
		return NULL;
	}
	return s;
}

static bool set_once(char **slot, const char *hex)
{
	return !*slot && (*slot = get_name(hex)) != NULL;
}

static bool set_plain(tg_statusprev_plain *pl, const char *hex)
{
	if (pl->has)
		return false;
	return (pl->has = get_digest(pl->d, hex));
}

static bool add_entry(tg_statusprev_entry **e,
                      size_t *n,
                      const char *name_hex,
                      const char *hex)
{
	unsigned char d[TG_SHA256_LEN];
	char *name = get_name(name_hex);
	bool ok = name && get_digest(d, hex);

	if (ok)
		tg_statusprev_push(e, n, name, d);
	free(name);
	return ok;
}

/* One line "tag a [b]" (NUL-terminated, no newline). */
static bool parse_line(tg_statusprev *p, char *line)
{
	char *tag = line, *a = strchr(line, ' '), *b;
	long i;

	if (!a)
		return false;
	*a++ = '\0';
	if ((b = strchr(a, ' ')))
		*b++ = '\0';
	if (!strcmp(tag, "units") && !b && (!strcmp(a, "0") || !strcmp(a, "1")))
		return (p->has_units = *a == '1'), true;
	if (!strcmp(tag, "source-commit") && !b)
		return set_once(&p->commit, a);
	if (!strcmp(tag, "source-digest") && !b)
		return set_once(&p->digest, a);
	if (!strcmp(tag, "artifact-digest") && !b)
		return set_plain(&p->art_digest, a);
	if (!strcmp(tag, "artifact-verdict") && !b)
		return set_plain(&p->art_verdict, a);
	if (!strcmp(tag, "plain") && strlen(a) == 1 && *a >= '0' &&
	    (i = *a - '0') < TG_STATUSPREV_PLAIN_N)
		return set_plain(&p->plain[i], b);
	if (!strcmp(tag, "top"))
		return add_entry(&p->top, &p->ntop, a, b);
	if (!strcmp(tag, "unit"))
		return add_entry(&p->units, &p->nunits, a, b);
	return false;
}

/* The body between the header and the end line, checked against the end
 * line's digest; NULL when it does not match. */
static char *check_end(char *data, size_t len)
{
	unsigned char want[TG_SHA256_LEN], got[TG_SHA256_LEN];
	size_t hl = strlen(DIGESTS_HEADER), el = strlen(DIGESTS_END);
	char *last;

	/* More than the header: a file of only the header has no end line
	 * (and, its newline cut, no newline to find). */
	if (len <= hl || memcmp(data, DIGESTS_HEADER, hl) ||
	    data[len - 1] != '\n' || memchr(data, '\0', len))
		return NULL;
	data[len - 1] = '\0';
	if (!(last = strrchr(data, '\n')))
		return NULL;
	last++;
	if (last < data + hl || strncmp(last, DIGESTS_END, el) ||
	    !get_digest(want, last + el))
		return NULL;
	tg_sha256(got, data, (size_t)(last - data));
	if (memcmp(want, got, sizeof(want)))
		return NULL;
	last[0] = '\0';
	return data + hl;
}

/* The summary in data, when it is whole; *commit points into data. */
static tg_statusprev *parse_digests(char *data, size_t len, char **commit)
{
	char *body = check_end(data, len), *nl;
	tg_statusprev *p;

	if (!body || strncmp(body, "commit ", 7) || !(nl = strchr(body, '\n')))
		return NULL;
	*nl = '\0';
	*commit = body + 7;
	p = tg_calloc(1, sizeof(*p));
	for (body = nl + 1; *body; body = nl + 1) {
		nl = strchr(body, '\n');
		*nl = '\0';
		if (!parse_line(p, body))
			break;
	}
	if (*body || !tg_statusprev_finish(p)) {
		tg_statusprev_free(p);
		return NULL;
	}
	return p;
}

int tg_statusprev_load(tg_statusprev **out,
                       const char *path,
                       const char *commit)
{
	char *data = NULL, *named = NULL;
	size_t len = 0;
	int error;

	*out = NULL;
	if (!path || !commit)
		return 0;
	error = tg_file_read(&data, &len, path, TG_STATUS_DIGESTS_MAX_BYTES);
	if (error == 0 && !(*out = parse_digests(data, len, &named))) {
		tg_log(TG_LOG_WARN,
		       "status digests not used: malformed; reading "
		       "status.json instead",
		       "path", path, NULL);
	} else if (error < 0 && error != TG_ENOTFOUND) {
		tg_log(TG_LOG_WARN, "status digests not used", "error",
		       tg_error_last(), NULL);
	} else if (*out && strcmp(named, commit)) {
		/* Another status commit (another writer, an older run). */
		tg_statusprev_free(*out);
		*out = NULL;
	}
	free(data);
	return 0;
}
