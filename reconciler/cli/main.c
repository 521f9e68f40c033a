/*
 * The tollgate command line. It only parses arguments, sets up logging and
 * calls module APIs; exit codes follow DESIGN.md 3.1:
 * 0 done and nothing blocked, 1 error, 2 usage, 3 blocked by policy.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "tollgate/cli.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

static void usage(FILE *f)
{
	fputs("usage: tollgate <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  version                          print the version\n"
	      "  manifests DIR                    objects, units and images "
	      "found in DIR\n"
	      "  verify --policy FILE IMAGE...    verdict for each image\n"
	      "  check --policy FILE DIR          scopes and workload rules "
	      "on DIR, for CI\n"
	      "  once --config FILE               one reconcile cycle\n"
	      "  plan --config FILE               what once would do; "
	      "writes nothing\n"
	      "  run --config FILE                reconcile forever\n"
	      "  sigstore verify-bundle ...       verify a Sigstore bundle\n"
	      "\n"
	      "common options: --output text|json, --log-format text|json, "
	      "--log-level debug|info|warn|error\n",
	      f);
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "version", tg_cmd_version },     { "verify", tg_cmd_verify },
	{ "manifests", tg_cmd_manifests }, { "once", tg_cmd_once },
	{ "plan", tg_cmd_plan },           { "run", tg_cmd_run },
	{ "sigstore", tg_cmd_sigstore },   { "check", tg_cmd_check },
	/* commands are added here, one line each */
};

/*
 * Test hook: TOLLGATE_TEST_CLOCK_OFFSET=<seconds> (may be negative) shifts
 * tollgate's wall clock so a test can let an exception expire in a running
 * agent; TOLLGATE_TEST_CLOCK_FILE=<path> takes the offset from that file,
 * read again each second, so a test can move the clock when the agent is
 * ready. Never set in production; a bad value is ignored with a warning.
 */
static void test_clock_offset(void)
{
	const char *v = getenv("TOLLGATE_TEST_CLOCK_OFFSET");
	const char *file = getenv("TOLLGATE_TEST_CLOCK_FILE");
	bool neg;
	uint64_t n;

	if (file && *file)
		tg_clock_set_offset_file(file);
	if (!v || !*v)
		return;
	neg = *v == '-';
	if (tg_parse_u64(&n, v + neg, strlen(v + neg), INT32_MAX) < 0) {
		fprintf(stderr,
		        "tollgate: ignoring bad "
		        "TOLLGATE_TEST_CLOCK_OFFSET \"%s\"\n",
		        v);
		return;
	}
	tg_clock_set_offset(neg ? -(int64_t)n : (int64_t)n);
}

int main(int argc, char **argv)
{
	size_t i;

#if defined(__GLIBC__) && defined(M_MXFAST)
	/* A cycle builds and frees large JSON trees; without fast bins glibc
	 * stops consolidating them on every large allocation (about 15% of
	 * a no-change cycle's CPU time, measured with tests/bench/once.sh). */
	mallopt(M_MXFAST, 0);
#endif
#if defined(__GLIBC__) && defined(M_ARENA_MAX)
	/* Two heaps: glibc gives each thread that allocates (a watcher of
	 * `tollgate run`, the resolver) an arena of its own, and memory freed
	 * in one is not reused by another: at 10,000 watched objects that
	 * held 34 MiB more at the peak of `tollgate run` (147 MiB against
	 * 113, tests/bench/once.sh). With one heap, the threads that work
	 * beside the main one (the image verifier, the plan's second thread,
	 * the status's units/) waited on its lock at every allocation: the
	 * plan on two threads took longer than on one. With two, at 10,000
	 * objects, the cold `tollgate once` peaks at 47 to 49 MiB (51 with
	 * one) and `tollgate run` at 50 to 54 MiB after a `tollgate once`
	 * (53), 58 to 61 MiB when its first cycle is a cold one (54). */
	mallopt(M_ARENA_MAX, 2);
#endif
	tg_log_set_handler(tg_log_text_handler, NULL);
	test_clock_offset();
	if (argc < 2) {
		usage(stderr);
		return TG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		int rc;

		if (strcmp(argv[1], commands[i].name))
			continue;
		/* Once for the whole process: each init after a shutdown
		 * loads the system certificate store again (tens of ms). */
		git_libgit2_init();
		rc = commands[i].fn(argc - 1, argv + 1);
		git_libgit2_shutdown();
		return rc;
	}
	fprintf(stderr, "tollgate: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return TG_EXIT_USAGE;
}
