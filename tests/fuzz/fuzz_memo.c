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

static const char *in_path, *out1, *out2;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tmp_dir("memo");
	in_path = fuzz_tmp_path("in");
	out1 = fuzz_tmp_path("out1");
	out2 = fuzz_tmp_path("out2");
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
		tg_buf_init(&b, (size_t)-1);
		if (tg_buf_puts(&b, HEADER) < 0 ||
		    (size && tg_buf_append(&b, data + 1, size - 1) < 0))
			abort();
		fuzz_seal(&b);
		fwrite(b.data, 1, b.len, f);
		tg_buf_free(&b);
	}
	if (fclose(f) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_drift_memo *m = NULL, *again = NULL;

	write_input(data, size);
	if (tg_drift_memo_load(&m, in_path) < 0 || !m)
		abort();
	/* Saved, loaded, saved: the same bytes. */
	if (tg_drift_memo_save(m, out1) < 0 ||
	    tg_drift_memo_load(&again, out1) < 0 ||
	    tg_drift_memo_save(again, out2) < 0)
		abort();
	fuzz_same_files(out1, out2);
	tg_drift_memo_free(m);
	tg_drift_memo_free(again);
	return 0;
}
