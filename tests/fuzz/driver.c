/*
 * The regression driver: a main() for the fuzz targets in builds without
 * libFuzzer (gcc, the ASan pass). It runs LLVMFuzzerTestOneInput once on
 * every file named on the command line or found (sorted) in a directory
 * named there, and says how many it ran. A crash, an ASan or UBSan report
 * or a leak fails the run as it would under libFuzzer; no input at all
 * fails too, so a lost corpus cannot pass.
 *
 *   fuzz_policy tests/fuzz/corpus/policy
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

/* Targets without an LLVMFuzzerInitialize get this one. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* The input goes in a buffer of exactly its length, as libFuzzer hands
 * it over, so that under ASan a read past the end (a parser relying on a
 * NUL the caller does not promise) is caught here too. */
static int run_file(const char *path)
{
	char *data = NULL, *exact;
	size_t len = 0;

	if (tg_file_read(&data, &len, path, 1u << 24) < 0) {
		fprintf(stderr, "%s: %s\n", path, tg_error_last());
		return -1;
	}
	exact = malloc(len ? len : 1);
	if (!exact) {
		free(data);
		return -1;
	}
	memcpy(exact, data, len);
	free(data);
	(void)LLVMFuzzerTestOneInput((const uint8_t *)exact, len);
	free(exact);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every regular file of dir; the number run, or -1. */
static long run_dir(const char *dir)
{
	struct dirent **names = NULL;
	struct stat st;
	long n = 0;
	int count, i;

	count = scandir(dir, &names, NULL, by_name);
	if (count < 0) {
		perror(dir);
		return -1;
	}
	for (i = 0; i < count; i++) {
		char *p = tg_path_join(dir, names[i]->d_name);

		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(p) < 0)
				n = -1;
			else if (n >= 0)
				n++;
		}
		free(p);
		free(names[i]);
	}
	free(names);
	return n;
}

int main(int argc, char **argv)
{
	struct stat st;
	long total = 0, n;
	int i;

	if (LLVMFuzzerInitialize(&argc, &argv) != 0)
		return 2;
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		n = S_ISDIR(st.st_mode) ? run_dir(argv[i])
		                        : (run_file(argv[i]) < 0 ? -1 : 1);
		if (n < 0)
			return 1;
		total += n;
	}
	printf("%s: %ld inputs, no crash\n", argv[0], total);
	return total > 0 ? 0 : 1;
}
