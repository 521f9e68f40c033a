/*
 * The previous status in digests (statusdoc_int.h): what publishing needs
 * of the status.json at the tip to decide whether anything of substance
 * changed and to write the commit message, without holding that document
 * as a tree beside the new one (a 6 MiB status.json is 24 MiB of jansson
 * nodes at 10,000 objects).
 *
 * A digest is SHA-256 over an unambiguous encoding of a JSON value:
 * object members in key order, every string with its length. "In
 * substance" leaves out the volatile members (time, timestamp,
 * durationMs, *At) at every depth and reads a unit's verdict "unchanged"
 * as "applied", so two values have the same substance digest exactly when
 * the comparison in status.h calls them the same; "plain" digests keep
 * everything (json_equal).
 *
 * The status.json at the tip is read unit by unit: the text of each value
 * is delimited by a scan, then parsed alone (duplicate keys refused as
 * before), digested and freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "statusdoc_int.h"
#include "tollgate/util.h"

/* ---- Digests ----------------------------------------------------- */

enum dmode { D_PLAIN, D_SUBSTANCE, D_UNIT };

static bool is_volatile_key(const char *k)
{
	return !strcmp(k, "time") || !strcmp(k, "timestamp") ||
	       !strcmp(k, "durationMs") || tg_str_has_suffix(k, "At");
}

/* SHA-256 fed through a buffer: a status of 10,000 objects is some
 * 500,000 small pieces, each an EVP call otherwise. The bytes hashed are
 * the same. */
typedef struct hasher {
	EVP_MD_CTX *md;
	size_t n;
	unsigned char buf[8192];
} hasher;

static void flush(hasher *c)
{
	(void)EVP_DigestUpdate(c->md, c->buf, c->n);
	c->n = 0;
}

static void put(hasher *c, const void *p, size_t n)
{
	if (n > sizeof(c->buf) - c->n) {
		flush(c);
		if (n > sizeof(c->buf)) {
			(void)EVP_DigestUpdate(c->md, p, n);
			return;
		}
	}
	memcpy(c->buf + c->n, p, n);
	c->n += n;
}

/* tag, the decimal length, ':' and the bytes ("%c%zu:" then s). */
static void put_str(hasher *c, char tag, const char *s, size_t n)
{
	char head[32], *p = head + sizeof(head);
	size_t v = n;

	*--p = ':';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	*--p = tag;
	put(c, p, (size_t)(head + sizeof(head) - p));
	put(c, s, n);
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void hash_value(hasher *c, const json_t *v, enum dmode m);

/* Members in key order; volatile ones left out in substance; a unit's
 * verdict "unchanged" as "applied". */
static void hash_object(hasher *c, const json_t *o, enum dmode m)
{
	size_t n = json_object_size(o), i = 0;
	const char **keys = tg_calloc(n + 1, sizeof(*keys)), *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v)
		if (m == D_PLAIN || !is_volatile_key(k))
			keys[i++] = k;
	tg_qsort(keys, i, sizeof(*keys), key_cmp);
	put(c, "{", 1);
	for (n = i, i = 0; i < n; i++) {
		const json_t *mv = json_object_get(o, keys[i]);
		const char *s = json_string_value(mv);

		put_str(c, 'k', keys[i], strlen(keys[i]));
		if (m == D_UNIT && !strcmp(keys[i], "verdict") && s &&
		    !strcmp(s, "unchanged"))
			put_str(c, 's', "applied", 7);
		else
			hash_value(c, mv, m == D_PLAIN ? D_PLAIN : D_SUBSTANCE);
	}
	put(c, "}", 1);
	free(keys);
}

static void hash_value(hasher *c, const json_t *v, enum dmode m)
{
	char num[48];
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		hash_object(c, v, m);
		return;
	case JSON_ARRAY:
		put(c, "[", 1);
		for (i = 0; i < json_array_size(v); i++)
			hash_value(c, json_array_get(v, i),
			           m == D_PLAIN ? D_PLAIN : D_SUBSTANCE);
		put(c, "]", 1);
		return;
	case JSON_STRING:
		put_str(c, 's', json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		put_str(c, 'i', num,
		        (size_t)snprintf(num, sizeof(num),
		                         "%" JSON_INTEGER_FORMAT,
		                         json_integer_value(v)));
		return;
	case JSON_REAL:
		put_str(c, 'r', num,
		        (size_t)snprintf(num, sizeof(num), "%.17g",
		                         json_real_value(v)));
		return;
	default:
		put(c, json_is_true(v) ? "t" : json_is_false(v) ? "f" : "n", 1);
	}
}

static void digest(unsigned char out[TG_SHA256_LEN], const json_t *v, int m)
{
	hasher *c = tg_malloc(sizeof(*c));
	unsigned int n = 0;

	if (!(c->md = EVP_MD_CTX_new()))
		tg_oom(sizeof(void *));
	c->n = 0;
	(void)EVP_DigestInit_ex(c->md, EVP_sha256(), NULL);
	hash_value(c, v, (enum dmode)m);
	flush(c);
	(void)EVP_DigestFinal_ex(c->md, out, &n);
	EVP_MD_CTX_free(c->md);
	free(c);
}

/* ---- The summary ------------------------------------------------- */

void tg_statusprev_free(tg_statusprev *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nunits; i++)
		free(p->units[i].name);
	for (i = 0; i < p->ntop; i++)
		free(p->top[i].name);
	free(p->units);
	free(p->top);
	free(p->commit);
	free(p->digest);
	free(p);
}

void tg_statusprev_push(tg_statusprev_entry **e,
                        size_t *n,
                        const char *name,
                        const unsigned char d[TG_SHA256_LEN])
{
	/* Grown in steps of 64: the units of a document number hundreds. */
	if (*n % 64 == 0)
		*e = tg_realloc(*e, (*n + 64) * sizeof(**e));
	(*e)[*n].name = tg_strdup(name);
	memcpy((*e)[*n].d, d, TG_SHA256_LEN);
	(*n)++;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const tg_statusprev_entry *)a)->name,
	              ((const tg_statusprev_entry *)b)->name);
}

/* Sort; false when a name is there twice. */
static bool sort_unique(tg_statusprev_entry *e, size_t n)
{
	size_t i;

	if (n)
		tg_qsort(e, n, sizeof(*e), entry_cmp);
	for (i = 1; i < n; i++)
		if (!strcmp(e[i - 1].name, e[i].name))
			return false;
	return true;
}

bool tg_statusprev_finish(tg_statusprev *p)
{
	return sort_unique(p->units, p->nunits) && sort_unique(p->top, p->ntop);
}

/* The plain digests the message compares: drift, violations and an OCI
 * source's artifact with its digest and verdict. */
static void note_plain(tg_statusprev *p, const char *k, const json_t *v)
{
	static const char *const names[TG_STATUSPREV_PLAIN_N] = { "drift",
		                                                  "violations",
		                                                  "artifact" };
	int i;

	for (i = 0; i < TG_STATUSPREV_PLAIN_N; i++) {
		if (strcmp(k, names[i]))
			continue;
		p->plain[i].has = true;
		digest(p->plain[i].d, v, D_PLAIN);
	}
	if (strcmp(k, "artifact"))
		return;
	if ((p->art_digest.has = json_object_get(v, "digest") != NULL))
		digest(p->art_digest.d, json_object_get(v, "digest"), D_PLAIN);
	if ((p->art_verdict.has = json_object_get(v, "verdict") != NULL))
		digest(p->art_verdict.d, json_object_get(v, "verdict"),
		       D_PLAIN);
}

/* Member k (not "units") of the document. */
static void add_member(tg_statusprev *p, const char *k, const json_t *v)
{
	unsigned char d[TG_SHA256_LEN];

	if (!strcmp(k, "sourceCommit") && json_is_string(v)) {
		free(p->commit);
		p->commit = tg_strdup(json_string_value(v));
	} else if (!strcmp(k, "sourceDigest") && json_is_string(v)) {
		free(p->digest);
		p->digest = tg_strdup(json_string_value(v));
	}
	note_plain(p, k, v);
	if (is_volatile_key(k))
		return;
	digest(d, v, D_SUBSTANCE);
	tg_statusprev_push(&p->top, &p->ntop, k, d);
}

static void add_unit(tg_statusprev *p, const char *name, const json_t *u)
{
	unsigned char d[TG_SHA256_LEN];

	digest(d, u, D_UNIT);
	tg_statusprev_push(&p->units, &p->nunits, name, d);
}

/* A document's "units" member that is no object is digested as a member
 * like the others, so that it still compares. */
static bool units_member(const char *k, const json_t *v)
{
	return !strcmp(k, "units") && json_is_object(v);
}

tg_statusprev *tg_statusprev_of(const json_t *doc)
{
	tg_statusprev *p;
	const char *k, *name;
	json_t *v, *u;

	if (!json_is_object(doc))
		return NULL;
	p = tg_calloc(1, sizeof(*p));
	json_object_foreach((json_t *)doc, k, v) {
		if (!units_member(k, v)) {
			add_member(p, k, v);
			continue;
		}
		p->has_units = true;
		json_object_foreach(v, name, u)
			add_unit(p, name, u);
	}
	(void)tg_statusprev_finish(p); /* a tree has no duplicate keys */
	return p;
}

const char *tg_statusprev_source(const tg_statusprev *p)
{
	if (!p)
		return NULL;
	return p->commit ? p->commit : p->digest;
}

const unsigned char *tg_statusprev_unit(const tg_statusprev *p,
                                        const char *name)
{
	tg_statusprev_entry probe, *e;

	if (!p || !p->nunits)
		return NULL;
	probe.name = (char *)name;
	e = tg_bsearch(&probe, p->units, p->nunits, sizeof(*e), entry_cmp);
	return e ? e->d : NULL;
}

/* Every entry, name and digest. The units are all compared: a unit's
 * name comes from the deploy repository, and one named "time" or
 * "rolloutAt" is a unit like any other (volatile members were left out
 * of the top entries when they were made). */
static bool same_entries(const tg_statusprev_entry *a,
                         size_t na,
                         const tg_statusprev_entry *b,
                         size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (strcmp(a[i].name, b[i].name) ||
		    memcmp(a[i].d, b[i].d, TG_SHA256_LEN))
			return false;
	return true;
}

bool tg_statusprev_same(const tg_statusprev *a, const tg_statusprev *b)
{
	if (!a || !b)
		return a == b;
	return a->has_units == b->has_units &&
	       same_entries(a->top, a->ntop, b->top, b->ntop) &&
	       same_entries(a->units, a->nunits, b->units, b->nunits);
}

/* As json_equal: false when either is missing. */
static bool plain_eq(const tg_statusprev_plain *a, const tg_statusprev_plain *b)
{
	return a->has && b->has && !memcmp(a->d, b->d, TG_SHA256_LEN);
}

bool tg_statusprev_plain_equal(const tg_statusprev *a,
                               const tg_statusprev *b,
                               int which)
{
	return a && b && plain_eq(&a->plain[which], &b->plain[which]);
}

bool tg_statusprev_artifact_changed(const tg_statusprev *prev,
                                    const tg_statusprev *cur)
{
	if (!cur || !cur->plain[TG_STATUSPREV_ARTIFACT].has)
		return false;
	return !(prev && prev->plain[TG_STATUSPREV_ARTIFACT].has &&
	         plain_eq(&prev->art_digest, &cur->art_digest) &&
	         plain_eq(&prev->art_verdict, &cur->art_verdict));
}

/* ---- Reading status.json unit by unit ----------------------------- */

typedef struct scan {
	const char *s;
	size_t len, pos;
} scan;

static void skip_ws(scan *sc)
{
	while (sc->pos < sc->len && strchr(" \t\r\n", sc->s[sc->pos]) &&
	       sc->s[sc->pos])
		sc->pos++;
}

static bool expect(scan *sc, char c)
{
	skip_ws(sc);
	if (sc->pos >= sc->len || sc->s[sc->pos] != c)
		return false;
	sc->pos++;
	return true;
}

/* Past the string that starts at sc->pos (its opening quote). */
static bool skip_string(scan *sc)
{
	for (sc->pos++; sc->pos < sc->len; sc->pos++) {
		if (sc->s[sc->pos] == '\\')
			sc->pos++;
		else if (sc->s[sc->pos] == '"')
			return ++sc->pos <= sc->len;
	}
	return false;
}

/* Past the value that starts at sc->pos: only its extent is found here;
 * jansson parses (and checks) it afterwards. The value sits at depth
 * outer in the document: one nested deeper than jansson parses a whole
 * document is refused, as it was. */
static bool skip_value(scan *sc, size_t outer)
{
	size_t depth = 0;

	while (sc->pos < sc->len) {
		char c = sc->s[sc->pos];

		if (c == '"') {
			if (!skip_string(sc))
				return false;
			if (!depth)
				return true;
			continue;
		}
		if ((c == '{' || c == '[') &&
		    ++depth + outer > JSON_PARSER_MAX_DEPTH)
			return false;
		if ((c == '}' || c == ']') && depth)
			depth--;
		else if (!depth && c != '\0' && strchr(",:}] \t\r\n", c))
			return true; /* the end of a number or literal */
		sc->pos++;
		if (!depth && (c == '}' || c == ']'))
			return true;
	}
	return depth == 0;
}

/* The next value, at depth outer, parsed alone; NULL when it is not
 * JSON. */
static json_t *next_value(scan *sc, size_t outer)
{
	size_t start;
	json_error_t jerr;

	skip_ws(sc);
	start = sc->pos;
	if (!skip_value(sc, outer) || sc->pos == start)
		return NULL;
	return json_loadb(sc->s + start, sc->pos - start,
	                  JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
}

/* Each member of the object at sc->pos: cb(ctx, key, value). */
typedef bool (*member_fn)(void *ctx, scan *sc, const char *key);

static bool each_member(scan *sc, member_fn cb, void *ctx)
{
	bool first = true;

	if (!expect(sc, '{'))
		return false;
	for (;;) {
		json_t *k;
		bool ok;

		if (first && expect(sc, '}'))
			return true;
		if (!first && !expect(sc, ','))
			return expect(sc, '}');
		first = false;
		k = next_value(sc, 0);
		ok = json_is_string(k) && expect(sc, ':') &&
		     cb(ctx, sc, json_string_value(k));
		json_decref(k);
		if (!ok)
			return false;
	}
}

/* What reading one document keeps: the summary, the top-level keys
 * seen (a key twice makes it no JSON for tollgate, as before). */
typedef struct parse_ctx {
	tg_statusprev *p;
	json_t *seen;
} parse_ctx;

static bool on_unit(void *ctx, scan *sc, const char *name)
{
	json_t *u = next_value(sc, 2);

	if (!u)
		return false;
	add_unit(ctx, name, u);
	json_decref(u);
	return true;
}

static bool on_member(void *ctx, scan *sc, const char *key)
{
	parse_ctx *pc = ctx;
	scan peek = *sc;
	json_t *v;

	if (json_object_get(pc->seen, key))
		return false;
	json_object_set_new(pc->seen, key, json_true());
	skip_ws(&peek);
	if (!strcmp(key, "units") && peek.pos < peek.len &&
	    peek.s[peek.pos] == '{') {
		pc->p->has_units = true;
		return each_member(sc, on_unit, pc->p);
	}
	if (!(v = next_value(sc, 1)))
		return false;
	add_member(pc->p, key, v);
	json_decref(v);
	return true;
}

tg_statusprev *tg_statusprev_parse(const char *text, size_t len)
{
	scan sc = { text, len, 0 };
	parse_ctx pc = { tg_calloc(1, sizeof(tg_statusprev)), json_object() };
	bool ok = each_member(&sc, on_member, &pc);

	json_decref(pc.seen);
	skip_ws(&sc);
	if (ok && sc.pos == len && tg_statusprev_finish(pc.p))
		return pc.p;
	/* Not JSON, or a key twice: as if there were no status yet. */
	tg_statusprev_free(pc.p);
	return NULL;
}
