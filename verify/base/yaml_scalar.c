/*
 * Resolution of plain YAML scalars to null, bool, int, float or string
 * the way go-yaml v2 does it (the YAML library under sigs.k8s.io/yaml that
 * kubectl uses), and the string form of scalar mapping keys: see
 * include/tollgate/yaml.h for the rules and verify/base/yaml_int.h for the
 * interface. The event parser in verify/base/yaml.c calls these.
 */
#include <errno.h>
#include <stdarg.h>
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
#include "yaml_int.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

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

static bool resolve_word(struct tg_yaml_scalar *r, const char *s, size_t n)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	if (n == 0) {
		r->kind = TG_YS_NULL;
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
			r->kind = TG_YS_BOOL;
			r->b = words[i].kind == W_TRUE;
			return true;
		case W_NULL:
			r->kind = TG_YS_NULL;
			return true;
		default:
			r->kind = TG_YS_FLOAT;
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
static bool resolve_number(struct tg_yaml_scalar *r, const char *s, size_t n)
{
	char buf[TG_MAX_YAML_NUMBER_CHARS + 1];
	size_t i, m = 0;
	uint64_t u;
	bool neg = false;
	const char *digits;

	memset(r, 0, sizeof(*r));
	if (n == 0 || n > TG_MAX_YAML_NUMBER_CHARS)
		return false;
	if (s[0] == '.') {
		/* go-yaml hands these to ParseFloat as written, where '_'
		 * is not allowed. */
		if (!is_go_float(s, n))
			return false;
		memcpy(buf, s, n);
		buf[n] = '\0';
		r->kind = TG_YS_FLOAT;
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
			r->kind = TG_YS_INT;
			r->i = (int64_t)u;
			return true;
		}
		if (neg && u <= (uint64_t)INT64_MAX + 1) {
			r->kind = TG_YS_INT;
			r->i = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN
			                                    : -(int64_t)u;
			return true;
		}
		if (digits == buf) { /* ParseUint takes no sign */
			r->kind = TG_YS_UINT;
			r->u = u;
			return true;
		}
	}
	if (!is_go_float(buf, m))
		return false;
	r->kind = TG_YS_FLOAT;
	return parse_float(&r->d, buf);
}

void tg_yaml_resolve_plain(struct tg_yaml_scalar *r, const char *s, size_t n)
{
	if (resolve_word(r, s, n) || resolve_number(r, s, n))
		return;
	memset(r, 0, sizeof(*r));
	r->kind = TG_YS_STR;
}

void tg_yaml_format_key_float(char *out, size_t size, double d)
{
	/* Go converts to float32 first, so a double past FLT_MAX (1e39) is
	 * an infinity here: test f, not d, or "%e" below prints "inf" and
	 * has no exponent to read. */
	float f = (float)d;
	int prec, exp10;
	char tmp[TG_YAML_NUMBER_TEXT_MAX];
	const char *e;

	if (isnan(f)) {
		snprintf(out, size, ".nan");
		return;
	}
	if (isinf(f)) {
		snprintf(out, size, f > 0 ? ".inf" : "-.inf");
		return;
	}
	for (prec = 1; prec < 9; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, (double)f);
		if ((float)strtod(tmp, NULL) == f)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, (double)f);
	/* A finite "%e" always has an exponent; should it not, the text
	 * stands as it is rather than being read past its end. */
	if (!(e = strchr(tmp, 'e'))) {
		snprintf(out, size, "%s", tmp);
		return;
	}
	exp10 = (int)strtol(e + 1, NULL, 10);
	if (f == 0.0f || (exp10 >= -4 && exp10 < 6))
		snprintf(out, size, "%.*g", prec > exp10 + 1 ? prec : exp10 + 1,
		         (double)f);
	else
		snprintf(out, size, "%s", tmp);
}

static int
scalar_key(tg_buf *key, const struct tg_yaml_scalar *r, const char *s, size_t n)
{
	char num[TG_YAML_NUMBER_TEXT_MAX];

	tg_buf_clear(key);
	switch (r->kind) {
	case TG_YS_BOOL:
		return tg_buf_puts(key, r->b ? "true" : "false");
	case TG_YS_INT:
		snprintf(num, sizeof(num), "%lld", (long long)r->i);
		return tg_buf_puts(key, num);
	case TG_YS_UINT:
		snprintf(num, sizeof(num), "%llu", (unsigned long long)r->u);
		return tg_buf_puts(key, num);
	case TG_YS_FLOAT:
		tg_yaml_format_key_float(num, sizeof(num), r->d);
		return tg_buf_puts(key, num);
	default:
		return tg_buf_append(key, s, n);
	}
}

/* Errors ---------------------------------------------------------------- */

int tg_yaml_error_at(const char *name,
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
	return tg_error_set(code, "%s:%u:%u: %s", name, line, col, msg);
}

/* Values ---------------------------------------------------------------- */

bool tg_yaml_tag_is(const char *tag, const char *name)
{
	return tag && strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0 &&
	       strcmp(tag + strlen(TAG_PREFIX), name) == 0;
}

/* Tag as the user wrote it, for messages: "!!int" rather than the URI. */
void tg_yaml_tag_display(char *out, size_t size, const char *tag)
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

static json_t *json_from_resolved(const char *name,
                                  const struct tg_yaml_scalar *r,
                                  const char *s,
                                  size_t n,
                                  unsigned line,
                                  unsigned col,
                                  int *error)
{
	switch (r->kind) {
	case TG_YS_NULL:
		return json_null();
	case TG_YS_BOOL:
		return json_boolean(r->b);
	case TG_YS_INT:
		return json_integer((json_int_t)r->i);
	case TG_YS_UINT:
		/* Above int64: jansson cannot hold it; a real keeps the
		 * magnitude (kubectl sends the exact digits, but no
		 * Kubernetes field takes an integer this large). */
		return json_real((double)r->u);
	case TG_YS_FLOAT:
		if (!isfinite(r->d)) {
			*error = tg_yaml_error_at(
			        name, TG_EPARSE, line, col,
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

static json_t *json_from_string(const char *name,
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
		*error = tg_yaml_error_at(name, TG_EPARSE, line, col,
		                          "string contains a NUL character");
		return NULL;
	}
	/* libyaml hands out only valid UTF-8: its reader checks the input
	 * and its scanner refuses escapes of surrogates and values above
	 * U+10FFFF, so jansson's check would be done twice. */
	v = json_stringn_nocheck(s, n);
	if (!v)
		*error = tg_yaml_error_at(name, TG_EPARSE, line, col,
		                          "bad string");
	return v;
}

/* A scalar that does not fit its tag. The value is not quoted: a tagged
 * scalar is often a Secret's (!!binary data), and this layer cannot know
 * whose it is, while the message reaches status.json and the status
 * commit. Returns TG_EPARSE. */
static int tagged_mismatch(const char *name,
                           const char *tag,
                           const char *shown,
                           size_t n,
                           unsigned line,
                           unsigned col)
{
	return tg_yaml_error_at(
	        name, TG_EPARSE, line, col,
	        "a value of %zu bytes is not a valid %s%s "
	        "(the value is not shown)",
	        n, shown, tg_yaml_tag_is(tag, "binary") ? " (base64)" : "");
}

/*
 * Resolve a scalar with an explicit tag. The standard types check their
 * text; !!binary keeps the base64 text; unknown tags are refused.
 */
static json_t *scalar_tagged(const char *name,
                             const char *tag,
                             const char *s,
                             size_t n,
                             unsigned line,
                             unsigned col,
                             int *error)
{
	struct tg_yaml_scalar r;
	char shown[TG_YAML_TAG_TEXT_MAX];
	json_t *v;
	char *t;
	size_t tn;

	if (strcmp(tag, "!") == 0 || tg_yaml_tag_is(tag, "str") ||
	    tg_yaml_tag_is(tag, "timestamp"))
		return json_from_string(name, s, n, line, col, error);
	tg_yaml_resolve_plain(&r, s, n);
	tg_yaml_tag_display(shown, sizeof(shown), tag);
	if (tg_yaml_tag_is(tag, "binary")) {
		if (!(t = binary_text(s, n, &tn)))
			goto mismatch;
		v = json_stringn(t, tn);
		free(t);
		return v;
	}
	if ((tg_yaml_tag_is(tag, "int") &&
	     (r.kind == TG_YS_INT || r.kind == TG_YS_UINT)) ||
	    (tg_yaml_tag_is(tag, "bool") && r.kind == TG_YS_BOOL) ||
	    (tg_yaml_tag_is(tag, "null") && r.kind == TG_YS_NULL) ||
	    (tg_yaml_tag_is(tag, "float") &&
	     (r.kind == TG_YS_INT || r.kind == TG_YS_UINT ||
	      r.kind == TG_YS_FLOAT)))
		return json_from_resolved(name, &r, s, n, line, col, error);
	if (tg_yaml_tag_is(tag, "int") || tg_yaml_tag_is(tag, "bool") ||
	    tg_yaml_tag_is(tag, "null") || tg_yaml_tag_is(tag, "float"))
		goto mismatch;
	if (tg_yaml_tag_is(tag, "merge")) {
		*error = tg_yaml_error_at(
		        name, TG_EPARSE, line, col,
		        "!!merge belongs only on the key \"<<\"");
		return NULL;
	}
	*error = tg_yaml_error_at(
	        name, TG_EPARSE, line, col,
	        "unknown tag \"%s\" (supported: !!str, !!int, "
	        "!!float, !!bool, !!null, !!binary, !!timestamp, "
	        "!!map, !!seq)",
	        shown);
	return NULL;
mismatch:
	*error = tagged_mismatch(name, tag, shown, n, line, col);
	return NULL;
}

/* The JSON value of a scalar event; NULL with *error set on failure. */
json_t *tg_yaml_scalar_json(const char *name,
                            const yaml_event_t *ev,
                            unsigned line,
                            unsigned col,
                            int *error)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	size_t n = ev->data.scalar.length;
	struct tg_yaml_scalar r;

	if (tag)
		return scalar_tagged(name, tag, s, n, line, col, error);
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_from_string(name, s, n, line, col, error);
	tg_yaml_resolve_plain(&r, s, n);
	if (r.kind == TG_YS_STR)
		return json_from_string(name, s, n, line, col, error);
	return json_from_resolved(name, &r, s, n, line, col, error);
}

/*
 * The string form of a scalar mapping key, as sigs.k8s.io/yaml writes
 * non-string keys: integers in decimal, booleans as true/false, floats in
 * Go's %g. A null key has no JSON form.
 */
int tg_yaml_key_from_json(tg_buf *key,
                          const char *name,
                          const json_t *v,
                          unsigned line,
                          unsigned col)
{
	char num[TG_YAML_NUMBER_TEXT_MAX];

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
		tg_yaml_format_key_float(num, sizeof(num), json_real_value(v));
		return tg_buf_puts(key, num);
	case JSON_TRUE:
		return tg_buf_puts(key, "true");
	case JSON_FALSE:
		return tg_buf_puts(key, "false");
	case JSON_NULL:
		return tg_yaml_error_at(
		        name, TG_EPARSE, line, col,
		        "mapping key is null; JSON keys must be "
		        "strings (quote it: \"null\")");
	default:
		return tg_yaml_error_at(
		        name, TG_EPARSE, line, col,
		        "mapping key is a mapping or sequence; JSON "
		        "keys must be strings");
	}
}

/* Same for a plain key, keeping uint64 and float text exact. */
int tg_yaml_key_from_plain(tg_buf *key,
                           const char *name,
                           const char *s,
                           size_t n,
                           unsigned line,
                           unsigned col)
{
	struct tg_yaml_scalar r;

	tg_yaml_resolve_plain(&r, s, n);
	if (r.kind == TG_YS_NULL)
		return tg_yaml_error_at(
		        name, TG_EPARSE, line, col,
		        "mapping key is null; JSON keys must be "
		        "strings (quote it: \"%.*s\")",
		        (int)(n > 40 ? 40 : n), s);
	return scalar_key(key, &r, s, n);
}
