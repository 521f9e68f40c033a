/*
 * Tests of the manifest parse cache (issue 20) and of objects kept as
 * text: a file unchanged since the last cycle gives back exactly the
 * objects its parse gave (text, identity, lines, images, pod specs); a
 * changed byte, another path or other image paths parse it again; a
 * torn or tampered cache is dropped whole; a file with a problem is
 * never kept; what is checked across files (duplicates, CRD scopes) is
 * checked again on a hit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "tollgate/manifest.h"
#include "tollgate/util.h"

static const char *const deploy_yaml =
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata: {name: web, namespace: shop, labels: {app: web}}\n"
        "spec:\n"
        "  replicas: 2\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "        - {name: a, image: registry.example.com/web:v1}\n"
        "      initContainers:\n"
        "        - {name: i, image: \"registry.example.com/init:v2\"}\n"
        "      volumes:\n"
        "        - {name: m, image: {reference: registry.example.com/m:1}}\n"
        "---\n"
        "apiVersion: batch/v1\n"
        "kind: CronJob\n"
        "metadata: {name: nightly, namespace: shop}\n"
        "spec:\n"
        "  schedule: '@daily'\n"
        "  jobTemplate: {spec: {template: {spec: {containers: [{name: "
        "c, image: registry.example.com/job:3}]}}}}\n";

static const char *const list_yaml =
        "apiVersion: v1\n"
        "kind: List\n"
        "items:\n"
        "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: "
        "{x: \"1.50\", w: 1.5, z: 12345678901234, u: \"\\u00e9\"}}\n"
        "  - apiVersion: v1\n"
        "    kind: ConfigMap\n"
        "    metadata: {name: b, namespace: shop}\n";

static const char *const crd_yaml =
        "apiVersion: apiextensions.k8s.io/v1\n"
        "kind: CustomResourceDefinition\n"
        "metadata: {name: widgets.example.com}\n"
        "spec: {group: example.com, scope: Cluster, names: {kind: "
        "Widget}}\n";

static const char *const widget_yaml = "apiVersion: example.com/v1\n"
                                       "kind: Widget\n"
                                       "metadata: {name: w1, namespace: shop}\n"
                                       "spec: {size: 1}\n";

static const char *const ns_yaml = "apiVersion: v1\n"
                                   "kind: Namespace\n"
                                   "metadata: {name: shop}\n";

/* The tree: paths, and the bytes of each file. */
static const char *const paths[] = { "a-crd/crd.yaml", "b/widget.yaml",
	                             "shop/deploy.yaml", "shop/list.yaml",
	                             "root.yaml" };

static const char *data_of(size_t i)
{
	const char *const all[] = { crd_yaml, widget_yaml, deploy_yaml,
		                    list_yaml, ns_yaml };

	return all[i];
}

/* Where the sets of load_tree() tell their images, when not NULL. */
static char **image_sink;
static void note_image(void *ctx, const char *written);

/* The tree into a new set (opts may be NULL) with cache (may be NULL);
 * file k (k < 5) gets other bytes when other is set. */
static tg_manifest_set *load_tree(const tg_manifest_options *opts,
                                  tg_manifest_cache *cache,
                                  size_t k,
                                  const char *other)
{
	tg_manifest_set *set = NULL;
	size_t i;

	assert_int_equal(tg_manifest_set_new(&set, opts), 0);
	tg_manifest_set_use_cache(set, cache);
	if (image_sink)
		tg_manifest_set_on_image(set, note_image, image_sink);
	for (i = 0; i < TG_ARRAY_LEN(paths); i++) {
		const char *d = i == k && other ? other : data_of(i);

		assert_int_equal(
		        tg_manifest_set_add_file(set, paths[i], d, strlen(d)),
		        0);
	}
	tg_manifest_set_use_cache(set, NULL);
	return set;
}

/* Everything a later stage can read of an object, as one string. */
static char *describe(const tg_manifest_object *o)
{
	char *tree = json_dumps(tg_manifest_object_json(o), JSON_COMPACT);
	char *s = tg_aprintf(
	        "%s:%u %s|%s|%s|%s|%s|%s", tg_manifest_object_file(o),
	        tg_manifest_object_line(o), tg_manifest_object_api_version(o),
	        tg_manifest_object_group(o), tg_manifest_object_kind(o),
	        tg_manifest_object_namespace(o), tg_manifest_object_name(o),
	        tree);
	const char *ptr;
	char *next;
	size_t i;

	free(tree);
	for (i = 0; i < tg_manifest_object_image_count(o); i++) {
		const tg_manifest_image *img = tg_manifest_object_image(o, i);

		next = tg_aprintf("%s img %s=%s", s,
		                  tg_manifest_image_pointer(img),
		                  tg_manifest_image_written(img));
		free(s);
		s = next;
	}
	for (i = 0; tg_manifest_object_pod_spec(o, i, &ptr); i++) {
		tree = json_dumps(tg_manifest_object_pod_spec(o, i, NULL),
		                  JSON_COMPACT);
		next = tg_aprintf("%s pod %s=%s", s, ptr, tree);
		free(tree);
		free(s);
		s = next;
	}
	return s;
}

/* The whole set as one string: units, objects, images, errors. */
static char *describe_set(const tg_manifest_set *set)
{
	char *s = tg_strdup(""), *next, *o;
	size_t u, i;

	for (u = 0; u < tg_manifest_set_unit_count(set); u++) {
		tg_manifest_unit *unit = tg_manifest_set_unit(set, u);

		next = tg_aprintf("%sunit %s valid=%d images=%zu\n", s,
		                  tg_manifest_unit_name(unit),
		                  tg_manifest_unit_is_valid(unit),
		                  tg_manifest_unit_image_count(unit));
		free(s);
		s = next;
		for (i = 0; i < tg_manifest_unit_object_count(unit); i++) {
			o = describe(tg_manifest_unit_object(unit, i));
			next = tg_aprintf("%s  %s\n", s, o);
			free(o);
			free(s);
			s = next;
		}
		/* a stage is done with the unit: its trees go */
		tg_manifest_unit_drop_trees(unit);
	}
	for (i = 0; i < tg_manifest_set_error_count(set); i++) {
		next = tg_aprintf("%serror %s\n", s,
		                  tg_manifest_set_error(set, i));
		free(s);
		s = next;
	}
	return s;
}

static char *cache_path(void)
{
	return tg_path_join(tt_dir, "manifest-cache");
}

/* A cycle: load the cache, the tree through it, save; the set's text. */
static char *cycle(size_t *hits,
                   size_t *misses,
                   const tg_manifest_options *opts,
                   size_t k,
                   const char *other)
{
	char *path = cache_path(), *s;
	tg_manifest_cache *c = tg_manifest_cache_load(path);
	tg_manifest_set *set = load_tree(opts, c, k, other);

	*hits = tg_manifest_cache_hits(c);
	*misses = tg_manifest_cache_misses(c);
	assert_int_equal(tg_manifest_cache_save(c), 0);
	tg_manifest_cache_free(c);
	s = describe_set(set);
	tg_manifest_set_free(set);
	free(path);
	return s;
}

static char *uncached(const tg_manifest_options *opts, size_t k, const char *o)
{
	tg_manifest_set *set = load_tree(opts, NULL, k, o);
	char *s = describe_set(set);

	tg_manifest_set_free(set);
	return s;
}

static void test_manifest_cache_hit_gives_the_same_objects(void **state)
{
	char *want = uncached(NULL, 99, NULL), *first, *second;
	size_t hits, misses;

	(void)state;
	first = cycle(&hits, &misses, NULL, 99, NULL);
	assert_int_equal(hits, 0);
	assert_int_equal(misses, 5);
	assert_string_equal(first, want);
	second = cycle(&hits, &misses, NULL, 99, NULL);
	assert_int_equal(hits, 5);
	assert_int_equal(misses, 0);
	/* byte for byte what the parse gave: identity, lines, text, images,
	 * pod specs, the Widget made cluster-scoped by the CRD of another
	 * file (its namespace ignored in the identity) */
	assert_string_equal(second, want);
	assert_contains(second, "img /spec/template/spec/volumes/0/image/"
	                        "reference=registry.example.com/m:1");
	assert_contains(second, "\"x\":\"1.50\",\"w\":1.5,\"z\":12345678901234,"
	                        "\"u\":\"\xc3\xa9\"");
	free(want);
	free(first);
	free(second);
}

static void test_manifest_cache_changed_file_is_parsed_again(void **state)
{
	const char *changed = "apiVersion: apps/v1\n"
	                      "kind: Deployment\n"
	                      "metadata: {name: web, namespace: shop}\n"
	                      "spec: {template: {spec: {containers: [{name: a, "
	                      "image: registry.example.com/evil:v9}]}}}\n";
	char *want = uncached(NULL, 2, changed), *got;
	size_t hits, misses;

	(void)state;
	free(cycle(&hits, &misses, NULL, 99, NULL));
	got = cycle(&hits, &misses, NULL, 2, changed);
	assert_int_equal(hits, 4);
	assert_int_equal(misses, 1);
	assert_string_equal(got, want);
	assert_contains(got, "registry.example.com/evil:v9");
	assert_null(strstr(got, "registry.example.com/web:v1"));
	free(got);
	/* and back: the entry of the old bytes is gone with the cycle that
	 * did not use it, so they are parsed again too */
	got = cycle(&hits, &misses, NULL, 99, NULL);
	assert_int_equal(hits, 4);
	assert_int_equal(misses, 1);
	free(got);
	free(want);
}

static void test_manifest_cache_keys_bind_path_and_options(void **state)
{
	const char *const size[] = { "/spec/size" };
	tg_manifest_image_path ip = { "example.com", "Widget", size, 1 };
	tg_manifest_options opts = { &ip, 1, NULL };
	char *want = uncached(&opts, 99, NULL), *got;
	size_t hits, misses;

	(void)state;
	free(cycle(&hits, &misses, NULL, 99, NULL));
	/* the image paths decide what is an image: another salt */
	got = cycle(&hits, &misses, &opts, 99, NULL);
	assert_int_equal(hits, 0);
	assert_int_equal(misses, 5);
	assert_string_equal(got, want);
	free(got);
	free(want);
	/* the same bytes under another path are another file */
	free(cycle(&hits, &misses, NULL, 99, NULL));
	got = cycle(&hits, &misses, NULL, 4, crd_yaml);
	assert_int_equal(misses, 1);
	free(got);
}

/* Rewrite the cache file with f applied to its bytes. */
static void mangle(void (*f)(char *data, size_t *len))
{
	char *path = cache_path(), *data = NULL;
	size_t len = 0;
	FILE *fp;

	assert_int_equal(tg_file_read(&data, &len, path, 1 << 26), 0);
	f(data, &len);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	free(data);
	free(path);
}

/* An image of the deploy file's entry replaced by another of the same
 * length: the digest at the end no longer matches. */
static void swap_image(char *data, size_t *len)
{
	char *p = strstr(data, "registry.example.com/web:v1");

	(void)len;
	assert_non_null(p);
	memcpy(p, "registry.example.com/bad:v1", 27);
}

static void cut_half(char *data, size_t *len)
{
	(void)data;
	*len /= 2;
}

static void test_manifest_cache_tampered_or_torn_is_dropped(void **state)
{
	char *want = uncached(NULL, 99, NULL), *got;
	size_t hits, misses;

	(void)state;
	free(cycle(&hits, &misses, NULL, 99, NULL));
	mangle(swap_image);
	got = cycle(&hits, &misses, NULL, 99, NULL);
	assert_int_equal(hits, 0);
	assert_int_equal(misses, 5);
	assert_string_equal(got, want);
	assert_null(strstr(got, "registry.example.com/bad:v1"));
	free(got);
	/* written anew by that cycle: used again */
	free(cycle(&hits, &misses, NULL, 99, NULL));
	assert_int_equal(hits, 5);
	mangle(cut_half);
	got = cycle(&hits, &misses, NULL, 99, NULL);
	assert_int_equal(hits, 0);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void test_manifest_cache_keeps_no_file_with_a_problem(void **state)
{
	const char *bad =
	        "apiVersion: v1\n"
	        "kind: Pod\n"
	        "metadata: {name: p, namespace: shop}\n"
	        "spec: {containers: [{name: a, image: \"UPPER:/x\"}]}\n";
	char *first, *second;
	size_t hits, misses;

	(void)state;
	first = cycle(&hits, &misses, NULL, 2, bad);
	second = cycle(&hits, &misses, NULL, 2, bad);
	assert_int_equal(hits, 4);
	assert_int_equal(misses, 1);
	assert_string_equal(first, second);
	assert_contains(second, "unit shop valid=0");
	free(first);
	free(second);
}

static void test_manifest_cache_duplicates_found_on_a_hit(void **state)
{
	char *got;
	size_t hits, misses;

	(void)state;
	free(cycle(&hits, &misses, NULL, 99, NULL));
	/* root.yaml holds the Widget of b/ now too: both units fail, though
	 * b/widget.yaml comes from the cache */
	got = cycle(&hits, &misses, NULL, 4, widget_yaml);
	assert_int_equal(hits, 4);
	assert_int_equal(misses, 1);
	assert_contains(got, "unit b valid=0");
	assert_contains(got, "unit _root valid=0");
	assert_contains(got, "(group example.com) is defined twice");
	free(got);
	/* both files from the cache now: found again */
	got = cycle(&hits, &misses, NULL, 4, widget_yaml);
	assert_int_equal(hits, 5);
	assert_contains(got, "unit b valid=0");
	assert_contains(got, "unit _root valid=0");
	free(got);
}

/* A renderer's output through the cache: its objects once per distinct
 * output, named as the unit's renderer, whatever the renderer read. */
static char *rendered_cycle(size_t *hits, const char *out)
{
	char *path = cache_path(), *s;
	tg_manifest_cache *c = tg_manifest_cache_load(path);
	tg_manifest_set *set = NULL;

	assert_int_equal(tg_manifest_set_new(&set, NULL), 0);
	tg_manifest_set_use_cache(set, c);
	tg_manifest_set_skip_unit(set, "shop");
	assert_int_equal(tg_manifest_set_add_rendered(set, "shop", "kustomize",
	                                              out, strlen(out)),
	                 0);
	tg_manifest_set_use_cache(set, NULL);
	*hits = tg_manifest_cache_hits(c);
	assert_int_equal(tg_manifest_cache_save(c), 0);
	tg_manifest_cache_free(c);
	s = describe_set(set);
	tg_manifest_set_free(set);
	free(path);
	return s;
}

static void test_manifest_cache_rendered_output(void **state)
{
	char *first, *second, *third;
	size_t hits;

	(void)state;
	first = rendered_cycle(&hits, deploy_yaml);
	assert_int_equal(hits, 0);
	second = rendered_cycle(&hits, deploy_yaml);
	assert_int_equal(hits, 1);
	assert_string_equal(first, second);
	assert_contains(second, "shop (kustomize):0 apps/v1");
	/* another output (the renderer read other files): parsed */
	third = rendered_cycle(&hits, list_yaml);
	assert_int_equal(hits, 0);
	assert_contains(third, "ConfigMap");
	assert_null(strstr(third, "Deployment"));
	free(first);
	free(second);
	free(third);
}

/* on_image: every image of every object added, told as it is added. */
static void note_image(void *ctx, const char *written)
{
	char **seen = ctx, *next = tg_aprintf("%s%s\n", *seen, written);

	free(*seen);
	*seen = next;
}

static void test_manifest_cache_images_told_parsed_or_cached(void **state)
{
	const char *const want = "registry.example.com/web:v1\n"
	                         "registry.example.com/init:v2\n"
	                         "registry.example.com/m:1\n"
	                         "registry.example.com/job:3\n";
	char *seen = tg_strdup("");
	tg_manifest_set *set = NULL;
	size_t hits, misses, pass;

	(void)state;
	image_sink = &seen;
	for (pass = 0; pass < 2; pass++) {
		/* first parsed, then every file from the cache */
		free(cycle(&hits, &misses, NULL, 99, NULL));
		assert_int_equal(hits, pass ? 5 : 0);
		assert_string_equal(seen, want);
		free(seen);
		seen = tg_strdup("");
	}
	/* a changed file: its new image, the others from the cache */
	free(cycle(&hits, &misses, NULL, 2,
	           "apiVersion: v1\nkind: Pod\nmetadata: {name: p, "
	           "namespace: shop}\nspec: {containers: [{name: a, image: "
	           "registry.example.com/new:1}, {name: b, image: 'bad "
	           "ref!'}]}\n"));
	assert_string_equal(seen, "registry.example.com/new:1\n");
	image_sink = NULL;
	free(seen);

	/* unset: told no more */
	seen = tg_strdup("");
	assert_int_equal(tg_manifest_set_new(&set, NULL), 0);
	tg_manifest_set_on_image(set, note_image, &seen);
	tg_manifest_set_on_image(set, NULL, NULL);
	assert_int_equal(tg_manifest_set_add_file(set, "shop/d.yaml",
	                                          deploy_yaml,
	                                          strlen(deploy_yaml)),
	                 0);
	assert_int_equal(
	        tg_manifest_unit_image_count(tg_manifest_set_unit(set, 0)), 4);
	assert_string_equal(seen, "");
	tg_manifest_set_free(set);
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		        test_manifest_cache_hit_gives_the_same_objects,
		        tt_dir_setup, tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_manifest_cache_changed_file_is_parsed_again,
		        tt_dir_setup, tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_manifest_cache_keys_bind_path_and_options,
		        tt_dir_setup, tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_manifest_cache_tampered_or_torn_is_dropped,
		        tt_dir_setup, tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_manifest_cache_keeps_no_file_with_a_problem,
		        tt_dir_setup, tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_manifest_cache_duplicates_found_on_a_hit,
		        tt_dir_setup, tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_manifest_cache_rendered_output, tt_dir_setup,
		        tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_manifest_cache_images_told_parsed_or_cached,
		        tt_dir_setup, tt_dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
