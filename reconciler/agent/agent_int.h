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
#include "tollgate/policy.h"
#include "tollgate/registry.h"
#include "tollgate/source.h"
#include "tollgate/verifier.h"

struct tg_agent {
	const tg_config *cfg;
	tg_agent_options opts;
	tg_policy *policy;
	tg_registry *registry;
	tg_verdict_cache *cache;
	tg_verifier *verifier;
	tg_source *source;
	tg_kube *kube;
	char *cache_path;
	/* tollgate run: re-verification bypasses the verdict cache. */
	tg_verifier *reverifier;
	/* unit -> [{ref, digest, pinned}] of what the cluster runs (kept for
	 * a unit blocked later: its last applied images still run). */
	json_t *deployed;
	json_t *violations;  /* [{unit, ref, digest, reasons}] */
	json_t *last_doc;    /* the last published status document */
	bool status_fetched; /* this cycle's fetch brought the status refs */
	double status_fetched_at; /* tg_monotonic() of that fetch */
};

/* Before a write phase: may this agent still write? 0, or TG_ECONFLICT
 * (r->stopped set when r is not NULL). */
TG_WUR int
tg_agent_check_may_write(tg_cycle_result *r, tg_agent *a, const char *what);

/* Publish the status document doc; what was committed and pushed into r.
 * A failure is logged and never blocks applying: it is tried again next
 * cycle. */
void tg_agent_publish(tg_cycle_result *r, tg_agent *a, json_t *doc);

#endif
