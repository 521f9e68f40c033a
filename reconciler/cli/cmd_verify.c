/*
 * tollgate verify --policy FILE [--registry-config FILE]
 *                 [--insecure-registry HOST]... [--ca-file FILE]
 *                 [--parallel N] [--output text|json] IMAGE...
 *
 * One verdict per image, no cluster, no Git. Exit 0 when every image is
 * allowed (or warned), 3 when any is blocked, 1 for errors of its own (bad
 * policy, unreadable key or registry config), 2 for usage.
 *
 * Hidden (benchmarks): --repeat N verifies the same list N times in one
 * process (warm registry client and verdict cache) and prints the timing
 * of each round to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/cli.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/policy.h"
#include "tollgate/registry.h"
#include "tollgate/sigstore.h"
#include "tollgate/util.h"
#include "tollgate/verifier.h"

struct verify_args {
	tg_cli_common common;
	const char *policy;
	const char *registry_config;
	const char *ca_file;
	const char **insecure;
	size_t ninsecure;
	unsigned parallel;
	unsigned repeat;
	const char **images;
	size_t nimages;
};

static void verify_usage(FILE *f)
{
	fputs("usage: tollgate verify --policy FILE [--registry-config FILE]\n"
	      "                       [--insecure-registry HOST]... "
	      "[--ca-file FILE]\n"
	      "                       [--parallel N] [--output text|json] "
	      "IMAGE...\n",
	      f);
}

static int
parse_count(unsigned *out, const char *v, const char *name, uint64_t max)
{
	uint64_t n;

	if (tg_parse_u64(&n, v, strlen(v), max) < 0 || n == 0) {
		fprintf(stderr, "tollgate verify: %s: %s (1 to %llu)\n", name,
		        tg_error_last()[0] ? tg_error_last() : "must be > 0",
		        (unsigned long long)max);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

/* A string option at argv[*i] into *dst: 1 consumed, 0 not it, -1. */
static int
string_option(const char **dst, const char *name, int argc, char **argv, int *i)
{
	const char *v = NULL;
	int r = tg_cli_option_value(&v, name, argc, argv, i);

	if (r > 0)
		*dst = v;
	return r;
}

static int count_option(unsigned *dst,
                        const char *name,
                        uint64_t max,
                        int argc,
                        char **argv,
                        int *i)
{
	const char *v = NULL;
	int r = tg_cli_option_value(&v, name, argc, argv, i);

	if (r > 0 && parse_count(dst, v, name, max) < 0)
		return -1;
	return r;
}

/* One option at argv[*i]: 1 consumed, 0 not an option of ours, -1 error. */
static int verify_option(struct verify_args *a, int argc, char **argv, int *i)
{
	const char *v = NULL;
	int r;

	if ((r = string_option(&a->policy, "--policy", argc, argv, i)) ||
	    (r = string_option(&a->registry_config, "--registry-config", argc,
	                       argv, i)) ||
	    (r = string_option(&a->ca_file, "--ca-file", argc, argv, i)) ||
	    (r = count_option(&a->parallel, "--parallel",
	                      TG_MAX_VERIFY_PARALLEL, argc, argv, i)) ||
	    (r = count_option(&a->repeat, "--repeat", TG_MAX_VERIFY_REPEAT,
	                      argc, argv, i)))
		return r;
	r = string_option(&v, "--insecure-registry", argc, argv, i);
	if (r > 0) {
		a->insecure = tg_realloc(a->insecure,
		                         (a->ninsecure + 1) * sizeof(char *));
		a->insecure[a->ninsecure++] = v;
	}
	return r;
}

static int verify_parse_args(struct verify_args *a, int argc, char **argv)
{
	int i, r;

	a->repeat = 1;
	a->images = tg_calloc((size_t)argc, sizeof(char *));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			verify_usage(stdout);
			return 1;
		}
		if ((r = tg_cli_common_option(&a->common, argc, argv, &i)) !=
		            0 ||
		    (r = verify_option(a, argc, argv, &i)) != 0) {
			if (r < 0)
				return -1;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "tollgate verify: unknown option %s\n",
			        argv[i]);
			return -1;
		}
		a->images[a->nimages++] = argv[i];
	}
	if (!a->policy || a->nimages == 0) {
		fprintf(stderr, "tollgate verify: %s\n",
		        !a->policy ? "--policy is required" : "no image given");
		return -1;
	}
	return 0;
}

/* "  signed by "release" (sha256:...)" lines for allowed images. 0 or
 * TG_ETOOBIG. */
static int print_signers(tg_buf *b, const tg_verdict *v)
{
	long i = tg_verdict_find_check(v, TG_CHECK_SIGNATURE);
	json_t *auths, *a;
	size_t k;
	int error = 0;

	if (i < 0 || tg_verdict_check_result(v, (size_t)i) != TG_CHECK_PASS)
		return 0;
	auths = json_object_get(
	        tg_check_evidence(tg_verdict_check(v, (size_t)i)),
	        "authorities");
	json_array_foreach(auths, k, a) {
		if (error == 0)
			error = tg_buf_printf(
			        b, "  signed by \"%s\" (%s)\n",
			        json_string_value(json_object_get(a, "name")),
			        json_string_value(
			                json_object_get(a, "signer")));
	}
	return error;
}

static void print_text(tg_verdict **verdicts, size_t n)
{
	tg_buf b;
	size_t i;

	tg_buf_init(&b, TG_MAX_VERIFY_OUTPUT_BYTES);
	for (i = 0; i < n; i++) {
		/* Only a text over the buffer's cap (1 GiB) fails: the lines
		 * so far are printed and the verdicts still decide the exit
		 * code. */
		if (tg_verdict_format_text(&b, verdicts[i]) < 0 ||
		    print_signers(&b, verdicts[i]) < 0)
			break;
	}
	if (b.data)
		fputs(b.data, stdout);
	tg_buf_free(&b);
}

static void print_json(tg_verdict **verdicts, size_t n)
{
	json_t *arr = json_array(), *root;
	char *text;
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, tg_verdict_to_json(verdicts[i]));
	root = json_pack("{s:o}", "verdicts", arr);
	text = json_dumps(root, JSON_INDENT(2));
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(root);
}

static int open_registry(tg_registry **out, const struct verify_args *a)
{
	tg_registry_options o = { 0 };

	o.auth_file = a->registry_config;
	o.insecure = a->insecure;
	o.insecure_count = a->ninsecure;
	o.ca_file = a->ca_file;
	o.parallel = a->parallel;
	return tg_registry_new(out, &o);
}

/* Verify every round; the verdicts of the last one stay in verdicts. */
static int
run_rounds(tg_verdict **verdicts, tg_verifier *vf, const struct verify_args *a)
{
	unsigned round;
	size_t i;
	double t0, dt;

	for (round = 1; round <= a->repeat; round++) {
		for (i = 0; i < a->nimages && round > 1; i++) {
			tg_verdict_free(verdicts[i]);
			verdicts[i] = NULL;
		}
		t0 = tg_monotonic();
		if (tg_verifier_verify(verdicts, vf, a->images, a->nimages) < 0)
			return -1;
		dt = tg_monotonic() - t0;
		if (a->repeat > 1)
			fprintf(stderr,
			        "round %u: %zu images in %.3f s (%.1f "
			        "images/s)\n",
			        round, a->nimages, dt,
			        dt > 0 ? (double)a->nimages / dt : 0.0);
	}
	return 0;
}

static int exit_code(tg_verdict **verdicts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tg_verdict_get(verdicts[i]) == TG_VERDICT_BLOCKED)
			return TG_EXIT_BLOCKED;
	return TG_EXIT_OK;
}

int tg_cmd_verify(int argc, char **argv)
{
	struct verify_args a = { 0 };
	tg_verifier_options vo = { 0 };
	tg_policy *policy = NULL;
	tg_registry *reg = NULL;
	tg_verdict_cache *cache = NULL;
	tg_verifier *vf = NULL;
	tg_verdict **verdicts = NULL;
	int rc = TG_EXIT_ERROR, r;
	size_t i;

	if ((r = verify_parse_args(&a, argc, argv)) != 0) {
		if (r < 0)
			verify_usage(stderr);
		rc = r < 0 ? TG_EXIT_USAGE : TG_EXIT_OK;
		goto out;
	}
	if (tg_policy_load(&policy, a.policy) < 0 ||
	    open_registry(&reg, &a) < 0) {
		fprintf(stderr, "tollgate verify: %s\n", tg_error_last());
		goto out;
	}
	if (tg_verdict_cache_new(&cache, 0) < 0) {
		fprintf(stderr, "tollgate verify: %s\n", tg_error_last());
		goto out;
	}
	vo.policy = policy;
	vo.registry = reg;
	vo.cache = cache;
	vo.keyless_verify = tg_sigstore_verify_material;
	if (tg_verifier_new(&vf, &vo) < 0) {
		fprintf(stderr, "tollgate verify: %s\n", tg_error_last());
		goto out;
	}
	verdicts = tg_calloc(a.nimages, sizeof(*verdicts));
	if (run_rounds(verdicts, vf, &a) < 0) {
		fprintf(stderr, "tollgate verify: %s\n", tg_error_last());
		goto out;
	}
	if (a.common.output == TG_OUTPUT_JSON)
		print_json(verdicts, a.nimages);
	else
		print_text(verdicts, a.nimages);
	rc = exit_code(verdicts, a.nimages);
out:
	for (i = 0; verdicts && i < a.nimages; i++)
		tg_verdict_free(verdicts[i]);
	free(verdicts);
	tg_verifier_free(vf);
	tg_verdict_cache_free(cache);
	tg_registry_free(reg);
	tg_policy_free(policy);
	free(a.insecure);
	free(a.images);
	return rc;
}
