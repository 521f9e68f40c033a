/*
 * Drift of the units left unchanged this cycle: compare their live
 * objects (reconciler/drift/live.c) with what was applied
 * (tg_drift_compare); with drift: correct, apply the drifted ones again.
 */
#include "apply_int.h"
#include "tollgate/drift.h"
#include "tollgate/error.h"
#include "tollgate/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void record_drift(unit *u, obj *o, json_t *fields, bool deleted)
{
	json_t *d = apply_identity_of(o);

	json_object_del(d, "apiVersion");
	if (deleted)
		json_object_set_new(d, "deleted", json_true());
	json_object_set_new(d, "fields", fields);
	json_array_append_new(u->drift, d);
	tg_log(TG_LOG_WARN, deleted ? "drift: object deleted" : "drift", "unit",
	       u->name, "kind", o->kind, "namespace", o->ns ? o->ns : "",
	       "name", o->name, NULL);
}

/* The objects of the unchanged units by identity, and which of them a
 * list has handed on; the drift memo read (old) and the one to write
 * (next). */
typedef struct drift_index {
	tg_apply *a;
	batch *fix;
	struct drift_entry {
		unit *u;
		obj *o;
		bool seen;
	} * entries;
	/* The entries by identity (then by position: an identity twice
	 * is found as its last entry). */
	struct drift_ref {
		const obj *o;
		size_t i;
	} * sorted;
	size_t n;
	tg_drift_memo *old, *next;
	int64_t now;
	size_t skipped; /* listed objects the memo spared a compare */
} drift_index;

static char *
identity_key(const char *av, const char *kind, const char *ns, const char *name)
{
	return tg_aprintf("%s %s %s/%s", av, kind, ns ? ns : "", name);
}

/* The memo's hash of o as compared: its text, and what steps set on
 * the tree read from it (apply/desired.c). Hashed piece by piece, the
 * same bytes as "text\n<scoped> <ns>\n<commit>" without copying the
 * text. */
static void desired_digest(unsigned char out[TG_SHA256_LEN], const obj *o)
{
	tg_sha256_stream *s = tg_sha256_begin();
	const char *ns = o->ns ? o->ns : "",
	           *commit = o->commit ? o->commit : "";

	if (o->text)
		tg_sha256_add(s, o->text, strlen(o->text));
	tg_sha256_add(s, o->scoped ? "\n1 " : "\n0 ", 3);
	tg_sha256_add(s, ns, strlen(ns));
	tg_sha256_add(s, "\n", 1);
	tg_sha256_add(s, commit, strlen(commit));
	tg_sha256_end(out, s);
}

/* A full compare found no drift in live: remember it. */
static void memo_clean(drift_index *x, const obj *o, json_t *live, int health)
{
	unsigned char d[TG_SHA256_LEN];
	json_t *m = json_object_get(live, "metadata");
	const char *uid = json_string_value(json_object_get(m, "uid"));
	const char *rv =
	        json_string_value(json_object_get(m, "resourceVersion"));
	char *key;

	/* An object kept as a tree only (no text) is not remembered. */
	if (!x->next || !uid || !rv || !o->text)
		return;
	desired_digest(d, o);
	key = identity_key(o->api_version, o->kind, o->ns, o->name);
	tg_drift_memo_add(x->next, key, uid, rv, d, health, x->now);
	free(key);
}

/* Drift of one object against its live state (NULL: deleted). */
static void drift_one(drift_index *x, unit *u, obj *o, json_t *live)
{
	json_t *fields = NULL;
	bool loaded = o->desired != NULL;
	int health = 0;

	if (!live) {
		fields = json_array();
	} else {
		tg_drift_compare(&fields, apply_desired(o), live,
		                 TG_FIELD_MANAGER);
		if (!loaded)
			apply_park(o);
		if (apply_is_workload(o))
			health = apply_record_health(u, o, live);
		if (json_array_size(fields) == 0) {
			json_decref(fields);
			memo_clean(x, o, live, health);
			return;
		}
	}
	record_drift(u, o, fields, live == NULL);
	if (x->a->opts.correct_drift && !x->a->opts.plan)
		apply_batch_add(x->fix, u, o, TG_KUBE_APPLY, TG_KUBE_DISCARD);
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* The identity (av, kind, ns, name) against o's; no namespace is "". */
static int ident_cmp(const char *av,
                     const char *kind,
                     const char *ns,
                     const char *name,
                     const obj *o)
{
	int c;

	if ((c = strcmp(or_empty(av), or_empty(o->api_version))) ||
	    (c = strcmp(or_empty(kind), or_empty(o->kind))) ||
	    (c = strcmp(or_empty(ns), or_empty(o->ns))))
		return c;
	return strcmp(or_empty(name), or_empty(o->name));
}

static int ref_cmp(const void *a, const void *b)
{
	const struct drift_ref *x = a, *y = b;
	int c = ident_cmp(x->o->api_version, x->o->kind, x->o->ns, x->o->name,
	                  y->o);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* A sorted array, not a map of key strings: 10,000 keys took 1.7 MiB
 * while the cluster was read. */
static void index_build(drift_index *x, tg_apply *a, batch *fix)
{
	obj_iter it = apply_objects(a, apply_unchanged);
	size_t cap = 0, i;

	memset(x, 0, sizeof(*x));
	x->a = a;
	x->fix = fix;
	while (apply_next(&it)) {
		if (x->n == cap) {
			cap = cap ? 2 * cap : 64;
			x->entries = tg_realloc(x->entries,
			                        cap * sizeof(*x->entries));
		}
		x->entries[x->n++] = (struct drift_entry){ it.u, it.o, false };
	}
	x->sorted = tg_calloc(x->n + 1, sizeof(*x->sorted));
	for (i = 0; i < x->n; i++)
		x->sorted[i] = (struct drift_ref){ x->entries[i].o, i };
	if (x->n)
		tg_qsort(x->sorted, x->n, sizeof(*x->sorted), ref_cmp);
}

/* The entry of an identity (the last one when it is there twice), or
 * NULL. */
static struct drift_entry *index_find(drift_index *x,
                                      const char *av,
                                      const char *kind,
                                      const char *ns,
                                      const char *name)
{
	size_t lo = 0, hi = x->n, mid;

	if (!av || !kind || !name)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ident_cmp(av, kind, ns, name, x->sorted[mid].o) >= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || ident_cmp(av, kind, ns, name, x->sorted[lo - 1].o))
		return NULL;
	return &x->entries[x->sorted[lo - 1].i];
}

static void index_free(drift_index *x)
{
	free(x->sorted);
	free(x->entries);
}

/* A listed live object: compared with its desired object, once. */
static void on_live(void *ctx, json_t *live)
{
	drift_index *x = ctx;
	json_t *m = json_object_get(live, "metadata");
	struct drift_entry *e = index_find(
	        x, json_string_value(json_object_get(live, "apiVersion")),
	        json_string_value(json_object_get(live, "kind")),
	        json_string_value(json_object_get(m, "namespace")),
	        json_string_value(json_object_get(m, "name")));

	if (!e || e->seen)
		return;
	e->seen = true;
	drift_one(x, e->u, e->o, live);
}

/*
 * A listed object before it is parsed: skipped (neither parsed nor
 * compared) when the memo says this very object at this very
 * resourceVersion had no drift against this very desired object; its
 * health is the one recorded then (the same object, the same status).
 * Skipped too when on_live would pass it over: no unchanged unit holds
 * it (an inventory carries tollgate's label), or it was handed on
 * already; so a lean watch (tollgate run) need not keep its text nor
 * send for it to the server.
 */
static bool skip_live(void *ctx, const tg_kube_list_peek *p)
{
	drift_index *x = ctx;
	char *key = identity_key(p->api_version, p->kind,
	                         p->ns[0] ? p->ns : NULL, p->name);
	struct drift_entry *e = index_find(x, p->api_version, p->kind,
	                                   p->ns[0] ? p->ns : NULL, p->name);
	unsigned char d[TG_SHA256_LEN];
	int64_t when;
	int health;
	bool skip = false;

	if (!e || e->seen) {
		skip = true;
		goto out;
	}
	if (!e->o->text)
		goto out;
	desired_digest(d, e->o);
	if (!tg_drift_memo_clean(&health, &when, x->old, key, p->uid,
	                         p->resource_version, d, x->now))
		goto out;
	/* A workload has its health remembered, anything else none. */
	if (apply_is_workload(e->o) != (health > 0) ||
	    (health > 0 && !apply_record_health_code(e->u, e->o, health)))
		goto out;
	e->seen = skip = true;
	x->skipped++;
	tg_drift_memo_add(x->next, key, p->uid, p->resource_version, d, health,
	                  when);
out:
	free(key);
	return skip;
}

static void
on_list_failed(void *ctx, const char *av, const char *kind, const char *msg)
{
	(void)ctx;
	tg_log(TG_LOG_WARN, "listing live objects for drift failed", "kind",
	       kind, "apiVersion", av, "error", msg ? msg : "", NULL);
}

/*
 * Stream the live objects of every kind among the unchanged units,
 * listed by the label app.kubernetes.io/managed-by=tollgate, into the
 * comparison. Objects of kinds that could not be listed are read one by
 * one after.
 */
static void list_live(drift_index *x)
{
	tg_drift_live_sink sink = { on_live, x->old ? skip_live : NULL,
		                    on_list_failed, x };
	tg_drift_live *live = NULL;
	size_t i;

	if (tg_drift_live_new(&live) < 0)
		return;
	for (i = 0; i < x->n; i++)
		tg_drift_live_want(live, x->entries[i].o->api_version,
		                   x->entries[i].o->kind);
	if (tg_drift_live_list(live, x->a->kube,
	                       TG_LABEL_MANAGED_BY "=tollgate", &sink) < 0)
		tg_log(TG_LOG_WARN, "listing live objects for drift failed",
		       "error", tg_error_last(), NULL);
	tg_drift_live_free(live);
}

/* Not listed: deleted, or its label was changed; a GET tells which. */
static void read_unlisted(drift_index *x)
{
	batch b = { 0 };
	size_t i;

	for (i = 0; i < x->n; i++)
		if (!x->entries[i].seen)
			apply_batch_add(&b, x->entries[i].u, x->entries[i].o,
			                TG_KUBE_GET, 0);
	apply_batch_run(x->a, &b);
	for (i = 0; i < b.n; i++) {
		if (b.ops[i].result < 0 && b.ops[i].result != TG_ENOTFOUND)
			apply_unit_error(b.units[i], b.ops[i].message);
		else
			drift_one(x, b.units[i], b.objs[i],
			          b.ops[i].result < 0 ? NULL : b.ops[i].live);
	}
	apply_batch_free(&b);
}

/* The memo of the last cycle (none without a path: every object is
 * compared in full) and an empty one for this cycle. */
void apply_memo_open(tg_apply *a)
{
	if (!a->opts.drift_memo || a->opts.plan)
		return;
	a->memo_now = tg_now();
	if (tg_drift_memo_load(&a->memo_old, a->opts.drift_memo) < 0 ||
	    tg_drift_memo_load(&a->memo_next, NULL) < 0) {
		/* Not reached (load hands back an empty memo on doubt);
		 * without both, nothing is skipped nor remembered. */
		tg_drift_memo_free(a->memo_old);
		tg_drift_memo_free(a->memo_next);
		a->memo_old = a->memo_next = NULL;
	}
}

/* Write this cycle's memo: the clean compares of this cycle, the memos
 * it relied on and the answers found as sent. A memo that cannot be
 * written only costs the next cycle its compares (what the old file says
 * stays true). */
void apply_memo_close(tg_apply *a)
{
	if (a->memo_next &&
	    tg_drift_memo_save(a->memo_next, a->opts.drift_memo) < 0)
		tg_log(TG_LOG_WARN, "cannot write the drift memo", "error",
		       tg_error_last(), NULL);
	tg_drift_memo_free(a->memo_old);
	tg_drift_memo_free(a->memo_next);
	a->memo_old = a->memo_next = NULL;
}

/* The answer to an apply of a batch made by apply_vouch_answers: an
 * object that is not a workload (a workload's memo entry carries its
 * health, read later), whose answer has no drift against what was
 * sent, is remembered as compared, at the answer's uid and
 * resourceVersion. So the next cycle neither compares it again nor,
 * under `tollgate run`, needs its text from the watch. */
static bool vouch_answer(void *ctx, const tg_kube_op *op, json_t *live)
{
	apply_vouch_ctx *vc = ctx;
	size_t i = (size_t)(op - vc->b->ops);
	obj *o;
	json_t *m = json_object_get(live, "metadata"), *fields = NULL, *desired;
	const char *uid = json_string_value(json_object_get(m, "uid"));
	const char *rv =
	        json_string_value(json_object_get(m, "resourceVersion"));
	unsigned char d[TG_SHA256_LEN];
	bool loaded, clean;
	char *key;

	if (i >= vc->b->n || !vc->a->memo_next || !uid || !*uid || !rv || !*rv)
		return false;
	o = vc->b->objs[i];
	loaded = o->desired != NULL;
	if (!(desired = apply_desired(o)))
		return false;
	tg_drift_compare(&fields, desired, live, TG_FIELD_MANAGER);
	clean = fields && json_array_size(fields) == 0;
	json_decref(fields);
	if (!loaded)
		apply_park(o);
	if (!clean)
		return false;
	desired_digest(d, o);
	key = identity_key(o->api_version, o->kind, o->ns, o->name);
	tg_drift_memo_add(vc->a->memo_next, key, uid, rv, d, 0,
	                  vc->a->memo_now);
	free(key);
	return true;
}

void apply_vouch_answers(apply_vouch_ctx *ctx, tg_apply *a, batch *b)
{
	size_t i;

	ctx->a = a;
	ctx->b = b;
	if (!a->memo_next || !tg_kube_watches(a->kube))
		return;
	/* Only what may be vouched for has its answer sent whole. */
	for (i = 0; i < b->n; i++) {
		if (!b->objs[i]->text || apply_is_workload(b->objs[i]))
			continue;
		b->ops[i].answered = vouch_answer;
		b->ops[i].answered_ctx = ctx;
	}
}

/*
 * The commit an unchanged unit was applied from, as its inventory says:
 * the annotation its objects carry, so that correcting drift keeps it
 * (a correction applied without it made server-side apply remove it).
 */
static const char *inventory_commit(tg_apply *a, const unit *u)
{
	const char *c = json_string_value(json_object_get(
	        json_object_get(json_object_get(a->inventories, u->name),
	                        "data"),
	        "commit"));

	return c && *c ? c : NULL;
}

void apply_check_drift(tg_apply *a)
{
	obj_iter it = apply_objects(a, apply_unchanged);
	batch fix = { 0 };
	drift_index x;
	size_t i;

	while (apply_next(&it)) {
		if (apply_resolve_scope(a, it.o) < 0)
			apply_unit_error(it.u, tg_error_last());
		apply_obj_stamp(it.o, inventory_commit(a, it.u));
	}
	index_build(&x, a, &fix);
	x.old = a->memo_old;
	x.next = a->memo_next;
	x.now = a->memo_now;
	list_live(&x);
	read_unlisted(&x);
	if (x.next) {
		char n[32];

		snprintf(n, sizeof(n), "%zu", x.skipped);
		tg_log(TG_LOG_DEBUG, "drift memo: objects not compared again",
		       "skipped", n, NULL);
	}
	/* The last cycle's memo served its purpose. */
	tg_drift_memo_free(a->memo_old);
	a->memo_old = NULL;
	index_free(&x);
	apply_batch_run(a, &fix);
	for (i = 0; i < fix.n; i++) {
		if (fix.ops[i].result < 0)
			apply_unit_error(fix.units[i], fix.ops[i].message);
		else
			fix.units[i]->drift_corrected = true;
	}
	apply_batch_free(&fix);
}
