/*
 * Pod Security Standards, restricted level (on top of baseline): volume
 * types, privilege escalation, running as non-root, non-root user,
 * seccomp, capabilities. Where a container's securityContext may inherit
 * the pod's (runAsNonRoot, seccompProfile), a container's own value
 * overrides the pod's and a container that sets nothing takes the pod's.
 * From v1.25 a Windows pod (spec.os.name: windows) is exempt from the
 * Linux-only controls (privilege escalation, seccomp, capabilities), as
 * the Pod Security Admission library has it. Controls apply from the
 * version that introduced them: privilege escalation v1.8, seccomp v1.19,
 * capabilities v1.22, non-root user v1.23; from v1.35 a pod in a user
 * namespace (hostUsers: false) may run as root and /proc mount type is
 * a restricted control of its own (procMount_restricted).
 */
#include <stdlib.h>
#include <string.h>

#include "pss_int.h"
#include "tollgate/util.h"

/* Volume types --------------------------------------------------------------
 */

static const char *const allowed_volumes[] = {
	"configMap", "csi",   "downwardAPI",           "emptyDir",
	"ephemeral", "image", "persistentVolumeClaim", "projected",
	"secret",    NULL
};

/* The volume source a volume names (its member other than name), or
 * NULL when it names none. */
static const char *volume_type(const json_t *v)
{
	const char *key;
	json_t *x;

	json_object_foreach((json_t *)v, key, x) {
		if (strcmp(key, "name") != 0 && !json_is_null(x))
			return key;
	}
	return NULL;
}

static void restricted_volumes(pss_pod *p)
{
	const json_t *v;
	size_t i, k;

	json_array_foreach(p->volumes, i, v) {
		const char *t = volume_type(v);
		char *what;
		bool ok = false;

		for (k = 0; t && allowed_volumes[k]; k++)
			ok = ok || strcmp(t, allowed_volumes[k]) == 0;
		if (ok || t == NULL)
			continue;
		what = tg_aprintf(".volumes[%zu].%s", i, t);
		pss_violation(p, TG_PSS_RESTRICTED_VOLUMES, NULL, p->base, what,
		              t,
		              "configMap, csi, downwardAPI, emptyDir, "
		              "ephemeral, image, persistentVolumeClaim, "
		              "projected, secret");
		free(what);
	}
}

/* Containers --------------------------------------------------------------- */

static void privilege_escalation(pss_pod *p, const pss_ctr *c)
{
	const json_t *v = c->s.f[PSS_SC_ALLOW_PRIVILEGE_ESCALATION];

	if (!json_is_false(v))
		pss_violation_j(p, TG_PSS_ALLOW_PRIVILEGE_ESCALATION, c->name,
		                pss_ctr_path(c),
		                ".securityContext.allowPrivilegeEscalation", v,
		                "false");
}

/* A container field that inherits the pod's, v (what under the
 * container's path), wrong: unset, it names the pod's field unset too. */
static void inherited(pss_pod *p,
                      const pss_ctr *c,
                      tg_pss_control ctl,
                      const char *what,
                      const json_t *v,
                      const char *allowed)
{
	char buf[PSS_PATH_MAX + 128], *heap = NULL;
	const char *found = buf;

	if (v != NULL && !json_is_null(v)) {
		pss_violation_j(p, ctl, c->name, pss_ctr_path(c), what, v,
		                allowed);
		return;
	}
	if ((size_t)snprintf(buf, sizeof(buf), "unset (and %s%s is unset)",
	                     p->base, what) >= sizeof(buf))
		found = heap =
		        tg_aprintf("unset (and %s%s is unset)", p->base, what);
	pss_violation(p, ctl, c->name, pss_ctr_path(c), what, found, allowed);
	free(heap);
}

static void run_as_non_root(pss_pod *p, const pss_ctr *c)
{
	const json_t *v = c->s.f[PSS_SC_RUN_AS_NON_ROOT];

	if (json_is_true(v))
		return;
	/* unset: the pod's value applies (a false pod value is reported on
	 * the pod) */
	if ((v == NULL || json_is_null(v)) &&
	    p->s.f[PSS_SC_RUN_AS_NON_ROOT] != NULL &&
	    !json_is_null(p->s.f[PSS_SC_RUN_AS_NON_ROOT]))
		return;
	inherited(p, c, TG_PSS_RUN_AS_NON_ROOT, ".securityContext.runAsNonRoot",
	          v, "true, here or on the pod");
}

static void run_as_user(pss_pod *p, const pss_ctr *c, const pss_sc *sc)
{
	const json_t *v = sc->f[PSS_SC_RUN_AS_USER];

	if (p->minor < 23 || !json_is_integer(v) || json_integer_value(v) != 0)
		return;
	pss_violation(p, TG_PSS_RUN_AS_USER, pss_who(c), pss_where(p, c),
	              ".securityContext.runAsUser", "0",
	              "a non-zero UID or unset");
}

static bool seccomp_ok(const json_t *t)
{
	const char *s = json_string_value(t);

	return s && (!strcmp(s, "RuntimeDefault") || !strcmp(s, "Localhost"));
}

static void seccomp(pss_pod *p, const pss_ctr *c)
{
	const json_t *t =
	        json_object_get(c->s.f[PSS_SC_SECCOMP_PROFILE], "type");
	const json_t *pt = p->seccomp_type;

	if (seccomp_ok(t))
		return;
	/* unset: the pod's profile applies (a bad pod value is reported on
	 * the pod) */
	if ((t == NULL || json_is_null(t)) && pt != NULL && !json_is_null(pt))
		return;
	inherited(p, c, TG_PSS_SECCOMP_RESTRICTED,
	          ".securityContext.seccompProfile.type", t,
	          "RuntimeDefault or Localhost, here or on the pod");
}

static bool drops_all(const json_t *drop)
{
	const json_t *x;
	size_t i;

	json_array_foreach(drop, i, x) {
		if (json_is_string(x) && !strcmp(json_string_value(x), "ALL"))
			return true;
	}
	return false;
}

static void capabilities(pss_pod *p, const pss_ctr *c)
{
	const json_t *drop = c->caps_drop, *add = c->caps_add, *x;
	size_t i;

	if (!drops_all(drop))
		pss_violation_j(p, TG_PSS_CAPABILITIES_RESTRICTED, c->name,
		                pss_ctr_path(c),
		                ".securityContext.capabilities.drop", drop,
		                "a list that includes ALL");
	json_array_foreach(add, i, x) {
		if (json_is_string(x) &&
		    !strcmp(json_string_value(x), "NET_BIND_SERVICE"))
			continue;
		pss_violation_f(p, TG_PSS_CAPABILITIES_RESTRICTED, c->name,
		                pss_ctr_path(c), x, "NET_BIND_SERVICE only",
		                ".securityContext.capabilities.add[%zu]", i);
	}
}

/* From v1.35 a pod in a user namespace (hostUsers: false) may run as
 * root: root in the pod is no root on the node. */
static bool relaxed_for_userns(const pss_pod *p)
{
	return p->minor >= 35 && p->userns;
}

static void restricted_container(pss_pod *p, const pss_ctr *c)
{
	bool linux_only = !(p->windows && p->minor >= 25);

	if (p->minor >= 8 && linux_only)
		privilege_escalation(p, c);
	if (!relaxed_for_userns(p)) {
		run_as_non_root(p, c);
		run_as_user(p, c, &c->s);
	}
	if (p->minor >= 19 && linux_only)
		seccomp(p, c);
	if (p->minor >= 22 && linux_only)
		capabilities(p, c);
	/* from v1.35 in place of baseline's procMount, which lets a pod in
	 * a user namespace unmask /proc */
	if (p->minor >= 35)
		pss_proc_mount(p, c, TG_PSS_PROC_MOUNT_RESTRICTED);
}

/* Pod ---------------------------------------------------------------------- */

/* Pod-level values that are wrong whatever the containers say. */
static void restricted_pod(pss_pod *p)
{
	const json_t *nr = p->s.f[PSS_SC_RUN_AS_NON_ROOT];
	const json_t *t = p->seccomp_type;

	if (!relaxed_for_userns(p) && nr != NULL && !json_is_null(nr) &&
	    !json_is_true(nr))
		pss_violation_j(p, TG_PSS_RUN_AS_NON_ROOT, NULL, p->base,
		                ".securityContext.runAsNonRoot", nr, "true");
	if (!relaxed_for_userns(p))
		run_as_user(p, NULL, &p->s);
	if (p->minor >= 19 && !(p->windows && p->minor >= 25) && t != NULL &&
	    !json_is_null(t) && !seccomp_ok(t))
		pss_violation_j(p, TG_PSS_SECCOMP_RESTRICTED, NULL, p->base,
		                ".securityContext.seccompProfile.type", t,
		                "RuntimeDefault or Localhost");
}

void tg_pss_restricted(pss_pod *p)
{
	restricted_volumes(p);
	restricted_pod(p);
	pss_each_container(p, restricted_container);
}
