/*
 * The agent's state, shared by the cycle (agent.c) and re-verification
 * (reverify.c). Not for use outside reconciler/agent/.
 */
#ifndef TOLLGATE_AGENT_INT_H
#define TOLLGATE_AGENT_INT_H

#include <stdbool.h>

#include <jansson.h>

#include "tollgate/agent.h"
#include "tollgate/kube.h"
#include "tollgate/manifest.h"
#include "tollgate/oci_source.h"
#include "tollgate/plan.h"
#include "tollgate/policy.h"
#include "tollgate/registry.h"
#include "tollgate/render.h"
#include "tollgate/source.h"
#include "tollgate/verifier.h"

/* The policy file and the key and trust files it names, as last read
 * (policy_reload.c). */
typedef struct tg_policy_watch tg_policy_watch;

/* The trust root kept current through TUF (trust.c). */
typedef struct tg_agent_trust {
	char *cache_dir; /* stateDir/tuf/<16 hex of the mirror's SHA-256> */
	char *bootstrap; /* the bootstrap root.json */
	size_t bootstrap_len;
	char *bootstrap_name;
	double next_at;      /* tg_monotonic() of the next refresh */
	int64_t started_at;  /* Unix time the agent started */
	int64_t verified_at; /* of the root in force; 0: the built-in one */
	int64_t root_version, targets_version;
	char *error; /* why the last refresh failed, or NULL */
} tg_agent_trust;

struct tg_agent {
	const tg_config *cfg;
	tg_agent_options opts;
	tg_policy *policy;
	tg_registry *registry;
	tg_verdict_cache *cache;
	tg_verifier *verifier;
	tg_source *source;      /* a Git source, or NULL */
	tg_oci_source *oci;     /* an OCI source, or NULL */
	tg_source *status_repo; /* status.url's repository, or NULL */
	json_t *artifact;       /* the OCI source's entry of this cycle */
	bool artifact_blocked;  /* ... its new artifact was refused */
	tg_kube *kube;
	char *cache_path;
	char *drift_memo_path;     /* stateDir/drift-memo */
	char *status_digests_path; /* stateDir/status-digests */
	char *manifest_cache_path; /* stateDir/manifest-cache */
	/* manifest files of the last load: from the cache, parsed */
	size_t files_cached, files_parsed;
	/* this cycle's verification: its counters, and the references
	 * verified while the manifests were read (preverify.c) */
	tg_verifier_stats verify_stats;
	size_t images_early;
	/* tollgate run: re-verification bypasses the verdict cache. */
	tg_verifier *reverifier;
	/* unit -> [{ref, digest, pinned}] of what the cluster runs (kept for
	 * a unit blocked later: its last applied images still run). */
	json_t *deployed;
	json_t *violations; /* [{unit, ref, digest, reasons}] */
	/* The last published status document, for re-verification to
	 * publish again: written to stateDir/last-status by the cycle that
	 * published it (last_doc true), not kept in memory, where it held
	 * 3.5 MB of text at 10,000 objects through the next cycle's peak. */
	char *last_doc_path;
	bool last_doc;
	bool status_fetched; /* this cycle's fetch brought the status refs */
	double status_fetched_at; /* tg_monotonic() of that fetch */
	tg_policy_watch *watch;   /* for tg_agent_policy_refresh() */
	tg_render *render;        /* kustomize and plugins, with the cache */
	tg_agent_trust *trust;    /* sigstore.tuf, or NULL */
};

/* The commit check of one cycle (commitcheck.c). */
typedef struct tg_commit_check {
	bool blocked; /* the head (or a commit before it) is refused */
	/* The commit whose content the cycle uses: the head, or when it is
	 * blocked the last verified commit ("" when there is none). */
	char deploy[TG_SOURCE_OID_HEX];
	json_t *doc; /* the status document's "commit" entry, or NULL when
	                the policy has no commits: section (owned) */
} tg_commit_check;

/*
 * Check the signatures the policy's commits: section asks for on head
 * (and, in mode history, the commits since the last verified one). A
 * verified head becomes the last verified commit (not for plan).
 * 0 (cc->blocked says the verdict) or an error reading the commits.
 */
TG_WUR int tg_agent_check_commit(tg_commit_check *cc,
                                 tg_agent *a,
                                 const char *head,
                                 bool plan);

/* Before a write phase: may this agent still write? 0, or TG_ECONFLICT
 * (r->stopped set when r is not NULL). */
TG_WUR int
tg_agent_check_may_write(tg_cycle_result *r, tg_agent *a, const char *what);

/* Publish the status document *docp (publish.c); what was committed and
 * pushed into r. A failure is logged and never blocks applying: it is
 * tried again next cycle. With may_release (*docp saved by
 * tg_agent__save_last_doc), *docp is freed before the push and may be
 * NULL after (read back only when a refused push has to publish again). */
void tg_agent_publish(tg_cycle_result *r,
                      tg_agent *a,
                      json_t **docp,
                      bool may_release);

/* The renderer of cfg's render section (cache under stateDir); also used
 * by `tollgate check` and `manifests`. 0 or the error of tg_render_new. */
TG_WUR int tg_agent_open_render(tg_render **out, const tg_config *cfg);

/* The cycle's verifier (with the verdict cache) and re-verification's
 * (without) for policy p. 0, or the error of tg_verifier_new(). */
TG_WUR int tg_agent_open_verifiers(tg_verifier **v,
                                   tg_verifier **rv,
                                   tg_agent *a,
                                   const tg_policy *p);

/* Verification beside the reading of manifests (preverify.c). */
typedef struct tg_preverify tg_preverify;
/* A queue of references for verifier v; no thread yet. */
tg_preverify *tg_agent__preverify_new(tg_verifier *v);
/* Start the worker: from here until tg_agent__preverify_finish() it alone
 * uses the verifier. Without a thread, nothing is verified early. */
void tg_agent__preverify_start(tg_preverify *p);
/* A reference as written (the manifest set's on_image hook, ctx = p):
 * queued once, for the worker. Main thread only. */
void tg_agent__preverify_add(void *ctx, const char *ref);
/* Let the worker verify what is queued (cancel: only the batch in hand),
 * then join it. */
void tg_agent__preverify_finish(tg_preverify *p, bool cancel);
/* After finish: the verdict of ref (to the caller), or NULL when it was
 * not verified early. */
tg_verdict *tg_agent__preverify_take(tg_preverify *p, const char *ref);
/* After finish: the worker's counters added to sum; how many references
 * it verified. */
size_t tg_agent__preverify_stats(tg_verifier_stats *sum, const tg_preverify *p);
/* Every image of every valid unit of set into vs, each distinct
 * reference once: its verdict from pre, or verified now; st gets the
 * counters of both. 0, or TG_ETOOBIG past TG_MAX_VERIFY_IMAGES. */
TG_WUR int tg_agent__verify_images(tg_plan_verdicts *vs,
                                   tg_verifier_stats *st,
                                   tg_agent *a,
                                   tg_manifest_set *set,
                                   tg_preverify *pre);
/* s added to sum. */
void tg_agent__add_stats(tg_verifier_stats *sum, const tg_verifier_stats *s);
/* Finish (when not yet) and free, with the verdicts not taken. */
void tg_agent__preverify_free(tg_preverify *p);

/* Write doc to a->last_doc_path (publish.c): streamed, compact, to a
 * temporary file renamed over it. 0, or an error logged. */
TG_WUR int tg_agent__save_last_doc(tg_agent *a, const json_t *doc);
/* Read it back into *out: 0, or TG_ERROR naming the file and what is
 * wrong with it. */
TG_WUR int tg_agent__load_last_doc(json_t **out, tg_agent *a);

/* OCI sources (oci_cycle.c). Open a->oci from the configuration. */
TG_WUR int tg_agent__oci_open(tg_agent *a);
/* Resolve, verify and read the artifact into *tree (NULL when it was
 * refused and no verified one can stand in); a->artifact says what
 * happened. 0, or a network error (the cycle fails). */
TG_WUR int tg_agent__oci_tree(tg_source_tree **tree, tg_agent *a);
/* A new status document about the artifact digest (NULL: the refused
 * one). */
json_t *tg_agent__oci_doc(tg_agent *a, const char *digest);
/* Has the tag moved since the last cycle? */
TG_WUR int tg_agent__oci_moved(bool *moved, tg_agent *a);

/* sigstore.tuf (trust.c): read the bootstrap root and put the root last
 * verified (the TUF cache) in force. 0, or an error reading
 * sigstore.tuf.root. */
TG_WUR int tg_agent__trust_open(tg_agent *a);
/* Before a cycle: refresh through TUF when due; warn while the last
 * refresh failed. */
void tg_agent__trust_refresh(tg_agent *a);
/* The status document's "trustRoot" entry, or NULL without sigstore.tuf. */
json_t *tg_agent__trust_doc(const tg_agent *a);
void tg_agent__trust_free(tg_agent_trust *t);

/* A watch of the policy file at path, stamped now (before it is loaded,
 * so that a change during the load is seen by the next check). */
tg_policy_watch *tg_policy_watch_new(const char *path);
/* The policy p was loaded from the watched file: watch the files it
 * names, stamped now. */
void tg_policy_watch_loaded(tg_policy_watch *w, const tg_policy *p);
void tg_policy_watch_free(tg_policy_watch *w);

#endif
