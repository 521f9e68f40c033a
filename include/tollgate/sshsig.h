/*
 * SSH signatures over bytes (OpenSSH PROTOCOL.sshsig, as `ssh-keygen -Y
 * sign` and git's gpg.format=ssh make them) and the public keys that may
 * make them: a file of OpenSSH public keys ("ssh-ed25519 AAAA... comment",
 * one a line) or a file in the allowed_signers format of ssh-keygen(1)
 * (git's gpg.ssh.allowedSignersFile).
 *
 * Key types: ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384,
 * ssh-rsa (2048 bits or more; signatures rsa-sha2-256 or rsa-sha2-512,
 * never SHA-1). Security keys (sk-*) and certificates (*-cert-v01) are
 * refused with a message naming the line, as are cert-authority lines:
 * tollgate trusts listed keys only.
 *
 * allowed_signers options honoured: namespaces="..." (the signature's
 * namespace must match one of the comma-separated patterns),
 * valid-after="..." and valid-before="..." (YYYYMMDD[HHMM[SS]][Z],
 * compared with the time the caller gives, for commits the committer
 * time). Times are read as UTC with or without the Z (OpenSSH reads them
 * in the local zone without it; an agent's zone is UTC). Principals are
 * kept and reported; as with git, they do not have to match the
 * committer.
 *
 * Everything read is bounded by the limits in tollgate/limits.h; a bad
 * input is TG_EPARSE / TG_EINVALID / TG_ETOOBIG with the file and line (or
 * the field of the signature), never a crash.
 */
#ifndef TOLLGATE_SSHSIG_H
#define TOLLGATE_SSHSIG_H

#include <stddef.h>
#include <stdint.h>

#include "tollgate/error.h"
#include "tollgate/siginfo.h"

typedef struct tg_ssh_signers tg_ssh_signers;

/*
 * Parse a file of OpenSSH public keys (name is used in messages). Blank
 * lines and '#' comments are skipped; at least one key is required.
 * 0, TG_EPARSE (a line that is no key), TG_EINVALID (an unsupported key
 * type, a weak RSA key), TG_ETOOBIG.
 */
TG_WUR int tg_ssh_signers_parse_keys(tg_ssh_signers **out,
                                     const char *name,
                                     const char *data,
                                     size_t len);

/* The same for the allowed_signers format (principals, options, key). */
TG_WUR int tg_ssh_signers_parse_allowed(tg_ssh_signers **out,
                                        const char *name,
                                        const char *data,
                                        size_t len);

size_t tg_ssh_signers_count(const tg_ssh_signers *s);
void tg_ssh_signers_free(tg_ssh_signers *s);

/*
 * Verify the armoured SSH signature sig ("-----BEGIN SSH SIGNATURE-----")
 * over msg in namespace ns, made at time when (Unix seconds), against the
 * keys of signers. info (may be NULL) gets the signing key as soon as the
 * signature parses, and the principal of the line that accepted it.
 * 0 when a listed key made it and its line allows ns and when;
 * TG_EPARSE / TG_ETOOBIG (malformed signature), TG_ENOTFOUND (a key
 * not listed), TG_EUNTRUSTED (a listed key's line refuses the namespace,
 * another namespace, the signature does not verify), TG_EEXPIRED
 * (outside the line's valid-after / valid-before), TG_EINVALID (an
 * unsupported algorithm), each with a message.
 */
TG_WUR int tg_sshsig_verify(tg_sig_info *info,
                            const tg_ssh_signers *signers,
                            const char *sig,
                            size_t sig_len,
                            const void *msg,
                            size_t msg_len,
                            const char *ns,
                            int64_t when);

#endif
