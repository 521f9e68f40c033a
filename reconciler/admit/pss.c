/*
 * The Pod Security Standards (kubernetes.io "Pod Security Standards",
 * as the Pod Security Admission library checks them): what the baseline
 * and restricted levels share. A pod spec is checked with every container
 * of containers, initContainers and ephemeralContainers, a container's
 * securityContext overriding the pod's where the standard says so, and
 * every violation is recorded (not only the first). The controls are in
 * pss_baseline.c and pss_restricted.c.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pss_int.h"
#include "tollgate/admit.h"
#include "tollgate/util.h"

/* Bytes of a value quoted in a violation: the fields checked hold short
 * scalars and lists; anything longer is cut. */
#define PSS_SHOW_MAX 120

const json_t *pss_get(const json_t *obj, ...)
{
	va_list ap;
	const char *key;

	va_start(ap, obj);
	while (obj != NULL && (key = va_arg(ap, const char *)) != NULL)
		obj = json_object_get(obj, key);
	va_end(ap);
	return obj;
}

char *pss_show(const json_t *v)
{
	char *s, *out;
	size_t n;

	if (v == NULL || json_is_null(v))
		return tg_strdup("unset");
	if (json_is_string(v))
		s = tg_strdup(json_string_value(v));
	else
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s == NULL)
		return tg_strdup("?");
	if (strlen(s) <= PSS_SHOW_MAX)
		return s;
	/* cut before a UTF-8 continuation byte, never inside a character:
	 * the value goes into JSON strings */
	n = PSS_SHOW_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	out = tg_aprintf("%.*s...", (int)n, s);
	free(s);
	return out;
}

void pss_violation(pss_pod *p,
                   tg_pss_control control,
                   const char *container,
                   const char *path,
                   const char *found,
                   const char *allowed)
{
	json_t *v = json_object();

	/* every value is valid UTF-8: names of this file, paths made of
	 * JSON keys and numbers, values shown by pss_show (cut between
	 * characters) */
	json_object_set_new_nocheck(
	        v, "control",
	        json_string_nocheck(tg_pss_control_name(control)));
	json_object_set_new_nocheck(
	        v, "level", json_string_nocheck(tg_pss_level_name(p->level)));
	json_object_set_new_nocheck(v, "path", json_string_nocheck(path));
	json_object_set_new_nocheck(
	        v, "found", json_string_nocheck(found ? found : "unset"));
	json_object_set_new_nocheck(v, "allowed", json_string_nocheck(allowed));
	if (container != NULL)
		json_object_set_new_nocheck(v, "container",
		                            json_string_nocheck(container));
	json_array_append_new(p->out, v);
}

void pss_sc_read(pss_sc *s, const json_t *sc)
{
	static const char *const names[PSS_SC_N] = {
		[PSS_SC_PRIVILEGED] = "privileged",
		[PSS_SC_ALLOW_PRIVILEGE_ESCALATION] =
		        "allowPrivilegeEscalation",
		[PSS_SC_CAPABILITIES] = "capabilities",
		[PSS_SC_RUN_AS_NON_ROOT] = "runAsNonRoot",
		[PSS_SC_RUN_AS_USER] = "runAsUser",
		[PSS_SC_SECCOMP_PROFILE] = "seccompProfile",
		[PSS_SC_SELINUX_OPTIONS] = "seLinuxOptions",
		[PSS_SC_APPARMOR_PROFILE] = "appArmorProfile",
		[PSS_SC_PROC_MOUNT] = "procMount",
		[PSS_SC_WINDOWS_OPTIONS] = "windowsOptions",
		[PSS_SC_SYSCTLS] = "sysctls",
	};
	const char *key;
	json_t *v;
	size_t i;

	memset(s, 0, sizeof(*s));
	json_object_foreach((json_t *)sc, key, v) {
		for (i = 0; i < PSS_SC_N; i++)
			if (key[0] == names[i][0] && !strcmp(key, names[i])) {
				s->f[i] = v;
				break;
			}
	}
}

const char *pss_ctr_path(const pss_ctr *c)
{
	if (*c->path == '\0')
		snprintf(c->path, PSS_PATH_MAX, "%s.%s[%zu]", c->base, c->list,
		         c->index);
	return c->path;
}

void pss_each_container(pss_pod *p, pss_ctr_fn fn)
{
	static const char *const lists[] = { "containers", "initContainers",
		                             "ephemeralContainers" };
	const json_t *list, *c;
	char path[PSS_PATH_MAX];
	size_t i, k;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		list = json_object_get(p->spec, lists[i]);
		json_array_foreach(list, k, c) {
			pss_ctr ctr;
			const char *name =
			        json_string_value(json_object_get(c, "name"));

			if (!json_is_object(c))
				continue; /* an error of the manifest already */
			ctr.c = c;
			ctr.sc = json_object_get(c, "securityContext");
			pss_sc_read(&ctr.s, ctr.sc);
			ctr.name = name ? name : "";
			ctr.base = p->base;
			ctr.list = lists[i];
			ctr.index = k;
			ctr.path = path;
			path[0] = '\0';
			fn(p, &ctr);
		}
	}
}

size_t tg_pss_check(json_t *out,
                    const json_t *spec,
                    const json_t *meta,
                    const char *base,
                    const char *meta_base,
                    tg_pss_level level,
                    unsigned minor)
{
	pss_pod p;
	const char *os = json_string_value(pss_get(spec, "os", "name", NULL));
	size_t before = json_array_size(out);

	memset(&p, 0, sizeof(p));
	p.spec = spec;
	p.sc = json_object_get(spec, "securityContext");
	pss_sc_read(&p.s, p.sc);
	p.meta = meta;
	p.base = base;
	p.meta_base = meta_base ? meta_base : "metadata";
	p.minor = minor;
	p.windows = os != NULL && strcmp(os, "windows") == 0;
	p.userns = json_is_false(json_object_get(spec, "hostUsers"));
	p.want = level;
	p.out = out;
	if (level >= TG_PSS_LEVEL_BASELINE) {
		p.level = TG_PSS_LEVEL_BASELINE;
		tg_pss_baseline(&p);
	}
	if (level >= TG_PSS_LEVEL_RESTRICTED) {
		p.level = TG_PSS_LEVEL_RESTRICTED;
		tg_pss_restricted(&p);
	}
	return json_array_size(out) - before;
}
