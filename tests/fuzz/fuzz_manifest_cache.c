/*
 * The manifest parse cache (stateDir/manifest-cache,
 * reconciler/manifests/cache.c): a crash mid-write or anyone who can
 * write to stateDir controls its bytes. An input whose first byte is odd
 * is the file as it is. Otherwise the rest is the body of one entry
 * ("<objects>\n" and the objects) under the key of the file web/cm.yaml
 * below, between the header and a correct end line, so that a lookup
 * finds it and restores its objects (identity, images, pod specs).
 *
 * Whatever it holds, adding the file gives a set whose objects have a
 * kind and a name, and what the cache then saves gives the file back on
 * the next cycle (a hit, the same objects).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "manifest_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/manifest.h"
#include "tollgate/util.h"

#define HEADER "tollgate manifest cache 1\n"
#define FILE_PATH "web/cm.yaml"

static const char file_data[] = "apiVersion: v1\n"
                                "kind: ConfigMap\n"
                                "metadata: {name: a, namespace: shop}\n"
                                "data: {k: v}\n";

static const char *cache_path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tmp_dir("mcache");
	cache_path = fuzz_tmp_path("cache");
	return 0;
}

/* The key web/cm.yaml has in a set without extra image paths. */
static void file_key(unsigned char key[TG_SHA256_LEN])
{
	tg_manifest_cache *c = tg_manifest_cache_load(NULL);
	tg_manifest_set *set = NULL;

	if (tg_manifest_set_new(&set, NULL) < 0)
		abort();
	tg_manifest_set_use_cache(set, c);
	tg_manifest_cache_key(key, c, false, FILE_PATH, file_data,
	                      sizeof(file_data) - 1);
	tg_manifest_set_free(set);
	tg_manifest_cache_free(c);
}

static void write_input(const uint8_t *data, size_t size)
{
	unsigned char key[TG_SHA256_LEN];
	char hex[2 * TG_SHA256_LEN + 1];
	tg_buf b;

	tg_buf_init(&b, (size_t)-1);
	if (size && (data[0] & 1)) {
		if (tg_buf_append(&b, data + 1, size - 1) < 0)
			abort();
	} else {
		file_key(key);
		tg_hex_encode(hex, key, sizeof(key));
		if (tg_buf_printf(&b, HEADER "E %s ", hex) < 0 ||
		    (size && tg_buf_append(&b, data + 1, size - 1) < 0))
			abort();
		fuzz_seal(&b);
	}
	if (tg_file_write_atomic(cache_path, b.data ? b.data : "", b.len) < 0)
		abort();
	tg_buf_free(&b);
}

/* Every object of the set has what later stages read without a check;
 * what the set holds, as one string. */
static char *walk(const tg_manifest_set *set)
{
	tg_buf out;
	size_t u, i, k;

	tg_buf_init(&out, (size_t)-1);
	for (u = 0; u < tg_manifest_set_unit_count(set); u++) {
		tg_manifest_unit *unit = tg_manifest_set_unit(set, u);

		for (i = 0; i < tg_manifest_unit_object_count(unit); i++) {
			const tg_manifest_object *o =
			        tg_manifest_unit_object(unit, i);
			char *d;

			if (!*tg_manifest_object_kind(o) ||
			    !*tg_manifest_object_name(o) ||
			    !tg_manifest_object_group(o))
				abort();
			d = tg_manifest_object_describe(o);
			if (tg_buf_printf(&out, "%s:%u %s %zu\n",
			                  tg_manifest_object_file(o),
			                  tg_manifest_object_line(o), d,
			                  tg_manifest_object_image_count(o)) <
			    0)
				abort();
			free(d);
			for (k = 0; k < tg_manifest_object_image_count(o); k++)
				if (tg_buf_printf(
				            &out, " %s\n",
				            tg_manifest_image_pointer(
				                    tg_manifest_object_image(
				                            o, k))) < 0)
					abort();
		}
	}
	return out.data ? out.data : tg_strdup("");
}

/* One cycle through the cache file: what the set held; hits into *hits. */
static char *cycle(size_t *hits)
{
	tg_manifest_cache *c = tg_manifest_cache_load(cache_path);
	tg_manifest_set *set = NULL;
	char *held;

	if (tg_manifest_set_new(&set, NULL) < 0)
		abort();
	tg_manifest_set_use_cache(set, c);
	tg_discard(tg_manifest_set_add_file(set, FILE_PATH, file_data,
	                                    sizeof(file_data) - 1));
	tg_manifest_set_use_cache(set, NULL);
	*hits = tg_manifest_cache_hits(c);
	held = walk(set);
	tg_manifest_set_free(set);
	if (tg_manifest_cache_save(c) < 0)
		abort();
	tg_manifest_cache_free(c);
	return held;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t hits = 0;
	char *a, *b;

	write_input(data, size);
	a = cycle(&hits);
	/* What it saved finds the file again, with the same objects. */
	b = cycle(&hits);
	if (hits != 1 || strcmp(a, b))
		abort();
	free(a);
	free(b);
	tg_error_clear();
	return 0;
}
