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

/* Bytes that end a plain run inside a string: the closing quote, a
 * backslash and the control characters JSON forbids there. */
static const unsigned char string_stop[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
	[0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
	[0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
	[0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
	[0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
	[0x1e] = 1, [0x1f] = 1, ['"'] = 1,  ['\\'] = 1,
};

/* The characters of numbers and of true, false and null. */
static const unsigned char scalar_char[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['+'] = 1, ['-'] = 1,
	['.'] = 1, ['e'] = 1, ['E'] = 1, ['t'] = 1, ['r'] = 1, ['u'] = 1,
	['f'] = 1, ['a'] = 1, ['l'] = 1, ['s'] = 1, ['n'] = 1,
};

/* A string at s->p ('"' included); its content in [*start, *start+*len),
 * *escaped when it holds a backslash. Plain runs are skipped with one
 * table look-up per byte (a list of 10,000 objects is megabytes of
 * strings, scanned on every cycle). */
static bool string_at(scan *s, const char **start, size_t *len, bool *escaped)
{
	const char *q, *p, *end = s->end;

	ws(s);
	if (s->p >= end || *s->p != '"')
		return false;
	q = p = s->p + 1;
	*escaped = false;
	for (;;) {
		while (p < end && !string_stop[(unsigned char)*p])
			p++;
		if (p >= end || *p == '"')
			break;
		if (*p != '\\') {
			s->p = p; /* a control character */
			return false;
		}
		*escaped = true;
		if (++p >= end) {
			s->p = p;
			return false;
		}
		p++;
	}
	s->p = p;
	if (p >= end)
		return false;
	*start = q;
	*len = (size_t)(p - q);
	s->p++;
	return true;
}

/* A scalar other than a string: a run of number or literal characters. */
static bool scalar_at(scan *s)
{
	const char *q = s->p;

	while (s->p < s->end && scalar_char[(unsigned char)*s->p])
		s->p++;
	return s->p > q;
}

/* Skip one value of any type, nesting matched with a stack of closers;
 * the value sits base levels deep in an item, whose nesting as a whole
 * is at most TG_KUBE_SCAN_MAX_DEPTH. */
static bool skip_nested(scan *s, size_t base)
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
			if (depth + base >= sizeof(stack))
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

static bool skip_value(scan *s)
{
	return skip_nested(s, 0);
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
	return skip_nested(s, 2);
}

static bool
item_member(scan *s, const char *key, size_t klen, bool escaped, void *ctx)
{
	peek_ctx *pc = ctx;

	if (escaped)
		pc->ok = false;
	if (!key_is(key, klen, "metadata"))
		return skip_nested(s, 1);
	if (pc->seen & (1u << 8))
		pc->ok = false;
	pc->seen |= 1u << 8;
	return members(s, meta_member, pc);
}

/* The item at s->p read as an object with its identity peeked: true
 * when it is one (s->p after it), *peeked as kube_scan_peek() says. */
static bool peek_item(scan *s, tg_kube_list_peek *out, bool *peeked)
{
	peek_ctx pc = { out, 0, true };

	memset(out, 0, sizeof(*out));
	*peeked = false;
	if (!members(s, item_member, &pc))
		return false;
	/* name, uid and resourceVersion are required; namespace is not. */
	*peeked = pc.ok && (pc.seen & 0x10d) == 0x10d;
	return true;
}

bool kube_scan_peek(tg_kube_list_peek *out, const char *item, size_t len)
{
	scan s = { item, item + len };
	bool peeked;

	return peek_item(&s, out, &peeked) && peeked;
}

/* Page --------------------------------------------------------------------- */

typedef struct page_ctx {
	kube_scan_item_fn fn;
	kube_scan_peeked_fn pfn; /* instead of fn, with each item's peek */
	void *ctx;
	const char *meta; /* the page's metadata value */
	size_t meta_len;
	unsigned seen;
	int error; /* of fn */
} page_ctx;

/* One item for pc->pfn, scanned once for its end and its identity:
 * read as an object (peeked), or else skipped as any value (the item's
 * nesting is limited alike, so the same pages pass). */
static bool scan_item(scan *s, page_ctx *pc, const char *start)
{
	tg_kube_list_peek peek;
	bool peeked;

	if (!peek_item(s, &peek, &peeked)) {
		s->p = start;
		peeked = false;
		if (!skip_value(s))
			return false;
	}
	pc->error = pc->pfn(pc->ctx, start, (size_t)(s->p - start),
	                    peeked ? &peek : NULL);
	return pc->error >= 0;
}

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
		if (pc->pfn) {
			if (!scan_item(s, pc, start))
				return false;
		} else if (!skip_value(s) ||
		           (pc->error = pc->fn(pc->ctx, start,
		                               (size_t)(s->p - start))) < 0) {
			return false;
		}
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

static int scan_page(const char **meta,
                     size_t *meta_len,
                     const char *body,
                     size_t len,
                     page_ctx *ctx)
{
	scan s = { body, body + len };
	page_ctx pc = *ctx;
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

int kube_scan_page(const char **meta,
                   size_t *meta_len,
                   const char *body,
                   size_t len,
                   kube_scan_item_fn fn,
                   void *ctx)
{
	page_ctx pc = { fn, NULL, ctx, NULL, 0, 0, 0 };

	return scan_page(meta, meta_len, body, len, &pc);
}

int kube_scan_page_peeked(const char **meta,
                          size_t *meta_len,
                          const char *body,
                          size_t len,
                          kube_scan_peeked_fn fn,
                          void *ctx)
{
	page_ctx pc = { NULL, fn, ctx, NULL, 0, 0, 0 };

	return scan_page(meta, meta_len, body, len, &pc);
}
