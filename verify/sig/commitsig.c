/*
 * Commit signatures against the policy's signers (tollgate/commitsig.h):
 * pick the verifier by the signature's armour, try the signers of that
 * format in policy order, and explain a refusal by its most telling
 * reason.
 */
#include <stdio.h>
#include <string.h>

#include "tollgate/cmssig.h"
#include "tollgate/commitsig.h"
#include "tollgate/error.h"
#include "tollgate/openpgp.h"
#include "tollgate/sshsig.h"
#include "tollgate/util.h"

typedef enum {
	FMT_SSH,
	FMT_OPENPGP,
	FMT_X509,
	FMT_UNKNOWN,
} sig_format;

static const char *const format_names[] = { "SSH", "OpenPGP", "X.509" };

static sig_format detect(const char *sig, size_t n)
{
	static const struct {
		const char *begin;
		sig_format f;
	} armours[] = {
		{ "-----BEGIN SSH SIGNATURE-----", FMT_SSH },
		{ "-----BEGIN PGP SIGNATURE-----", FMT_OPENPGP },
		{ "-----BEGIN SIGNED MESSAGE-----", FMT_X509 },
		{ "-----BEGIN PKCS7-----", FMT_X509 },
	};
	size_t i;

	while (n > 0 && (*sig == ' ' || *sig == '\n' || *sig == '\r')) {
		sig++;
		n--;
	}
	for (i = 0; i < sizeof(armours) / sizeof(armours[0]); i++) {
		size_t an = strlen(armours[i].begin);
		if (n >= an && !memcmp(sig, armours[i].begin, an))
			return armours[i].f;
	}
	return FMT_UNKNOWN;
}

static bool signer_takes(const tg_policy_signer *s, sig_format f)
{
	switch (s->kind) {
	case TG_SIGNER_SSH:
	case TG_SIGNER_ALLOWED_SIGNERS:
		return f == FMT_SSH;
	case TG_SIGNER_OPENPGP:
		return f == FMT_OPENPGP;
	case TG_SIGNER_X509:
		return f == FMT_X509;
	}
	return false;
}

static int try_signer(tg_sig_info *info,
                      const tg_policy_signer *s,
                      sig_format f,
                      const char *sig,
                      size_t sig_len,
                      const char *payload,
                      size_t payload_len,
                      int64_t when)
{
	if (f == FMT_SSH)
		return tg_sshsig_verify(info, s->ssh, sig, sig_len, payload,
		                        payload_len, "git", when);
	if (f == FMT_X509)
		return tg_cmssig_verify(info, s->x509, sig, sig_len, payload,
		                        payload_len, when);
	return tg_pgpsig_verify(info, s->openpgp, sig, sig_len, payload,
	                        payload_len, when);
}

static void set_signed_by(tg_commitsig_result *out, const tg_policy_signer *s)
{
	out->signer = s->name;
	snprintf(out->signed_by, sizeof(out->signed_by), "%s (%s %s)", s->name,
	         out->info.format, out->info.key);
}

/* The refusal when no signer accepted: best is the most telling error
 * seen (a listed key's own problem over "not listed"). */
static int refusal(const tg_commitsig_result *out,
                   sig_format f,
                   size_t tried,
                   int best,
                   const char *best_msg)
{
	if (tried == 0)
		return tg_error_set(
		        TG_EUNTRUSTED,
		        "signed with %s%s%s, but the policy lists no "
		        "%s signer",
		        format_names[f], out->info.key[0] ? " " : "",
		        out->info.key, format_names[f]);
	if (best == TG_ENOTFOUND)
		return tg_error_set(TG_EUNTRUSTED,
		                    "signed by %s %s, which no signer of the "
		                    "policy lists",
		                    out->info.format, out->info.key);
	return tg_error_set(best, "%s", best_msg);
}

int tg_commitsig_verify(tg_commitsig_result *out,
                        const tg_policy_commits *commits,
                        const char *sig,
                        size_t sig_len,
                        const char *payload,
                        size_t payload_len,
                        int64_t when)
{
	char best_msg[TG_ERROR_MAX];
	tg_sig_info info;
	size_t i, tried = 0;
	int best = 0, error;
	sig_format f;

	memset(out, 0, sizeof(*out));
	best_msg[0] = '\0';
	if (!sig || sig_len == 0)
		return tg_error_set(TG_ENOTFOUND, "not signed");
	if ((f = detect(sig, sig_len)) == FMT_UNKNOWN)
		return tg_error_set(TG_EPARSE,
		                    "signature of an unknown format (neither "
		                    "SSH, OpenPGP nor X.509 armour)");
	for (i = 0; i < commits->nsigners; i++) {
		const tg_policy_signer *s = &commits->signers[i];
		if (!signer_takes(s, f))
			continue;
		tried++;
		memset(&info, 0, sizeof(info));
		error = try_signer(&info, s, f, sig, sig_len, payload,
		                   payload_len, when);
		if (info.format[0])
			out->info = info;
		if (error == 0) {
			set_signed_by(out, s);
			return 0;
		}
		if (best == 0 ||
		    (best == TG_ENOTFOUND && error != TG_ENOTFOUND)) {
			best = error;
			tg_strlcpy(best_msg, tg_error_last(), sizeof(best_msg));
		}
	}
	return refusal(out, f, tried, best, best_msg);
}
