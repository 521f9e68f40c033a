/*
 * tollgate check --policy FILE [--images] [--registry-config FILE]
 *                [--insecure-registry HOST]... [--ca-file FILE]
 *                [--config FILE] [--root ROOT] [--output text|json] DIR
 *
 * For CI before merge: load DIR as `tollgate manifests` does (rendered
 * too), apply the policy's scopes and workload rules (and with --images
 * verify every image, as `tollgate verify` does) and print each unit's
 * verdict with every violation: the same decisions the agent's plan
 * makes (tg_plan_decide_unit), offline. Exit 0 when nothing would be
 * blocked, 3 when a unit would be blocked (or fails as invalid), 1 for
 * errors of its own (bad policy, unreadable DIR, registry), 2 for usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/admit.h"
#include "tollgate/cli.h"
#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/manifest.h"
#include "tollgate/plan.h"
#include "tollgate/policy.h"
#include "tollgate/registry.h"
#include "tollgate/render.h"
#include "tollgate/sigstore.h"
#include "tollgate/util.h"
#include "tollgate/verifier.h"

typedef struct check_args {
	tg_cli_common common;
	const char *policy, *dir, *root, *config;
	const char *registry_config, *ca_file;
	const char **insecure;
	size_t ninsecure;
	bool images;
} check_args;

static void check_usage(FILE *f)
{
	fputs("usage: tollgate check --policy FILE [--images] "
	      "[--registry-config FILE]\n"
	      "                      [--insecure-registry HOST]... "
	      "[--ca-file FILE]\n"
	      "                      [--config FILE] [--root ROOT] "
	      "[--output text|json] DIR\n",
	      f);
}

/* One option at argv[*i]: 1 taken, 0 not an option of check, -1 bad. */
static int check_option(check_args *a, int argc, char **argv, int *i)
{
	const char *v = NULL;
	int r;

	if (!strcmp(argv[*i], "--images")) {
		a->images = true;
		return 1;
	}
	if ((r = tg_cli_option_value(&a->policy, "--policy", argc, argv, i)) ||
	    (r = tg_cli_option_value(&a->registry_config, "--registry-config",
	                             argc, argv, i)) ||
	    (r = tg_cli_option_value(&a->ca_file, "--ca-file", argc, argv,
	                             i)) ||
	    (r = tg_cli_option_value(&a->config, "--config", argc, argv, i)) ||
	    (r = tg_cli_option_value(&a->root, "--root", argc, argv, i)))
		return r;
	r = tg_cli_option_value(&v, "--insecure-registry", argc, argv, i);
	if (r > 0) {
		a->insecure = tg_realloc(a->insecure,
		                         (a->ninsecure + 1) * sizeof(char *));
		a->insecure[a->ninsecure++] = v;
	}
	return r;
}

static int check_parse_args(check_args *a, int argc, char **argv)
{
	int i, r;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			check_usage(stdout);
			return 1;
		}
		if ((r = tg_cli_common_option(&a->common, argc, argv, &i)) ||
		    (r = check_option(a, argc, argv, &i))) {
			if (r < 0)
				return -1;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "tollgate check: unknown option %s\n",
			        argv[i]);
			return -1;
		}
		if (a->dir) {
			fprintf(stderr, "tollgate check: one directory only\n");
			return -1;
		}
		a->dir = argv[i];
	}
	if (!a->policy || !a->dir) {
		fprintf(stderr, "tollgate check: %s is missing\n",
		        !a->policy ? "--policy FILE" : "DIR");
		return -1;
	}
	return 0;
}

/* Images ------------------------------------------------------------------- */

/* Verify every image of every valid unit, each reference once. */
static int verify_images(tg_plan_verdicts *vs,
                         const check_args *a,
                         const tg_policy *policy,
                         const tg_manifest_set *set)
{
	tg_registry_options ro = { 0 };
	tg_verifier_options vo = { 0 };
	tg_registry *reg = NULL;
	tg_verdict_cache *cache = NULL;
	tg_verifier *vf = NULL;
	size_t u, i;
	int error;

	for (u = 0; u < tg_manifest_set_unit_count(set); u++) {
		tg_manifest_unit *unit = tg_manifest_set_unit(set, u);

		for (i = 0; tg_manifest_unit_is_valid(unit) &&
		            i < tg_manifest_unit_image_count(unit);
		     i++)
			tg_plan_verdicts_add(
			        vs, tg_manifest_image_written(
			                    tg_manifest_unit_image(unit, i)));
	}
	tg_plan_verdicts_alloc(vs);
	ro.auth_file = a->registry_config;
	ro.insecure = a->insecure;
	ro.insecure_count = a->ninsecure;
	ro.ca_file = a->ca_file;
	vo.policy = policy;
	vo.keyless_verify = tg_sigstore_verify_material;
	if ((error = tg_registry_new(&reg, &ro)) == 0 &&
	    (error = tg_verdict_cache_new(&cache, 0)) == 0) {
		vo.registry = reg;
		vo.cache = cache;
		if ((error = tg_verifier_new(&vf, &vo)) == 0 && vs->n)
			error = tg_verifier_verify(vs->v, vf, vs->refs, vs->n);
	}
	tg_verifier_free(vf);
	tg_verdict_cache_free(cache);
	tg_registry_free(reg);
	return error;
}

/* Output ------------------------------------------------------------------- */

static void print_unit(const char *name, const json_t *u)
{
	const json_t *x, *reason;
	size_t i, j;

	tg_cli_print_unit_head(name, u);
	json_array_foreach(json_object_get(u, "workloadExceptions"), i, x)
		printf("  exception used: %s (%s; approved by %s; expires "
		       "%s)\n",
		       json_string_value(json_object_get(x, "name")),
		       json_string_value(json_object_get(x, "reason")),
		       json_string_value(json_object_get(x, "approvedBy")),
		       json_string_value(json_object_get(x, "expires")));
	json_array_foreach(json_object_get(u, "images"), i, x) {
		printf("  image %s: %s\n",
		       json_string_value(json_object_get(x, "ref")),
		       json_string_value(json_object_get(x, "verdict")));
		json_array_foreach(json_object_get(x, "reasons"), j, reason)
			printf("    %s\n", json_string_value(reason));
	}
}

static void print_doc(const json_t *doc, tg_output_format out)
{
	const char *name;
	const json_t *u;
	char *text;

	if (out == TG_OUTPUT_JSON) {
		text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (text)
			printf("%s\n", text);
		free(text);
		return;
	}
	json_object_foreach((json_t *)json_object_get(doc, "units"), name, u)
		print_unit(name, u);
	printf("%d unit%s: %d would apply, %d blocked, %d invalid%s\n",
	       (int)json_integer_value(json_object_get(doc, "total")),
	       json_integer_value(json_object_get(doc, "total")) == 1 ? ""
	                                                              : "s",
	       (int)json_integer_value(json_object_get(doc, "pass")),
	       (int)json_integer_value(json_object_get(doc, "blocked")),
	       (int)json_integer_value(json_object_get(doc, "failed")),
	       json_is_true(json_object_get(doc, "imagesChecked"))
	               ? ""
	               : " (images not verified: add --images)");
}

/* Checking ----------------------------------------------------------------- */

/* Every unit's decision into doc; the exit code. */
static int decide_all(json_t *doc,
                      const check_args *a,
                      const tg_policy *policy,
                      const tg_manifest_set *set,
                      const tg_plan_verdicts *vs)
{
	tg_admit_options ao = { 0 };
	tg_plan_admission adm = { &ao, policy };
	json_t *units = json_object(), *doc_cache = json_object();
	tg_plan_decisions d;
	int pass = 0, blocked = 0, failed = 0;
	size_t u;

	ao.inventory_namespace = "tollgate-system";
	ao.netpol_cache = doc_cache;
	json_object_set_new(doc, "units", units);
	tg_plan_decide_all(&d, NULL, set, vs, &adm);
	for (u = 0; u < d.n; u++) {
		json_t *entry = d.entries[u];
		const char *v = d.verdicts[u];

		json_object_set_new(entry, "verdict",
		                    json_string(v ? v : "pass"));
		json_object_set(
		        units,
		        tg_manifest_unit_name(tg_manifest_set_unit(set, u)),
		        entry);
		pass += v == NULL;
		blocked += v && !strcmp(v, "blocked");
		failed += v && !strcmp(v, "failed");
	}
	tg_plan_decisions_free(&d);
	json_object_set_new(doc, "total",
	                    json_integer(pass + blocked + failed));
	json_object_set_new(doc, "pass", json_integer(pass));
	json_object_set_new(doc, "blocked", json_integer(blocked));
	json_object_set_new(doc, "failed", json_integer(failed));
	json_object_set_new(doc, "imagesChecked", json_boolean(a->images));
	json_decref(doc_cache);
	return blocked + failed ? TG_EXIT_BLOCKED : TG_EXIT_OK;
}

/* Load DIR (rendered) into *set. */
static int load_dir(tg_manifest_set **set, const check_args *a)
{
	tg_render *render = NULL;
	int error;

	/* the config's imagePaths, as the agent reads them */
	if ((error = tg_cli_manifest_set_new(set, a->config, a->dir)) == 0 &&
	    (error = tg_cli_open_render(&render, a->config)) == 0 &&
	    (error = tg_render_units_in_dir(*set, render, a->dir, a->root)) ==
	            0)
		error = tg_manifest_set_add_dir(*set, a->dir);
	tg_render_free(render);
	return error;
}

int tg_cmd_check(int argc, char **argv)
{
	check_args a;
	tg_policy *policy = NULL;
	tg_manifest_set *set = NULL;
	tg_plan_verdicts vs;
	json_t *doc = NULL;
	int rc = TG_EXIT_ERROR, r;

	memset(&a, 0, sizeof(a));
	a.common.output = TG_OUTPUT_TEXT;
	tg_plan_verdicts_init(&vs);
	if ((r = check_parse_args(&a, argc, argv)) != 0) {
		if (r < 0)
			check_usage(stderr);
		rc = r < 0 ? TG_EXIT_USAGE : TG_EXIT_OK;
		goto out;
	}
	if (tg_policy_load(&policy, a.policy) < 0 || load_dir(&set, &a) < 0 ||
	    (a.images && verify_images(&vs, &a, policy, set) < 0)) {
		fprintf(stderr, "tollgate check: %s\n", tg_error_last());
		goto out;
	}
	doc = json_pack("{s:s,s:s}", "policy", a.policy, "root", a.dir);
	rc = decide_all(doc, &a, policy, set, a.images ? &vs : NULL);
	print_doc(doc, a.common.output);
out:
	json_decref(doc);
	tg_plan_verdicts_free(&vs);
	tg_manifest_set_free(set);
	tg_policy_free(policy);
	free(a.insecure);
	return rc;
}
