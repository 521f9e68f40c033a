/* Signing authorities: see include/tollgate/authority.h. */
#include <stdlib.h>
#include <string.h>

#include "tollgate/authority.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

/*
 * Key-based check. cosign signs with SHA-256 whatever the curve (its key
 * loader fixes crypto.SHA256), while other tools pair P-384 with SHA-384:
 * for ECDSA keys above P-256 both hashes are tried. Accepting either hash
 * of the same message is sound: the signer committed to that message.
 */
static int verify_with_key(const tg_authority *a, const tg_sig_material *m)
{
	tg_key_kind t = tg_key_type(a->key);
	int error;

	error = tg_key_verify(a->key, TG_HASH_DEFAULT, m->msg, m->msg_len,
	                      m->sig, m->sig_len);
	if (error == TG_EUNTRUSTED &&
	    (t == TG_KEY_ECDSA_P384 || t == TG_KEY_ECDSA_P521))
		error = tg_key_verify(a->key, TG_HASH_SHA256, m->msg,
		                      m->msg_len, m->sig, m->sig_len);
	return error;
}

/* rekor.required on a key: the hook checks the log entry. */
static int
check_tlog(int64_t *until_out, const tg_authority *a, const tg_sig_material *m)
{
	char *who = NULL;
	int error;

	if (!a->verify)
		return tg_error_set(TG_EINVALID,
		                    "key \"%s\": the policy requires a Rekor "
		                    "entry and transparency-log verification "
		                    "is not available in this build",
		                    a->name);
	error = a->verify(&who, until_out, a->ctx, m);
	free(who);
	if (error < 0)
		return tg_error_prefix(error, "key \"%s\": Rekor", a->name);
	return 0;
}

int tg_authority_verify(char **signer_out,
                        int64_t *until_out,
                        const tg_authority *a,
                        const tg_sig_material *m)
{
	int error;

	*signer_out = NULL;
	*until_out = INT64_MAX;
	if (a->key) {
		if ((error = verify_with_key(a, m)) < 0)
			return tg_error_prefix(error, "key \"%s\"", a->name);
		if (a->needs_tlog && (error = check_tlog(until_out, a, m)) < 0)
			return error;
		*signer_out = tg_strdup(tg_key_id(a->key));
		return 0;
	}
	if (a->verify) {
		if ((error = a->verify(signer_out, until_out, a->ctx, m)) < 0) {
			free(*signer_out);
			*signer_out = NULL;
			return tg_error_prefix(error, "authority \"%s\"",
			                       a->name);
		}
		if (!*signer_out)
			*signer_out = tg_strdup(a->name);
		return 0;
	}
	return tg_error_set(TG_EINVALID,
	                    "authority \"%s\": keyless verification is not "
	                    "available in this build",
	                    a->name);
}

int tg_authority_describe(struct tg_buf *b, const tg_authority *auths, size_t n)
{
	size_t i;
	int error;

	if (n == 1)
		return tg_buf_printf(b, "%s \"%s\"",
		                     auths[0].key ? "key" : "authority",
		                     auths[0].name);
	if ((error = tg_buf_puts(b, "authorities ")) < 0)
		return error;
	for (i = 0; i < n; i++)
		if ((error = tg_buf_printf(b, "%s\"%s\"", i ? ", " : "",
		                           auths[i].name)) < 0)
			return error;
	return 0;
}
