/*
 * known_hosts checking for SSH remotes. libgit2 1.5 accepts any host key
 * unless the certificate callback refuses it, so this is where a
 * man-in-the-middle on the Git connection is stopped (DESIGN.md 5).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/knownhosts.h"
#include "tollgate/util.h"

/* What one line says about the host and key being checked. */
enum kh_match {
	KH_NONE,    /* line is about another host (or malformed) */
	KH_SAME,    /* host matches, same key */
	KH_OTHER,   /* host matches, another key */
	KH_REVOKED, /* @revoked line holding this key */
};

/* A field of a line: [p, p+n). */
typedef struct kh_field {
	const char *p;
	size_t n;
} kh_field;

/* Next whitespace-separated field starting at *cur within end. */
static bool next_field(kh_field *f, const char **cur, const char *end)
{
	const char *c = *cur;

	while (c < end && (*c == ' ' || *c == '\t'))
		c++;
	if (c == end)
		return false;
	f->p = c;
	while (c < end && *c != ' ' && *c != '\t')
		c++;
	f->n = (size_t)(c - f->p);
	*cur = c;
	return true;
}

/*
 * Case-insensitive glob with '*' and '?' as in ssh's match_pattern().
 * Iterative, going back only to the last '*': fuzzing found that the
 * recursive form took exponential time on a pattern of many stars (and
 * recursed once per pattern byte, which a long line could overflow).
 */
static bool glob_match(const char *s, size_t sn, const char *p, size_t pn)
{
	size_t si = 0, pi = 0, star = SIZE_MAX, star_s = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			star_s = si;
		} else if (pi < pn &&
		           (p[pi] == '?' || (p[pi] | 0x20) == (s[si] | 0x20))) {
			si++;
			pi++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

/* "|1|salt|hash": HMAC-SHA1 of the name under the salt equals hash. */
static bool hashed_match(const char *name, const char *p, size_t n)
{
	const char *bar;
	unsigned char *salt = NULL, *hash = NULL;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	size_t salt_len = 0, hash_len = 0;
	char *salt_b64 = NULL, *hash_b64 = NULL;
	bool ok = false;

	p += 3;
	n -= 3;
	if (!(bar = memchr(p, '|', n)))
		return false;
	salt_b64 = tg_strndup(p, (size_t)(bar - p));
	hash_b64 = tg_strndup(bar + 1, n - (size_t)(bar - p) - 1);
	if (tg_base64_decode(&salt, &salt_len, salt_b64, strlen(salt_b64)) <
	            0 ||
	    tg_base64_decode(&hash, &hash_len, hash_b64, strlen(hash_b64)) < 0)
		goto out;
	if (hash_len != 20 || salt_len == 0 || salt_len > 64)
		goto out;
	if (!HMAC(EVP_sha1(), salt, (int)salt_len, (const unsigned char *)name,
	          strlen(name), mac, &mac_len))
		goto out;
	ok = mac_len == 20 && CRYPTO_memcmp(mac, hash, 20) == 0;
out:
	free(salt);
	free(hash);
	free(salt_b64);
	free(hash_b64);
	tg_error_clear();
	return ok;
}

/* Does the comma-separated pattern list name host? A matching "!pattern"
 * excludes the line whatever else matches (sshd(8)). */
static bool hosts_match(const char *name, const kh_field *hosts)
{
	const char *c = hosts->p, *end = hosts->p + hosts->n;
	bool positive = false;

	while (c < end) {
		const char *comma = memchr(c, ',', (size_t)(end - c));
		size_t n = comma ? (size_t)(comma - c) : (size_t)(end - c);

		if (n > 3 && !memcmp(c, "|1|", 3)) {
			if (hashed_match(name, c, n))
				positive = true;
		} else if (n > 1 && c[0] == '!') {
			if (glob_match(name, strlen(name), c + 1, n - 1))
				return false;
		} else if (glob_match(name, strlen(name), c, n)) {
			positive = true;
		}
		c += n + (comma ? 1 : 0);
	}
	return positive;
}

/* Compare the line's base64 key with the presented key. */
static bool key_equal(const kh_field *b64,
                      const unsigned char *key,
                      size_t key_len,
                      const unsigned char *sha256)
{
	unsigned char *blob = NULL, digest[TG_SHA256_LEN];
	size_t blob_len = 0;
	bool same = false;

	if (tg_base64_decode(&blob, &blob_len, b64->p, b64->n) < 0) {
		tg_error_clear();
		return false;
	}
	if (key) {
		same = blob_len == key_len &&
		       CRYPTO_memcmp(blob, key, key_len) == 0;
	} else if (sha256) {
		tg_sha256(digest, blob, blob_len);
		same = CRYPTO_memcmp(digest, sha256, TG_SHA256_LEN) == 0;
	}
	free(blob);
	return same;
}

/* Classify one line (without its newline). */
static enum kh_match check_line(const char *line,
                                const char *end,
                                const char *name,
                                const unsigned char *key,
                                size_t key_len,
                                const unsigned char *sha256)
{
	kh_field f, hosts, type, b64;
	const char *cur = line;
	bool revoked = false;

	if (!next_field(&f, &cur, end) || f.p[0] == '#')
		return KH_NONE;
	if (f.p[0] == '@') {
		if (f.n == 8 && !memcmp(f.p, "@revoked", 8))
			revoked = true;
		else
			return KH_NONE; /* @cert-authority: not supported */
		if (!next_field(&f, &cur, end))
			return KH_NONE;
	}
	hosts = f;
	if (!next_field(&type, &cur, end) || !next_field(&b64, &cur, end))
		return KH_NONE;
	if (!revoked && !hosts_match(name, &hosts))
		return KH_NONE;
	if (key_equal(&b64, key, key_len, sha256))
		return revoked ? KH_REVOKED : KH_SAME;
	return revoked ? KH_NONE : KH_OTHER;
}

/* OpenSSH's fingerprint form: "SHA256:" + unpadded base64. */
static char *fingerprint(const unsigned char *key,
                         size_t key_len,
                         const unsigned char *sha256)
{
	unsigned char digest[TG_SHA256_LEN];
	char *b64, *fp;
	size_t n;

	if (key)
		tg_sha256(digest, key, key_len);
	else
		memcpy(digest, sha256, TG_SHA256_LEN);
	b64 = tg_base64_encode(digest, TG_SHA256_LEN);
	n = strlen(b64);
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	fp = tg_aprintf("SHA256:%s", b64);
	free(b64);
	return fp;
}

/* What the lines of a known_hosts file say about one host's key. */
typedef struct kh_scan {
	unsigned revoked_line; /* a @revoked line lists the key */
	unsigned other_line;   /* first line listing another key */
	bool same;             /* a line lists the key */
} kh_scan;

/* Read the lines of data (len bytes) for host name; stops at @revoked. */
static void scan_lines(kh_scan *out,
                       const char *data,
                       size_t len,
                       const char *name,
                       const unsigned char *key,
                       size_t key_len,
                       const unsigned char *sha256)
{
	const char *line, *end;
	unsigned lineno = 0;

	memset(out, 0, sizeof(*out));
	for (line = data; line < data + len; line = end + 1) {
		enum kh_match m;

		lineno++;
		if (!(end = memchr(line, '\n', (size_t)(data + len - line))))
			end = data + len;
		m = check_line(line,
		               end > line && end[-1] == '\r' ? end - 1 : end,
		               name, key, key_len, sha256);
		if (m == KH_REVOKED) {
			out->revoked_line = lineno;
			return;
		}
		if (m == KH_SAME)
			out->same = true;
		else if (m == KH_OTHER && !out->other_line)
			out->other_line = lineno;
	}
}

/* The refusal for a host the file does not vouch for, naming what to do. */
static int refuse(const kh_scan *sc,
                  const char *path,
                  const char *host,
                  unsigned port,
                  const char *name,
                  const char *fp)
{
	char port_opt[TG_KNOWN_HOSTS_PORT_OPT_BYTES] = "";

	if (sc->revoked_line)
		return tg_error_set(TG_EUNTRUSTED,
		                    "ssh host %s presented key %s, which %s:%u "
		                    "marks @revoked; refusing to connect",
		                    name, fp, path, sc->revoked_line);
	if (sc->other_line)
		return tg_error_set(
		        TG_EUNTRUSTED,
		        "ssh host key for %s does not match %s:%u: the server "
		        "presented %s; this may be a man-in-the-middle attack; "
		        "if the key was changed on purpose, update known_hosts",
		        name, path, sc->other_line, fp);
	if (port && port != 22)
		snprintf(port_opt, sizeof(port_opt), " -p %u", port);
	return tg_error_set(TG_EUNTRUSTED,
	                    "ssh host %s is not in known_hosts %s (its key is "
	                    "%s); add it, e.g. with ssh-keyscan%s %s >> %s, "
	                    "after checking the fingerprint",
	                    name, path, fp, port_opt, host, path);
}

int tg_known_hosts_check_data(const char *path,
                              const char *data,
                              size_t len,
                              const char *host,
                              unsigned port,
                              const unsigned char *key,
                              size_t key_len,
                              const unsigned char *sha256)
{
	char *name = NULL, *fp = NULL;
	kh_scan sc;
	int error;

	if (!key && !sha256)
		return tg_error_set(TG_EUNTRUSTED,
		                    "ssh host %s: the server's host key is not "
		                    "available, so it cannot be checked",
		                    host);
	if (len > TG_MAX_KNOWN_HOSTS_BYTES)
		return tg_error_set(TG_ETOOBIG, "known_hosts %s: over %u bytes",
		                    path, (unsigned)TG_MAX_KNOWN_HOSTS_BYTES);
	/* sshd(8): port 22 is written as the bare host name. */
	name = port && port != 22 ? tg_aprintf("[%s]:%u", host, port)
	                          : tg_strdup(host);
	fp = fingerprint(key, key_len, sha256);
	scan_lines(&sc, data, len, name, key, key_len, sha256);
	error = sc.same && !sc.revoked_line
	                ? 0
	                : refuse(&sc, path, host, port, name, fp);
	free(fp);
	free(name);
	return error;
}

int tg_known_hosts_check(const char *path,
                         const char *host,
                         unsigned port,
                         const unsigned char *key,
                         size_t key_len,
                         const unsigned char *sha256)
{
	char *data = NULL;
	size_t len = 0;
	int error;

	if (!key && !sha256)
		return tg_error_set(TG_EUNTRUSTED,
		                    "ssh host %s: the server's host key is not "
		                    "available, so it cannot be checked",
		                    host);
	if ((error = tg_file_read(&data, &len, path,
	                          TG_MAX_KNOWN_HOSTS_BYTES)) < 0)
		return tg_error_prefix(error, "known_hosts");
	error = tg_known_hosts_check_data(path, data, len, host, port, key,
	                                  key_len, sha256);
	free(data);
	return error;
}
