/*
 * The drift memo: which live objects a full compare found without drift,
 * so that the next cycle need not parse and compare them again while
 * nothing changed on either side. See reconciler/include/tollgate/drift.h.
 *
 * The file (stateDir/drift-memo) is text, one object a line:
 *
 *   tollgate drift memo 2
 *   <key> TAB <uid> TAB <resourceVersion> TAB <desired sha256 hex>
 *         TAB <health code> TAB <unix time of the compare>
 *   ...
 *   end <sha256 hex of every byte above this line>
 *
 * written atomically (temp file, fsync, rename). Anything unexpected in
 * it (another first line, a malformed or duplicate line, a missing or
 * wrong end line, a file over its limit) and the whole memo is dropped:
 * every object is then compared in full, which is only slower.
 */
#include <stdlib.h>
#include <string.h>

#include "tollgate/buf.h"
#include "tollgate/drift.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

/* The number changes with the compare's rules (2: a managedFields leaf
 * covers what is below it), so that objects remembered as clean under
 * older rules are compared again after an upgrade. */
#define MEMO_HEADER "tollgate drift memo 2\n"
#define MEMO_END "end "

typedef struct memo_entry {
	char *key; /* key\0uid\0rv\0 in one allocation */
	const char *uid, *rv;
	unsigned char desired[TG_SHA256_LEN];
	int health;
	int64_t when;
} memo_entry;

struct tg_drift_memo {
	memo_entry *e;
	size_t n, cap;
	bool sorted;
};

void tg_drift_memo_free(tg_drift_memo *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		free(m->e[i].key);
	free(m->e);
	free(m);
}

/* A field of a line: printable, no tab, not empty, bounded. */
static bool field_ok(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if ((unsigned char)*s < 0x21 && *s != ' ')
			return false;
	return n > 0 && n <= max;
}

static void push(tg_drift_memo *m,
                 const char *key,
                 const char *uid,
                 const char *rv,
                 const unsigned char desired[TG_SHA256_LEN],
                 int health,
                 int64_t when)
{
	size_t kl = strlen(key), ul = strlen(uid), rl = strlen(rv);
	memo_entry *e;

	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 256;
		m->e = tg_realloc(m->e, m->cap * sizeof(*m->e));
	}
	e = &m->e[m->n++];
	e->key = tg_malloc(kl + ul + rl + 3);
	memcpy(e->key, key, kl + 1);
	e->uid = memcpy(e->key + kl + 1, uid, ul + 1);
	e->rv = memcpy(e->key + kl + ul + 2, rv, rl + 1);
	memcpy(e->desired, desired, TG_SHA256_LEN);
	e->health = health;
	e->when = when;
	m->sorted = false;
}

void tg_drift_memo_add(tg_drift_memo *m,
                       const char *key,
                       const char *uid,
                       const char *rv,
                       const unsigned char desired[TG_SHA256_LEN],
                       int health,
                       int64_t when)
{
	/* What the file could not carry unambiguously is not remembered
	 * (the object is compared in full next time). */
	if (!field_ok(key, TG_DRIFT_MEMO_MAX_FIELD) ||
	    !field_ok(uid, TG_DRIFT_MEMO_MAX_FIELD) || strchr(uid, ' ') ||
	    !field_ok(rv, TG_DRIFT_MEMO_MAX_FIELD) || strchr(rv, ' ') ||
	    health < 0 || health > 9 || m->n >= TG_DRIFT_MEMO_MAX_ENTRIES)
		return;
	push(m, key, uid, rv, desired, health, when);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const memo_entry *)a)->key,
	              ((const memo_entry *)b)->key);
}

/* Sort by key; false when a key is there twice. */
static bool sort_unique(tg_drift_memo *m)
{
	size_t i;

	if (m->n)
		tg_qsort(m->e, m->n, sizeof(*m->e), cmp_entry);
	m->sorted = true;
	for (i = 1; i < m->n; i++)
		if (!strcmp(m->e[i - 1].key, m->e[i].key))
			return false;
	return true;
}

/* Load ------------------------------------------------------------------- */

/* Split line (NUL-terminated, no newline) at tabs into 6 fields. */
static bool split6(char *line, char *f[6])
{
	int i;

	for (i = 0; i < 6; i++) {
		f[i] = line;
		line = strchr(line, '\t');
		if ((line != NULL) != (i < 5))
			return false;
		if (line)
			*line++ = '\0';
	}
	return true;
}

static bool parse_line(tg_drift_memo *m, char *line)
{
	char *f[6], *end;
	unsigned char d[TG_SHA256_LEN];
	long long when;

	if (!split6(line, f) || strlen(f[3]) != 2 * TG_SHA256_LEN ||
	    tg_hex_decode(d, sizeof(d), f[3], strlen(f[3])) < 0 ||
	    strlen(f[4]) != 1 || f[4][0] < '0' || f[4][0] > '9')
		return false;
	when = strtoll(f[5], &end, 10);
	if (*f[5] < '0' || *f[5] > '9' || *end || when <= 0)
		return false;
	if (!field_ok(f[0], TG_DRIFT_MEMO_MAX_FIELD) ||
	    !field_ok(f[1], TG_DRIFT_MEMO_MAX_FIELD) || strchr(f[1], ' ') ||
	    !field_ok(f[2], TG_DRIFT_MEMO_MAX_FIELD) || strchr(f[2], ' ') ||
	    m->n >= TG_DRIFT_MEMO_MAX_ENTRIES)
		return false;
	push(m, f[0], f[1], f[2], d, f[4][0] - '0', (int64_t)when);
	return true;
}

/* The body between the header and the end line, checked against the end
 * line's digest. */
static bool check_end(char *data, size_t len, char **body, size_t *body_len)
{
	unsigned char want[TG_SHA256_LEN], got[TG_SHA256_LEN];
	size_t hl = strlen(MEMO_HEADER), el = strlen(MEMO_END);
	char *last;

	/* The header, then at least the end line. */
	if (len <= hl || memcmp(data, MEMO_HEADER, hl) || data[len - 1] != '\n')
		return false;
	data[len - 1] = '\0';
	last = strrchr(data, '\n') + 1; /* the header ends in one */
	if (last < data + hl || strncmp(last, MEMO_END, el) ||
	    strlen(last + el) != 2 * TG_SHA256_LEN ||
	    tg_hex_decode(want, sizeof(want), last + el, 2 * TG_SHA256_LEN) < 0)
		return false;
	tg_sha256(got, data, (size_t)(last - data));
	if (memcmp(want, got, sizeof(want)))
		return false;
	*body = data + hl;
	*body_len = (size_t)(last - *body);
	return true;
}

static bool parse_memo(tg_drift_memo *m, char *data, size_t len)
{
	char *body, *nl;
	size_t body_len;

	if (!check_end(data, len, &body, &body_len))
		return false;
	body[body_len] = '\0';
	for (; *body; body = nl + 1) {
		nl = strchr(body, '\n');
		*nl = '\0';
		if (!parse_line(m, body))
			return false;
	}
	return sort_unique(m);
}

int tg_drift_memo_load(tg_drift_memo **out, const char *path)
{
	tg_drift_memo *m = tg_calloc(1, sizeof(*m));
	char *data = NULL;
	size_t len = 0;
	int error;

	*out = m;
	m->sorted = true;
	if (!path)
		return 0;
	error = tg_file_read(&data, &len, path, TG_DRIFT_MEMO_MAX_BYTES);
	if (error == 0 && !parse_memo(m, data, len)) {
		tg_log(TG_LOG_WARN, "drift memo not used: malformed", "path",
		       path, NULL);
		error = TG_EPARSE;
	} else if (error < 0 && error != TG_ENOTFOUND) {
		tg_log(TG_LOG_WARN, "drift memo not used", "error",
		       tg_error_last(), NULL);
	}
	if (error < 0) {
		/* Any doubt: nothing is remembered. */
		tg_drift_memo_free(m);
		*out = m = tg_calloc(1, sizeof(*m));
		m->sorted = true;
	}
	free(data);
	return 0;
}

/* Look up and save --------------------------------------------------------- */

bool tg_drift_memo_clean(int *health_out,
                         int64_t *when_out,
                         const tg_drift_memo *m,
                         const char *key,
                         const char *uid,
                         const char *rv,
                         const unsigned char desired[TG_SHA256_LEN],
                         int64_t now)
{
	memo_entry probe = { 0 }, *e;

	if (!m->sorted || !m->n || !*uid || !*rv)
		return false;
	probe.key = (char *)key;
	e = tg_bsearch(&probe, m->e, m->n, sizeof(*m->e), cmp_entry);
	/* Only the very object (uid) at the very version (resourceVersion)
	 * compared with the very desired object, not long ago. */
	if (!e || strcmp(e->uid, uid) || strcmp(e->rv, rv) ||
	    memcmp(e->desired, desired, TG_SHA256_LEN) || e->when > now ||
	    now - e->when > TG_DRIFT_MEMO_MAX_AGE_S)
		return false;
	*health_out = e->health;
	*when_out = e->when;
	return true;
}

/* Sort, and drop every entry of a key added twice (two units with the
 * same object: neither is remembered). */
static void sort_drop_twice(tg_drift_memo *m)
{
	size_t i, j, k = 0;

	if (sort_unique(m))
		return;
	for (i = 0; i < m->n; i = j) {
		for (j = i + 1; j < m->n && !strcmp(m->e[i].key, m->e[j].key);
		     j++)
			free(m->e[j].key);
		if (j - i == 1)
			m->e[k++] = m->e[i];
		else
			free(m->e[i].key);
	}
	m->n = k;
}

int tg_drift_memo_save(tg_drift_memo *m, const char *path)
{
	unsigned char d[TG_SHA256_LEN];
	char hex[2 * TG_SHA256_LEN + 1];
	tg_buf b;
	size_t i;
	int error;

	sort_drop_twice(m);
	tg_buf_init(&b, TG_DRIFT_MEMO_MAX_BYTES);
	error = tg_buf_puts(&b, MEMO_HEADER);
	for (i = 0; i < m->n && error == 0; i++) {
		const memo_entry *e = &m->e[i];
		tg_hex_encode(hex, e->desired, sizeof(e->desired));
		error = tg_buf_printf(&b, "%s\t%s\t%s\t%s\t%d\t%lld\n", e->key,
		                      e->uid, e->rv, hex, e->health,
		                      (long long)e->when);
	}
	if (error == 0) {
		tg_sha256(d, b.data, b.len);
		tg_hex_encode(hex, d, sizeof(d));
		error = tg_buf_printf(&b, MEMO_END "%s\n", hex);
	}
	if (error == 0)
		error = tg_file_write_atomic(path, b.data, b.len);
	tg_buf_free(&b);
	return error;
}
