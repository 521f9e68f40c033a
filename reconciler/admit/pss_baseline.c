/*
 * Pod Security Standards, baseline level: HostProcess, host namespaces,
 * privileged containers, capabilities, hostPath volumes, host ports,
 * AppArmor, SELinux, /proc mount type, seccomp, sysctls, probe and
 * lifecycle hosts. Each control reads the fields and allowed values of
 * the standard's table, at the versions where they changed (the Pod
 * Security Admission library's versions: the safe sysctls grew in
 * v1.27, v1.29, v1.32 and v1.37, the SELinux type container_engine_t is
 * allowed from v1.31, seccomp is read from annotations before v1.19 and
 * from fields after, probe and lifecycle hosts are checked from v1.34,
 * and from v1.35 a pod in a user namespace may set any /proc mount type).
 */
#include <stdlib.h>
#include <string.h>

#include "pss_int.h"
#include "tollgate/util.h"

#define APPARMOR_PREFIX "container.apparmor.security.beta.kubernetes.io/"
#define SECCOMP_POD_ANN "seccomp.security.alpha.kubernetes.io/pod"
#define SECCOMP_CTR_PREFIX "container.seccomp.security.alpha.kubernetes.io/"

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* A boolean field that must be false or unset. */
static void must_not_be_true(pss_pod *p,
                             tg_pss_control ctl,
                             const pss_ctr *c,
                             const json_t *v,
                             const char *field)
{
	if (pss_true(v))
		pss_violation(p, ctl, pss_who(c), pss_where(p, c), field,
		              "true", "false or unset");
}

/* Host namespaces ---------------------------------------------------------- */

static void host_namespaces(pss_pod *p)
{
	static const char *const fields[] = { ".hostNetwork", ".hostPID",
		                              ".hostIPC" };
	size_t i;

	for (i = 0; i < 3; i++)
		must_not_be_true(p, TG_PSS_HOST_NAMESPACES, NULL, p->host[i],
		                 fields[i]);
}

/* Containers --------------------------------------------------------------- */

static const char *const baseline_caps[] = {
	"AUDIT_WRITE", "CHOWN",  "DAC_OVERRIDE",     "FOWNER",  "FSETID",
	"KILL",        "MKNOD",  "NET_BIND_SERVICE", "SETFCAP", "SETGID",
	"SETPCAP",     "SETUID", "SYS_CHROOT",       NULL
};

static void capabilities(pss_pod *p, const pss_ctr *c)
{
	const json_t *x;
	size_t i;

	json_array_foreach(c->caps_add, i, x) {
		if (json_is_string(x) &&
		    in_list(json_string_value(x), baseline_caps))
			continue;
		pss_violation_f(p, TG_PSS_CAPABILITIES_BASELINE, c->name,
		                pss_ctr_path(c), x,
		                "AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, "
		                "FSETID, KILL, MKNOD, NET_BIND_SERVICE, "
		                "SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT",
		                ".securityContext.capabilities.add[%zu]", i);
	}
}

static void host_ports(pss_pod *p, const pss_ctr *c)
{
	const json_t *port, *hp;
	size_t i;

	json_array_foreach(c->ports, i, port) {
		hp = json_object_get(port, "hostPort");
		if (hp == NULL || json_is_null(hp) ||
		    (json_is_integer(hp) && json_integer_value(hp) == 0))
			continue;
		pss_violation_f(p, TG_PSS_HOST_PORTS, c->name, pss_ctr_path(c),
		                hp, "0 or unset", ".ports[%zu].hostPort", i);
	}
}

static bool selinux_type_ok(const char *t, unsigned minor)
{
	static const char *const types[] = { "", "container_t",
		                             "container_init_t",
		                             "container_kvm_t", NULL };

	return in_list(t, types) ||
	       (minor >= 31 && strcmp(t, "container_engine_t") == 0);
}

/* seLinuxOptions of a pod or container securityContext at base. */
static void selinux(pss_pod *p, const pss_ctr *c, const pss_sc *sc)
{
	const json_t *o = sc->f[PSS_SC_SELINUX_OPTIONS];
	static const char *const empty[] = { "user", "role" };
	static const char *const what[] = {
		".securityContext.seLinuxOptions.user",
		".securityContext.seLinuxOptions.role"
	};
	const json_t *v;
	size_t i;

	if (o == NULL)
		return;
	v = json_object_get(o, "type");
	if (v && !json_is_null(v) &&
	    !(json_is_string(v) &&
	      selinux_type_ok(json_string_value(v), p->minor))) {
		pss_violation_j(p, TG_PSS_SELINUX, pss_who(c), pss_where(p, c),
		                ".securityContext.seLinuxOptions.type", v,
		                p->minor >= 31
		                        ? "unset, \"\", container_t, "
		                          "container_init_t, container_kvm_t, "
		                          "container_engine_t"
		                        : "unset, \"\", container_t, "
		                          "container_init_t, container_kvm_t");
	}
	for (i = 0; i < 2; i++) {
		v = json_object_get(o, empty[i]);
		if (!v || json_is_null(v) ||
		    (json_is_string(v) && !*json_string_value(v)))
			continue;
		pss_violation_j(p, TG_PSS_SELINUX, pss_who(c), pss_where(p, c),
		                what[i], v, "unset or \"\"");
	}
}

/* Whether a profile type is RuntimeDefault or Localhost. */
static bool profile_type_ok(const json_t *t)
{
	const char *s = json_string_value(t);

	return s && (!strcmp(s, "RuntimeDefault") || !strcmp(s, "Localhost"));
}

/* A profile (appArmorProfile, seccompProfile) of a pod or container
 * securityContext: when set, its type must be RuntimeDefault or
 * Localhost (a profile without a type is refused too, as the Pod
 * Security Admission library refuses it). */
static void profile_field(pss_pod *p,
                          const pss_ctr *c,
                          const json_t *prof,
                          tg_pss_control ctl,
                          const char *what)
{
	const json_t *t;

	if (prof == NULL || json_is_null(prof) ||
	    profile_type_ok(t = json_object_get(prof, "type")))
		return;
	pss_violation_j(p, ctl, pss_who(c), pss_where(p, c), what, t,
	                "RuntimeDefault or Localhost (or no profile)");
}

static void apparmor_field(pss_pod *p, const pss_ctr *c, const pss_sc *sc)
{
	profile_field(p, c, sc->f[PSS_SC_APPARMOR_PROFILE], TG_PSS_APPARMOR,
	              ".securityContext.appArmorProfile.type");
}

/* From v1.19 the seccomp fields (annotations before). */
static void seccomp_field(pss_pod *p, const pss_ctr *c, const pss_sc *sc)
{
	if (p->minor >= 19)
		profile_field(p, c, sc->f[PSS_SC_SECCOMP_PROFILE],
		              TG_PSS_SECCOMP_BASELINE,
		              ".securityContext.seccompProfile.type");
}

void pss_proc_mount(pss_pod *p, const pss_ctr *c, tg_pss_control ctl)
{
	const json_t *pm = c->s.f[PSS_SC_PROC_MOUNT];

	if (pm == NULL || json_is_null(pm) ||
	    (json_is_string(pm) && !strcmp(json_string_value(pm), "Default")))
		return;
	pss_violation_j(p, ctl, c->name, pss_ctr_path(c),
	                ".securityContext.procMount", pm, "unset or Default");
}

/* The host of the probes' and lifecycle handlers' httpGet and tcpSocket:
 * "" or unset (from v1.34: a probe aimed at another host reaches what
 * the node reaches). */
static void probe_hosts(pss_pod *p, const pss_ctr *c)
{
	static const char *const handlers[] = {
		[PSS_H_LIVENESS] = "livenessProbe",
		[PSS_H_READINESS] = "readinessProbe",
		[PSS_H_STARTUP] = "startupProbe",
	};
	static const char *const lifecycle[] = { "postStart", "preStop" };
	static const char *const kinds[] = { "httpGet", "tcpSocket" };
	const json_t *lc = c->handlers[PSS_H_LIFECYCLE], *h, *host;
	size_t i, k;

	for (i = 0; i < 5; i++) {
		h = i < 3 ? c->handlers[i]
		    : lc  ? json_object_get(lc, lifecycle[i - 3])
		          : NULL;
		for (k = 0; h != NULL && k < 2; k++) {
			host = json_object_get(json_object_get(h, kinds[k]),
			                       "host");
			if (host == NULL || json_is_null(host) ||
			    (json_is_string(host) && !*json_string_value(host)))
				continue;
			pss_violation_f(
			        p, TG_PSS_HOST_PROBES, c->name, pss_ctr_path(c),
			        host, "\"\" or unset", ".%s%s.%s.host",
			        i < 3 ? handlers[i] : "lifecycle.",
			        i < 3 ? "" : lifecycle[i - 3], kinds[k]);
		}
	}
}

static void baseline_container(pss_pod *p, const pss_ctr *c)
{
	must_not_be_true(
	        p, TG_PSS_HOST_PROCESS, c,
	        json_object_get(c->s.f[PSS_SC_WINDOWS_OPTIONS], "hostProcess"),
	        ".securityContext.windowsOptions.hostProcess");
	must_not_be_true(p, TG_PSS_PRIVILEGED, c, c->s.f[PSS_SC_PRIVILEGED],
	                 ".securityContext.privileged");
	capabilities(p, c);
	host_ports(p, c);
	apparmor_field(p, c, &c->s);
	selinux(p, c, &c->s);
	/* from v1.35 any value in a user namespace; restricted checks it
	 * as procMount_restricted instead */
	if (!(p->minor >= 35 &&
	      (p->userns || p->want >= TG_PSS_LEVEL_RESTRICTED)))
		pss_proc_mount(p, c, TG_PSS_PROC_MOUNT);
	seccomp_field(p, c, &c->s);
	if (p->minor >= 34)
		probe_hosts(p, c);
}

/* Pod ---------------------------------------------------------------------- */

static void host_path_volumes(pss_pod *p)
{
	const json_t *v, *hp;
	size_t i;

	json_array_foreach(p->volumes, i, v) {
		hp = json_object_get(v, "hostPath");
		if (hp == NULL || json_is_null(hp))
			continue;
		pss_violation_f(p, TG_PSS_HOST_PATH_VOLUMES, NULL, p->base,
		                json_object_get(hp, "path"),
		                "unset (no hostPath volume)",
		                ".volumes[%zu].hostPath", i);
	}
}

/* The safe sysctls, as the set grew: v1.0, v1.27, v1.29, v1.32, v1.37. */
#define SYSCTLS_1_0                                                            \
	"kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, "               \
	"net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, "                 \
	"net.ipv4.ip_unprivileged_port_start"
#define SYSCTLS_1_27 SYSCTLS_1_0 ", net.ipv4.ip_local_reserved_ports"
#define SYSCTLS_1_29                                                           \
	SYSCTLS_1_27                                                           \
	", net.ipv4.tcp_keepalive_time, "                                      \
	"net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, "             \
	"net.ipv4.tcp_keepalive_probes"
#define SYSCTLS_1_32 SYSCTLS_1_29 ", net.ipv4.tcp_rmem, net.ipv4.tcp_wmem"
#define SYSCTLS_1_37                                                           \
	SYSCTLS_1_32 ", net.ipv4.tcp_slow_start_after_idle, "                  \
	             "net.ipv4.tcp_notsent_lowat"

static const struct {
	unsigned minor;
	const char *names; /* every safe sysctl from minor on */
} safe_sysctls[] = {
	{ 37, SYSCTLS_1_37 }, { 32, SYSCTLS_1_32 }, { 29, SYSCTLS_1_29 },
	{ 27, SYSCTLS_1_27 }, { 0, SYSCTLS_1_0 },
};

/* The safe sysctls of v1.<minor>, ", "-separated. */
static const char *safe_sysctls_of(unsigned minor)
{
	size_t i = 0;

	while (safe_sysctls[i].minor > minor)
		i++;
	return safe_sysctls[i].names;
}

/* Whether name is one of the ", "-separated names of list. */
static bool in_names(const char *name, const char *list)
{
	size_t n = strlen(name);
	const char *at = list;

	while ((at = strstr(at, name)) != NULL) {
		if ((at == list || at[-1] == ' ') &&
		    (at[n] == ',' || at[n] == '\0'))
			return true;
		at += n;
	}
	return false;
}

static void sysctls(pss_pod *p)
{
	const json_t *list = p->s.f[PSS_SC_SYSCTLS], *s, *n;
	const char *safe = safe_sysctls_of(p->minor);
	size_t i;

	json_array_foreach(list, i, s) {
		n = json_object_get(s, "name");
		if (json_is_string(n) && *json_string_value(n) &&
		    in_names(json_string_value(n), safe))
			continue;
		pss_violation_f(p, TG_PSS_SYSCTLS, NULL, p->base, n, safe,
		                ".securityContext.sysctls[%zu].name", i);
	}
}

/* Whether the pod spec has a container of that name (any list). */
static bool has_container(const pss_pod *p, const char *name)
{
	const json_t *c;
	size_t i, k;

	for (i = 0; i < PSS_L_N; i++) {
		json_array_foreach(p->lists[i], k, c) {
			const char *n =
			        json_string_value(json_object_get(c, "name"));
			if (n && !strcmp(n, name))
				return true;
		}
	}
	return false;
}

/* An AppArmor annotation's value: empty, runtime/default, localhost/<name>. */
static bool apparmor_annotation_ok(const char *s)
{
	return s && (!*s || !strcmp(s, "runtime/default") ||
	             tg_str_has_prefix(s, "localhost/"));
}

/* A seccomp annotation's value (before v1.19): runtime/default,
 * docker/default, localhost/<name>. */
static bool seccomp_annotation_ok(const char *s)
{
	return s &&
	       (!strcmp(s, "runtime/default") || !strcmp(s, "docker/default") ||
	        tg_str_has_prefix(s, "localhost/"));
}

/* Whether annotation key is a seccomp annotation the standard reads:
 * the pod's, or one of a container the pod spec has. */
static bool is_seccomp_key(const pss_pod *p, const char *key)
{
	return !strcmp(key, SECCOMP_POD_ANN) ||
	       (tg_str_has_prefix(key, SECCOMP_CTR_PREFIX) &&
	        has_container(p, key + strlen(SECCOMP_CTR_PREFIX)));
}

/* The AppArmor and (before v1.19) seccomp annotations of the pod; a
 * value that is no string is refused (annotations are strings). */
static void annotations(pss_pod *p)
{
	const json_t *ann = json_object_get(p->meta, "annotations"), *v;
	const char *key, *s;

	json_object_foreach((json_t *)ann, key, v) {
		bool bad_aa = false, bad_sc = false;

		s = json_string_value(v);
		if (tg_str_has_prefix(key, APPARMOR_PREFIX))
			bad_aa = !apparmor_annotation_ok(s);
		else if (p->minor < 19 && is_seccomp_key(p, key))
			bad_sc = !seccomp_annotation_ok(s);
		if (!bad_aa && !bad_sc)
			continue;
		pss_violation_f(
		        p, bad_aa ? TG_PSS_APPARMOR : TG_PSS_SECCOMP_BASELINE,
		        NULL, p->meta_base, v,
		        bad_aa ? "unset, \"\", runtime/default, localhost/*"
		               : "unset, runtime/default, docker/default, "
		                 "localhost/*",
		        ".annotations[\"%s\"]", key);
	}
}

void tg_pss_baseline(pss_pod *p)
{
	must_not_be_true(
	        p, TG_PSS_HOST_PROCESS, NULL,
	        json_object_get(p->s.f[PSS_SC_WINDOWS_OPTIONS], "hostProcess"),
	        ".securityContext.windowsOptions.hostProcess");
	host_namespaces(p);
	host_path_volumes(p);
	apparmor_field(p, NULL, &p->s);
	selinux(p, NULL, &p->s);
	seccomp_field(p, NULL, &p->s);
	sysctls(p);
	annotations(p);
	pss_each_container(p, baseline_container);
}
