/*
 * Sigstore trust material: a TrustedRoot document
 * (application/vnd.dev.sigstore.trustedroot+json;version=0.1 or
 * application/vnd.dev.sigstore.trustedroot.v0.2+json) holding the
 * certificate authorities (Fulcio), transparency logs (Rekor), CT logs and
 * timestamp authorities a keyless verification trusts, each with its
 * validity window.
 *
 * tollgate ships the Sigstore public-good root (verify/data/
 * trusted_root_public_good.json, embedded in the library), which the agent
 * replaces with the root it verified through TUF (sigstore.tuf); a policy
 * authority may name another file with `trustedRoot:`.
 */
#ifndef TOLLGATE_TRUSTROOT_H
#define TOLLGATE_TRUSTROOT_H

#include <stddef.h>

#include "tollgate/error.h"

typedef struct tg_trustroot tg_trustroot;

/*
 * Parse a TrustedRoot JSON document. name is used in messages (a path).
 * 0, TG_EPARSE (not JSON, missing or mistyped field, bad key or
 * certificate), TG_EINVALID (unknown media type, a validity window without
 * its start), TG_ETOOBIG.
 */
TG_WUR int tg_trustroot_parse(tg_trustroot **out,
                              const char *name,
                              const char *json,
                              size_t len);
TG_WUR int tg_trustroot_load_file(tg_trustroot **out, const char *path);

/*
 * The default root: the Sigstore public-good production root built into
 * tollgate, or the root last given to tg_trustroot_set_default().
 */
TG_WUR int tg_trustroot_default(tg_trustroot **out);

/*
 * Make json (a TrustedRoot, e.g. verified through TUF) the default root
 * for every thread from now on; NULL restores the built-in one. The
 * document is parsed first: an error (as tg_trustroot_parse) leaves the
 * default as it was. name is used in messages.
 */
TG_WUR int
tg_trustroot_set_default(const char *name, const char *json, size_t len);

/*
 * A trust root assembled from PEM files, for legacy cosign setups (a
 * Fulcio CA file, a Rekor public key, a private PKI): an empty root, then
 * certificate authorities (every certificate of the PEM bundle is trusted
 * as a chain anchor) and transparency log keys (log id = SHA-256 of the
 * key's DER), all without a validity limit. name is used in messages.
 */
TG_WUR int tg_trustroot_new(tg_trustroot **out);
TG_WUR int tg_trustroot_add_ca_pem(tg_trustroot *root,
                                   const char *name,
                                   const char *pem,
                                   size_t len);
TG_WUR int tg_trustroot_add_tlog_pem(tg_trustroot *root,
                                     const char *name,
                                     const char *pem,
                                     size_t len);

/* Counts, for evidence and tests. */
size_t tg_trustroot_tlog_count(const tg_trustroot *root);
size_t tg_trustroot_ca_count(const tg_trustroot *root);
size_t tg_trustroot_ctlog_count(const tg_trustroot *root);
size_t tg_trustroot_tsa_count(const tg_trustroot *root);

void tg_trustroot_free(tg_trustroot *root);

#endif
