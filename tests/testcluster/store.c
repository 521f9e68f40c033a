/*
 * The object store: a hash map per resource type keyed by
 * "<namespace>/<name>", one global resourceVersion counter, and a ring of
 * recent watch events. Callers hold st->lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tc.h"
#include "tollgate/util.h"

char *tc_obj_key(const char *ns, const char *name)
{
	return tg_aprintf("%s/%s", ns ? ns : "", name);
}

/* The map of one type, created on first use (borrowed). */
static json_t *type_map(tc_state *st, const tc_type *t)
{
	char *key = tc_type_key(t);
	json_t *m = json_object_get(st->db, key);

	if (m == NULL) {
		m = json_object();
		json_object_set_new(st->db, key, m);
	}
	free(key);
	return m;
}

json_t *
tc_store_get(tc_state *st, const tc_type *t, const char *ns, const char *name)
{
	char *key = tc_obj_key(ns, name);
	json_t *o = json_object_get(type_map(st, t), key);

	free(key);
	return o;
}

static void
event_record(tc_state *st, const tc_type *t, json_t *obj, const char *ev)
{
	tc_event *e;

	if (st->ev_count == TC_MAX_EVENTS) {
		e = &st->events[st->ev_start];
		free(e->rkey);
		free(e->type_name);
		json_decref(e->object);
		st->ev_start = (st->ev_start + 1) % TC_MAX_EVENTS;
		st->ev_count--;
	}
	e = &st->events[(st->ev_start + st->ev_count) % TC_MAX_EVENTS];
	st->ev_count++;
	e->seq = st->rv;
	e->rkey = tc_type_key(t);
	e->type_name = tg_strdup(ev);
	/* Shared with the store: a stored object is replaced, never
	 * changed (verbs.c), and its metadata is its own (tc_obj_next). */
	e->object = json_incref(obj);
	pthread_cond_broadcast(&st->changed);
	if (t->flags & TC_T_WORKLOAD)
		pthread_cond_signal(&st->workload_changed);
}

static void set_rv(json_t *obj, uint64_t rv)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)rv);
	json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion",
	                    json_string(s));
}

void tc_store_put(tc_state *st, const tc_type *t, json_t *obj, const char *ev)
{
	char *key = tc_obj_key(tc_obj_ns(obj), tc_obj_name(obj));

	st->rv++;
	st->db_gen++;
	set_rv(obj, st->rv);
	json_object_set(type_map(st, t), key, obj);
	free(key);
	event_record(st, t, obj, ev);
}

void tc_store_delete(tc_state *st,
                     const tc_type *t,
                     const char *ns,
                     const char *name)
{
	char *key = tc_obj_key(ns, name);
	json_t *m = type_map(st, t);
	json_t *o = json_object_get(m, key);

	if (o != NULL) {
		/* kube-apiserver stamps the deletion's resourceVersion on
		 * the DELETED event's object. */
		json_t *copy = tc_obj_next(o);

		json_object_del(m, key);
		st->db_gen++;
		st->rv++;
		set_rv(copy, st->rv);
		event_record(st, t, copy, "DELETED");
		json_decref(copy);
	}
	free(key);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *tc_store_list(tc_state *st, const tc_type *t, const char *ns)
{
	json_t *m = type_map(st, t);
	size_t n = json_object_size(m), k = 0, i, plen;
	const char **keys = tg_calloc(n ? n : 1, sizeof(*keys));
	char *prefix = ns ? tg_aprintf("%s/", ns) : NULL;
	json_t *out = json_array();
	const char *key;
	json_t *v;

	plen = prefix ? strlen(prefix) : 0;
	json_object_foreach(m, key, v) {
		if (prefix == NULL || strncmp(key, prefix, plen) == 0)
			keys[k++] = key;
	}
	qsort(keys, k, sizeof(*keys), cmp_str);
	for (i = 0; i < k; i++)
		json_array_append(out, json_object_get(m, keys[i]));
	free(keys);
	free(prefix);
	return out;
}

static void sorted_clear(tc_sorted *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->keys[i]);
		json_decref(s->objs[i]);
	}
	free(s->keys);
	free(s->objs);
	s->keys = NULL;
	s->objs = NULL;
	s->n = 0;
}

typedef struct keyed {
	const char *key;
	json_t *obj;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
	return strcmp(((const keyed *)a)->key, ((const keyed *)b)->key);
}

const tc_sorted *tc_store_sorted(tc_state *st, const tc_type *t)
{
	char *rkey = tc_type_key(t);
	json_t *m = type_map(st, t), *v;
	tc_sorted *s = NULL;
	keyed *all;
	const char *key;
	size_t i, n = 0;

	for (i = 0; i < st->nsorted && s == NULL; i++)
		if (strcmp(st->sorted[i].rkey, rkey) == 0)
			s = &st->sorted[i];
	if (s != NULL && s->gen == st->db_gen) {
		free(rkey);
		return s;
	}
	if (s == NULL) {
		st->sorted = tg_realloc(
		        st->sorted, (st->nsorted + 1) * sizeof(*st->sorted));
		s = &st->sorted[st->nsorted++];
		memset(s, 0, sizeof(*s));
		s->rkey = rkey;
	} else {
		free(rkey);
		sorted_clear(s);
	}
	all = tg_calloc(json_object_size(m) + 1, sizeof(*all));
	json_object_foreach(m, key, v) {
		all[n].key = key;
		all[n++].obj = v;
	}
	qsort(all, n, sizeof(*all), cmp_keyed);
	s->keys = tg_calloc(n + 1, sizeof(*s->keys));
	s->objs = tg_calloc(n + 1, sizeof(*s->objs));
	for (i = 0; i < n; i++) {
		s->keys[i] = tg_strdup(all[i].key);
		s->objs[i] = json_incref(all[i].obj);
	}
	s->n = n;
	s->gen = st->db_gen;
	free(all);
	return s;
}

size_t tc_sorted_bound(const tc_sorted *s, const char *key, bool with_equal)
{
	size_t lo = 0, hi = s->n, mid;

	while (lo < hi) {
		int c;

		mid = lo + (hi - lo) / 2;
		c = strcmp(s->keys[mid], key);
		if (c < 0 || (c == 0 && !with_equal))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void tc_store_sorted_free(tc_state *st)
{
	size_t i;

	for (i = 0; i < st->nsorted; i++) {
		sorted_clear(&st->sorted[i]);
		free(st->sorted[i].rkey);
	}
	free(st->sorted);
	st->sorted = NULL;
	st->nsorted = 0;
}

void tc_store_delete_namespace(tc_state *st, const char *ns)
{
	size_t i, j;

	for (i = 0; i < st->ntypes; i++) {
		const tc_type *t = st->types[i];
		json_t *objs;

		if (!(t->flags & TC_T_NAMESPACED))
			continue;
		objs = tc_store_list(st, t, ns);
		for (j = 0; j < json_array_size(objs); j++)
			tc_store_delete(st, t, ns,
			                tc_obj_name(json_array_get(objs, j)));
		json_decref(objs);
	}
}

void tc_store_drop_type(tc_state *st, const tc_type *t)
{
	json_t *objs = tc_store_list(st, t, NULL);
	size_t j;

	for (j = 0; j < json_array_size(objs); j++) {
		json_t *o = json_array_get(objs, j);

		tc_store_delete(st, t, tc_obj_ns(o), tc_obj_name(o));
	}
	json_decref(objs);
}

void tc_events_clear(tc_state *st)
{
	size_t i;

	for (i = 0; i < st->ev_count; i++) {
		tc_event *e = &st->events[(st->ev_start + i) % TC_MAX_EVENTS];

		free(e->rkey);
		free(e->type_name);
		json_decref(e->object);
	}
	st->ev_start = 0;
	st->ev_count = 0;
}

size_t tc_events_after(const tc_state *st, uint64_t seq)
{
	size_t lo = 0, hi = st->ev_count;

	/* Events are in increasing seq order: binary search the ring. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const tc_event *e =
		        &st->events[(st->ev_start + mid) % TC_MAX_EVENTS];

		if (e->seq <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
