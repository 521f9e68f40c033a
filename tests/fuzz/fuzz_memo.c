/*
 * The drift memo (stateDir/drift-memo, reconciler/drift/memo.c): whoever
 * can write to stateDir, or a crash mid-write, controls its bytes. An
 * input whose first byte is odd is the file as it is; otherwise the rest
 * is put between the memo's header and a correct digest end line, so
 * that the lines themselves are reached.
 *
 * Whatever loads must save and load back to the same memo: saving, loading
 * and saving again gives the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "tollgate/buf.h"
#include "tollgate/drift.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

#define HEADER "tollgate drift memo 2\n"

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
	snprintf(dir, sizeof(dir), "%s/fuzz-memo-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(in_path, sizeof(in_path), "%s/in", dir);
	snprintf(out1, sizeof(out1), "%s/out1", dir);
	snprintf(out2, sizeof(out2), "%s/out2", dir);
	atexit(cleanup);
	return 0;
}

/* The file for the input: raw, or header + lines + end line. */
static void write_input(const uint8_t *data, size_t size)
{
	FILE *f = fopen(in_path, "wb");
	tg_buf b;

	if (!f)
		abort();
	if (size && (data[0] & 1)) {
		fwrite(data + 1, 1, size - 1, f);
	} else {
		unsigned char d[TG_SHA256_LEN];
		char hex[2 * TG_SHA256_LEN + 1];

		tg_buf_init(&b, (size_t)-1);
		if (tg_buf_puts(&b, HEADER) < 0 ||
		    (size && tg_buf_append(&b, data + 1, size - 1) < 0))
			abort();
		tg_sha256(d, b.data, b.len);
		tg_hex_encode(hex, d, sizeof(d));
		fwrite(b.data, 1, b.len, f);
		fprintf(f, "end %s\n", hex);
		tg_buf_free(&b);
	}
	if (fclose(f) != 0)
		abort();
}

static char *slurp(size_t *len, const char *path)
{
	char *s = NULL;

	if (tg_file_read(&s, len, path, (size_t)1 << 30) < 0)
		abort();
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_drift_memo *m = NULL, *again = NULL;
	char *a, *b;
	size_t alen, blen;

	write_input(data, size);
	if (tg_drift_memo_load(&m, in_path) < 0 || !m)
		abort();
	/* Saved, loaded, saved: the same bytes. */
	if (tg_drift_memo_save(m, out1) < 0 ||
	    tg_drift_memo_load(&again, out1) < 0 ||
	    tg_drift_memo_save(again, out2) < 0)
		abort();
	a = slurp(&alen, out1);
	b = slurp(&blen, out2);
	if (alen != blen || memcmp(a, b, alen))
		abort();
	free(a);
	free(b);
	tg_drift_memo_free(m);
	tg_drift_memo_free(again);
	return 0;
}
