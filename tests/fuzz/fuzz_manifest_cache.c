/*
 * The manifest parse cache (stateDir/manifest-cache,
 * reconciler/manifests/cache.c): whoever can write to stateDir, or a
 * crash mid-write, controls its bytes. An input whose first byte is odd
 * is the file as it is; otherwise the rest is put between the cache's
 * header and a correct digest end line, so that its entries are parsed.
 *
 * Whatever was read, a cycle that adds a file through it leaves a cache
 * that gives that file back on the next cycle (a hit, the same objects).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "tollgate/buf.h"
#include "tollgate/manifest.h"
#include "tollgate/util.h"

#define HEADER "tollgate manifest cache 1\n"

static const char doc[] = "apiVersion: apps/v1\nkind: Deployment\n"
                          "metadata: {name: web, namespace: shop}\n"
                          "spec: {template: {spec: {containers: "
                          "[{name: a, image: r.example/a:1}]}}}\n";

static char dir[64], in_path[96];

static void cleanup(void)
{
	unlink(in_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz-mcache-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(in_path, sizeof(in_path), "%s/manifest-cache", dir);
	atexit(cleanup);
	return 0;
}

/* The file for the input: raw, or header + entries + end line. */
static void write_input(const uint8_t *data, size_t size)
{
	FILE *f = fopen(in_path, "wb");
	unsigned char d[TG_SHA256_LEN];
	char hex[2 * TG_SHA256_LEN + 1];
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
		tg_sha256(d, b.data, b.len);
		tg_hex_encode(hex, d, sizeof(d));
		fwrite(b.data, 1, b.len, f);
		fprintf(f, "end %s\n", hex);
		tg_buf_free(&b);
	}
	if (fclose(f) != 0)
		abort();
}

/* One cycle over the cache file: the objects of doc, as text; the
 * cache's hits into *hits. */
static char *cycle(size_t *hits)
{
	tg_manifest_cache *c = tg_manifest_cache_load(in_path);
	tg_manifest_set *set = NULL;
	tg_manifest_object *o;
	char *text;

	if (tg_manifest_set_new(&set, NULL) < 0)
		abort();
	tg_manifest_set_use_cache(set, c);
	if (tg_manifest_set_add_file(set, "u/a.yaml", doc, strlen(doc)) < 0)
		abort();
	tg_manifest_set_use_cache(set, NULL);
	*hits = tg_manifest_cache_hits(c);
	if (tg_manifest_cache_save(c) < 0)
		abort();
	o = tg_manifest_unit_object(tg_manifest_set_unit(set, 0), 0);
	if (!o || tg_manifest_object_image_count(o) != 1 ||
	    !tg_manifest_object_pod_spec(o, 0, NULL))
		abort();
	text = json_dumps(tg_manifest_object_json(o), JSON_COMPACT);
	tg_manifest_cache_free(c);
	tg_manifest_set_free(set);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t hits = 0;
	char *a, *b;

	write_input(data, size);
	a = cycle(&hits);
	b = cycle(&hits);
	if (hits != 1 || !a || !b || strcmp(a, b))
		abort();
	free(a);
	free(b);
	return 0;
}
