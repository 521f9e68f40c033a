/*
 * A detached OpenPGP signature over bytes against the keys of a policy
 * signer (tollgate/openpgp.h): one armoured v4 signature packet of type
 * 0x00 (binary document), its issuer found among the keys and subkeys,
 * the key's revocation, flags and expiry honoured, then the signature
 * itself checked (pgpsig.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgp_int.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

#define SIG_BLOCK "PGP SIGNATURE"

static bool only_space(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

/* The one signature packet of the armour; *raw keeps its bytes. */
static int
read_sig(tg_pgp_sig *s, unsigned char **raw, const char *sig, size_t sig_len)
{
	size_t raw_len, next = 0;
	tg_pgp_pkt pk;
	tg_pgp_rd r;
	int error;

	if (sig_len > TG_MAX_COMMIT_SIGNATURE_BYTES)
		return tg_error_set(TG_ETOOBIG, "signature over %u bytes",
		                    TG_MAX_COMMIT_SIGNATURE_BYTES);
	if ((error = tg_pgp_dearmour(raw, &raw_len, &next, sig, sig_len,
	                             SIG_BLOCK)) < 0)
		return error == TG_ENOTFOUND ? TG_EPARSE : error;
	if (!only_space(sig + next, sig_len - next))
		return tg_error_set(TG_EPARSE, "text after the signature's "
		                               "armour");
	r.p = *raw;
	r.n = raw_len;
	if ((error = tg_pgp_next_packet(&r, &pk)) < 0)
		return error;
	if (pk.tag != TG_PGP_TAG_SIG || r.n != 0)
		return tg_error_set(TG_EPARSE,
		                    "not one signature packet (tag %d, %zu "
		                    "bytes after it)",
		                    pk.tag, r.n);
	if ((error = tg_pgp_sig_parse(s, pk.body, pk.len)) < 0)
		return error;
	if (s->type != 0x00)
		return tg_error_set(TG_EINVALID,
		                    "signature of type 0x%02x (a detached "
		                    "signature of a binary document, 0x00, "
		                    "is needed)",
		                    s->type);
	return 0;
}

/* What the signature says of its issuer, for messages and the status. */
static void describe(tg_sig_info *info, const tg_pgp_sig *s)
{
	char id[2 * TG_PGP_FP_LEN + 1], buf[24];
	size_t i;

	if (!info)
		return;
	tg_strlcpy(info->format, "openpgp", sizeof(info->format));
	if (s->has_fp)
		tg_hex_encode(id, s->issuer_fp, TG_PGP_FP_LEN);
	else if (s->has_id)
		tg_hex_encode(id, s->issuer_id, 8);
	else
		tg_strlcpy(id, "(no issuer)", sizeof(id));
	for (i = 0; id[i]; i++)
		if (id[i] >= 'a' && id[i] <= 'f')
			id[i] = (char)(id[i] - 'a' + 'A');
	snprintf(info->key, sizeof(info->key), "%s %s",
	         tg_pgp_alg_name((int)s->pkalg, buf), id);
}

static int find_key(const tg_pgp_cert **cert_out,
                    const tg_pgp_key **key_out,
                    const tg_pgp_keyring *kr,
                    const tg_pgp_sig *s)
{
	size_t i, j;

	for (i = 0; i < kr->n; i++) {
		const tg_pgp_cert *c = &kr->c[i];
		*cert_out = c;
		*key_out = &c->primary;
		if (tg_pgp_sig_from(s, &c->primary))
			return 0;
		for (j = 0; j < c->nsub; j++) {
			*key_out = &c->sub[j];
			if (c->sub[j].pkt && tg_pgp_sig_from(s, &c->sub[j]))
				return 0;
		}
	}
	return tg_error_set(TG_ENOTFOUND, "no key of %s made the signature",
	                    kr->name);
}

static int check_expiry(const tg_pgp_key *k, int64_t t, const char *what)
{
	char a[32], b[32];

	if (!k->expires || t < k->expires)
		return 0;
	tg_pgp_time_str(a, k->expires);
	tg_pgp_time_str(b, t);
	return tg_error_set(TG_EEXPIRED, "key %s expired on %s, before %s (%s)",
	                    k->fp_hex, a, what, b);
}

/* Whether key k of cert may have made s at its time and at when. */
static int usable(const tg_pgp_cert *c,
                  const tg_pgp_key *k,
                  const tg_pgp_sig *s,
                  int64_t when)
{
	char a[32];
	int error;

	if (c->primary.refused[0])
		return tg_error_set(c->primary.refused_code, "%s",
		                    c->primary.refused);
	if (k != &c->primary && k->refused[0])
		return tg_error_set(k->refused_code ? k->refused_code
		                                    : TG_EUNTRUSTED,
		                    "%s", k->refused);
	/* a primary key without flags may sign (RFC 9580 5.2.3.29) */
	if (k == &c->primary && k->has_flags && !(k->flags & TG_PGP_FLAG_SIGN))
		return tg_error_set(TG_EUNTRUSTED,
		                    "primary key %s may not sign (no sign "
		                    "flag)",
		                    k->fp_hex);
	if (s->created < k->created)
		return tg_error_set(TG_EUNTRUSTED,
		                    "signature made before key %s existed",
		                    k->fp_hex);
	if ((error = check_expiry(&c->primary, s->created, "the signature")) <
	            0 ||
	    (error = check_expiry(k, s->created, "the signature")) < 0 ||
	    (error = check_expiry(&c->primary, when, "the commit time")) < 0 ||
	    (error = check_expiry(k, when, "the commit time")) < 0)
		return error;
	if (s->sig_expires && when >= s->created + s->sig_expires) {
		tg_pgp_time_str(a, s->created + s->sig_expires);
		return tg_error_set(TG_EEXPIRED, "signature expired on %s", a);
	}
	return 0;
}

int tg_pgpsig_verify(tg_sig_info *info,
                     const tg_pgp_keyring *keys,
                     const char *sig,
                     size_t sig_len,
                     const void *msg,
                     size_t msg_len,
                     int64_t when)
{
	unsigned char *raw = NULL;
	const tg_pgp_cert *c = NULL;
	const tg_pgp_key *k = NULL;
	tg_pgp_part part = { msg, msg_len };
	tg_pgp_sig s;
	int error;

	if (info)
		memset(info, 0, sizeof(*info));
	if ((error = read_sig(&s, &raw, sig, sig_len)) < 0) {
		error = tg_error_prefix(error, "OpenPGP signature");
		goto out;
	}
	describe(info, &s);
	if ((error = find_key(&c, &k, keys, &s)) < 0)
		goto out;
	if (info) {
		snprintf(info->key, sizeof(info->key), "%s %s", k->alg_name,
		         k->fp_hex);
		tg_strlcpy(info->principal, c->uid, sizeof(info->principal));
	}
	if ((error = usable(c, k, &s, when)) < 0 ||
	    (error = tg_pgp_sig_check(&s, k, &part, 1)) < 0)
		error = tg_error_prefix(error, "%s (%s)", keys->name, c->uid);
out:
	free(raw);
	return error;
}
