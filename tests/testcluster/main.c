/*
 * testcluster --listen 127.0.0.1:0 --token TOKEN --kubeconfig-out FILE
 *             [--tls] [--bookmark-seconds N]
 *
 * Starts the server, writes the kubeconfig, prints the URL on stdout and
 * serves until SIGTERM or SIGINT. Exit codes: 0 after a signal, 1 when it
 * cannot start, 2 on bad usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "tc.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

/* Bytes of randomness in a generated token. */
#define TC_TOKEN_BYTES 16

typedef struct options {
	char *host;
	unsigned port;
	const char *token;
	const char *kubeconfig;
	bool tls;
	unsigned bookmark_s; /* 0: TC_WATCH_BOOKMARK_S */
} options;

static void usage(FILE *f)
{
	fputs("usage: testcluster --listen HOST:PORT [--token TOKEN] "
	      "[--kubeconfig-out FILE] [--tls]\n"
	      "  --listen          IPv4 address and port (0 picks a free "
	      "one)\n"
	      "  --token           bearer token clients must send (random "
	      "when absent)\n"
	      "  --kubeconfig-out  write a kubeconfig for kubectl and "
	      "tollgate\n"
	      "  --tls             serve HTTPS with a generated CA\n"
	      "  --bookmark-seconds  seconds between watch bookmarks "
	      "(default 60)\n",
	      f);
}

static int parse_listen(options *o, const char *s)
{
	const char *colon = strrchr(s, ':');
	uint64_t port;

	if (colon == NULL || colon == s ||
	    tg_parse_u64(&port, colon + 1, strlen(colon + 1), 65535) < 0) {
		fprintf(stderr, "testcluster: --listen %s: want HOST:PORT\n",
		        s);
		return -1;
	}
	free(o->host);
	o->host = tg_strndup(s, (size_t)(colon - s));
	o->port = (unsigned)port;
	return 0;
}

static int parse_seconds(unsigned *out, const char *s)
{
	uint64_t v;

	if (tg_parse_u64(&v, s, strlen(s), 3600) < 0 || v == 0) {
		fprintf(stderr, "testcluster: %s: want 1-3600 seconds\n", s);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int parse_args(options *o, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = i + 1 < argc;

		if (strcmp(a, "--tls") == 0) {
			o->tls = true;
		} else if (strcmp(a, "--listen") == 0 && has_value) {
			if (parse_listen(o, argv[++i]) < 0)
				return -1;
		} else if (strcmp(a, "--token") == 0 && has_value) {
			o->token = argv[++i];
		} else if (strcmp(a, "--kubeconfig-out") == 0 && has_value) {
			o->kubeconfig = argv[++i];
		} else if (strcmp(a, "--bookmark-seconds") == 0 && has_value) {
			if (parse_seconds(&o->bookmark_s, argv[++i]) < 0)
				return -1;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr,
			        "testcluster: unknown or incomplete "
			        "argument %s\n",
			        a);
			return -1;
		}
	}
	if (o->host == NULL) {
		fprintf(stderr, "testcluster: --listen is required\n");
		return -1;
	}
	return 0;
}

static char *random_token(void)
{
	unsigned char b[TC_TOKEN_BYTES];
	char hex[2 * TC_TOKEN_BYTES + 1];

	RAND_bytes(b, sizeof(b));
	tg_hex_encode(hex, b, sizeof(b));
	return tg_strdup(hex);
}

/* The stop signals write to a pipe that main reads: whichever thread
 * receives them (sanitizer runtimes start threads of their own), main
 * wakes up and shuts down in order. */
static int stop_pipe[2] = { -1, -1 };

static void on_stop(int sig)
{
	char c = (char)sig;
	ssize_t n = write(stop_pipe[1], &c, 1);

	(void)n;
}

static int install_signals(void)
{
	struct sigaction sa;

	if (pipe(stop_pipe) < 0)
		return tg_error_set(TG_EIO, "pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void wait_for_stop(void)
{
	char c;

	while (read(stop_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
}

static int serve(const options *o, const char *token)
{
	tc_state st;
	tc_server *srv = NULL;
	char *cert = NULL, *key = NULL, *ca = NULL, *url = NULL;
	int rc = 1;

	tc_state_init(&st, token);
	if (o->bookmark_s)
		st.bookmark_s = o->bookmark_s;
	st.tls = o->tls;
	if (install_signals() < 0)
		goto out;
	if (o->tls && tc_tls_make(&cert, &key, &ca) < 0)
		goto out;
	if (tc_server_start(&srv, &st, o->host, o->port, cert, key) < 0 ||
	    tc_controller_start(&st) < 0)
		goto out;
	url = tg_aprintf("%s://%s:%u", o->tls ? "https" : "http", o->host,
	                 tc_server_port(srv));
	if (o->kubeconfig != NULL &&
	    tc_kubeconfig_write(o->kubeconfig, url, token, ca) < 0)
		goto out;
	printf("%s\n", url);
	fflush(stdout);
	wait_for_stop();
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "testcluster: %s\n", tg_error_last());
	tc_controller_stop(&st);
	tc_server_stop(srv);
	tc_state_destroy(&st);
	free(url);
	free(cert);
	if (key != NULL)
		OPENSSL_cleanse(key, strlen(key));
	free(key);
	free(ca);
	return rc;
}

int main(int argc, char **argv)
{
	options o;
	char *token;
	int rc;

	memset(&o, 0, sizeof(o));
	if (parse_args(&o, argc, argv) < 0) {
		usage(stderr);
		free(o.host);
		return 2;
	}
	token = o.token ? tg_strdup(o.token) : random_token();
	rc = serve(&o, token);
	free(token);
	free(o.host);
	return rc;
}
