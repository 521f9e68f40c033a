/*
 * Apply: the run of one cycle (see reconciler/include/tollgate/apply.h)
 * and the apply itself, phase by phase. Preflight, inventories, prune,
 * health, drift and the dry-run diff of `tollgate plan` have a file each
 * in reconciler/apply/.
 */
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"

/* Units -------------------------------------------------------------------- */

/* A label value: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends. */
bool apply_valid_label_value(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > TG_K8S_LABEL_VALUE_MAX)
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

/* Labels and annotations of DESIGN.md 3.5. The commit annotation is added
 * separately (stamp_commit) so the content hash does not change with
 * every commit; one already there (the object is shared and may have been
 * stamped by an earlier run, or Git carries one) is dropped first. */
static void decorate(json_t *o, const char *unit_name)
{
	json_t *meta = apply_object_member(o, "metadata");
	json_t *labels = apply_object_member(meta, "labels");
	json_t *ann = apply_object_member(meta, "annotations");

	json_object_set_new(labels, TG_LABEL_MANAGED_BY,
	                    json_string("tollgate"));
	if (apply_valid_label_value(unit_name))
		json_object_set_new(labels, TG_LABEL_UNIT,
		                    json_string(unit_name));
	json_object_set_new(ann, TG_LABEL_UNIT, json_string(unit_name));
	json_object_del(ann, TG_ANN_COMMIT);
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
	a->drift_memo = opts->drift_memo ? tg_strdup(opts->drift_memo) : NULL;
	a->opts.drift_memo = a->drift_memo;
	a->inventories = json_object();
	a->pruned_units = json_array();
	a->warnings = json_array();
	*out = a;
	return 0;
}

static void unit_free(unit *u)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		apply_obj_clear(&u->objs[i]);
	free(u->objs);
	free(u->name);
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
	free(a->drift_memo);
	json_decref(a->inventories);
	json_decref(a->pruned_units);
	json_decref(a->warnings);
	tg_drift_memo_free(a->memo_old);
	tg_drift_memo_free(a->memo_next);
	free(a);
}

/* Hash of the unit's decorated objects in order: the "content" compared
 * with the inventory to tell unchanged units. The texts are hashed one
 * after another, each with a newline, without being copied together. An
 * object that cannot be serialised or a unit over the cap fails the
 * unit: its hash would not tell its content. */
static void unit_hash(unit *u)
{
	tg_sha256_stream *s = tg_sha256_begin();
	unsigned char md[TG_SHA256_LEN];
	size_t i, total = 0;
	int error = 0;

	for (i = 0; i < u->n && error == 0; i++) {
		const obj *o = &u->objs[i];

		/* Not serialised: no hash could tell it from another. */
		if (!o->text)
			error = tg_error_set(TG_EINVALID,
			                     "object %zu of the unit cannot be "
			                     "serialised as JSON",
			                     i + 1);
		else if (o->text_len >= TG_APPLY_MAX_UNIT_BYTES - total)
			error = tg_error_set(TG_ETOOBIG,
			                     "more than the limit of %zu bytes",
			                     TG_APPLY_MAX_UNIT_BYTES);
		else {
			tg_sha256_add(s, o->text, o->text_len);
			tg_sha256_add(s, "\n", 1);
			total += o->text_len + 1;
		}
	}
	if (error < 0)
		apply_unit_error(u, tg_error_last());
	tg_sha256_end(md, s);
	memcpy(u->hash, "sha256:", 7);
	tg_hex_encode(u->hash + 7, md, TG_SHA256_LEN);
	u->hash[TG_DIGEST_STR_LEN] = '\0';
}

/* u's objects, decorated, as text (with the bodies of their applies
 * when bodies), and its hash. Reads only a's options and commit. */
static void fill_unit(const tg_apply *a,
                      unit *u,
                      json_t *const *objects,
                      size_t n,
                      bool bodies)
{
	const char *name = u->name;
	size_t i;

	u->objs = tg_calloc(n, sizeof(*u->objs));
	u->n = n;
	for (i = 0; i < n; i++) {
		decorate(objects[i], name);
		/* `tollgate plan` stamps nothing: it would never send them. */
		apply_obj_init(&u->objs[i], objects[i],
		               bodies && !a->opts.plan ? a->commit : NULL);
		/* Kept as text until a step needs the tree. */
		apply_park(&u->objs[i]);
	}
	unit_hash(u);
}

static void add_unit(tg_apply *a,
                     const char *name,
                     json_t *const *objects,
                     size_t n,
                     bool bodies)
{
	fill_unit(a, apply_new_unit(a, name), objects, n, bodies);
}

struct tg_apply_prepared {
	unit u;
};

tg_apply_prepared *tg_apply_prepare_unit(const tg_apply *a,
                                         const char *name,
                                         json_t *const *objects,
                                         size_t n,
                                         bool new_unit)
{
	tg_apply_prepared *p = tg_calloc(1, sizeof(*p));

	apply_unit_init(&p->u, name);
	fill_unit(a, &p->u, objects, n, new_unit);
	return p;
}

void tg_apply_add_prepared(tg_apply *a, tg_apply_prepared *p)
{
	a->units = tg_realloc(a->units, (a->nunits + 1) * sizeof(*a->units));
	a->units[a->nunits++] = p->u;
	free(p);
}

void tg_apply_prepared_free(tg_apply_prepared *p)
{
	if (!p)
		return;
	unit_free(&p->u);
	free(p);
}

void tg_apply_add_unit(tg_apply *a,
                       const char *name,
                       json_t *const *objects,
                       size_t n)
{
	add_unit(a, name, objects, n, false);
}

void tg_apply_add_new_unit(tg_apply *a,
                           const char *name,
                           json_t *const *objects,
                           size_t n)
{
	add_unit(a, name, objects, n, true);
}

void tg_apply_keep_unit(tg_apply *a, const char *name)
{
	apply_new_unit(a, name)->keep = true;
}

/* Apply -------------------------------------------------------------------- */

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

/* Wait until the CRD o is Established or the deadline passes (then fail
 * u). */
static void wait_crd(tg_apply *a, unit *u, obj *o, double deadline)
{
	json_t *live = NULL;
	char *m;

	for (;;) {
		json_decref(live);
		live = NULL;
		if (tg_kube_get(&live, a->kube, o->api_version, o->kind, NULL,
		                o->name) == 0 &&
		    condition_true(live, "Established"))
			break;
		if (tg_monotonic() > deadline) {
			m = tg_aprintf("CustomResourceDefinition %s is not "
			               "Established after %.0f s",
			               o->name, TG_APPLY_CRD_WAIT_S);
			apply_unit_error(u, m);
			free(m);
			break;
		}
		apply_sleep_s(TG_APPLY_POLL_INTERVAL_S);
	}
	json_decref(live);
}

/* Wait until every CRD just applied is Established, then rediscover so
 * that their kinds can be applied. */
static void wait_crds(tg_apply *a, batch *b)
{
	double deadline = tg_monotonic() + TG_APPLY_CRD_WAIT_S;
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->ops[i].result >= 0)
			wait_crd(a, b->units[i], b->objs[i], deadline);
	if (tg_kube_discover(a->kube) < 0)
		tg_log(TG_LOG_WARN, "rediscovery after CRDs failed", "error",
		       tg_error_last(), NULL);
}

/* Run a phase's batch, fail the units of ops that failed, and empty it. */
static void apply_phase_batch(tg_apply *a, enum phase p, batch *b)
{
	apply_vouch_ctx vc;
	size_t i;

	if (b->n == 0)
		return;
	apply_vouch_answers(&vc, a, b);
	apply_batch_run(a, b);
	for (i = 0; i < b->n; i++)
		if (b->ops[i].result < 0)
			apply_unit_error(b->units[i], b->ops[i].message);
	if (p == PHASE_CRD)
		wait_crds(a, b);
	/* Sent: nothing later in the cycle applies them again. */
	for (i = 0; i < b->n; i++)
		apply_obj_drop_body(b->objs[i]);
	apply_batch_free(b);
}

/* Apply one phase of every eligible unit in parallel, in batches of at
 * most TG_APPLY_BATCH_MAX objects (CRDs in one: each batch of them is
 * waited for and rediscovered). */
static void apply_phase(tg_apply *a, enum phase p)
{
	obj_iter it = apply_objects(a, apply_eligible);
	batch b = { 0 };

	while (apply_next(&it)) {
		/* Kinds from CRDs of this cycle get their scope now. */
		if (p >= PHASE_CLUSTER && apply_resolve_scope(a, it.o) < 0) {
			if (it.o->phase == p)
				apply_unit_error(it.u, tg_error_last());
			continue;
		}
		if (it.o->phase != p)
			continue;
		apply_batch_add(&b, it.u, it.o, TG_KUBE_APPLY, TG_KUBE_DISCARD);
		if (p != PHASE_CRD && b.n == TG_APPLY_BATCH_MAX)
			apply_phase_batch(a, p, &b);
	}
	apply_phase_batch(a, p, &b);
}

/* Run ---------------------------------------------------------------------- */

static void stamp_commit(tg_apply *a)
{
	obj_iter it = apply_objects(a, apply_eligible);
	size_t i, j;

	while (apply_next(&it))
		apply_obj_stamp(it.o, a->commit);
	/* Units not applied this cycle need no bodies. */
	for (i = 0; i < a->nunits; i++)
		if (!apply_eligible(&a->units[i]))
			for (j = 0; j < a->units[i].n; j++)
				apply_obj_drop_body(&a->units[i].objs[j]);
}

/* `tollgate plan`: the dry-run diff and what prune would do. */
static void run_plan(tg_apply *a)
{
	size_t i;

	apply_diff_units(a);
	for (i = 0; i < a->nunits; i++)
		if (!a->units[i].keep && a->opts.prune)
			apply_prune_unit(a, &a->units[i]);
	if (a->opts.prune)
		apply_prune_removed_units(a);
}

static void run_apply(tg_apply *a)
{
	size_t i;
	int p;

	apply_memo_open(a);
	apply_check_drift(a);
	apply_preflight(a);
	stamp_commit(a);
	for (p = 0; p < PHASE_COUNT; p++)
		apply_phase(a, (enum phase)p);
	for (i = 0; i < a->nunits; i++)
		if (apply_eligible(&a->units[i]) && a->opts.prune)
			apply_prune_unit(a, &a->units[i]);
	/* The inventory moves only after a whole successful apply, so a
	 * failed unit is tried again next cycle. */
	apply_write_inventories(a);
	if (a->opts.prune)
		apply_prune_removed_units(a);
	if (a->opts.health_timeout_s > 0)
		apply_check_health(a);
	apply_memo_close(a);
}

int tg_apply_run(tg_apply *a)
{
	int error;

	if ((error = tg_kube_discover(a->kube)) < 0)
		return error;
	if (!a->opts.plan && (error = apply_ensure_inventory_namespace(a)) < 0)
		return error;
	if ((error = apply_load_inventories(a)) < 0)
		return tg_error_prefix(error,
		                       "cannot read the inventories in "
		                       "namespace \"%s\"",
		                       a->inventory_ns);
	apply_diff_inventories(a);
	if (a->opts.plan)
		run_plan(a);
	else
		run_apply(a);
	return 0;
}

/* Report ------------------------------------------------------------------- */

/* The string value s, one json_t per distinct text in strs. */
static json_t *interned(json_t *strs, const char *s)
{
	json_t *v = json_object_get(strs, s);

	if (!v)
		json_object_set_new(strs, s, v = json_string(s));
	return v;
}

/* The unit's objects as identities: the stable part of the status. The
 * values an identity shares with the unit's others (apiVersion, kind,
 * namespace) are one json_t each: 10,000 identities are ~40% smaller. */
static json_t *desired_identities(const unit *u)
{
	json_t *ids = json_array(), *strs = json_object();
	size_t i;

	for (i = 0; i < u->n; i++) {
		const obj *o = &u->objs[i];
		json_t *id =
		        json_pack("{s:O,s:O,s:s}", "apiVersion",
		                  interned(strs, o->api_version), "kind",
		                  interned(strs, o->kind), "name", o->name);

		if (o->ns && *o->ns)
			json_object_set(id, "namespace", interned(strs, o->ns));
		json_array_append_new(ids, id);
	}
	json_decref(strs);
	return ids;
}

static const char *unit_result(const tg_apply *a, const unit *u)
{
	if (u->failed)
		return "failed";
	if (u->keep)
		return "pruned";
	if (a->opts.plan)
		return "planned";
	return u->changed ? "applied" : "unchanged";
}

json_t *tg_apply_report(const tg_apply *a)
{
	json_t *units = json_object();
	size_t i;

	for (i = 0; i < a->nunits; i++) {
		const unit *u = &a->units[i];
		json_t *r;

		if (u->keep && !json_array_size(u->pruned))
			continue;
		r = json_pack("{s:s,s:O,s:o,s:O,s:O,s:O,s:b}", "result",
		              unit_result(a, u), "errors", u->errors, "objects",
		              a->opts.plan ? json_incref(u->objects)
		                           : desired_identities(u),
		              "pruned", u->pruned, "health", u->health, "drift",
		              u->drift, "driftCorrected", u->drift_corrected);
		json_object_set_new(units, u->name, r);
	}
	return json_pack("{s:o,s:O,s:O}", "units", units, "pruned",
	                 a->pruned_units, "warnings", a->warnings);
}
