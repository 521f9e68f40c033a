/*
 * A scanner for LIST pages: finds where each element of "items" begins
 * and ends, and the page's metadata, without building a tree of the
 * page, so that a page is parsed one item at a time (each item by
 * jansson) and an item can be left unparsed when its identity and
 * resourceVersion (peeked here) say the caller has seen it already.
 *
 * It follows the JSON grammar (RFC 8259) far enough to find the end of
 * every value: strings with their escapes, nesting of objects and arrays
 * (matched, at most TG_KUBE_SCAN_MAX_DEPTH deep), scalars as runs of
 * their characters. Items handed on are parsed by jansson, which checks
 * the rest; anything the scanner does not understand fails the page.
 */
#include <string.h>

#include "kube_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"

typedef struct scan {
	const char *p, *end;
} scan;

static void ws(scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	                         *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* Expect c after white space. */
static bool eat(scan *s, char c)
{
	ws(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return true;
	}
	return false;
}

/* A string at s->p ('"' included); its content in [*start, *start+*len),
 * *escaped when it holds a backslash. */
static bool string_at(scan *s, const char **start, size_t *len, bool *escaped)
{
	const char *q;

	ws(s);
	if (s->p >= s->end || *s->p != '"')
		return false;
	q = ++s->p;
	*escaped = false;
	while (s->p < s->end && *s->p != '"') {
		if ((unsigned char)*s->p < 0x20)
			return false;
		if (*s->p == '\\') {
			*escaped = true;
			if (++s->p >= s->end)
				return false;
		}
		s->p++;
	}
	if (s->p >= s->end)
		return false;
	*start = q;
	*len = (size_t)(s->p - q);
	s->p++;
	return true;
}

/* A scalar other than a string: a run of number or literal characters. */
static bool scalar_at(scan *s)
{
	const char *q = s->p;

	while (s->p < s->end && strchr("0123456789+-.eEtrufalsn", *s->p) &&
	       *s->p)
		s->p++;
	return s->p > q;
}

/* Skip one value of any type, nesting matched with a stack of closers. */
static bool skip_value(scan *s)
{
	char stack[TG_KUBE_SCAN_MAX_DEPTH];
	size_t depth = 0, len;
	const char *str;
	bool esc;

	do {
		ws(s);
		if (s->p >= s->end)
			return false;
		if (*s->p == '{' || *s->p == '[') {
			if (depth == sizeof(stack))
				return false;
			stack[depth++] = *s->p == '{' ? '}' : ']';
			s->p++;
		} else if (depth && *s->p == stack[depth - 1]) {
			depth--;
			s->p++;
		} else if (*s->p == ',' || *s->p == ':') {
			if (!depth)
				return false;
			s->p++;
		} else if (*s->p == '"' ? !string_at(s, &str, &len, &esc)
		                        : !scalar_at(s)) {
			return false;
		}
	} while (depth);
	return true;
}

/* Call fn for each member of the object at s->p with its key; fn skips
 * or reads the value. False when the object is malformed or fn fails. */
static bool members(scan *s,
                    bool (*fn)(scan *s,
                               const char *key,
                               size_t klen,
                               bool escaped,
                               void *ctx),
                    void *ctx)
{
	const char *key;
	size_t klen;
	bool esc;

	if (!eat(s, '{'))
		return false;
	if (eat(s, '}'))
		return true;
	do {
		if (!string_at(s, &key, &klen, &esc) || !eat(s, ':') ||
		    !fn(s, key, klen, esc, ctx))
			return false;
	} while (eat(s, ','));
	return eat(s, '}');
}

static bool key_is(const char *key, size_t klen, const char *want)
{
	return klen == strlen(want) && !memcmp(key, want, klen);
}

/* Peek --------------------------------------------------------------------- */

typedef struct peek_field {
	const char *name;
	size_t off, cap;
} peek_field;

static const peek_field peek_fields[] = {
	{ "name", offsetof(tg_kube_list_peek, name),
	  sizeof(((tg_kube_list_peek *)0)->name) },
	{ "namespace", offsetof(tg_kube_list_peek, ns),
	  sizeof(((tg_kube_list_peek *)0)->ns) },
	{ "uid", offsetof(tg_kube_list_peek, uid),
	  sizeof(((tg_kube_list_peek *)0)->uid) },
	{ "resourceVersion", offsetof(tg_kube_list_peek, resource_version),
	  sizeof(((tg_kube_list_peek *)0)->resource_version) },
};

typedef struct peek_ctx {
	tg_kube_list_peek *out;
	unsigned seen; /* bit per peek_fields entry, and 1 << 8: metadata */
	bool ok;
} peek_ctx;

/* A metadata member: the peeked fields are copied (plain strings only). */
static bool
meta_member(scan *s, const char *key, size_t klen, bool escaped, void *ctx)
{
	peek_ctx *pc = ctx;
	const char *v;
	size_t i, vlen;
	bool vesc;

	if (escaped)
		pc->ok = false; /* a key that may decode to a peeked one */
	for (i = 0; i < sizeof(peek_fields) / sizeof(peek_fields[0]); i++) {
		const peek_field *f = &peek_fields[i];
		char *dst = (char *)pc->out + f->off;

		if (!key_is(key, klen, f->name))
			continue;
		if (!string_at(s, &v, &vlen, &vesc))
			return false;
		if (vesc || vlen >= f->cap || (pc->seen & (1u << i)))
			pc->ok = false;
		else
			memcpy(dst, v, vlen), dst[vlen] = '\0';
		pc->seen |= 1u << i;
		return true;
	}
	return skip_value(s);
}

static bool
item_member(scan *s, const char *key, size_t klen, bool escaped, void *ctx)
{
	peek_ctx *pc = ctx;

	if (escaped)
		pc->ok = false;
	if (!key_is(key, klen, "metadata"))
		return skip_value(s);
	if (pc->seen & (1u << 8))
		pc->ok = false;
	pc->seen |= 1u << 8;
	return members(s, meta_member, pc);
}

bool kube_scan_peek(tg_kube_list_peek *out, const char *item, size_t len)
{
	scan s = { item, item + len };
	peek_ctx pc = { out, 0, true };

	memset(out, 0, sizeof(*out));
	if (!members(&s, item_member, &pc))
		return false;
	/* name, uid and resourceVersion are required; namespace is not. */
	return pc.ok && (pc.seen & 0x10d) == 0x10d;
}

/* Page --------------------------------------------------------------------- */

typedef struct page_ctx {
	kube_scan_item_fn fn;
	void *ctx;
	const char *meta; /* the page's metadata value */
	size_t meta_len;
	unsigned seen;
	int error; /* of fn */
} page_ctx;

static bool items_array(scan *s, page_ctx *pc)
{
	const char *start;

	ws(s);
	if (s->end - s->p >= 4 && !memcmp(s->p, "null", 4)) {
		s->p += 4;
		return true;
	}
	if (!eat(s, '['))
		return false;
	if (eat(s, ']'))
		return true;
	do {
		ws(s);
		start = s->p;
		if (!skip_value(s))
			return false;
		if ((pc->error = pc->fn(pc->ctx, start,
		                        (size_t)(s->p - start))) < 0)
			return false;
	} while (eat(s, ','));
	return eat(s, ']');
}

static bool
page_member(scan *s, const char *key, size_t klen, bool escaped, void *ctx)
{
	page_ctx *pc = ctx;
	const char *v;
	unsigned bit = key_is(key, klen, "items")      ? 1u
	               : key_is(key, klen, "metadata") ? 2u
	                                               : 0u;

	if (escaped || (pc->seen & bit))
		return false; /* ambiguous: another "items" or "metadata" */
	pc->seen |= bit;
	if (bit == 1u)
		return items_array(s, pc);
	ws(s);
	v = s->p;
	if (!skip_value(s))
		return false;
	if (bit == 2u) {
		pc->meta = v;
		pc->meta_len = (size_t)(s->p - v);
	}
	return true;
}

int kube_scan_page(const char **meta,
                   size_t *meta_len,
                   const char *body,
                   size_t len,
                   kube_scan_item_fn fn,
                   void *ctx)
{
	scan s = { body, body + len };
	page_ctx pc = { fn, ctx, NULL, 0, 0, 0 };
	bool ok = members(&s, page_member, &pc);

	*meta = NULL;
	*meta_len = 0;
	if (ok) {
		ws(&s);
		ok = s.p == s.end;
	}
	if (!ok && pc.error < 0)
		return pc.error;
	if (!ok)
		return tg_error_set(TG_EPARSE,
		                    "list page: malformed JSON near byte %zu",
		                    (size_t)(s.p - body));
	*meta = pc.meta;
	*meta_len = pc.meta_len;
	return 0;
}
