/*
 * The cycle's commit check (policy commits:, DESIGN.md 1 step 1): before
 * anything of a new source commit is used, its signature (mode head) or
 * the signatures of every commit since the last verified one (mode
 * history) must be made by a signer of the policy. A refused head leaves
 * the cycle working on the last verified commit, so the cluster keeps
 * its content and drift correction goes on against it.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent_int.h"
#include "tollgate/commitsig.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/source.h"
#include "tollgate/util.h"

/* The commits to check for head under mode: head alone, or the history
 * since the last verified commit (head alone on the first deploy or
 * when head is that commit). */
static int commits_to_check(char (**ids)[TG_SOURCE_OID_HEX],
                            size_t *n,
                            tg_agent *a,
                            tg_policy_commit_mode mode,
                            const char *head)
{
	const char *since = tg_source_verified(a->source);
	int error = 0;

	*ids = NULL;
	*n = 0;
	if (mode == TG_COMMITS_HISTORY && since[0] && strcmp(since, head))
		error = tg_source_commits_since(ids, n, a->source, since, head,
		                                TG_MAX_HISTORY_COMMITS);
	if (error == 0 && *n == 0) {
		*ids = tg_calloc(1, sizeof(**ids));
		tg_strlcpy((*ids)[0], head, TG_SOURCE_OID_HEX);
		*n = 1;
	}
	return error;
}

/* The status entry of one checked commit and its verdict. */
static json_t *commit_entry(const tg_source_commit_info *ci,
                            const tg_commitsig_result *res,
                            const char *reason)
{
	json_t *e = json_pack("{s:s,s:s,s:s,s:s}", "commit", ci->id, "author",
	                      ci->author, "committer", ci->committer, "verdict",
	                      reason ? "blocked" : "verified");

	if (res->info.format[0])
		json_object_set_new(e, "signature",
		                    json_pack("{s:s,s:s}", "format",
		                              res->info.format, "key",
		                              res->info.key));
	if (res->info.principal[0])
		json_object_set_new(json_object_get(e, "signature"),
		                    "principal",
		                    json_string(res->info.principal));
	if (!reason)
		json_object_set_new(e, "signedBy", json_string(res->signed_by));
	else
		json_object_set_new(e, "reason", json_string(reason));
	return e;
}

/* Check one commit; *entry gets its status entry. 0 verified, 1 refused
 * (entry says why), or an error reading the commit. */
static int check_one(json_t **entry,
                     tg_agent *a,
                     const tg_policy_commits *pc,
                     const char *id)
{
	tg_source_commit_info ci;
	tg_commitsig_result res;
	int error;

	*entry = NULL;
	if ((error = tg_source_commit_info_read(&ci, a->source, id)) < 0)
		return error;
	error = tg_commitsig_verify(&res, pc, ci.signature, ci.signature_len,
	                            ci.payload, ci.payload_len, ci.time);
	*entry = commit_entry(&ci, &res, error < 0 ? tg_error_last() : NULL);
	tg_source_commit_info_clear(&ci);
	return error < 0 ? 1 : 0;
}

/* Verify ids[0..n) (newest first); *out gets the head's entry with,
 * when an older commit failed, that commit's entry as "failedCommit". */
static int check_all(json_t **out,
                     tg_agent *a,
                     const tg_policy_commits *pc,
                     char (*ids)[TG_SOURCE_OID_HEX],
                     size_t n)
{
	json_t *head = NULL, *e;
	size_t i;
	int rc = 0;

	*out = NULL;
	for (i = 0; i < n; i++) {
		if ((rc = check_one(&e, a, pc, ids[i])) < 0)
			break;
		if (i == 0)
			head = json_incref(e);
		if (rc == 1 && i > 0) {
			json_object_set_new(head, "verdict",
			                    json_string("blocked"));
			json_object_set_new(
			        head, "reason",
			        json_sprintf("commit %.7s since the last "
			                     "deployed one is not signed by a "
			                     "trusted signer: %s",
			                     ids[i],
			                     json_string_value(json_object_get(
			                             e, "reason"))));
			json_object_set(head, "failedCommit", e);
		}
		json_decref(e);
		if (rc == 1)
			break;
	}
	if (rc < 0) {
		json_decref(head);
		return rc;
	}
	json_object_set_new(head, "checked",
	                    json_integer((json_int_t)i + (i < n)));
	*out = head;
	return 0;
}

int tg_agent_check_commit(tg_commit_check *cc,
                          tg_agent *a,
                          const char *head,
                          bool plan)
{
	const tg_policy_commits *pc = tg_policy_commits_get(a->policy);
	char(*ids)[TG_SOURCE_OID_HEX] = NULL;
	size_t n;
	int error;

	memset(cc, 0, sizeof(*cc));
	tg_strlcpy(cc->deploy, head, sizeof(cc->deploy));
	if (!pc)
		return 0;
	if ((error = commits_to_check(&ids, &n, a, pc->mode, head)) < 0 ||
	    (error = check_all(&cc->doc, a, pc, ids, n)) < 0)
		goto out;
	json_object_set_new(cc->doc, "mode",
	                    json_string(pc->mode == TG_COMMITS_HISTORY
	                                        ? "history"
	                                        : "head"));
	cc->blocked =
	        strcmp(json_string_value(json_object_get(cc->doc, "verdict")),
	               "verified") != 0;
	if (!cc->blocked) {
		if (!plan)
			error = tg_source_set_verified(a->source, head);
		goto out;
	}
	tg_strlcpy(cc->deploy, tg_source_verified(a->source),
	           sizeof(cc->deploy));
	if (cc->deploy[0])
		json_object_set_new(cc->doc, "deployedCommit",
		                    json_string(cc->deploy));
	tg_log(TG_LOG_WARN, "source commit blocked", "commit", head, "reason",
	       json_string_value(json_object_get(cc->doc, "reason")), NULL);
out:
	free(ids);
	return error;
}
