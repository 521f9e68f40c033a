/*
 * Pod Security Standards, baseline level: HostProcess, host namespaces,
 * privileged containers, capabilities, hostPath volumes, host ports,
 * AppArmor, SELinux, /proc mount type, seccomp, sysctls. Each control
 * reads the fields and allowed values of the standard's table, at the
 * versions where they changed (the Pod Security Admission library's
 * versions: the allowed sysctls grew in v1.27, v1.29 and v1.32, the
 * SELinux type container_engine_t is allowed from v1.31, seccomp is read
 * from annotations before v1.19 and from fields after).
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

/* appArmorProfile.type of a pod or container securityContext. */
static void apparmor_field(pss_pod *p, const pss_ctr *c, const pss_sc *sc)
{
	const json_t *t =
	        json_object_get(sc->f[PSS_SC_APPARMOR_PROFILE], "type");
	const char *s = json_string_value(t);
	char *path, *found;

	if (t == NULL || json_is_null(t) ||
	    (s && (!strcmp(s, "RuntimeDefault") || !strcmp(s, "Localhost"))))
		return;
	path = tg_aprintf("%s.securityContext.appArmorProfile.type",
	                  pss_where(p, c));
	found = pss_show(t);
	pss_violation(p, TG_PSS_APPARMOR, pss_who(c), path, found,
	              "unset, RuntimeDefault, Localhost");
	free(path);
	free(found);
}

/* seccompProfile.type must not be Unconfined (from v1.19). */
static void seccomp_field(pss_pod *p, const pss_ctr *c, const pss_sc *sc)
{
	const json_t *t =
	        json_object_get(sc->f[PSS_SC_SECCOMP_PROFILE], "type");
	char *path;

	if (p->minor < 19 || !json_is_string(t) ||
	    strcmp(json_string_value(t), "Unconfined") != 0)
		return;
	path = tg_aprintf("%s.securityContext.seccompProfile.type",
	                  pss_where(p, c));
	pss_violation(p, TG_PSS_SECCOMP_BASELINE, pss_who(c), path,
	              "Unconfined", "unset, RuntimeDefault, Localhost");
	free(path);
}

static void baseline_container(pss_pod *p, const pss_ctr *c)
{
	const json_t *pm = c->s.f[PSS_SC_PROC_MOUNT];
	char *path, *found;

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
	if (pm && !json_is_null(pm) &&
	    !(json_is_string(pm) &&
	      !strcmp(json_string_value(pm), "Default"))) {
		path = tg_aprintf("%s.securityContext.procMount",
		                  pss_ctr_path(c));
		found = pss_show(pm);
		pss_violation(p, TG_PSS_PROC_MOUNT, c->name, path, found,
		              "unset or Default");
		free(path);
		free(found);
	}
	seccomp_field(p, c, &c->s);
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

static bool sysctl_allowed(const char *name, unsigned minor)
{
	static const char *const v1_0[] = {
		"kernel.shm_rmid_forced",
		"net.ipv4.ip_local_port_range",
		"net.ipv4.ip_unprivileged_port_start",
		"net.ipv4.tcp_syncookies",
		"net.ipv4.ping_group_range",
		NULL
	};
	static const char *const v1_29[] = { "net.ipv4.tcp_keepalive_time",
		                             "net.ipv4.tcp_fin_timeout",
		                             "net.ipv4.tcp_keepalive_intvl",
		                             "net.ipv4.tcp_keepalive_probes",
		                             NULL };
	static const char *const v1_32[] = { "net.ipv4.tcp_rmem",
		                             "net.ipv4.tcp_wmem", NULL };

	return in_list(name, v1_0) ||
	       (minor >= 27 &&
	        strcmp(name, "net.ipv4.ip_local_reserved_ports") == 0) ||
	       (minor >= 29 && in_list(name, v1_29)) ||
	       (minor >= 32 && in_list(name, v1_32));
}

static void sysctls(pss_pod *p)
{
	const json_t *list = p->s.f[PSS_SC_SYSCTLS], *s, *n;
	size_t i;

	json_array_foreach(list, i, s) {
		char *path, *found;

		n = json_object_get(s, "name");
		if (json_is_string(n) &&
		    sysctl_allowed(json_string_value(n), p->minor))
			continue;
		path = tg_aprintf("%s.securityContext.sysctls[%zu].name",
		                  p->base, i);
		found = pss_show(n);
		pss_violation(
		        p, TG_PSS_SYSCTLS, NULL, path, found,
		        p->minor >= 32
		                ? "the safe set of v1.32+ "
		                  "(kernel.shm_rmid_forced, "
		                  "net.ipv4.ip_local_port_range, "
		                  "ip_unprivileged_port_start, tcp_syncookies, "
		                  "ping_group_range, ip_local_reserved_ports, "
		                  "tcp_keepalive_time/intvl/probes, "
		                  "tcp_fin_timeout, tcp_rmem, tcp_wmem)"
		                : "the safe set of the version checked");
		free(path);
		free(found);
	}
}

/* The AppArmor and (before v1.19) seccomp annotations of the pod. */
static void annotations(pss_pod *p)
{
	const json_t *ann = json_object_get(p->meta, "annotations"), *v;
	const char *key, *s;

	json_object_foreach((json_t *)ann, key, v) {
		char *path, *found;
		bool bad_aa = false, bad_sc = false;

		s = json_is_string(v) ? json_string_value(v) : "";
		if (tg_str_has_prefix(key, APPARMOR_PREFIX))
			bad_aa = *s && strcmp(s, "runtime/default") &&
			         !tg_str_has_prefix(s, "localhost/");
		if (p->minor < 19 &&
		    (!strcmp(key, SECCOMP_POD_ANN) ||
		     tg_str_has_prefix(key, SECCOMP_CTR_PREFIX)))
			bad_sc = !strcmp(s, "unconfined");
		if (!bad_aa && !bad_sc)
			continue;
		path = tg_aprintf("%s.annotations[\"%s\"]", p->meta_base, key);
		found = pss_show(v);
		pss_violation(
		        p, bad_aa ? TG_PSS_APPARMOR : TG_PSS_SECCOMP_BASELINE,
		        NULL, path, found,
		        bad_aa ? "unset, runtime/default, localhost/*"
		               : "unset, runtime/default, "
		                 "localhost/*, docker/default");
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
