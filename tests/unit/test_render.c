/*
 * Tests of rendering (reconciler/render/): the pre-check refuses hostile
 * kustomizations before kustomize runs, naming the file, the field and
 * the value; render plugins run in the sandbox (clean environment, no
 * network, timeout, output cap, stderr in the message); a unit matched
 * twice, output holding tollgate's labels and output that is not YAML
 * fail their unit only. Renders that pass the pre-check run the real
 * kustomize inside kubectl.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/manifest.h"
#include "tollgate/render.h"
#include "tollgate/util.h"

/* Render the units under tt_dir/units with plugins p (may be NULL). */
static tg_manifest_set *render(const tg_config_render_plugin *p, size_t np)
{
	tg_render_options ro = { 0 };
	tg_manifest_options mo = { 0 };
	tg_manifest_set *set = NULL;
	tg_render *r = NULL;
	char *units = tg_path_join(tt_dir, "units");

	ro.plugins = p;
	ro.nplugins = np;
	mo.path_prefix = "units";
	assert_int_equal(tg_render_new(&r, &ro), 0);
	assert_int_equal(tg_manifest_set_new(&set, &mo), 0);
	assert_int_equal(tg_render_units_in_dir(set, r, units, tt_dir), 0);
	assert_int_equal(tg_manifest_set_add_dir(set, units), 0);
	tg_render_free(r);
	free(units);
	return set;
}

/* The one error of unit name (which must have exactly one). */
static const char *only_error(const tg_manifest_set *set, const char *name)
{
	tg_manifest_unit *u = tg_manifest_set_unit_by_name(set, name);

	assert_non_null(u);
	if (tg_manifest_unit_error_count(u) != 1)
		fail_msg("unit %s: %zu errors (first: %s)", name,
		         tg_manifest_unit_error_count(u),
		         tg_manifest_unit_error_count(u)
		                 ? tg_manifest_unit_error(u, 0)
		                 : "-");
	assert_int_equal(tg_manifest_unit_object_count(u), 0);
	return tg_manifest_unit_error(u, 0);
}

static const char deploy[] = "apiVersion: apps/v1\n"
                             "kind: Deployment\n"
                             "metadata: {name: web}\n"
                             "spec:\n"
                             "  template:\n"
                             "    spec:\n"
                             "      containers:\n"
                             "        - {name: web, image: "
                             "registry.example.com/web:1.0}\n";

/* One kustomization per hostile value: each refused before kustomize
 * runs, naming the file and line, the field and the value. */
static void test_render_refuses_remote_absolute_and_escaping(void **state)
{
	static const struct {
		const char *unit, *kust, *want;
	} cases[] = {
		{ "url",
		  "resources: [deploy.yaml, https://example.com/x.yaml]\n",
		  "units/url/kustomization.yaml:1: resources[1]: "
		  "\"https://example.com/x.yaml\": a URL or Git reference" },
		{ "gitref",
		  "resources:\n  - github.com/acme/base//deploy?ref=v1\n",
		  "units/gitref/kustomization.yaml:2: resources[0]: "
		  "\"github.com/acme/base//deploy?ref=v1\": a URL or Git" },
		{ "scp", "bases: [git@github.com:acme/base.git]\n",
		  "bases[0]: \"git@github.com:acme/base.git\": a URL" },
		{ "abs", "resources: [deploy.yaml]\ncrds: [/etc/passwd]\n",
		  "units/abs/kustomization.yaml:2: crds[0]: \"/etc/passwd\": "
		  "an absolute path" },
		{ "escape", "resources: [../../../outside]\n",
		  "resources[0]: \"../../../outside\": the path leaves the "
		  "repository" },
		{ "missing", "resources: [nothere.yaml]\n",
		  "resources[0]: \"nothere.yaml\": units/missing/nothere.yaml "
		  "does not exist in the commit" },
		{ "cmfile",
		  "configMapGenerator:\n  - name: c\n    files: "
		  "[key=../../../etc/shadow]\n",
		  "configMapGenerator[0].files[0]: \"../../../etc/shadow\": "
		  "the path leaves" },
		{ "envs",
		  "secretGenerator:\n  - name: s\n    envs: [/root/.env]\n",
		  "secretGenerator[0].envs[0]: \"/root/.env\": an absolute" },
		{ "patch",
		  "resources: [deploy.yaml]\npatches:\n  - path: "
		  "https://evil.example/p.yaml\n",
		  "units/patch/kustomization.yaml:3: patches[0].path: "
		  "\"https://evil.example/p.yaml\": a URL" },
		{ "json6902",
		  "resources: [deploy.yaml]\npatchesJson6902:\n  - target: "
		  "{kind: Deployment, name: web}\n    path: /tmp/p.json\n",
		  "patchesJson6902[0].path: \"/tmp/p.json\": an absolute" },
		{ "psm",
		  "resources: [deploy.yaml]\npatchesStrategicMerge: "
		  "[../../../p.yaml]\n",
		  "patchesStrategicMerge[0]: \"../../../p.yaml\": the path" },
		{ "replace", "replacements:\n  - path: ssh://h/r.yaml\n",
		  "replacements[0].path: \"ssh://h/r.yaml\": a URL" },
		{ "openapi", "openapi: {path: /schema.json}\n",
		  "openapi.path: \"/schema.json\": an absolute path" },
		{ "comp", "components: [https://github.com/acme/c]\n",
		  "components[0]: \"https://github.com/acme/c\": a URL" },
		{ "helm",
		  "helmCharts:\n  - {name: x, repo: https://charts.example}\n",
		  "units/helm/kustomization.yaml:1: helmCharts: kustomize "
		  "would run helm" },
		{ "deep", "resources: [../base]\n",
		  "resources[0]: \"../base\": units/base/kustomization.yaml:1: "
		  "resources[0]: \"http://x/y\": a URL" },
	};
	tg_manifest_set *set;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *k = tg_aprintf("units/%s/kustomization.yaml",
		                     cases[i].unit);
		char *d = tg_aprintf("units/%s/deploy.yaml", cases[i].unit);

		tt_put(k, cases[i].kust);
		tt_put(d, deploy);
		free(k);
		free(d);
	}
	tt_put("units/base/kustomization.yaml", "resources: [http://x/y]\n");
	set = render(NULL, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *e = only_error(set, cases[i].unit);
		char *head =
		        tg_aprintf("units/%s (kustomize): ", cases[i].unit);

		assert_contains(e, head);
		assert_contains(e, cases[i].want);
		free(head);
	}
	tg_manifest_set_free(set);
}

/* Generators, transformers and validators must be built-in plugins: a
 * KRM function or an exec plugin would run a program on the agent. */
static void test_render_refuses_functions_and_exec_plugins(void **state)
{
	tg_manifest_set *set;

	(void)state;
	tt_put("units/fn/kustomization.yaml",
	       "resources: [deploy.yaml]\ntransformers: [fn.yaml]\n");
	tt_put("units/fn/deploy.yaml", deploy);
	tt_put("units/fn/fn.yaml",
	       "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n"
	       "  name: x\n  annotations:\n"
	       "    config.kubernetes.io/function: |\n"
	       "      container: {image: evil.example/fn}\n");
	tt_put("units/exec/kustomization.yaml",
	       "generators:\n  - |\n"
	       "    apiVersion: someteam.example.com/v1\n"
	       "    kind: ChartInflator\n"
	       "    metadata: {name: x}\n");
	tt_put("units/valid/kustomization.yaml", "validators: [v.yaml]\n");
	tt_put("units/valid/v.yaml",
	       "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: "
	       "p}\npath: /etc/passwd\n");
	set = render(NULL, 0);
	assert_contains(only_error(set, "fn"),
	                "units/fn/fn.yaml:1: transformers[0]: \"fn.yaml\": a "
	                "KRM function");
	assert_contains(only_error(set, "exec"),
	                "generators[0]: someteam.example.com/v1/ChartInflator "
	                "is not one of kustomize's built-in plugins");
	assert_contains(only_error(set, "valid"),
	                "path: \"/etc/passwd\": an absolute path");
	tg_manifest_set_free(set);
}

/* A symlink in a base that leads out of the repository is refused when
 * the private tree is written; one to a file inside is read as it. */
static void test_render_symlinks_follow_manifest_rules(void **state)
{
	char *link = tg_path_join(tt_dir, "units/out/secret.yaml");
	char *inside = tg_path_join(tt_dir, "units/in/deploy.yaml");
	tg_manifest_set *set;

	(void)state;
	tt_put("units/out/kustomization.yaml", "resources: [secret.yaml]\n");
	tt_put("units/in/kustomization.yaml", "resources: [deploy.yaml]\n");
	tt_put("shared/deploy.yaml", deploy);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	assert_int_equal(symlink("../../shared/deploy.yaml", inside), 0);
	set = render(NULL, 0);
	assert_contains(only_error(set, "out"),
	                "resources[0]: \"secret.yaml\": units/out/secret.yaml: "
	                "symlink points outside the repository");
	assert_true(tg_manifest_unit_is_valid(
	        tg_manifest_set_unit_by_name(set, "in")));
	assert_int_equal(tg_manifest_unit_object_count(
	                         tg_manifest_set_unit_by_name(set, "in")),
	                 1);
	tg_manifest_set_free(set);
	free(link);
	free(inside);
}

/* The real kustomize (kubectl's) renders an overlay over a base outside
 * the units, with a hashed ConfigMap the Deployment refers to; messages
 * name the unit and renderer, no line. */
static void test_render_kustomize_overlay(void **state)
{
	tg_manifest_set *set;
	tg_manifest_unit *u;
	const tg_manifest_object *o;
	char *ref, *text;

	(void)state;
	tt_put("base/kustomization.yaml", "resources: [deploy.yaml]\n");
	tt_put("base/deploy.yaml", deploy);
	tt_put("units/web/kustomization.yaml",
	       "namespace: shop\nresources: [../../base]\n"
	       "images: [{name: registry.example.com/web, newTag: '2.0'}]\n"
	       "configMapGenerator:\n  - {name: cfg, files: [app.conf]}\n"
	       "patches:\n  - target: {kind: Deployment}\n    patch: |-\n"
	       "      - {op: add, path: /spec/template/spec/volumes, value: "
	       "[{name: c, configMap: {name: cfg}}]}\n");
	tt_put("units/web/app.conf", "x=1\n");
	set = render(NULL, 0);
	u = tg_manifest_set_unit_by_name(set, "web");
	if (!tg_manifest_unit_is_valid(u))
		fail_msg("%s", tg_manifest_unit_error(u, 0));
	assert_int_equal(tg_manifest_unit_object_count(u), 2);
	o = tg_manifest_unit_object(u, 0);
	assert_string_equal(tg_manifest_object_kind(o), "ConfigMap");
	assert_true(tg_str_has_prefix(tg_manifest_object_name(o), "cfg-"));
	assert_string_equal(tg_manifest_object_file(o), "web (kustomize)");
	assert_int_equal(tg_manifest_object_line(o), 0);
	ref = tg_aprintf("\"%s\"", tg_manifest_object_name(o));
	o = tg_manifest_unit_object(u, 1);
	assert_string_equal(tg_manifest_object_namespace(o), "shop");
	text = json_dumps(tg_manifest_object_json(o), 0);
	assert_contains(text, ref);
	free(text);
	assert_string_equal(
	        tg_manifest_image_written(tg_manifest_object_image(o, 0)),
	        "registry.example.com/web:2.0");
	free(ref);
	tg_manifest_set_free(set);
}

/* A plugin whose command is sh -c script, detected by its file. */
static tg_config_render_plugin sh_plugin(const char *script, int64_t timeout)
{
	static char *detect[] = { "render.sh", NULL };
	static char *cmd[4] = { "sh", "-c", NULL, NULL };
	tg_config_render_plugin p = { 0 };

	cmd[2] = (char *)script;
	p.name = "shell";
	p.detect = detect;
	p.ndetect = 1;
	p.command = cmd;
	p.ncommand = 3;
	p.timeout = timeout;
	return p;
}

/* One unit "u" rendered by sh -c script; the set is the caller's. */
static tg_manifest_set *render_sh(const char *script, int64_t timeout)
{
	tg_config_render_plugin p = sh_plugin(script, timeout);

	tt_put("units/u/render.sh", "# detected by name\n");
	return render(&p, 1);
}

/* No proxy, credentials or HOME of the agent reach the renderer, which
 * runs in the unit's directory of the private tree and has no network
 * but loopback (a new network namespace). */
static void test_render_plugin_clean_environment_no_network(void **state)
{
	tg_manifest_set *set;
	tg_manifest_unit *u;
	json_t *data;
	char *home;

	(void)state;
	setenv("https_proxy", "http://proxy.evil:3128", 1);
	setenv("KUBECONFIG", "/root/.kube/config", 1);
	set = render_sh("printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: "
	                "{name: env}\\ndata:\\n  proxy: \"%s%s\"\\n  home: "
	                "\"%s\"\\n  pwd: \"%s\"\\n  ifaces: \"%s\"\\n' "
	                "\"$https_proxy\" \"$KUBECONFIG\" \"$HOME\" \"$(pwd)\" "
	                "\"$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d "
	                "' ' | tr '\\n' ' ')\"",
	                10);
	unsetenv("https_proxy");
	unsetenv("KUBECONFIG");
	u = tg_manifest_set_unit_by_name(set, "u");
	if (!tg_manifest_unit_is_valid(u))
		fail_msg("%s", tg_manifest_unit_error(u, 0));
	data = json_object_get(
	        tg_manifest_object_json(tg_manifest_unit_object(u, 0)), "data");
	assert_string_equal(json_string_value(json_object_get(data, "proxy")),
	                    "");
	home = getenv("HOME");
	assert_true(strstr(json_string_value(json_object_get(data, "home")),
	                   "/tollgate-render-") != NULL);
	assert_true(
	        !home ||
	        strcmp(json_string_value(json_object_get(data, "home")), home));
	assert_true(tg_str_has_suffix(
	        json_string_value(json_object_get(data, "pwd")),
	        "/tree/units/u"));
	assert_string_equal(json_string_value(json_object_get(data, "ifaces")),
	                    "lo ");
	tg_manifest_set_free(set);
}

/* A renderer that hangs is killed (its whole process group) at its
 * timeout; its unit fails with the reason. */
static void test_render_plugin_timeout_kills_group(void **state)
{
	double t0 = tg_monotonic();
	tg_manifest_set *set = render_sh("sleep 30 & sleep 30", 1);

	(void)state;
	assert_true(tg_monotonic() - t0 < 5);
	assert_contains(only_error(set, "u"),
	                "units/u (shell): shell did not finish within 1s (its "
	                "timeout); killed");
	tg_manifest_set_free(set);
}

static void test_render_plugin_output_cap(void **state)
{
	tg_manifest_set *set = render_sh("head -c 70000000 /dev/zero", 20);

	(void)state;
	assert_contains(only_error(set, "u"),
	                "shell wrote more than 67108864 bytes "
	                "(TG_MAX_RENDER_OUTPUT); refused");
	tg_manifest_set_free(set);
}

/* stderr of a failing renderer is in the message, on one line, cut. */
static void test_render_plugin_failure_carries_stderr(void **state)
{
	tg_manifest_set *set =
	        render_sh("echo 'chart not found:' >&2; echo '  nginx' >&2; "
	                  "head -c 10000 /dev/zero | tr '\\0' x >&2; exit 3",
	                  10);
	const char *e;

	(void)state;
	e = only_error(set, "u");
	assert_contains(e, "shell failed (exit status 3): chart not found:   "
	                   "nginx xxx");
	assert_true(strlen(e) < TG_MAX_RENDER_STDERR + 200);
	tg_manifest_set_free(set);
}

/* tollgate.dev/ labels are tollgate's own: output with one is refused. */
static void test_render_refuses_tollgate_labels(void **state)
{
	tg_manifest_set *set = render_sh(
	        "printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  "
	        "name: "
	        "x\\n  namespace: shop\\n  labels: {tollgate.dev/inventory: "
	        "\"true\"}\\n'",
	        10);
	tg_manifest_unit *u = tg_manifest_set_unit_by_name(set, "u");

	(void)state;
	assert_false(tg_manifest_unit_is_valid(u));
	assert_contains(tg_manifest_unit_error(u, 0),
	                "units/u (shell): ConfigMap shop/x: the label "
	                "tollgate.dev/inventory is tollgate's own");
	tg_manifest_set_free(set);
}

static void test_render_refuses_output_not_yaml(void **state)
{
	tg_manifest_set *set = render_sh("printf 'kind: [\\n'", 10);
	tg_manifest_unit *u = tg_manifest_set_unit_by_name(set, "u");

	(void)state;
	assert_false(tg_manifest_unit_is_valid(u));
	assert_contains(tg_manifest_unit_error(u, 0), "units/u (shell):");
	tg_manifest_set_free(set);
}

/* A unit matched by a plugin and a kustomization: an error naming both;
 * its plain files are not read either. */
static void test_render_two_renderers_is_an_error(void **state)
{
	tg_config_render_plugin p = sh_plugin("true", 10);
	tg_manifest_set *set;

	(void)state;
	tt_put("units/u/render.sh", "#\n");
	tt_put("units/u/kustomization.yaml", "resources: [deploy.yaml]\n");
	tt_put("units/u/deploy.yaml", deploy);
	set = render(&p, 1);
	assert_contains(only_error(set, "u"),
	                "units/u (render): matched by two renderers: kustomize "
	                "(kustomization.yaml) and plugin shell (render.sh)");
	tg_manifest_set_free(set);
}

/* Unit name rendered its own object, after all four had started. */
static void check_started(tg_manifest_set *set, const char *name)
{
	tg_manifest_unit *u = tg_manifest_set_unit_by_name(set, name);
	const tg_manifest_object *o;

	if (!tg_manifest_unit_is_valid(u))
		fail_msg("%s", tg_manifest_unit_error(u, 0));
	assert_int_equal(tg_manifest_unit_object_count(u), 1);
	o = tg_manifest_unit_object(u, 0);
	assert_string_equal(tg_manifest_object_name(o), name);
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_object_get(tg_manifest_object_json(o), "data"),
	                "started")),
	        "4");
}

/* Renderers run at once (render.parallel): each of four waits until all
 * four have started, which one at a time never happens; each unit gets
 * its own output whatever order they end in. */
static void test_render_parallel_units_own_results(void **state)
{
	static const char *const units[] = { "a", "b", "c", "d" };
	char *script, *shared = tg_path_join(tt_dir, "started");
	tg_render_options ro = { 0 };
	tg_manifest_options mo = { 0 };
	tg_manifest_set *set = NULL;
	tg_render *r = NULL;
	tg_config_render_plugin p;
	char *dir = tg_path_join(tt_dir, "units");
	size_t i;

	(void)state;
	tt_put("started/.keep", "");
	script = tg_aprintf(
	        "u=$(basename \"$(pwd)\"); touch %s/$u; n=0; "
	        "while [ $(ls %s | wc -l) -lt 4 ] && [ $n -lt 100 ]; do "
	        "sleep 0.1; n=$((n+1)); done; sleep $(cat delay); "
	        "printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: "
	        "{name: %%s}\\ndata: {started: \"%%s\"}\\n' \"$u\" "
	        "\"$(ls %s | wc -l)\"",
	        shared, shared, shared);
	p = sh_plugin(script, 30);
	for (i = 0; i < 4; i++) {
		char *f = tg_aprintf("units/%s/render.sh", units[i]);
		char *d = tg_aprintf("units/%s/delay", units[i]);

		tt_put(f, "#\n");
		tt_put(d, i == 0 ? "0.6\n" : i == 1 ? "0.3\n" : "0\n");
		free(f);
		free(d);
	}
	ro.plugins = &p;
	ro.nplugins = 1;
	ro.parallel = 4;
	mo.path_prefix = "units";
	assert_int_equal(tg_render_new(&r, &ro), 0);
	assert_int_equal(tg_manifest_set_new(&set, &mo), 0);
	assert_int_equal(tg_render_units_in_dir(set, r, dir, tt_dir), 0);
	assert_int_equal(tg_render_runs(r), 4);
	for (i = 0; i < 4; i++)
		check_started(set, units[i]);
	tg_manifest_set_free(set);
	tg_render_free(r);
	free(dir);
	free(script);
	free(shared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		        test_render_refuses_remote_absolute_and_escaping,
		        tt_dir_setup, tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_render_refuses_functions_and_exec_plugins,
		        tt_dir_setup, tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_render_symlinks_follow_manifest_rules,
		        tt_dir_setup, tt_dir_teardown),
		cmocka_unit_test_setup_teardown(test_render_kustomize_overlay,
		                                tt_dir_setup, tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_render_plugin_clean_environment_no_network,
		        tt_dir_setup, tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_render_plugin_timeout_kills_group, tt_dir_setup,
		        tt_dir_teardown),
		cmocka_unit_test_setup_teardown(test_render_plugin_output_cap,
		                                tt_dir_setup, tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_render_plugin_failure_carries_stderr, tt_dir_setup,
		        tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_render_refuses_tollgate_labels, tt_dir_setup,
		        tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_render_refuses_output_not_yaml, tt_dir_setup,
		        tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_render_two_renderers_is_an_error, tt_dir_setup,
		        tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_render_parallel_units_own_results, tt_dir_setup,
		        tt_dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
