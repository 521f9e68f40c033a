/*
 * Tests of where the manifest loader finds images (issue 13): pod specs
 * nested anywhere in any kind, image volumes, each image once, pinning
 * what was found, and the image-like fields of kinds tollgate does not
 * know, which block their unit unless imagePaths describes the kind.
 */
#include <stdlib.h>
#include <string.h>

#include "manifest_test.h"
#include "testlib.h"
#include "tollgate/manifest.h"
#include "tollgate/util.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static tg_manifest_set *
load(const tg_manifest_options *opts, const char *path, const char *doc)
{
	tg_manifest_set *set = NULL;

	assert_int_equal(tg_manifest_set_new(&set, opts), 0);
	assert_int_equal(tg_manifest_set_add_file(set, path, doc, strlen(doc)),
	                 0);
	return set;
}

static const char *pointer_of(const tg_manifest_unit *u, size_t i)
{
	return tg_manifest_image_pointer(tg_manifest_unit_image(u, i));
}

/* A Pod's image volume is an image: found, and pinned like a container's. */
static void test_manifest_images_image_volume_found_and_pinned(void **state)
{
	tg_manifest_set *set = load(
	        NULL, "a/pod.yaml",
	        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\n"
	        "spec:\n  containers: [{name: c, image: nginx:1.25}]\n"
	        "  volumes:\n  - name: cfg\n    configMap: {name: x}\n"
	        "  - name: tools\n    image: {reference: "
	        "\"ghcr.io/evil/tools:1\", pullPolicy: Always}\n");
	tg_manifest_unit *u = tg_manifest_set_unit_by_name(set, "a");
	tg_manifest_object *o = tg_manifest_unit_object(u, 0);
	const char *pin = "ghcr.io/evil/tools@sha256:" HEX64;
	json_t *vol;

	(void)state;
	assert_true(tg_manifest_unit_is_valid(u));
	assert_int_equal(tg_manifest_unit_image_count(u), 2);
	assert_string_equal(pointer_of(u, 0), "/spec/containers/0/image");
	assert_string_equal(pointer_of(u, 1),
	                    "/spec/volumes/1/image/reference");
	assert_string_equal(
	        tg_manifest_image_ref(tg_manifest_unit_image(u, 1))->canonical,
	        "ghcr.io/evil/tools:1");
	assert_int_equal(tg_manifest_object_set_image(
	                         o, "/spec/volumes/1/image/reference", pin),
	                 0);
	vol = json_array_get(
	        json_object_get(
	                json_object_get(tg_manifest_object_json(o), "spec"),
	                "volumes"),
	        1);
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(vol, "image"),
	                                          "reference")),
	        pin);
	tg_manifest_set_free(set);

	/* a reference that is no image is an error, like a container's */
	set = load(
	        NULL, "b/pod.yaml",
	        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
	        "spec:\n  template:\n    spec:\n"
	        "      containers: [{name: c, image: nginx}]\n"
	        "      volumes: [{name: v, image: {reference: 7}}]\n");
	u = tg_manifest_set_unit_by_name(set, "b");
	assert_false(tg_manifest_unit_is_valid(u));
	assert_string_equal(tg_manifest_unit_error(u, 0),
	                    "b/pod.yaml:1: Deployment d: "
	                    "/spec/template/spec/volumes/0/image/reference: "
	                    "image is not a string");
	tg_manifest_set_free(set);
}

/* A pod template nested anywhere in a custom kind (Argo Rollouts,
 * Knative, operators) is found without imagePaths, and pinned. */
static void test_manifest_images_nested_pod_spec_in_custom_kind(void **state)
{
	tg_manifest_set *set = load(
	        NULL, "r/app.yaml",
	        "apiVersion: acme.io/v1\nkind: Fleet\nmetadata: {name: f}\n"
	        "spec:\n  groups:\n  - name: g\n    deep:\n      template:\n"
	        "        spec:\n          initContainers: [{name: i, image: "
	        "busybox}]\n          containers: [{name: c, image: "
	        "ghcr.io/acme/app:2}]\n          volumes: [{name: v, image: "
	        "{reference: ghcr.io/acme/data:3}}]\n");
	tg_manifest_unit *u = tg_manifest_set_unit_by_name(set, "r");
	tg_manifest_object *o = tg_manifest_unit_object(u, 0);
	const char *p = "/spec/groups/0/deep/template/spec/containers/0/image";

	(void)state;
	assert_true(tg_manifest_unit_is_valid(u));
	assert_int_equal(tg_manifest_unit_image_count(u), 3);
	assert_string_equal(pointer_of(u, 0), p);
	assert_string_equal(
	        pointer_of(u, 1),
	        "/spec/groups/0/deep/template/spec/initContainers/0/image");
	assert_string_equal(
	        pointer_of(u, 2),
	        "/spec/groups/0/deep/template/spec/volumes/0/image/reference");
	assert_int_equal(tg_manifest_object_set_image(
	                         o, p, "ghcr.io/acme/app@sha256:" HEX64),
	                 0);
	tg_manifest_set_free(set);
}

/* A pod spec named by a built-in and a configured path and found by the
 * walk is read once: each image once, each error once. */
static void test_manifest_images_each_image_once(void **state)
{
	static const char *paths[] = {
		"/spec/template/spec", "/spec/template/spec/containers/0/image"
	};
	const tg_manifest_image_path ip[] = { { "apps", "Deployment", paths,
		                                2 } };
	tg_manifest_options opts = { ip, 1, NULL };
	tg_manifest_set *set = load(
	        &opts, "d/d.yaml",
	        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
	        "spec:\n  template:\n    spec:\n      containers:\n"
	        "      - {name: a, image: nginx}\n      - {name: b, image: "
	        "BAD/Image}\n");
	tg_manifest_unit *u = tg_manifest_set_unit_by_name(set, "d");

	(void)state;
	assert_int_equal(tg_manifest_unit_image_count(u), 1);
	assert_int_equal(tg_manifest_set_image_count(set), 1);
	assert_int_equal(tg_manifest_unit_error_count(u), 1);
	assert_contains(tg_manifest_unit_error(u, 0),
	                "/spec/template/spec/containers/1/image: invalid image "
	                "reference");
	tg_manifest_set_free(set);
}

/* The attack of issue 13: a custom kind with spec.image, not described
 * by imagePaths, blocks its unit with a message naming the field. */
static void test_manifest_images_unknown_kind_image_field_blocks(void **state)
{
	tg_manifest_set *set = load(
	        NULL, "shop/w.yaml",
	        "apiVersion: shop.example.com/v1\nkind: Widget\n"
	        "metadata: {name: w, namespace: shop}\n"
	        "spec:\n  image: ghcr.io/evil/miner:1\n"
	        "  sidecarImage: busybox\n  images: [nginx, 'NOT AN IMAGE']\n"
	        "  imagePullPolicy: Always\n  image_note: nginx\n"
	        "  imageless: {image: {repository: x}}\n");
	tg_manifest_unit *u = tg_manifest_set_unit_by_name(set, "shop");
	char *errs = unit_errors(u);

	(void)state;
	assert_false(tg_manifest_unit_is_valid(u));
	assert_int_equal(tg_manifest_unit_image_count(u), 0);
	assert_int_equal(tg_manifest_unit_error_count(u), 3);
	assert_contains(errs, "shop/w.yaml:1: Widget shop/w: spec.image looks "
	                      "like an image that tollgate cannot place; "
	                      "declare the kind in imagePaths (or waive it)");
	assert_contains(errs, "Widget shop/w: spec.sidecarImage looks like");
	assert_contains(errs, "Widget shop/w: spec.images[0] looks like");
	free(errs);
	tg_manifest_set_free(set);
}

/* A group that merely ends in ".k8s.io" is not Kubernetes' own: anyone
 * may define a CRD there, so its kinds are scanned. */
static void test_manifest_images_lookalike_group_scanned(void **state)
{
	tg_manifest_set *set = load(
	        NULL, "x/x.yaml",
	        "apiVersion: evil.k8s.io/v1\nkind: Job\nmetadata: {name: j}\n"
	        "spec: {image: nginx}\n---\n"
	        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
	        "data: {image: nginx, baseImage: nginx}\n---\n"
	        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: b}\n"
	        "spec: {image: nginx}\n");
	tg_manifest_unit *u = tg_manifest_set_unit_by_name(set, "x");

	(void)state;
	/* only the look-alike group; a ConfigMap's data and a field of a
	 * built-in kind that the API server would not accept are not
	 * images anyone pulls */
	assert_int_equal(tg_manifest_unit_error_count(u), 1);
	assert_contains(tg_manifest_unit_error(u, 0),
	                "x/x.yaml:1: Job j: spec.image looks like an image");
	tg_manifest_set_free(set);
}

/* imagePaths describes the kind: its paths are read, and with paths: []
 * the kind is declared to hold no image elsewhere (the waiver). */
static void test_manifest_images_declared_kind_not_scanned(void **state)
{
	static const char *img[] = { "/spec/image" };
	const tg_manifest_image_path described[] = {
		{ "shop.example.com", "Widget", img, 1 },
		{ NULL, "Gadget", NULL, 0 },
	};
	tg_manifest_options opts = { described, 2, NULL };
	tg_manifest_set *set = load(
	        &opts, "s/w.yaml",
	        "apiVersion: shop.example.com/v1\nkind: Widget\n"
	        "metadata: {name: w}\nspec: {image: nginx, oldImage: redis}\n"
	        "---\napiVersion: shop.example.com/v1\nkind: Gadget\n"
	        "metadata: {name: g}\nspec: {image: nginx}\n---\n"
	        "apiVersion: other.example.com/v1\nkind: Widget\n"
	        "metadata: {name: w}\nspec: {image: nginx}\n");
	tg_manifest_unit *u = tg_manifest_set_unit_by_name(set, "s");

	(void)state;
	assert_int_equal(tg_manifest_unit_image_count(u), 1);
	assert_string_equal(pointer_of(u, 0), "/spec/image");
	/* the Widget of another group is not described */
	assert_int_equal(tg_manifest_unit_error_count(u), 1);
	assert_contains(
	        tg_manifest_unit_error(u, 0),
	        "s/w.yaml:11: Widget w: spec.image looks like an image");
	tg_manifest_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		        test_manifest_images_image_volume_found_and_pinned),
		cmocka_unit_test(
		        test_manifest_images_nested_pod_spec_in_custom_kind),
		cmocka_unit_test(test_manifest_images_each_image_once),
		cmocka_unit_test(
		        test_manifest_images_unknown_kind_image_field_blocks),
		cmocka_unit_test(test_manifest_images_lookalike_group_scanned),
		cmocka_unit_test(
		        test_manifest_images_declared_kind_not_scanned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
