/* Helpers of fuzz.h, linked into every target. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

#define TMP_PATHS 8

static char tmp_dir[256];
static char *tmp_paths[TMP_PATHS];

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

static void tmp_cleanup(void)
{
	DIR *d = opendir(tmp_dir);
	struct dirent *e;
	size_t i;

	while (d && (e = readdir(d)) != NULL) {
		char *p;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = tg_path_join(tmp_dir, e->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(tmp_dir);
	for (i = 0; i < TMP_PATHS; i++)
		free(tmp_paths[i]);
}

void fuzz_tmp_dir(const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	int n = snprintf(tmp_dir, sizeof(tmp_dir), "%s/fuzz-%s-XXXXXX",
	                 tmp ? tmp : "/tmp", tag);

	if (n < 0 || (size_t)n >= sizeof(tmp_dir) || !mkdtemp(tmp_dir))
		abort();
	atexit(tmp_cleanup);
}

const char *fuzz_tmp_path(const char *name)
{
	size_t i;

	for (i = 0; i < TMP_PATHS && tmp_paths[i]; i++)
		;
	if (!tmp_dir[0] || i == TMP_PATHS)
		abort();
	tmp_paths[i] = tg_path_join(tmp_dir, name);
	return tmp_paths[i];
}

void fuzz_seal(struct tg_buf *b)
{
	unsigned char d[TG_SHA256_LEN];
	char hex[2 * TG_SHA256_LEN + 1];

	tg_sha256(d, b->data ? b->data : "", b->len);
	tg_hex_encode(hex, d, sizeof(d));
	if (tg_buf_printf(b, "end %s\n", hex) < 0)
		abort();
}

static char *slurp(size_t *len, const char *path)
{
	char *s = NULL;

	if (tg_file_read(&s, len, path, (size_t)1 << 30) < 0)
		abort();
	return s;
}

void fuzz_same_files(const char *a, const char *b)
{
	size_t alen, blen;
	char *x = slurp(&alen, a), *y = slurp(&blen, b);

	if (alen != blen || memcmp(x, y, alen))
		abort();
	free(x);
	free(y);
}
