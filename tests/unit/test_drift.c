/* Tests of drift detection (reconciler/drift/drift.c). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testlib.h"
#include "tollgate/drift.h"
#include "tollgate/util.h"

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (!j)
		fail_msg("bad test JSON: %s at %d:%d", e.text, e.line,
		         e.column);
	return j;
}

static const char *desired_deploy =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
        "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\","
        "\"labels\":{\"app\":\"web\",\"tollgate.dev/unit\":\"shop\"}},"
        "\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":"
        "\"web\"}},"
        "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"r/"
        "web:1@sha256:aa\","
        "\"args\":[\"--port\",\"80\"]}]}}}}";

/* What the server returns: defaults filled in, managedFields recording
 * tollgate's apply (every field it set) and a later `kubectl patch` of
 * the replicas and a `kubectl set image` of the container, which took
 * those fields from tollgate. */
static const char *live_deploy =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
        "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\",\"uid\":\"u1\","
        "\"resourceVersion\":\"42\",\"generation\":3,"
        "\"labels\":{\"app\":\"web\",\"tollgate.dev/unit\":\"shop\"},"
        "\"managedFields\":["
        "{\"manager\":\"tollgate\",\"operation\":\"Apply\",\"fieldsType\":"
        "\"FieldsV1\","
        "\"fieldsV1\":{\"f:metadata\":{\"f:labels\":{\"f:app\":{},\"f:tollgate."
        "dev/unit\":{}}},"
        "\"f:spec\":{\"f:selector\":{},\"f:template\":{"
        "\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:"
        "containers\":"
        "{\"k:{\\\"name\\\":\\\"app\\\"}\":{\".\":{},\"f:args\":{},\"f:name\":{"
        "}}}}}}}},"
        "{\"manager\":\"kubectl-patch\",\"operation\":\"Update\","
        "\"fieldsType\":\"FieldsV1\","
        "\"fieldsV1\":{\"f:spec\":{\"f:replicas\":{}}}},"
        "{\"manager\":\"kubectl-set\",\"operation\":\"Update\",\"fieldsType\":"
        "\"FieldsV1\","
        "\"fieldsV1\":{\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:"
        "containers\":"
        "{\"k:{\\\"name\\\":\\\"app\\\"}\":{\"f:image\":{}}}}}}}}]},"
        "\"spec\":{\"replicas\":5,\"revisionHistoryLimit\":10,"
        "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
        "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"evil/"
        "web:latest\","
        "\"args\":[\"--port\",\"80\"],\"imagePullPolicy\":\"Always\"}],"
        "\"restartPolicy\":\"Always\"}}},"
        "\"status\":{\"replicas\":5}}";

static json_t *drift_at(json_t *drift, const char *path)
{
	json_t *d;
	size_t i;

	json_array_foreach(drift, i, d) {
		if (!strcmp(json_string_value(json_object_get(d, "path")),
		            path))
			return d;
	}
	return NULL;
}

/* What a drift report says but the live values: paths and managers. */
static json_t *paths_and_managers(json_t *drift)
{
	json_t *out = json_array(), *d;
	size_t i;

	json_array_foreach(drift, i, d) {
		json_array_append_new(
		        out, json_pack("{s:O,s:O}", "path",
		                       json_object_get(d, "path"), "managers",
		                       json_object_get(d, "managers")));
	}
	return out;
}

/*
 * tg_drift_compare, and the same compare against live reduced by
 * tg_drift_slim (what `tollgate run` keeps of a watched object): both
 * must find the same fields drifted, with the same managers.
 */
static void compare(json_t **out, json_t *desired, json_t *live)
{
	json_t *slim = json_deep_copy(live), *drift, *a, *b;

	tg_drift_slim(slim);
	tg_drift_compare(&drift, desired, slim, "tollgate");
	tg_drift_compare(out, desired, live, "tollgate");
	a = paths_and_managers(*out);
	b = paths_and_managers(drift);
	if (!json_equal(a, b)) {
		char *x = json_dumps(a, 0), *y = json_dumps(b, 0);
		fail_msg("whole live: %s\nslimmed live: %s", x, y);
	}
	json_decref(a);
	json_decref(b);
	json_decref(drift);
	json_decref(slim);
}

static void test_drift_names_fields_and_their_managers(void **state)
{
	json_t *desired = load(desired_deploy), *live = load(live_deploy);
	json_t *drift, *d;

	(void)state;
	compare(&drift, desired, live);
	assert_int_equal(json_array_size(drift), 2);
	d = drift_at(drift, "/spec/replicas");
	assert_non_null(d);
	assert_int_equal(json_array_size(json_object_get(d, "managers")), 1);
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(d, "managers"), 0)),
	                    "kubectl-patch");
	assert_int_equal(json_integer_value(json_object_get(d, "desired")), 2);
	assert_int_equal(json_integer_value(json_object_get(d, "live")), 5);
	d = drift_at(drift, "/spec/template/spec/containers/0/image");
	assert_non_null(d);
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(d, "managers"), 0)),
	                    "kubectl-set");
	json_decref(drift);
	json_decref(desired);
	json_decref(live);
}

static void test_drift_server_defaults_are_not_drift(void **state)
{
	json_t *desired = load(desired_deploy), *live = load(live_deploy);
	json_t *drift, *spec;

	(void)state;
	/* Put the live values back: only defaults remain different. */
	spec = json_object_get(live, "spec");
	json_object_set_new(spec, "replicas", json_integer(2));
	json_object_set_new(
	        json_array_get(
	                json_object_get(
	                        json_object_get(
	                                json_object_get(spec, "template"),
	                                "spec"),
	                        "containers"),
	                0),
	        "image", json_string("r/web:1@sha256:aa"));
	compare(&drift, desired, live);
	assert_int_equal(json_array_size(drift), 0);
	json_decref(drift);
	json_decref(desired);
	json_decref(live);
}

static void test_drift_removed_label_and_container(void **state)
{
	json_t *desired = load(desired_deploy), *live = load(live_deploy);
	json_t *drift;

	(void)state;
	json_object_del(
	        json_object_get(json_object_get(live, "metadata"), "labels"),
	        "tollgate.dev/unit");
	json_array_clear(json_object_get(
	        json_object_get(json_object_get(json_object_get(live, "spec"),
	                                        "template"),
	                        "spec"),
	        "containers"));
	compare(&drift, desired, live);
	assert_non_null(drift_at(drift, "/metadata/labels/tollgate.dev~1unit"));
	assert_non_null(drift_at(drift, "/spec/template/spec/containers"));
	json_decref(drift);
	json_decref(desired);
	json_decref(live);
}

/* A Service's ports are a list without names: the server fills in each
 * port's protocol, which is a default, not drift; a changed targetPort
 * and a removed port are drift. */
static void test_drift_unnamed_list_items_compare_by_field(void **state)
{
	const char *desired_svc =
	        "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
	        "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},"
	        "\"spec\":{\"selector\":{\"app\":\"web\"},"
	        "\"ports\":[{\"port\":80,\"targetPort\":8080},"
	        "{\"port\":443,\"targetPort\":8443}]}}";
	const char *live_svc =
	        "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
	        "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},"
	        "\"spec\":{\"selector\":{\"app\":\"web\"},\"type\":"
	        "\"ClusterIP\","
	        "\"ports\":[{\"port\":80,\"protocol\":\"TCP\",\"targetPort\":"
	        "8080},"
	        "{\"port\":443,\"protocol\":\"TCP\",\"targetPort\":8443}]}}";
	json_t *desired = load(desired_svc), *live = load(live_svc);
	json_t *ports = json_object_get(json_object_get(live, "spec"), "ports");
	json_t *drift;

	(void)state;
	compare(&drift, desired, live);
	assert_int_equal(json_array_size(drift), 0);
	json_decref(drift);

	json_object_set_new(json_array_get(ports, 1), "targetPort",
	                    json_integer(9000));
	compare(&drift, desired, live);
	assert_int_equal(json_array_size(drift), 1);
	assert_non_null(drift_at(drift, "/spec/ports/1/targetPort"));
	json_decref(drift);

	json_array_remove(ports, 1);
	compare(&drift, desired, live);
	assert_int_equal(json_array_size(drift), 1);
	assert_non_null(drift_at(drift, "/spec/ports"));
	json_decref(drift);
	json_decref(desired);
	json_decref(live);
}

/* A NetworkPolicy peer widened by `kubectl edit` (namespaceSelector added
 * to an item of a list that is replaced whole): the added field is owned
 * by another manager, so it is drift even though every field tollgate set
 * is unchanged. */
static void test_drift_field_added_to_atomic_list_item(void **state)
{
	const char *desired_np =
	        "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
	        "\"NetworkPolicy\",\"metadata\":{\"name\":\"web\","
	        "\"namespace\":\"shop\"},\"spec\":{\"podSelector\":{},"
	        "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":"
	        "{\"app\":\"web\"}}}]}]}}";
	const char *live_np =
	        "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
	        "\"NetworkPolicy\",\"metadata\":{\"name\":\"web\","
	        "\"namespace\":\"shop\",\"managedFields\":["
	        "{\"manager\":\"tollgate\",\"operation\":\"Apply\","
	        "\"fieldsV1\":{\"f:spec\":{\"f:podSelector\":{}}}},"
	        "{\"manager\":\"kubectl-edit\",\"operation\":\"Update\","
	        "\"fieldsV1\":{\"f:spec\":{\"f:ingress\":{}}}}]},"
	        "\"spec\":{\"podSelector\":{},\"policyTypes\":[\"Ingress\"],"
	        "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":"
	        "{\"app\":\"web\"}},\"namespaceSelector\":{}}]}]}}";
	json_t *desired = load(desired_np), *live = load(live_np);
	json_t *drift, *d;

	(void)state;
	compare(&drift, desired, live);
	assert_int_equal(json_array_size(drift), 1);
	/* Found at the peer list inside the item the other writer owns
	 * whole. */
	d = drift_at(drift, "/spec/ingress/0/from");
	assert_non_null(d);
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(d, "managers"), 0)),
	                    "kubectl-edit");
	json_decref(drift);
	json_decref(desired);
	json_decref(live);
}

/* A Service applied with the same ports by tollgate and by `kubectl apply
 * --server-side` (both own the port item; the server filled in its
 * protocol): shared, not drift, or every cycle would correct it. A field
 * `kubectl edit` then adds to the item is owned by it alone: drift. */
static void test_drift_shared_list_item_is_not_drift(void **state)
{
	const char *desired_svc =
	        "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
	        "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},"
	        "\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080}]}}";
	const char *item_fields = "{\"f:spec\":{\"f:ports\":{\"k:{\\\"port\\\":"
	                          "80,\\\"protocol\\\":"
	                          "\\\"TCP\\\"}\":{\".\":{},\"f:port\":{},\"f:"
	                          "targetPort\":{}}}}}";
	char *live_svc = tg_aprintf(
	        "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
	        "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\","
	        "\"managedFields\":["
	        "{\"manager\":\"tollgate\",\"operation\":\"Apply\","
	        "\"fieldsV1\":%s},"
	        "{\"manager\":\"kubectl\",\"operation\":\"Apply\","
	        "\"fieldsV1\":%s}]},"
	        "\"spec\":{\"ports\":[{\"port\":80,\"protocol\":\"TCP\","
	        "\"targetPort\":8080}]}}",
	        item_fields, item_fields);
	json_t *desired = load(desired_svc), *live = load(live_svc);
	json_t *mf = json_object_get(json_object_get(live, "metadata"),
	                             "managedFields");
	json_t *drift, *d;

	(void)state;
	compare(&drift, desired, live);
	assert_int_equal(json_array_size(drift), 0);
	json_decref(drift);

	json_object_set_new(
	        json_array_get(
	                json_object_get(json_object_get(live, "spec"), "ports"),
	                0),
	        "appProtocol", json_string("http"));
	json_array_append_new(
	        mf,
	        load("{\"manager\":\"kubectl-edit\",\"operation\":"
	             "\"Update\",\"fieldsV1\":{\"f:spec\":{\"f:ports\":"
	             "{\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":"
	             "{\"f:appProtocol\":{}}}}}}"));
	compare(&drift, desired, live);
	assert_int_equal(json_array_size(drift), 1);
	d = drift_at(drift, "/spec/ports");
	assert_non_null(d);
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(d, "managers"), 1)),
	                    "kubectl-edit");
	json_decref(drift);
	json_decref(desired);
	json_decref(live);
	free(live_svc);
}

/* A field of a list item that another writer set as a whole (an atomic
 * labelSelector: its managedFields entry is the leaf {}) covers what it
 * holds: a selector widened by kubectl edit is drift. */
static void test_drift_atomic_field_in_list_item_is_drift(void **state)
{
	const char *item = "\"k:{\\\"topologyKey\\\":\\\"zone\\\","
	                   "\\\"whenUnsatisfiable\\\":\\\"DoNotSchedule\\\"}\"";
	json_t *desired =
	        load("{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
	             "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},"
	             "\"spec\":{\"topologySpreadConstraints\":[{\"maxSkew\":1,"
	             "\"topologyKey\":\"zone\",\"whenUnsatisfiable\":"
	             "\"DoNotSchedule\",\"labelSelector\":{\"matchLabels\":"
	             "{\"app\":\"web\"}}}]}}");
	char *live_text = tg_aprintf(
	        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
	        "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\","
	        "\"managedFields\":["
	        "{\"manager\":\"tollgate\",\"operation\":\"Apply\","
	        "\"fieldsV1\":{\"f:spec\":{\"f:topologySpreadConstraints\":"
	        "{%s:{\".\":{},\"f:maxSkew\":{},\"f:topologyKey\":{},"
	        "\"f:whenUnsatisfiable\":{}}}}}},"
	        "{\"manager\":\"kubectl-edit\",\"operation\":\"Update\","
	        "\"fieldsV1\":{\"f:spec\":{\"f:topologySpreadConstraints\":"
	        "{%s:{\"f:labelSelector\":{}}}}}}]},"
	        "\"spec\":{\"topologySpreadConstraints\":[{\"maxSkew\":1,"
	        "\"topologyKey\":\"zone\",\"whenUnsatisfiable\":"
	        "\"DoNotSchedule\",\"labelSelector\":{\"matchLabels\":"
	        "{\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"tier\","
	        "\"operator\":\"Exists\"}]}}]}}",
	        item, item);
	json_t *live = load(live_text), *drift, *d;

	(void)state;
	compare(&drift, desired, live);
	assert_int_equal(json_array_size(drift), 1);
	d = drift_at(drift, "/spec/topologySpreadConstraints");
	assert_non_null(d);
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(d, "managers"), 0)),
	                    "kubectl-edit");
	json_decref(drift);
	json_decref(desired);
	json_decref(live);
	free(live_text);
}

static void test_drift_secret_reports_keys_never_values(void **state)
{
	json_t *desired = load("{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
	                       "\"metadata\":{\"name\":\"db\"},"
	                       "\"stringData\":{\"password\":\"hunter2\"},"
	                       "\"data\":{\"user\":\"YWRtaW4=\"}}");
	json_t *live =
	        load("{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
	             "\"metadata\":{\"name\":\"db\"},\"type\":\"Opaque\","
	             "\"data\":{\"user\":\"cm9vdA==\","
	             "\"password\":\"aHVudGVyMg==\"}}");
	json_t *drift;
	char *text;

	(void)state;
	compare(&drift, desired, live);
	assert_int_equal(json_array_size(drift), 1);
	assert_non_null(drift_at(drift, "/data/user"));
	text = json_dumps(drift, 0);
	assert_null(strstr(text, "cm9vdA"));
	assert_null(strstr(text, "YWRtaW4"));
	free(text);
	json_decref(drift);
	/* The password changed in the cluster: reported, value hidden. */
	json_object_set_new(json_object_get(live, "data"), "password",
	                    json_string("b3RoZXI="));
	json_object_set_new(json_object_get(live, "data"), "user",
	                    json_string("YWRtaW4="));
	compare(&drift, desired, live);
	assert_int_equal(json_array_size(drift), 1);
	assert_non_null(drift_at(drift, "/data/password"));
	text = json_dumps(drift, 0);
	assert_null(strstr(text, "hunter2"));
	assert_null(strstr(text, "b3RoZXI"));
	free(text);
	json_decref(drift);
	json_decref(desired);
	json_decref(live);
}

static void test_drift_owner_by_set_and_positional_keys(void **state)
{
	json_t *live = load(
	        "{\"metadata\":{\"finalizers\":[\"a\"],\"managedFields\":["
	        "{\"manager\":\"m1\",\"fieldsV1\":{\"f:metadata\":{\"f:"
	        "finalizers\":"
	        "{\"v:\\\"a\\\"\":{}}}}},"
	        "{\"manager\":\"m2\",\"fieldsV1\":{\"f:spec\":{\"f:ports\":"
	        "{\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\"f:"
	        "targetPort\":{}}}}}}]},"
	        "\"spec\":{\"ports\":[{\"port\":80,\"protocol\":\"TCP\","
	        "\"targetPort\":8080}]}}");
	json_t *o;

	(void)state;
	o = tg_drift_owners(live, "/metadata/finalizers/0", "tollgate");
	assert_int_equal(json_array_size(o), 1);
	assert_string_equal(json_string_value(json_array_get(o, 0)), "m1");
	json_decref(o);
	o = tg_drift_owners(live, "/spec/ports/0/targetPort", "tollgate");
	assert_int_equal(json_array_size(o), 1);
	assert_string_equal(json_string_value(json_array_get(o, 0)), "m2");
	json_decref(o);
	o = tg_drift_owners(live, "/spec/ports/0/port", "tollgate");
	assert_int_equal(json_array_size(o), 0);
	json_decref(o);
	json_decref(live);
}

static json_t *at(json_t *v, const char *path)
{
	char *copy = tg_strdup(path), *save = NULL, *seg;

	for (seg = strtok_r(copy, "/", &save); seg && v;
	     seg = strtok_r(NULL, "/", &save))
		v = json_is_array(v) ? json_array_get(v, strtoul(seg, NULL, 10))
		                     : json_object_get(v, seg);
	free(copy);
	return v;
}

/*
 * What `tollgate run` keeps of a watched object (tg_drift_slim): the
 * fields of every manager, not only tollgate's. The image `kubectl set
 * image` took and the appProtocol `kubectl edit` added to a port (a field
 * tollgate never set, seen only because its writer owns it) stay, and
 * the compare still reports them; server defaults and status but what
 * health reads go.
 */
static void test_drift_slim_keeps_fields_of_every_manager(void **state)
{
	json_t *desired = load(desired_deploy), *live = load(live_deploy);
	json_t *svc = load(
	        "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"
	        "{\"name\":\"web\",\"namespace\":\"shop\",\"managedFields\":["
	        "{\"manager\":\"tollgate\",\"operation\":\"Apply\",\"time\":"
	        "\"2026-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\","
	        "\"fieldsV1\":{\"f:spec\":{\"f:ports\":{\"k:{\\\"port\\\":80,"
	        "\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:port\":{},"
	        "\"f:targetPort\":{}}}}}},"
	        "{\"manager\":\"kubectl-edit\",\"operation\":\"Update\","
	        "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":"
	        "{\"f:ports\":{\"k:{\\\"port\\\":80,\\\"protocol\\\":"
	        "\\\"TCP\\\"}\":{\"f:appProtocol\":{}}}}}}]},"
	        "\"spec\":{\"clusterIP\":\"10.0.0.1\",\"type\":\"ClusterIP\","
	        "\"ports\":[{\"port\":80,\"protocol\":\"TCP\",\"targetPort\":"
	        "8080,\"appProtocol\":\"http\"}]},\"status\":{\"loadBalancer\":"
	        "{}}}");
	json_t *svc_desired = load(
	        "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"
	        "{\"name\":\"web\",\"namespace\":\"shop\"},\"spec\":{\"ports\":"
	        "[{\"port\":80,\"targetPort\":8080}]}}");
	json_t *drift, *d, *c;

	(void)state;
	tg_drift_slim(live);
	c = at(live, "spec/template/spec/containers/0");
	assert_string_equal(json_string_value(json_object_get(c, "image")),
	                    "evil/web:latest");
	assert_string_equal(json_string_value(json_object_get(c, "name")),
	                    "app");
	assert_null(json_object_get(c, "imagePullPolicy"));
	assert_null(at(live, "spec/template/spec/restartPolicy"));
	assert_null(at(live, "spec/revisionHistoryLimit"));
	assert_int_equal(json_integer_value(at(live, "spec/replicas")), 5);
	assert_int_equal(json_integer_value(at(live, "status/replicas")), 5);
	assert_string_equal(json_string_value(at(live, "metadata/uid")), "u1");
	assert_int_equal(json_array_size(at(live, "metadata/managedFields")),
	                 3);
	compare(&drift, desired, live);
	d = drift_at(drift, "/spec/template/spec/containers/0/image");
	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(d, "live")),
	                    "evil/web:latest");
	json_decref(drift);

	tg_drift_slim(svc);
	assert_string_equal(
	        json_string_value(at(svc, "spec/ports/0/appProtocol")), "http");
	assert_string_equal(json_string_value(at(svc, "spec/ports/0/protocol")),
	                    "TCP");
	assert_null(at(svc, "spec/clusterIP"));
	assert_null(at(svc, "status"));
	assert_null(at(svc, "metadata/managedFields/0/time"));
	tg_drift_compare(&drift, svc_desired, svc, "tollgate");
	assert_int_equal(json_array_size(drift), 1);
	d = drift_at(drift, "/spec/ports");
	assert_non_null(d);
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(d, "managers"), 0)),
	                    "kubectl-edit");
	json_decref(drift);
	json_decref(svc);
	json_decref(svc_desired);
	json_decref(desired);
	json_decref(live);
}

/* Without managedFields nothing tells a server default from a field
 * someone set: all is kept but the status health does not read. */
static void test_drift_slim_without_managed_fields_keeps_all(void **state)
{
	json_t *live = load(
	        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
	        "\"metadata\":{\"name\":\"web\"},\"spec\":{\"paused\":true,"
	        "\"template\":{\"spec\":{\"dnsPolicy\":\"None\"}}},"
	        "\"status\":{\"observedGeneration\":2,\"conditions\":[{"
	        "\"type\":\"Progressing\",\"status\":\"False\",\"reason\":"
	        "\"ProgressDeadlineExceeded\",\"message\":\"long text\"}],"
	        "\"collisionCount\":1}}");

	(void)state;
	tg_drift_slim(live);
	assert_true(json_is_true(at(live, "spec/paused")));
	assert_string_equal(
	        json_string_value(at(live, "spec/template/spec/dnsPolicy")),
	        "None");
	assert_int_equal(
	        json_integer_value(at(live, "status/observedGeneration")), 2);
	assert_string_equal(
	        json_string_value(at(live, "status/conditions/0/reason")),
	        "ProgressDeadlineExceeded");
	assert_null(at(live, "status/conditions/0/message"));
	assert_null(at(live, "status/collisionCount"));
	json_decref(live);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drift_names_fields_and_their_managers),
		cmocka_unit_test(test_drift_server_defaults_are_not_drift),
		cmocka_unit_test(test_drift_removed_label_and_container),
		cmocka_unit_test(
		        test_drift_unnamed_list_items_compare_by_field),
		cmocka_unit_test(test_drift_field_added_to_atomic_list_item),
		cmocka_unit_test(test_drift_secret_reports_keys_never_values),
		cmocka_unit_test(test_drift_owner_by_set_and_positional_keys),
		cmocka_unit_test(test_drift_shared_list_item_is_not_drift),
		cmocka_unit_test(test_drift_atomic_field_in_list_item_is_drift),
		cmocka_unit_test(test_drift_slim_keeps_fields_of_every_manager),
		cmocka_unit_test(
		        test_drift_slim_without_managed_fields_keeps_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
