/*
 * tollgate run: the agent's loop (DESIGN.md 1; README.md "tollgate run").
 *
 * Cycles every source.interval, early when the branch moved on the remote
 * (a cheap ref check every poll_s) or on POST /reconcile; re-verifies the
 * deployed digests every reverifyInterval; serves /healthz, /readyz,
 * /metrics; backs off (exponential, capped) after failed cycles and never
 * exits on a Git, registry or cluster failure. Returns when *stop is set
 * (a signal handler sets it and writes to wake_wfd), after the current
 * step ended safely.
 */
#ifndef TOLLGATE_RUN_H
#define TOLLGATE_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "tollgate/config.h"
#include "tollgate/error.h"

typedef struct tg_run_options {
	const char *listen_addr; /* overrides the config's listenAddr */
	double poll_s;           /* ref check period; 0: default; <0: off */
	double health_timeout_s; /* as tg_agent_options */
	bool allow_insecure_kubeconfig;
	/* POST /reconcile secret (NULL: open), read from a file by the CLI. */
	const char *secret;
	size_t secret_len;
	/* Lease holder identity; NULL: "<hostname>-<pid>". */
	const char *identity;
	bool leader_election; /* take the Lease before writing */
	const volatile sig_atomic_t *stop;
	int wake_rfd; /* read end of the wake pipe (signals, /reconcile) */
	int wake_wfd; /* its write end */
} tg_run_options;

/* Run until *stop. 0 after a clean stop, or a negative code when the
 * agent could not start (policy, config, listen address). */
TG_WUR int tg_run(const tg_config *cfg, const tg_run_options *opts);

/*
 * Read the /reconcile secret from path (at most TG_MAX_SECRET_BYTES),
 * without a trailing newline, into *out (the caller wipes and frees it)
 * and its length into *len_out. 0, TG_EINVALID (the file is empty) or the
 * errors of tg_file_read().
 */
TG_WUR int tg_run_secret_read(char **out, size_t *len_out, const char *path);

#endif
