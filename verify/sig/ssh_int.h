/*
 * What the SSH files of verify/sig/ share: the wire reader (RFC 4251
 * section 5 strings and integers), public key blobs (sshkey.c), and the
 * parsed key files (sshfile.c) that sshsig.c verifies against.
 */
#ifndef TOLLGATE_SSH_INT_H
#define TOLLGATE_SSH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tollgate/keys.h"
#include "tollgate/sshsig.h"

/* "SHA256:" and 43 base64 characters (no padding), as ssh-keygen -l. */
#define TG_SSH_FP_LEN 51

/* A bounded reader over a wire blob. */
typedef struct tg_ssh_rd {
	const unsigned char *p;
	size_t n;
} tg_ssh_rd;

/* uint32, big-endian. 0 or TG_EPARSE. */
TG_WUR int tg_ssh_rd_u32(tg_ssh_rd *r, uint32_t *out);
/* A string: uint32 length then that many bytes (borrowed), at most
 * TG_MAX_SSH_STRING. 0, TG_EPARSE (truncated) or TG_ETOOBIG. The message
 * names what (a field name). */
TG_WUR int tg_ssh_rd_string(tg_ssh_rd *r,
                            const unsigned char **p,
                            size_t *n,
                            const char *what);
/* Whether the string (p, n) is exactly s. */
bool tg_ssh_str_is(const unsigned char *p, size_t n, const char *s);

typedef enum {
	TG_SSHKEY_ED25519,
	TG_SSHKEY_ECDSA_P256,
	TG_SSHKEY_ECDSA_P384,
	TG_SSHKEY_RSA,
} tg_sshkey_type;

/* A public key: its wire blob (compared byte for byte with the key in a
 * signature), the OpenSSL key, and its fingerprint. */
typedef struct tg_sshkey {
	tg_sshkey_type type;
	unsigned char *blob;
	size_t blob_len;
	tg_key *key;
	char fp[TG_SSH_FP_LEN + 1];
} tg_sshkey;

/*
 * Parse a public key blob (what follows the type name in a key file, in
 * base64, or the publickey field of a signature). name is used in
 * messages. 0, TG_EPARSE, TG_EINVALID (unsupported type or weak key),
 * TG_ETOOBIG. Free with tg_sshkey_clear().
 */
TG_WUR int tg_sshkey_from_blob(tg_sshkey *out,
                               const unsigned char *blob,
                               size_t len,
                               const char *name);
void tg_sshkey_clear(tg_sshkey *k);

/* "ed25519", "ecdsa-nistp256", "ecdsa-nistp384", "rsa". */
const char *tg_sshkey_type_short(tg_sshkey_type t);

/* Whether name is a key type this module reads (the word that starts a
 * key in a file); *known tells an SSH key type it refuses (sk-*,
 * certificates, ssh-dss) from anything else. */
bool tg_sshkey_type_supported(const char *name, size_t n, bool *known);

/* One line of a key file. valid_after / valid_before 0: not set. */
typedef struct tg_ssh_entry {
	tg_sshkey key;
	char *principals; /* NULL for a plain key file */
	char *namespaces; /* comma-separated patterns, or NULL: any */
	int64_t valid_after;
	int64_t valid_before;
	unsigned line;
} tg_ssh_entry;

struct tg_ssh_signers {
	char *name; /* the file, for messages */
	tg_ssh_entry *e;
	size_t n;
};

#endif
