/*
 * Tests of the redaction of a failed renderer's stderr
 * (reconciler/render/redact.c): the unit's error carries the renderer's
 * message, but never a value of a Secret the unit's files or the output
 * hold: Secret data (as written and decoded) and stringData, the
 * literals, files and env files of secretGenerators, multi-line values
 * line by line, and a value cut by the stderr cap. The real kustomize
 * (kubectl's) quotes a Secret's value in one of its errors.
 */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/manifest.h"
#include "tollgate/render.h"
#include "tollgate/util.h"

/* The one error of unit u after rendering tt_dir/units, with kustomize
 * run as kcmd (NULL: the default) and a plugin "shell" running
 * `sh -c script` in units holding render.sh (script NULL: none). */
static char *render_error(const char *const *kcmd, const char *script)
{
	static char *detect[] = { "render.sh", NULL };
	char *cmd[4] = { "sh", "-c", (char *)script, NULL };
	tg_config_render_plugin p = { 0 };
	tg_render_options ro = { 0 };
	tg_manifest_options mo = { 0 };
	tg_manifest_set *set = NULL;
	tg_manifest_unit *u;
	tg_render *r = NULL;
	char *units = tg_path_join(tt_dir, "units"), *e;

	p.name = "shell";
	p.detect = detect;
	p.ndetect = 1;
	p.command = cmd;
	p.ncommand = 3;
	p.timeout = 20;
	ro.plugins = &p;
	ro.nplugins = script ? 1 : 0;
	ro.kustomize_command = kcmd;
	ro.nkustomize_command = 0;
	while (kcmd && kcmd[ro.nkustomize_command])
		ro.nkustomize_command++;
	mo.path_prefix = "units";
	assert_int_equal(tg_render_new(&r, &ro), 0);
	assert_int_equal(tg_manifest_set_new(&set, &mo), 0);
	assert_int_equal(tg_render_units_in_dir(set, r, units, tt_dir), 0);
	u = tg_manifest_set_unit_by_name(set, "u");
	assert_non_null(u);
	assert_int_equal(tg_manifest_unit_error_count(u), 1);
	e = tg_strdup(tg_manifest_unit_error(u, 0));
	tg_manifest_set_free(set);
	tg_render_free(r);
	free(units);
	return e;
}

static void assert_absent(const char *msg, const char *value)
{
	if (strstr(msg, value))
		fail_msg("the message quotes \"%s\": %s", value, msg);
}

/* dG9rLVZhbHVlLTEyMw== is base64 of tok-Value-123. */
static const char secret_yaml[] =
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\n"
        "data:\n  token: dG9rLVZhbHVlLTEyMw==\n"
        "stringData:\n  password: pw-Value-456\n"
        "  key: |\n    -----BEGIN KEY-----\n    keyLine1-AAAA\n"
        "    keyLine2-BBBB\n    -----END KEY-----\n"
        "---\napiVersion: v1\nkind: List\nitems:\n"
        "  - {apiVersion: v1, kind: Secret, metadata: {name: l}, "
        "stringData: {x: listed-Value-000}}\n";

/* A plugin prints the Secret file, its decoded data and the values
 * again, then fails: its message keeps the rest, the values are
 * masked. */
static void test_redact_plugin_prints_secret(void **state)
{
	char *e;

	(void)state;
	tt_put("units/u/render.sh", "#\n");
	tt_put("units/u/secret.yaml", secret_yaml);
	e = render_error(NULL,
	                 "echo 'values follow:' >&2; cat secret.yaml >&2; "
	                 "echo dG9rLVZhbHVlLTEyMw== | base64 -d >&2; "
	                 "echo ' pw-Value-456!' >&2; "
	                 "printf pw-Value-456 | base64 >&2; exit 4");
	assert_contains(e, "shell failed (exit status 4): values follow: ");
	assert_contains(e, "kind: Secret");
	assert_contains(e, "password: [redacted]");
	assert_contains(e, "[redacted]!");
	assert_absent(e, "dG9rLVZhbHVlLTEyMw==");
	assert_absent(e, "tok-Value-123");
	assert_absent(e, "pw-Value-456");
	assert_absent(e, "cHctVmFsdWUtNDU2");
	assert_absent(e, "keyLine1-AAAA");
	assert_absent(e, "keyLine2-BBBB");
	assert_absent(e, "listed-Value-000");
	free(e);
}

/* secretGenerator inputs (literals, envs, files) printed by a failing
 * kustomize (a wrapper standing in for it) are masked. */
static void test_redact_secret_generator_inputs(void **state)
{
	static const char *const kcmd[] = {
		"sh", "-c",
		"cd units/u && cat kustomization.yaml db.env certs/tls.key "
		">&2; exit 1",
		NULL
	};
	char *e;

	(void)state;
	tt_put("units/u/kustomization.yaml",
	       "secretGenerator:\n  - name: s\n    literals: "
	       "[pass=lit-Value-789]\n"
	       "    envs: [db.env]\n    files: [tls.key=certs/tls.key]\n");
	tt_put("units/u/db.env", "# db\nDB_PASS=env-Value-012\n");
	tt_put("units/u/certs/tls.key", "file-Value-345\nfile-Line-678\n");
	e = render_error(kcmd, NULL);
	assert_contains(e, "kustomize failed (exit status 1): ");
	assert_contains(e, "secretGenerator:");
	assert_contains(e, "DB_PASS=[redacted]");
	assert_absent(e, "lit-Value-789");
	assert_absent(e, "env-Value-012");
	assert_absent(e, "file-Value-345");
	assert_absent(e, "file-Line-678");
	free(e);
}

/* The real kustomize quotes the node it could not descend into: here a
 * Secret's value, which the message must not carry. */
static void test_redact_real_kustomize_node_contents(void **state)
{
	char *e;

	(void)state;
	tt_put("units/u/secret.yaml",
	       "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\n"
	       "stringData: {password: Sup3rS3cretPw}\n");
	tt_put("units/u/kustomization.yaml",
	       "resources: [secret.yaml]\nreplacements:\n"
	       "  - source: {kind: Secret, name: db, fieldPath: "
	       "stringData.password}\n    targets:\n"
	       "      - select: {kind: Secret}\n"
	       "        fieldPaths: [stringData.password.x]\n");
	e = render_error(NULL, NULL);
	assert_contains(e, "kustomize failed (exit status 1):");
	assert_contains(e, "node contents:");
	assert_contains(e, "[redacted]");
	assert_absent(e, "Sup3rS3cretPw");
	free(e);
}

/* A value cut where the message stops quoting stderr (512 bytes short of
 * TG_MAX_RENDER_STDERR, so the message has room for the names) is masked
 * from where it starts; a broken Secret file still has its values
 * masked. */
static void test_redact_cut_value_and_broken_file(void **state)
{
	char *script, *e;

	(void)state;
	tt_put("units/u/render.sh", "#\n");
	tt_put("units/u/secret.yaml",
	       "apiVersion: v1\nkind: Secret\nstringData: {a: Cut-Secret-Value-"
	       "0123456789}\n");
	tt_put("units/u/broken.yaml",
	       "kind: Secret\nstringData:\n  a: Broken-Value-42\n  b: [\n");
	script = tg_aprintf("cat broken.yaml >&2; head -c %d /dev/zero | tr "
	                    "'\\0' x >&2; echo Cut-Secret-Value-0123456789 "
	                    ">&2; exit 1",
	                    TG_MAX_RENDER_STDERR - 512 - 8 - 53);
	e = render_error(NULL, script);
	if (!strstr(e, "xxx[redacted]"))
		fail_msg("tail: %s", e + strlen(e) - 40);
	assert_absent(e, "Cut-Secr");
	assert_absent(e, "Broken-Value-42");
	assert_contains(e, "kind: Secret");
	free(script);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		        test_redact_plugin_prints_secret, tt_dir_setup,
		        tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_redact_secret_generator_inputs, tt_dir_setup,
		        tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_redact_real_kustomize_node_contents, tt_dir_setup,
		        tt_dir_teardown),
		cmocka_unit_test_setup_teardown(
		        test_redact_cut_value_and_broken_file, tt_dir_setup,
		        tt_dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
