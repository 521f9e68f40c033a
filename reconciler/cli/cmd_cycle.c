/*
 * `tollgate once` and `tollgate plan`: one reconcile cycle, applied or
 * only planned. Exit codes: 0 done and nothing blocked, 1 error (or a unit
 * the cluster refused), 2 usage, 3 a unit blocked by policy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/agent.h"
#include "tollgate/cli.h"
#include "tollgate/config.h"
#include "tollgate/error.h"

typedef struct cycle_args {
	tg_cli_common common;
	const char *config;
	double health_timeout_s;
} cycle_args;

static int parse_args(cycle_args *c, const char *cmd, int argc, char **argv)
{
	const char *v;
	int i, r;

	for (i = 1; i < argc; i++) {
		if ((r = tg_cli_common_option(&c->common, argc, argv, &i)) !=
		    0) {
			if (r < 0)
				return -1;
			continue;
		}
		if ((r = tg_cli_option_value(&c->config, "--config", argc, argv,
		                             &i)) != 0) {
			if (r < 0)
				return -1;
			continue;
		}
		if ((r = tg_cli_option_value(&v, "--health-timeout", argc, argv,
		                             &i)) != 0) {
			char *end;
			if (r < 0)
				return -1;
			c->health_timeout_s = strtod(v, &end);
			if (*end || c->health_timeout_s < 0) {
				fprintf(stderr,
				        "tollgate %s: bad "
				        "--health-timeout \"%s\": seconds\n",
				        cmd, v);
				return -1;
			}
			if (c->health_timeout_s == 0)
				c->health_timeout_s = -1; /* do not wait */
			continue;
		}
		fprintf(stderr, "tollgate %s: unknown argument \"%s\"\n", cmd,
		        argv[i]);
		return -1;
	}
	if (!c->config) {
		fprintf(stderr,
		        "usage: tollgate %s --config FILE "
		        "[--health-timeout SECONDS] [--output text|json]\n",
		        cmd);
		return -1;
	}
	return 0;
}

static void print_object(json_t *o)
{
	const char *ns = json_string_value(json_object_get(o, "namespace"));
	json_t *changed = json_object_get(o, "changed"), *c;
	size_t i;

	printf("    %-13s %s %s %s%s%s",
	       json_string_value(json_object_get(o, "action")),
	       json_string_value(json_object_get(o, "apiVersion")),
	       json_string_value(json_object_get(o, "kind")), ns ? ns : "",
	       ns ? "/" : "", json_string_value(json_object_get(o, "name")));
	json_array_foreach(changed, i, c)
		printf("%s%s", i ? ", " : " (",
		       json_string_value(json_object_get(c, "path")));
	printf("%s\n", json_array_size(changed) ? ")" : "");
	if (json_string_value(json_object_get(o, "reason")))
		printf("      %s\n",
		       json_string_value(json_object_get(o, "reason")));
}

static void print_unit(const char *name, json_t *u, bool plan)
{
	json_t *x;
	size_t i, j;

	tg_cli_print_unit_head(name, u);
	json_array_foreach(json_object_get(u, "workloadExceptions"), i, x)
		printf("  exception used: %s\n",
		       json_string_value(json_object_get(x, "name")));
	json_array_foreach(json_object_get(u, "images"), i, x) {
		json_t *reason;
		printf("  image %s: %s%s%s\n",
		       json_string_value(json_object_get(x, "ref")),
		       json_string_value(json_object_get(x, "verdict")),
		       json_object_get(x, "digest") ? " " : "",
		       json_object_get(x, "digest")
		               ? json_string_value(json_object_get(x, "digest"))
		               : "");
		json_array_foreach(json_object_get(x, "reasons"), j, reason)
			printf("    %s\n", json_string_value(reason));
	}
	if (plan)
		json_array_foreach(json_object_get(u, "objects"), i, x)
			print_object(x);
	json_array_foreach(json_object_get(u, "pruned"), i, x)
		print_object(x);
	json_array_foreach(json_object_get(u, "health"), i, x)
		printf("  health %s %s: %s\n",
		       json_string_value(json_object_get(x, "kind")),
		       json_string_value(json_object_get(x, "name")),
		       json_string_value(json_object_get(x, "state")));
}

/* The commit verdict (policy commits:), before anything else. */
static void print_commit(const json_t *c)
{
	const char *v = json_string_value(json_object_get(c, "verdict"));
	const char *kept =
	        json_string_value(json_object_get(c, "deployedCommit"));

	if (!v)
		return;
	if (strcmp(v, "blocked")) {
		printf("commit: verified, signed by %s\n",
		       json_string_value(json_object_get(c, "signedBy")));
		return;
	}
	printf("commit: blocked (not signed by a trusted signer): %s\n",
	       json_string_value(json_object_get(c, "reason")));
	if (kept)
		printf("commit: the cluster keeps %s, the last verified "
		       "commit\n",
		       kept);
	else
		printf("commit: no commit verified yet, nothing applied\n");
}

static void print_text(json_t *doc, const tg_cycle_result *r, bool plan)
{
	json_t *u, *d;
	const char *name;
	size_t i;

	const json_t *art = json_object_get(doc, "artifact");

	if (json_object_get(doc, "sourceBranch"))
		printf("source %s %s at %s\n",
		       json_string_value(json_object_get(doc, "sourceUrl")),
		       json_string_value(json_object_get(doc, "sourceBranch")),
		       r->head[0] ? r->head : r->commit);
	else
		printf("source %s at %s\n",
		       json_string_value(json_object_get(doc, "sourceUrl")),
		       r->commit[0] ? r->commit : "(nothing verified)");
	print_commit(json_object_get(doc, "commit"));
	if (art) {
		json_t *reason;
		printf("artifact %s: %s\n",
		       json_string_value(json_object_get(art, "ref")),
		       json_string_value(json_object_get(art, "verdict")));
		json_array_foreach(json_object_get(art, "reasons"), i, reason)
			printf("  %s\n", json_string_value(reason));
	}
	json_object_foreach(json_object_get(doc, "units"), name, u)
		print_unit(name, u, plan);
	json_array_foreach(json_object_get(doc, "prunedUnits"), i, u) {
		size_t j;
		json_t *o;
		printf("unit %s: removed from Git\n",
		       json_string_value(json_object_get(u, "unit")));
		json_array_foreach(json_object_get(u, "pruned"), j, o)
			print_object(o);
	}
	json_array_foreach(json_object_get(doc, "warnings"), i, d)
		printf("warning: %s\n", json_string_value(d));
	json_array_foreach(json_object_get(doc, "drift"), i, d)
		printf("drift %s %s/%s in unit %s%s\n",
		       json_string_value(json_object_get(d, "kind")),
		       json_string_value(json_object_get(d, "namespace")),
		       json_string_value(json_object_get(d, "name")),
		       json_string_value(json_object_get(d, "unit")),
		       json_is_true(json_object_get(d, "corrected"))
		               ? " (corrected)"
		               : "");
	if (!plan)
		printf("status: %s\n", r->status_pushed ? "committed and pushed"
		                       : r->status_committed
		                               ? "committed, not pushed"
		                               : "unchanged");
	printf("%d units: %d applied, %d unchanged, %d blocked, %d failed\n",
	       r->units, r->applied, r->unchanged, r->blocked, r->failed);
}

static int run_cycle(int argc, char **argv, bool plan)
{
	const char *cmd = plan ? "plan" : "once";
	cycle_args c = { 0 };
	tg_agent_options ao = { 0 };
	tg_config *cfg = NULL;
	tg_agent *agent = NULL;
	tg_cycle_result r;
	json_t *doc = NULL;
	int rc = TG_EXIT_ERROR;

	if (parse_args(&c, cmd, argc, argv) < 0)
		return TG_EXIT_USAGE;
	ao.health_timeout_s = c.health_timeout_s;
	if (tg_config_load(&cfg, c.config) < 0 ||
	    tg_agent_new(&agent, cfg, &ao) < 0 ||
	    tg_agent_cycle(&r, &doc, agent, plan) < 0) {
		fprintf(stderr, "tollgate %s: %s\n", cmd, tg_error_last());
		goto out;
	}
	if (c.common.output == TG_OUTPUT_JSON) {
		char *s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("%s\n", s);
		free(s);
	} else {
		print_text(doc, &r, plan);
	}
	rc = r.failed                        ? TG_EXIT_ERROR
	     : r.blocked || r.source_blocked ? TG_EXIT_BLOCKED
	                                     : TG_EXIT_OK;
out:
	json_decref(doc);
	tg_agent_free(agent);
	tg_config_free(cfg);
	return rc;
}

int tg_cmd_once(int argc, char **argv)
{
	return run_cycle(argc, argv, false);
}

int tg_cmd_plan(int argc, char **argv)
{
	return run_cycle(argc, argv, true);
}
