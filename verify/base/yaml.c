/*
 * YAML to jansson over libyaml's event parser: see include/tollgate/yaml.h.
 *
 * One pass over the events with an explicit stack of open mappings and
 * sequences (never deeper than TG_MAX_YAML_DEPTH), so hostile nesting
 * cannot exhaust the C stack. Plain scalars are resolved like go-yaml v2,
 * the YAML library under sigs.k8s.io/yaml that kubectl uses, because the
 * JSON we produce must be the JSON kubectl would send.
 *
 * Aliases insert deep copies of the anchored value: the manifest loader
 * rewrites image fields in place, and a value shared by two parents would
 * be rewritten in both. Every node a copy creates counts against
 * TG_MAX_YAML_ALIAS_NODES before the copy is made, which stops "billion
 * laughs" documents after at most that many nodes.
 *
 * Positions (TG_YAML_POSITIONS) live in a tree parallel to the JSON,
 * allocated from one arena per tg_yaml_docs; alias copies share the
 * anchored node's position subtree, so positions point at the text the
 * user wrote.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

/* Plain scalars longer than this are never numbers (go-yaml would read a
 * 500-digit decimal as a float; nothing real writes one). */
#define NUMBER_MAX_CHARS 500

/* Arena chunk size for position nodes. */
#define ARENA_CHUNK (64u * 1024)

/* Positions ----------------------------------------------------------- */

struct pos;

struct pos_kid {
	const char *key; /* arena copy; NULL in a sequence */
	size_t keylen;
	unsigned line, col; /* of the key, or of the element in a sequence */
	struct pos *node;   /* NULL for scalars */
};

struct pos {
	bool is_map;
	size_t n, cap;
	struct pos_kid *kids;
};

struct arena {
	struct arena *next;
	size_t used, cap;
	max_align_t data[];
};

struct doc {
	json_t *val;
	unsigned line, col;
	struct pos *pos;
};

struct tg_yaml_docs {
	size_t n, cap;
	struct doc *v;
	struct arena *arena;
};

/* Parser state ---------------------------------------------------------- */

enum { F_SEQ, F_MAP };

struct merge_src {
	json_t *obj; /* owned reference */
	struct pos *pos;
};

struct frame {
	int kind;
	json_t *val; /* owned until attached to its parent */
	struct pos *pos;
	char *anchor; /* registered when the container ends */
	size_t nodes_start, bytes_start;
	unsigned height; /* greatest height of a child */
	unsigned line, col;
	/* mappings: the key waiting for its value */
	tg_buf key;
	bool have_key, key_merge;
	unsigned kline, kcol;
	struct merge_src *merges;
	size_t n_merges, cap_merges;
};

struct anchor {
	char *name;
	json_t *val;
	struct pos *pos;
	size_t nodes, bytes;
	unsigned height;
};

struct yp {
	const char *name;
	const char *data;
	size_t len;
	unsigned flags;
	tg_yaml_docs *docs;
	struct frame *stack;
	size_t depth;
	size_t max_depth;   /* frames used so far, for cleanup */
	size_t nodes;       /* nodes created in this document */
	size_t file_nodes;  /* nodes created in the file */
	size_t alias_nodes; /* nodes created by alias copies in the file */
	size_t bytes;       /* scalar bytes (keys too) in this document */
	size_t alias_bytes; /* scalar bytes copied by aliases in the file */
	struct anchor *anchors;
	size_t n_anchors, cap_anchors, anchors_total;
	json_t *anchor_index; /* name -> index into anchors */
	size_t n_docs;
	json_t *root;
	struct pos *root_pos;
	unsigned root_line, root_col;
	unsigned doc_line, doc_col; /* of the "---", or the first token */
};

/* A scalar resolved to its YAML type. */
enum { R_NULL, R_BOOL, R_INT, R_UINT, R_FLOAT, R_STR };

struct resolved {
	int kind;
	bool b;
	int64_t i;
	uint64_t u;
	double d;
};

static int yp_error(struct yp *p,
                    int code,
                    unsigned line,
                    unsigned col,
                    const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));

/* Record "name:line:col: detail" and return code. */
static int yp_error(struct yp *p,
                    int code,
                    unsigned line,
                    unsigned col,
                    const char *fmt,
                    ...)
{
	char msg[TG_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return tg_error_set(code, "%s:%u:%u: %s", p->name, line, col, msg);
}

/* Arena ------------------------------------------------------------------ */

static void *arena_alloc(tg_yaml_docs *docs, size_t n)
{
	struct arena *a = docs->arena;
	size_t size =
	        (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	void *p;

	if (!a || a->cap - a->used < size) {
		size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;

		a = tg_malloc(sizeof(*a) + cap);
		a->used = 0;
		a->cap = cap;
		/* A big block goes behind the current chunk so the current
		 * chunk's free space is not lost. */
		if (docs->arena && size > ARENA_CHUNK) {
			a->next = docs->arena->next;
			docs->arena->next = a;
		} else {
			a->next = docs->arena;
			docs->arena = a;
		}
	}
	p = (char *)a->data + a->used;
	a->used += size;
	memset(p, 0, n);
	return p;
}

static struct pos *pos_new(tg_yaml_docs *docs, bool is_map)
{
	struct pos *ps = arena_alloc(docs, sizeof(*ps));

	ps->is_map = is_map;
	return ps;
}

/* Append a child position; key is copied into the arena. */
static void pos_add(tg_yaml_docs *docs,
                    struct pos *ps,
                    const char *key,
                    size_t keylen,
                    unsigned line,
                    unsigned col,
                    struct pos *node)
{
	struct pos_kid *k;

	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 4;
		struct pos_kid *kids = arena_alloc(docs, cap * sizeof(*kids));

		if (ps->n)
			memcpy(kids, ps->kids, ps->n * sizeof(*kids));
		ps->kids = kids;
		ps->cap = cap;
	}
	k = &ps->kids[ps->n++];
	if (key) {
		char *copy = arena_alloc(docs, keylen + 1);

		memcpy(copy, key, keylen);
		k->key = copy;
		k->keylen = keylen;
	}
	k->line = line;
	k->col = col;
	k->node = node;
}

static const struct pos_kid *
pos_find_key(const struct pos *ps, const char *key, size_t keylen)
{
	size_t i;

	if (!ps || !ps->is_map)
		return NULL;
	for (i = 0; i < ps->n; i++)
		if (ps->kids[i].keylen == keylen &&
		    memcmp(ps->kids[i].key, key, keylen) == 0)
			return &ps->kids[i];
	return NULL;
}

/* Scalar resolution (go-yaml v2 rules) ---------------------------------- */

/*
 * The fixed words of YAML 1.1 as go-yaml v2 lists them. go-yaml (and the
 * YAML 1.1 bool type) include y/Y/n/N, which python3-yaml does not.
 */
enum { W_TRUE, W_FALSE, W_NULL, W_NAN, W_INF, W_NINF };

struct word {
	const char *s;
	size_t len;
	int kind;
};

#define WORD(s, kind)                                                          \
	{                                                                      \
		s, sizeof(s) - 1, kind                                         \
	}

static const struct word words[] = {
	WORD("y", W_TRUE),      WORD("Y", W_TRUE),      WORD("yes", W_TRUE),
	WORD("Yes", W_TRUE),    WORD("YES", W_TRUE),    WORD("true", W_TRUE),
	WORD("True", W_TRUE),   WORD("TRUE", W_TRUE),   WORD("on", W_TRUE),
	WORD("On", W_TRUE),     WORD("ON", W_TRUE),     WORD("n", W_FALSE),
	WORD("N", W_FALSE),     WORD("no", W_FALSE),    WORD("No", W_FALSE),
	WORD("NO", W_FALSE),    WORD("false", W_FALSE), WORD("False", W_FALSE),
	WORD("FALSE", W_FALSE), WORD("off", W_FALSE),   WORD("Off", W_FALSE),
	WORD("OFF", W_FALSE),   WORD("~", W_NULL),      WORD("null", W_NULL),
	WORD("Null", W_NULL),   WORD("NULL", W_NULL),   WORD(".nan", W_NAN),
	WORD(".NaN", W_NAN),    WORD(".NAN", W_NAN),    WORD(".inf", W_INF),
	WORD(".Inf", W_INF),    WORD(".INF", W_INF),    WORD("+.inf", W_INF),
	WORD("+.Inf", W_INF),   WORD("+.INF", W_INF),   WORD("-.inf", W_NINF),
	WORD("-.Inf", W_NINF),  WORD("-.INF", W_NINF),
};

static bool resolve_word(struct resolved *r, const char *s, size_t n)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	if (n == 0) {
		r->kind = R_NULL;
		return true;
	}
	/* Most scalars cannot be a word: skip the table for them. */
	if (n > 5 || !strchr("yYnNtTfFoO~.+-", s[0]))
		return false;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (words[i].len != n || memcmp(words[i].s, s, n) != 0)
			continue;
		switch (words[i].kind) {
		case W_TRUE:
		case W_FALSE:
			r->kind = R_BOOL;
			r->b = words[i].kind == W_TRUE;
			return true;
		case W_NULL:
			r->kind = R_NULL;
			return true;
		default:
			r->kind = R_FLOAT;
			r->d = words[i].kind == W_NAN   ? NAN
			       : words[i].kind == W_INF ? INFINITY
			                                : -INFINITY;
			return true;
		}
	}
	return false;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/*
 * Go's strconv.ParseUint(s, 0, 64) on s without a sign: 0x/0o/0b prefixes
 * (either case), a leading 0 for octal, else decimal. False when s is not
 * such a number or does not fit in 64 bits.
 */
static bool parse_go_uint(uint64_t *out, const char *s, size_t n)
{
	unsigned base = 10;
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return false;
	if (s[0] == '0' && n >= 3 && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		n -= 2;
	} else if (s[0] == '0' && n >= 3 && (s[1] == 'o' || s[1] == 'O')) {
		base = 8;
		s += 2;
		n -= 2;
	} else if (s[0] == '0' && n >= 3 && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
		n -= 2;
	} else if (s[0] == '0') {
		base = 8;
		s++;
		n--;
	}
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)digit_value(s[i]);

		if (d >= base || v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* go-yaml's float pattern: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
 */
static bool is_go_float(const char *s, size_t n)
{
	size_t i = 0, d0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i < n && s[i] == '.') {
		d0 = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d0)
			return false;
	} else {
		d0 = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d0)
			return false;
		if (i < n && s[i] == '.')
			for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
				;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		d0 = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d0)
			return false;
	}
	return i == n;
}

/*
 * Float from text already matched by is_go_float; false on overflow, where
 * Go's ParseFloat fails and go-yaml keeps the string. strtod and "%g" use
 * the C locale's '.' because tollgate never calls setlocale(); should a
 * caller change LC_NUMERIC, the end check keeps "1.5" from reading as 1.
 */
static bool parse_float(double *out, const char *s)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if ((errno == ERANGE && isinf(d)) || *end != '\0')
		return false;
	*out = d;
	return true;
}

/*
 * Numbers as go-yaml v2 resolves them: '_' removed, then Go's ParseInt with
 * base 0 (int64), ParseUint (uint64), then its float pattern. Only for
 * scalars starting with a digit, a sign or '.'.
 */
static bool resolve_number(struct resolved *r, const char *s, size_t n)
{
	char buf[NUMBER_MAX_CHARS + 1];
	size_t i, m = 0;
	uint64_t u;
	bool neg = false;
	const char *digits;

	memset(r, 0, sizeof(*r));
	if (n == 0 || n > NUMBER_MAX_CHARS)
		return false;
	if (s[0] == '.') {
		/* go-yaml hands these to ParseFloat as written, where '_'
		 * is not allowed. */
		if (!is_go_float(s, n))
			return false;
		memcpy(buf, s, n);
		buf[n] = '\0';
		r->kind = R_FLOAT;
		return parse_float(&r->d, buf);
	}
	if (!(s[0] == '+' || s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (i = 0; i < n; i++)
		if (s[i] != '_')
			buf[m++] = s[i];
	buf[m] = '\0';
	digits = buf;
	if (m && (buf[0] == '+' || buf[0] == '-')) {
		neg = buf[0] == '-';
		digits++;
	}
	if (parse_go_uint(&u, digits, m - (size_t)(digits - buf))) {
		if (!neg && u <= INT64_MAX) {
			r->kind = R_INT;
			r->i = (int64_t)u;
			return true;
		}
		if (neg && u <= (uint64_t)INT64_MAX + 1) {
			r->kind = R_INT;
			r->i = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN
			                                    : -(int64_t)u;
			return true;
		}
		if (digits == buf) { /* ParseUint takes no sign */
			r->kind = R_UINT;
			r->u = u;
			return true;
		}
	}
	if (!is_go_float(buf, m))
		return false;
	r->kind = R_FLOAT;
	return parse_float(&r->d, buf);
}

/* Resolve an untagged plain scalar. */
static void resolve_plain(struct resolved *r, const char *s, size_t n)
{
	if (resolve_word(r, s, n) || resolve_number(r, s, n))
		return;
	memset(r, 0, sizeof(*r));
	r->kind = R_STR;
}

/*
 * Go's strconv.FormatFloat(d, 'g', -1, 32), which sigs.k8s.io/yaml uses
 * for float mapping keys: the shortest digits that survive a round trip
 * through float32, in exponent form below 1e-4 and from 1e6 up.
 */
static void format_key_float(char *out, size_t size, double d)
{
	float f = (float)d;
	int prec, exp10;
	char tmp[64];

	if (isnan(d)) {
		snprintf(out, size, ".nan");
		return;
	}
	if (isinf(d)) {
		snprintf(out, size, d > 0 ? ".inf" : "-.inf");
		return;
	}
	for (prec = 1; prec < 9; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, (double)f);
		if ((float)strtod(tmp, NULL) == f)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, (double)f);
	exp10 = (int)strtol(strchr(tmp, 'e') + 1, NULL, 10);
	if (f == 0.0f || (exp10 >= -4 && exp10 < 6))
		snprintf(out, size, "%.*g", prec > exp10 + 1 ? prec : exp10 + 1,
		         (double)f);
	else
		snprintf(out, size, "%s", tmp);
}

/* Values ---------------------------------------------------------------- */

static bool tag_is(const char *tag, const char *name)
{
	return tag && strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0 &&
	       strcmp(tag + strlen(TAG_PREFIX), name) == 0;
}

/* Tag as the user wrote it, for messages: "!!int" rather than the URI. */
static void tag_display(char *out, size_t size, const char *tag)
{
	if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0)
		snprintf(out, size, "!!%.100s", tag + strlen(TAG_PREFIX));
	else
		snprintf(out, size, "%.100s", tag);
}

/* Base64 text of a !!binary scalar with its line breaks and spaces
 * removed; the caller frees. NULL when it is not base64. */
static char *binary_text(const char *s, size_t n, size_t *len_out)
{
	char *t = tg_malloc(n + 1);
	unsigned char *dec = NULL;
	size_t i, m = 0, dn;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
			t[m++] = s[i];
	t[m] = '\0';
	if (tg_base64_decode(&dec, &dn, t, m) < 0) {
		free(t);
		return NULL;
	}
	free(dec);
	*len_out = m;
	return t;
}

static json_t *json_from_resolved(struct yp *p,
                                  const struct resolved *r,
                                  const char *s,
                                  size_t n,
                                  unsigned line,
                                  unsigned col,
                                  int *error)
{
	switch (r->kind) {
	case R_NULL:
		return json_null();
	case R_BOOL:
		return json_boolean(r->b);
	case R_INT:
		return json_integer((json_int_t)r->i);
	case R_UINT:
		/* Above int64: jansson cannot hold it; a real keeps the
		 * magnitude (kubectl sends the exact digits, but no
		 * Kubernetes field takes an integer this large). */
		return json_real((double)r->u);
	case R_FLOAT:
		if (!isfinite(r->d)) {
			*error = yp_error(p, TG_EPARSE, line, col,
			                  "\"%.*s\" is not a JSON number "
			                  "(kubectl refuses it too); quote it "
			                  "to get a string",
			                  (int)(n > 40 ? 40 : n), s);
			return NULL;
		}
		/* Go's JSON encoder writes integral floats without a
		 * fraction ("1e3" -> 1000), and the API server accepts
		 * them for integer fields; keep them integers. */
		if (r->d > -9.2e18 && r->d < 9.2e18 &&
		    (double)(int64_t)r->d == r->d)
			return json_integer((json_int_t)r->d);
		return json_real(r->d);
	default:
		break;
	}
	return NULL;
}

static json_t *json_from_string(struct yp *p,
                                const char *s,
                                size_t n,
                                unsigned line,
                                unsigned col,
                                int *error)
{
	json_t *v;

	/* A NUL would cut the string short for C code that verifies it
	 * while the API server sees all of it. */
	if (memchr(s, '\0', n)) {
		*error = yp_error(p, TG_EPARSE, line, col,
		                  "string contains a NUL character");
		return NULL;
	}
	/* libyaml hands out only valid UTF-8: its reader checks the input
	 * and its scanner refuses escapes of surrogates and values above
	 * U+10FFFF, so jansson's check would be done twice. */
	v = json_stringn_nocheck(s, n);
	if (!v)
		*error = yp_error(p, TG_EPARSE, line, col, "bad string");
	return v;
}

/*
 * Resolve a scalar with an explicit tag. The standard types check their
 * text; !!binary keeps the base64 text; unknown tags are refused.
 */
static json_t *scalar_tagged(struct yp *p,
                             const char *tag,
                             const char *s,
                             size_t n,
                             unsigned line,
                             unsigned col,
                             int *error)
{
	struct resolved r;
	char shown[128];
	json_t *v;
	char *t;
	size_t tn;

	if (strcmp(tag, "!") == 0 || tag_is(tag, "str") ||
	    tag_is(tag, "timestamp"))
		return json_from_string(p, s, n, line, col, error);
	resolve_plain(&r, s, n);
	tag_display(shown, sizeof(shown), tag);
	if (tag_is(tag, "binary")) {
		if (!(t = binary_text(s, n, &tn)))
			goto mismatch;
		v = json_stringn(t, tn);
		free(t);
		return v;
	}
	if ((tag_is(tag, "int") && (r.kind == R_INT || r.kind == R_UINT)) ||
	    (tag_is(tag, "bool") && r.kind == R_BOOL) ||
	    (tag_is(tag, "null") && r.kind == R_NULL) ||
	    (tag_is(tag, "float") &&
	     (r.kind == R_INT || r.kind == R_UINT || r.kind == R_FLOAT)))
		return json_from_resolved(p, &r, s, n, line, col, error);
	if (tag_is(tag, "int") || tag_is(tag, "bool") || tag_is(tag, "null") ||
	    tag_is(tag, "float"))
		goto mismatch;
	if (tag_is(tag, "merge")) {
		*error = yp_error(p, TG_EPARSE, line, col,
		                  "!!merge belongs only on the key \"<<\"");
		return NULL;
	}
	*error = yp_error(p, TG_EPARSE, line, col,
	                  "unknown tag \"%s\" (supported: !!str, !!int, "
	                  "!!float, !!bool, !!null, !!binary, !!timestamp, "
	                  "!!map, !!seq)",
	                  shown);
	return NULL;
mismatch:
	*error = yp_error(p, TG_EPARSE, line, col, "\"%.*s\" is not a valid %s",
	                  (int)(n > 40 ? 40 : n), s, shown);
	return NULL;
}

/* The JSON value of a scalar event; NULL with *error set on failure. */
static json_t *scalar_value(struct yp *p,
                            const yaml_event_t *ev,
                            unsigned line,
                            unsigned col,
                            int *error)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	size_t n = ev->data.scalar.length;
	struct resolved r;

	if (tag)
		return scalar_tagged(p, tag, s, n, line, col, error);
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_from_string(p, s, n, line, col, error);
	resolve_plain(&r, s, n);
	if (r.kind == R_STR)
		return json_from_string(p, s, n, line, col, error);
	return json_from_resolved(p, &r, s, n, line, col, error);
}

/*
 * The string form of a scalar mapping key, as sigs.k8s.io/yaml writes
 * non-string keys: integers in decimal, booleans as true/false, floats in
 * Go's %g. A null key has no JSON form.
 */
static int key_from_json(
        struct yp *p, tg_buf *key, const json_t *v, unsigned line, unsigned col)
{
	char num[64];

	tg_buf_clear(key);
	switch (json_typeof(v)) {
	case JSON_STRING:
		return tg_buf_append(key, json_string_value(v),
		                     json_string_length(v));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		         json_integer_value(v));
		return tg_buf_puts(key, num);
	case JSON_REAL:
		format_key_float(num, sizeof(num), json_real_value(v));
		return tg_buf_puts(key, num);
	case JSON_TRUE:
		return tg_buf_puts(key, "true");
	case JSON_FALSE:
		return tg_buf_puts(key, "false");
	case JSON_NULL:
		return yp_error(p, TG_EPARSE, line, col,
		                "mapping key is null; JSON keys must be "
		                "strings (quote it: \"null\")");
	default:
		return yp_error(p, TG_EPARSE, line, col,
		                "mapping key is a mapping or sequence; JSON "
		                "keys must be strings");
	}
}

/* Same for a plain key, keeping uint64 and float text exact. */
static int key_from_plain(struct yp *p,
                          tg_buf *key,
                          const char *s,
                          size_t n,
                          unsigned line,
                          unsigned col)
{
	struct resolved r;
	char num[64];

	resolve_plain(&r, s, n);
	tg_buf_clear(key);
	switch (r.kind) {
	case R_NULL:
		return yp_error(p, TG_EPARSE, line, col,
		                "mapping key is null; JSON keys must be "
		                "strings (quote it: \"%.*s\")",
		                (int)(n > 40 ? 40 : n), s);
	case R_BOOL:
		return tg_buf_puts(key, r.b ? "true" : "false");
	case R_INT:
		snprintf(num, sizeof(num), "%lld", (long long)r.i);
		return tg_buf_puts(key, num);
	case R_UINT:
		snprintf(num, sizeof(num), "%llu", (unsigned long long)r.u);
		return tg_buf_puts(key, num);
	case R_FLOAT:
		format_key_float(num, sizeof(num), r.d);
		return tg_buf_puts(key, num);
	default:
		return tg_buf_append(key, s, n);
	}
}

/* Stack ------------------------------------------------------------------ */

static struct frame *top(struct yp *p)
{
	return p->depth ? &p->stack[p->depth - 1] : NULL;
}

static bool want_key(struct yp *p)
{
	struct frame *f = top(p);

	return f && f->kind == F_MAP && !f->have_key;
}

static int check_key(struct yp *p, struct frame *f, unsigned line, unsigned col)
{
	if (memchr(f->key.data ? f->key.data : "", '\0', f->key.len))
		return yp_error(p, TG_EPARSE, line, col,
		                "mapping key contains a NUL character");
	if (json_object_getn(f->val, f->key.data ? f->key.data : "",
	                     f->key.len))
		return yp_error(p, TG_EPARSE, line, col,
		                "duplicate key \"%.*s\" (a key may appear once "
		                "in a mapping; keys like 1 and 0x1, or y and "
		                "true, are the same once written as JSON)",
		                (int)(f->key.len > 100 ? 100 : f->key.len),
		                f->key.data);
	f->have_key = true;
	f->key_merge = false;
	f->kline = line;
	f->kcol = col;
	return 0;
}

/* A value for "<<": a mapping, or a sequence of mappings (earlier ones
 * take precedence). Takes v. */
static int add_merge(struct yp *p,
                     struct frame *f,
                     json_t *v,
                     struct pos *ps,
                     unsigned line,
                     unsigned col)
{
	size_t i, n = json_is_array(v) ? json_array_size(v) : 1;
	int error = 0;

	for (i = 0; i < n; i++) {
		json_t *m = json_is_array(v) ? json_array_get(v, i) : v;

		if (!json_is_object(m)) {
			error = yp_error(p, TG_EPARSE, line, col,
			                 "merge key \"<<\" needs a mapping or "
			                 "a sequence of mappings");
			goto out;
		}
	}
	if (f->n_merges + n > f->cap_merges) {
		f->cap_merges = (f->n_merges + n) * 2;
		f->merges = tg_realloc(f->merges,
		                       f->cap_merges * sizeof(*f->merges));
	}
	for (i = 0; i < n; i++) {
		struct merge_src *m = &f->merges[f->n_merges++];

		m->obj = json_incref(json_is_array(v) ? json_array_get(v, i)
		                                      : v);
		m->pos = ps && json_is_array(v) && i < ps->n ? ps->kids[i].node
		                                             : ps;
	}
out:
	json_decref(v);
	return error;
}

/* Attach a finished value (taken) to the open container or the document. */
static int attach(struct yp *p,
                  json_t *v,
                  struct pos *ps,
                  unsigned height,
                  unsigned line,
                  unsigned col)
{
	struct frame *f = top(p);
	const char *key;

	if (!f) {
		p->root = v;
		p->root_pos = ps;
		return 0;
	}
	if (height > f->height)
		f->height = height;
	if (f->kind == F_SEQ) {
		json_array_append_new(f->val, v);
		if (f->pos)
			pos_add(p->docs, f->pos, NULL, 0, line, col, ps);
		return 0;
	}
	f->have_key = false;
	if (f->key_merge)
		return add_merge(p, f, v, ps, line, col);
	key = f->key.data ? f->key.data : "";
	json_object_setn_new_nocheck(f->val, key, f->key.len, v);
	if (f->pos)
		pos_add(p->docs, f->pos, key, f->key.len, f->kline, f->kcol,
		        ps);
	return 0;
}

/* What an alias of an anchored node would copy. */
struct extent {
	size_t nodes, bytes;
	unsigned height;
};

static int anchor_add(struct yp *p,
                      const char *name,
                      json_t *v,
                      struct pos *ps,
                      struct extent ext,
                      unsigned line,
                      unsigned col)
{
	struct anchor *a;

	if (++p->anchors_total > TG_MAX_YAML_ANCHORS)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "more than %d anchors in one file",
		                TG_MAX_YAML_ANCHORS);
	if (p->n_anchors == p->cap_anchors) {
		p->cap_anchors = p->cap_anchors ? p->cap_anchors * 2 : 8;
		p->anchors = tg_realloc(p->anchors,
		                        p->cap_anchors * sizeof(*p->anchors));
	}
	if (!p->anchor_index)
		p->anchor_index = json_object();
	a = &p->anchors[p->n_anchors];
	a->name = tg_strdup(name);
	a->val = json_incref(v);
	a->pos = ps;
	a->nodes = ext.nodes;
	a->bytes = ext.bytes;
	a->height = ext.height;
	/* A later anchor of the same name replaces the earlier one, as in
	 * go-yaml. */
	json_object_set_new(p->anchor_index, name,
	                    json_integer((json_int_t)p->n_anchors));
	p->n_anchors++;
	return 0;
}

static void anchors_clear(struct yp *p)
{
	size_t i;

	for (i = 0; i < p->n_anchors; i++) {
		free(p->anchors[i].name);
		json_decref(p->anchors[i].val);
	}
	p->n_anchors = 0;
	json_decref(p->anchor_index);
	p->anchor_index = NULL;
}

/* Events ----------------------------------------------------------------- */

/* Count n new nodes against the file's limit. */
static int add_nodes(struct yp *p, size_t n, unsigned line, unsigned col)
{
	if (n > TG_MAX_YAML_NODES - p->file_nodes)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "more than %d nodes in one file",
		                TG_MAX_YAML_NODES);
	p->file_nodes += n;
	p->nodes += n;
	return 0;
}

/* A scalar key that needs no JSON value: plain or string-tagged, without
 * an anchor. Quoted keys (all of JSON's) go straight to the key buffer. */
static int
on_simple_key(struct yp *p, const yaml_event_t *ev, unsigned line, unsigned col)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	struct frame *f = top(p);
	int error;

	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    !ev->data.scalar.tag)
		error = key_from_plain(p, &f->key, s, n, line, col);
	else {
		tg_buf_clear(&f->key);
		error = tg_buf_append(&f->key, s, n);
	}
	if (error < 0)
		return error;
	p->bytes += f->key.len;
	return check_key(p, f, line, col);
}

static bool is_merge_key(const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;

	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       ev->data.scalar.length == 2 &&
	       memcmp(ev->data.scalar.value, "<<", 2) == 0 &&
	       (!tag || tag_is(tag, "merge"));
}

static bool is_simple_key(const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;

	return !ev->data.scalar.anchor &&
	       (!tag || strcmp(tag, "!") == 0 || tag_is(tag, "str"));
}

static int
on_scalar(struct yp *p, const yaml_event_t *ev, unsigned line, unsigned col)
{
	const char *anchor = (const char *)ev->data.scalar.anchor;
	size_t n = ev->data.scalar.length;
	struct frame *f = top(p);
	struct extent ext = { 1, n, 0 };
	json_t *v = NULL;
	int error = 0;

	if (n > TG_MAX_YAML_SCALAR_BYTES)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "scalar of %zu bytes is over the limit of %u "
		                "bytes",
		                n, TG_MAX_YAML_SCALAR_BYTES);
	if (want_key(p) && is_merge_key(ev)) {
		f->have_key = f->key_merge = true;
		f->kline = line;
		f->kcol = col;
		return 0;
	}
	if (want_key(p) && is_simple_key(ev))
		return on_simple_key(p, ev, line, col);
	if ((error = add_nodes(p, 1, line, col)) < 0)
		return error;
	if (!(v = scalar_value(p, ev, line, col, &error)))
		return error ? error
		             : yp_error(p, TG_EPARSE, line, col, "bad scalar");
	p->bytes += n;
	if (anchor &&
	    (error = anchor_add(p, anchor, v, NULL, ext, line, col)) < 0)
		goto out;
	if (want_key(p)) {
		/* A tagged or anchored key: its JSON value gives the key. */
		if ((error = key_from_json(p, &f->key, v, line, col)) == 0)
			error = check_key(p, f, line, col);
		goto out;
	}
	error = attach(p, v, NULL, 0, line, col);
	v = NULL;
out:
	json_decref(v);
	return error;
}

static int check_collection_tag(struct yp *p,
                                const char *tag,
                                const char *want,
                                unsigned line,
                                unsigned col)
{
	char shown[128];

	if (!tag || strcmp(tag, "!") == 0 || tag_is(tag, want))
		return 0;
	tag_display(shown, sizeof(shown), tag);
	if (tag_is(tag, "map") || tag_is(tag, "seq"))
		return yp_error(
		        p, TG_EPARSE, line, col, "tag \"%s\" on a %s", shown,
		        strcmp(want, "map") == 0 ? "mapping" : "sequence");
	return yp_error(p, TG_EPARSE, line, col,
	                "unknown tag \"%s\" (supported: !!str, !!int, !!float, "
	                "!!bool, !!null, !!binary, !!timestamp, !!map, !!seq)",
	                shown);
}

static int on_start(struct yp *p,
                    const yaml_event_t *ev,
                    int kind,
                    unsigned line,
                    unsigned col)
{
	const char *anchor, *tag;
	struct frame *f;
	int error;

	if (kind == F_MAP) {
		anchor = (const char *)ev->data.mapping_start.anchor;
		tag = (const char *)ev->data.mapping_start.tag;
	} else {
		anchor = (const char *)ev->data.sequence_start.anchor;
		tag = (const char *)ev->data.sequence_start.tag;
	}
	if ((error = check_collection_tag(p, tag, kind == F_MAP ? "map" : "seq",
	                                  line, col)) < 0)
		return error;
	if (want_key(p))
		return yp_error(p, TG_EPARSE, line, col,
		                "mapping key is a %s; JSON keys must be "
		                "strings",
		                kind == F_MAP ? "mapping" : "sequence");
	if (p->depth >= TG_MAX_YAML_DEPTH)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "nesting deeper than %d levels",
		                TG_MAX_YAML_DEPTH);
	if ((error = add_nodes(p, 1, line, col)) < 0)
		return error;
	f = &p->stack[p->depth++];
	if (p->depth > p->max_depth) {
		p->max_depth = p->depth;
		memset(f, 0, sizeof(*f));
		tg_buf_init(&f->key, TG_MAX_YAML_SCALAR_BYTES);
	}
	f->kind = kind;
	f->val = kind == F_MAP ? json_object() : json_array();
	f->pos = p->flags & TG_YAML_POSITIONS ? pos_new(p->docs, kind == F_MAP)
	                                      : NULL;
	f->anchor = anchor ? tg_strdup(anchor) : NULL;
	f->nodes_start = p->nodes - 1;
	f->bytes_start = p->bytes;
	f->height = 0;
	f->line = line;
	f->col = col;
	f->have_key = false;
	f->key_merge = false;
	f->n_merges = 0;
	return 0;
}

/* Members of the "<<" mappings that the mapping does not set itself. */
static void apply_merges(struct yp *p, struct frame *f)
{
	size_t i;

	for (i = 0; i < f->n_merges; i++) {
		struct merge_src *m = &f->merges[i];
		const char *key;
		size_t keylen;
		json_t *v;
		const struct pos_kid *k;

		json_object_keylen_foreach(m->obj, key, keylen, v) {
			if (json_object_getn(f->val, key, keylen))
				continue;
			json_object_setn(f->val, key, keylen, v);
			if (!f->pos)
				continue;
			k = pos_find_key(m->pos, key, keylen);
			pos_add(p->docs, f->pos, key, keylen, k ? k->line : 0,
			        k ? k->col : 0, k ? k->node : NULL);
		}
		json_decref(m->obj);
	}
	f->n_merges = 0;
}

static int on_end(struct yp *p)
{
	struct frame *f = &p->stack[--p->depth];
	json_t *v = f->val;
	unsigned height = f->height + 1;
	int error = 0;

	if (f->kind == F_MAP)
		apply_merges(p, f);
	f->val = NULL;
	if (f->anchor) {
		struct extent ext = { p->nodes - f->nodes_start,
			              p->bytes - f->bytes_start, height };

		error = anchor_add(p, f->anchor, v, f->pos, ext, f->line,
		                   f->col);
		free(f->anchor);
		f->anchor = NULL;
		if (error < 0) {
			json_decref(v);
			return error;
		}
	}
	return attach(p, v, f->pos, height, f->line, f->col);
}

/* Charge an alias copy to the file's budgets, before making it. */
static int
alias_budget(struct yp *p, const struct anchor *a, unsigned line, unsigned col)
{
	int error;

	if (p->depth + a->height > TG_MAX_YAML_DEPTH)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "alias \"*%.100s\" makes nesting deeper than "
		                "%d levels",
		                a->name, TG_MAX_YAML_DEPTH);
	if (a->nodes > TG_MAX_YAML_ALIAS_NODES - p->alias_nodes)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "alias expansion would create more than %d "
		                "nodes (billion laughs?)",
		                TG_MAX_YAML_ALIAS_NODES);
	if (a->bytes > TG_MAX_YAML_ALIAS_BYTES - p->alias_bytes)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "alias expansion would copy more than %u "
		                "bytes of text (billion laughs?)",
		                TG_MAX_YAML_ALIAS_BYTES);
	if ((error = add_nodes(p, a->nodes, line, col)) < 0)
		return error;
	p->alias_nodes += a->nodes;
	p->alias_bytes += a->bytes;
	p->bytes += a->bytes;
	return 0;
}

static int
on_alias(struct yp *p, const yaml_event_t *ev, unsigned line, unsigned col)
{
	const char *name = (const char *)ev->data.alias.anchor;
	json_t *idx =
	        p->anchor_index ? json_object_get(p->anchor_index, name) : NULL;
	struct anchor *a;
	json_t *v;
	size_t i;
	int error;

	for (i = 0; i < p->depth; i++)
		if (p->stack[i].anchor && strcmp(p->stack[i].anchor, name) == 0)
			return yp_error(p, TG_EPARSE, line, col,
			                "alias \"*%.100s\" inside the node it "
			                "refers to",
			                name);
	if (!idx)
		return yp_error(p, TG_EPARSE, line, col,
		                "alias \"*%.100s\" refers to no anchor defined "
		                "before it in this document",
		                name);
	a = &p->anchors[json_integer_value(idx)];
	if ((error = alias_budget(p, a, line, col)) < 0)
		return error;
	if (want_key(p)) {
		if ((error = key_from_json(p, &top(p)->key, a->val, line,
		                           col)) < 0)
			return error;
		return check_key(p, top(p), line, col);
	}
	v = json_deep_copy(a->val);
	return attach(p, v, a->pos, a->height, line, col);
}

/* Documents -------------------------------------------------------------- */

static void docs_push(tg_yaml_docs *docs,
                      json_t *v,
                      unsigned line,
                      unsigned col,
                      struct pos *ps)
{
	struct doc *d;

	if (docs->n == docs->cap) {
		docs->cap = docs->cap ? docs->cap * 2 : 4;
		docs->v = tg_realloc(docs->v, docs->cap * sizeof(*docs->v));
	}
	d = &docs->v[docs->n++];
	d->val = v ? v : json_null();
	d->line = line;
	d->col = col;
	d->pos = ps;
}

static int on_document_start(struct yp *p, unsigned line, unsigned col)
{
	if (++p->n_docs > TG_MAX_YAML_DOCUMENTS)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "more than %d documents in one file",
		                TG_MAX_YAML_DOCUMENTS);
	p->doc_line = line;
	p->doc_col = col;
	p->nodes = 0;
	p->root = NULL;
	p->root_pos = NULL;
	p->root_line = 0;
	return 0;
}

static void on_document_end(struct yp *p)
{
	docs_push(p->docs, p->root, p->root_line, p->root_col, p->root_pos);
	p->root = NULL;
	anchors_clear(p);
}

/* The byte at a 1-based line and column (in characters), or -1. */
static int byte_at(const struct yp *p, unsigned line, unsigned col)
{
	size_t i = 0;

	for (; line > 1 && i < p->len; i++)
		if (p->data[i] == '\n')
			line--;
	for (; i < p->len && p->data[i] != '\n'; i++) {
		if (((unsigned char)p->data[i] & 0xC0) == 0x80)
			continue;
		if (--col == 0)
			return (unsigned char)p->data[i];
	}
	return -1;
}

/* libyaml's own errors, with the position it gives. */
static int parser_error(struct yp *p, const yaml_parser_t *parser)
{
	unsigned line = 1, col = 1;
	size_t i;

	if (parser->error == YAML_MEMORY_ERROR)
		return tg_error_set(TG_ERROR, "%s: out of memory", p->name);
	if (parser->error == YAML_READER_ERROR) {
		/* The reader gives a byte offset, not a mark. */
		for (i = 0; i < parser->problem_offset && i < p->len; i++) {
			if (p->data[i] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)p->data[i] & 0xC0) != 0x80)
				col++;
		}
		if (parser->problem_value != -1)
			return yp_error(p, TG_EPARSE, line, col,
			                "%s (byte 0x%02X); the file must be "
			                "UTF-8 (or UTF-16 with a BOM)",
			                parser->problem, parser->problem_value);
		return yp_error(p, TG_EPARSE, line, col, "%s",
		                parser->problem ? parser->problem
		                                : "bad input");
	}
	line = (unsigned)parser->problem_mark.line + 1;
	col = (unsigned)parser->problem_mark.column + 1;
	if (parser->error == YAML_SCANNER_ERROR &&
	    byte_at(p, line, col) == '\t')
		return yp_error(p, TG_EPARSE, line, col,
		                "%s: a tab; YAML indents with spaces only",
		                parser->problem);
	if (parser->context)
		return yp_error(p, TG_EPARSE, line, col, "%s (%s at line %u)",
		                parser->problem ? parser->problem : "error",
		                parser->context,
		                (unsigned)parser->context_mark.line + 1);
	return yp_error(p, TG_EPARSE, line, col, "%s",
	                parser->problem ? parser->problem : "syntax error");
}

static int on_event(struct yp *p, const yaml_event_t *ev)
{
	unsigned line = (unsigned)ev->start_mark.line + 1;
	unsigned col = (unsigned)ev->start_mark.column + 1;

	if (p->depth == 0 && !p->root_line &&
	    (ev->type == YAML_SCALAR_EVENT || ev->type == YAML_ALIAS_EVENT ||
	     ev->type == YAML_SEQUENCE_START_EVENT ||
	     ev->type == YAML_MAPPING_START_EVENT)) {
		/* An empty document's null sits where the next token is;
		 * its "---" is where the user looks. */
		bool empty = ev->type == YAML_SCALAR_EVENT &&
		             ev->data.scalar.length == 0 &&
		             !ev->data.scalar.tag && !ev->data.scalar.anchor;

		p->root_line = empty ? p->doc_line : line;
		p->root_col = empty ? p->doc_col : col;
	}
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		return on_document_start(p, line, col);
	case YAML_DOCUMENT_END_EVENT:
		on_document_end(p);
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(p, ev, line, col);
	case YAML_ALIAS_EVENT:
		return on_alias(p, ev, line, col);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(p, ev, F_SEQ, line, col);
	case YAML_MAPPING_START_EVENT:
		return on_start(p, ev, F_MAP, line, col);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(p);
	default:
		return 0;
	}
}

static void yp_cleanup(struct yp *p)
{
	size_t i;

	for (i = 0; i < p->max_depth; i++) {
		struct frame *f = &p->stack[i];

		json_decref(f->val);
		free(f->anchor);
		tg_buf_free(&f->key);
		while (f->n_merges)
			json_decref(f->merges[--f->n_merges].obj);
		free(f->merges);
	}
	free(p->stack);
	json_decref(p->root);
	anchors_clear(p);
	free(p->anchors);
}

static int parse_events(struct yp *p)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	bool done = false;
	int error = 0;

	if (!yaml_parser_initialize(&parser))
		return tg_error_set(TG_ERROR, "%s: out of memory", p->name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)p->data,
	                             p->len);
	while (!done && error == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			error = parser_error(p, &parser);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		error = on_event(p, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return error;
}

int tg_yaml_parse(tg_yaml_docs **out,
                  const char *name,
                  const char *data,
                  size_t len,
                  unsigned flags)
{
	struct yp p;
	int error;

	*out = NULL;
	if (!name)
		name = "<input>";
	if (!data) /* libyaml asserts on a NULL input */
		data = "";
	if (len > TG_MAX_FILE_BYTES)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: %zu bytes is over the limit of %u "
		                    "bytes for one file",
		                    name, len, TG_MAX_FILE_BYTES);
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.data = data;
	p.len = len;
	p.flags = flags;
	p.docs = tg_calloc(1, sizeof(*p.docs));
	p.stack = tg_malloc(TG_MAX_YAML_DEPTH * sizeof(*p.stack));
	error = parse_events(&p);
	yp_cleanup(&p);
	if (error < 0) {
		tg_yaml_docs_free(p.docs);
		return error;
	}
	*out = p.docs;
	return 0;
}

int tg_yaml_parse_file(tg_yaml_docs **out, const char *path, unsigned flags)
{
	char *data = NULL;
	size_t len;
	int error;

	*out = NULL;
	if ((error = tg_file_read(&data, &len, path, TG_MAX_FILE_BYTES)) < 0)
		return error;
	error = tg_yaml_parse(out, path, data, len, flags);
	free(data);
	return error;
}

size_t tg_yaml_docs_count(const tg_yaml_docs *docs)
{
	return docs ? docs->n : 0;
}

json_t *tg_yaml_docs_get(const tg_yaml_docs *docs, size_t i)
{
	return docs && i < docs->n ? docs->v[i].val : NULL;
}

unsigned tg_yaml_docs_line(const tg_yaml_docs *docs, size_t i)
{
	return docs && i < docs->n ? docs->v[i].line : 0;
}

/* One RFC 6901 reference token of path into buf (unescaped); returns the
 * rest of path, or NULL when the token is malformed. */
static const char *pointer_token(tg_buf *buf, const char *path)
{
	const char *s = path;

	tg_buf_clear(buf);
	for (; *s && *s != '/'; s++) {
		char c = *s;

		if (c == '~') {
			if (s[1] != '0' && s[1] != '1')
				return NULL;
			c = s[1] == '0' ? '~' : '/';
			s++;
		}
		if (tg_buf_append(buf, &c, 1) < 0)
			return NULL;
	}
	return s;
}

static const struct pos_kid *
pos_find_index(const struct pos *ps, const char *tok, size_t len)
{
	uint64_t idx;

	if (!ps || ps->is_map || (len > 1 && tok[0] == '0') ||
	    tg_parse_u64(&idx, tok, len, SIZE_MAX) < 0 || idx >= ps->n)
		return NULL;
	return &ps->kids[idx];
}

unsigned tg_yaml_docs_line_at(const tg_yaml_docs *docs,
                              size_t i,
                              const char *path,
                              unsigned *col_out)
{
	const struct pos *ps;
	const struct pos_kid *k;
	unsigned line, col;
	tg_buf tok;

	if (col_out)
		*col_out = 0;
	if (!docs || i >= docs->n || !path || (*path && *path != '/'))
		return 0;
	ps = docs->v[i].pos;
	line = docs->v[i].line;
	col = docs->v[i].col;
	tg_buf_init(&tok, 4096);
	while (*path) {
		path = pointer_token(&tok, path + 1);
		if (!path || !ps)
			goto unknown;
		k = ps->is_map ? pos_find_key(ps, tok.data ? tok.data : "",
		                              tok.len)
		               : pos_find_index(ps, tok.data, tok.len);
		if (!k)
			goto unknown;
		line = k->line;
		col = k->col;
		ps = k->node;
	}
	tg_buf_free(&tok);
	if (col_out)
		*col_out = col;
	return line;
unknown:
	tg_buf_free(&tok);
	return 0;
}

/* Digits of the shortest "%.*g" of d that reads back as d. */
static int real_digits(double d)
{
	char buf[40];
	int p;

	for (p = 1; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			return p;
	}
	return 17;
}

int tg_json_real_digits(const json_t *v)
{
	const char *key;
	json_t *x;
	size_t i;
	int best = 0, d;

	if (!v)
		return 0;
	switch (json_typeof(v)) {
	case JSON_REAL:
		return real_digits(json_real_value(v));
	case JSON_ARRAY:
		json_array_foreach(v, i, x) {
			if ((d = tg_json_real_digits(x)) > best)
				best = d;
		}
		return best;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, x) {
			if ((d = tg_json_real_digits(x)) > best)
				best = d;
		}
		return best;
	default:
		return 0;
	}
}

void tg_yaml_docs_free(tg_yaml_docs *docs)
{
	struct arena *a, *next;
	size_t i;

	if (!docs)
		return;
	for (i = 0; i < docs->n; i++)
		json_decref(docs->v[i].val);
	free(docs->v);
	for (a = docs->arena; a; a = next) {
		next = a->next;
		free(a);
	}
	free(docs);
}
