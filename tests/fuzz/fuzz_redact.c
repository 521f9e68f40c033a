/*
 * Masking Secret values in a failed renderer's stderr: the input is the
 * renderer's output (YAML a committer controls through the unit) and its
 * stderr, split at the first NUL byte; tg_render__redact collects every
 * Secret value of the output (data decoded, stringData, Lists, a broken
 * file's key: value lines) and masks them in the stderr cut to 1.5 KiB,
 * as a failed render does.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "render_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	size_t out_len = nul ? (size_t)(nul - (const char *)data) : size;
	char *out = malloc(out_len + 1), *err, *msg;
	size_t err_len = nul ? size - out_len - 1 : 0;

	err = malloc(err_len + 1);
	if (!out || !err) {
		free(out);
		free(err);
		return 0;
	}
	memcpy(out, data, out_len);
	out[out_len] = '\0';
	if (err_len)
		memcpy(err, nul + 1, err_len);
	err[err_len] = '\0';
	msg = tg_render__redact(err, 1536, NULL, out, out_len);
	free(msg);
	free(out);
	free(err);
	return 0;
}
