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
 * names): whatever loads must save and load back to the same bytes.
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

static char dir[64], in_path[96], out1[96], out2[96];

static void cleanup(void)
{
	unlink(in_path);
	unlink(out1);
	unlink(out2);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz-sprev-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(in_path, sizeof(in_path), "%s/in", dir);
	snprintf(out1, sizeof(out1), "%s/out1", dir);
	snprintf(out2, sizeof(out2), "%s/out2", dir);
	atexit(cleanup);
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

static char *slurp(size_t *len, const char *path)
{
	char *s = NULL;

	if (tg_file_read(&s, len, path, (size_t)1 << 30) < 0)
		abort();
	return s;
}

/* The input as a digests file; the commit its "commit" line names. */
static char *write_digests(const uint8_t *data, size_t size)
{
	unsigned char d[TG_SHA256_LEN];
	char hex[2 * TG_SHA256_LEN + 1], *commit, *nl;
	FILE *f = fopen(in_path, "wb");
	tg_buf b;

	if (!f)
		abort();
	tg_buf_init(&b, (size_t)-1);
	if (tg_buf_puts(&b, HEADER) < 0 || tg_buf_append(&b, data, size) < 0)
		abort();
	tg_sha256(d, b.data, b.len);
	tg_hex_encode(hex, d, sizeof(d));
	fwrite(b.data, 1, b.len, f);
	fprintf(f, "end %s\n", hex);
	if (fclose(f) != 0)
		abort();
	commit = fuzz_cstr(data, size);
	if (strncmp(commit, "commit ", 7) || !(nl = strchr(commit, '\n'))) {
		free(commit);
		tg_buf_free(&b);
		return tg_strdup("-");
	}
	*nl = '\0';
	memmove(commit, commit + 7, strlen(commit + 7) + 1);
	tg_buf_free(&b);
	return commit;
}

static void digests_file(const uint8_t *data, size_t size)
{
	char *commit = write_digests(data, size), *a, *b;
	tg_statusprev *p = NULL, *again = NULL;
	size_t alen, blen;

	if (tg_statusprev_load(&p, in_path, commit) < 0)
		abort();
	if (p) {
		if (tg_statusprev_save(p, out1, commit) < 0 ||
		    tg_statusprev_load(&again, out1, commit) < 0 || !again ||
		    tg_statusprev_save(again, out2, commit) < 0)
			abort();
		a = slurp(&alen, out1);
		b = slurp(&blen, out2);
		if (alen != blen || memcmp(a, b, alen))
			abort();
		free(a);
		free(b);
	}
	tg_statusprev_free(p);
	tg_statusprev_free(again);
	free(commit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && (data[0] & 1))
		digests_file(data + 1, size - 1);
	else
		status_json(data + (size ? 1 : 0), size ? size - 1 : 0);
	return 0;
}
