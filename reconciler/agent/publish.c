/*
 * The agent's status publishing (agent_int.h): the document of a cycle
 * or of a re-verification to the status branch, and the last one kept in
 * stateDir/last-status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "agent_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/source.h"
#include "tollgate/status.h"
#include "tollgate/util.h"

int tg_agent__save_last_doc(tg_agent *a, const json_t *doc)
{
	char *tmp = tg_aprintf("%s.tmp", a->last_doc_path);
	int error = 0;

	/* Streamed to the file: no copy of the text in memory. Not synced:
	 * only this process reads it, and only after it wrote it. */
	if (json_dump_file(doc, tmp, JSON_COMPACT) < 0 ||
	    rename(tmp, a->last_doc_path) < 0) {
		error = tg_error_set(TG_EIO, "%s: cannot be written: %s",
		                     a->last_doc_path, strerror(errno));
		tg_log(TG_LOG_WARN,
		       "last status not kept: re-verification will not "
		       "publish until the next cycle",
		       "error", tg_error_last(), NULL);
		(void)unlink(tmp);
	}
	free(tmp);
	return error;
}

int tg_agent__load_last_doc(json_t **out, tg_agent *a)
{
	json_error_t err;

	/* Written by this process: it parses unless memory is short or
	 * someone else changed stateDir. */
	if (!(*out = json_load_file(a->last_doc_path, 0, &err)))
		return tg_error_set(TG_ERROR,
		                    "the last status document (%s) cannot be "
		                    "read back: %s",
		                    a->last_doc_path, err.text);
	return 0;
}

/* The document, freed before the status push and read back when a
 * refused push needs it again (tg_status_opts). */
typedef struct doc_holder {
	json_t **docp;
	tg_agent *a;
} doc_holder;

static void doc_release(void *ctx)
{
	doc_holder *h = ctx;

	json_decref(*h->docp);
	*h->docp = NULL;
#if defined(__GLIBC__)
	/* Its pages go back before the push reads status.json whole: freed
	 * small blocks alone would not serve that read. */
	malloc_trim(0);
#endif
}

static const json_t *doc_reload(void *ctx)
{
	doc_holder *h = ctx;

	if (!*h->docp && tg_agent__load_last_doc(h->docp, h->a) < 0)
		tg_log(TG_LOG_ERROR, "status document not read back", "error",
		       tg_error_last(), NULL);
	return *h->docp;
}

void tg_agent_publish(tg_cycle_result *r,
                      tg_agent *a,
                      json_t **docp,
                      bool may_release)
{
	tg_status_opts so = { 0 };
	tg_status_result sr;
	doc_holder h = { docp, a };

	so.branch = a->cfg->status.branch;
	so.notes_ref = a->cfg->status.notes;
	so.author_name = a->cfg->status.author_name;
	so.author_email = a->cfg->status.author_email;
	so.push = a->cfg->status.push;
	so.digests_path = a->status_digests_path;
	so.tips_fetched =
	        a->status_fetched && tg_monotonic() - a->status_fetched_at <
	                                     TG_STATUS_TIPS_MAX_AGE_S;
	/* Used once: a later publish (re-verification) fetches anew. */
	a->status_fetched = false;
	if (may_release) {
		so.doc_release = doc_release;
		so.doc_reload = doc_reload;
		so.doc_ctx = &h;
	}
	memset(&sr, 0, sizeof(sr));
	if (tg_status_publish(&sr,
	                      tg_source_gitrepo(a->status_repo ? a->status_repo
	                                                       : a->source),
	                      &so, *docp) < 0) {
		/* Never blocks applying: logged, tried again next cycle. */
		tg_log(TG_LOG_ERROR, "status not published", "error",
		       tg_error_last(), NULL);
		return;
	}
	r->status_committed = sr.committed;
	r->status_pushed = sr.pushed;
}
