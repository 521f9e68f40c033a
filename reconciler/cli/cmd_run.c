/*
 * `tollgate run --config FILE`: the agent's loop (tg_run). This file
 * parses the command line, reads the /reconcile secret file and installs
 * the SIGTERM/SIGINT handlers; exit 0 after a clean stop, 1 when the
 * agent cannot start, 2 for usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "tollgate/cli.h"
#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/run.h"
#include "tollgate/util.h"

static volatile sig_atomic_t stop_flag;
static int wake_wfd = -1;

static void on_signal(int sig)
{
	static const char one = 's';

	(void)sig;
	stop_flag = 1;
	if (wake_wfd >= 0 && write(wake_wfd, &one, 1) < 0) {
		/* the flag is enough: poll() returns EINTR */
	}
}

static int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

static int parse_seconds(double *out, const char *flag, const char *v)
{
	char *end;

	*out = strtod(v, &end);
	if (end == v || *end || *out < 0 || *out > TG_RUN_MAX_FLAG_S) {
		fprintf(stderr,
		        "tollgate run: bad %s \"%s\": seconds "
		        "(0 to %d)\n",
		        flag, v, TG_RUN_MAX_FLAG_S);
		return -1;
	}
	return 0;
}

typedef struct run_args {
	tg_cli_common common;
	const char *config;
	const char *secret_file;
	tg_run_options ro;
} run_args;

static int parse_args(run_args *c, int argc, char **argv)
{
	const char *v;
	int i, r;

	for (i = 1; i < argc; i++) {
		if ((r = tg_cli_common_option(&c->common, argc, argv, &i)) !=
		            0 ||
		    (r = tg_cli_option_value(&c->config, "--config", argc, argv,
		                             &i)) != 0 ||
		    (r = tg_cli_option_value(&c->ro.listen_addr,
		                             "--listen-addr", argc, argv,
		                             &i)) != 0 ||
		    (r = tg_cli_option_value(&c->secret_file,
		                             "--reconcile-secret-file", argc,
		                             argv, &i)) != 0 ||
		    (r = tg_cli_option_value(&c->ro.identity, "--identity",
		                             argc, argv, &i)) != 0) {
			if (r < 0)
				return -1;
			continue;
		}
		if ((r = tg_cli_option_value(&v, "--poll-interval", argc, argv,
		                             &i)) != 0) {
			if (r < 0 || parse_seconds(&c->ro.poll_s,
			                           "--poll-interval", v) < 0)
				return -1;
			if (c->ro.poll_s == 0)
				c->ro.poll_s = -1; /* no ref checks */
			continue;
		}
		if ((r = tg_cli_option_value(&v, "--health-timeout", argc, argv,
		                             &i)) != 0) {
			if (r < 0 || parse_seconds(&c->ro.health_timeout_s,
			                           "--health-timeout", v) < 0)
				return -1;
			if (c->ro.health_timeout_s == 0)
				c->ro.health_timeout_s = -1; /* do not wait */
			continue;
		}
		if (!strcmp(argv[i], "--no-leader-election")) {
			c->ro.leader_election = false;
			continue;
		}
		fprintf(stderr, "tollgate run: unknown argument \"%s\"\n",
		        argv[i]);
		return -1;
	}
	if (!c->config) {
		fprintf(stderr,
		        "usage: tollgate run --config FILE [--listen-addr "
		        "HOST:PORT] [--poll-interval SECONDS]\n"
		        "       [--reconcile-secret-file FILE] [--identity "
		        "NAME] [--no-leader-election]\n"
		        "       [--health-timeout SECONDS] [--log-format "
		        "text|json]\n");
		return -1;
	}
	return 0;
}

int tg_cmd_run(int argc, char **argv)
{
	run_args c;
	tg_config *cfg = NULL;
	char *secret = NULL;
	size_t secret_len = 0;
	int pipefd[2] = { -1, -1 };
	int rc = TG_EXIT_ERROR;

	memset(&c, 0, sizeof(c));
	c.ro.leader_election = true;
	if (parse_args(&c, argc, argv) < 0)
		return TG_EXIT_USAGE;
	if (tg_config_load(&cfg, c.config) < 0 ||
	    (c.secret_file &&
	     tg_run_secret_read(&secret, &secret_len, c.secret_file) < 0)) {
		fprintf(stderr, "tollgate run: %s\n", tg_error_last());
		goto out;
	}
	if (pipe(pipefd) < 0 || fcntl(pipefd[0], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(pipefd[1], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(pipefd[0], F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(pipefd[1], F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "tollgate run: pipe: %s\n", strerror(errno));
		goto out;
	}
	wake_wfd = pipefd[1];
	if (install_signals() < 0) {
		fprintf(stderr, "tollgate run: sigaction: %s\n",
		        strerror(errno));
		goto out;
	}
	c.ro.secret = secret;
	c.ro.secret_len = secret_len;
	c.ro.stop = &stop_flag;
	c.ro.wake_rfd = pipefd[0];
	c.ro.wake_wfd = pipefd[1];
	if (tg_run(cfg, &c.ro) < 0) {
		fprintf(stderr, "tollgate run: %s\n", tg_error_last());
		goto out;
	}
	rc = TG_EXIT_OK;
out:
	wake_wfd = -1;
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (secret)
		OPENSSL_cleanse(secret, secret_len);
	free(secret);
	tg_config_free(cfg);
	return rc;
}
