/*
 * The previous status read back (reconciler/report/statusprev*.c): the
 * status.json at the tip of the status branch comes from the remote, and
 * the digests file from stateDir; both are outside input.
 *
 * An input whose first byte is even is a status.json: read unit by unit,
 * it must be refused exactly when jansson refuses the whole text (or it is
 * no object), and otherwise give the digests of the tree. An odd first
 * byte makes the rest a digests file (between its header and a correct
 * end line, so the lines are reached; the commit is the one its first line
 * names): whatever loads must save and load back to the same bytes. With
 * bit 1 of the first byte set too, the rest is the file as it is (a torn
 * or tampered file: the header and end line checks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "statusdoc_int.h"
#include "tollgate/buf.h"
#include "tollgate/util.h"

#define HEADER "tollgate status digests 1\n"

static const char *in_path, *out1, *out2;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tmp_dir("sprev");
	in_path = fuzz_tmp_path("in");
	out1 = fuzz_tmp_path("out1");
	out2 = fuzz_tmp_path("out2");
	return 0;
}

static bool same_units(const tg_statusprev *a, const tg_statusprev *b)
{
	size_t i;

	if (a->nunits != b->nunits)
		return false;
	for (i = 0; i < a->nunits; i++)
		if (strcmp(a->units[i].name, b->units[i].name) ||
		    memcmp(a->units[i].d, b->units[i].d, TG_SHA256_LEN))
			return false;
	return true;
}

static void status_json(const uint8_t *data, size_t size)
{
	json_error_t e;
	json_t *tree = json_loadb((const char *)data, size,
	                          JSON_REJECT_DUPLICATES, &e);
	tg_statusprev *p = tg_statusprev_parse((const char *)data, size);
	tg_statusprev *t = tg_statusprev_of(tree);

	if (!t != !p)
		abort();
	if (p && (!tg_statusprev_same(p, t) || !same_units(p, t)))
		abort();
	tg_statusprev_free(p);
	tg_statusprev_free(t);
	json_decref(tree);
}

/* The commit the "commit" line at the start of body names, or "-". */
static char *commit_named(const uint8_t *body, size_t size)
{
	char *commit = fuzz_cstr(body, size), *nl;

	if (strncmp(commit, "commit ", 7) || !(nl = strchr(commit, '\n'))) {
		free(commit);
		return tg_strdup("-");
	}
	*nl = '\0';
	memmove(commit, commit + 7, strlen(commit + 7) + 1);
	return commit;
}

/* The input as a digests file, sealed (header + input + end line) or
 * raw; the commit its "commit" line names. */
static char *write_digests(const uint8_t *data, size_t size, bool raw)
{
	FILE *f = fopen(in_path, "wb");
	size_t hl = strlen(HEADER);
	tg_buf b;

	if (!f)
		abort();
	tg_buf_init(&b, (size_t)-1);
	if (!raw &&
	    (tg_buf_puts(&b, HEADER) < 0 || tg_buf_append(&b, data, size) < 0))
		abort();
	if (!raw)
		fuzz_seal(&b);
	if (raw ? fwrite(data, 1, size, f) != size
	        : fwrite(b.data, 1, b.len, f) != b.len)
		abort();
	tg_buf_free(&b);
	if (fclose(f) != 0)
		abort();
	if (!raw)
		return commit_named(data, size);
	if (size < hl || memcmp(data, HEADER, hl))
		return tg_strdup("-");
	return commit_named(data + hl, size - hl);
}

static void digests_file(const uint8_t *data, size_t size, bool raw)
{
	char *commit = write_digests(data, size, raw);
	tg_statusprev *p = NULL, *again = NULL;

	if (tg_statusprev_load(&p, in_path, commit) < 0)
		abort();
	if (p) {
		if (tg_statusprev_save(p, out1, commit) < 0 ||
		    tg_statusprev_load(&again, out1, commit) < 0 || !again ||
		    tg_statusprev_save(again, out2, commit) < 0)
			abort();
		fuzz_same_files(out1, out2);
	}
	tg_statusprev_free(p);
	tg_statusprev_free(again);
	free(commit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && (data[0] & 1))
		digests_file(data + 1, size - 1, data[0] & 2);
	else
		status_json(data + (size ? 1 : 0), size ? size - 1 : 0);
	return 0;
}
