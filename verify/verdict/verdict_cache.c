/* Verdict cache keyed by (policy hash, subject): see verdict_cache.h. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"
#include "tollgate/verdict_cache.h"

/* Format tag of the cache file, so a future layout is not misread. */
#define CACHE_FILE_VERSION "tollgate.dev/verdict-cache/v1"

struct entry {
	char *policy_hash;
	char *subject;
	uint64_t hash;
	int64_t stamp;
	int64_t until;       /* served up to this time (inclusive) */
	tg_verdict *verdict; /* NULL: a free slot */
};

struct tg_verdict_cache {
	int64_t ttl;
	struct entry *entries; /* open addressing, linear probing */
	size_t cap;            /* power of two */
	size_t count;
};

/* FNV-1a over both key parts, with a separator that cannot occur in
 * either (a NUL). */
static uint64_t key_hash(const char *policy_hash, const char *subject)
{
	uint64_t h = 1469598103934665603ull;
	const char *p;

	for (p = policy_hash; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ 0) * 1099511628211ull;
	for (p = subject; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

int tg_verdict_cache_new(tg_verdict_cache **out, int64_t ttl_seconds)
{
	tg_verdict_cache *c = tg_calloc(1, sizeof(*c));

	c->ttl = ttl_seconds > 0 ? ttl_seconds : TG_VERDICT_CACHE_DEFAULT_TTL_S;
	c->cap = 64;
	c->entries = tg_calloc(c->cap, sizeof(*c->entries));
	*out = c;
	return 0;
}

static void entry_clear(struct entry *e)
{
	free(e->policy_hash);
	free(e->subject);
	tg_verdict_free(e->verdict);
	memset(e, 0, sizeof(*e));
}

void tg_verdict_cache_free(tg_verdict_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->cap; i++)
		entry_clear(&c->entries[i]);
	free(c->entries);
	free(c);
}

void tg_verdict_cache_clear(tg_verdict_cache *c)
{
	size_t i;

	for (i = 0; i < c->cap; i++)
		entry_clear(&c->entries[i]);
	c->count = 0;
}

static struct entry *find_slot(const tg_verdict_cache *c,
                               uint64_t h,
                               const char *policy_hash,
                               const char *subject)
{
	size_t i = (size_t)h & (c->cap - 1);

	for (;;) {
		struct entry *e = &c->entries[i];

		if (!e->verdict)
			return e;
		if (e->hash == h && !strcmp(e->subject, subject) &&
		    !strcmp(e->policy_hash, policy_hash))
			return e;
		i = (i + 1) & (c->cap - 1);
	}
}

/* Whether e may be served at now: within the TTL and up to the earliest
 * time its verdict depended on (an exception's expiry, a scan or image
 * age, a certificate checked at the current time). */
static bool
entry_fresh(const tg_verdict_cache *c, const struct entry *e, int64_t now)
{
	return now >= e->stamp && now - e->stamp <= c->ttl && now <= e->until;
}

/* Re-insert every live entry into a table of new_cap slots, dropping those
 * past the TTL at now (now 0: keep all). An entry past its validUntil but
 * within the TTL stays, never served: the lookup hands it back so the
 * caller can say why it verified again. */
static void rehash(tg_verdict_cache *c, size_t new_cap, int64_t now)
{
	struct entry *old = c->entries;
	size_t old_cap = c->cap, i;

	c->entries = tg_calloc(new_cap, sizeof(*c->entries));
	c->cap = new_cap;
	c->count = 0;
	for (i = 0; i < old_cap; i++) {
		struct entry *e = &old[i], *slot;

		if (!e->verdict)
			continue;
		if (now && (now - e->stamp > c->ttl || now < e->stamp)) {
			entry_clear(e);
			continue;
		}
		slot = find_slot(c, e->hash, e->policy_hash, e->subject);
		*slot = *e;
		c->count++;
	}
	free(old);
}

tg_verdict *tg_verdict_cache_get(tg_verdict_cache *c,
                                 const char *policy_hash,
                                 const char *subject,
                                 int64_t now,
                                 tg_verdict **expired_out)
{
	struct entry *e = find_slot(c, key_hash(policy_hash, subject),
	                            policy_hash, subject);
	tg_verdict *copy = NULL;

	if (expired_out)
		*expired_out = NULL;
	if (!e->verdict)
		return NULL;
	if (!entry_fresh(c, e, now)) {
		/* Past what it depended on: the caller may say why it
		 * verifies again (a copy that fails only loses that). */
		if (expired_out && now > e->until && now - e->stamp <= c->ttl &&
		    tg_verdict_dup(expired_out, e->verdict) < 0)
			*expired_out = NULL;
		return NULL;
	}
	/* A copy that fails is a miss: the image is verified again. */
	if (tg_verdict_dup(&copy, e->verdict) < 0)
		return NULL;
	return copy;
}

void tg_verdict_cache_put(tg_verdict_cache *c,
                          const char *policy_hash,
                          const char *subject,
                          const tg_verdict *v,
                          int64_t now)
{
	uint64_t h = key_hash(policy_hash, subject);
	struct entry *e;
	tg_verdict *copy = NULL;

	if (c->count >= TG_MAX_VERDICT_CACHE_ENTRIES)
		rehash(c, c->cap, now);
	if (c->count >= TG_MAX_VERDICT_CACHE_ENTRIES)
		return; /* full of fresh entries: verifying again is safe */
	/* A copy that fails is not kept: verifying again is safe. */
	if (tg_verdict_dup(&copy, v) < 0)
		return;
	if ((c->count + 1) * 2 > c->cap)
		rehash(c, c->cap * 2, 0);
	e = find_slot(c, h, policy_hash, subject);
	if (e->verdict) {
		tg_verdict_free(e->verdict);
	} else {
		e->policy_hash = tg_strdup(policy_hash);
		e->subject = tg_strdup(subject);
		e->hash = h;
		c->count++;
	}
	e->verdict = copy;
	e->stamp = now;
	e->until = tg_verdict_valid_until(v, NULL, NULL);
}

size_t tg_verdict_cache_count(const tg_verdict_cache *c)
{
	return c->count;
}

void tg_verdict_cache_expire(tg_verdict_cache *c, int64_t now)
{
	rehash(c, c->cap, now);
}

/* Entries in the file go by policy hash, then subject: the table's slot
 * order depends on the order of insertion, so saving what was loaded
 * would otherwise shuffle the file. */
static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a;
	const struct entry *y = *(const struct entry *const *)b;
	int r = strcmp(x->policy_hash, y->policy_hash);

	return r ? r : strcmp(x->subject, y->subject);
}

int tg_verdict_cache_save(const tg_verdict_cache *c, const char *path)
{
	json_t *root = json_object(), *arr = json_array();
	const struct entry **sorted;
	char *text = NULL;
	size_t i, n = 0;
	int error;

	sorted = tg_calloc(c->count ? c->count : 1, sizeof(*sorted));
	for (i = 0; i < c->cap && n < c->count; i++)
		if (c->entries[i].verdict)
			sorted[n++] = &c->entries[i];
	tg_qsort(sorted, n, sizeof(*sorted), entry_cmp);
	for (i = 0; i < n; i++) {
		const struct entry *e = sorted[i];

		/* validUntil: null when nothing but the TTL bounds it. */
		json_array_append_new(
		        arr,
		        json_pack("{s:s, s:s, s:I, s:o, s:o}", "policyHash",
		                  e->policy_hash, "subject", e->subject,
		                  "storedAt", (json_int_t)e->stamp,
		                  "validUntil",
		                  e->until == TG_TIME_NEVER
		                          ? json_null()
		                          : json_integer((json_int_t)e->until),
		                  "verdict", tg_verdict_to_json(e->verdict)));
	}
	free(sorted);
	json_object_set_new(root, "version", json_string(CACHE_FILE_VERSION));
	json_object_set_new(root, "entries", arr);
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!text)
		return tg_error_set(TG_ERROR, "%s: cannot encode the cache",
		                    path);
	error = tg_file_write_atomic(path, text, strlen(text));
	free(text);
	return error;
}

/* The stored validUntil of an entry: 0 with *out (TG_TIME_NEVER for
 * null); 1 when the entry has none (written before the cache kept it: it
 * is treated as expired); TG_EPARSE for another type. */
static int load_until(int64_t *out, const json_t *e)
{
	json_t *u = json_object_get(e, "validUntil");

	if (!u)
		return 1;
	if (json_is_null(u)) {
		*out = TG_TIME_NEVER;
		return 0;
	}
	if (!json_is_integer(u))
		return tg_error_set(TG_EPARSE, "validUntil is not an integer");
	*out = json_integer_value(u);
	return 0;
}

static int load_entry(tg_verdict_cache *c, const json_t *e, int64_t now)
{
	json_t *ph = json_object_get(e, "policyHash"),
	       *subj = json_object_get(e, "subject"),
	       *at = json_object_get(e, "storedAt");
	tg_verdict *v = NULL;
	struct entry *slot;
	int64_t stamp, until = 0;
	int error;

	if (!json_is_string(ph) || !json_is_string(subj) ||
	    !json_is_integer(at))
		return tg_error_set(TG_EPARSE, "entry without policyHash, "
		                               "subject or storedAt");
	if ((error = load_until(&until, e)) != 0)
		return error < 0 ? error : 0;
	stamp = json_integer_value(at);
	/* Not now - stamp: a stamp from the file may be any 64-bit value,
	 * and the difference must not overflow (now and ttl are >= 0). */
	if (stamp > now || stamp < now - c->ttl)
		return 0;
	if (tg_verdict_from_json(&v, json_object_get(e, "verdict")) < 0)
		return TG_EPARSE;
	tg_verdict_cache_put(c, json_string_value(ph), json_string_value(subj),
	                     v, stamp);
	tg_verdict_free(v);
	/* The stored bound and the one its checks give: the earlier
	 * holds, so neither an edited entry nor an edited verdict extends
	 * it. */
	slot = find_slot(
	        c, key_hash(json_string_value(ph), json_string_value(subj)),
	        json_string_value(ph), json_string_value(subj));
	if (slot->verdict && until < slot->until)
		slot->until = until;
	return 0;
}

int tg_verdict_cache_load(tg_verdict_cache *c, const char *path, int64_t now)
{
	char *data = NULL;
	size_t len = 0, i;
	json_t *root = NULL, *arr, *e, *ver;
	json_error_t jerr;
	int error;

	error = tg_file_read(&data, &len, path, TG_MAX_BLOB_BYTES);
	if (error == TG_ENOTFOUND)
		return 0;
	if (error < 0)
		return error;
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	free(data);
	if (!root)
		return tg_error_set(TG_EPARSE, "%s:%d:%d: %s", path, jerr.line,
		                    jerr.column, jerr.text);
	ver = json_object_get(root, "version");
	arr = json_object_get(root, "entries");
	if (!json_is_string(ver) ||
	    strcmp(json_string_value(ver), CACHE_FILE_VERSION) ||
	    !json_is_array(arr)) {
		error = tg_error_set(TG_EPARSE,
		                     "%s: not a verdict cache (version %s)",
		                     path, CACHE_FILE_VERSION);
		goto out;
	}
	json_array_foreach(arr, i, e) {
		if ((error = load_entry(c, e, now)) < 0) {
			error = tg_error_prefix(TG_EPARSE, "%s: entry %zu",
			                        path, i + 1);
			goto out;
		}
	}
	error = 0;
out:
	json_decref(root);
	return error;
}
