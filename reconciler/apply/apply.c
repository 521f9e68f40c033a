/*
 * Apply, prune, inventory, health and drift: see reconciler/include/tollgate/apply.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tollgate/apply.h"
#include "tollgate/buf.h"
#include "tollgate/drift.h"
#include "tollgate/error.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

#define TG_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define TG_LABEL_UNIT "tollgate.dev/unit"
#define TG_LABEL_INVENTORY "tollgate.dev/inventory"
#define TG_ANN_COMMIT "tollgate.dev/source-commit"
#define TG_ANN_PRUNE "tollgate.dev/prune"
#define TG_FIELD_MANAGER "tollgate"

/* Seconds to wait for a CustomResourceDefinition to be Established. */
#define TG_CRD_WAIT_S 30.0
/* Seconds between polls of CRD and rollout status. */
#define TG_POLL_INTERVAL_S 0.2

enum phase {
	PHASE_CRD,
	PHASE_NAMESPACE,
	PHASE_CLUSTER,
	PHASE_FOUNDATION,
	PHASE_WORKLOAD,
	PHASE_OTHER,
	PHASE_CUSTOM,
	PHASE_COUNT
};

typedef struct obj {
	json_t *desired;                            /* decorated copy, owned */
	const char *api_version, *kind, *ns, *name; /* borrowed from desired */
	enum phase phase;
	const char *action;
	json_t *changed; /* paths (plan) */
} obj;

typedef struct unit {
	char *name;
	obj *objs;
	size_t n;
	bool keep;    /* blocked or invalid: leave alone */
	bool changed; /* content differs from the inventory */
	bool failed;
	char hash[TG_DIGEST_STR_LEN + 1];
	json_t *old_objects; /* identities from the inventory, or NULL */
	json_t *errors, *objects, *health, *drift;
	json_t *pruned; /* prune events of this cycle */
	bool drift_corrected;
} unit;

struct tg_apply {
	tg_kube *kube;
	tg_apply_options opts;
	char *inventory_ns;
	char *commit;
	unit *units;
	size_t nunits;
	json_t *inventories; /* unit name -> live inventory ConfigMap */
	json_t *pruned_units;
};

/* Kinds by phase; anything not listed is PHASE_OTHER (built-in group) or
 * PHASE_CUSTOM (a group served by a CRD). */
static const struct {
	const char *kind;
	enum phase phase;
} kind_phase[] = {
	{ "CustomResourceDefinition", PHASE_CRD },
	{ "Namespace", PHASE_NAMESPACE },
	{ "ServiceAccount", PHASE_FOUNDATION },
	{ "Secret", PHASE_FOUNDATION },
	{ "ConfigMap", PHASE_FOUNDATION },
	{ "Role", PHASE_FOUNDATION },
	{ "RoleBinding", PHASE_FOUNDATION },
	{ "PersistentVolumeClaim", PHASE_FOUNDATION },
	{ "LimitRange", PHASE_FOUNDATION },
	{ "ResourceQuota", PHASE_FOUNDATION },
	{ "Service", PHASE_FOUNDATION },
	{ "Deployment", PHASE_WORKLOAD },
	{ "StatefulSet", PHASE_WORKLOAD },
	{ "DaemonSet", PHASE_WORKLOAD },
	{ "ReplicaSet", PHASE_WORKLOAD },
	{ "Job", PHASE_WORKLOAD },
	{ "CronJob", PHASE_WORKLOAD },
	{ "Pod", PHASE_WORKLOAD },
};

/* API groups of Kubernetes itself: a kind in any other group comes from
 * a CRD and is applied last. */
static bool builtin_group(const char *api_version)
{
	const char *slash = strchr(api_version, '/');
	size_t n = slash ? (size_t)(slash - api_version) : 0;

	if (!slash)
		return true; /* core "v1" */
	return (n > 8 && !strncmp(api_version + n - 8, ".k8s.io", 7)) ||
	       !strncmp(api_version, "apps/", 5) ||
	       !strncmp(api_version, "batch/", 6) ||
	       !strncmp(api_version, "policy/", 7) ||
	       !strncmp(api_version, "autoscaling/", 12) ||
	       strstr(api_version, ".k8s.io/") != NULL;
}

static enum phase
phase_of(const char *api_version, const char *kind, bool namespaced)
{
	size_t i;

	for (i = 0; i < sizeof(kind_phase) / sizeof(kind_phase[0]); i++)
		if (!strcmp(kind_phase[i].kind, kind))
			return kind_phase[i].phase;
	if (!builtin_group(api_version))
		return PHASE_CUSTOM;
	return namespaced ? PHASE_OTHER : PHASE_CLUSTER;
}

char *tg_apply_inventory_name(const char *unit_name)
{
	unsigned char md[32];
	char hex[65], *clean = tg_strdup(unit_name), *p, *name;

	tg_sha256(md, unit_name, strlen(unit_name));
	tg_hex_encode(hex, md, 4);
	for (p = clean; *p; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		*p = c;
	}
	/* ConfigMap names are at most 253 characters. */
	if (strlen(clean) > 200)
		clean[200] = '\0';
	name = tg_aprintf("tollgate-inventory-%s-%s", clean, hex);
	free(clean);
	return name;
}

/* A label value: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends. */
static bool valid_label_value(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 63)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		             (c >= '0' && c <= '9');
		if (!alnum && c != '-' && c != '_' && c != '.')
			return false;
		if (!alnum && (i == 0 || i == n - 1))
			return false;
	}
	return true;
}

static json_t *object_member(json_t *parent, const char *key)
{
	json_t *o = json_object_get(parent, key);

	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(parent, key, o);
	}
	return o;
}

/* Labels and annotations of DESIGN.md 3.5. The commit annotation is added
 * separately so the content hash does not change with every commit. */
static void decorate(json_t *o, const char *unit_name)
{
	json_t *meta = object_member(o, "metadata");
	json_t *labels = object_member(meta, "labels");
	json_t *ann = object_member(meta, "annotations");

	json_object_set_new(labels, TG_LABEL_MANAGED_BY,
	                    json_string("tollgate"));
	if (valid_label_value(unit_name))
		json_object_set_new(labels, TG_LABEL_UNIT,
		                    json_string(unit_name));
	json_object_set_new(ann, TG_LABEL_UNIT, json_string(unit_name));
}

int tg_apply_new(tg_apply **out, tg_kube *kube, const tg_apply_options *opts)
{
	tg_apply *a = tg_calloc(1, sizeof(*a));

	a->kube = kube;
	a->opts = *opts;
	a->inventory_ns =
	        tg_strdup(opts->inventory_namespace ? opts->inventory_namespace
	                                            : "tollgate-system");
	a->commit = tg_strdup(opts->source_commit ? opts->source_commit : "");
	a->opts.inventory_namespace = a->inventory_ns;
	a->opts.source_commit = a->commit;
	a->inventories = json_object();
	a->pruned_units = json_array();
	*out = a;
	return 0;
}

static void unit_free(unit *u)
{
	size_t i;

	for (i = 0; i < u->n; i++) {
		json_decref(u->objs[i].desired);
		json_decref(u->objs[i].changed);
	}
	free(u->objs);
	free(u->name);
	json_decref(u->old_objects);
	json_decref(u->errors);
	json_decref(u->objects);
	json_decref(u->health);
	json_decref(u->drift);
	json_decref(u->pruned);
}

void tg_apply_free(tg_apply *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->nunits; i++)
		unit_free(&a->units[i]);
	free(a->units);
	free(a->inventory_ns);
	free(a->commit);
	json_decref(a->inventories);
	json_decref(a->pruned_units);
	free(a);
}

static unit *new_unit(tg_apply *a, const char *name)
{
	unit *u;

	a->units = tg_realloc(a->units, (a->nunits + 1) * sizeof(*a->units));
	u = &a->units[a->nunits++];
	memset(u, 0, sizeof(*u));
	u->name = tg_strdup(name);
	u->errors = json_array();
	u->objects = json_array();
	u->health = json_array();
	u->drift = json_array();
	u->pruned = json_array();
	return u;
}

/* Hash of the unit's decorated objects in order: the "content" compared
 * with the inventory to tell unchanged units. */
static void unit_hash(unit *u)
{
	tg_buf b;
	size_t i;

	tg_buf_init(&b, (size_t)1 << 31);
	for (i = 0; i < u->n; i++) {
		char *s = json_dumps(u->objs[i].desired,
		                     JSON_COMPACT | JSON_SORT_KEYS);
		tg_buf_puts(&b, s ? s : "");
		tg_buf_puts(&b, "\n");
		free(s);
	}
	tg_sha256_digest_str(u->hash, b.data ? b.data : "", b.len);
	tg_buf_free(&b);
}

void tg_apply_add_unit(tg_apply *a,
                       const char *name,
                       json_t *const *objects,
                       size_t n)
{
	unit *u = new_unit(a, name);
	size_t i;

	u->objs = tg_calloc(n, sizeof(*u->objs));
	u->n = n;
	for (i = 0; i < n; i++) {
		obj *o = &u->objs[i];
		json_t *meta;

		o->desired = json_deep_copy(objects[i]);
		decorate(o->desired, name);
		meta = json_object_get(o->desired, "metadata");
		o->api_version = json_string_value(
		        json_object_get(o->desired, "apiVersion"));
		o->kind =
		        json_string_value(json_object_get(o->desired, "kind"));
		o->name = json_string_value(json_object_get(meta, "name"));
		o->ns = json_string_value(json_object_get(meta, "namespace"));
	}
	unit_hash(u);
}

void tg_apply_keep_unit(tg_apply *a, const char *name)
{
	new_unit(a, name)->keep = true;
}

/* Scope and phase ---------------------------------------------------------- */

/*
 * Set the namespace of o from discovery: "default" for a namespaced kind
 * without one, none for a cluster-scoped kind. Returns TG_ENOTFOUND when
 * the server does not serve the kind (yet: its CRD may come this cycle).
 */
static int resolve_scope(tg_apply *a, obj *o)
{
	const tg_kube_resource *r;
	json_t *meta = json_object_get(o->desired, "metadata");
	int error;

	if ((error = tg_kube_resource_lookup(&r, a->kube, o->api_version,
	                                     o->kind)) < 0) {
		o->phase = phase_of(o->api_version, o->kind, true);
		return error;
	}
	if (r->namespaced && (!o->ns || !*o->ns))
		json_object_set_new(meta, "namespace", json_string("default"));
	else if (!r->namespaced)
		json_object_del(meta, "namespace");
	o->ns = json_string_value(json_object_get(meta, "namespace"));
	o->phase = phase_of(o->api_version, o->kind, r->namespaced);
	return 0;
}

static bool eligible(const unit *u)
{
	return !u->keep && u->changed && !u->failed;
}

/* Whether a CRD among the units to apply defines kind in api_version's
 * group. */
static bool crd_pending(tg_apply *a, const char *api_version, const char *kind)
{
	const char *slash = strchr(api_version, '/');
	size_t i, j, glen = slash ? (size_t)(slash - api_version) : 0;

	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		if (u->keep || u->failed)
			continue;
		for (j = 0; j < u->n; j++) {
			json_t *spec =
			        json_object_get(u->objs[j].desired, "spec");
			const char *g = json_string_value(
			        json_object_get(spec, "group"));
			const char *k = json_string_value(json_object_get(
			        json_object_get(spec, "names"), "kind"));
			if (u->objs[j].phase == PHASE_CRD && g && k &&
			    strlen(g) == glen &&
			    !strncmp(g, api_version, glen) && !strcmp(k, kind))
				return true;
		}
	}
	return false;
}

/* Whether a Namespace named ns is among the units to apply. */
static bool namespace_pending(tg_apply *a, const char *ns)
{
	size_t i, j;

	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		if (u->keep || u->failed)
			continue;
		for (j = 0; j < u->n; j++)
			if (u->objs[j].phase == PHASE_NAMESPACE &&
			    !strcmp(u->objs[j].name, ns))
				return true;
	}
	return false;
}

static void unit_error(unit *u, const char *msg)
{
	u->failed = true;
	json_array_append_new(u->errors, json_string(msg));
	tg_log(TG_LOG_ERROR, "unit failed", "unit", u->name, "error", msg,
	       NULL);
}

/* Batches ------------------------------------------------------------------ */

typedef struct batch {
	tg_kube_op *ops;
	obj **objs;
	unit **units;
	size_t n;
} batch;

static void
batch_add(batch *b, unit *u, obj *o, tg_kube_verb verb, unsigned flags)
{
	b->ops = tg_realloc(b->ops, (b->n + 1) * sizeof(*b->ops));
	b->objs = tg_realloc(b->objs, (b->n + 1) * sizeof(*b->objs));
	b->units = tg_realloc(b->units, (b->n + 1) * sizeof(*b->units));
	memset(&b->ops[b->n], 0, sizeof(b->ops[b->n]));
	b->ops[b->n].verb = verb;
	b->ops[b->n].obj = o->desired;
	b->ops[b->n].flags = flags;
	b->objs[b->n] = o;
	b->units[b->n] = u;
	b->n++;
}

static void batch_free(batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		tg_kube_op_clear(&b->ops[i]);
	free(b->ops);
	free(b->objs);
	free(b->units);
	memset(b, 0, sizeof(*b));
}

/* Inventories -------------------------------------------------------------- */

static json_t *identity_of(const obj *o)
{
	json_t *id = json_pack("{s:s,s:s,s:s}", "apiVersion", o->api_version,
	                       "kind", o->kind, "name", o->name);

	if (o->ns && *o->ns)
		json_object_set_new(id, "namespace", json_string(o->ns));
	return id;
}

static bool same_identity(json_t *id, const obj *o)
{
	const char *ns = json_string_value(json_object_get(id, "namespace"));
	const char *av = json_string_value(json_object_get(id, "apiVersion"));
	const char *sa = strchr(av ? av : "", '/'),
	           *sb = strchr(o->api_version, '/');
	size_t ga = sa ? (size_t)(sa - av) : 0,
	       gb = sb ? (size_t)(sb - o->api_version) : 0;

	/* Same API group (any version), kind, namespace and name. */
	return av && ga == gb && !strncmp(av, o->api_version, ga) &&
	       !strcmp(json_string_value(json_object_get(id, "kind")),
	               o->kind) &&
	       !strcmp(json_string_value(json_object_get(id, "name")),
	               o->name) &&
	       !strcmp(ns ? ns : "", o->ns ? o->ns : "");
}

/* Read every inventory ConfigMap in the inventory namespace. A missing
 * namespace means no inventories yet. */
static int load_inventories(tg_apply *a)
{
	json_t *items = NULL, *cm;
	size_t i;
	int error;

	error = tg_kube_list(&items, a->kube, "v1", "ConfigMap",
	                     a->inventory_ns, TG_LABEL_INVENTORY "=true");
	if (error == TG_ENOTFOUND)
		return 0;
	if (error < 0)
		return error;
	json_array_foreach(items, i, cm) {
		json_t *data = json_object_get(cm, "data");
		const char *name =
		        json_string_value(json_object_get(data, "unit"));
		if (name)
			json_object_set(a->inventories, name, cm);
	}
	json_decref(items);
	return 0;
}

/* Compare each unit with its inventory: changed content, old objects. */
static void diff_inventories(tg_apply *a)
{
	size_t i;

	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		json_t *data = json_object_get(
		        json_object_get(a->inventories, u->name), "data");
		const char *hash =
		        json_string_value(json_object_get(data, "hash"));
		const char *objs =
		        json_string_value(json_object_get(data, "objects"));

		if (objs)
			u->old_objects = json_loads(objs, 0, NULL);
		if (!json_is_array(u->old_objects)) {
			json_decref(u->old_objects);
			u->old_objects = NULL;
		}
		u->changed =
		        !hash || strcmp(hash, u->hash) != 0 || !u->old_objects;
	}
}

static json_t *inventory_object(tg_apply *a, unit *u)
{
	json_t *ids = json_array(), *cm;
	char *name = tg_apply_inventory_name(u->name), *ids_text;
	size_t i;

	for (i = 0; i < u->n; i++)
		json_array_append_new(ids, identity_of(&u->objs[i]));
	ids_text = json_dumps(ids, JSON_COMPACT);
	cm = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s},s:{s:s}},"
	               "s:{s:s,s:s,s:s,s:s}}",
	               "apiVersion", "v1", "kind", "ConfigMap", "metadata",
	               "name", name, "namespace", a->inventory_ns, "labels",
	               TG_LABEL_MANAGED_BY, "tollgate", TG_LABEL_INVENTORY,
	               "true", "annotations", TG_LABEL_UNIT, u->name, "data",
	               "unit", u->name, "hash", u->hash, "commit", a->commit,
	               "objects", ids_text);
	free(ids_text);
	free(name);
	json_decref(ids);
	return cm;
}

static int ensure_inventory_namespace(tg_apply *a)
{
	json_t *ns = json_pack("{s:s,s:s,s:{s:s,s:{s:s}}}", "apiVersion", "v1",
	                       "kind", "Namespace", "metadata", "name",
	                       a->inventory_ns, "labels", TG_LABEL_MANAGED_BY,
	                       "tollgate");
	json_t *live = NULL;
	int error;

	error = tg_kube_get(&live, a->kube, "v1", "Namespace", NULL,
	                    a->inventory_ns);
	if (error == TG_ENOTFOUND)
		error = tg_kube_apply(NULL, a->kube, ns, 0);
	if (error < 0)
		tg_error_prefix(error,
		                "cannot create the inventory namespace "
		                "\"%s\"",
		                a->inventory_ns);
	json_decref(live);
	json_decref(ns);
	return error;
}

/* Preflight ---------------------------------------------------------------- */

/* Is this dry-run failure expected because of something applied earlier in
 * the same cycle (the CRD of a kind, the Namespace of an object)? */
static bool failure_is_pending(tg_apply *a, obj *o, tg_kube_op *op)
{
	if (op->result == TG_ENOTFOUND && op->status == 0)
		return crd_pending(a, o->api_version, o->kind);
	if (op->status == 404 && o->ns &&
	    strstr(op->message ? op->message : "", "namespaces"))
		return namespace_pending(a, o->ns);
	return false;
}

/*
 * The Namespaces of the units to apply that do not exist yet, as a set
 * {name: true}. Empty when the units create no Namespace or the
 * namespaces cannot be listed (every object then gets its dry run).
 */
static json_t *namespaces_created(tg_apply *a)
{
	json_t *set = json_object(), *live = NULL, *it;
	size_t i, j;

	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		if (!eligible(u))
			continue;
		for (j = 0; j < u->n; j++)
			if (!strcmp(u->objs[j].api_version, "v1") &&
			    !strcmp(u->objs[j].kind, "Namespace"))
				json_object_set_new(set, u->objs[j].name,
				                    json_true());
	}
	if (json_object_size(set) == 0)
		return set;
	if (tg_kube_list(&live, a->kube, "v1", "Namespace", NULL, NULL) < 0) {
		json_object_clear(set);
		return set;
	}
	json_array_foreach(live, i, it) {
		const char *name = json_string_value(json_object_get(
		        json_object_get(it, "metadata"), "name"));
		if (name)
			json_object_del(set, name);
	}
	json_decref(live);
	return set;
}

/*
 * Send every object of the changed units with dryRun=All. A unit with an
 * object the server refuses is failed as a whole before anything of it is
 * written.
 */
/* An object let through preflight because it depends on another unit's
 * Namespace or CustomResourceDefinition of this cycle. */
typedef struct excused {
	unit *u;
	obj *o;
	bool crd; /* waits for a CRD, else for its Namespace */
} excused;

typedef struct excused_list {
	excused *items;
	size_t n, cap;
} excused_list;

static void excuse(excused_list *l, unit *u, obj *o, bool crd)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->items = tg_realloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->n++] = (excused){ u, o, crd };
}

/*
 * A unit refused in preflight takes its Namespaces and CRDs with it, so an
 * object of another unit that waited for them cannot be applied either:
 * refuse that unit too, and again until nothing changes (one refusal can
 * take the dependency of a third unit).
 */
static void refuse_orphans(tg_apply *a, excused *ex, size_t n)
{
	bool changed = true;
	size_t i;

	while (changed) {
		changed = false;
		for (i = 0; i < n; i++) {
			obj *o = ex[i].o;
			char *msg;

			if (ex[i].u->failed ||
			    (ex[i].crd ? crd_pending(a, o->api_version, o->kind)
			               : namespace_pending(a, o->ns)))
				continue;
			msg = ex[i].crd
			              ? tg_aprintf("%s %s %s: no "
			                           "CustomResourceDefinition "
			                           "serves the kind (the unit "
			                           "that defines it is not "
			                           "applied)",
			                           o->api_version, o->kind,
			                           o->name)
			              : tg_aprintf(
			                        "%s %s %s/%s: namespace \"%s\" "
			                        "does not exist (the unit that "
			                        "defines it is not applied)",
			                        o->api_version, o->kind, o->ns,
			                        o->name, o->ns);
			unit_error(ex[i].u, msg);
			free(msg);
			changed = true;
		}
	}
}

static void preflight(tg_apply *a)
{
	batch b = { 0 };
	json_t *created = namespaces_created(a);
	excused_list ex = { 0 };
	size_t i, j;

	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		if (!eligible(u))
			continue;
		for (j = 0; j < u->n; j++) {
			obj *o = &u->objs[j];
			bool crd = false;

			if (resolve_scope(a, o) < 0) {
				if (!crd_pending(a, o->api_version, o->kind)) {
					unit_error(u, tg_error_last());
					continue;
				}
				crd = true;
			}
			/* In a namespace this cycle creates, the server could
			 * only answer that the namespace does not exist. */
			if (crd || (o->ns && json_object_get(created, o->ns))) {
				excuse(&ex, u, o, crd);
				if (!crd)
					continue;
			}
			batch_add(&b, u, o, TG_KUBE_APPLY,
			          TG_KUBE_DRY_RUN | TG_KUBE_DISCARD);
		}
	}
	json_decref(created);
	tg_kube_run(a->kube, b.ops, b.n);
	for (i = 0; i < b.n; i++) {
		tg_kube_op *op = &b.ops[i];
		if (op->result >= 0)
			continue;
		if (!failure_is_pending(a, b.objs[i], op)) {
			unit_error(b.units[i], op->message);
		} else if (op->status == 404) {
			/* The namespace's 404 (when they could not be
			 * listed): it waits for its Namespace too. */
			excuse(&ex, b.units[i], b.objs[i], false);
		}
	}
	refuse_orphans(a, ex.items, ex.n);
	free(ex.items);
	batch_free(&b);
}

/* Apply -------------------------------------------------------------------- */

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s,
		               (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

static bool condition_true(json_t *live, const char *type)
{
	json_t *conds = json_object_get(json_object_get(live, "status"),
	                                "conditions"),
	       *c;
	size_t i;

	json_array_foreach(conds, i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *s = json_string_value(json_object_get(c, "status"));
		if (t && s && !strcmp(t, type))
			return !strcmp(s, "True");
	}
	return false;
}

/* Wait until every CRD just applied is Established, then rediscover so
 * that their kinds can be applied. */
static void wait_crds(tg_apply *a, batch *b)
{
	double deadline = tg_monotonic() + TG_CRD_WAIT_S;
	size_t i;

	for (i = 0; i < b->n; i++) {
		obj *o = b->objs[i];
		json_t *live = NULL;

		if (b->ops[i].result < 0)
			continue;
		for (;;) {
			json_decref(live);
			live = NULL;
			if (tg_kube_get(&live, a->kube, o->api_version, o->kind,
			                NULL, o->name) == 0 &&
			    condition_true(live, "Established"))
				break;
			if (tg_monotonic() > deadline) {
				char *m = tg_aprintf("CustomResourceDefinition "
				                     "%s is not Established "
				                     "after %.0f s",
				                     o->name, TG_CRD_WAIT_S);
				unit_error(b->units[i], m);
				free(m);
				break;
			}
			sleep_s(TG_POLL_INTERVAL_S);
		}
		json_decref(live);
	}
	if (tg_kube_discover(a->kube) < 0)
		tg_log(TG_LOG_WARN, "rediscovery after CRDs failed", "error",
		       tg_error_last(), NULL);
}

static void record_object(unit *u, obj *o, const char *action)
{
	json_t *id = identity_of(o);

	json_object_set_new(id, "action", json_string(action));
	if (o->changed)
		json_object_set(id, "changed", o->changed);
	json_array_append_new(u->objects, id);
}

/* Apply one phase of every eligible unit in parallel. */
static void apply_phase(tg_apply *a, enum phase p)
{
	batch b = { 0 };
	size_t i, j;

	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		if (!eligible(u))
			continue;
		for (j = 0; j < u->n; j++) {
			obj *o = &u->objs[j];
			/* Kinds from CRDs of this cycle get their scope now. */
			if (p >= PHASE_CLUSTER && resolve_scope(a, o) < 0) {
				if (o->phase == p)
					unit_error(u, tg_error_last());
				continue;
			}
			if (o->phase == p)
				batch_add(&b, u, o, TG_KUBE_APPLY,
				          TG_KUBE_DISCARD);
		}
	}
	if (b.n == 0)
		return;
	tg_kube_run(a->kube, b.ops, b.n);
	for (i = 0; i < b.n; i++) {
		if (b.ops[i].result < 0)
			unit_error(b.units[i], b.ops[i].message);
	}
	if (p == PHASE_CRD)
		wait_crds(a, &b);
	batch_free(&b);
}

/* Prune -------------------------------------------------------------------- */

static bool still_desired(const unit *u, json_t *id)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (same_identity(id, &u->objs[i]))
			return true;
	return false;
}

static bool prune_disabled(json_t *live)
{
	const char *v = json_string_value(json_object_get(
	        json_object_get(json_object_get(live, "metadata"),
	                        "annotations"),
	        TG_ANN_PRUNE));

	return v && !strcmp(v, "disabled");
}

/* Delete the identities in ids (objects that left Git), in reverse order,
 * skipping those annotated tollgate.dev/prune: disabled. */
static void prune_objects(tg_apply *a, unit *u, json_t *ids)
{
	size_t i = json_array_size(ids);

	while (i-- > 0) {
		json_t *id = json_array_get(ids, i), *live = NULL, *rec;
		const char *av =
		        json_string_value(json_object_get(id, "apiVersion"));
		const char *kind =
		        json_string_value(json_object_get(id, "kind"));
		const char *ns =
		        json_string_value(json_object_get(id, "namespace"));
		const char *name =
		        json_string_value(json_object_get(id, "name"));
		int error;

		if (!av || !kind || !name)
			continue;
		error = tg_kube_get(&live, a->kube, av, kind, ns, name);
		rec = json_deep_copy(id);
		if (error == TG_ENOTFOUND) {
			json_object_set_new(rec, "action", json_string("gone"));
		} else if (error == 0 && prune_disabled(live)) {
			json_object_set_new(rec, "action",
			                    json_string("prune-skipped"));
		} else if (error == 0 && a->opts.plan) {
			json_object_set_new(rec, "action",
			                    json_string("prune"));
		} else if (error == 0 &&
		           (error = tg_kube_delete(a->kube, av, kind, ns, name,
		                                   0)) < 0 &&
		           error != TG_ENOTFOUND) {
			unit_error(u, tg_error_last());
			json_object_set_new(rec, "action",
			                    json_string("prune-failed"));
		} else if (error < 0 && error != TG_ENOTFOUND) {
			unit_error(u, tg_error_last());
			json_object_set_new(rec, "action",
			                    json_string("prune-failed"));
		} else {
			json_object_set_new(rec, "action",
			                    json_string("pruned"));
		}
		json_array_append_new(u->pruned, rec);
		json_decref(live);
	}
}

static void prune_unit(tg_apply *a, unit *u)
{
	json_t *gone = json_array(), *id;
	size_t i;

	json_array_foreach(u->old_objects, i, id) {
		if (!still_desired(u, id))
			json_array_append(gone, id);
	}
	prune_objects(a, u, gone);
	json_decref(gone);
}

/* Units with an inventory but no directory in Git any more: prune all
 * their objects, then drop the inventory. */
static void prune_removed_units(tg_apply *a)
{
	const char *name;
	json_t *cm;
	size_t i;

	json_object_foreach(a->inventories, name, cm) {
		bool present = false;
		unit *u;
		json_t *objs;

		for (i = 0; i < a->nunits; i++)
			present |= !strcmp(a->units[i].name, name);
		if (present)
			continue;
		u = new_unit(a, name);
		u->keep = true; /* no apply, no health */
		objs = json_loads(
		        json_string_value(json_object_get(
		                json_object_get(cm, "data"), "objects")),
		        0, NULL);
		prune_objects(a, u, objs);
		json_decref(objs);
		if (!u->failed && !a->opts.plan) {
			char *inv = tg_apply_inventory_name(name);
			if (tg_kube_delete(a->kube, "v1", "ConfigMap",
			                   a->inventory_ns, inv, 0) < 0)
				unit_error(u, tg_error_last());
			free(inv);
		}
		json_array_append_new(a->pruned_units, json_string(name));
	}
}

/* Write the inventory of every unit applied whole, in parallel. */
static void write_inventories(tg_apply *a)
{
	tg_kube_op *ops = tg_calloc(a->nunits, sizeof(*ops));
	unit **units = tg_calloc(a->nunits, sizeof(*units));
	size_t i, n = 0;

	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		if (!eligible(u))
			continue;
		units[n] = u;
		ops[n].verb = TG_KUBE_APPLY;
		ops[n].flags = TG_KUBE_DISCARD;
		ops[n++].obj = inventory_object(a, u);
	}
	if (n)
		tg_kube_run(a->kube, ops, n);
	for (i = 0; i < n; i++) {
		if (ops[i].result < 0)
			unit_error(units[i], ops[i].message);
		json_decref(ops[i].obj);
		tg_kube_op_clear(&ops[i]);
	}
	free(ops);
	free(units);
}

/* Health ------------------------------------------------------------------- */

static bool is_workload(const obj *o)
{
	return !strcmp(o->kind, "Deployment") ||
	       !strcmp(o->kind, "StatefulSet") || !strcmp(o->kind, "DaemonSet");
}

static json_int_t
int_at(json_t *o, const char *a, const char *b, json_int_t def)
{
	json_t *v = json_object_get(json_object_get(o, a), b);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

/* "healthy", "failed" or "progressing" for a live workload, with a reason
 * in *msg (static text or NULL). */
static const char *rollout_state(json_t *live, const char **msg)
{
	json_int_t gen = int_at(live, "metadata", "generation", 0);
	json_int_t observed = int_at(live, "status", "observedGeneration", -1);
	json_int_t want = int_at(live, "spec", "replicas", 1);
	json_int_t updated, available;
	json_t *status = json_object_get(live, "status");

	*msg = NULL;
	if (json_object_get(status, "desiredNumberScheduled")) {
		want = int_at(live, "status", "desiredNumberScheduled", 0);
		updated = int_at(live, "status", "updatedNumberScheduled", 0);
		available = int_at(live, "status", "numberAvailable", 0);
	} else {
		updated = int_at(live, "status", "updatedReplicas", 0);
		available = int_at(live, "status", "availableReplicas",
		                   int_at(live, "status", "readyReplicas", 0));
	}
	if (observed < gen) {
		*msg = "the controller has not seen the new spec yet";
		return "progressing";
	}
	{
		json_t *conds = json_object_get(status, "conditions"), *c;
		size_t i;
		json_array_foreach(conds, i, c) {
			const char *r =
			        json_string_value(json_object_get(c, "reason"));
			if (r && !strcmp(r, "ProgressDeadlineExceeded")) {
				*msg = "progress deadline exceeded";
				return "failed";
			}
		}
	}
	if (updated >= want && available >= want)
		return "healthy";
	*msg = "not all replicas are updated and available";
	return "progressing";
}

static void
record_health_state(unit *u, const obj *o, const char *state, const char *why)
{
	json_t *h = identity_of(o);

	json_object_del(h, "apiVersion");
	json_object_set_new(h, "state", json_string(state));
	if (why)
		json_object_set_new(h, "message", json_string(why));
	json_array_append_new(u->health, h);
}

/* Health of a workload from its live object, without waiting. */
static void record_health(unit *u, const obj *o, json_t *live)
{
	const char *why;
	const char *state = rollout_state(live, &why);

	record_health_state(u, o, state, why);
}

static void check_health(tg_apply *a)
{
	double deadline = tg_monotonic() + a->opts.health_timeout_s;
	batch b = { 0 };
	size_t i, j, pending;

	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		if (!eligible(u))
			continue;
		for (j = 0; j < u->n; j++)
			if (is_workload(&u->objs[j]))
				batch_add(&b, u, &u->objs[j], TG_KUBE_GET, 0);
	}
	if (b.n == 0)
		return;
	const char **state = tg_calloc(b.n, sizeof(*state));
	const char **why = tg_calloc(b.n, sizeof(*why));
	for (;;) {
		for (i = 0; i < b.n; i++)
			tg_kube_op_clear(&b.ops[i]);
		tg_kube_run(a->kube, b.ops, b.n);
		for (i = 0, pending = 0; i < b.n; i++) {
			if (b.ops[i].result < 0) {
				state[i] = "failed";
				why[i] = "cannot read its status";
				continue;
			}
			state[i] = rollout_state(b.ops[i].live, &why[i]);
			pending += !strcmp(state[i], "progressing");
		}
		if (!pending || tg_monotonic() >= deadline)
			break;
		sleep_s(TG_POLL_INTERVAL_S);
	}
	for (i = 0; i < b.n; i++)
		record_health_state(b.units[i], b.objs[i], state[i], why[i]);
	free(state);
	free(why);
	batch_free(&b);
}

/* Drift -------------------------------------------------------------------- */

static void record_drift(unit *u, obj *o, json_t *fields, bool deleted)
{
	json_t *d = identity_of(o);

	json_object_del(d, "apiVersion");
	if (deleted)
		json_object_set_new(d, "deleted", json_true());
	json_object_set_new(d, "fields", fields);
	json_array_append_new(u->drift, d);
	tg_log(TG_LOG_WARN, deleted ? "drift: object deleted" : "drift", "unit",
	       u->name, "kind", o->kind, "namespace", o->ns ? o->ns : "",
	       "name", o->name, NULL);
}

/* "namespace/name" of a live or desired object, the key within a kind. */
static char *ns_name_key(const char *ns, const char *name)
{
	return tg_aprintf("%s/%s", ns ? ns : "", name);
}

/*
 * Live objects of every kind among the unchanged units, read with one LIST
 * per kind (label app.kubernetes.io/managed-by=tollgate, all namespaces)
 * instead of one GET per object. Returns {"<apiVersion> <kind>":
 * {"<ns>/<name>": object}}; a kind that cannot be listed is left out (its
 * objects are then read one by one).
 */
static json_t *list_live(tg_apply *a)
{
	json_t *byKind = json_object(), *it;
	tg_kube_list_req *reqs = NULL;
	size_t i, j, k, n = 0, cap = 0;

	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		if (u->keep || u->changed)
			continue;
		for (j = 0; j < u->n; j++) {
			obj *o = &u->objs[j];
			char *kk = tg_aprintf("%s %s", o->api_version, o->kind);

			if (!json_object_get(byKind, kk)) {
				json_object_set_new(byKind, kk, json_object());
				if (n == cap) {
					cap = cap ? 2 * cap : 8;
					reqs = tg_realloc(reqs,
					                  cap * sizeof(*reqs));
				}
				memset(&reqs[n], 0, sizeof(reqs[n]));
				reqs[n].api_version = o->api_version;
				reqs[n].kind = o->kind;
				reqs[n++].label_selector =
				        TG_LABEL_MANAGED_BY "=tollgate";
			}
			free(kk);
		}
	}
	if (n)
		tg_kube_list_all(a->kube, reqs, n);
	/* A kind whose list failed keeps an empty map: its objects are then
	 * read one by one. */
	for (i = 0; i < n; i++) {
		char *kk =
		        tg_aprintf("%s %s", reqs[i].api_version, reqs[i].kind);
		json_t *map = json_object_get(byKind, kk);

		json_array_foreach(reqs[i].items, k, it) {
			json_t *m = json_object_get(it, "metadata");
			char *key = ns_name_key(
			        json_string_value(
			                json_object_get(m, "namespace")),
			        json_string_value(json_object_get(m, "name")));
			json_object_set(map, key, it);
			free(key);
		}
		tg_kube_list_req_clear(&reqs[i]);
		free(kk);
	}
	free(reqs);
	return byKind;
}

static json_t *listed(json_t *byKind, const obj *o)
{
	char *kk = tg_aprintf("%s %s", o->api_version, o->kind);
	char *key = ns_name_key(o->ns, o->name);
	json_t *live = json_object_get(json_object_get(byKind, kk), key);

	free(kk);
	free(key);
	return live;
}

/* Drift of one object against its live state (NULL: deleted). */
static void drift_one(tg_apply *a, batch *fix, unit *u, obj *o, json_t *live)
{
	json_t *fields = NULL;

	if (!live) {
		fields = json_array();
	} else {
		tg_drift_compare(&fields, o->desired, live, TG_FIELD_MANAGER);
		if (is_workload(o))
			record_health(u, o, live);
		if (json_array_size(fields) == 0) {
			json_decref(fields);
			return;
		}
	}
	record_drift(u, o, fields, live == NULL);
	if (a->opts.correct_drift && !a->opts.plan)
		batch_add(fix, u, o, TG_KUBE_APPLY, TG_KUBE_DISCARD);
}

/* Compare the live objects of unchanged units with what was applied; with
 * drift: correct, apply the drifted ones again. */
static void check_drift(tg_apply *a)
{
	batch b = { 0 }, fix = { 0 };
	json_t *byKind;
	size_t i, j;

	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		if (u->keep || u->changed)
			continue;
		for (j = 0; j < u->n; j++)
			if (resolve_scope(a, &u->objs[j]) < 0)
				unit_error(u, tg_error_last());
	}
	byKind = list_live(a);
	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		if (u->keep || u->changed)
			continue;
		for (j = 0; j < u->n; j++) {
			json_t *live = listed(byKind, &u->objs[j]);
			/* Not listed: deleted, or its label was changed; a GET
			 * tells which. */
			if (live)
				drift_one(a, &fix, u, &u->objs[j], live);
			else
				batch_add(&b, u, &u->objs[j], TG_KUBE_GET, 0);
		}
	}
	tg_kube_run(a->kube, b.ops, b.n);
	for (i = 0; i < b.n; i++) {
		if (b.ops[i].result < 0 && b.ops[i].result != TG_ENOTFOUND)
			unit_error(b.units[i], b.ops[i].message);
		else
			drift_one(a, &fix, b.units[i], b.objs[i],
			          b.ops[i].result < 0 ? NULL : b.ops[i].live);
	}
	tg_kube_run(a->kube, fix.ops, fix.n);
	for (i = 0; i < fix.n; i++) {
		if (fix.ops[i].result < 0)
			unit_error(fix.units[i], fix.ops[i].message);
		else
			fix.units[i]->drift_corrected = true;
	}
	json_decref(byKind);
	batch_free(&b);
	batch_free(&fix);
}

/* Plan --------------------------------------------------------------------- */

/* What applying would do to each object: create, update (with the fields
 * that change) or unchanged, checked by the server with dryRun=All. */
static void plan_units(tg_apply *a)
{
	batch dry = { 0 }, get = { 0 };
	size_t i, j;

	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		if (u->keep)
			continue;
		for (j = 0; j < u->n; j++) {
			obj *o = &u->objs[j];
			if (resolve_scope(a, o) < 0 &&
			    !crd_pending(a, o->api_version, o->kind)) {
				unit_error(u, tg_error_last());
				continue;
			}
			batch_add(&dry, u, o, TG_KUBE_APPLY,
			          TG_KUBE_DRY_RUN | TG_KUBE_DISCARD);
			batch_add(&get, u, o, TG_KUBE_GET, 0);
		}
	}
	tg_kube_run(a->kube, dry.ops, dry.n);
	tg_kube_run(a->kube, get.ops, get.n);
	for (i = 0; i < dry.n; i++) {
		obj *o = dry.objs[i];
		if (dry.ops[i].result < 0 &&
		    !failure_is_pending(a, o, &dry.ops[i])) {
			unit_error(dry.units[i], dry.ops[i].message);
			continue;
		}
		if (get.ops[i].result == TG_ENOTFOUND) {
			record_object(dry.units[i], o, "create");
			continue;
		}
		tg_drift_compare(&o->changed, o->desired, get.ops[i].live,
		                 TG_FIELD_MANAGER);
		record_object(dry.units[i], o,
		              json_array_size(o->changed) ? "update"
		                                          : "unchanged");
	}
	batch_free(&dry);
	batch_free(&get);
}

/* Run ---------------------------------------------------------------------- */

static void stamp_commit(tg_apply *a)
{
	size_t i, j;

	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		if (!eligible(u))
			continue;
		for (j = 0; j < u->n; j++) {
			json_t *ann = object_member(
			        json_object_get(u->objs[j].desired, "metadata"),
			        "annotations");
			json_object_set_new(ann, TG_ANN_COMMIT,
			                    json_string(a->commit));
		}
	}
}

int tg_apply_run(tg_apply *a)
{
	size_t i;
	int p, error;

	if ((error = tg_kube_discover(a->kube)) < 0)
		return error;
	if (!a->opts.plan && (error = ensure_inventory_namespace(a)) < 0)
		return error;
	if ((error = load_inventories(a)) < 0)
		return tg_error_prefix(error,
		                       "cannot read the inventories in "
		                       "namespace \"%s\"",
		                       a->inventory_ns);
	diff_inventories(a);
	if (a->opts.plan) {
		plan_units(a);
		for (i = 0; i < a->nunits; i++)
			if (!a->units[i].keep && a->opts.prune)
				prune_unit(a, &a->units[i]);
		if (a->opts.prune)
			prune_removed_units(a);
		return 0;
	}
	check_drift(a);
	preflight(a);
	stamp_commit(a);
	for (p = 0; p < PHASE_COUNT; p++)
		apply_phase(a, (enum phase)p);
	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		if (!eligible(u))
			continue;
		if (a->opts.prune)
			prune_unit(a, u);
	}
	/* The inventory moves only after a whole successful apply, so a
	 * failed unit is tried again next cycle. */
	write_inventories(a);
	if (a->opts.prune)
		prune_removed_units(a);
	if (a->opts.health_timeout_s > 0)
		check_health(a);
	return 0;
}

/* The unit's objects as identities: the stable part of the status. */
static json_t *desired_identities(const unit *u)
{
	json_t *ids = json_array();
	size_t i;

	for (i = 0; i < u->n; i++)
		json_array_append_new(ids, identity_of(&u->objs[i]));
	return ids;
}

json_t *tg_apply_report(const tg_apply *a)
{
	json_t *units = json_object();
	size_t i;

	for (i = 0; i < a->nunits; i++) {
		const unit *u = &a->units[i];
		const char *result;
		json_t *r;

		if (u->keep && !json_array_size(u->pruned))
			continue;
		if (u->failed)
			result = "failed";
		else if (u->keep)
			result = "pruned";
		else if (a->opts.plan)
			result = "planned";
		else
			result = u->changed ? "applied" : "unchanged";
		r = json_pack("{s:s,s:O,s:o,s:O,s:O,s:O,s:b}", "result", result,
		              "errors", u->errors, "objects",
		              a->opts.plan ? json_incref(u->objects)
		                           : desired_identities(u),
		              "pruned", u->pruned, "health", u->health, "drift",
		              u->drift, "driftCorrected", u->drift_corrected);
		json_object_set_new(units, u->name, r);
	}
	return json_pack("{s:o,s:O}", "units", units, "pruned",
	                 a->pruned_units);
}
