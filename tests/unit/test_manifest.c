/*
 * Tests of the manifest loader: units from paths, objects and their
 * lines, list expansion, image extraction per kind and by configured
 * paths, duplicates, bad files and hostile trees (symlinks out of the
 * tree, loops, FIFOs, oversized files: test_manifest_hostile.c), and pinning
 * images.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest_test.h"
#include "testlib.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/manifest.h"
#include "tollgate/util.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_manifest_builtin_kinds_images(void **state)
{
	tg_manifest_set *set = new_set();
	tg_manifest_unit *u;
	tg_manifest_object *o;
	static const struct {
		size_t obj;
		const char *pointer, *written, *canonical;
	} want[] = {
		{ 0, "/spec/containers/0/image", "nginx:1.25",
		  "docker.io/library/nginx:1.25" },
		{ 0, "/spec/ephemeralContainers/0/image", "busybox",
		  "docker.io/library/busybox:latest" },
		{ 1, "/spec/template/spec/containers/0/image",
		  "ghcr.io/acme/api:2@sha256:" HEX64,
		  "ghcr.io/acme/api:2@sha256:" HEX64 },
		{ 1, "/spec/template/spec/containers/1/image",
		  "127.0.0.1:5000/side", "127.0.0.1:5000/side:latest" },
		{ 1, "/spec/template/spec/initContainers/0/image",
		  "ghcr.io/acme/init:1", "ghcr.io/acme/init:1" },
		{ 2, "/spec/template/spec/containers/0/image", "postgres:16",
		  "docker.io/library/postgres:16" },
		{ 3, "/spec/template/spec/containers/0/image",
		  "quay.io/prometheus/node-exporter:v1.7.0",
		  "quay.io/prometheus/node-exporter:v1.7.0" },
		{ 4, "/spec/template/spec/containers/0/image", "acme/rs",
		  "docker.io/acme/rs:latest" },
		{ 5, "/spec/template/spec/containers/0/image",
		  "localhost:5000/job:7", "localhost:5000/job:7" },
		{ 6, "/spec/jobTemplate/spec/template/spec/containers/0/image",
		  "index.docker.io/acme/cron:3", "docker.io/acme/cron:3" },
		{ 6,
		  "/spec/jobTemplate/spec/template/spec/initContainers/0/image",
		  "busybox:1.36", "docker.io/library/busybox:1.36" },
		{ 8, "/spec/template/spec/containers/0/image",
		  "registry.example.com/custom:1",
		  "registry.example.com/custom:1" },
	};
	size_t i, n = sizeof(want) / sizeof(want[0]);

	(void)state;
	add_data(set, "good/workloads.yaml", "apps/workloads.yaml");
	assert_int_equal(tg_manifest_set_unit_count(set), 1);
	u = tg_manifest_set_unit(set, 0);
	assert_string_equal(tg_manifest_unit_name(u), "apps");
	assert_true(tg_manifest_unit_is_valid(u));
	assert_int_equal(tg_manifest_set_error_count(set), 0);
	assert_int_equal(tg_manifest_unit_object_count(u), 9);
	assert_object(tg_manifest_unit_object(u, 0), "Pod", "ns1", "pod", 2);
	assert_object(tg_manifest_unit_object(u, 1), "Deployment", "ns1",
	              "deploy", 15);
	assert_object(tg_manifest_unit_object(u, 6), "CronJob", "", "cron", 76);
	o = tg_manifest_unit_object(u, 8);
	assert_object(o, "Deployment", "", "custom", 106);
	assert_string_equal(tg_manifest_object_group(o), "example.com");
	/* not a built-in workload, but a pod spec by shape */
	assert_int_equal(tg_manifest_object_image_count(o), 1);
	o = tg_manifest_unit_object(u, 7);
	assert_string_equal(tg_manifest_object_name(o), "no-image");
	assert_int_equal(tg_manifest_object_image_count(o), 0);
	assert_string_equal(tg_manifest_object_file(o), "apps/workloads.yaml");
	assert_string_equal(tg_manifest_object_group(o), "apps");
	assert_string_equal(tg_manifest_object_api_version(o), "apps/v1");

	assert_int_equal(tg_manifest_unit_image_count(u), n);
	for (i = 0; i < n; i++) {
		const tg_manifest_image *img = tg_manifest_unit_image(u, i);

		assert_image(img, want[i].pointer, want[i].written,
		             want[i].canonical);
		assert_ptr_equal(tg_manifest_image_object(img),
		                 tg_manifest_unit_object(u, want[i].obj));
	}
	tg_manifest_set_free(set);
}

static void test_manifest_units_from_paths(void **state)
{
	tg_manifest_set *set = new_set();
	const char *cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
	                 "  name: %s\n";
	static const char *paths[] = { "web/a.yaml", "root.yaml",
		                       "web/deep/er/b.yml", "db/c.yaml",
		                       "another.yml" };
	tg_manifest_unit *u;
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		char *name = tg_aprintf("cm%zu", i);
		char *doc = tg_aprintf(cm, name);

		assert_int_equal(tg_manifest_set_add_file(set, paths[i], doc,
		                                          strlen(doc)),
		                 0);
		free(doc);
		free(name);
	}
	assert_int_equal(tg_manifest_set_unit_count(set), 3);
	assert_string_equal(tg_manifest_unit_name(tg_manifest_set_unit(set, 0)),
	                    TG_MANIFEST_ROOT_UNIT);
	assert_string_equal(tg_manifest_unit_name(tg_manifest_set_unit(set, 1)),
	                    "db");
	assert_string_equal(tg_manifest_unit_name(tg_manifest_set_unit(set, 2)),
	                    "web");
	assert_null(tg_manifest_set_unit(set, 3));
	u = tg_manifest_set_unit_by_name(set, "web");
	assert_int_equal(tg_manifest_unit_object_count(u), 2);
	assert_string_equal(
	        tg_manifest_object_file(tg_manifest_unit_object(u, 1)),
	        "web/deep/er/b.yml");
	u = tg_manifest_set_unit_by_name(set, "_root");
	assert_int_equal(tg_manifest_unit_object_count(u), 2);
	assert_null(tg_manifest_set_unit_by_name(set, "deep"));
	assert_int_equal(tg_manifest_set_object_count(set), 5);
	/* a directory named like the root unit would merge with it */
	add_text(set, "_root/x.yaml",
	         "apiVersion: v1\nkind: ConfigMap\n"
	         "metadata:\n  name: x\n");
	u = tg_manifest_set_unit_by_name(set, "_root");
	assert_int_equal(tg_manifest_unit_object_count(u), 2);
	assert_false(tg_manifest_unit_is_valid(u));
	assert_contains(tg_manifest_unit_error(u, 0),
	                "_root/x.yaml: the directory name \"_root\" is "
	                "reserved");
	tg_manifest_set_free(set);
}

static void test_manifest_lists_expanded_with_item_lines(void **state)
{
	tg_manifest_set *set = new_set();
	tg_manifest_unit *u;
	tg_manifest_object *o;

	(void)state;
	add_data(set, "good/lists.yaml", "lists.yaml");
	u = tg_manifest_set_unit_by_name(set, "_root");
	assert_true(tg_manifest_unit_is_valid(u));
	assert_int_equal(tg_manifest_unit_object_count(u), 4);
	assert_object(tg_manifest_unit_object(u, 0), "ConfigMap", "ns1", "one",
	              5);
	assert_object(tg_manifest_unit_object(u, 1), "ConfigMap", "ns1", "two",
	              13);
	o = tg_manifest_unit_object(u, 2);
	assert_object(o, "Pod", "", "listed-pod", 18);
	assert_int_equal(tg_manifest_object_image_count(o), 1);
	assert_image(tg_manifest_object_image(o, 0), "/spec/containers/0/image",
	             "alpine:3.19", "docker.io/library/alpine:3.19");
	/* an object named like a list but without an items array stays */
	assert_object(tg_manifest_unit_object(u, 3), "AllowList", "", "allow",
	              28);
	/* a list whose kind is spelled with an escape still gets lines */
	add_text(
	        set, "esc.yaml",
	        "# a list\napiVersion: v1\nkind: \"\\x4Cist\"\nitems:\n"
	        "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: e}}\n");
	assert_int_equal(tg_manifest_unit_object_count(u), 5);
	assert_object(tg_manifest_unit_object(u, 4), "ConfigMap", "", "e", 5);
	tg_manifest_set_free(set);
}

static void test_manifest_empty_documents_and_json(void **state)
{
	tg_manifest_set *set = new_set();
	tg_manifest_unit *u;
	tg_manifest_object *o;

	(void)state;
	add_data(set, "good/empty-docs.yaml", "x/empty-docs.yaml");
	add_data(set, "good/deploy.json", "x/deploy.json");
	assert_int_equal(tg_manifest_set_add_file(set, "x/blank.yaml", "", 0),
	                 0);
	u = tg_manifest_set_unit_by_name(set, "x");
	assert_true(tg_manifest_unit_is_valid(u));
	assert_int_equal(tg_manifest_unit_object_count(u), 2);
	assert_object(tg_manifest_unit_object(u, 0), "ConfigMap", "",
	              "after-empty", 5);
	o = tg_manifest_unit_object(u, 1);
	assert_object(o, "Deployment", "ns3", "from-json", 1);
	assert_image(tg_manifest_object_image(o, 0),
	             "/spec/template/spec/containers/0/image",
	             "mcr.microsoft.com/dotnet/aspnet:8.0",
	             "mcr.microsoft.com/dotnet/aspnet:8.0");
	tg_manifest_set_free(set);
}

static void test_manifest_configured_image_paths(void **state)
{
	static const char *rollout[] = { "/spec/template/spec" };
	static const char *task[] = { "/spec/steps/*/image" };
	static const char *fn[] = { "/spec/image", "/spec/missing/image" };
	const tg_manifest_image_path paths[] = {
		{ "argoproj.io", "Rollout", rollout, 1 },
		{ "tekton.dev", "Task", task, 1 },
		{ NULL, "Function", fn, 2 },
	};
	tg_manifest_options opts = { paths, 3, NULL };
	tg_manifest_set *set = NULL;
	tg_manifest_unit *u;
	char *errs;

	(void)state;
	assert_int_equal(tg_manifest_set_new(&set, &opts), 0);
	add_data(set, "good/custom.yaml", "ci/custom.yaml");
	u = tg_manifest_set_unit_by_name(set, "ci");
	assert_true(tg_manifest_unit_is_valid(u));
	assert_int_equal(tg_manifest_unit_image_count(u), 4);
	assert_image(tg_manifest_unit_image(u, 0),
	             "/spec/template/spec/containers/0/image",
	             "ghcr.io/acme/rollout:1.0", "ghcr.io/acme/rollout:1.0");
	assert_image(tg_manifest_unit_image(u, 1), "/spec/steps/0/image",
	             "gcr.io/tekton-releases/git-init:v0.50.0",
	             "gcr.io/tekton-releases/git-init:v0.50.0");
	assert_image(tg_manifest_unit_image(u, 2), "/spec/steps/1/image",
	             "gcr.io/kaniko-project/executor:v1.21.0",
	             "gcr.io/kaniko-project/executor:v1.21.0");
	assert_image(tg_manifest_unit_image(u, 3), "/spec/image",
	             "registry.example.com/fn/hello:2",
	             "registry.example.com/fn/hello:2");
	tg_manifest_set_free(set);

	/* a group with a '/' is a whole apiVersion: only that version */
	{
		static const char *any[] = { "/spec/template/spec" };
		const tg_manifest_image_path v[] = {
			{ "argoproj.io/v1alpha1", "Rollout", any, 1 },
			{ "tekton.dev/v1beta1", "Task", task, 1 },
		};
		tg_manifest_options vo = { v, 2, NULL };

		assert_int_equal(tg_manifest_set_new(&set, &vo), 0);
		add_data(set, "good/custom.yaml", "ci/custom.yaml");
		u = tg_manifest_set_unit_by_name(set, "ci");
		assert_int_equal(tg_manifest_unit_image_count(u), 1);
		assert_string_equal(
		        tg_manifest_image_written(tg_manifest_unit_image(u, 0)),
		        "ghcr.io/acme/rollout:1.0");
		tg_manifest_set_free(set);
	}

	/* without the configuration (issue 13): the Rollout's pod spec is
	 * still found by shape; the image fields of Task and Function
	 * cannot be placed and block the unit */
	set = new_set();
	add_data(set, "good/custom.yaml", "ci/custom.yaml");
	u = tg_manifest_set_unit_by_name(set, "ci");
	assert_int_equal(tg_manifest_unit_object_count(u), 3);
	assert_int_equal(tg_manifest_unit_image_count(u), 1);
	assert_false(tg_manifest_unit_is_valid(u));
	assert_int_equal(tg_manifest_unit_error_count(u), 3);
	errs = unit_errors(u);
	assert_contains(errs, "ci/custom.yaml:14: Task build: "
	                      "spec.steps[1].image looks like an image that "
	                      "tollgate cannot place; declare the kind in "
	                      "imagePaths (or waive it)");
	assert_contains(errs, "ci/custom.yaml:26: Function fn: spec.image "
	                      "looks like an image that tollgate cannot place");
	free(errs);
	tg_manifest_set_free(set);
}

static void test_manifest_rejects_bad_image_path_config(void **state)
{
	static const char *rel[] = { "spec/image" };
	static const char *tilde[] = { "/spec/a~2b" };
	tg_manifest_image_path p = { NULL, "Thing", rel, 1 };
	tg_manifest_options opts = { &p, 1, NULL };
	tg_manifest_set *set = NULL;

	(void)state;
	assert_int_equal(tg_manifest_set_new(&set, &opts), TG_EINVALID);
	assert_null(set);
	assert_contains(tg_error_last(), "must start with '/'");
	assert_contains(tg_error_last(), "kind Thing");
	p.paths = tilde;
	assert_int_equal(tg_manifest_set_new(&set, &opts), TG_EINVALID);
	assert_contains(tg_error_last(), "'~' must be followed by 0 or 1");
	p.kind = NULL;
	assert_int_equal(tg_manifest_set_new(&set, &opts), TG_EINVALID);
	assert_contains(tg_error_last(), "kind is missing");
}

static void test_manifest_wildcard_member_pointer_escaped(void **state)
{
	static const char *ptr[] = { "/spec/images/*", "/spec/count" };
	const tg_manifest_image_path p = { "example.com", "Bundle", ptr, 2 };
	tg_manifest_options opts = { &p, 1, "deploy" };
	const char *doc = "apiVersion: example.com/v1\nkind: Bundle\n"
	                  "metadata: {name: b}\n"
	                  "spec:\n  count: 3\n  images:\n"
	                  "    a/b~c: nginx:1\n";
	tg_manifest_set *set = NULL;
	tg_manifest_unit *u;
	tg_manifest_object *o;
	json_t *v;

	(void)state;
	assert_int_equal(tg_manifest_set_new(&set, &opts), 0);
	assert_int_equal(
	        tg_manifest_set_add_file(set, "u/b.yaml", doc, strlen(doc)), 0);
	u = tg_manifest_set_unit_by_name(set, "u");
	o = tg_manifest_unit_object(u, 0);
	assert_int_equal(tg_manifest_object_image_count(o), 1);
	assert_string_equal(
	        tg_manifest_image_pointer(tg_manifest_object_image(o, 0)),
	        "/spec/images/a~1b~0c");
	/* a configured path that leads to a number is an error */
	assert_false(tg_manifest_unit_is_valid(u));
	assert_int_equal(tg_manifest_unit_error_count(u), 1);
	assert_contains(tg_manifest_unit_error(u, 0),
	                "deploy/u/b.yaml:1: Bundle b: /spec/count: expected a "
	                "pod spec or an image string");
	assert_int_equal(tg_manifest_object_set_image(o, "/spec/images/a~1b~0c",
	                                              "nginx:2"),
	                 0);
	v = json_object_get(json_object_get(tg_manifest_object_json(o), "spec"),
	                    "images");
	assert_string_equal(json_string_value(json_object_get(v, "a/b~c")),
	                    "nginx:2");
	tg_manifest_set_free(set);
}

static void test_manifest_missing_fields_reported(void **state)
{
	tg_manifest_set *set = new_set();
	tg_manifest_unit *u;
	char *errs;

	(void)state;
	add_data(set, "bad/fields.yaml", "cfg/fields.yaml");
	u = tg_manifest_set_unit_by_name(set, "cfg");
	assert_false(tg_manifest_unit_is_valid(u));
	assert_int_equal(tg_manifest_unit_object_count(u), 1);
	assert_string_equal(
	        tg_manifest_object_name(tg_manifest_unit_object(u, 0)), "fine");
	assert_int_equal(tg_manifest_unit_error_count(u), 12);
	errs = unit_errors(u);
	assert_contains(errs, "cfg/fields.yaml:6: apiVersion is missing");
	assert_contains(errs, "cfg/fields.yaml:10: kind is missing");
	assert_contains(errs, "cfg/fields.yaml:14: metadata is missing");
	assert_contains(errs, "cfg/fields.yaml:17: metadata.name is missing");
	assert_contains(errs, "cfg/fields.yaml:22: metadata.name is not a "
	                      "string");
	assert_contains(errs, "cfg/fields.yaml:27: metadata.namespace is not "
	                      "a string");
	assert_contains(errs, "cfg/fields.yaml:33: metadata.name may not "
	                      "contain '/' or '%'");
	assert_contains(errs, "cfg/fields.yaml:38: metadata.name may not be "
	                      "\".\" or \"..\"");
	assert_contains(errs, "cfg/fields.yaml:43: apiVersion is not "
	                      "\"group/version\" or \"version\"");
	assert_contains(errs, "cfg/fields.yaml:48: kind is empty");
	assert_contains(errs, "cfg/fields.yaml:53: document 12 is not a "
	                      "mapping");
	assert_contains(errs, "document 13 is not a mapping");
	assert_int_equal(tg_manifest_set_error_count(set), 12);
	free(errs);
	tg_manifest_set_free(set);
}

static void test_manifest_duplicates_name_both_files(void **state)
{
	tg_manifest_set *set = new_set();
	const char *cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
	                 "  name: c\n  namespace: ns1\n";
	tg_manifest_unit *a, *b, *c;

	(void)state;
	add_text(set, "a/x.yaml", cm);
	add_text(set, "b/y.yaml", "# comment\n---\n");
	add_text(set, "b/y2.yaml", cm);
	/* same name in another namespace, group or kind: distinct */
	add_text(set, "c/ok.yaml",
	         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
	         "  namespace: ns2\n---\n"
	         "apiVersion: example.com/v1\nkind: ConfigMap\nmetadata:\n"
	         "  name: c\n  namespace: ns1\n---\n"
	         "apiVersion: v1\nkind: Secret\nmetadata:\n  name: c\n"
	         "  namespace: ns1\n---\n"
	         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
	a = tg_manifest_set_unit_by_name(set, "a");
	b = tg_manifest_set_unit_by_name(set, "b");
	c = tg_manifest_set_unit_by_name(set, "c");
	assert_true(tg_manifest_unit_is_valid(c));
	assert_int_equal(tg_manifest_unit_object_count(c), 4);
	assert_false(tg_manifest_unit_is_valid(a));
	assert_false(tg_manifest_unit_is_valid(b));
	assert_string_equal(tg_manifest_unit_error(b, 0),
	                    "b/y2.yaml:1: ConfigMap ns1/c is defined twice: "
	                    "also at a/x.yaml:1");
	assert_string_equal(tg_manifest_unit_error(a, 0),
	                    "a/x.yaml:1: ConfigMap ns1/c is defined twice: "
	                    "also at b/y2.yaml:1");
	tg_manifest_set_free(set);

	/* twice in one unit: one error, naming both lines */
	set = new_set();
	add_text(set, "d/z.yaml",
	         "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
	         "  name: w\n---\napiVersion: apps/v1\nkind: Deployment\n"
	         "metadata:\n  name: w\n");
	a = tg_manifest_set_unit_by_name(set, "d");
	assert_int_equal(tg_manifest_unit_error_count(a), 1);
	assert_string_equal(tg_manifest_unit_error(a, 0),
	                    "d/z.yaml:6: Deployment w (group apps) is defined "
	                    "twice: also at d/z.yaml:1");
	tg_manifest_set_free(set);
}

/* Regression (issue 13): duplicates are compared after namespace
 * defaulting, as kubectl applies: no namespace is "default" for a
 * namespaced (or unknown) kind, and nothing for a cluster-scoped one
 * (built-in, or a CRD of the set with scope Cluster). Both orders. */
static void test_manifest_duplicates_after_namespace_defaulting(void **state)
{
	static const char *plain = "apiVersion: v1\nkind: ConfigMap\n"
	                           "metadata: {name: c}\n";
	static const char *dflt = "apiVersion: v1\nkind: ConfigMap\n"
	                          "metadata: {name: c, namespace: default}\n";
	const char *order[2][2] = { { plain, dflt }, { dflt, plain } };
	tg_manifest_set *set;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		set = new_set();
		add_text(set, "a/cm.yaml", order[i][0]);
		add_text(set, "b/cm.yaml", order[i][1]);
		assert_false(tg_manifest_unit_is_valid(
		        tg_manifest_set_unit_by_name(set, "a")));
		assert_contains(
		        tg_manifest_unit_error(
		                tg_manifest_set_unit_by_name(set, "b"), 0),
		        "b/cm.yaml:1: ConfigMap ");
		assert_contains(
		        tg_manifest_unit_error(
		                tg_manifest_set_unit_by_name(set, "b"), 0),
		        "is defined twice: also at a/cm.yaml:1");
		tg_manifest_set_free(set);
	}
	/* cluster-scoped: a namespace written on it changes nothing; an
	 * unknown kind is namespaced; a CRD with scope Cluster makes its
	 * kind cluster-scoped */
	set = new_set();
	add_text(set, "c/x.yaml",
	         "apiVersion: rbac.authorization.k8s.io/v1\n"
	         "kind: ClusterRole\nmetadata: {name: r, namespace: x}\n---\n"
	         "apiVersion: acme.io/v1\nkind: Widget\nmetadata: {name: w}\n"
	         "---\napiVersion: apiextensions.k8s.io/v1\n"
	         "kind: CustomResourceDefinition\nmetadata: {name: "
	         "gadgets.acme.io}\nspec: {group: acme.io, scope: Cluster, "
	         "names: {kind: Gadget}}\n---\n"
	         "apiVersion: acme.io/v1\nkind: Gadget\nmetadata: {name: g}\n");
	add_text(set, "d/x.yaml",
	         "apiVersion: rbac.authorization.k8s.io/v1\n"
	         "kind: ClusterRole\nmetadata: {name: r}\n---\n"
	         "apiVersion: acme.io/v1\nkind: Widget\nmetadata: {name: w, "
	         "namespace: default}\n---\n"
	         "apiVersion: acme.io/v1\nkind: Widget\nmetadata: {name: w, "
	         "namespace: other}\n---\n"
	         "apiVersion: acme.io/v1\nkind: Gadget\nmetadata: {name: g, "
	         "namespace: ns9}\n");
	assert_int_equal(tg_manifest_unit_error_count(
	                         tg_manifest_set_unit_by_name(set, "d")),
	                 3);
	assert_contains(tg_manifest_unit_error(
	                        tg_manifest_set_unit_by_name(set, "d"), 0),
	                "d/x.yaml:1: ClusterRole r");
	assert_contains(tg_manifest_unit_error(
	                        tg_manifest_set_unit_by_name(set, "d"), 1),
	                "d/x.yaml:5: Widget default/w");
	assert_contains(tg_manifest_unit_error(
	                        tg_manifest_set_unit_by_name(set, "d"), 2),
	                "d/x.yaml:13: Gadget ns9/g");
	tg_manifest_set_free(set);
}

/* Issue 13: the scope of a kind whose CRD is in the set decides, wherever
 * the CRD is (here in a later file than its objects): a cluster-scoped
 * Gadget written with namespaces ns1 and ns2 is one object (defined
 * twice), never "default"; a namespaced Widget of a CRD in the set is
 * defaulted to default (a duplicate of default/w, not of other/w). */
static void test_manifest_crd_scope_in_any_order(void **state)
{
	static const char *crds =
	        "apiVersion: apiextensions.k8s.io/v1\n"
	        "kind: CustomResourceDefinition\nmetadata: {name: "
	        "gadgets.acme.io}\nspec: {group: acme.io, scope: Cluster, "
	        "names: {kind: Gadget}}\n---\n"
	        "apiVersion: apiextensions.k8s.io/v1\n"
	        "kind: CustomResourceDefinition\nmetadata: {name: "
	        "widgets.acme.io}\nspec: {group: acme.io, scope: Namespaced, "
	        "names: {kind: Widget}}\n";
	tg_manifest_set *set = new_set();
	const tg_manifest_unit *a, *b, *z;

	(void)state;
	add_text(set, "a/x.yaml",
	         "apiVersion: acme.io/v1\nkind: Gadget\nmetadata: {name: g, "
	         "namespace: ns1}\n---\n"
	         "apiVersion: acme.io/v1\nkind: Widget\nmetadata: {name: w}\n"
	         "---\napiVersion: acme.io/v1\nkind: Gadget\nmetadata: "
	         "{name: solo}\n");
	add_text(set, "b/x.yaml",
	         "apiVersion: acme.io/v1\nkind: Gadget\nmetadata: {name: g, "
	         "namespace: ns2}\n---\n"
	         "apiVersion: acme.io/v1\nkind: Widget\nmetadata: {name: w, "
	         "namespace: other}\n---\n"
	         "apiVersion: acme.io/v1\nkind: Widget\nmetadata: {name: w, "
	         "namespace: default}\n");
	add_text(set, "z/crds.yaml", crds);
	a = tg_manifest_set_unit_by_name(set, "a");
	b = tg_manifest_set_unit_by_name(set, "b");
	z = tg_manifest_set_unit_by_name(set, "z");
	assert_true(tg_manifest_unit_is_valid(z));
	/* b: the Widget in default (a's Widget has no namespace), and,
	 * once the CRD is read, the Gadget g */
	assert_int_equal(tg_manifest_unit_error_count(b), 2);
	assert_contains(tg_manifest_unit_error(b, 0),
	                "b/x.yaml:9: Widget default/w (group acme.io) is "
	                "defined twice: also at a/x.yaml:5");
	assert_contains(tg_manifest_unit_error(b, 1),
	                "b/x.yaml:1: Gadget ns2/g (group acme.io) is defined "
	                "twice: also at a/x.yaml:1");
	assert_int_equal(tg_manifest_unit_error_count(a), 2);
	/* The Gadget without namespace is left as written (not default). */
	assert_string_equal(
	        tg_manifest_object_namespace(tg_manifest_unit_object(a, 2)),
	        "");
	tg_manifest_set_free(set);
}

static void test_manifest_set_image_pins(void **state)
{
	tg_manifest_set *set = new_set();
	tg_manifest_object *o;
	tg_manifest_image *img;
	const char *pinned =
	        "mcr.microsoft.com/dotnet/aspnet:8.0@sha256:" HEX64;
	json_t *c;

	(void)state;
	add_data(set, "good/deploy.json", "x/deploy.json");
	o = tg_manifest_unit_object(tg_manifest_set_unit(set, 0), 0);
	img = tg_manifest_object_image(o, 0);
	assert_int_equal(tg_manifest_object_set_image(
	                         o, tg_manifest_image_pointer(img), pinned),
	                 0);
	c = json_array_get(
	        json_object_get(
	                json_object_get(
	                        json_object_get(
	                                json_object_get(
	                                        tg_manifest_object_json(o),
	                                        "spec"),
	                                "template"),
	                        "spec"),
	                "containers"),
	        0);
	assert_string_equal(json_string_value(json_object_get(c, "image")),
	                    pinned);
	/* what was written in Git is kept for status and messages */
	assert_string_equal(tg_manifest_image_written(img),
	                    "mcr.microsoft.com/dotnet/aspnet:8.0");
	assert_int_equal(
	        tg_manifest_object_set_image(o, "/spec/replicas", pinned),
	        TG_ENOTFOUND);
	assert_contains(tg_error_last(), "no image at /spec/replicas");
	assert_int_equal(tg_manifest_object_set_image(
	                         o, tg_manifest_image_pointer(img), "Bad Ref"),
	                 TG_EPARSE);
	assert_string_equal(json_string_value(json_object_get(c, "image")),
	                    pinned);
	tg_manifest_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_builtin_kinds_images),
		cmocka_unit_test(test_manifest_units_from_paths),
		cmocka_unit_test(test_manifest_lists_expanded_with_item_lines),
		cmocka_unit_test(test_manifest_empty_documents_and_json),
		cmocka_unit_test(test_manifest_configured_image_paths),
		cmocka_unit_test(test_manifest_rejects_bad_image_path_config),
		cmocka_unit_test(test_manifest_wildcard_member_pointer_escaped),
		cmocka_unit_test(test_manifest_missing_fields_reported),
		cmocka_unit_test(test_manifest_duplicates_name_both_files),
		cmocka_unit_test(
		        test_manifest_duplicates_after_namespace_defaulting),
		cmocka_unit_test(test_manifest_crd_scope_in_any_order),
		cmocka_unit_test(test_manifest_set_image_pins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
