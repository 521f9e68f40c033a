/*
 * Helpers shared by the manifest loader's tests (test_manifest.c,
 * test_manifest_hostile.c, test_manifest_images.c).
 */
#ifndef TOLLGATE_TEST_MANIFEST_H
#define TOLLGATE_TEST_MANIFEST_H

#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/manifest.h"
#include "tollgate/util.h"

/* Add tests/data/manifests/<rel> to set as tree path <as>. */
static inline void
add_data(tg_manifest_set *set, const char *rel, const char *as)
{
	char *path = tg_aprintf("tests/data/manifests/%s", rel);
	size_t len;
	char *data = tt_read_src(path, &len);
	const char *in = data;
	size_t skip = 0;

	/* A bad/ file states its error on its first line; the lines the
	 * tests name are those of the input after it. */
	if (!strncmp(data, "# error:", 8))
		skip = (size_t)(strchr(data, '\n') + 1 - data);
	in += skip;
	assert_int_equal(tg_manifest_set_add_file(set, as, in, len - skip), 0);
	free(data);
	free(path);
}

static inline tg_manifest_set *new_set(void)
{
	tg_manifest_set *set = NULL;

	assert_int_equal(tg_manifest_set_new(&set, NULL), 0);
	return set;
}

/* Every error of unit, joined, for assert_contains. */
static inline char *unit_errors(const tg_manifest_unit *u)
{
	char *all = tg_strdup(""), *next;
	size_t i;

	for (i = 0; i < tg_manifest_unit_error_count(u); i++) {
		next = tg_aprintf("%s%s\n", all, tg_manifest_unit_error(u, i));
		free(all);
		all = next;
	}
	return all;
}

static inline void assert_object(const tg_manifest_object *o,
                                 const char *kind,
                                 const char *ns,
                                 const char *name,
                                 unsigned line)
{
	assert_string_equal(tg_manifest_object_kind(o), kind);
	assert_string_equal(tg_manifest_object_namespace(o), ns);
	assert_string_equal(tg_manifest_object_name(o), name);
	assert_int_equal(tg_manifest_object_line(o), line);
}

static inline void assert_image(const tg_manifest_image *img,
                                const char *pointer,
                                const char *written,
                                const char *canonical)
{
	assert_string_equal(tg_manifest_image_pointer(img), pointer);
	assert_string_equal(tg_manifest_image_written(img), written);
	assert_string_equal(tg_manifest_image_ref(img)->canonical, canonical);
}

static inline void
add_text(tg_manifest_set *set, const char *path, const char *doc)
{
	assert_int_equal(tg_manifest_set_add_file(set, path, doc, strlen(doc)),
	                 0);
}

#endif
