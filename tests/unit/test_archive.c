/*
 * Tests of the OCI source's unpacker (reconciler/source/archive.c): a
 * Flux-layout archive unpacks in memory; every hostile archive of
 * tests/data/archive/bad/ (made by tests/tools/make-archives.py) is
 * refused whole with its code and a message naming the entry; more than
 * TG_MAX_ARCHIVE_ENTRIES entries (written here with libarchive) too.
 */
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "testlib.h"
#include "tollgate/archive.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

static bool keep_yaml(const char *path)
{
	return tg_str_has_suffix(path, ".yaml");
}

static void free_names(char **names, size_t n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

static void test_archive_unpacks_flux_layout(void **state)
{
	size_t len;
	char *data = tt_read_src("tests/data/archive/good/flux.tar.gz", &len);
	tg_archive *a = NULL;
	const tg_archive_file *f;
	char **names;
	size_t n;

	(void)state;
	if (tg_archive_unpack(&a, "flux", data, len, keep_yaml) < 0)
		fail_msg("%s", tg_error_last());
	/* ./apps/, ./apps/web/, two manifests, README (the root "./" is
	 * not an entry of its own) */
	assert_int_equal(tg_archive_entry_count(a), 5);
	assert_int_equal(tg_archive_count(a), 2);
	f = tg_archive_get(a, 0);
	assert_string_equal(f->path, "apps/web/config.yaml");
	assert_non_null(strstr(f->data, "name: app-config"));
	assert_int_equal(f->len, strlen(f->data));
	assert_string_equal(tg_archive_get(a, 1)->path, "root.yaml");
	assert_null(tg_archive_get(a, 2));
	assert_true(tg_archive_has_dir(a, ""));
	assert_true(tg_archive_has_dir(a, "apps"));
	assert_true(tg_archive_has_dir(a, "apps/web"));
	assert_false(tg_archive_has_dir(a, "app"));
	assert_false(tg_archive_has_dir(a, "root.yaml"));
	assert_false(tg_archive_has_dir(a, "apps/web/config.yaml"));
	assert_non_null(tg_archive_find(a, "root.yaml"));
	assert_null(tg_archive_find(a, "apps/README.md")); /* not kept */
	tg_archive_list(&names, &n, a, "");
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "apps");
	assert_string_equal(names[1], "root.yaml");
	free_names(names, n);
	tg_archive_list(&names, &n, a, "apps");
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "README.md");
	assert_string_equal(names[1], "web");
	free_names(names, n);
	tg_archive_free(a);
	free(data);
}

typedef struct bad_case {
	const char *file;
	int code;
	const char *message; /* part of the message, after "bad: " */
} bad_case;

static const bad_case bad_cases[] = {
	{ "dotdot.tar.gz", TG_EINVALID,
	  "entry \"../x.yaml\": \"..\" component" },
	{ "dotdot-inner.tar.gz", TG_EINVALID,
	  "entry \"a/../../x.yaml\": \"..\" component" },
	{ "absolute.tar.gz", TG_EINVALID,
	  "entry \"/etc/x.yaml\": absolute path" },
	{ "long-name.tar.gz", TG_ETOOBIG, "path longer than 4096 bytes" },
	{ "too-deep.tar.gz", TG_EINVALID, "more than 32 path components" },
	{ "duplicate.tar.gz", TG_EINVALID,
	  "entry \"app/x.yaml\": the path is in the archive twice" },
	{ "file-parent.tar.gz", TG_EINVALID,
	  "entry \"app/x.yaml\": below \"app\", which is a file" },
	{ "symlink.tar.gz", TG_EINVALID, "entry \"x.yaml\": symlink" },
	{ "hardlink.tar.gz", TG_EINVALID, "entry \"x.yaml\": hard link" },
	{ "chardev.tar.gz", TG_EINVALID,
	  "entry \"dev/null\": character device" },
	{ "blockdev.tar.gz", TG_EINVALID, "entry \"dev/sda\": block device" },
	{ "fifo.tar.gz", TG_EINVALID, "entry \"pipe\": FIFO" },
	{ "sparse.tar.gz", TG_EINVALID, "entry \"sparse.yaml\": sparse file" },
	{ "big-file.tar.gz", TG_ETOOBIG,
	  "entry \"big.yaml\": file of 8388609 bytes, over the limit" },
	{ "pax-huge-size.tar.gz", TG_ETOOBIG,
	  "entry \"huge.yaml\": file of 99999999999999999 bytes" },
	{ "bomb.tar.gz", TG_ETOOBIG,
	  "entry \"bomb/32.yaml\": more than 268435456 bytes unpacked" },
	{ "truncated-gzip.tar.gz", TG_EPARSE, "damaged gzip tar layer" },
	{ "truncated-tar.tar.gz", TG_EPARSE,
	  "damaged gzip tar layer after entry a.yaml" },
	{ "bad-checksum.tar.gz", TG_EPARSE, "damaged gzip tar layer" },
	{ "not-gzip.tar", TG_EPARSE, "not gzip compressed" },
};

/* An archive of nothing but its root directory "./" (found by
 * fuzz_archive: the entries, none, were sorted as a NULL array; UBSan
 * checks): it unpacks to no entries and no files. */
static void test_archive_of_only_its_root(void **state)
{
	size_t len;
	char *data =
	        tt_read_src("tests/data/archive/good/root-only.tar.gz", &len);
	tg_archive *a = NULL;

	(void)state;
	if (tg_archive_unpack(&a, "root-only", data, len, keep_yaml) < 0)
		fail_msg("%s", tg_error_last());
	assert_int_equal(tg_archive_entry_count(a), 0);
	assert_int_equal(tg_archive_count(a), 0);
	assert_null(tg_archive_get(a, 0));
	assert_null(tg_archive_find(a, "root.yaml"));
	tg_archive_free(a);
	free(data);
}

static void test_archive_refuses_hostile_archives(void **state)
{
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const bad_case *c = &bad_cases[i];
		char *rel = tg_aprintf("tests/data/archive/bad/%s", c->file);
		char *data = tt_read_src(rel, &len);
		tg_archive *a = NULL;
		int error = tg_archive_unpack(&a, "bad", data, len, keep_yaml);

		if (error != c->code || !strstr(tg_error_last(), c->message) ||
		    !tg_str_has_prefix(tg_error_last(), "bad: "))
			fail_msg("%s: got %d \"%s\", expected %d \"%s\"",
			         c->file, error, tg_error_last(), c->code,
			         c->message);
		assert_null(a);
		free(data);
		free(rel);
	}
}

/* A gzip tar of n empty files written with libarchive. */
static void *many_entries(size_t *len_out, size_t n)
{
	struct archive *w = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t cap = 8u * 1024 * 1024, i;
	void *buf = tg_malloc(cap);
	char name[32];

	assert_int_equal(archive_write_add_filter_gzip(w), ARCHIVE_OK);
	assert_int_equal(archive_write_set_format_pax_restricted(w),
	                 ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(w, buf, cap, len_out),
	                 ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		archive_entry_clear(e);
		snprintf(name, sizeof(name), "f/%06zu.yaml", i);
		archive_entry_set_pathname(e, name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, 0);
		assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
	}
	assert_int_equal(archive_write_close(w), ARCHIVE_OK);
	archive_entry_free(e);
	archive_write_free(w);
	return buf;
}

static void test_archive_refuses_too_many_entries(void **state)
{
	size_t len;
	void *data = many_entries(&len, TG_MAX_ARCHIVE_ENTRIES + 1);
	tg_archive *a = NULL;

	(void)state;
	assert_int_equal(tg_archive_unpack(&a, "many", data, len, NULL),
	                 TG_ETOOBIG);
	assert_non_null(strstr(tg_error_last(),
	                       "entry \"f/050000.yaml\": more than 50000 "
	                       "entries"));
	assert_null(a);
	free(data);
	/* the limit itself is fine */
	data = many_entries(&len, TG_MAX_ARCHIVE_ENTRIES - 1);
	if (tg_archive_unpack(&a, "many", data, len, NULL) < 0)
		fail_msg("%s", tg_error_last());
	assert_int_equal(tg_archive_count(a), TG_MAX_ARCHIVE_ENTRIES - 1);
	tg_archive_free(a);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_archive_unpacks_flux_layout),
		cmocka_unit_test(test_archive_of_only_its_root),
		cmocka_unit_test(test_archive_refuses_hostile_archives),
		cmocka_unit_test(test_archive_refuses_too_many_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
