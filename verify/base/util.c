/* Bounded shared helpers: see include/tollgate/util.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "tollgate/error.h"
#include "tollgate/util.h"

void tg_oom(size_t n)
{
	fprintf(stderr, "tollgate: out of memory allocating %zu bytes\n", n);
	abort();
}

void *tg_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		tg_oom(n);
	return p;
}

void *tg_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		tg_oom(n * size);
	return p;
}

void *tg_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		tg_oom(n);
	return q;
}

char *tg_strdup(const char *s)
{
	return tg_strndup(s, strlen(s));
}

char *tg_strndup(const char *s, size_t n)
{
	char *p = tg_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *tg_aprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	/* glibc fails only when the text would pass INT_MAX bytes (tollgate
	 * formats no wide strings): a request no allocation can serve. */
	if (n < 0)
		tg_oom((size_t)INT_MAX + 1);
	p = tg_malloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

bool tg_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool tg_str_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

size_t tg_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

void tg_qsort(void *base,
              size_t n,
              size_t size,
              int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

void *tg_bsearch(const void *key,
                 const void *base,
                 size_t n,
                 size_t size,
                 int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, base, n, size, cmp) : NULL;
}

int tg_parse_u64(uint64_t *out, const char *s, size_t len, uint64_t max)
{
	uint64_t v = 0;
	size_t i;

	/* *out is set on every path: the failures return tg_error_set()'s
	 * result, which the compiler cannot prove negative, so a caller's
	 * "if (tg_parse_u64(&n, ...) < 0) fail; use n" reads to it (gcc
	 * -O2 -Wmaybe-uninitialized) as a possible use of an unset n. */
	*out = 0;
	if (len == 0)
		return tg_error_set(TG_EPARSE, "empty number");
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return tg_error_set(TG_EPARSE,
			                    "\"%.*s\" is not a number",
			                    (int)(len > 40 ? 40 : len), s);
		d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return tg_error_set(TG_ETOOBIG,
			                    "number \"%.*s\" is over %llu",
			                    (int)(len > 40 ? 40 : len), s,
			                    (unsigned long long)max);
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

void tg_hex_encode(char *out, const unsigned char *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tg_hex_decode(unsigned char *out,
                  size_t out_len,
                  const char *hex,
                  size_t hex_len)
{
	size_t i;

	if (hex_len != 2 * out_len)
		return tg_error_set(TG_EPARSE,
		                    "hex string of %zu characters, "
		                    "expected %zu",
		                    hex_len, 2 * out_len);
	for (i = 0; i < out_len; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return tg_error_set(TG_EPARSE, "bad hex character");
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Value of each byte as a base64 digit (standard alphabet), -1 for none:
 * a table, as base64 of certificates and bundles is decoded by the
 * megabyte. */
static const signed char b64_values[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63, 52, 53, 54, 55, 56, 57,
	58, 59, 60, 61, -1, -1, -1, -1, -1, -1, -1, 0,  1,  2,  3,  4,  5,  6,
	7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
	25, -1, -1, -1, -1, -1, -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36,
	37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1,
};

static int b64_value(unsigned char c)
{
	return b64_values[c];
}

int tg_base64_decode(unsigned char **out,
                     size_t *out_len,
                     const char *in,
                     size_t in_len)
{
	unsigned char *p = tg_malloc(in_len / 4 * 3 + 4);
	size_t n = 0, i, pad = 0;
	unsigned acc = 0, bits = 0, chars = 0;

	*out = NULL;
	for (i = 0; i < in_len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v;

		if (c == '\n' || c == '\r')
			continue;
		if (c == '=') {
			pad++;
			chars++;
			continue;
		}
		v = b64_value(c);
		if (v < 0 || pad)
			goto bad;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		chars++;
		if (bits >= 8) {
			bits -= 8;
			p[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Padding is required, at most two '=', and leftover bits zero. */
	if (chars % 4 != 0 || pad > 2 || acc != 0)
		goto bad;
	p[n] = '\0';
	*out = p;
	*out_len = n;
	return 0;
bad:
	free(p);
	return tg_error_set(TG_EPARSE, "invalid base64");
}

char *tg_base64_encode(const unsigned char *data, size_t len)
{
	char *out = tg_malloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

void tg_sha256(unsigned char out[TG_SHA256_LEN], const void *data, size_t len)
{
	SHA256(data, len, out);
}

struct tg_sha256_stream {
	EVP_MD_CTX *md;
};

tg_sha256_stream *tg_sha256_begin(void)
{
	tg_sha256_stream *s = tg_malloc(sizeof(*s));

	/* SHA-256 of the default provider: only memory can be missing. */
	if (!(s->md = EVP_MD_CTX_new()) ||
	    EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
		tg_oom(sizeof(*s));
	return s;
}

void tg_sha256_add(tg_sha256_stream *s, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(s->md, data, len) != 1)
		tg_oom(len);
}

void tg_sha256_end(unsigned char out[TG_SHA256_LEN], tg_sha256_stream *s)
{
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(s->md, out, &n) != 1 || n != TG_SHA256_LEN)
		tg_oom(TG_SHA256_LEN);
	EVP_MD_CTX_free(s->md);
	free(s);
}

void tg_sha256_digest_str(char out[TG_DIGEST_STR_LEN + 1],
                          const void *data,
                          size_t len)
{
	unsigned char md[TG_SHA256_LEN];

	tg_sha256(md, data, len);
	memcpy(out, "sha256:", 7);
	tg_hex_encode(out + 7, md, TG_SHA256_LEN);
}

static bool is_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

bool tg_digest_is_valid(const char *s)
{
	if (tg_str_has_prefix(s, "sha256:"))
		return strlen(s) == 7 + 64 && is_lower_hex(s + 7, 64);
	if (tg_str_has_prefix(s, "sha512:"))
		return strlen(s) == 7 + 128 && is_lower_hex(s + 7, 128);
	return false;
}

int tg_parse_duration(int64_t *seconds_out, const char *s)
{
	const char *p = s;
	int64_t total = 0;

	if (!*s)
		return tg_error_set(TG_EPARSE, "empty duration");
	while (*p) {
		uint64_t n;
		int64_t unit;
		const char *start = p;

		while (*p >= '0' && *p <= '9')
			p++;
		if (p == start || tg_parse_u64(&n, start, (size_t)(p - start),
		                               1000000000ull) < 0)
			goto bad;
		switch (*p) {
		case 'd':
			unit = 86400;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'm':
			unit = 60;
			break;
		case 's':
			unit = 1;
			break;
		default:
			goto bad;
		}
		p++;
		total += (int64_t)n * unit;
		if (total > (int64_t)100 * 365 * 86400)
			goto bad;
	}
	*seconds_out = total;
	return 0;
bad:
	return tg_error_set(TG_EPARSE,
	                    "bad duration \"%.64s\": expected a "
	                    "number and a unit d, h, m or s, like 30s, 7d "
	                    "or 1h30m",
	                    s);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil algorithm, a published formula). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int parse_date(const char *s, int *y, int *mo, int *d)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30,
		                     31, 31, 30, 31, 30, 31 };

	if (strlen(s) < 10 || digits(s, 4, y) || s[4] != '-' ||
	    digits(s + 5, 2, mo) || s[7] != '-' || digits(s + 8, 2, d))
		return -1;
	if (*mo < 1 || *mo > 12 || *d < 1 || *d > mdays[*mo - 1])
		return -1;
	if (*mo == 2 && *d == 29 &&
	    !((*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0))
		return -1;
	return 0;
}

int tg_parse_rfc3339(int64_t *out, const char *s)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	const char *p;
	int64_t t;

	if (parse_date(s, &y, &mo, &d) < 0 || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec) || h > 23 || mi > 59 ||
	    sec > 60)
		goto bad;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			goto bad;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
	    mi * 60 + (sec == 60 ? 59 : sec);
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		*out = t;
		return 0;
	}
	if ((*p == '+' || *p == '-') && !digits(p + 1, 2, &oh) && p[3] == ':' &&
	    !digits(p + 4, 2, &om) && p[6] == '\0' && oh < 24 && om < 60) {
		int64_t off = oh * 3600 + om * 60;
		*out = *p == '+' ? t - off : t + off;
		return 0;
	}
bad:
	return tg_error_set(TG_EPARSE,
	                    "bad time \"%.64s\": expected RFC 3339 "
	                    "like 2026-01-02T03:04:05Z",
	                    s);
}

int tg_parse_date_end(int64_t *out, const char *s)
{
	int y, mo, d;

	if (strlen(s) != 10 || parse_date(s, &y, &mo, &d) < 0)
		return tg_error_set(TG_EPARSE,
		                    "bad date \"%.64s\": expected "
		                    "YYYY-MM-DD",
		                    s);
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + 86399;
	return 0;
}

void tg_format_rfc3339(char out[21], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static _Atomic int64_t fixed_clock;
static _Atomic int64_t clock_offset;
static const char *_Atomic clock_file;
static _Atomic int64_t clock_file_read; /* when it was read last */

/* The offset in the clock file, read at most once a second (a test moves
 * a running agent's clock by rewriting it). A missing or bad file keeps
 * the offset; errno and the error state are left as they were. */
static void clock_file_reload(const char *path, int64_t now)
{
	char buf[32], *end;
	long long v;
	ssize_t n;
	int fd, saved = errno;

	if (clock_file_read == now)
		return;
	clock_file_read = now;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		errno = saved;
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		errno = 0;
		v = strtoll(buf, &end, 10);
		if (end != buf && (*end == '\0' || *end == '\n') && !errno &&
		    v > -INT32_MAX && v < INT32_MAX)
			clock_offset = v;
	}
	errno = saved;
}

int64_t tg_now(void)
{
	int64_t f = fixed_clock, now;
	const char *file = clock_file;

	if (f)
		return f;
	now = (int64_t)time(NULL);
	if (file)
		clock_file_reload(file, now);
	return now + clock_offset;
}

void tg_clock_set_offset_file(const char *path)
{
	clock_file_read = 0;
	clock_file = path;
}

void tg_clock_set_offset(int64_t seconds)
{
	clock_offset = seconds;
}

void tg_clock_set(int64_t fixed_unix_time)
{
	fixed_clock = fixed_unix_time;
}

double tg_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int tg_file_read(char **out, size_t *len_out, const char *path, size_t max)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	int fd, error = 0;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return tg_error_set(errno == ENOENT ? TG_ENOTFOUND : TG_EIO,
		                    "%s: cannot open: %s", path,
		                    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		error = tg_error_set(TG_EIO, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		error = tg_error_set(TG_ETOOBIG,
		                     "%s: %lld bytes, over the "
		                     "limit of %zu",
		                     path, (long long)st.st_size, max);
		goto out;
	}
	data = tg_malloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error = tg_error_set(
			        TG_EIO, "%s: read failed: %s", path,
			        n ? strerror(errno) : "file shrank");
			goto out;
		}
		got += (size_t)n;
	}
	data[got] = '\0';
	*out = data;
	data = NULL;
	if (len_out)
		*len_out = got;
out:
	free(data);
	close(fd);
	return error;
}

int tg_file_write_atomic(const char *path, const void *data, size_t len)
{
	char *tmp = tg_aprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	int fd, error = 0;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
	    0) {
		error = tg_error_set(TG_EIO, "%s: cannot create: %s", tmp,
		                     strerror(errno));
		goto out;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = tg_error_set(TG_EIO, "%s: write failed: %s",
			                     tmp, strerror(errno));
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!error && fsync(fd) < 0)
		error = tg_error_set(TG_EIO, "%s: fsync failed: %s", tmp,
		                     strerror(errno));
	close(fd);
	if (!error && rename(tmp, path) < 0)
		error = tg_error_set(TG_EIO, "%s: rename failed: %s", path,
		                     strerror(errno));
	if (error)
		unlink(tmp);
out:
	free(tmp);
	return error;
}

char *tg_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	if (la == 0)
		return tg_strdup(b);
	if (a[la - 1] == '/')
		return tg_aprintf("%s%s", a, b);
	return tg_aprintf("%s/%s", a, b);
}

bool tg_path_is_safe_relative(const char *p)
{
	const char *c = p;

	if (!*p || *p == '/')
		return false;
	while (*c) {
		const char *end = strchr(c, '/');
		size_t n = end ? (size_t)(end - c) : strlen(c);

		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!end)
			break;
		c = end + 1;
		if (!*c)
			return false;
	}
	return true;
}

int tg_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}
