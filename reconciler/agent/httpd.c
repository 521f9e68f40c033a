/*
 * The agent's HTTP endpoint: see reconciler/include/tollgate/httpd.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/httpd.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

struct tg_httpd {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock;
	char *metrics;
	bool ready;
	char *not_ready; /* a problem that makes /readyz 503, or NULL */
	bool reconcile;
	unsigned char *secret;
	size_t secret_len;
	int wake_fd;
};

/* Per-request state: the body read so far. */
typedef struct request {
	char *body;
	size_t len;
	bool too_big;
} request;

static enum MHD_Result respond(struct MHD_Connection *c,
                               unsigned status,
                               const char *type,
                               const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static bool secret_equals(const tg_httpd *h, const char *given)
{
	return given && strlen(given) == h->secret_len &&
	       CRYPTO_memcmp(given, h->secret, h->secret_len) == 0;
}

/* X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256(secret, body). */
static bool
hub_signature_ok(const tg_httpd *h, const char *sig, const request *rq)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (!sig || !tg_str_has_prefix(sig, "sha256="))
		return false;
	if (!HMAC(EVP_sha256(), h->secret, (int)h->secret_len,
	          (const unsigned char *)(rq->body ? rq->body : ""), rq->len,
	          mac, &mac_len))
		return false;
	tg_hex_encode(hex, mac, mac_len);
	sig += strlen("sha256=");
	return strlen(sig) == 2 * (size_t)mac_len &&
	       CRYPTO_memcmp(sig, hex, 2 * (size_t)mac_len) == 0;
}

static bool
authorized(const tg_httpd *h, struct MHD_Connection *c, const request *rq)
{
	const char *auth;

	if (!h->secret)
		return true;
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (auth && tg_str_has_prefix(auth, "Bearer ") &&
	    secret_equals(h, auth + strlen("Bearer ")))
		return true;
	if (secret_equals(h, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                                 "X-Gitlab-Token")))
		return true;
	return hub_signature_ok(
	        h,
	        MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                    "X-Hub-Signature-256"),
	        rq);
}

static enum MHD_Result
reconcile(tg_httpd *h, struct MHD_Connection *c, const request *rq)
{
	static const char one = 'r';

	if (rq->too_big)
		return respond(c, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain",
		               "request body too large\n");
	if (!authorized(h, c, rq))
		return respond(c, MHD_HTTP_UNAUTHORIZED, "text/plain",
		               "unauthorized\n");
	pthread_mutex_lock(&h->lock);
	h->reconcile = true;
	pthread_mutex_unlock(&h->lock);
	if (h->wake_fd >= 0 && write(h->wake_fd, &one, 1) < 0) {
		/* A full pipe already wakes the loop. */
	}
	return respond(c, MHD_HTTP_ACCEPTED, "text/plain",
	               "reconcile requested\n");
}

/* 200 "ready" after the first successful cycle unless a problem is set;
 * 503 with the reason otherwise. */
static enum MHD_Result readyz(tg_httpd *h, struct MHD_Connection *c)
{
	enum MHD_Result ret;
	char *body;
	bool ready;

	pthread_mutex_lock(&h->lock);
	ready = h->ready && !h->not_ready;
	body = h->not_ready ? tg_aprintf("not ready: %s\n", h->not_ready)
	       : h->ready   ? tg_strdup("ready\n")
	                    : tg_strdup("no successful cycle yet\n");
	pthread_mutex_unlock(&h->lock);
	ret = respond(c, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
	              "text/plain", body);
	free(body);
	return ret;
}

static enum MHD_Result
get(tg_httpd *h, struct MHD_Connection *c, const char *url)
{
	enum MHD_Result ret;
	char *copy;

	if (!strcmp(url, "/healthz"))
		return respond(c, MHD_HTTP_OK, "text/plain", "ok\n");
	if (!strcmp(url, "/readyz"))
		return readyz(h, c);
	if (!strcmp(url, "/metrics")) {
		pthread_mutex_lock(&h->lock);
		copy = tg_strdup(h->metrics ? h->metrics : "");
		pthread_mutex_unlock(&h->lock);
		ret = respond(c, MHD_HTTP_OK,
		              "text/plain; version=0.0.4; charset=utf-8", copy);
		free(copy);
		return ret;
	}
	return respond(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
}

static enum MHD_Result handle(void *cls,
                              struct MHD_Connection *c,
                              const char *url,
                              const char *method,
                              const char *version,
                              const char *upload_data,
                              size_t *upload_data_size,
                              void **con_cls)
{
	tg_httpd *h = cls;
	request *rq = *con_cls;

	(void)version;
	if (!rq) {
		*con_cls = tg_calloc(1, sizeof(request));
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		if (rq->too_big || rq->len + n > TG_HTTPD_MAX_BODY_BYTES) {
			rq->too_big = true;
		} else {
			rq->body = tg_realloc(rq->body, rq->len + n + 1);
			memcpy(rq->body + rq->len, upload_data, n);
			rq->len += n;
			rq->body[rq->len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, "/reconcile")) {
		if (strcmp(method, "POST"))
			return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			               "text/plain", "use POST\n");
		return reconcile(h, c, rq);
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
		               "use GET\n");
	return get(h, c, url);
}

static void request_done(void *cls,
                         struct MHD_Connection *c,
                         void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	request *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* "host:port" or ":port" into an IPv4 or IPv6 socket address. */
static int parse_addr(struct sockaddr_storage *ss, bool *v6, const char *addr)
{
	const char *colon = strrchr(addr, ':');
	char host[TG_MAX_HOST_BYTES];
	uint64_t port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	*v6 = false;
	if (!colon || tg_parse_u64(&port, colon + 1, strlen(colon + 1),
	                           TG_MAX_TCP_PORT) < 0)
		return tg_error_set(TG_EINVALID,
		                    "listen address \"%s\": "
		                    "expected host:port",
		                    addr);
	hl = (size_t)(colon - addr);
	if (hl >= sizeof(host))
		return tg_error_set(TG_EINVALID,
		                    "listen address \"%s\": host "
		                    "too long",
		                    addr);
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	if (!strcmp(host, "localhost"))
		tg_strlcpy(host, "127.0.0.1", sizeof(host));
	if (!*host || inet_pton(AF_INET, host,
	                        &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (!*host)
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	if (inet_pton(AF_INET6, host,
	              &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*v6 = true;
		return 0;
	}
	return tg_error_set(TG_EINVALID,
	                    "listen address \"%s\": \"%s\" is not "
	                    "an IP address",
	                    addr, host);
}

int tg_httpd_start(tg_httpd **out, const tg_httpd_options *opts)
{
	struct sockaddr_storage ss;
	tg_httpd *h;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
	bool v6;
	int error;

	*out = NULL;
	if ((error = parse_addr(&ss, &v6, opts->addr)) < 0)
		return error;
	if (v6)
		flags |= MHD_USE_IPv6;
	h = tg_calloc(1, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->wake_fd = opts->wake_fd;
	if (opts->secret) {
		h->secret = tg_malloc(opts->secret_len + 1);
		memcpy(h->secret, opts->secret, opts->secret_len);
		h->secret[opts->secret_len] = '\0';
		h->secret_len = opts->secret_len;
	}
	h->daemon = MHD_start_daemon(
	        flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
	        (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
	        (unsigned)TG_HTTPD_MAX_CONNECTIONS,
	        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)TG_HTTPD_TIMEOUT_S,
	        MHD_OPTION_NOTIFY_COMPLETED, request_done, h, MHD_OPTION_END);
	if (!h->daemon) {
		error = tg_error_set(TG_EIO,
		                     "listen address \"%s\": cannot "
		                     "listen (%s)",
		                     opts->addr,
		                     errno ? strerror(errno) : "in use?");
		tg_httpd_stop(h);
		return error;
	}
	*out = h;
	return 0;
}

void tg_httpd_stop(tg_httpd *h)
{
	if (!h)
		return;
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	pthread_mutex_destroy(&h->lock);
	if (h->secret)
		OPENSSL_cleanse(h->secret, h->secret_len);
	free(h->secret);
	free(h->metrics);
	free(h->not_ready);
	free(h);
}

void tg_httpd_set_ready(tg_httpd *h, bool ready)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->ready = ready;
	pthread_mutex_unlock(&h->lock);
}

void tg_httpd_set_not_ready(tg_httpd *h, const char *problem)
{
	char *copy;

	if (!h)
		return;
	copy = problem ? tg_strdup(problem) : NULL;
	pthread_mutex_lock(&h->lock);
	free(h->not_ready);
	h->not_ready = copy;
	pthread_mutex_unlock(&h->lock);
}

void tg_httpd_set_metrics(tg_httpd *h, const char *text)
{
	char *copy;

	if (!h)
		return;
	copy = tg_strdup(text);
	pthread_mutex_lock(&h->lock);
	free(h->metrics);
	h->metrics = copy;
	pthread_mutex_unlock(&h->lock);
}

bool tg_httpd_take_reconcile(tg_httpd *h)
{
	bool r;

	if (!h)
		return false;
	pthread_mutex_lock(&h->lock);
	r = h->reconcile;
	h->reconcile = false;
	pthread_mutex_unlock(&h->lock);
	return r;
}
