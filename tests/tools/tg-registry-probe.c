/*
 * tg-registry-probe: a test driver for the registry client. It calls the
 * public API of include/tollgate/registry.h and prints what it got, so the
 * integration tests can check the client against a real registry.
 *
 *   tg-registry-probe [options] ping REGISTRY
 *   tg-registry-probe [options] manifest REGISTRY REPO REF
 *   tg-registry-probe [options] blob REGISTRY REPO DIGEST [MAX_BYTES]
 *   tg-registry-probe [options] referrers REGISTRY REPO DIGEST [ARTIFACT_TYPE]
 *   tg-registry-probe [options] many REGISTRY REPO REF...   (async, in
 * parallel) options: --auth FILE --insecure HOST[:PORT] (repeatable) --ca FILE
 *          --parallel N --retries N --stats --twice --pause MS
 *
 * Failures print "tg-registry-probe: <error name>: <detail>" on stderr and
 * exit with the negated error code (TG_ENOTFOUND -> 2, TG_EAUTH -> 9, ...).
 * --stats prints the HTTP counters; --twice repeats the command on the same
 * client (to show the cache and token reuse), --pause MS sleeping between
 * the two runs (to let a token expire).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tollgate/error.h"
#include "tollgate/http.h"
#include "tollgate/registry.h"
#include "tollgate/util.h"

#define MAX_INSECURE 8

struct many_ctx {
	const char *ref;
	int failures;
};

static int fail(int code)
{
	fprintf(stderr, "tg-registry-probe: %s: %s\n", tg_error_name(code),
	        tg_error_last());
	return code < 0 ? -code : 1;
}

static void print_annotations(const tg_descriptor *d)
{
	size_t i;

	for (i = 0; i < d->annotations_count; i++)
		printf(" %s=%s", d->annotations[i].key,
		       d->annotations[i].value);
}

static void print_descriptor(const char *what, const tg_descriptor *d)
{
	printf("%s %s %s %llu", what, d->digest, d->media_type,
	       (unsigned long long)d->size);
	if (d->artifact_type)
		printf(" artifactType=%s", d->artifact_type);
	if (d->platform)
		printf(" platform=%s/%s%s%s", d->platform->os,
		       d->platform->architecture,
		       d->platform->variant ? "/" : "",
		       d->platform->variant ? d->platform->variant : "");
	print_annotations(d);
	printf("\n");
}

static void print_manifest(const tg_oci_manifest *m)
{
	size_t i;

	printf("digest %s\nmediaType %s\nkind %s\n", m->digest, m->media_type,
	       m->kind == TG_OCI_MANIFEST_INDEX ? "index" : "image");
	if (m->config)
		print_descriptor("config", m->config);
	for (i = 0; i < m->layers_count; i++)
		print_descriptor("layer", &m->layers[i]);
	for (i = 0; i < m->manifests_count; i++)
		print_descriptor("manifest", &m->manifests[i]);
}

static void many_done(int result, tg_oci_manifest *m, void *ctx)
{
	struct many_ctx *c = ctx;

	if (result < 0) {
		printf("%s error %s: %s\n", c->ref, tg_error_name(result),
		       tg_error_last());
		c->failures++;
		return;
	}
	printf("%s %s\n", c->ref, m->digest);
	tg_oci_manifest_free(m);
}

static int cmd_many(tg_registry *reg, int argc, char **argv)
{
	struct many_ctx *ctx;
	int i, error, failures = 0;

	if (argc < 3)
		return tg_error_set(TG_EINVALID, "many REGISTRY REPO REF...");
	ctx = tg_calloc((size_t)argc, sizeof(*ctx));
	for (i = 2; i < argc; i++) {
		ctx[i].ref = argv[i];
		if ((error = tg_registry_get_manifest_async(
		             reg, argv[0], argv[1], argv[i], many_done,
		             &ctx[i])) < 0) {
			free(ctx);
			return error;
		}
	}
	error = tg_registry_run(reg);
	for (i = 2; i < argc; i++)
		failures += ctx[i].failures;
	free(ctx);
	if (error < 0)
		return error;
	return failures ? tg_error_set(TG_ERROR, "%d of %d fetches failed",
	                               failures, argc - 2)
	                : 0;
}

static int cmd_run(tg_registry *reg, const char *cmd, int argc, char **argv)
{
	tg_oci_manifest *m = NULL;
	tg_blob *b = NULL;
	tg_referrers *r = NULL;
	uint64_t max = 0;
	size_t i;
	int error;

	if (!strcmp(cmd, "ping") && argc == 1) {
		if ((error = tg_registry_ping(reg, argv[0])) == 0)
			printf("ok\n");
		return error;
	}
	if (!strcmp(cmd, "manifest") && argc == 3) {
		if ((error = tg_registry_get_manifest(&m, reg, argv[0], argv[1],
		                                      argv[2])) < 0)
			return error;
		print_manifest(m);
		tg_oci_manifest_free(m);
		return 0;
	}
	if (!strcmp(cmd, "blob") && (argc == 3 || argc == 4)) {
		if (argc == 4 &&
		    (error = tg_parse_u64(&max, argv[3], strlen(argv[3]),
		                          UINT32_MAX)) < 0)
			return error;
		if ((error = tg_registry_get_blob(&b, reg, argv[0], argv[1],
		                                  argv[2], (size_t)max)) < 0)
			return error;
		printf("digest %s\nsize %zu\n", b->digest, b->len);
		tg_blob_free(b);
		return 0;
	}
	if (!strcmp(cmd, "referrers") && (argc == 3 || argc == 4)) {
		if ((error = tg_registry_get_referrers(
		             &r, reg, argv[0], argv[1], argv[2],
		             argc == 4 ? argv[3] : NULL)) < 0)
			return error;
		printf("count %zu\nfallback %s\n", r->count,
		       r->from_tag_schema ? "yes" : "no");
		for (i = 0; i < r->count; i++)
			print_descriptor("referrer", &r->items[i]);
		tg_referrers_free(r);
		return 0;
	}
	if (!strcmp(cmd, "many"))
		return cmd_many(reg, argc, argv);
	return tg_error_set(TG_EINVALID,
	                    "unknown command or wrong arguments: "
	                    "%s",
	                    cmd);
}

int main(int argc, char **argv)
{
	const char *insecure[MAX_INSECURE];
	tg_registry_options opts = { 0 };
	tg_registry *reg = NULL;
	tg_http_stats st;
	bool stats = false, twice = false;
	uint64_t n, pause_ms = 0;
	struct timespec ts;
	int i, error;

	opts.insecure = insecure;
	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--stats")) {
			stats = true;
		} else if (!strcmp(argv[i], "--twice")) {
			twice = true;
		} else if (i + 1 >= argc) {
			fprintf(stderr, "tg-registry-probe: %s needs a value\n",
			        argv[i]);
			return 1;
		} else if (!strcmp(argv[i], "--auth")) {
			opts.auth_file = argv[++i];
		} else if (!strcmp(argv[i], "--ca")) {
			opts.ca_file = argv[++i];
		} else if (!strcmp(argv[i], "--insecure") &&
		           opts.insecure_count < MAX_INSECURE) {
			insecure[opts.insecure_count++] = argv[++i];
		} else if (!strcmp(argv[i], "--parallel") &&
		           tg_parse_u64(&n, argv[i + 1], strlen(argv[i + 1]),
		                        1024) == 0) {
			opts.parallel = (unsigned)n;
			i++;
		} else if (!strcmp(argv[i], "--pause") &&
		           tg_parse_u64(&pause_ms, argv[i + 1],
		                        strlen(argv[i + 1]), 60000) == 0) {
			i++;
		} else if (!strcmp(argv[i], "--retries") &&
		           tg_parse_u64(&n, argv[i + 1], strlen(argv[i + 1]),
		                        10) == 0) {
			opts.max_retries = n ? (int)n : -1;
			opts.retry_base_ms = 50;
			i++;
		} else {
			fprintf(stderr, "tg-registry-probe: bad option %s\n",
			        argv[i]);
			return 1;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: tg-registry-probe [options] "
		                "ping|manifest|blob|referrers|many ...\n");
		return 1;
	}
	if ((error = tg_registry_new(&reg, &opts)) < 0)
		return fail(error);
	error = cmd_run(reg, argv[i], argc - i - 1, argv + i + 1);
	if (error == 0 && twice && pause_ms) {
		ts.tv_sec = (time_t)(pause_ms / 1000);
		ts.tv_nsec = (long)(pause_ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
	if (error == 0 && twice)
		error = cmd_run(reg, argv[i], argc - i - 1, argv + i + 1);
	if (stats) {
		tg_http_get_stats(&st, tg_registry_http(reg));
		printf("stats requests=%llu attempts=%llu retries=%llu "
		       "connections=%llu max_in_flight=%u\n",
		       (unsigned long long)st.requests,
		       (unsigned long long)st.attempts,
		       (unsigned long long)st.retries,
		       (unsigned long long)st.connections, st.max_in_flight);
	}
	tg_registry_free(reg);
	return error < 0 ? fail(error) : 0;
}
