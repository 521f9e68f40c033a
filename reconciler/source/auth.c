/*
 * Credentials and SSH host keys for the source's remote: a private key
 * for ssh://, a user name and password file for http(s)://, and the
 * known_hosts check of the server's host key (libgit2 1.5 does not check
 * host keys; tollgate does it in the certificate callback and refuses
 * unknown or changed keys). Handed to the cache repository as its auth
 * hooks, so status pushes use them too.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "source_int.h"
#include "tollgate/error.h"
#include "tollgate/knownhosts.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

/* ---- URLs -------------------------------------------------------- */

/* ssh://, git+ssh:// or ssh+git:// (what libgit2 1.5 hands to libssh2). */
static bool is_ssh_scheme(const char *url)
{
	return tg_str_has_prefix(url, "ssh://") ||
	       tg_str_has_prefix(url, "git+ssh://") ||
	       tg_str_has_prefix(url, "ssh+git://");
}

/*
 * Host and port of an SSH URL, for the known_hosts lookup:
 * "ssh://[user@]host[:port]/path" or Git's scp-like "[user@]host:path"
 * (a ':' before any '/'), hosts in brackets for IPv6. True for SSH URLs.
 */
static bool parse_ssh_url(char **host_out, unsigned *port_out, const char *url)
{
	const char *h, *end, *at, *host_end, *rest;
	const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
	bool scp = !strstr(url, "://");
	uint64_t port = 22;

	if (!scp && !is_ssh_scheme(url))
		return false;
	if (scp && (!colon || colon == url || (slash && slash < colon)))
		return false;
	h = scp ? url : strstr(url, "://") + 3;
	end = scp ? colon : h + strcspn(h, "/");
	if ((at = memchr(h, '@', (size_t)(end - h))))
		h = at + 1;
	if (*h == '[' && (host_end = memchr(h, ']', (size_t)(end - h)))) {
		h++;
		rest = host_end + 1;
	} else {
		host_end = scp ? end : h + strcspn(h, ":/");
		rest = host_end;
	}
	if (!scp && rest < end && *rest == ':' &&
	    tg_parse_u64(&port, rest + 1, (size_t)(end - rest - 1), 65535) <
	            0) {
		tg_error_clear();
		port = 22;
	}
	*host_out = tg_strndup(h, (size_t)(host_end - h));
	*port_out = (unsigned)port;
	return true;
}

static char *dup_or_null(const char *s)
{
	return s && *s ? tg_strdup(s) : NULL;
}

int tg_source_auth_init(tg_source_auth *a, const tg_source_opts *o)
{
	a->ssh_key = dup_or_null(o->ssh_key);
	a->known_hosts = dup_or_null(o->known_hosts);
	a->username = dup_or_null(o->username);
	a->password_file = dup_or_null(o->password_file);
	a->is_ssh = parse_ssh_url(&a->ssh_host, &a->ssh_port, o->url);
	if (a->is_ssh && !a->known_hosts)
		return tg_error_set(TG_EINVALID,
		                    "source.url %s is an SSH URL: "
		                    "source.auth.knownHosts is required so the "
		                    "server's host key can be checked",
		                    o->url);
	return 0;
}

void tg_source_auth_clear(tg_source_auth *a)
{
	free(a->ssh_key);
	free(a->known_hosts);
	free(a->username);
	free(a->password_file);
	free(a->ssh_host);
	free(a->hostkey_error);
	memset(a, 0, sizeof(*a));
}

/* ---- Callbacks --------------------------------------------------- */

/* Password or token from its file, without a trailing newline. */
static int read_secret(char **out, const char *path)
{
	size_t len = 0;
	int error;

	if ((error = tg_file_read(out, &len, path, TG_MAX_SECRET_FILE_BYTES)) <
	    0)
		return tg_error_prefix(error, "source.auth.passwordFile");
	while (len > 0 && ((*out)[len - 1] == '\n' || (*out)[len - 1] == '\r'))
		(*out)[--len] = '\0';
	return 0;
}

/* A user name and password credential from the password file. */
static int userpass(git_credential **out, tg_source_auth *a)
{
	char *secret = NULL;
	int error;

	if ((error = read_secret(&secret, a->password_file)) < 0) {
		git_error_set_str(GIT_ERROR_NET, tg_error_last());
		return GIT_EAUTH;
	}
	error = git_credential_userpass_plaintext_new(
	        out, a->username ? a->username : "tollgate", secret);
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
	return error;
}

static int credentials_cb(git_credential **out,
                          const char *url,
                          const char *username_from_url,
                          unsigned int allowed_types,
                          void *payload)
{
	tg_source_auth *a = payload;
	const char *user = username_from_url && *username_from_url
	                           ? username_from_url
	                           : (a->username ? a->username : "git");

	(void)url;
	/* libgit2 asks again after each refusal; one try per fetch. */
	if (a->cred_attempts++ > 0) {
		git_error_set_str(GIT_ERROR_NET,
		                  "the server refused the configured "
		                  "credentials");
		return GIT_EAUTH;
	}
	if ((allowed_types & GIT_CREDENTIAL_SSH_KEY) && a->ssh_key)
		return git_credential_ssh_key_new(out, user, NULL, a->ssh_key,
		                                  NULL);
	if ((allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) &&
	    a->password_file)
		return userpass(out, a);
	git_error_set_str(GIT_ERROR_NET,
	                  "the server asks for credentials and none are "
	                  "configured (source.auth)");
	return GIT_EAUTH;
}

static int
certificate_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	tg_source_auth *a = payload;
	git_cert_hostkey *hk;
	const unsigned char *raw = NULL, *sha = NULL;
	size_t raw_len = 0;
	int error;

	/* TLS: keep libgit2's verdict (the CA file is set globally). */
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return valid ? 0 : GIT_PASSTHROUGH;
	hk = (git_cert_hostkey *)cert;
	if (hk->type & GIT_CERT_SSH_RAW) {
		raw = (const unsigned char *)hk->hostkey;
		raw_len = hk->hostkey_len;
	}
	if (hk->type & GIT_CERT_SSH_SHA256)
		sha = hk->hash_sha256;
	error = tg_known_hosts_check(a->known_hosts,
	                             a->ssh_host ? a->ssh_host : host,
	                             a->ssh_port, raw, raw_len, sha);
	if (error == 0)
		return 0;
	free(a->hostkey_error);
	a->hostkey_error = tg_strdup(tg_error_last());
	a->hostkey_code = error;
	git_error_set_str(GIT_ERROR_SSH, a->hostkey_error);
	return GIT_ECERTIFICATE;
}

/* Before each connection: one credential try, no host-key refusal yet. */
static void reset_cb(void *payload)
{
	tg_source_auth *a = payload;

	a->cred_attempts = 0;
	free(a->hostkey_error);
	a->hostkey_error = NULL;
}

/* The host-key refusal recorded since the last reset, if any. */
static int refusal_cb(const char **detail, void *payload)
{
	tg_source_auth *a = payload;

	if (!a->hostkey_error)
		return 0;
	*detail = a->hostkey_error;
	return a->hostkey_code;
}

tg_gitrepo_auth tg_source_auth_hooks(tg_source_auth *a)
{
	tg_gitrepo_auth h = { credentials_cb, certificate_cb, reset_cb,
		              refusal_cb, a };

	return h;
}
