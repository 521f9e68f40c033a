/*
 * The agent: one reconcile cycle (DESIGN.md section 1) over long-lived
 * state — the Git cache, the registry client and its digest cache, the
 * verdict cache, the Kubernetes client — so that `tollgate run` can repeat
 * cycles cheaply and `tollgate once` / `tollgate plan` run one.
 *
 * A cycle: fetch the branch; read the tree at source.path; load the
 * manifests into units; verify every image of every valid unit (all at
 * once); block each unit with an invalid file or a blocked image, whole;
 * pin the images of the other units to their verified digests; apply them
 * (or, for plan, dry-run and diff); find drift; write the status commit
 * and note (not for plan).
 */
#ifndef TOLLGATE_AGENT_H
#define TOLLGATE_AGENT_H

#include <signal.h>
#include <stdbool.h>

#include <jansson.h>

#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/plan.h"

typedef struct tg_agent tg_agent;

typedef struct tg_agent_options {
	/* Seconds to wait for rollouts after apply; 0: the default (60);
	 * negative: do not wait. */
	double health_timeout_s;
	/* Allow a kubeconfig with insecure-skip-tls-verify. */
	bool allow_insecure_kubeconfig;
	/*
	 * tollgate run: stop (may be NULL) is set by a signal handler; a
	 * cycle that sees it before verifying stops at once (TG_ERROR
	 * "stopped", result->stopped); once verification started the cycle
	 * goes on through apply and status (never between verifying and
	 * pinning an apply).
	 */
	const volatile sig_atomic_t *stop;
	/*
	 * Called before each write phase (apply, status); false stops the
	 * cycle with TG_ECONFLICT ("not the leader"): only the holder of the
	 * lease writes. NULL: always allowed.
	 */
	bool (*may_write)(void *ctx);
	void *may_write_ctx;
	/* tollgate run: keep the last status document (in
	 * stateDir/last-status) for tg_agent_reverify to publish violations
	 * with. */
	bool reverify;
	/* Called with the cycle's document once it is final, before the
	 * status is published (NULL: none). With reverify too, the document
	 * is freed before the status push (its memory and the push's do not
	 * add) and tg_agent_cycle's report_out may be NULL: the caller reads
	 * the document here. */
	void (*on_doc)(void *ctx, const json_t *doc, const char *commit);
	void *on_doc_ctx;
} tg_agent_options;

/* Load the policy, open the source cache, the registry and cluster
 * clients. Nothing is fetched yet. cfg is borrowed and must outlive a. */
TG_WUR int tg_agent_new(tg_agent **out,
                        const tg_config *cfg,
                        const tg_agent_options *opts);
void tg_agent_free(tg_agent *a);

/*
 * One cycle. plan: write nothing to the cluster or Git. *report_out (may
 * be NULL) gets the status document (and for plan, the object actions).
 * Returns 0 when the cycle ran (units may be blocked or failed: see
 * result), or a negative code when it could not (Git, cluster or policy
 * unreachable) with the detail in tg_error_last().
 */
TG_WUR int tg_agent_cycle(tg_cycle_result *result,
                          json_t **report_out,
                          tg_agent *a,
                          bool plan);

/* The agent's Kubernetes client (borrowed), e.g. for the Lease. */
struct tg_kube *tg_agent_kube(tg_agent *a);

/*
 * Cheap check between cycles: has the branch moved on the remote since the
 * last fetch? 0 or the errors of tg_source_remote_head().
 */
TG_WUR int tg_agent_remote_moved(bool *moved, tg_agent *a);

/*
 * Re-verification (tollgate run): verify every image deployed by the
 * last successful cycle again, by digest, against the current policy and
 * attestations, bypassing the verdict cache. An image that now fails is a
 * violation: the list replaces the previous one, goes into the status
 * document ("violations", published at once; not for a lost lease) and
 * into every later cycle's status until a re-verification clears it.
 * Nothing is removed from the cluster. *violations_out (may be NULL) gets
 * the new violations (a JSON array of {unit, ref, digest, reasons}) that
 * were not in the previous list, for notifications. 0, or a negative code
 * when the status could not be published or nothing was deployed yet
 * (0 then, with nothing checked).
 */
TG_WUR int tg_agent_reverify(json_t **violations_out, tg_agent *a);

/* What tg_agent_policy_refresh() found. */
typedef struct tg_agent_policy_state {
	const char *path; /* the policy file (cfg->policy) */
	bool reloaded;    /* the policy on disk is now in force */
	/* A change to the policy file or a file it names was read and does
	 * not load (counted once per change). */
	bool failed;
	/* Why the policy on disk is not in force (the load error, with the
	 * file and line), or NULL: the previous policy stays in force. */
	const char *stale;
	const char *hash; /* tg_policy_hash() of the policy in force */
} tg_agent_policy_state;

/*
 * tollgate run, before each cycle: has the content of the policy file, or
 * of a key or trust file the policy in force names, changed since it was
 * read (SHA-256 of each, or a file that appeared or went away)? Then load the
 * policy again: a policy that loads is in force from this cycle on (the verdict
 * cache is keyed by the policy's hash, so no old verdict is reused); one
 * that does not keeps the previous policy in force and is reported in
 * out->stale until a later check loads it. While stale, every check loads
 * it again (a key file it names may have appeared). The strings in out
 * are borrowed from a until the next call.
 */
void tg_agent_policy_refresh(tg_agent_policy_state *out, tg_agent *a);

/*
 * Between cycles (tollgate run's remote poll): does the policy file or a
 * file it names differ from what the last tg_agent_policy_refresh() read?
 * Looks at the file's identity (inode, size, mtime, ctime) and hashes
 * only a file whose identity changed or changed just around that read.
 * A policy that stays broken does not differ.
 */
bool tg_agent_policy_changed(const tg_agent *a);

/*
 * sigstore.tuf: the age in seconds of the trust root in force (since the
 * update that verified it, or since the start while none was verified)
 * and whether the last refresh failed. false without sigstore.tuf.
 */
bool tg_agent_trust_state(const tg_agent *a, int64_t *age, bool *stale);

/* Violations currently known (borrowed JSON array). */
const json_t *tg_agent_violations(const tg_agent *a);

#endif
