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

/* v as pss_show shows it, without a copy where it can: a string short
 * enough, true, false, unset. *owned: what to free (or NULL). */
static const char *show(const json_t *v, char **owned)
{
	const char *s;

	*owned = NULL;
	if (v == NULL || json_is_null(v))
		return "unset";
	if (json_is_true(v) || json_is_false(v))
		return json_is_true(v) ? "true" : "false";
	s = json_string_value(v);
	if (s != NULL && strlen(s) <= PSS_SHOW_MAX)
		return s;
	return *owned = pss_show(v);
}

/* Hand f to the sink, or (tg_pss_check) append it to the array. */
static void emit(pss_pod *p, const pss_found *f)
{
	json_t *v;

	p->count++;
	if (p->sink) {
		p->sink(p->sink_arg, f);
		return;
	}
	v = json_object();
	/* every value is valid UTF-8: names of this file, paths made of
	 * JSON keys and numbers, values shown by pss_show (cut between
	 * characters) */
	json_object_set_new_nocheck(
	        v, "control",
	        json_string_nocheck(tg_pss_control_name(f->control)));
	json_object_set_new_nocheck(
	        v, "level", json_string_nocheck(tg_pss_level_name(f->level)));
	json_object_set_new_nocheck(v, "path", json_string_nocheck(f->path));
	json_object_set_new_nocheck(v, "found", json_string_nocheck(f->found));
	json_object_set_new_nocheck(v, "allowed",
	                            json_string_nocheck(f->allowed));
	if (f->container != NULL)
		json_object_set_new_nocheck(v, "container",
		                            json_string_nocheck(f->container));
	json_array_append_new(p->sink_arg, v);
}

void pss_violation(pss_pod *p,
                   tg_pss_control control,
                   const char *container,
                   const char *where,
                   const char *what,
                   const char *found,
                   const char *allowed)
{
	char buf[2 * PSS_PATH_MAX], *heap = NULL;
	size_t a = strlen(where), b = strlen(what);
	pss_found f = {
		control, p->level, container, buf, found ? found : "unset",
		allowed
	};

	if (a + b < sizeof(buf)) {
		memcpy(buf, where, a);
		memcpy(buf + a, what, b + 1);
	} else {
		f.path = heap = tg_aprintf("%s%s", where, what);
	}
	emit(p, &f);
	free(heap);
}

void pss_violation_j(pss_pod *p,
                     tg_pss_control control,
                     const char *container,
                     const char *where,
                     const char *what,
                     const json_t *found,
                     const char *allowed)
{
	char *owned;
	const char *s = show(found, &owned);

	pss_violation(p, control, container, where, what, s, allowed);
	free(owned);
}

void pss_violation_f(pss_pod *p,
                     tg_pss_control control,
                     const char *container,
                     const char *where,
                     const json_t *found,
                     const char *allowed,
                     const char *fmt,
                     ...)
{
	char buf[256], *heap = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		buf[0] = '\0';
	else if ((size_t)n >= sizeof(buf)) {
		heap = tg_malloc((size_t)n + 1);
		va_start(ap, fmt);
		(void)vsnprintf(heap, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	pss_violation_j(p, control, container, where, heap ? heap : buf, found,
	                allowed);
	free(heap);
}

/* A member name and its length. */
typedef struct pss_key {
	const char *name;
	size_t len;
} pss_key;

#define KEY(s)                                                                 \
	{                                                                      \
		s, sizeof(s) - 1                                               \
	}

/* The members of obj named in keys[n] into f (by index; f[i] stays as it
 * is for a member absent), in one pass over obj: a json_object_get
 * hashes its key, this compares lengths. */
static void
read_members(const json_t **f, const json_t *obj, const pss_key *keys, size_t n)
{
	json_t *o = (json_t *)obj;
	void *it;
	size_t i, len;
	const char *key;

	for (it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
		len = json_object_iter_key_len(it);
		key = json_object_iter_key(it);
		for (i = 0; i < n; i++)
			if (keys[i].len == len && key[0] == keys[i].name[0] &&
			    !memcmp(key, keys[i].name, len)) {
				f[i] = json_object_iter_value(it);
				break;
			}
	}
}

void pss_sc_read(pss_sc *s, const json_t *sc)
{
	static const pss_key names[PSS_SC_N] = {
		[PSS_SC_PRIVILEGED] = KEY("privileged"),
		[PSS_SC_ALLOW_PRIVILEGE_ESCALATION] =
		        KEY("allowPrivilegeEscalation"),
		[PSS_SC_CAPABILITIES] = KEY("capabilities"),
		[PSS_SC_RUN_AS_NON_ROOT] = KEY("runAsNonRoot"),
		[PSS_SC_RUN_AS_USER] = KEY("runAsUser"),
		[PSS_SC_SECCOMP_PROFILE] = KEY("seccompProfile"),
		[PSS_SC_SELINUX_OPTIONS] = KEY("seLinuxOptions"),
		[PSS_SC_APPARMOR_PROFILE] = KEY("appArmorProfile"),
		[PSS_SC_PROC_MOUNT] = KEY("procMount"),
		[PSS_SC_WINDOWS_OPTIONS] = KEY("windowsOptions"),
		[PSS_SC_SYSCTLS] = KEY("sysctls"),
	};

	memset(s, 0, sizeof(*s));
	read_members(s->f, sc, names, PSS_SC_N);
}

const char *pss_ctr_path(const pss_ctr *c)
{
	pss_pod *p = c->pod;

	if (p->path_list != c->list || p->path_index != c->index) {
		snprintf(p->path, PSS_PATH_MAX, "%s.%s[%zu]", p->base, c->list,
		         c->index);
		p->path_list = c->list;
		p->path_index = c->index;
	}
	return p->path;
}

/* The members of container c the controls read, in one pass over it. */
static void read_container(pss_ctr *ctr, const json_t *c)
{
	enum { K_NAME = PSS_H_N, K_SC, K_PORTS, K_N };
	static const pss_key keys[K_N] = {
		[PSS_H_LIVENESS] = KEY("livenessProbe"),
		[PSS_H_READINESS] = KEY("readinessProbe"),
		[PSS_H_STARTUP] = KEY("startupProbe"),
		[PSS_H_LIFECYCLE] = KEY("lifecycle"),
		[K_NAME] = KEY("name"),
		[K_SC] = KEY("securityContext"),
		[K_PORTS] = KEY("ports"),
	};
	static const pss_key caps[] = { KEY("add"), KEY("drop") };
	const json_t *f[K_N] = { NULL }, *cf[2] = { NULL, NULL };

	read_members(f, c, keys, K_N);
	ctr->c = c;
	ctr->name = json_string_value(f[K_NAME]);
	ctr->name = ctr->name ? ctr->name : "";
	ctr->sc = f[K_SC];
	pss_sc_read(&ctr->s, ctr->sc);
	ctr->ports = f[K_PORTS];
	memcpy(ctr->handlers, f, sizeof(ctr->handlers));
	read_members(cf, ctr->s.f[PSS_SC_CAPABILITIES], caps, 2);
	ctr->caps_add = cf[0];
	ctr->caps_drop = cf[1];
}

static const char *const lists[PSS_L_N] = {
	[PSS_L_CONTAINERS] = "containers",
	[PSS_L_INIT] = "initContainers",
	[PSS_L_EPHEMERAL] = "ephemeralContainers",
};

void pss_each_container(pss_pod *p, pss_ctr_fn fn)
{
	const json_t *c;
	size_t i, k, n = 0;

	for (i = 0; i < PSS_L_N; i++) {
		json_array_foreach(p->lists[i], k, c) {
			pss_ctr more, *ctr = &more;

			if (!json_is_object(c))
				continue; /* an error of the manifest already */
			if (n < p->nctrs) {
				fn(p, &p->ctrs[n++]);
				continue;
			}
			if (n++ < PSS_CTR_CACHE)
				ctr = &p->ctrs[p->nctrs++];
			read_container(ctr, c);
			ctr->list = lists[i];
			ctr->index = k;
			ctr->pod = p;
			fn(p, ctr);
		}
	}
}

/* The members of the pod spec the controls read, in one pass over it. */
static void read_spec(pss_pod *p, const json_t *spec)
{
	enum { K_SC = PSS_L_N, K_NET, K_PID, K_IPC, K_VOL, K_OS, K_USERS, K_N };
	static const pss_key keys[K_N] = {
		[PSS_L_CONTAINERS] = KEY("containers"),
		[PSS_L_INIT] = KEY("initContainers"),
		[PSS_L_EPHEMERAL] = KEY("ephemeralContainers"),
		[K_SC] = KEY("securityContext"),
		[K_NET] = KEY("hostNetwork"),
		[K_PID] = KEY("hostPID"),
		[K_IPC] = KEY("hostIPC"),
		[K_VOL] = KEY("volumes"),
		[K_OS] = KEY("os"),
		[K_USERS] = KEY("hostUsers"),
	};
	const json_t *f[K_N] = { NULL };
	const char *os;

	read_members(f, spec, keys, K_N);
	p->spec = spec;
	memcpy(p->lists, f, sizeof(p->lists));
	p->sc = f[K_SC];
	pss_sc_read(&p->s, p->sc);
	p->seccomp_type =
	        json_object_get(p->s.f[PSS_SC_SECCOMP_PROFILE], "type");
	memcpy(p->host, f + K_NET, sizeof(p->host));
	p->volumes = f[K_VOL];
	os = json_string_value(json_object_get(f[K_OS], "name"));
	p->windows = os != NULL && strcmp(os, "windows") == 0;
	p->userns = json_is_false(f[K_USERS]);
}

size_t pss_check_to(pss_sink sink,
                    void *arg,
                    const json_t *spec,
                    const json_t *meta,
                    const char *base,
                    const char *meta_base,
                    tg_pss_level level,
                    unsigned minor)
{
	pss_pod p;

	p.sink = sink;
	p.sink_arg = arg;
	p.count = 0;
	p.nctrs = 0;
	p.path_list = NULL;
	p.path_index = 0;
	read_spec(&p, spec);
	p.meta = meta;
	p.base = base;
	p.meta_base = meta_base ? meta_base : "metadata";
	p.minor = minor;
	p.want = level;
	if (level >= TG_PSS_LEVEL_BASELINE) {
		p.level = TG_PSS_LEVEL_BASELINE;
		tg_pss_baseline(&p);
	}
	if (level >= TG_PSS_LEVEL_RESTRICTED) {
		p.level = TG_PSS_LEVEL_RESTRICTED;
		tg_pss_restricted(&p);
	}
	return p.count;
}

size_t tg_pss_check(json_t *out,
                    const json_t *spec,
                    const json_t *meta,
                    const char *base,
                    const char *meta_base,
                    tg_pss_level level,
                    unsigned minor)
{
	return pss_check_to(NULL, out, spec, meta, base, meta_base, level,
	                    minor);
}
