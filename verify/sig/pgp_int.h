/*
 * What the OpenPGP files of verify/sig/ share: the armour and packet
 * readers (pgppkt.c), signature packets and their checks (pgpsig.c), and
 * the parsed keys (pgpkey.c) that signatures are verified against.
 */
#ifndef TOLLGATE_PGP_INT_H
#define TOLLGATE_PGP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "tollgate/limits.h"
#include "tollgate/openpgp.h"

/* RFC 9580 9.1 public key algorithms this module knows by number. */
#define TG_PGP_RSA 1
#define TG_PGP_ECDSA 19
#define TG_PGP_EDDSA_LEGACY 22
#define TG_PGP_ED25519 27

/* Packet tags (RFC 9580 5). */
#define TG_PGP_TAG_SIG 2
#define TG_PGP_TAG_SECKEY 5
#define TG_PGP_TAG_PUBKEY 6
#define TG_PGP_TAG_SECSUB 7
#define TG_PGP_TAG_MARKER 10
#define TG_PGP_TAG_TRUST 12
#define TG_PGP_TAG_UID 13
#define TG_PGP_TAG_PUBSUB 14
#define TG_PGP_TAG_UATTR 17

/* Key flags (subpacket 27). */
#define TG_PGP_FLAG_CERTIFY 0x01
#define TG_PGP_FLAG_SIGN 0x02

/* A v4 fingerprint: SHA-1 of the key packet (RFC 9580 5.5.4.2). */
#define TG_PGP_FP_LEN 20

/* A bounded reader over decoded bytes. */
typedef struct tg_pgp_rd {
	const unsigned char *p;
	size_t n;
} tg_pgp_rd;

/* One packet: its tag and body (borrowed from the reader's bytes). */
typedef struct tg_pgp_pkt {
	int tag;
	const unsigned char *body;
	size_t len;
} tg_pgp_pkt;

/*
 * The next armoured block of kind label ("PGP SIGNATURE", "PGP PUBLIC
 * KEY BLOCK") in s[0..n), decoded: header lines skipped, base64 through
 * OpenSSL's EVP_Decode*, the CRC24 line checked when present (RFC 9580
 * 6.1 makes it optional). *next is where the search goes on. 0,
 * TG_ENOTFOUND (no more blocks), TG_EPARSE, TG_ETOOBIG; *out is freed
 * by the caller.
 */
TG_WUR int tg_pgp_dearmour(unsigned char **out,
                           size_t *out_len,
                           size_t *next,
                           const char *s,
                           size_t n,
                           const char *label);

/* The CRC-24 of RFC 9580 6.1.1. */
uint32_t tg_pgp_crc24(const unsigned char *p, size_t n);

/* The next packet of r (old or new format header, RFC 9580 4.2).
 * Partial and indeterminate lengths are refused: keys and signatures
 * never use them. 0, TG_EPARSE, TG_ETOOBIG (over TG_MAX_PGP_PACKET). */
TG_WUR int tg_pgp_next_packet(tg_pgp_rd *r, tg_pgp_pkt *out);

TG_WUR int tg_pgp_rd_u8(tg_pgp_rd *r, unsigned *out, const char *what);
TG_WUR int tg_pgp_rd_u16(tg_pgp_rd *r, unsigned *out, const char *what);
TG_WUR int tg_pgp_rd_u32(tg_pgp_rd *r, uint32_t *out, const char *what);
/* n bytes, borrowed. */
TG_WUR int tg_pgp_rd_bytes(tg_pgp_rd *r,
                           const unsigned char **p,
                           size_t n,
                           const char *what);
/* A multiprecision integer (RFC 9580 3.2): its magnitude, borrowed,
 * leading zero bytes dropped; at most TG_MAX_PGP_MPI_BITS. */
TG_WUR int tg_pgp_rd_mpi(tg_pgp_rd *r,
                         const unsigned char **p,
                         size_t *n,
                         const char *what);

/* One subpacket of a signature's area (RFC 9580 5.2.3.7). */
typedef struct tg_pgp_subpkt {
	unsigned type;
	bool critical;
	const unsigned char *p;
	size_t n;
} tg_pgp_subpkt;

/* The next subpacket of an area. 0, or TG_EPARSE. */
TG_WUR int tg_pgp_next_subpkt(tg_pgp_rd *r, tg_pgp_subpkt *out);

/* A public key or subkey. */
typedef struct tg_pgp_key {
	int alg;
	EVP_PKEY *pkey; /* NULL: an algorithm that cannot sign here */
	const char *alg_name;
	unsigned char *pkt; /* the key packet body (owned), for hashing */
	size_t pkt_len;
	unsigned char fp[TG_PGP_FP_LEN];
	char fp_hex[2 * TG_PGP_FP_LEN + 1];
	int64_t created;
	int64_t expires;  /* absolute; 0: never */
	int64_t sig_time; /* of the self-signature that set flags/expiry */
	unsigned flags;
	bool has_flags;
	bool bound;   /* a subkey with a valid binding signature */
	bool backsig; /* ... and a valid primary key binding (0x19) */
	/* Why it may not sign ("" when it may) and the code for it. */
	char refused[320];
	int refused_code;
} tg_pgp_key;

/* A primary key with its subkeys and the user ID named in messages. */
typedef struct tg_pgp_cert {
	tg_pgp_key primary;
	tg_pgp_key *sub;
	size_t nsub;
	char uid[TG_MAX_PGP_UID];
} tg_pgp_cert;

struct tg_pgp_keyring {
	char *name;
	tg_pgp_cert *c;
	size_t n;
};

/* Parse a v4 key packet body into k (fingerprint, creation, algorithm;
 * an OpenSSL key for the signing algorithms). primary: an algorithm
 * that cannot sign is TG_EINVALID rather than a key without pkey.
 * Free with tg_pgp_key_clear(). */
TG_WUR int tg_pgp_key_parse(tg_pgp_key *k,
                            const unsigned char *body,
                            size_t len,
                            bool primary);
void tg_pgp_key_clear(tg_pgp_key *k);
/* "rsa", "ed25519", "ecdsa-p256"...; "algorithm-N" for others. */
const char *tg_pgp_alg_name(int alg, char buf[24]);

/* A parsed v4 signature packet (borrowed from the packet bytes). Only
 * the hashed area sets times, flags and reasons; issuers and the
 * embedded signature are read from both areas (they are checked by the
 * signature itself). */
typedef struct tg_pgp_sig {
	unsigned type, pkalg, halg;
	const unsigned char *body; /* the packet body */
	size_t hashed_end;         /* bytes of body that are hashed */
	unsigned char prefix[2];
	const unsigned char *m1, *m2; /* MPIs (m2 NULL for RSA) */
	size_t n1, n2;
	int64_t created;
	int64_t sig_expires; /* seconds after created; 0 never */
	int64_t key_expires; /* seconds after key creation; 0 never */
	unsigned flags;
	bool has_flags, has_created, has_fp, has_id, primary_uid;
	unsigned char issuer_fp[TG_PGP_FP_LEN];
	unsigned char issuer_id[8];
	const unsigned char *embedded; /* subpacket 32 body, or NULL */
	size_t embedded_len;
	char reason[128]; /* reason for revocation, printable */
} tg_pgp_sig;

/* Parse a signature packet body. 0, TG_EPARSE, TG_ETOOBIG, TG_EINVALID
 * (not version 4, an unknown critical subpacket). */
TG_WUR int
tg_pgp_sig_parse(tg_pgp_sig *s, const unsigned char *body, size_t len);

/* Bytes hashed before the signature's own trailer. */
typedef struct tg_pgp_part {
	const void *p;
	size_t n;
} tg_pgp_part;

/* Whether the signature names k as its issuer. */
bool tg_pgp_sig_from(const tg_pgp_sig *s, const tg_pgp_key *k);

/* Whether halg is a hash this module accepts (SHA-256/384/512). */
bool tg_pgp_hash_ok(unsigned halg);

/*
 * Verify s, made by k, over the parts then the signature's trailer
 * (RFC 9580 5.2.4). 0, TG_EUNTRUSTED (does not verify, another
 * algorithm than the key's), TG_EINVALID (a refused hash).
 */
TG_WUR int tg_pgp_sig_check(const tg_pgp_sig *s,
                            const tg_pgp_key *k,
                            const tg_pgp_part *parts,
                            size_t nparts);

/* The parts a key packet is hashed as: 0x99, two length bytes, body
 * (hdr must hold 3 bytes). */
void tg_pgp_key_parts(tg_pgp_part out[2],
                      unsigned char hdr[3],
                      const tg_pgp_key *k);

/* "YYYY-MM-DD HH:MM:SS UTC" of t. */
void tg_pgp_time_str(char out[32], int64_t t);

#endif
