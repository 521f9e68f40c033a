/*
 * Tests of tollgate.yaml loading: every key of a full file, defaults,
 * relative paths, and one file per mistake under tests/data/config/bad/,
 * whose first line "# error: <text>" is what the message must contain
 * after "<file>:" (line:col of the key, the key path, what is wrong).
 */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

static tg_config *load_good(const char *name)
{
	char *rel = tg_aprintf("tests/data/config/good/%s", name);
	char *path = tt_src_path(rel);
	tg_config *c = NULL;
	int error = tg_config_load(&c, path);

	if (error < 0)
		fail_msg("%s: %s", path, tg_error_last());
	free(rel);
	free(path);
	return c;
}

/* dir + "/" + rel, as the loader resolves relative paths. */
static void
assert_resolved(const tg_config *c, const char *got, const char *rel)
{
	char *want = tg_path_join(c->dir, rel);

	assert_string_equal(got, want);
	free(want);
}

static void test_config_full_file_reads_every_key(void **state)
{
	tg_config *c = load_good("full.yaml");

	(void)state;
	assert_string_equal(c->source.url, "git://127.0.0.1:9418/deploy.git");
	assert_string_equal(c->source.branch, "release");
	assert_string_equal(c->source.path, "clusters/prod");
	assert_int_equal(c->source.interval, 90);
	assert_resolved(c, c->source.ssh_key, "keys/id_ed25519");
	assert_string_equal(c->source.known_hosts, "/etc/tollgate/known_hosts");
	assert_string_equal(c->source.username, "deployer");
	assert_resolved(c, c->source.password_file, "secrets/token");
	assert_resolved(c, c->source.ca_file, "ca.pem");
	assert_string_equal(c->status.branch, "tollgate/status-prod");
	assert_string_equal(c->status.notes, "refs/notes/tollgate-prod");
	assert_string_equal(c->status.author_name, "tollgate prod");
	assert_string_equal(c->status.author_email, "tollgate@prod.example");
	assert_false(c->status.push);
	assert_resolved(c, c->cluster.kubeconfig, "kubeconfig");
	assert_string_equal(c->cluster.inventory_namespace, "tollgate-prod");
	assert_int_equal(c->cluster.drift, TG_DRIFT_REPORT);
	assert_false(c->cluster.prune);
	assert_int_equal(c->cluster.nreserved_namespaces, 2);
	assert_string_equal(c->cluster.reserved_namespaces[0], "tollgate-prod");
	assert_string_equal(c->cluster.reserved_namespaces[1], "tollgate-ops");
	assert_string_equal(c->cluster.admission_policy, "prod-sole-writer");
	assert_string_equal(c->cluster.admission_policy_binding,
	                    "prod-sole-writer.binding");
	assert_int_equal(c->cluster.ncluster_roles, 1);
	assert_string_equal(c->cluster.cluster_roles[0],
	                    "tollgate-prod-cluster");
	assert_int_equal(c->cluster.ncluster_role_bindings, 2);
	assert_string_equal(c->cluster.cluster_role_bindings[0],
	                    "tollgate-prod-cluster");
	assert_string_equal(c->cluster.cluster_role_bindings[1],
	                    "tollgate-prod-ns");
	assert_resolved(c, c->policy, "policies/policy.yaml");
	assert_string_equal(c->registries.auth,
	                    "/etc/tollgate/docker-config.json");
	assert_int_equal(c->registries.ninsecure, 3);
	assert_string_equal(c->registries.insecure[0], "127.0.0.1:5000");
	assert_string_equal(c->registries.insecure[1], "[::1]:5001");
	assert_string_equal(c->registries.insecure[2], "registry.local");
	assert_resolved(c, c->registries.ca_file, "registry-ca.pem");
	assert_resolved(c, c->state_dir, "state");
	assert_int_equal(c->nimage_paths, 2);
	assert_string_equal(c->image_paths[0].group, "argoproj.io");
	assert_string_equal(c->image_paths[0].kind, "Rollout");
	assert_int_equal(c->image_paths[0].npaths, 1);
	assert_string_equal(c->image_paths[0].paths[0], "/spec/template/spec");
	assert_string_equal(c->image_paths[1].group, "");
	assert_string_equal(c->image_paths[1].kind, "PodTemplate");
	assert_int_equal(c->notify.nwebhooks, 1);
	assert_string_equal(c->notify.webhooks[0].url,
	                    "https://hooks.example.com/tollgate");
	assert_string_equal(c->notify.webhooks[0].header, "Authorization");
	assert_resolved(c, c->notify.webhooks[0].header_value_file,
	                "secrets/hook-token");
	assert_int_equal(c->reverify_interval, 7200);
	assert_string_equal(c->listen_addr, "127.0.0.1:9090");
	assert_int_equal(c->render.nkustomize_command, 2);
	assert_string_equal(c->render.kustomize_command[0], "kubectl");
	assert_string_equal(c->render.kustomize_command[1], "kustomize");
	assert_int_equal(c->render.kustomize_timeout, 120);
	assert_int_equal(c->render.parallel, 3);
	assert_int_equal(c->render.nplugins, 2);
	assert_string_equal(c->render.plugins[0].name, "helm");
	assert_int_equal(c->render.plugins[0].ndetect, 1);
	assert_string_equal(c->render.plugins[0].detect[0], "Chart.yaml");
	assert_int_equal(c->render.plugins[0].ncommand, 3);
	assert_string_equal(c->render.plugins[0].command[2],
	                    "helm template . --include-crds");
	assert_int_equal(c->render.plugins[0].timeout, 30);
	assert_string_equal(c->render.plugins[1].name, "jsonnet");
	assert_int_equal(c->render.plugins[1].ndetect, 2);
	assert_int_equal(c->render.plugins[1].timeout, 60);
	tg_config_free(c);
}

static void test_config_minimal_file_gets_defaults(void **state)
{
	tg_config *c = load_good("minimal.yaml");
	tg_source_opts o;
	tg_status_opts so;

	(void)state;
	/* a relative local URL is resolved like every other path */
	assert_resolved(c, c->source.url, "../deploy.git");
	assert_string_equal(c->source.branch, "main");
	assert_string_equal(c->source.path, "");
	assert_int_equal(c->source.interval, 30);
	assert_null(c->source.ssh_key);
	assert_null(c->source.password_file);
	assert_string_equal(c->status.branch, "tollgate/status");
	assert_string_equal(c->status.notes, "refs/notes/tollgate");
	assert_string_equal(c->status.author_name, "tollgate");
	assert_string_equal(c->status.author_email, "tollgate@cluster.local");
	assert_true(c->status.push);
	assert_null(c->cluster.kubeconfig);
	assert_string_equal(c->cluster.inventory_namespace, "tollgate-system");
	assert_int_equal(c->cluster.drift, TG_DRIFT_CORRECT);
	assert_true(c->cluster.prune);
	/* the reserved objects: deploy/'s names (the inventory namespace is
	 * reserved by the admit stage whether listed or not) */
	assert_int_equal(c->cluster.nreserved_namespaces, 0);
	assert_string_equal(c->cluster.admission_policy,
	                    "tollgate-sole-writer");
	assert_string_equal(c->cluster.admission_policy_binding,
	                    "tollgate-sole-writer");
	assert_int_equal(c->cluster.ncluster_roles, 2);
	assert_string_equal(c->cluster.cluster_roles[0], "tollgate-cluster");
	assert_string_equal(c->cluster.cluster_roles[1], "tollgate-namespaced");
	assert_int_equal(c->cluster.ncluster_role_bindings, 2);
	assert_string_equal(c->cluster.cluster_role_bindings[0],
	                    "tollgate-cluster");
	assert_string_equal(c->cluster.cluster_role_bindings[1],
	                    "tollgate-namespaced");
	assert_string_equal(c->policy, "/etc/tollgate/policy.yaml");
	assert_int_equal(c->registries.ninsecure, 0);
	assert_string_equal(c->state_dir, "/var/lib/tollgate");
	assert_int_equal(c->nimage_paths, 0);
	assert_int_equal(c->reverify_interval, 3600);
	assert_null(c->listen_addr);
	assert_null(c->render.kustomize_command);
	assert_int_equal(c->render.kustomize_timeout, 60);
	assert_int_equal(c->render.parallel, 0);
	assert_int_equal(c->render.nplugins, 0);
	tg_config_source_opts(&o, c);
	assert_string_equal(o.url, c->source.url);
	assert_string_equal(o.branch, "main");
	assert_string_equal(o.state_dir, "/var/lib/tollgate");
	tg_config_status_opts(&so, c);
	assert_string_equal(so.branch, "tollgate/status");
	assert_string_equal(so.notes_ref, "refs/notes/tollgate");
	assert_true(so.push);
	assert_null(so.before_push);
	tg_config_free(c);
}

/* An OCI source: the URL kept as written, the layer type, and the status
 * repository with its own credentials handed out as a source's options. */
static void test_config_oci_source_with_status_repository(void **state)
{
	tg_config *c = load_good("oci.yaml");
	tg_source_opts o;

	(void)state;
	assert_true(c->source.oci);
	assert_string_equal(c->source.url,
	                    "oci://127.0.0.1:5000/deploy/prod:v1.4");
	assert_string_equal(c->source.layer_media_type,
	                    "application/vnd.acme.manifests.v1.tar+gzip");
	assert_string_equal(c->source.path, "clusters/prod");
	assert_string_equal(c->status.url,
	                    "ssh://git@git.example.com/status.git");
	assert_string_equal(c->status.branch, "main");
	tg_config_status_repo_opts(&o, c);
	assert_string_equal(o.url, c->status.url);
	assert_string_equal(o.branch, "main");
	assert_resolved(c, o.ssh_key, "keys/status_ed25519");
	assert_resolved(c, o.known_hosts, "known_hosts");
	assert_null(o.password_file);
	tg_config_free(c);
	/* a Git source keeps its status in its own repository by default */
	c = load_good("minimal.yaml");
	assert_false(c->source.oci);
	assert_null(c->source.layer_media_type);
	tg_config_status_repo_opts(&o, c);
	assert_null(o.url);
	tg_config_free(c);
}

/* One file of tests/data/config/bad/: loading it fails with TG_EINVALID
 * (TG_EPARSE for the YAML syntax error) and "<file>:<text of its
 * '# error:' first line>". */
static void check_bad_config(const tt_bad_case *c, void *ctx)
{
	tg_config *cfg = NULL;
	int want = !strcmp(c->name, "syntax.yaml") ? TG_EPARSE : TG_EINVALID;
	int error = tg_config_load(&cfg, c->path);
	char *full;

	(void)ctx;
	if (error == 0)
		fail_msg("%s: loaded, expected an error", c->path);
	assert_null(cfg);
	assert_int_equal(error, want);
	full = tg_aprintf("%s:%s", c->path, c->expected);
	if (!strstr(tg_error_last(), full))
		fail_msg("%s:\n  expected: %s\n  got:      %s", c->name, full,
		         tg_error_last());
	free(full);
}

static void test_config_bad_files_name_line_and_key(void **state)
{
	(void)state;
	assert_true(tt_each_bad_case("tests/data/config/bad", ".yaml",
	                             check_bad_config, NULL) >= 40);
}

static void test_config_reports_every_error(void **state)
{
	const char *text = "source:\n"
	                   "  url: /r\n"
	                   "  intervall: 30s\n"
	                   "policy: p.yaml\n"
	                   "cluster: {drift: maybe}\n";
	tg_config *c = NULL;

	(void)state;
	assert_int_equal(tg_config_parse(&c, "t.yaml", text, strlen(text),
	                                 "/etc/tollgate"),
	                 TG_EINVALID);
	assert_contains(tg_error_last(), "t.yaml:3:3: source.intervall: "
	                                 "unknown key");
	assert_contains(tg_error_last(), "\nt.yaml:5:");
	assert_contains(tg_error_last(), "cluster.drift: \"maybe\"");
}

static void test_config_missing_file(void **state)
{
	tg_config *c = NULL;

	(void)state;
	assert_int_equal(tg_config_load(&c, "/nonexistent/tollgate.yaml"),
	                 TG_ENOTFOUND);
	assert_contains(tg_error_last(), "/nonexistent/tollgate.yaml");
}

/* sigstore.tuf: absent (off), {} (public-good defaults), or a mirror
 * with its bootstrap root (a relative path resolved) and refresh. */
static void test_config_sigstore_tuf(void **state)
{
	const char *off = "source: {url: /r}\npolicy: p.yaml\n";
	const char *def = "source: {url: /r}\npolicy: p.yaml\n"
	                  "sigstore: {tuf: {}}\n";
	const char *own =
	        "source: {url: /r}\npolicy: p.yaml\n"
	        "sigstore:\n  tuf:\n    mirror: http://127.0.0.1:8080/"
	        "repo/\n    root: trust/root.json\n    refresh: 1h\n";
	tg_config *c = NULL;

	(void)state;
	assert_int_equal(
	        tg_config_parse(&c, "t.yaml", off, strlen(off), "/etc/tg"), 0);
	assert_false(c->tuf.enabled);
	tg_config_free(c);
	assert_int_equal(
	        tg_config_parse(&c, "t.yaml", def, strlen(def), "/etc/tg"), 0);
	assert_true(c->tuf.enabled);
	assert_string_equal(c->tuf.mirror, "https://tuf-repo-cdn.sigstore.dev");
	assert_null(c->tuf.root);
	assert_int_equal(c->tuf.refresh, 86400);
	tg_config_free(c);
	assert_int_equal(
	        tg_config_parse(&c, "t.yaml", own, strlen(own), "/etc/tg"), 0);
	assert_string_equal(c->tuf.mirror, "http://127.0.0.1:8080/repo");
	assert_string_equal(c->tuf.root, "/etc/tg/trust/root.json");
	assert_int_equal(c->tuf.refresh, 3600);
	tg_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_full_file_reads_every_key),
		cmocka_unit_test(test_config_minimal_file_gets_defaults),
		cmocka_unit_test(test_config_oci_source_with_status_repository),
		cmocka_unit_test(test_config_bad_files_name_line_and_key),
		cmocka_unit_test(test_config_reports_every_error),
		cmocka_unit_test(test_config_missing_file),
		cmocka_unit_test(test_config_sigstore_tuf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
