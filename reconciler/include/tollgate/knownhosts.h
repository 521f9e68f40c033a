/*
 * SSH host keys checked against an OpenSSH known_hosts file (sshd(8)
 * "SSH_KNOWN_HOSTS FILE FORMAT"): plain host patterns with "*", "?" and
 * "!" negation, "[host]:port" for ports other than 22, hashed entries
 * "|1|<base64 salt>|<base64 HMAC-SHA1(salt, host)>", and the @revoked
 * marker. @cert-authority lines are not supported (host certificates are
 * not checked) and never match.
 */
#ifndef TOLLGATE_KNOWNHOSTS_H
#define TOLLGATE_KNOWNHOSTS_H

#include <stddef.h>

#include "tollgate/error.h"

/*
 * Is the key the server presented for host:port listed for it in the file
 * at path? key/key_len is the key blob in SSH wire format (what the
 * known_hosts base64 field decodes to), or NULL when only its SHA-256 is
 * known (sha256, else NULL). 0 when an entry for the host holds this key;
 * TG_EUNTRUSTED when the host is unknown, its key changed or the key is
 * revoked, with a message saying which and what to do; TG_ENOTFOUND /
 * TG_EIO when the file cannot be read; TG_EPARSE for a malformed line
 * that names the host (file:line).
 */
TG_WUR int tg_known_hosts_check(const char *path,
                                const char *host,
                                unsigned port,
                                const unsigned char *key,
                                size_t key_len,
                                const unsigned char *sha256);

/* The same over the file's bytes (at most TG_MAX_KNOWN_HOSTS_BYTES, else
 * TG_ETOOBIG); path names the file in messages. */
TG_WUR int tg_known_hosts_check_data(const char *path,
                                     const char *data,
                                     size_t len,
                                     const char *host,
                                     unsigned port,
                                     const unsigned char *key,
                                     size_t key_len,
                                     const unsigned char *sha256);

#endif
