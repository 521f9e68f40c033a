/*
 * Authentication of the registry client (see verify/oci/registry_int.h):
 * docker config.json credentials, what each host asked for in its 401
 * challenge, Basic headers and the Bearer token cache (the distribution
 * token spec), one token fetch per host and scope however many requests
 * wait for it. Secrets are wiped when dropped and never put in messages.
 */
#include "tollgate/registry.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http_header_int.h"
#include "oci_manifest_int.h"
#include "registry_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

/* Docker config.json credentials ------------------------------------------ */

void tg_registry__wipe(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void tg_docker_creds_free(tg_docker_cred *creds, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		free(creds[i].host);
		tg_registry__wipe(creds[i].username);
		tg_registry__wipe(creds[i].password);
	}
	free(creds);
}

/* "https://index.docker.io/v1/" -> "index.docker.io"; "host:5000" kept. */
static char *auth_key_host(const char *key)
{
	const char *s = key, *end;

	if (tg_str_has_prefix(s, "https://"))
		s += 8;
	else if (tg_str_has_prefix(s, "http://"))
		s += 7;
	end = strchr(s, '/');
	return end ? tg_strndup(s, (size_t)(end - s)) : tg_strdup(s);
}

/* The user and password of one auths entry; 0 with both NULL for an entry
 * without credentials (credential helpers), TG_EPARSE otherwise. */
static int
cred_decode(tg_docker_cred *c, const char *name, const char *key, json_t *entry)
{
	json_t *auth = json_object_get(entry, "auth");
	json_t *user = json_object_get(entry, "username");
	json_t *pass = json_object_get(entry, "password");
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	char *colon;

	if (!json_is_object(entry))
		return tg_error_set(TG_EPARSE,
		                    "%s: auths.\"%s\" is not an object", name,
		                    key);
	if (auth && json_is_string(auth) && json_string_length(auth) > 0) {
		if (tg_base64_decode(&raw, &raw_len, json_string_value(auth),
		                     json_string_length(auth)) < 0 ||
		    memchr(raw, '\0', raw_len) ||
		    !(colon = strchr((char *)raw, ':'))) {
			if (raw)
				OPENSSL_cleanse(raw, raw_len);
			free(raw);
			return tg_error_set(TG_EPARSE,
			                    "%s: auths.\"%s\".auth is not "
			                    "base64 of \"user:password\"",
			                    name, key);
		}
		c->username =
		        tg_strndup((char *)raw, (size_t)(colon - (char *)raw));
		c->password = tg_strdup(colon + 1);
		OPENSSL_cleanse(raw, raw_len);
		free(raw);
		return 0;
	}
	if (auth && !json_is_string(auth))
		return tg_error_set(TG_EPARSE,
		                    "%s: auths.\"%s\".auth is not a "
		                    "string",
		                    name, key);
	if (json_is_string(user) && json_is_string(pass)) {
		c->username = tg_strdup(json_string_value(user));
		c->password = tg_strdup(json_string_value(pass));
		return 0;
	}
	if (user || pass)
		return tg_error_set(TG_EPARSE,
		                    "%s: auths.\"%s\": username and password "
		                    "must both be strings",
		                    name, key);
	return 0;
}

int tg_docker_config_parse(tg_docker_cred **out,
                           size_t *count_out,
                           const char *name,
                           const char *json,
                           size_t len)
{
	json_t *root, *auths, *entry;
	json_error_t jerr;
	const char *key;
	tg_docker_cred *creds = NULL;
	size_t n = 0;
	int error = 0;

	*out = NULL;
	*count_out = 0;
	if (!(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)))
		return tg_error_set(TG_EPARSE, "%s:%d:%d: %s", name, jerr.line,
		                    jerr.column, jerr.text);
	if (!json_is_object(root)) {
		error = tg_error_set(TG_EPARSE, "%s: not a JSON object", name);
		goto out;
	}
	auths = json_object_get(root, "auths");
	if (auths && !json_is_object(auths)) {
		error = tg_error_set(TG_EPARSE,
		                     "%s: \"auths\" is not an object", name);
		goto out;
	}
	if (json_object_size(auths) > TG_MAX_AUTH_ENTRIES) {
		error = tg_error_set(TG_ETOOBIG,
		                     "%s: more than %d auths entries", name,
		                     TG_MAX_AUTH_ENTRIES);
		goto out;
	}
	creds = tg_calloc(json_object_size(auths) + 1, sizeof(*creds));
	json_object_foreach(auths, key, entry) {
		tg_docker_cred c = { 0 };

		if ((error = cred_decode(&c, name, key, entry)) < 0)
			goto out;
		if (!c.username)
			continue;
		c.host = auth_key_host(key);
		creds[n++] = c;
	}
out:
	json_decref(root);
	if (error < 0) {
		tg_docker_creds_free(creds, n);
		return error;
	}
	*out = creds;
	*count_out = n;
	return 0;
}

/* Docker Hub is known under several names in config files. */
static bool is_docker_hub(const char *host)
{
	return !strcmp(host, "docker.io") || !strcmp(host, "index.docker.io") ||
	       !strcmp(host, "registry-1.docker.io");
}

const tg_docker_cred *tg_docker_cred_find(const tg_docker_cred *creds,
                                          size_t count,
                                          const char *registry)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (!strcmp(creds[i].host, registry))
			return &creds[i];
	if (!is_docker_hub(registry))
		return NULL;
	for (i = 0; i < count; i++)
		if (is_docker_hub(creds[i].host))
			return &creds[i];
	return NULL;
}

/* Hosts and tokens ------------------------------------------------------- */

struct host *tg_registry__host_get(tg_registry *reg, const char *name)
{
	struct host *h;

	for (h = reg->hosts; h; h = h->next)
		if (!strcmp(h->host, name))
			return h;
	h = tg_calloc(1, sizeof(*h));
	h->host = tg_strdup(name);
	h->next = reg->hosts;
	reg->hosts = h;
	return h;
}

struct token *
tg_registry__token_find(tg_registry *reg, const char *host, const char *scope)
{
	struct token *t;

	for (t = reg->tokens; t; t = t->next)
		if (!strcmp(t->host, host) &&
		    !strcmp(t->scope, scope ? scope : ""))
			return t;
	return NULL;
}

void tg_registry__token_wipe(struct token *t)
{
	tg_registry__wipe(t->value);
	t->value = NULL;
}

int tg_registry__load_creds(tg_registry *reg, const char *path)
{
	char *json = NULL;
	size_t len = 0;
	int error;

	if ((error = tg_file_read(&json, &len, path,
	                          TG_MAX_SMALL_RESPONSE_BYTES)) < 0)
		return tg_error_prefix(error, "registry auth file");
	error = tg_docker_config_parse(&reg->creds, &reg->creds_count, path,
	                               json, len);
	OPENSSL_cleanse(json, len);
	free(json);
	return error;
}

/* "Authorization: Basic base64(user:password)" for the op's registry, or
 * NULL without credentials. The caller wipes and frees it. */
static char *basic_header(const tg_registry *reg, const char *registry)
{
	const tg_docker_cred *c =
	        tg_docker_cred_find(reg->creds, reg->creds_count, registry);
	char *pair, *b64, *header;

	if (!c)
		return NULL;
	pair = tg_aprintf("%s:%s", c->username, c->password);
	b64 = tg_base64_encode((unsigned char *)pair, strlen(pair));
	header = tg_aprintf("Authorization: Basic %s", b64);
	tg_registry__wipe(pair);
	tg_registry__wipe(b64);
	return header;
}

static void on_token(tg_http *http, int result, tg_http_response *r, void *ctx);

/*
 * The token request URL for t->scope at host h's realm into url:
 * realm?service=...&scope=... (distribution token spec). 0, or TG_ETOOBIG
 * when it is over TG_MAX_TOKEN_URL_BYTES.
 */
static int token_url(tg_buf *url, const struct host *h, const struct token *t)
{
	char *service = h->service ? tg_registry__url_encode(h->service) : NULL;
	char *scope = t->scope[0] ? tg_registry__url_encode(t->scope) : NULL;
	char sep = strchr(h->realm, '?') ? '&' : '?';
	int error;

	tg_buf_init(url, TG_MAX_TOKEN_URL_BYTES);
	if ((error = tg_buf_puts(url, h->realm)) < 0)
		goto out;
	if (service &&
	    (error = tg_buf_printf(url, "%cservice=%s", sep, service)) < 0)
		goto out;
	if (service)
		sep = '&';
	if (scope)
		error = tg_buf_printf(url, "%cscope=%s", sep, scope);
out:
	free(service);
	free(scope);
	return error;
}

/* Ask the realm of host h for a token for t->scope; op waits on t. */
static int token_fetch(tg_registry *reg,
                       struct host *h,
                       struct token *t,
                       const char *registry)
{
	tg_http_request req = { 0 };
	char *basic = NULL;
	const char *hdrs[1];
	tg_buf url;
	int error;

	if ((error = token_url(&url, h, t)) < 0) {
		error = tg_error_prefix(error, "%s: token realm URL", registry);
		goto out;
	}
	basic = basic_header(reg, registry);
	req.url = url.data;
	if (basic) {
		hdrs[0] = basic;
		req.headers = hdrs;
		req.headers_count = 1;
	}
	tg_log(TG_LOG_DEBUG, "registry token request", "registry", registry,
	       "realm", h->realm, "scope", t->scope, NULL);
	error = tg_http_submit(reg->http, &req, on_token, t);
	if (error < 0)
		error = tg_error_prefix(error, "%s: token realm", registry);
out:
	tg_buf_free(&url);
	tg_registry__wipe(basic);
	return error;
}

/* A token value goes into a header: visible ASCII only, so a hostile
 * token server cannot inject header lines. */
static bool token_value_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > TG_MAX_TOKEN_BYTES)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

/*
 * The token response (distribution token spec): "token" or "access_token",
 * optional "expires_in" seconds. Sets t->value and t->expires; 0, TG_EPARSE.
 */
static int token_parse(struct token *t, const tg_http_response *r)
{
	json_t *doc =
	        json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	json_t *tok = json_object_get(doc, "token");
	json_t *exp = json_object_get(doc, "expires_in");
	json_int_t ttl = TG_REGISTRY_TOKEN_DEFAULT_TTL_S;
	int error = 0;

	if (!json_is_string(tok) || !json_string_length(tok))
		tok = json_object_get(doc, "access_token");
	if (!json_is_object(doc) || !json_is_string(tok) ||
	    !token_value_ok(json_string_value(tok), json_string_length(tok))) {
		error = tg_error_set(TG_EPARSE,
		                     "%s: token response from %s has "
		                     "no usable \"token\" or \"access_token\"",
		                     t->registry, r->url);
		goto out;
	}
	if (json_is_integer(exp) && json_integer_value(exp) > 0)
		ttl = json_integer_value(exp);
	tg_registry__token_wipe(t);
	t->value = tg_strdup(json_string_value(tok));
	/* Renew a little early so a token does not expire in flight. */
	t->expires =
	        tg_monotonic() + (double)ttl - (ttl > 20 ? 10.0 : ttl / 2.0);
out:
	json_decref(doc);
	return error;
}

static void on_token(tg_http *http, int result, tg_http_response *r, void *ctx)
{
	struct token *t = ctx;
	struct op *waiters = t->waiters, *op;
	char *detail = NULL;
	int code = result;

	(void)http;
	t->waiters = NULL;
	t->fetching = false;
	if (result < 0) {
		code = tg_error_prefix(result, "%s: token", t->registry);
	} else if (r->status == 401 || r->status == 403) {
		code = tg_error_set(
		        TG_EAUTH,
		        "%s: the token server %s refused %s "
		        "(HTTP %ld); check the credentials for %s in "
		        "the registry auth file",
		        t->registry, r->url,
		        tg_docker_cred_find(t->reg->creds, t->reg->creds_count,
		                            t->registry)
		                ? "the credentials"
		                : "anonymous access",
		        r->status, t->registry);
	} else if (r->status != 200) {
		code = tg_error_set(TG_ENET,
		                    "%s: token server %s answered HTTP "
		                    "%ld",
		                    t->registry, r->url, r->status);
	} else {
		code = token_parse(t, r);
	}
	tg_http_response_free(r);
	if (code < 0) {
		detail = tg_strdup(tg_error_last());
		tg_registry__ops_fail_all(waiters, code, detail);
		free(detail);
		return;
	}
	while ((op = waiters)) {
		waiters = op->next;
		op->next = NULL;
		if ((code = tg_registry__op_send(op)) < 0)
			tg_registry__op_error(op, code);
	}
}

/* Queue op behind the token for its scope, fetching it when needed. */
static int token_wait(struct op *op, struct host *h)
{
	tg_registry *reg = op->reg;
	struct token *t = tg_registry__token_find(reg, op->host, op->scope);

	if (!t) {
		t = tg_calloc(1, sizeof(*t));
		t->reg = reg;
		t->registry = tg_strdup(op->registry);
		t->host = tg_strdup(op->host);
		t->scope = tg_strdup(op->scope ? op->scope : "");
		t->next = reg->tokens;
		reg->tokens = t;
	}
	op->next = t->waiters;
	t->waiters = op;
	if (t->fetching)
		return 0;
	t->fetching = true;
	if (token_fetch(reg, h, t, op->registry) < 0) {
		/* Nothing was submitted: the waiters are ours to fail, op
		 * included (it is failed by the caller through the return). */
		t->fetching = false;
		t->waiters = op->next;
		op->next = NULL;
		return tg_error_code();
	}
	return 0;
}

/* The Authorization header op can send now; *wait set when op was queued
 * behind a token fetch instead. The caller wipes and frees the header. */
int tg_registry__op_authorization(char **out, bool *wait, struct op *op)
{
	struct host *h = tg_registry__host_get(op->reg, op->host);
	struct token *t;
	int error;

	*out = NULL;
	*wait = false;
	if (h->auth == AUTH_UNKNOWN && h->probing) {
		op->next = h->waiters;
		h->waiters = op;
		*wait = true;
		return 0;
	}
	if (h->auth == AUTH_UNKNOWN) {
		h->probing = true;
		op->probe = true;
		return 0;
	}
	if (h->auth == AUTH_BASIC) {
		*out = basic_header(op->reg, op->registry);
		return 0;
	}
	if (h->auth != AUTH_BEARER)
		return 0;
	t = tg_registry__token_find(op->reg, op->host, op->scope);
	if (t && t->value && !t->fetching && t->expires > tg_monotonic()) {
		*out = tg_aprintf("Authorization: Bearer %s", t->value);
		return 0;
	}
	if ((error = token_wait(op, h)) < 0)
		return error;
	*wait = true;
	return 0;
}

/* A 401: learn the host's challenge and send again once, authenticated. */
int tg_registry__op_handle_401(struct op *op, const tg_http_response *r)
{
	const char *value = tg_http_response_header(r, "WWW-Authenticate");
	tg_auth_challenge ch = { 0 };
	struct host *h = tg_registry__host_get(op->reg, op->host);
	struct token *t;

	if (op->auth_done)
		return tg_registry__status_error(op, r);
	if (!value || tg_www_authenticate_parse(&ch, value) < 0)
		return tg_error_set(TG_EAUTH,
		                    "%s: HTTP 401 without a usable "
		                    "WWW-Authenticate challenge",
		                    op->name);
	op->auth_done = true;
	if (!strcasecmp(ch.scheme, "Bearer") && ch.realm) {
		h->auth = AUTH_BEARER;
		free(h->realm);
		free(h->service);
		h->realm = ch.realm;
		h->service = ch.service;
		ch.realm = ch.service = NULL;
		if (!op->scope && ch.scope)
			op->scope = tg_strdup(ch.scope);
		/* The token we sent (if any) was refused: get a new one. */
		if ((t = tg_registry__token_find(op->reg, op->host,
		                                 op->scope)) &&
		    !t->fetching)
			tg_registry__token_wipe(t);
	} else if (!strcasecmp(ch.scheme, "Basic")) {
		/* Known now even without credentials, so requests waiting on
		 * this host fail at once rather than one after the other. */
		h->auth = AUTH_BASIC;
		if (!tg_docker_cred_find(op->reg->creds, op->reg->creds_count,
		                         op->registry)) {
			tg_auth_challenge_clear(&ch);
			return tg_error_set(
			        TG_EAUTH,
			        "%s: the registry requires "
			        "credentials (HTTP 401) and the "
			        "registry auth file has none for %s",
			        op->name, op->registry);
		}
	} else {
		tg_auth_challenge_clear(&ch);
		return tg_error_set(TG_EAUTH,
		                    "%s: unsupported authentication "
		                    "scheme in HTTP 401 challenge",
		                    op->name);
	}
	tg_auth_challenge_clear(&ch);
	return tg_registry__op_send(op);
}
