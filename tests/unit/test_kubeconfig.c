/* Tests of kubeconfig and in-cluster configuration
 * (reconciler/cluster/kubeconfig.c). */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/kubeconfig.h"
#include "tollgate/util.h"

static const char *const good =
        "apiVersion: v1\n"
        "kind: Config\n"
        "current-context: prod\n"
        "clusters:\n"
        "- name: prod-cluster\n"
        "  cluster:\n"
        "    server: https://127.0.0.1:6443/\n"
        "    certificate-authority-data: "
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
        "- name: dev-cluster\n"
        "  cluster:\n"
        "    server: http://127.0.0.1:8080\n"
        "    insecure-skip-tls-verify: true\n"
        "users:\n"
        "- name: agent\n"
        "  user:\n"
        "    token: s3cr3t-token\n"
        "- name: filetoken\n"
        "  user:\n"
        "    tokenFile: token.txt\n"
        "- name: plugin\n"
        "  user:\n"
        "    exec: {command: aws}\n"
        "contexts:\n"
        "- name: prod\n"
        "  context: {cluster: prod-cluster, user: agent, namespace: shop}\n"
        "- name: dev\n"
        "  context: {cluster: dev-cluster, user: filetoken}\n"
        "- name: broken\n"
        "  context: {cluster: nowhere, user: agent}\n"
        "- name: execctx\n"
        "  context: {cluster: prod-cluster, user: plugin}\n";

typedef struct fixture {
	char *dir;
	char *path;
} fixture;

static int setup(void **state)
{
	fixture *f = tg_calloc(1, sizeof(*f));
	char *tok;

	f->dir = tt_mkdtemp();
	f->path = tg_path_join(f->dir, "kubeconfig");
	tt_write_file(f->path, good);
	tok = tg_path_join(f->dir, "token.txt");
	tt_write_file(tok, "from-file\n");
	free(tok);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	tt_rmtree(f->dir);
	free(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static void test_kubeconfig_current_context(void **state)
{
	fixture *f = *state;
	tg_kube_target *t;

	assert_int_equal(
	        tg_kube_target_from_kubeconfig(&t, f->path, NULL, false), 0);
	assert_string_equal(t->server, "https://127.0.0.1:6443");
	assert_string_equal(t->context, "prod");
	assert_string_equal(t->namespace_, "shop");
	assert_string_equal(t->token, "s3cr3t-token");
	assert_non_null(t->ca_pem);
	assert_memory_equal(t->ca_pem, "-----BEGIN CERTIFICATE-----", 27);
	assert_false(t->insecure_skip_tls_verify);
	tg_kube_target_free(t);
}

static void test_kubeconfig_refuses_insecure_unless_allowed(void **state)
{
	fixture *f = *state;
	tg_kube_target *t;

	assert_int_equal(
	        tg_kube_target_from_kubeconfig(&t, f->path, "dev", false),
	        TG_EINVALID);
	assert_null(t);
	assert_contains(tg_error_last(), "insecure-skip-tls-verify");
	assert_int_equal(
	        tg_kube_target_from_kubeconfig(&t, f->path, "dev", true), 0);
	assert_true(t->insecure_skip_tls_verify);
	assert_string_equal(t->token, "from-file");
	tg_kube_target_free(t);
}

static void test_kubeconfig_names_missing_entries(void **state)
{
	fixture *f = *state;
	tg_kube_target *t;

	assert_int_equal(
	        tg_kube_target_from_kubeconfig(&t, f->path, "nope", false),
	        TG_ENOTFOUND);
	assert_contains(tg_error_last(), "context \"nope\" not found");
	assert_int_equal(
	        tg_kube_target_from_kubeconfig(&t, f->path, "broken", false),
	        TG_ENOTFOUND);
	assert_contains(tg_error_last(), "cluster \"nowhere\"");
	assert_int_equal(
	        tg_kube_target_from_kubeconfig(&t, f->path, "execctx", false),
	        TG_EINVALID);
	assert_contains(tg_error_last(), "exec or auth-provider plugin");
}

static void test_kubeconfig_rejects_non_kubeconfig(void **state)
{
	fixture *f = *state;
	char *p = tg_path_join(f->dir, "list.yaml");
	tg_kube_target *t;

	(void)state;
	tt_write_file(p, "- a\n- b\n");
	assert_int_equal(tg_kube_target_from_kubeconfig(&t, p, NULL, false),
	                 TG_EPARSE);
	assert_contains(tg_error_last(), "not a kubeconfig");
	tt_write_file(p, "clusters: [\n");
	assert_int_equal(tg_kube_target_from_kubeconfig(&t, p, NULL, false),
	                 TG_EPARSE);
	assert_contains(tg_error_last(), "list.yaml");
	free(p);
}

static void test_kubeconfig_in_cluster(void **state)
{
	fixture *f = *state;
	char *p;
	tg_kube_target *t;

	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(tg_kube_target_in_cluster(&t, f->dir), TG_EINVALID);
	assert_contains(tg_error_last(), "KUBERNETES_SERVICE_HOST");
	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(tg_kube_target_in_cluster(&t, f->dir), TG_ENOTFOUND);
	p = tg_path_join(f->dir, "token");
	tt_write_file(p, "sa-token\n");
	free(p);
	p = tg_path_join(f->dir, "ca.crt");
	tt_write_file(p, "-----BEGIN CERTIFICATE-----\n");
	free(p);
	assert_int_equal(tg_kube_target_in_cluster(&t, f->dir), 0);
	assert_string_equal(t->server, "https://10.0.0.1:443");
	assert_string_equal(t->token, "sa-token");
	tg_kube_target_free(t);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	assert_int_equal(tg_kube_target_in_cluster(&t, f->dir), 0);
	assert_string_equal(t->server, "https://[fd00::1]:443");
	tg_kube_target_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubeconfig_current_context),
		cmocka_unit_test(
		        test_kubeconfig_refuses_insecure_unless_allowed),
		cmocka_unit_test(test_kubeconfig_names_missing_entries),
		cmocka_unit_test(test_kubeconfig_rejects_non_kubeconfig),
		cmocka_unit_test(test_kubeconfig_in_cluster),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
