/*
 * Defaulting: the fields kube-apiserver fills in on every write of the
 * common workload types, Pods and Services (pkg/apis/<group>/v1/
 * defaults.go in Kubernetes), so that live objects carry the same extra
 * fields a real cluster shows and drift checks meet them. Only absent
 * fields are set.
 */
#include <stdio.h>
#include <string.h>

#include "tc.h"
#include "tollgate/util.h"

static bool str_is(json_t *v, const char *s)
{
	return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

/* Set key in obj to v (reference stolen) unless present. */
static void dflt(json_t *obj, const char *key, json_t *v)
{
	if (json_is_object(obj) && json_object_get(obj, key) == NULL)
		json_object_set_new(obj, key, v);
	else
		json_decref(v);
}

/* The member object key of obj, created when absent (borrowed). */
static json_t *member(json_t *obj, const char *key)
{
	json_t *m = json_object_get(obj, key);

	if (m == NULL && json_is_object(obj)) {
		m = json_object();
		json_object_set_new(obj, key, m);
	}
	return m;
}

/* imagePullPolicy: Always for ":latest" or no tag, else IfNotPresent. */
static const char *pull_policy(const char *image)
{
	const char *slash, *colon;

	if (image == NULL || strchr(image, '@') != NULL)
		return "IfNotPresent";
	slash = strrchr(image, '/');
	colon = strrchr(slash ? slash : image, ':');
	if (colon == NULL || strcmp(colon, ":latest") == 0)
		return "Always";
	return "IfNotPresent";
}

static void container_defaults(json_t *c)
{
	json_t *p;
	size_t i;

	dflt(c, "terminationMessagePath", json_string("/dev/termination-log"));
	dflt(c, "terminationMessagePolicy", json_string("File"));
	dflt(c, "imagePullPolicy",
	     json_string(pull_policy(
	             json_string_value(json_object_get(c, "image")))));
	dflt(c, "resources", json_object());
	json_array_foreach(json_object_get(c, "ports"), i, p)
		dflt(p, "protocol", json_string("TCP"));
}

static void pod_spec_defaults(json_t *spec, bool in_template)
{
	const char *lists[] = { "containers", "initContainers" };
	json_t *c;
	size_t i, j;

	if (!json_is_object(spec))
		return;
	dflt(spec, "restartPolicy", json_string("Always"));
	dflt(spec, "terminationGracePeriodSeconds", json_integer(30));
	dflt(spec, "dnsPolicy", json_string("ClusterFirst"));
	dflt(spec, "securityContext", json_object());
	dflt(spec, "schedulerName", json_string("default-scheduler"));
	if (!in_template)
		dflt(spec, "enableServiceLinks", json_true());
	for (j = 0; j < 2; j++)
		json_array_foreach(json_object_get(spec, lists[j]), i, c)
			container_defaults(c);
}

static json_t *percent_rolling(void)
{
	return json_pack("{s:s,s:s}", "maxUnavailable", "25%", "maxSurge",
	                 "25%");
}

static void deployment_defaults(json_t *spec)
{
	json_t *strategy = member(spec, "strategy");

	dflt(spec, "replicas", json_integer(1));
	dflt(spec, "revisionHistoryLimit", json_integer(10));
	dflt(spec, "progressDeadlineSeconds", json_integer(600));
	dflt(strategy, "type", json_string("RollingUpdate"));
	if (str_is(json_object_get(strategy, "type"), "RollingUpdate"))
		dflt(strategy, "rollingUpdate", percent_rolling());
}

static void statefulset_defaults(json_t *spec)
{
	json_t *strategy = member(spec, "updateStrategy");

	dflt(spec, "replicas", json_integer(1));
	dflt(spec, "revisionHistoryLimit", json_integer(10));
	dflt(spec, "podManagementPolicy", json_string("OrderedReady"));
	dflt(strategy, "type", json_string("RollingUpdate"));
	if (str_is(json_object_get(strategy, "type"), "RollingUpdate"))
		dflt(strategy, "rollingUpdate",
		     json_pack("{s:i}", "partition", 0));
	dflt(spec, "persistentVolumeClaimRetentionPolicy",
	     json_pack("{s:s,s:s}", "whenDeleted", "Retain", "whenScaled",
	               "Retain"));
}

static void daemonset_defaults(json_t *spec)
{
	json_t *strategy = member(spec, "updateStrategy");

	dflt(spec, "revisionHistoryLimit", json_integer(10));
	dflt(strategy, "type", json_string("RollingUpdate"));
	if (str_is(json_object_get(strategy, "type"), "RollingUpdate"))
		dflt(strategy, "rollingUpdate",
		     json_pack("{s:i,s:i}", "maxUnavailable", 1, "maxSurge",
		               0));
}

/* A stable cluster IP in 10.96.0.0/12 from the service's namespace and
 * name (a real cluster allocates one at random). */
static void cluster_ip(char out[16], json_t *obj)
{
	char *key = tc_obj_key(tc_obj_ns(obj), tc_obj_name(obj));
	unsigned char d[32];

	tg_sha256(d, key, strlen(key));
	free(key);
	snprintf(out, 16, "10.%u.%u.%u", 96u + (d[0] & 0x0f), d[1],
	         d[2] == 0 ? 1u : d[2]);
}

static void service_defaults(json_t *obj, json_t *spec)
{
	const char *type;
	json_t *p;
	size_t i;
	char ip[16];

	dflt(spec, "type", json_string("ClusterIP"));
	dflt(spec, "sessionAffinity", json_string("None"));
	type = json_string_value(json_object_get(spec, "type"));
	if (type == NULL || strcmp(type, "ExternalName") != 0) {
		cluster_ip(ip, obj);
		dflt(spec, "clusterIP", json_string(ip));
		dflt(spec, "clusterIPs",
		     json_pack("[O]", json_object_get(spec, "clusterIP")));
		dflt(spec, "ipFamilies", json_pack("[s]", "IPv4"));
		dflt(spec, "ipFamilyPolicy", json_string("SingleStack"));
		dflt(spec, "internalTrafficPolicy", json_string("Cluster"));
	}
	json_array_foreach(json_object_get(spec, "ports"), i, p) {
		dflt(p, "protocol", json_string("TCP"));
		if (json_object_get(p, "port") != NULL)
			dflt(p, "targetPort",
			     json_incref(json_object_get(p, "port")));
	}
}

void tc_defaults_apply(const tc_type *t, json_t *obj)
{
	json_t *spec = json_object_get(obj, "spec");
	json_t *tmpl =
	        json_object_get(json_object_get(spec, "template"), "spec");
	const char *r = t->resource;

	if (t->flags & TC_T_CRD || !json_is_object(spec))
		return;
	if (strcmp(r, "deployments") == 0)
		deployment_defaults(spec);
	else if (strcmp(r, "statefulsets") == 0)
		statefulset_defaults(spec);
	else if (strcmp(r, "daemonsets") == 0)
		daemonset_defaults(spec);
	else if (strcmp(r, "services") == 0)
		service_defaults(obj, spec);
	else if (strcmp(r, "pods") == 0)
		pod_spec_defaults(spec, false);
	if (strcmp(r, "deployments") == 0 || strcmp(r, "statefulsets") == 0 ||
	    strcmp(r, "daemonsets") == 0 || strcmp(r, "replicasets") == 0 ||
	    strcmp(r, "jobs") == 0)
		pod_spec_defaults(tmpl, true);
}
