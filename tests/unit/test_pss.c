/* Tests of the Pod Security Standards checks (reconciler/admit/pss*.c):
 * for each control of the standard (kubernetes.io "Pod Security
 * Standards": the fields it restricts and the values it allows), a pod
 * that passes and pods that fail, at the level and version given, with
 * container-level settings overriding pod-level ones, init and ephemeral
 * containers, annotations and fields for AppArmor, Windows pods and the
 * sysctls allowed by version. Each case lists every violation expected
 * as "control path" lines (sorted): nothing more, nothing less. */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/admit.h"
#include "tollgate/buf.h"
#include "tollgate/util.h"

#define B TG_PSS_LEVEL_BASELINE
#define R TG_PSS_LEVEL_RESTRICTED
#define LATEST TG_PSS_LATEST_MINOR

/* A pod that passes restricted, with one container. */
#define GOOD_SC                                                                \
	"\"securityContext\":{\"runAsNonRoot\":true,"                          \
	"\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}"
#define GOOD_CSC                                                               \
	"\"securityContext\":{\"allowPrivilegeEscalation\":false,"             \
	"\"capabilities\":{\"drop\":[\"ALL\"]}}"
#define GOOD_C "{\"name\":\"app\",\"image\":\"x\"," GOOD_CSC "}"
#define GOOD_POD "{" GOOD_SC ",\"containers\":[" GOOD_C "]}"

typedef struct pss_case {
	const char *name;
	tg_pss_level level;
	unsigned minor;
	const char *spec; /* JSON */
	const char *meta; /* JSON or NULL */
	const char *want; /* "control path" lines, sorted; "" passes */
} pss_case;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The violations of c as sorted "control path" lines. */
static char *run_case(const pss_case *c, json_t **found_out)
{
	json_error_t je;
	json_t *spec = json_loads(c->spec, 0, &je), *meta = NULL, *out, *v;
	char **lines;
	size_t i, n;
	tg_buf b;

	if (!spec)
		fail_msg("%s: spec: %s", c->name, je.text);
	if (c->meta && !(meta = json_loads(c->meta, 0, &je)))
		fail_msg("%s: meta: %s", c->name, je.text);
	out = json_array();
	n = tg_pss_check(out, spec, meta, "spec", "metadata", c->level,
	                 c->minor);
	assert_int_equal(n, json_array_size(out));
	lines = tg_calloc(n + 1, sizeof(*lines));
	json_array_foreach(out, i, v)
		lines[i] = tg_aprintf(
		        "%s %s",
		        json_string_value(json_object_get(v, "control")),
		        json_string_value(json_object_get(v, "path")));
	qsort(lines, n, sizeof(*lines), cmp_str);
	tg_buf_init(&b, 1u << 16);
	for (i = 0; i < n; i++) {
		assert_int_equal(
		        tg_buf_printf(&b, "%s%s", i ? "\n" : "", lines[i]), 0);
		free(lines[i]);
	}
	free(lines);
	json_decref(spec);
	json_decref(meta);
	*found_out = out;
	return b.data ? tg_buf_detach(NULL, &b) : tg_strdup("");
}

static void check_cases(const pss_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *out;
		char *got = run_case(&cases[i], &out);

		if (strcmp(got, cases[i].want))
			fail_msg("%s: violations\n%s\nwant\n%s", cases[i].name,
			         got, cases[i].want);
		free(got);
		json_decref(out);
	}
}

/* Baseline ---------------------------------------------------------------- */

static const pss_case baseline_cases[] = {
	/* HostProcess: pod and every container list; false allowed */
	{ "hostProcess pod", B, LATEST,
	  "{\"securityContext\":{\"windowsOptions\":{\"hostProcess\":true}},"
	  "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}",
	  NULL, "hostProcess spec.securityContext.windowsOptions.hostProcess" },
	{ "hostProcess ephemeral container", B, LATEST,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}],"
	  "\"ephemeralContainers\":[{\"name\":\"dbg\",\"image\":\"x\","
	  "\"securityContext\":{\"windowsOptions\":{\"hostProcess\":true}}}]}",
	  NULL,
	  "hostProcess spec.ephemeralContainers[0].securityContext."
	  "windowsOptions.hostProcess" },
	{ "hostProcess false", B, LATEST,
	  "{\"securityContext\":{\"windowsOptions\":{\"hostProcess\":false}},"
	  "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}",
	  NULL, "" },
	/* Host namespaces */
	{ "host namespaces", B, LATEST,
	  "{\"hostNetwork\":true,\"hostPID\":true,\"hostIPC\":false,"
	  "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}",
	  NULL,
	  "hostNamespaces spec.hostNetwork\nhostNamespaces spec.hostPID" },
	{ "host namespaces false", B, LATEST,
	  "{\"hostNetwork\":false,\"containers\":[{\"name\":\"a\","
	  "\"image\":\"x\"}]}",
	  NULL, "" },
	/* Privileged containers, init containers too */
	{ "privileged", B, LATEST,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	  "\"securityContext\":{\"privileged\":false}}],"
	  "\"initContainers\":[{\"name\":\"i\",\"image\":\"x\","
	  "\"securityContext\":{\"privileged\":true}}]}",
	  NULL,
	  "privileged spec.initContainers[0].securityContext.privileged" },
	/* Capabilities: the default set only */
	{ "capabilities baseline", B, LATEST,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	  "\"securityContext\":{\"capabilities\":{\"add\":[\"CHOWN\","
	  "\"NET_ADMIN\",\"NET_BIND_SERVICE\",\"SYS_ADMIN\"]}}}]}",
	  NULL,
	  "capabilities_baseline spec.containers[0].securityContext."
	  "capabilities.add[1]\n"
	  "capabilities_baseline spec.containers[0].securityContext."
	  "capabilities.add[3]" },
	{ "capabilities default set", B, LATEST,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	  "\"securityContext\":{\"capabilities\":{\"add\":[\"AUDIT_WRITE\","
	  "\"CHOWN\",\"DAC_OVERRIDE\",\"FOWNER\",\"FSETID\",\"KILL\","
	  "\"MKNOD\",\"NET_BIND_SERVICE\",\"SETFCAP\",\"SETGID\","
	  "\"SETPCAP\",\"SETUID\",\"SYS_CHROOT\"]}}}]}",
	  NULL, "" },
	/* HostPath volumes */
	{ "hostPath", B, LATEST,
	  "{\"volumes\":[{\"name\":\"c\",\"emptyDir\":{}},{\"name\":\"h\","
	  "\"hostPath\":{\"path\":\"/\"}}],\"containers\":[{\"name\":\"a\","
	  "\"image\":\"x\"}]}",
	  NULL, "hostPathVolumes spec.volumes[1].hostPath" },
	/* Host ports: 0 or unset */
	{ "host ports", B, LATEST,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":["
	  "{\"containerPort\":80,\"hostPort\":0},{\"containerPort\":81,"
	  "\"hostPort\":8081}]}]}",
	  NULL, "hostPorts spec.containers[0].ports[1].hostPort" },
	/* AppArmor: annotations and fields */
	{ "apparmor annotations", B, LATEST,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\","
	  "\"image\":\"x\"},{\"name\":\"c\",\"image\":\"x\"}]}",
	  "{\"annotations\":{\"container.apparmor.security.beta.kubernetes.io"
	  "/a\":\"runtime/default\",\"container.apparmor.security.beta."
	  "kubernetes.io/b\":\"localhost/k8s-nginx\",\"container.apparmor."
	  "security.beta.kubernetes.io/c\":\"unconfined\"}}",
	  "appArmorProfile metadata.annotations[\"container.apparmor.security."
	  "beta.kubernetes.io/c\"]" },
	{ "apparmor fields", B, LATEST,
	  "{\"securityContext\":{\"appArmorProfile\":{\"type\":\"Unconfined\"}}"
	  ","
	  "\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"securityContext\":"
	  "{\"appArmorProfile\":{\"type\":\"Localhost\",\"localhostProfile\":"
	  "\"p\"}}},{\"name\":\"b\",\"image\":\"x\",\"securityContext\":"
	  "{\"appArmorProfile\":{\"type\":\"Unconfined\"}}}]}",
	  NULL,
	  "appArmorProfile spec.containers[1].securityContext.appArmorProfile."
	  "type\nappArmorProfile spec.securityContext.appArmorProfile.type" },
	/* SELinux: type from a set (container_engine_t from v1.31), no user
	 * or role */
	{ "selinux", B, LATEST,
	  "{\"securityContext\":{\"seLinuxOptions\":{\"type\":\"spc_t\","
	  "\"level\":\"s0:c123,c456\"}},\"containers\":[{\"name\":\"a\","
	  "\"image\":\"x\",\"securityContext\":{\"seLinuxOptions\":{"
	  "\"type\":\"container_engine_t\",\"user\":\"system_u\","
	  "\"role\":\"\"}}}]}",
	  NULL,
	  "seLinuxOptions spec.containers[0].securityContext.seLinuxOptions."
	  "user\nseLinuxOptions spec.securityContext.seLinuxOptions.type" },
	{ "selinux engine before v1.31", B, 30,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	  "\"securityContext\":"
	  "{\"seLinuxOptions\":{\"type\":\"container_engine_t\"}}}]}",
	  NULL,
	  "seLinuxOptions spec.containers[0].securityContext.seLinuxOptions."
	  "type" },
	{ "selinux container_t", B, LATEST,
	  "{\"securityContext\":{\"seLinuxOptions\":{\"type\":\"container_t\","
	  "\"level\":\"s0\"}},\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]"
	  "}",
	  NULL, "" },
	/* /proc mount type */
	{ "procMount", B, LATEST,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	  "\"securityContext\":"
	  "{\"procMount\":\"Default\"}},{\"name\":\"b\",\"image\":\"x\","
	  "\"securityContext\":{\"procMount\":\"Unmasked\"}}]}",
	  NULL, "procMount spec.containers[1].securityContext.procMount" },
	/* Seccomp: not Unconfined; annotations before v1.19 */
	{ "seccomp baseline", B, LATEST,
	  "{\"securityContext\":{\"seccompProfile\":{\"type\":\"Unconfined\"}},"
	  "\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"securityContext\":"
	  "{\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}},{\"name\":\"b\","
	  "\"image\":\"x\",\"securityContext\":{\"seccompProfile\":{\"type\":"
	  "\"Unconfined\"}}}]}",
	  NULL,
	  "seccompProfile_baseline spec.containers[1].securityContext."
	  "seccompProfile.type\nseccompProfile_baseline spec.securityContext."
	  "seccompProfile.type" },
	{ "seccomp annotation v1.18", B, 18,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}",
	  "{\"annotations\":{\"seccomp.security.alpha.kubernetes.io/pod\":"
	  "\"unconfined\"}}",
	  "seccompProfile_baseline metadata.annotations[\"seccomp.security."
	  "alpha.kubernetes.io/pod\"]" },
	/* Sysctls: the safe set of each version */
	{ "sysctls latest", B, LATEST,
	  "{\"securityContext\":{\"sysctls\":[{\"name\":\"net.ipv4.tcp_rmem\","
	  "\"value\":\"4096\"},{\"name\":\"net.ipv4.tcp_keepalive_time\","
	  "\"value\":\"60\"},{\"name\":\"kernel.msgmax\",\"value\":\"1\"},"
	  "{\"name\":\"net.ipv4.ip_local_reserved_ports\",\"value\":\"1\"}]},"
	  "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}",
	  NULL, "sysctls spec.securityContext.sysctls[2].name" },
	{ "sysctls v1.26", B, 26,
	  "{\"securityContext\":{\"sysctls\":[{\"name\":\"net.ipv4.tcp_rmem\","
	  "\"value\":\"4096\"},{\"name\":\"net.ipv4.tcp_keepalive_time\","
	  "\"value\":\"60\"},{\"name\":\"net.ipv4.ping_group_range\","
	  "\"value\":\"0 1\"},{\"name\":\"net.ipv4.ip_local_reserved_ports\","
	  "\"value\":\"1\"}]},\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]"
	  "}",
	  NULL,
	  "sysctls spec.securityContext.sysctls[0].name\nsysctls "
	  "spec.securityContext.sysctls[1].name\nsysctls spec.securityContext."
	  "sysctls[3].name" },
	{ "sysctls v1.29", B, 29,
	  "{\"securityContext\":{\"sysctls\":[{\"name\":\"net.ipv4.tcp_rmem\","
	  "\"value\":\"4096\"},{\"name\":\"net.ipv4.tcp_fin_timeout\","
	  "\"value\":\"60\"}]},\"containers\":[{\"name\":\"a\",\"image\":\"x\"}"
	  "]}",
	  NULL, "sysctls spec.securityContext.sysctls[0].name" },
	/* The safe sysctls of v1.37 (+ tcp_slow_start_after_idle,
	 * tcp_notsent_lowat), v1.32 (+ tcp_rmem, tcp_wmem): the Pod
	 * Security Admission library's sets */
	{ "sysctls v1.37", B, 37,
	  "{\"securityContext\":{\"sysctls\":[{\"name\":"
	  "\"net.ipv4.tcp_slow_start_after_idle\",\"value\":\"0\"},{\"name\":"
	  "\"net.ipv4.tcp_notsent_lowat\",\"value\":\"1\"},{\"name\":"
	  "\"kernel.msgmax\",\"value\":\"1\"},{\"name\":\"net.ipv4\"}]},"
	  "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}",
	  NULL,
	  "sysctls spec.securityContext.sysctls[2].name\nsysctls "
	  "spec.securityContext.sysctls[3].name" },
	{ "sysctls v1.36", B, 36,
	  "{\"securityContext\":{\"sysctls\":[{\"name\":"
	  "\"net.ipv4.tcp_slow_start_after_idle\",\"value\":\"0\"},{\"name\":"
	  "\"net.ipv4.tcp_wmem\",\"value\":\"4096\"}]},"
	  "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}",
	  NULL, "sysctls spec.securityContext.sysctls[0].name" },
	{ "sysctls v1.31", B, 31,
	  "{\"securityContext\":{\"sysctls\":[{\"name\":"
	  "\"net.ipv4.tcp_wmem\",\"value\":\"4096\"},{\"name\":"
	  "\"net.ipv4.tcp_keepalive_probes\",\"value\":\"3\"}]},"
	  "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}",
	  NULL, "sysctls spec.securityContext.sysctls[0].name" },
	/* container_engine_t from v1.31 */
	{ "selinux engine at v1.31", B, 31,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	  "\"securityContext\":"
	  "{\"seLinuxOptions\":{\"type\":\"container_engine_t\"}}}]}",
	  NULL, "" },
	/* A profile set without a type is refused (its type is "") */
	{ "apparmor profile without type", B, LATEST,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	  "\"securityContext\":{\"appArmorProfile\":{}}}]}",
	  NULL,
	  "appArmorProfile spec.containers[0].securityContext."
	  "appArmorProfile.type" },
	/* Annotations: an empty value is allowed, a value that is no string
	 * is not */
	{ "apparmor annotation empty, not a string", B, LATEST,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\","
	  "\"image\":\"x\"}]}",
	  "{\"annotations\":{\"container.apparmor.security.beta.kubernetes.io"
	  "/a\":\"\",\"container.apparmor.security.beta.kubernetes.io/b\":5}}",
	  "appArmorProfile metadata.annotations[\"container.apparmor.security."
	  "beta.kubernetes.io/b\"]" },
	/* Seccomp fields: RuntimeDefault or Localhost when set */
	{ "seccomp baseline unknown type", B, LATEST,
	  "{\"securityContext\":{\"seccompProfile\":{}},\"containers\":["
	  "{\"name\":\"a\",\"image\":\"x\",\"securityContext\":{"
	  "\"seccompProfile\":{\"type\":\"Foo\"}}}]}",
	  NULL,
	  "seccompProfile_baseline spec.containers[0].securityContext."
	  "seccompProfile.type\nseccompProfile_baseline spec.securityContext."
	  "seccompProfile.type" },
	/* Seccomp annotations before v1.19: runtime/default, docker/default,
	 * localhost/<name>; a container's only for a container of the pod */
	{ "seccomp annotations v1.18", B, 18,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}],"
	  "\"initContainers\":[{\"name\":\"i\",\"image\":\"x\"}]}",
	  "{\"annotations\":{\"seccomp.security.alpha.kubernetes.io/pod\":"
	  "\"docker/default\",\"container.seccomp.security.alpha.kubernetes.io"
	  "/a\":\"localhost/p.json\",\"container.seccomp.security.alpha."
	  "kubernetes.io/i\":\"unconfined\",\"container.seccomp.security."
	  "alpha.kubernetes.io/ghost\":\"unconfined\"}}",
	  "seccompProfile_baseline metadata.annotations[\"container.seccomp."
	  "security.alpha.kubernetes.io/i\"]" },
	{ "seccomp annotation v1.18 empty", B, 18,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}",
	  "{\"annotations\":{\"seccomp.security.alpha.kubernetes.io/pod\":"
	  "\"\"}}",
	  "seccompProfile_baseline metadata.annotations[\"seccomp.security."
	  "alpha.kubernetes.io/pod\"]" },
	/* /proc mount: any type in a user namespace from v1.35 */
	{ "procMount user namespace v1.35", B, 35,
	  "{\"hostUsers\":false,\"containers\":[{\"name\":\"a\",\"image\":"
	  "\"x\",\"securityContext\":{\"procMount\":\"Unmasked\"}}]}",
	  NULL, "" },
	{ "procMount user namespace v1.34", B, 34,
	  "{\"hostUsers\":false,\"containers\":[{\"name\":\"a\",\"image\":"
	  "\"x\",\"securityContext\":{\"procMount\":\"Unmasked\"}}]}",
	  NULL, "procMount spec.containers[0].securityContext.procMount" },
	{ "procMount host users v1.35", B, 35,
	  "{\"hostUsers\":true,\"containers\":[{\"name\":\"a\",\"image\":"
	  "\"x\",\"securityContext\":{\"procMount\":\"Unmasked\"}}]}",
	  NULL, "procMount spec.containers[0].securityContext.procMount" },
	/* Probe and lifecycle hosts: "" or unset, from v1.34 */
	{ "probe hosts v1.34", B, 34,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	  "\"livenessProbe\":{\"httpGet\":{\"host\":\"10.0.0.1\","
	  "\"port\":80}},\"readinessProbe\":{\"tcpSocket\":{\"host\":\"\","
	  "\"port\":80}},\"lifecycle\":{\"preStop\":{\"httpGet\":{\"host\":"
	  "\"169.254.169.254\",\"port\":80}}}}],\"initContainers\":[{\"name\":"
	  "\"i\",\"image\":\"x\",\"startupProbe\":{\"tcpSocket\":{\"host\":"
	  "\"db\",\"port\":5432}}}]}",
	  NULL,
	  "hostProbesAndHostLifecycle spec.containers[0].lifecycle.preStop."
	  "httpGet.host\nhostProbesAndHostLifecycle spec.containers[0]."
	  "livenessProbe.httpGet.host\nhostProbesAndHostLifecycle "
	  "spec.initContainers[0].startupProbe.tcpSocket.host" },
	{ "probe hosts v1.33", B, 33,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	  "\"livenessProbe\":{\"httpGet\":{\"host\":\"10.0.0.1\","
	  "\"port\":80}}}]}",
	  NULL, "" },
	/* baseline allows what restricted does not */
	{ "baseline default pod", B, LATEST,
	  "{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}],\"volumes\":["
	  "{\"name\":\"n\",\"nfs\":{\"server\":\"s\",\"path\":\"/\"}}]}",
	  NULL, "" },
};

static void test_pss_baseline_controls(void **state)
{
	(void)state;
	check_cases(baseline_cases,
	            sizeof(baseline_cases) / sizeof(baseline_cases[0]));
}

/* Restricted -------------------------------------------------------------- */

static const pss_case restricted_cases[] = {
	{ "restricted pod passes", R, LATEST, GOOD_POD, NULL, "" },
	/* Volume types */
	{ "volume types", R, LATEST,
	  "{" GOOD_SC ",\"containers\":[" GOOD_C "],\"volumes\":["
	  "{\"name\":\"a\",\"configMap\":{\"name\":\"c\"}},{\"name\":\"b\","
	  "\"secret\":{\"secretName\":\"s\"}},{\"name\":\"c\",\"emptyDir\":{}},"
	  "{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"p\"}},"
	  "{\"name\":\"e\",\"projected\":{\"sources\":[]}},{\"name\":\"f\","
	  "\"downwardAPI\":{}},{\"name\":\"g\",\"csi\":{\"driver\":\"d\"}},"
	  "{\"name\":\"h\",\"ephemeral\":{}},{\"name\":\"i\",\"nfs\":{"
	  "\"server\":\"s\",\"path\":\"/\"}},{\"name\":\"j\",\"hostPath\":{"
	  "\"path\":\"/var/log\"}}]}",
	  NULL,
	  "hostPathVolumes spec.volumes[9].hostPath\nrestrictedVolumes "
	  "spec.volumes[8].nfs\nrestrictedVolumes spec.volumes[9].hostPath" },
	/* From v1.35 a pod in a user namespace may run as root */
	{ "root in a user namespace v1.35", R, 35,
	  "{\"hostUsers\":false,\"securityContext\":{\"runAsUser\":0,"
	  "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"containers\":["
	  "{\"name\":\"a\",\"image\":\"x\",\"securityContext\":{"
	  "\"runAsNonRoot\":false,\"runAsUser\":0,"
	  "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":"
	  "[\"ALL\"]}}}]}",
	  NULL, "" },
	{ "root in a user namespace v1.34", R, 34,
	  "{\"hostUsers\":false,\"securityContext\":{\"runAsUser\":0,"
	  "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"containers\":["
	  "{\"name\":\"a\",\"image\":\"x\",\"securityContext\":{"
	  "\"runAsNonRoot\":false,\"runAsUser\":0,"
	  "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":"
	  "[\"ALL\"]}}}]}",
	  NULL,
	  "runAsNonRoot spec.containers[0].securityContext.runAsNonRoot\n"
	  "runAsUser spec.containers[0].securityContext.runAsUser\nrunAsUser "
	  "spec.securityContext.runAsUser" },
	/* /proc mount: restricted keeps it Default in a user namespace too,
	 * as procMount_restricted from v1.35 (baseline's before) */
	{ "procMount restricted v1.35", R, 35,
	  "{\"hostUsers\":false," GOOD_SC ",\"containers\":[{\"name\":\"a\","
	  "\"image\":\"x\",\"securityContext\":{\"procMount\":\"Unmasked\","
	  "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":"
	  "[\"ALL\"]}}}]}",
	  NULL,
	  "procMount_restricted spec.containers[0].securityContext."
	  "procMount" },
	{ "procMount restricted v1.34", R, 34,
	  "{\"hostUsers\":false," GOOD_SC ",\"containers\":[{\"name\":\"a\","
	  "\"image\":\"x\",\"securityContext\":{\"procMount\":\"Unmasked\","
	  "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":"
	  "[\"ALL\"]}}}]}",
	  NULL, "procMount spec.containers[0].securityContext.procMount" },
	/* image volumes are allowed */
	{ "image volume", R, LATEST,
	  "{" GOOD_SC ",\"containers\":[" GOOD_C "],\"volumes\":[{\"name\":"
	  "\"m\",\"image\":{\"reference\":\"registry.example.com/model:1\"}}]}",
	  NULL, "" },
	/* Privilege escalation: must be false, in every container list */
	{ "privilege escalation", R, LATEST,
	  "{" GOOD_SC ",\"containers\":[" GOOD_C "],\"initContainers\":["
	  "{\"name\":\"i\",\"image\":\"x\",\"securityContext\":{"
	  "\"allowPrivilegeEscalation\":true,\"capabilities\":{\"drop\":"
	  "[\"ALL\"]}}}],\"ephemeralContainers\":[{\"name\":\"e\","
	  "\"image\":\"x\",\"securityContext\":{\"capabilities\":{\"drop\":"
	  "[\"ALL\"]}}}]}",
	  NULL,
	  "allowPrivilegeEscalation spec.ephemeralContainers[0]."
	  "securityContext.allowPrivilegeEscalation\n"
	  "allowPrivilegeEscalation spec.initContainers[0].securityContext."
	  "allowPrivilegeEscalation" },
	/* Windows pods: Linux-only controls exempt from v1.25 */
	{ "windows latest", R, LATEST,
	  "{\"os\":{\"name\":\"windows\"},\"securityContext\":{"
	  "\"runAsNonRoot\":"
	  "true},\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}",
	  NULL, "" },
	{ "windows v1.24", R, 24,
	  "{\"os\":{\"name\":\"windows\"},\"securityContext\":{"
	  "\"runAsNonRoot\":"
	  "true},\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}",
	  NULL,
	  "allowPrivilegeEscalation spec.containers[0].securityContext."
	  "allowPrivilegeEscalation\ncapabilities_restricted spec.containers[0]"
	  ".securityContext.capabilities.drop\nseccompProfile_restricted "
	  "spec.containers[0].securityContext.seccompProfile.type" },
	/* Running as non-root: container overrides pod */
	{ "runAsNonRoot unset everywhere", R, LATEST,
	  "{\"securityContext\":{\"seccompProfile\":{\"type\":"
	  "\"RuntimeDefault\"}},\"containers\":[" GOOD_C "]}",
	  NULL,
	  "runAsNonRoot spec.containers[0].securityContext.runAsNonRoot" },
	{ "runAsNonRoot on the container only", R, LATEST,
	  "{\"securityContext\":{\"seccompProfile\":{\"type\":"
	  "\"RuntimeDefault\"}},\"containers\":[{\"name\":\"a\",\"image\":"
	  "\"x\","
	  "\"securityContext\":{\"runAsNonRoot\":true,"
	  "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":"
	  "[\"ALL\"]}}}]}",
	  NULL, "" },
	{ "runAsNonRoot container false overrides pod true", R, LATEST,
	  "{" GOOD_SC ",\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	  "\"securityContext\":{\"runAsNonRoot\":false,"
	  "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":"
	  "[\"ALL\"]}}}]}",
	  NULL,
	  "runAsNonRoot spec.containers[0].securityContext.runAsNonRoot" },
	{ "runAsNonRoot pod false", R, LATEST,
	  "{\"securityContext\":{\"runAsNonRoot\":false,\"seccompProfile\":{"
	  "\"type\":\"RuntimeDefault\"}},\"containers\":[{\"name\":\"a\","
	  "\"image\":\"x\",\"securityContext\":{\"runAsNonRoot\":true,"
	  "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":"
	  "[\"ALL\"]}}}]}",
	  NULL, "runAsNonRoot spec.securityContext.runAsNonRoot" },
	/* Non-root user: not 0 (from v1.23) */
	{ "runAsUser 0", R, LATEST,
	  "{\"securityContext\":{\"runAsNonRoot\":true,\"runAsUser\":0,"
	  "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"containers\":["
	  "{\"name\":\"a\",\"image\":\"x\",\"securityContext\":{\"runAsUser\":"
	  "0,\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":"
	  "[\"ALL\"]}}},{\"name\":\"b\",\"image\":\"x\",\"securityContext\":{"
	  "\"runAsUser\":1000,\"allowPrivilegeEscalation\":false,"
	  "\"capabilities\":{\"drop\":[\"ALL\"]}}}]}",
	  NULL,
	  "runAsUser spec.containers[0].securityContext.runAsUser\nrunAsUser "
	  "spec.securityContext.runAsUser" },
	{ "runAsUser 0 before v1.23", R, 22,
	  "{\"securityContext\":{\"runAsNonRoot\":true,\"runAsUser\":0,"
	  "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"containers\":["
	  "" GOOD_C "]}",
	  NULL, "" },
	/* Seccomp: RuntimeDefault or Localhost, container overrides pod */
	{ "seccomp unset everywhere", R, LATEST,
	  "{\"securityContext\":{\"runAsNonRoot\":true},\"containers\":["
	  "" GOOD_C "]}",
	  NULL,
	  "seccompProfile_restricted spec.containers[0].securityContext."
	  "seccompProfile.type" },
	{ "seccomp on the container only", R, LATEST,
	  "{\"securityContext\":{\"runAsNonRoot\":true},\"containers\":["
	  "{\"name\":\"a\",\"image\":\"x\",\"securityContext\":{"
	  "\"seccompProfile\":{\"type\":\"Localhost\",\"localhostProfile\":"
	  "\"p.json\"},\"allowPrivilegeEscalation\":false,\"capabilities\":{"
	  "\"drop\":[\"ALL\"]}}}]}",
	  NULL, "" },
	{ "seccomp container Unconfined overrides pod", R, LATEST,
	  "{" GOOD_SC ",\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	  "\"securityContext\":{\"seccompProfile\":{\"type\":\"Unconfined\"},"
	  "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":"
	  "[\"ALL\"]}}}]}",
	  NULL,
	  "seccompProfile_baseline spec.containers[0].securityContext."
	  "seccompProfile.type\nseccompProfile_restricted spec.containers[0]."
	  "securityContext.seccompProfile.type" },
	{ "seccomp before v1.19", R, 18,
	  "{\"securityContext\":{\"runAsNonRoot\":true},\"containers\":["
	  "{\"name\":\"a\",\"image\":\"x\",\"securityContext\":{"
	  "\"allowPrivilegeEscalation\":false}}]}",
	  NULL, "" },
	/* Capabilities: drop ALL, add NET_BIND_SERVICE only (v1.22) */
	{ "capabilities restricted", R, LATEST,
	  "{" GOOD_SC ",\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	  "\"securityContext\":{\"allowPrivilegeEscalation\":false,"
	  "\"capabilities\":{\"drop\":[\"NET_RAW\"],\"add\":["
	  "\"NET_BIND_SERVICE\",\"CHOWN\"]}}}]}",
	  NULL,
	  "capabilities_restricted spec.containers[0].securityContext."
	  "capabilities.add[1]\ncapabilities_restricted spec.containers[0]."
	  "securityContext.capabilities.drop" },
	{ "capabilities NET_BIND_SERVICE", R, LATEST,
	  "{" GOOD_SC ",\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	  "\"securityContext\":{\"allowPrivilegeEscalation\":false,"
	  "\"capabilities\":{\"drop\":[\"ALL\"],\"add\":["
	  "\"NET_BIND_SERVICE\"]}}}]}",
	  NULL, "" },
	{ "capabilities before v1.22", R, 21,
	  "{" GOOD_SC ",\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	  "\"securityContext\":{\"allowPrivilegeEscalation\":false}}]}",
	  NULL, "" },
};

static void test_pss_restricted_controls(void **state)
{
	(void)state;
	check_cases(restricted_cases,
	            sizeof(restricted_cases) / sizeof(restricted_cases[0]));
}

/* A violation names the container, the value found and what is allowed. */
static void test_pss_violation_fields(void **state)
{
	pss_case c = { "fields",
		       R,
		       LATEST,
		       "{" GOOD_SC ",\"containers\":[{\"name\":\"web\","
		       "\"image\":\"x\",\"securityContext\":{"
		       "\"allowPrivilegeEscalation\":true,\"capabilities\":{"
		       "\"drop\":[\"ALL\"]}}}]}",
		       NULL,
		       "" };
	json_t *out, *v;
	char *got = run_case(&c, &out);

	(void)state;
	assert_int_equal(json_array_size(out), 1);
	v = json_array_get(out, 0);
	assert_string_equal(json_string_value(json_object_get(v, "container")),
	                    "web");
	assert_string_equal(json_string_value(json_object_get(v, "found")),
	                    "true");
	assert_string_equal(json_string_value(json_object_get(v, "allowed")),
	                    "false");
	assert_string_equal(json_string_value(json_object_get(v, "level")),
	                    "restricted");
	free(got);
	json_decref(out);
}

/* A long value is shown cut, between UTF-8 characters: the violation
 * keeps its "found" (a cut inside a character is no JSON string). */
static void test_pss_found_cut_utf8(void **state)
{
	char type[200], *spec_text;
	json_t *spec, *out = json_array();
	const char *found;

	(void)state;
	memset(type, 'a', 119);
	strcpy(type + 119, "\xc3\xa9tail"); /* "é" over bytes 119-120 */
	spec_text = tg_aprintf("{\"securityContext\":{\"seLinuxOptions\":{"
	                       "\"type\":\"%s\"}},\"containers\":[{\"name\":"
	                       "\"a\",\"image\":\"x\"}]}",
	                       type);
	spec = json_loads(spec_text, 0, NULL);
	assert_non_null(spec);
	assert_int_equal(tg_pss_check(out, spec, NULL, "spec", "metadata",
	                              TG_PSS_LEVEL_BASELINE, LATEST),
	                 1);
	found = json_string_value(
	        json_object_get(json_array_get(out, 0), "found"));
	assert_non_null(found);
	assert_int_equal(strlen(found), 119 + 3);
	assert_string_equal(found + 119, "...");
	free(spec_text);
	json_decref(spec);
	json_decref(out);
}

static void test_pss_dotted_path(void **state)
{
	char *p = tg_admit_dotted_path("/spec/jobTemplate/spec/template/spec");

	(void)state;
	assert_string_equal(p, "spec.jobTemplate.spec.template.spec");
	free(p);
	p = tg_admit_dotted_path("/spec/templates/3/spec");
	assert_string_equal(p, "spec.templates[3].spec");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pss_baseline_controls),
		cmocka_unit_test(test_pss_restricted_controls),
		cmocka_unit_test(test_pss_violation_fields),
		cmocka_unit_test(test_pss_dotted_path),
		cmocka_unit_test(test_pss_found_cut_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
