/* Helpers of fuzz.h, linked into every target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = tg_malloc(size + 1);

	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void fuzz_split(size_t *a_len,
                const uint8_t **b,
                size_t *b_len,
                const uint8_t *data,
                size_t size,
                uint8_t sep)
{
	const uint8_t *p = size ? memchr(data, sep, size) : NULL;

	if (!p) {
		*a_len = size;
		*b = data + size;
		*b_len = 0;
		return;
	}
	*a_len = (size_t)(p - data);
	*b = p + 1;
	*b_len = size - *a_len - 1;
}

char *fuzz_source_file(size_t *len_out, const char *rel)
{
	char *path = tg_path_join(TG_FUZZ_SOURCE_DIR, rel);
	char *data = NULL;

	if (tg_file_read(&data, len_out, path, 1u << 24) < 0) {
		fprintf(stderr, "fuzz: cannot read %s: %s\n", path,
		        tg_error_last());
		exit(2);
	}
	free(path);
	return data;
}
