/* Tests of the metrics exposition of tollgate run
 * (reconciler/report/metrics.c). */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/metrics.h"

static void test_metrics_counts_cycles_and_buckets(void **state)
{
	tg_metrics *m = tg_metrics_new();
	tg_cycle_result r;
	char *text;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.units = 3;
	r.applied = 1;
	r.unchanged = 1;
	r.blocked = 1;
	r.images_allowed = 2;
	r.images_blocked = 1;
	r.drifted = 4;
	r.workload_violations[0][TG_PSS_ALLOW_PRIVILEGE_ESCALATION] = 3;
	r.workload_violations[1][TG_PSS_NCONTROLS] = 1;
	memcpy(r.commit, "0123456789abcdef0123456789abcdef01234567", 41);
	tg_metrics_set_source(m, "git://h/\"odd\"\\repo", "main");
	tg_metrics_cycle(m, "success", 0.3, &r, 1700000000);
	tg_metrics_cycle(m, "error", 7.0, NULL, 1700000100);
	tg_metrics_cycle(m, "success", 200.0, &r, 1700000200);
	tg_metrics_set_violations(m, 2);
	tg_metrics_set_leader(m, true);
	tg_metrics_notification(m, true);
	tg_metrics_notification(m, false);
	text = tg_metrics_render(m);
	assert_contains(text, "# TYPE tollgate_cycles_total counter\n");
	assert_contains(text, "tollgate_cycles_total{result=\"success\"} 2\n");
	assert_contains(text, "tollgate_cycles_total{result=\"error\"} 1\n");
	/* cumulative buckets: 0.3 s falls in 0.5 and above, 7 s in 10 and
	 * above, 200 s only in +Inf */
	assert_contains(
	        text,
	        "tollgate_cycle_duration_seconds_bucket{le=\"0.25\"} 0\n");
	assert_contains(
	        text, "tollgate_cycle_duration_seconds_bucket{le=\"0.5\"} 1\n");
	assert_contains(
	        text, "tollgate_cycle_duration_seconds_bucket{le=\"10\"} 2\n");
	assert_contains(
	        text, "tollgate_cycle_duration_seconds_bucket{le=\"120\"} 2\n");
	assert_contains(
	        text,
	        "tollgate_cycle_duration_seconds_bucket{le=\"+Inf\"} 3\n");
	assert_contains(text,
	                "tollgate_cycle_duration_seconds_sum 207.300000\n");
	assert_contains(text, "tollgate_cycle_duration_seconds_count 3\n");
	assert_contains(text, "tollgate_units{verdict=\"blocked\"} 1\n");
	assert_contains(
	        text,
	        "tollgate_images_verified_total{verdict=\"allowed\"} 4\n");
	assert_contains(
	        text,
	        "tollgate_images_verified_total{verdict=\"blocked\"} 2\n");
	assert_contains(text, "tollgate_drifted_objects 4\n");
	assert_contains(text, "tollgate_violations 2\n");
	assert_contains(text, "tollgate_workload_violations{control="
	                      "\"allowPrivilegeEscalation\",mode=\"enforce\"} "
	                      "3\n");
	assert_contains(text, "tollgate_workload_violations{control="
	                      "\"networkPolicy\",mode=\"warn\"} 1\n");
	assert_contains(text, "tollgate_workload_violations{control="
	                      "\"hostPorts\",mode=\"enforce\"} 0\n");
	assert_contains(text, "tollgate_leader 1\n");
	assert_contains(text,
	                "tollgate_notifications_total{result=\"failed\"} 1\n");
	assert_contains(text,
	                "tollgate_last_success_timestamp_seconds 1700000200\n");
	/* label values escaped as the text format wants */
	assert_contains(
	        text,
	        "tollgate_source_info{url=\"git://h/\\\"odd\\\"\\\\repo\","
	        "branch=\"main\",commit="
	        "\"0123456789abcdef0123456789abcdef01234567\"} 1\n");
	free(text);
	tg_metrics_free(m);
}

static void test_metrics_before_any_cycle(void **state)
{
	tg_metrics *m = tg_metrics_new();
	char *text = tg_metrics_render(m);

	(void)state;
	assert_contains(text, "tollgate_last_success_timestamp_seconds 0\n");
	assert_contains(text, "tollgate_cycles_total{result=\"success\"} 0\n");
	/* no commit yet: no info series */
	assert_null(strstr(text, "tollgate_source_info{"));
	free(text);
	tg_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_counts_cycles_and_buckets),
		cmocka_unit_test(test_metrics_before_any_cycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
