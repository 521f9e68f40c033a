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
	char *path;

	if (!pss_true(v))
		return;
	path = tg_aprintf("%s.%s", pss_where(p, c), field);
	pss_violation(p, ctl, pss_who(c), path, "true", "false or unset");
	free(path);
}

/* Host namespaces ---------------------------------------------------------- */

static void host_namespaces(pss_pod *p)
{
	static const char *const fields[] = { "hostNetwork", "hostPID",
		                              "hostIPC" };
	size_t i;

	for (i = 0; i < 3; i++)
		must_not_be_true(p, TG_PSS_HOST_NAMESPACES, NULL,
		                 json_object_get(p->spec, fields[i]),
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
	const json_t *add = json_object_get(c->s.f[PSS_SC_CAPABILITIES], "add"),
	             *x;
	size_t i;

	json_array_foreach(add, i, x) {
		char *path, *found;

		if (json_is_string(x) &&
		    in_list(json_string_value(x), baseline_caps))
			continue;
		path = tg_aprintf("%s.securityContext.capabilities.add[%zu]",
		                  pss_ctr_path(c), i);
		found = pss_show(x);
		pss_violation(p, TG_PSS_CAPABILITIES_BASELINE, c->name, path,
		              found,
		              "AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, "
		              "FSETID, KILL, MKNOD, NET_BIND_SERVICE, "
		              "SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT");
		free(path);
		free(found);
	}
}

static void host_ports(pss_pod *p, const pss_ctr *c)
{
	const json_t *ports = json_object_get(c->c, "ports"), *port, *hp;
	size_t i;

	json_array_foreach(ports, i, port) {
		char *path, *found;

		hp = json_object_get(port, "hostPort");
		if (hp == NULL || json_is_null(hp) ||
		    (json_is_integer(hp) && json_integer_value(hp) == 0))
			continue;
		path = tg_aprintf("%s.ports[%zu].hostPort", pss_ctr_path(c), i);
		found = pss_show(hp);
		pss_violation(p, TG_PSS_HOST_PORTS, c->name, path, found,
		              "0 or unset");
		free(path);
		free(found);
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
	const json_t *v;
	char *path, *found;
	size_t i;

	v = json_object_get(o, "type");
	if (v && !json_is_null(v) &&
	    !(json_is_string(v) &&
	      selinux_type_ok(json_string_value(v), p->minor))) {
		path = tg_aprintf("%s.securityContext.seLinuxOptions.type",
		                  pss_where(p, c));
		found = pss_show(v);
		pss_violation(p, TG_PSS_SELINUX, pss_who(c), path, found,
		              p->minor >= 31
		                      ? "unset, \"\", container_t, "
		                        "container_init_t, container_kvm_t, "
		                        "container_engine_t"
		                      : "unset, \"\", container_t, "
		                        "container_init_t, container_kvm_t");
		free(path);
		free(found);
	}
	for (i = 0; i < 2; i++) {
		v = json_object_get(o, empty[i]);
		if (!v || json_is_null(v) ||
		    (json_is_string(v) && !*json_string_value(v)))
			continue;
		path = tg_aprintf("%s.securityContext.seLinuxOptions.%s",
		                  pss_where(p, c), empty[i]);
		found = pss_show(v);
		pss_violation(p, TG_PSS_SELINUX, pss_who(c), path, found,
		              "unset or \"\"");
		free(path);
		free(found);
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
                          const char *field)
{
	const json_t *t = json_object_get(prof, "type");
	char *path, *found;

	if (prof == NULL || json_is_null(prof) || profile_type_ok(t))
		return;
	path = tg_aprintf("%s.securityContext.%s.type", pss_where(p, c), field);
	found = pss_show(t);
	pss_violation(p, ctl, pss_who(c), path, found,
	              "RuntimeDefault or Localhost (or no profile)");
	free(path);
	free(found);
}

static void apparmor_field(pss_pod *p, const pss_ctr *c, const pss_sc *sc)
{
	profile_field(p, c, sc->f[PSS_SC_APPARMOR_PROFILE], TG_PSS_APPARMOR,
	              "appArmorProfile");
}

/* From v1.19 the seccomp fields (annotations before). */
static void seccomp_field(pss_pod *p, const pss_ctr *c, const pss_sc *sc)
{
	if (p->minor >= 19)
		profile_field(p, c, sc->f[PSS_SC_SECCOMP_PROFILE],
		              TG_PSS_SECCOMP_BASELINE, "seccompProfile");
}

void pss_proc_mount(pss_pod *p, const pss_ctr *c, tg_pss_control ctl)
{
	const json_t *pm = c->s.f[PSS_SC_PROC_MOUNT];
	char *path, *found;

	if (pm == NULL || json_is_null(pm) ||
	    (json_is_string(pm) && !strcmp(json_string_value(pm), "Default")))
		return;
	path = tg_aprintf("%s.securityContext.procMount", pss_ctr_path(c));
	found = pss_show(pm);
	pss_violation(p, ctl, c->name, path, found, "unset or Default");
	free(path);
	free(found);
}

/* The host of the probes' and lifecycle handlers' httpGet and tcpSocket:
 * "" or unset (from v1.34: a probe aimed at another host reaches what
 * the node reaches). */
static void probe_hosts(pss_pod *p, const pss_ctr *c)
{
	static const char *const handlers[] = {
		"livenessProbe", "readinessProbe", "startupProbe",
		"lifecycle.postStart", "lifecycle.preStop"
	};
	static const char *const kinds[] = { "httpGet", "tcpSocket" };
	const json_t *lc = json_object_get(c->c, "lifecycle"), *h, *host;
	size_t i, k;

	for (i = 0; i < 5; i++) {
		h = i < 3 ? json_object_get(c->c, handlers[i])
		          : json_object_get(lc,
		                            handlers[i] + strlen("lifecycle."));
		for (k = 0; h != NULL && k < 2; k++) {
			char *path, *found;

			host = json_object_get(json_object_get(h, kinds[k]),
			                       "host");
			if (host == NULL || json_is_null(host) ||
			    (json_is_string(host) && !*json_string_value(host)))
				continue;
			path = tg_aprintf("%s.%s.%s.host", pss_ctr_path(c),
			                  handlers[i], kinds[k]);
			found = pss_show(host);
			pss_violation(p, TG_PSS_HOST_PROBES, c->name, path,
			              found, "\"\" or unset");
			free(path);
			free(found);
		}
	}
}

static void baseline_container(pss_pod *p, const pss_ctr *c)
{
	must_not_be_true(
	        p, TG_PSS_HOST_PROCESS, c,
	        json_object_get(c->s.f[PSS_SC_WINDOWS_OPTIONS], "hostProcess"),
	        "securityContext.windowsOptions.hostProcess");
	must_not_be_true(p, TG_PSS_PRIVILEGED, c, c->s.f[PSS_SC_PRIVILEGED],
	                 "securityContext.privileged");
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
	const json_t *vols = json_object_get(p->spec, "volumes"), *v, *hp;
	size_t i;

	json_array_foreach(vols, i, v) {
		char *path, *found;

		hp = json_object_get(v, "hostPath");
		if (hp == NULL || json_is_null(hp))
			continue;
		path = tg_aprintf("%s.volumes[%zu].hostPath", p->base, i);
		found = pss_show(json_object_get(hp, "path"));
		pss_violation(p, TG_PSS_HOST_PATH_VOLUMES, NULL, path, found,
		              "unset (no hostPath volume)");
		free(path);
		free(found);
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
	        ", net.ipv4.tcp_keepalive_time, "                              \
	        "net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, "     \
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
		char *path, *found;

		n = json_object_get(s, "name");
		if (json_is_string(n) && *json_string_value(n) &&
		    in_names(json_string_value(n), safe))
			continue;
		path = tg_aprintf("%s.securityContext.sysctls[%zu].name",
		                  p->base, i);
		found = pss_show(n);
		pss_violation(p, TG_PSS_SYSCTLS, NULL, path, found, safe);
		free(path);
		free(found);
	}
}

/* Whether the pod spec has a container of that name (any list). */
static bool has_container(const pss_pod *p, const char *name)
{
	static const char *const lists[] = { "containers", "initContainers",
		                             "ephemeralContainers" };
	const json_t *c;
	size_t i, k;

	for (i = 0; i < 3; i++) {
		json_array_foreach(json_object_get(p->spec, lists[i]), k, c) {
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
		char *path, *found;
		bool bad_aa = false, bad_sc = false;

		s = json_string_value(v);
		if (tg_str_has_prefix(key, APPARMOR_PREFIX))
			bad_aa = !apparmor_annotation_ok(s);
		else if (p->minor < 19 && is_seccomp_key(p, key))
			bad_sc = !seccomp_annotation_ok(s);
		if (!bad_aa && !bad_sc)
			continue;
		path = tg_aprintf("%s.annotations[\"%s\"]", p->meta_base, key);
		found = pss_show(v);
		pss_violation(
		        p, bad_aa ? TG_PSS_APPARMOR : TG_PSS_SECCOMP_BASELINE,
		        NULL, path, found,
		        bad_aa ? "unset, \"\", runtime/default, localhost/*"
		               : "unset, runtime/default, docker/default, "
		                 "localhost/*");
		free(path);
		free(found);
	}
}

void tg_pss_baseline(pss_pod *p)
{
	must_not_be_true(
	        p, TG_PSS_HOST_PROCESS, NULL,
	        json_object_get(p->s.f[PSS_SC_WINDOWS_OPTIONS], "hostProcess"),
	        "securityContext.windowsOptions.hostProcess");
	host_namespaces(p);
	host_path_volumes(p);
	apparmor_field(p, NULL, &p->s);
	selinux(p, NULL, &p->s);
	seccomp_field(p, NULL, &p->s);
	sysctls(p);
	annotations(p);
	pss_each_container(p, baseline_container);
}
