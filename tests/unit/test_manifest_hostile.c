/*
 * Tests of the manifest loader on hostile and bad input: hostile objects,
 * bad images, YAML errors and bad files, deep lists, Secret values never
 * quoted; reading a directory: which paths are wanted, unsafe paths, the
 * file size limit, a tree with symlinks out of it, loops and FIFOs; mutated
 * inputs, and the example repository.
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

static void test_manifest_hostile_objects(void **state)
{
	tg_manifest_set *set = new_set();
	tg_manifest_unit *u;
	tg_buf b;
	char *errs, *doc;
	size_t i;

	(void)state;
	add_text(set, "h/names.yaml",
	         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
	         "  name: \"a\\u0007b\"\n---\n"
	         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
	         "  name: ok\n  namespace: \"a%2fb\"\n---\n"
	         "apiVersion: v1\nkind: Pod\nmetadata:\n"
	         "  generateName: web-\n---\n"
	         "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
	         "spec: {containers: [{image: \"nginx\\ttab\"}]}\n");
	u = tg_manifest_set_unit_by_name(set, "h");
	errs = unit_errors(u);
	assert_int_equal(tg_manifest_unit_error_count(u), 4);
	assert_contains(errs, "h/names.yaml:1: metadata.name may not contain "
	                      "control characters");
	assert_contains(errs, "h/names.yaml:6: metadata.namespace may not "
	                      "contain '/' or '%'");
	assert_contains(errs, "h/names.yaml:12: metadata.name is missing "
	                      "(generateName cannot be used with apply");
	assert_contains(errs, "h/names.yaml:17: Pod p: "
	                      "/spec/containers/0/image: invalid image "
	                      "reference \"nginx?tab\": contains whitespace");
	free(errs);

	/* more documents than TG_MAX_YAML_DOCUMENTS: the file is refused */
	tg_buf_init(&b, 64u * 1024 * 1024);
	for (i = 0; i <= TG_MAX_YAML_DOCUMENTS; i++)
		assert_int_equal(tg_buf_puts(&b,
		                             "---\n{apiVersion: v1, kind: X, "
		                             "metadata: {name: x}}\n"),
		                 0);
	doc = tg_buf_detach(NULL, &b);
	add_text(set, "many/docs.yaml", doc);
	free(doc);
	u = tg_manifest_set_unit_by_name(set, "many");
	assert_false(tg_manifest_unit_is_valid(u));
	assert_int_equal(tg_manifest_unit_object_count(u), 0);
	assert_contains(tg_manifest_unit_error(u, 0), "many/docs.yaml");
	tg_manifest_set_free(set);
}

static void test_manifest_bad_images_reported(void **state)
{
	tg_manifest_set *set = new_set();
	tg_manifest_unit *u;
	char *errs;

	(void)state;
	add_data(set, "bad/images.yaml", "w/images.yaml");
	add_data(set, "good/deploy.json", "other/deploy.json");
	u = tg_manifest_set_unit_by_name(set, "w");
	assert_false(tg_manifest_unit_is_valid(u));
	assert_int_equal(tg_manifest_unit_object_count(u), 5);
	/* the valid image next to the bad one is still found */
	assert_int_equal(tg_manifest_unit_image_count(u), 1);
	assert_image(tg_manifest_unit_image(u, 0),
	             "/spec/template/spec/containers/1/image", "nginx:1.25",
	             "docker.io/library/nginx:1.25");
	assert_int_equal(tg_manifest_unit_error_count(u), 5);
	errs = unit_errors(u);
	assert_contains(errs, "w/images.yaml:1: Deployment upper: "
	                      "/spec/template/spec/containers/0/image: invalid "
	                      "image reference \"ghcr.io/Acme/API:1\": "
	                      "uppercase letters in repository name");
	assert_contains(errs,
	                "w/images.yaml:14: Pod not-string: "
	                "/spec/containers/0/image: image is not a string");
	assert_contains(errs, "Pod not-list: /spec/containers: not a list of "
	                      "containers");
	assert_contains(errs, "Pod not-mapping: /spec/containers/0: container "
	                      "is not a mapping");
	assert_contains(errs, "Job bad-digest: "
	                      "/spec/template/spec/containers/0/image: invalid "
	                      "image reference");
	assert_contains(errs, "unsupported digest algorithm \"sha384\"");
	free(errs);
	/* another unit is not affected */
	assert_true(tg_manifest_unit_is_valid(
	        tg_manifest_set_unit_by_name(set, "other")));
	tg_manifest_set_free(set);
}

/* Regression (issue 13, found by fuzzing): a key 1e39 in a manifest
 * crashed the YAML key formatter and with it every unit's cycle. It is
 * the key ".inf" (as kubectl reads it); the object loads. */
static void test_manifest_float_key_overflow_loads(void **state)
{
	tg_manifest_set *set = new_set();
	tg_manifest_unit *u;
	json_t *data;

	(void)state;
	add_text(set, "a/cm.yaml",
	         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
	         "data:\n  1e39: x\n  -1e39: z\n");
	u = tg_manifest_set_unit_by_name(set, "a");
	assert_true(tg_manifest_unit_is_valid(u));
	data = json_object_get(
	        tg_manifest_object_json(tg_manifest_unit_object(u, 0)), "data");
	assert_string_equal(json_string_value(json_object_get(data, ".inf")),
	                    "x");
	assert_string_equal(json_string_value(json_object_get(data, "-.inf")),
	                    "z");
	tg_manifest_set_free(set);
}

/* Regression (issue 13): a Secret value written as !!binary that is not
 * base64 was quoted in the parse error, which lands in status.json, the
 * unit reports and `tollgate once`. The message names the key only. */
static void test_manifest_secret_value_never_quoted(void **state)
{
	tg_manifest_set *set = new_set();
	tg_manifest_unit *u;
	char *errs;

	(void)state;
	add_text(set, "s/secret.yaml",
	         "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\n"
	         "data:\n  password: !!binary \"s3cr3t-Hunter2!\"\n---\n"
	         "apiVersion: v1\nkind: Secret\nmetadata: {name: db2}\n"
	         "stringData:\n  token: !!int opensesame-9f8e\n");
	u = tg_manifest_set_unit_by_name(set, "s");
	assert_false(tg_manifest_unit_is_valid(u));
	errs = unit_errors(u);
	assert_contains(errs, "s/secret.yaml:5:13: a value of 15 bytes is not "
	                      "a valid !!binary (base64) (the value is not "
	                      "shown); key \"password\"");
	assert_null(strstr(errs, "s3cr3t"));
	assert_null(strstr(errs, "Hunter2"));
	free(errs);
	tg_manifest_set_free(set);

	set = new_set();
	add_text(set, "t/secret.yaml",
	         "apiVersion: v1\nkind: Secret\nmetadata: {name: db2}\n"
	         "stringData:\n  token: !!int opensesame-9f8e\n");
	errs = unit_errors(tg_manifest_set_unit_by_name(set, "t"));
	assert_contains(errs, "key \"token\"");
	assert_null(strstr(errs, "opensesame"));
	free(errs);
	tg_manifest_set_free(set);
}

static void test_manifest_yaml_errors_block_only_their_unit(void **state)
{
	static const char *files[] = { "syntax.yaml", "duplicate-keys.yaml",
		                       "billion-laughs.yaml" };
	tg_manifest_set *set = new_set();
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		char *rel = tg_aprintf("bad/%s", files[i]);
		char *as = tg_aprintf("u%zu/%s", i, files[i]);
		tg_manifest_unit *u;

		add_data(set, rel, as);
		u = tg_manifest_set_unit(set, i);
		assert_false(tg_manifest_unit_is_valid(u));
		assert_int_equal(tg_manifest_unit_object_count(u), 0);
		assert_int_equal(tg_manifest_unit_error_count(u), 1);
		/* the message names the file (and the parser's line) */
		assert_contains(tg_manifest_unit_error(u, 0), as);
		free(rel);
		free(as);
	}
	add_data(set, "good/deploy.json", "z/deploy.json");
	assert_true(tg_manifest_unit_is_valid(
	        tg_manifest_set_unit_by_name(set, "z")));
	assert_int_equal(tg_manifest_set_error_count(set), 3);
	tg_manifest_set_free(set);
}

/* One file of tests/data/manifests/bad: loading it succeeds (0), its
 * unit is invalid and an error of it says what its first line states. */
static void check_bad_manifest(const tt_bad_case *c, void *ctx)
{
	tg_manifest_set *set = new_set();
	char *as = tg_aprintf("u/%s", c->name);
	tg_manifest_unit *u;
	char *errs;

	(void)ctx;
	assert_int_equal(
	        tg_manifest_set_add_file(set, as, c->input, c->input_len), 0);
	u = tg_manifest_set_unit_by_name(set, "u");
	assert_non_null(u);
	assert_false(tg_manifest_unit_is_valid(u));
	errs = unit_errors(u);
	assert_contains(errs, c->expected);
	free(errs);
	free(as);
	tg_manifest_set_free(set);
}

static void test_manifest_bad_cases(void **state)
{
	(void)state;
	assert_true(tt_each_bad_case("tests/data/manifests/bad", ".yaml",
	                             check_bad_manifest, NULL) >= 7);
}

static void test_manifest_deep_lists_refused(void **state)
{
	tg_manifest_set *set = new_set();
	tg_manifest_unit *u;

	(void)state;
	add_data(set, "bad/deep-lists.yaml", "deep-lists.yaml");
	u = tg_manifest_set_unit(set, 0);
	assert_false(tg_manifest_unit_is_valid(u));
	assert_int_equal(tg_manifest_unit_object_count(u), 0);
	assert_contains(tg_manifest_unit_error(u, 0),
	                "deep-lists.yaml:1: lists nested more than 4 deep");
	tg_manifest_set_free(set);
}

static void test_manifest_path_wanted(void **state)
{
	(void)state;
	assert_true(tg_manifest_path_wanted("a.yaml"));
	assert_true(tg_manifest_path_wanted("web/a.yml"));
	assert_true(tg_manifest_path_wanted("web/deep/a.json"));
	assert_false(tg_manifest_path_wanted("web/a.yaml.bak"));
	assert_false(tg_manifest_path_wanted("README.md"));
	assert_false(tg_manifest_path_wanted(".a.yaml"));
	assert_false(tg_manifest_path_wanted("web/.hidden/a.yaml"));
	assert_false(tg_manifest_path_wanted(".github/workflows/ci.yml"));
	assert_false(tg_manifest_path_wanted("kustomization.YAML"));
}

static void test_manifest_rejects_unsafe_paths(void **state)
{
	static const char *bad[] = { "../x.yaml",  "/etc/x.yaml",
		                     "a//b.yaml",  "",
		                     "a/./b.yaml", "a/../../b.yaml" };
	tg_manifest_set *set = new_set();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tg_manifest_set_add_file(set, bad[i], "", 0),
		                 TG_EINVALID);
		assert_contains(tg_error_last(), "not a safe relative path");
	}
	assert_int_equal(tg_manifest_set_unit_count(set), 0);
	tg_manifest_set_free(set);
}

static void test_manifest_file_limit(void **state)
{
	tg_manifest_set *set = new_set();
	char path[32];
	size_t i;

	(void)state;
	for (i = 0; i < TG_MAX_TREE_FILES; i++) {
		snprintf(path, sizeof(path), "f%zu.yaml", i);
		assert_int_equal(tg_manifest_set_add_file(set, path, "", 0), 0);
	}
	assert_int_equal(tg_manifest_set_add_file(set, "u/last.yaml", "", 0),
	                 TG_ETOOBIG);
	assert_int_equal(tg_manifest_set_add_file(set, "u/more.yaml", "", 0),
	                 TG_ETOOBIG);
	assert_int_equal(tg_manifest_set_error_count(set), 1);
	assert_contains(tg_manifest_set_error(set, 0),
	                "u/last.yaml: more than 50000 manifest files");
	tg_manifest_set_free(set);
}

/* Write a ConfigMap named name (or the given text when it has a ':'). */
static void write_cm(const char *root, const char *rel, const char *name)
{
	char *f = tg_aprintf("%s/%s", root, rel);
	char *d = strchr(name, ':') ? tg_strdup(name)
	                            : tg_aprintf("apiVersion: v1\nkind: "
	                                         "ConfigMap\nmetadata:\n"
	                                         "  name: %s\n",
	                                         name);

	tt_write_file(f, d);
	free(f);
	free(d);
}

static void link_at(const char *root, const char *rel, const char *target)
{
	char *f = tg_aprintf("%s/%s", root, rel);

	assert_int_equal(symlink(target, f), 0);
	free(f);
}

/* A tree with what a hostile pusher could put in it; outside holds a
 * manifest the tree links to. */
static void make_hostile_tree(const char *root, const char *outside)
{
	char *p;
	int fd;

	write_cm(outside, "secret.yaml", "stolen");
	write_cm(root, "top.yaml", "top");
	write_cm(root, "web/a.yaml", "web-a");
	write_cm(root, "web/nested/b.json",
	         "{\"apiVersion\":\"v1\",\"kind\":\"X\"}");
	write_cm(root, "web/README.md", "not: [yaml");
	write_cm(root, "web/.hidden.yaml", "not: [yaml");
	write_cm(root, ".git/config.yaml", "not: [yaml");
	write_cm(root, "web/.cache/c.yaml", "not: [yaml");
	write_cm(root, "shared-src/base.yaml", "base");
	/* links out of the tree, to a file and to a directory */
	p = tg_aprintf("%s/secret.yaml", outside);
	link_at(root, "web/evil.yaml", p);
	free(p);
	link_at(root, "db", outside);
	/* links inside the tree are followed, once */
	link_at(root, "web/base-link.yaml", "../shared-src/base.yaml");
	link_at(root, "web/loop", "..");
	/* dangling: an error only when it looks like a manifest */
	link_at(root, "web/dangling.yaml", "nowhere.yaml");
	link_at(root, "web/dangling.txt", "nowhere.txt");
	p = tg_aprintf("%s/web/fifo.yaml", root);
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	p = tg_aprintf("%s/big/huge.yaml", root);
	tt_write_file(p, "");
	fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)TG_MAX_FILE_BYTES + 1), 0);
	close(fd);
	free(p);
}

static char *set_errors(const tg_manifest_set *set)
{
	char *all = tg_strdup(""), *next;
	size_t i;

	for (i = 0; i < tg_manifest_set_error_count(set); i++) {
		next = tg_aprintf("%s%s\n", all, tg_manifest_set_error(set, i));
		free(all);
		all = next;
	}
	return all;
}

static void test_manifest_dir_walk_hostile_tree(void **state)
{
	char *root = tt_mkdtemp(), *outside = tt_mkdtemp(), *errs;
	tg_manifest_set *set = new_set();
	tg_manifest_unit *web;

	(void)state;
	make_hostile_tree(root, outside);
	assert_int_equal(tg_manifest_set_add_dir(set, root), 0);
	errs = set_errors(set);
	/* nothing from outside the tree was read */
	assert_true(strstr(errs, "stolen") == NULL);
	assert_contains(errs, "/web/evil.yaml: symlink points outside the "
	                      "tree");
	assert_contains(errs, "/db: symlink points outside the tree");
	assert_contains(errs, "/web/dangling.yaml: symlink to nothing");
	assert_true(strstr(errs, "dangling.txt") == NULL);
	assert_contains(errs, "/web/fifo.yaml: not a regular file");
	assert_contains(errs, "/big/huge.yaml: 8388609 bytes, over the limit");
	assert_contains(errs, "/web/nested/b.json:1: metadata is missing");
	/* web/loop -> .. is followed once; links below it are not */
	assert_contains(errs, "/web/loop/web/evil.yaml: symlink not followed");
	assert_contains(errs, "/web/loop/web/loop: symlink not followed");
	/* hidden files, hidden directories and other files are not read */
	assert_true(strstr(errs, "README") == NULL);
	assert_true(strstr(errs, ".hidden") == NULL);
	assert_true(strstr(errs, ".git") == NULL);
	assert_true(strstr(errs, ".cache") == NULL);

	web = tg_manifest_set_unit_by_name(set, "web");
	assert_false(tg_manifest_unit_is_valid(web));
	assert_string_equal(
	        tg_manifest_object_file(tg_manifest_unit_object(web, 0)),
	        "web/a.yaml");
	assert_string_equal(
	        tg_manifest_object_file(tg_manifest_unit_object(web, 1)),
	        "web/base-link.yaml");
	assert_string_equal(
	        tg_manifest_object_name(tg_manifest_unit_object(web, 1)),
	        "base");
	/* the same objects reached twice are duplicates of the originals */
	assert_contains(errs, "/web/base-link.yaml:1: ConfigMap base is "
	                      "defined twice");
	assert_contains(errs, "/web/loop/top.yaml:1: ConfigMap top is defined "
	                      "twice");
	assert_false(tg_manifest_unit_is_valid(
	        tg_manifest_set_unit_by_name(set, "_root")));
	assert_false(tg_manifest_unit_is_valid(
	        tg_manifest_set_unit_by_name(set, "shared-src")));
	assert_false(tg_manifest_unit_is_valid(
	        tg_manifest_set_unit_by_name(set, "big")));
	assert_false(tg_manifest_unit_is_valid(
	        tg_manifest_set_unit_by_name(set, "db")));
	free(errs);
	tg_manifest_set_free(set);
	tt_rmtree(root);
	tt_rmtree(outside);
	free(root);
	free(outside);
}

/* xorshift32: a fixed sequence, so a failure can be replayed. */
static uint32_t next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Append buf[at..n) again when it fits in max; the new length. */
static size_t repeat_tail(char *buf, size_t n, size_t at, size_t max)
{
	if (n + (n - at) > max)
		return n;
	memmove(buf + n, buf + at, n - at);
	return n + (n - at);
}

/*
 * Real manifests with random bytes changed, cut or duplicated: the loader
 * must never crash or leak (ASan checks) and must always return 0 with
 * the file's unit in the set.
 */
static void test_manifest_survives_mutated_inputs(void **state)
{
	static const char *files[] = { "good/workloads.yaml", "good/lists.yaml",
		                       "good/custom.yaml", "good/deploy.json",
		                       "bad/images.yaml" };
	static const char noise[] = "-:[]{}&*!|>'\"%@`#,?\n\t ~0xL";
	uint32_t seed = 0x7011ca7e;
	size_t f, round;

	(void)state;
	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char *rel = tg_aprintf("tests/data/manifests/%s", files[f]);
		size_t len, i;
		char *orig = tt_read_src(rel, &len);

		for (round = 0; round < 300; round++) {
			tg_manifest_set *set = new_set();
			char *buf = tg_malloc(2 * len + 1);
			size_t n = len, edits = 1 + next_rand(&seed) % 8;

			memcpy(buf, orig, len);
			for (i = 0; i < edits; i++) {
				size_t at = next_rand(&seed) % n;
				uint32_t op = next_rand(&seed) % 3;

				if (op == 0)
					buf[at] = noise[next_rand(&seed) %
					                (sizeof(noise) - 1)];
				else if (op == 1)
					n = at + 1; /* truncate */
				else
					n = repeat_tail(buf, n, at, 2 * len);
			}
			assert_int_equal(tg_manifest_set_add_file(
			                         set, "m/f.yaml", buf, n),
			                 0);
			assert_int_equal(tg_manifest_set_unit_count(set), 1);
			tg_manifest_set_free(set);
			free(buf);
		}
		free(orig);
		free(rel);
	}
}

static void test_manifest_dir_prefix_without_double_slash(void **state)
{
	char *root = tt_mkdtemp(), *slashed = tg_aprintf("%s//", root);
	char *want = tg_aprintf("%s/u/bad.yaml:1: kind is missing", root);
	tg_manifest_set *set = new_set();

	(void)state;
	write_cm(root, "u/bad.yaml", "apiVersion: v1\nmetadata: {name: x}\n");
	assert_int_equal(tg_manifest_set_add_dir(set, slashed), 0);
	assert_int_equal(tg_manifest_set_error_count(set), 1);
	assert_string_equal(tg_manifest_set_error(set, 0), want);
	tg_manifest_set_free(set);
	tt_rmtree(root);
	free(root);
	free(slashed);
	free(want);
}

/* An empty directory, and a unit directory holding only a hidden file
 * (a .gitkeep): nothing to load, no error (their lists of no names were
 * sorted as NULL arrays: UBSan checks). */
static void test_manifest_dir_with_nothing_to_load(void **state)
{
	char *root = tt_mkdtemp(), *keep = tg_aprintf("%s/u/.gitkeep", root);
	tg_manifest_set *set = new_set();

	(void)state;
	assert_int_equal(tg_manifest_set_add_dir(set, root), 0);
	tt_write_file(keep, "");
	assert_int_equal(tg_manifest_set_add_dir(set, root), 0);
	assert_int_equal(tg_manifest_set_error_count(set), 0);
	assert_int_equal(tg_manifest_set_object_count(set), 0);
	tg_manifest_set_free(set);
	tt_rmtree(root);
	free(root);
	free(keep);
}

static void test_manifest_dir_missing_root(void **state)
{
	tg_manifest_set *set = new_set();
	char *root = tt_mkdtemp(), *file = tg_aprintf("%s/f.yaml", root);

	(void)state;
	assert_int_equal(tg_manifest_set_add_dir(set, "/nonexistent/tollgate"),
	                 TG_ENOTFOUND);
	assert_contains(tg_error_last(), "/nonexistent/tollgate");
	tt_write_file(file, "");
	assert_int_equal(tg_manifest_set_add_dir(set, file), TG_EIO);
	assert_contains(tg_error_last(), "not a directory");
	tt_rmtree(root);
	free(root);
	free(file);
	tg_manifest_set_free(set);
}

static void test_manifest_example_repository(void **state)
{
	char *dir = tt_src_path("examples/deploy-repo/clusters/prod");
	tg_manifest_set *set = new_set();
	tg_manifest_unit *u;
	static const struct {
		const char *name;
		size_t objects, images;
	} units[] = {
		{ "_root", 3, 0 },
		{ "frontend", 5, 2 },
		{ "monitoring", 8, 3 },
		{ "payments", 7, 5 },
	};
	size_t i;

	(void)state;
	assert_int_equal(tg_manifest_set_add_dir(set, dir), 0);
	assert_int_equal(tg_manifest_set_error_count(set), 0);
	assert_int_equal(tg_manifest_set_unit_count(set), 4);
	for (i = 0; i < 4; i++) {
		u = tg_manifest_set_unit(set, i);
		assert_string_equal(tg_manifest_unit_name(u), units[i].name);
		assert_true(tg_manifest_unit_is_valid(u));
		assert_int_equal(tg_manifest_unit_object_count(u),
		                 units[i].objects);
		assert_int_equal(tg_manifest_unit_image_count(u),
		                 units[i].images);
	}
	u = tg_manifest_set_unit_by_name(set, "monitoring");
	/* the CRD and its custom resources from a List */
	assert_object(tg_manifest_unit_object(u, 0), "CustomResourceDefinition",
	              "", "servicemonitors.monitoring.coreos.com", 1);
	assert_string_equal(
	        tg_manifest_object_file(tg_manifest_unit_object(u, 0)),
	        "monitoring/crds/servicemonitor-crd.yaml");
	u = tg_manifest_set_unit_by_name(set, "payments");
	assert_image(tg_manifest_unit_image(u, 2),
	             "/spec/jobTemplate/spec/template/spec/containers/0/image",
	             "ghcr.io/acme/ledger-tools:0.9.1",
	             "ghcr.io/acme/ledger-tools:0.9.1");
	assert_image(tg_manifest_unit_image(u, 3),
	             "/spec/jobTemplate/spec/template/spec/initContainers/0/"
	             "image",
	             "busybox:1.36", "docker.io/library/busybox:1.36");
	tg_manifest_set_free(set);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_hostile_objects),
		cmocka_unit_test(test_manifest_bad_images_reported),
		cmocka_unit_test(test_manifest_float_key_overflow_loads),
		cmocka_unit_test(test_manifest_secret_value_never_quoted),
		cmocka_unit_test(
		        test_manifest_yaml_errors_block_only_their_unit),
		cmocka_unit_test(test_manifest_bad_cases),
		cmocka_unit_test(test_manifest_deep_lists_refused),
		cmocka_unit_test(test_manifest_path_wanted),
		cmocka_unit_test(test_manifest_rejects_unsafe_paths),
		cmocka_unit_test(test_manifest_file_limit),
		cmocka_unit_test(test_manifest_dir_walk_hostile_tree),
		cmocka_unit_test(test_manifest_survives_mutated_inputs),
		cmocka_unit_test(test_manifest_dir_prefix_without_double_slash),
		cmocka_unit_test(test_manifest_dir_with_nothing_to_load),
		cmocka_unit_test(test_manifest_dir_missing_root),
		cmocka_unit_test(test_manifest_example_repository),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
