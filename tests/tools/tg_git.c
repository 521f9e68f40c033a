/*
 * Test driver for the Git side of tollgate (source and status modules),
 * used by tests/integration/git_*.sh:
 *
 *   tg_git fetch  OPTIONS          fetch, print "commit SHA", one
 *                                  "file PATH LEN" line per manifest and
 *                                  one "problem PATH: WHY" per refusal
 *   tg_git head   OPTIONS          print "SHA moved|same" (ls-remote)
 *   tg_git status OPTIONS --doc F  publish the status document in F
 *
 * OPTIONS: --url U --branch B [--path P] --state DIR [--ssh-key F]
 * [--known-hosts F] [--username U] [--password-file F] [--ca-file F]
 * [--status-branch B] [--notes REF] [--no-push] [--race-cmd CMD]
 * (status: CMD runs through the shell before the first push attempt, to
 * move the remote in between).
 * Errors go to stderr with exit status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate/error.h"
#include "tollgate/source.h"
#include "tollgate/status.h"
#include "tollgate/util.h"

typedef struct args {
	tg_source_opts src;
	const char *doc;
	const char *status_branch;
	const char *notes;
	const char *race_cmd;
	int push;
} args;

static int parse_args(args *a, int argc, char **argv)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->push = 1;
	for (i = 2; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **dst = NULL;

		if (!strcmp(k, "--no-push")) {
			a->push = 0;
			continue;
		}
		if (!strcmp(k, "--url"))
			dst = &a->src.url;
		else if (!strcmp(k, "--branch"))
			dst = &a->src.branch;
		else if (!strcmp(k, "--path"))
			dst = &a->src.path;
		else if (!strcmp(k, "--state"))
			dst = &a->src.state_dir;
		else if (!strcmp(k, "--ssh-key"))
			dst = &a->src.ssh_key;
		else if (!strcmp(k, "--known-hosts"))
			dst = &a->src.known_hosts;
		else if (!strcmp(k, "--username"))
			dst = &a->src.username;
		else if (!strcmp(k, "--password-file"))
			dst = &a->src.password_file;
		else if (!strcmp(k, "--ca-file"))
			dst = &a->src.ca_file;
		else if (!strcmp(k, "--doc"))
			dst = &a->doc;
		else if (!strcmp(k, "--status-branch"))
			dst = &a->status_branch;
		else if (!strcmp(k, "--notes"))
			dst = &a->notes;
		else if (!strcmp(k, "--race-cmd"))
			dst = &a->race_cmd;
		if (!dst || !v) {
			fprintf(stderr, "tg_git: bad argument %s\n", k);
			return -1;
		}
		*dst = v;
		i++;
	}
	return 0;
}

static int cmd_fetch(tg_source *s)
{
	tg_source_tree *t = NULL;
	size_t i;
	int error;

	if ((error = tg_source_fetch(s)) < 0 ||
	    (error = tg_source_read(&t, s)) < 0)
		return error;
	printf("commit %s\n", tg_source_tree_commit(t));
	for (i = 0; i < tg_source_tree_count(t); i++)
		printf("file %s %zu\n", tg_source_tree_get(t, i)->path,
		       tg_source_tree_get(t, i)->len);
	for (i = 0; i < tg_source_tree_problem_count(t); i++)
		printf("problem %s: %s\n", tg_source_tree_problem(t, i)->path,
		       tg_source_tree_problem(t, i)->message);
	tg_source_tree_free(t);
	return 0;
}

static int cmd_head(tg_source *s)
{
	char oid[TG_SOURCE_OID_HEX];
	bool moved;
	int error;

	if ((error = tg_source_remote_head(oid, &moved, s)) < 0)
		return error;
	printf("%s %s\n", oid, moved ? "moved" : "same");
	return 0;
}

static void run_race_cmd(void *ctx, int attempt)
{
	if (attempt == 0 && system((const char *)ctx) != 0)
		fprintf(stderr, "tg_git: race command failed\n");
}

static int cmd_status(tg_source *s, const args *a)
{
	tg_status_opts o = { 0 };
	tg_status_result r;
	json_error_t jerr;
	json_t *doc;
	int error;

	if (!a->doc)
		return tg_error_set(TG_EINVALID, "--doc is required");
	if (!(doc = json_load_file(a->doc, JSON_REJECT_DUPLICATES, &jerr)))
		return tg_error_set(TG_EPARSE, "%s:%d: %s", a->doc, jerr.line,
		                    jerr.text);
	o.branch = a->status_branch ? a->status_branch : "tollgate/status";
	o.notes_ref = a->notes ? a->notes : "refs/notes/tollgate";
	o.author_name = "tollgate";
	o.author_email = "tollgate@cluster.local";
	o.push = a->push;
	if (a->race_cmd) {
		o.before_push = run_race_cmd;
		o.before_push_ctx = (void *)a->race_cmd;
	}
	if ((error = tg_source_fetch(s)) == 0 &&
	    (error = tg_status_publish(&r, tg_source_gitrepo(s), &o, doc)) == 0)
		printf("committed %s pushed %s attempts %d commit %s\n",
		       r.committed ? "yes" : "no", r.pushed ? "yes" : "no",
		       r.attempts, r.commit);
	json_decref(doc);
	return error;
}

int main(int argc, char **argv)
{
	tg_source *s = NULL;
	args a;
	int error;

	if (argc < 2 || parse_args(&a, argc, argv) < 0)
		return 2;
	if ((error = tg_source_open(&s, &a.src)) < 0)
		goto out;
	if (!strcmp(argv[1], "fetch"))
		error = cmd_fetch(s);
	else if (!strcmp(argv[1], "head"))
		error = cmd_head(s);
	else if (!strcmp(argv[1], "status"))
		error = cmd_status(s, &a);
	else
		error = tg_error_set(TG_EINVALID, "unknown command %s",
		                     argv[1]);
out:
	if (error < 0)
		fprintf(stderr, "tg_git: %s (%s)\n", tg_error_last(),
		        tg_error_name(error));
	tg_source_free(s);
	return error < 0 ? 1 : 0;
}
