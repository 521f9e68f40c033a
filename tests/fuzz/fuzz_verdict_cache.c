/*
 * The verdict cache (stateDir/verdict-cache.json, verify/verdict/
 * verdict_cache.c): an entry found there lets an image skip verification
 * until it expires, and whoever can write to stateDir, or a crash
 * mid-write, controls its bytes. An input whose first byte is odd is the
 * file as it is; otherwise the rest is the verdict of one fresh entry of
 * a well-formed file, so that tg_verdict_from_json is reached.
 *
 * Whatever loads must save and load back to the same cache: saving,
 * loading and saving again gives the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tollgate/verdict_cache.h"

#define NOW 1800000000
#define ENTRY                                                                  \
	"{\"version\":\"tollgate.dev/verdict-cache/v1\",\"entries\":[{"        \
	"\"policyHash\":\"sha256:p1\",\"subject\":\"ghcr.io/acme/web@sha256:"  \
	"00\",\"storedAt\":1799999990,\"validUntil\":null,\"verdict\":"

static const char *in_path, *out1, *out2;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tmp_dir("verdict-cache");
	in_path = fuzz_tmp_path("in");
	out1 = fuzz_tmp_path("out1");
	out2 = fuzz_tmp_path("out2");
	return 0;
}

/* The file for the input: raw, or one entry around the verdict. */
static void write_input(const uint8_t *data, size_t size)
{
	FILE *f = fopen(in_path, "wb");

	if (!f)
		abort();
	if (size && (data[0] & 1)) {
		fwrite(data + 1, 1, size - 1, f);
	} else {
		fputs(ENTRY, f);
		if (size)
			fwrite(data + 1, 1, size - 1, f);
		fputs("}]}", f);
	}
	if (fclose(f) != 0)
		abort();
}

static tg_verdict_cache *load(const char *path, int must)
{
	tg_verdict_cache *c = NULL;

	if (tg_verdict_cache_new(&c, 0) < 0)
		abort();
	if (tg_verdict_cache_load(c, path, NOW) < 0) {
		if (must)
			abort();
		tg_verdict_cache_free(c);
		return NULL;
	}
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_verdict_cache *c, *again;

	write_input(data, size);
	if (!(c = load(in_path, 0)))
		return 0;
	/* Saved, loaded, saved: the same bytes. */
	if (tg_verdict_cache_save(c, out1) < 0)
		abort();
	again = load(out1, 1);
	if (tg_verdict_cache_save(again, out2) < 0)
		abort();
	fuzz_same_files(out1, out2);
	tg_verdict_cache_free(c);
	tg_verdict_cache_free(again);
	return 0;
}
