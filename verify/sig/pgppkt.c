/*
 * OpenPGP armour (RFC 9580 6.2, with the CRC-24 of 6.1.1), packet
 * headers (4.2), and the field readers the key and signature parsers
 * share (3.1 scalars, 3.2 multiprecision integers, 5.2.3.7 signature
 * subpackets). Every length read is checked against what is left and
 * against a limit of tollgate/limits.h before anything is read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "pgp_int.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

/* Armour ------------------------------------------------------------------- */

uint32_t tg_pgp_crc24(const unsigned char *p, size_t n)
{
	uint32_t crc = 0xB704CEu;
	size_t i;
	int b;

	for (i = 0; i < n; i++) {
		crc ^= (uint32_t)p[i] << 16;
		for (b = 0; b < 8; b++) {
			crc <<= 1;
			if (crc & 0x1000000u)
				crc ^= 0x1864CFBu;
		}
	}
	return crc & 0xFFFFFFu;
}

/* A line of the armour: [b, e) without its line end; *pos moves on. */
typedef struct line {
	const char *b;
	size_t n;
} line;

static bool next_line(line *l, const char *s, size_t n, size_t *pos)
{
	size_t i = *pos;

	if (i >= n)
		return false;
	l->b = s + i;
	while (i < n && s[i] != '\n')
		i++;
	l->n = (size_t)(s + i - l->b);
	*pos = i < n ? i + 1 : i;
	while (l->n > 0 && (l->b[l->n - 1] == '\r' || l->b[l->n - 1] == ' ' ||
	                    l->b[l->n - 1] == '\t'))
		l->n--;
	return true;
}

static bool line_is(const line *l, const char *pre, const char *label)
{
	size_t pn = strlen(pre), ln = strlen(label);

	return l->n == pn + ln + 5 && !memcmp(l->b, pre, pn) &&
	       !memcmp(l->b + pn, label, ln) &&
	       !memcmp(l->b + pn + ln, "-----", 5);
}

static bool is_b64(const line *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		char c = l->b[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/' ||
		      c == '='))
			return false;
	}
	return true;
}

/* The "=XXXX" checksum line: 4 base64 characters, 24 bits. */
static int crc_line(uint32_t *crc, const line *l)
{
	unsigned char out[4];

	if (l->n != 5 || !is_b64(l) ||
	    EVP_DecodeBlock(out, (const unsigned char *)l->b + 1, 4) != 3)
		return tg_error_set(TG_EPARSE,
		                    "armour checksum line is not '=' and 4 "
		                    "base64 characters");
	*crc = (uint32_t)out[0] << 16 | (uint32_t)out[1] << 8 | out[2];
	return 0;
}

/* Where the decoding of an armour body stands. */
typedef struct body_state {
	EVP_ENCODE_CTX *ctx;
	unsigned char *out;
	size_t len;
	bool headers, crc_seen;
	uint32_t crc;
} body_state;

/* One line between the BEGIN and END lines. */
static int body_line(body_state *st, const line *l)
{
	int got = 0, error;

	/* Header lines ("Version: ...") until a blank line. */
	if (st->headers && (l->n == 0 || memchr(l->b, ':', l->n))) {
		st->headers = l->n != 0;
		return 0;
	}
	st->headers = false;
	if (st->crc_seen || l->n == 0)
		return tg_error_set(TG_EPARSE,
		                    "armour: a line after the checksum or "
		                    "after a blank line");
	if (l->b[0] == '=' && l->n == 5 && l->b[1] != '=') {
		if ((error = crc_line(&st->crc, l)) < 0)
			return error;
		st->crc_seen = true;
		return 0;
	}
	if (!is_b64(l) ||
	    EVP_DecodeUpdate(st->ctx, st->out + st->len, &got,
	                     (const unsigned char *)l->b, (int)l->n) < 0)
		return tg_error_set(TG_EPARSE, "armour: invalid base64");
	st->len += (size_t)got;
	return 0;
}

/* The base64 body through to the END line. */
static int body(unsigned char *out,
                size_t *out_len,
                const char *s,
                size_t n,
                size_t *pos,
                const char *label)
{
	body_state st = { EVP_ENCODE_CTX_new(), out, 0, true, false, 0 };
	int got = 0, error = 1;
	line l;

	if (!st.ctx)
		return tg_error_set(TG_ERROR, "out of memory");
	EVP_DecodeInit(st.ctx);
	while (error > 0 && next_line(&l, s, n, pos)) {
		if (line_is(&l, "-----END ", label))
			error = 0;
		else if ((error = body_line(&st, &l)) == 0)
			error = 1;
	}
	if (error > 0)
		error = tg_error_set(TG_EPARSE,
		                     "armour: truncated (no -----END %s----- "
		                     "line)",
		                     label);
	else if (error == 0 && EVP_DecodeFinal(st.ctx, out + st.len, &got) < 0)
		error = tg_error_set(TG_EPARSE, "armour: invalid base64 end");
	st.len += (size_t)got;
	if (error == 0 && st.crc_seen && tg_pgp_crc24(out, st.len) != st.crc)
		error = tg_error_set(TG_EPARSE,
		                     "armour: checksum (CRC-24) does not match "
		                     "the data: the block is damaged");
	*out_len = st.len;
	EVP_ENCODE_CTX_free(st.ctx);
	return error;
}

int tg_pgp_dearmour(unsigned char **out,
                    size_t *out_len,
                    size_t *next,
                    const char *s,
                    size_t n,
                    const char *label)
{
	size_t pos = *next;
	unsigned char *buf;
	int error;
	line l;

	*out = NULL;
	*out_len = 0;
	for (;;) {
		if (!next_line(&l, s, n, &pos)) {
			*next = n;
			return tg_error_set(TG_ENOTFOUND,
			                    "no -----BEGIN %s----- line",
			                    label);
		}
		if (line_is(&l, "-----BEGIN ", label))
			break;
	}
	/* base64 decodes to at most 3/4 of its size: n is enough */
	buf = tg_malloc(n + 4);
	error = body(buf, out_len, s, n, &pos, label);
	*next = pos;
	if (error < 0) {
		free(buf);
		return error;
	}
	*out = buf;
	return 0;
}

/* Fields ------------------------------------------------------------------- */

int tg_pgp_rd_bytes(tg_pgp_rd *r,
                    const unsigned char **p,
                    size_t n,
                    const char *what)
{
	if (r->n < n)
		return tg_error_set(
		        TG_EPARSE, "%s: truncated (%zu bytes needed, %zu left)",
		        what, n, r->n);
	*p = r->p;
	r->p += n;
	r->n -= n;
	return 0;
}

int tg_pgp_rd_u8(tg_pgp_rd *r, unsigned *out, const char *what)
{
	const unsigned char *p = NULL;
	int error;

	if ((error = tg_pgp_rd_bytes(r, &p, 1, what)) < 0)
		return error;
	*out = p[0];
	return 0;
}

int tg_pgp_rd_u16(tg_pgp_rd *r, unsigned *out, const char *what)
{
	const unsigned char *p = NULL;
	int error;

	if ((error = tg_pgp_rd_bytes(r, &p, 2, what)) < 0)
		return error;
	*out = (unsigned)p[0] << 8 | p[1];
	return 0;
}

int tg_pgp_rd_u32(tg_pgp_rd *r, uint32_t *out, const char *what)
{
	const unsigned char *p = NULL;
	int error;

	if ((error = tg_pgp_rd_bytes(r, &p, 4, what)) < 0)
		return error;
	*out = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
	return 0;
}

int tg_pgp_rd_mpi(tg_pgp_rd *r,
                  const unsigned char **p,
                  size_t *n,
                  const char *what)
{
	unsigned bits;
	int error;

	if ((error = tg_pgp_rd_u16(r, &bits, what)) < 0)
		return error;
	if (bits > TG_MAX_PGP_MPI_BITS)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: integer of %u bits over the limit of "
		                    "%u",
		                    what, bits, TG_MAX_PGP_MPI_BITS);
	if ((error = tg_pgp_rd_bytes(r, p, (bits + 7) / 8, what)) < 0)
		return error;
	*n = (bits + 7) / 8;
	while (*n > 0 && **p == 0) {
		(*p)++;
		(*n)--;
	}
	if (*n == 0)
		return tg_error_set(TG_EPARSE, "%s: zero", what);
	return 0;
}

/* Packets ------------------------------------------------------------------ */

/* New-format length (RFC 9580 4.2.1); partial lengths are refused. */
static int new_length(tg_pgp_rd *r, uint32_t *len)
{
	unsigned o1, o2;
	int error;

	if ((error = tg_pgp_rd_u8(r, &o1, "packet length")) < 0)
		return error;
	if (o1 < 192) {
		*len = o1;
		return 0;
	}
	if (o1 < 224) {
		if ((error = tg_pgp_rd_u8(r, &o2, "packet length")) < 0)
			return error;
		*len = ((o1 - 192) << 8) + o2 + 192;
		return 0;
	}
	if (o1 == 255)
		return tg_pgp_rd_u32(r, len, "packet length");
	return tg_error_set(TG_EPARSE,
	                    "partial body length (only data packets may "
	                    "use it, never keys or signatures)");
}

/* Old-format length (RFC 9580 4.2.2); indeterminate is refused. */
static int old_length(tg_pgp_rd *r, unsigned type, uint32_t *len)
{
	unsigned v;
	int error;

	switch (type) {
	case 0:
		error = tg_pgp_rd_u8(r, &v, "packet length");
		*len = v;
		return error;
	case 1:
		error = tg_pgp_rd_u16(r, &v, "packet length");
		*len = v;
		return error;
	case 2:
		return tg_pgp_rd_u32(r, len, "packet length");
	default:
		return tg_error_set(TG_EPARSE,
		                    "indeterminate packet length (not allowed "
		                    "for keys and signatures)");
	}
}

int tg_pgp_next_packet(tg_pgp_rd *r, tg_pgp_pkt *out)
{
	uint32_t len = 0;
	unsigned b;
	int error;

	if ((error = tg_pgp_rd_u8(r, &b, "packet tag")) < 0)
		return error;
	if (!(b & 0x80))
		return tg_error_set(TG_EPARSE,
		                    "not an OpenPGP packet (tag octet 0x%02x)",
		                    b);
	if (b & 0x40) {
		out->tag = (int)(b & 0x3f);
		error = new_length(r, &len);
	} else {
		out->tag = (int)((b >> 2) & 0x0f);
		error = old_length(r, b & 3, &len);
	}
	if (error < 0)
		return error;
	if (out->tag == 0)
		return tg_error_set(TG_EPARSE,
		                    "packet with the reserved tag 0");
	if (len > TG_MAX_PGP_PACKET)
		return tg_error_set(
		        TG_ETOOBIG,
		        "packet (tag %d) of %u bytes over the limit "
		        "of %u",
		        out->tag, (unsigned)len, TG_MAX_PGP_PACKET);
	if (len > r->n)
		return tg_error_set(TG_EPARSE,
		                    "packet (tag %d) of %u bytes but only %zu "
		                    "left",
		                    out->tag, (unsigned)len, r->n);
	out->body = r->p;
	out->len = len;
	r->p += len;
	r->n -= len;
	return 0;
}

/* Subpackets --------------------------------------------------------------- */

int tg_pgp_next_subpkt(tg_pgp_rd *r, tg_pgp_subpkt *out)
{
	const unsigned char *p = NULL;
	unsigned o1, o2;
	uint32_t len;
	int error;

	if ((error = tg_pgp_rd_u8(r, &o1, "subpacket length")) < 0)
		return error;
	if (o1 < 192) {
		len = o1;
	} else if (o1 < 255) {
		if ((error = tg_pgp_rd_u8(r, &o2, "subpacket length")) < 0)
			return error;
		len = ((o1 - 192) << 8) + o2 + 192;
	} else if ((error = tg_pgp_rd_u32(r, &len, "subpacket length")) < 0) {
		return error;
	}
	if (len == 0 || len > r->n)
		return tg_error_set(TG_EPARSE,
		                    "subpacket of %u bytes with %zu left",
		                    (unsigned)len, r->n);
	if ((error = tg_pgp_rd_bytes(r, &p, len, "subpacket")) < 0)
		return error;
	out->type = p[0] & 0x7f;
	out->critical = (p[0] & 0x80) != 0;
	out->p = p + 1;
	out->n = len - 1;
	return 0;
}

void tg_pgp_time_str(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(out, 32, "%lld", (long long)t);
}
