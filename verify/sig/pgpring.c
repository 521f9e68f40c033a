/*
 * OpenPGP key files (RFC 9580 10.1 transferable public keys, armoured):
 * the packet sequence of each key, its self-signatures verified with
 * the primary key, and what they say kept with the keys: user IDs,
 * subkey bindings (with the embedded primary key binding of a signing
 * subkey, 5.2.1 type 0x19), key flags, expiry and revocations.
 * Certifications by other keys are skipped unverified: only the
 * policy's file says which keys are trusted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgp_int.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

#define KEY_BLOCK "PGP PUBLIC KEY BLOCK"

typedef enum { COMP_PRIMARY, COMP_UID, COMP_UATTR, COMP_SUB } component;

typedef struct uid_state {
	const unsigned char *p; /* borrowed from the decoded block */
	size_t n;
	bool valid, revoked, primary;
} uid_state;

typedef struct ring_ctx {
	tg_pgp_keyring *kr;
	tg_pgp_cert *cur;
	component comp;
	uid_state uids[TG_MAX_PGP_UIDS];
	size_t nuid;
	unsigned nself;
	bool weak; /* a self-signature ignored for its hash */
} ring_ctx;

/* Verify a self-signature over the primary key, then extra (a user ID
 * with its header, or a subkey) when given. */
static int check_self(ring_ctx *c,
                      const tg_pgp_sig *s,
                      const tg_pgp_key *by,
                      const tg_pgp_part *extra,
                      size_t nextra)
{
	unsigned char hdr[3];
	tg_pgp_part parts[4];
	int error;

	tg_pgp_key_parts(parts, hdr, &c->cur->primary);
	if (nextra > 0) /* memcpy from NULL is undefined even for 0 */
		memcpy(parts + 2, extra, nextra * sizeof(*extra));
	if ((error = tg_pgp_sig_check(s, by, parts, 2 + nextra)) < 0)
		return tg_error_prefix(error,
		                       "key %s: self-signature of type 0x%02x",
		                       c->cur->primary.fp_hex, s->type);
	return 0;
}

static void revoke(tg_pgp_key *k, const tg_pgp_sig *s)
{
	char when[32];

	tg_pgp_time_str(when, s->created);
	snprintf(k->refused, sizeof(k->refused),
	         "key %s was revoked on %s (%s)", k->fp_hex, when,
	         s->reason[0] ? s->reason : "no reason given");
	k->refused_code = TG_EUNTRUSTED;
}

/* Flags and expiry of the latest self-signature count. */
static void apply(tg_pgp_key *k, const tg_pgp_sig *s)
{
	if (s->created < k->sig_time)
		return;
	k->sig_time = s->created;
	k->has_flags = s->has_flags;
	k->flags = s->flags;
	k->expires = s->key_expires ? k->created + s->key_expires : 0;
}

static int on_primary_sig(ring_ctx *c, const tg_pgp_sig *s)
{
	tg_pgp_key *pk = &c->cur->primary;
	int error;

	if (s->type != 0x20 && s->type != 0x1f)
		return 0;
	if ((error = check_self(c, s, pk, NULL, 0)) < 0)
		return error;
	if (s->type == 0x20)
		revoke(pk, s);
	else
		apply(pk, s);
	return 0;
}

static int on_uid_sig(ring_ctx *c, const tg_pgp_sig *s)
{
	uid_state *u = &c->uids[c->nuid - 1];
	unsigned char hdr[5] = { 0xb4 };
	tg_pgp_part parts[2] = { { hdr, 5 }, { u->p, u->n } };
	int error;

	if (!((s->type >= 0x10 && s->type <= 0x13) || s->type == 0x30))
		return 0;
	hdr[1] = (unsigned char)(u->n >> 24);
	hdr[2] = (unsigned char)(u->n >> 16);
	hdr[3] = (unsigned char)(u->n >> 8);
	hdr[4] = (unsigned char)u->n;
	if ((error = check_self(c, s, &c->cur->primary, parts, 2)) < 0)
		return error;
	if (s->type == 0x30) {
		u->revoked = true;
		return 0;
	}
	u->valid = true;
	u->primary |= s->primary_uid;
	apply(&c->cur->primary, s);
	return 0;
}

/* The embedded primary key binding (0x19) of a signing subkey, made by
 * the subkey: without it anyone could bind another's signing key. */
static bool backsig_ok(ring_ctx *c, const tg_pgp_sig *s, tg_pgp_key *sub)
{
	unsigned char hdr[3];
	tg_pgp_part parts[2];
	tg_pgp_sig e;

	if (!s->embedded || !sub->pkey ||
	    tg_pgp_sig_parse(&e, s->embedded, s->embedded_len) < 0 ||
	    e.type != 0x19 || !tg_pgp_sig_from(&e, sub))
		return false;
	tg_pgp_key_parts(parts, hdr, sub);
	return check_self(c, &e, sub, parts, 2) == 0;
}

static int on_sub_sig(ring_ctx *c, const tg_pgp_sig *s)
{
	tg_pgp_key *sub = &c->cur->sub[c->cur->nsub - 1];
	unsigned char hdr[3];
	tg_pgp_part parts[2];
	int error;

	/* a subkey this module cannot read has no packet to hash */
	if ((s->type != 0x18 && s->type != 0x28) || !sub->pkt)
		return 0;
	tg_pgp_key_parts(parts, hdr, sub);
	if ((error = check_self(c, s, &c->cur->primary, parts, 2)) < 0)
		return error;
	if (s->type == 0x28) {
		revoke(sub, s);
		return 0;
	}
	if (s->created < sub->sig_time)
		return 0;
	apply(sub, s);
	sub->bound = true;
	sub->backsig = (s->flags & TG_PGP_FLAG_SIGN) && backsig_ok(c, s, sub);
	return 0;
}

static int on_sig(ring_ctx *c, const tg_pgp_pkt *pk)
{
	tg_pgp_sig s;
	int error;

	error = tg_pgp_sig_parse(&s, pk->body, pk->len);
	/* another version or algorithm: a certification not ours to use */
	if (error == TG_EINVALID)
		return 0;
	if (error < 0)
		return tg_error_prefix(error, "key %s: signature",
		                       c->cur->primary.fp_hex);
	if (!tg_pgp_sig_from(&s, &c->cur->primary))
		return 0;
	if (!tg_pgp_hash_ok(s.halg)) {
		c->weak = true;
		return 0;
	}
	if (++c->nself > TG_MAX_PGP_SELF_SIGS)
		return tg_error_set(
		        TG_ETOOBIG, "key %s: over %u self-signatures",
		        c->cur->primary.fp_hex, TG_MAX_PGP_SELF_SIGS);
	switch (c->comp) {
	case COMP_PRIMARY:
		return on_primary_sig(c, &s);
	case COMP_UID:
		return on_uid_sig(c, &s);
	case COMP_SUB:
		return on_sub_sig(c, &s);
	default:
		return 0;
	}
}

/* Why a subkey may not sign, decided once its signatures are read. */
static void judge_sub(tg_pgp_key *k)
{
	const char *why = NULL;

	if (k->refused[0])
		return;
	if (!k->pkey)
		why = "its algorithm cannot sign";
	else if (!k->bound)
		why = "it has no valid binding signature";
	else if (!(k->flags & TG_PGP_FLAG_SIGN))
		why = "it is not a signing subkey (no sign flag)";
	else if (!k->backsig)
		why = "it has no valid primary key binding signature";
	if (!why)
		return;
	snprintf(k->refused, sizeof(k->refused), "subkey %s may not sign: %s",
	         k->fp_hex, why);
	k->refused_code = TG_EUNTRUSTED;
}

static void keep_uid(tg_pgp_cert *cert, const uid_state *u)
{
	size_t i, n = u->n < TG_MAX_PGP_UID - 1 ? u->n : TG_MAX_PGP_UID - 1;

	for (i = 0; i < n; i++)
		cert->uid[i] =
		        u->p[i] >= 0x20 && u->p[i] < 0x7f ? (char)u->p[i] : '?';
	cert->uid[n] = '\0';
}

/* The end of a key: a usable user ID, and the verdict on each key. */
static int finish_cert(ring_ctx *c)
{
	tg_pgp_cert *cert = c->cur;
	const uid_state *best = NULL;
	size_t i;

	if (!cert)
		return 0;
	for (i = 0; i < c->nuid; i++) {
		const uid_state *u = &c->uids[i];
		if (u->valid && !u->revoked &&
		    (!best || (u->primary && !best->primary)))
			best = u;
	}
	if (!best)
		return tg_error_set(TG_EINVALID,
		                    "key %s has no user ID with a valid "
		                    "self-signature%s",
		                    cert->primary.fp_hex,
		                    c->weak ? " (those it has use SHA-1 or "
		                              "another refused hash)"
		                            : "");
	keep_uid(cert, best);
	for (i = 0; i < cert->nsub; i++)
		judge_sub(&cert->sub[i]);
	c->cur = NULL;
	return 0;
}

static int start_cert(ring_ctx *c, const tg_pgp_pkt *pk)
{
	tg_pgp_keyring *kr = c->kr;
	int error;

	if ((error = finish_cert(c)) < 0)
		return error;
	if (kr->n >= TG_MAX_PGP_KEYS)
		return tg_error_set(TG_ETOOBIG, "over %u keys",
		                    TG_MAX_PGP_KEYS);
	kr->c = tg_realloc(kr->c, (kr->n + 1) * sizeof(*kr->c));
	memset(&kr->c[kr->n], 0, sizeof(kr->c[0]));
	if ((error = tg_pgp_key_parse(&kr->c[kr->n].primary, pk->body, pk->len,
	                              true)) < 0)
		return tg_error_prefix(error, "key %zu", kr->n + 1);
	c->cur = &kr->c[kr->n++];
	c->comp = COMP_PRIMARY;
	c->nuid = 0;
	c->nself = 0;
	c->weak = false;
	return 0;
}

static int add_sub(ring_ctx *c, const tg_pgp_pkt *pk)
{
	tg_pgp_cert *cert = c->cur;
	int error;

	if (cert->nsub >= TG_MAX_PGP_SUBKEYS)
		return tg_error_set(TG_ETOOBIG, "key %s: over %u subkeys",
		                    cert->primary.fp_hex, TG_MAX_PGP_SUBKEYS);
	cert->sub =
	        tg_realloc(cert->sub, (cert->nsub + 1) * sizeof(*cert->sub));
	if ((error = tg_pgp_key_parse(&cert->sub[cert->nsub], pk->body, pk->len,
	                              false)) < 0) {
		/* a subkey of another version or curve is not ours to use */
		if (error != TG_EINVALID)
			return tg_error_prefix(error, "key %s: subkey",
			                       cert->primary.fp_hex);
		memset(&cert->sub[cert->nsub], 0, sizeof(cert->sub[0]));
		snprintf(cert->sub[cert->nsub].refused,
		         sizeof(cert->sub[0].refused), "subkey: %s",
		         tg_error_last());
	}
	cert->nsub++;
	c->comp = COMP_SUB;
	return 0;
}

static int add_uid(ring_ctx *c, const tg_pgp_pkt *pk)
{
	if (c->nuid >= TG_MAX_PGP_UIDS)
		return tg_error_set(TG_ETOOBIG, "key %s: over %u user IDs",
		                    c->cur->primary.fp_hex, TG_MAX_PGP_UIDS);
	memset(&c->uids[c->nuid], 0, sizeof(c->uids[0]));
	c->uids[c->nuid].p = pk->body;
	c->uids[c->nuid].n = pk->len;
	c->nuid++;
	c->comp = COMP_UID;
	return 0;
}

static int on_packet(ring_ctx *c, const tg_pgp_pkt *pk)
{
	if (pk->tag == TG_PGP_TAG_PUBKEY)
		return start_cert(c, pk);
	if (pk->tag == TG_PGP_TAG_MARKER || pk->tag == TG_PGP_TAG_TRUST)
		return 0;
	if (pk->tag == TG_PGP_TAG_SECKEY || pk->tag == TG_PGP_TAG_SECSUB)
		return tg_error_set(TG_EINVALID,
		                    "a secret key: give only public keys "
		                    "(gpg --armor --export)");
	if (!c->cur)
		return tg_error_set(TG_EPARSE,
		                    "a packet (tag %d) before the first "
		                    "public key",
		                    pk->tag);
	switch (pk->tag) {
	case TG_PGP_TAG_PUBSUB:
		return add_sub(c, pk);
	case TG_PGP_TAG_UID:
		return add_uid(c, pk);
	case TG_PGP_TAG_UATTR:
		c->comp = COMP_UATTR;
		return 0;
	case TG_PGP_TAG_SIG:
		return on_sig(c, pk);
	}
	return tg_error_set(TG_EPARSE, "unexpected packet (tag %d) in a key",
	                    pk->tag);
}

static int parse_block(ring_ctx *c, const unsigned char *p, size_t n)
{
	tg_pgp_rd r = { p, n };
	tg_pgp_pkt pk;
	unsigned count = 0;
	int error;

	while (r.n > 0) {
		if (++count > TG_MAX_PGP_PACKETS)
			return tg_error_set(TG_ETOOBIG, "over %u packets",
			                    TG_MAX_PGP_PACKETS);
		if ((error = tg_pgp_next_packet(&r, &pk)) < 0 ||
		    (error = on_packet(c, &pk)) < 0)
			return error;
	}
	/* user IDs are borrowed from this block: a key ends with it */
	return finish_cert(c);
}

static int parse_all(ring_ctx *c, const char *data, size_t len)
{
	unsigned char *raw = NULL;
	size_t raw_len, next = 0;
	int error;

	for (;;) {
		error = tg_pgp_dearmour(&raw, &raw_len, &next, data, len,
		                        KEY_BLOCK);
		if (error == TG_ENOTFOUND)
			break;
		if (error == 0)
			error = parse_block(c, raw, raw_len);
		free(raw);
		if (error < 0)
			return error;
	}
	if (c->kr->n == 0)
		return tg_error_set(
		        TG_EPARSE,
		        "no public key (an armoured -----BEGIN " KEY_BLOCK
		        "----- block)");
	return 0;
}

/* Whether the file holds a secret key block: refused as a whole, so a
 * private key put there by mistake is noticed. */
static bool has_private(const char *s, size_t n)
{
	static const char mark[] = "-----BEGIN PGP PRIVATE KEY BLOCK-----";
	size_t i, m = sizeof(mark) - 1;

	for (i = 0; i + m <= n; i++)
		if (s[i] == '-' && !memcmp(s + i, mark, m))
			return true;
	return false;
}

int tg_pgp_keyring_parse(tg_pgp_keyring **out,
                         const char *name,
                         const char *data,
                         size_t len)
{
	ring_ctx *c = tg_calloc(1, sizeof(*c));
	int error = 0;

	*out = NULL;
	c->kr = tg_calloc(1, sizeof(*c->kr));
	c->kr->name = tg_strdup(name);
	if (len > TG_MAX_FILE_BYTES)
		error = tg_error_set(TG_ETOOBIG, "key file over %u bytes",
		                     TG_MAX_FILE_BYTES);
	else if (has_private(data, len))
		error = tg_error_set(TG_EINVALID,
		                     "a private key block: give only public "
		                     "keys (gpg --armor --export)");
	else
		error = parse_all(c, data, len);
	if (error < 0) {
		error = tg_error_prefix(error, "%s", name);
		tg_pgp_keyring_free(c->kr);
	} else {
		*out = c->kr;
	}
	free(c);
	return error;
}

size_t tg_pgp_keyring_count(const tg_pgp_keyring *k)
{
	return k ? k->n : 0;
}

void tg_pgp_keyring_free(tg_pgp_keyring *k)
{
	size_t i, j;

	if (!k)
		return;
	for (i = 0; i < k->n; i++) {
		tg_pgp_key_clear(&k->c[i].primary);
		for (j = 0; j < k->c[i].nsub; j++)
			tg_pgp_key_clear(&k->c[i].sub[j]);
		free(k->c[i].sub);
	}
	free(k->c);
	free(k->name);
	free(k);
}
