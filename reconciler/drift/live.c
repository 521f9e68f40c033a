/*
 * Live state for drift: the live objects of several kinds read with one
 * LIST per kind (all namespaces, by label) instead of one GET per object.
 * See reconciler/include/tollgate/drift.h.
 */
#include <stdlib.h>
#include <string.h>

#include "tollgate/drift.h"
#include "tollgate/util.h"

struct tg_drift_live {
	json_t *by_kind; /* {"<apiVersion> <kind>": {"<ns>/<name>": obj}} */
	tg_kube_list_req *reqs;
	size_t n, cap;
};

int tg_drift_live_new(tg_drift_live **out)
{
	tg_drift_live *l = tg_calloc(1, sizeof(*l));

	l->by_kind = json_object();
	*out = l;
	return 0;
}

void tg_drift_live_free(tg_drift_live *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		tg_kube_list_req_clear(&l->reqs[i]);
	free(l->reqs);
	json_decref(l->by_kind);
	free(l);
}

static char *kind_key(const char *api_version, const char *kind)
{
	return tg_aprintf("%s %s", api_version, kind);
}

/* "namespace/name" of a live or desired object, the key within a kind. */
static char *ns_name_key(const char *ns, const char *name)
{
	return tg_aprintf("%s/%s", ns ? ns : "", name);
}

void tg_drift_live_want(tg_drift_live *l,
                        const char *api_version,
                        const char *kind)
{
	char *kk = kind_key(api_version, kind);

	if (!json_object_get(l->by_kind, kk)) {
		json_object_set_new(l->by_kind, kk, json_object());
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 8;
			l->reqs =
			        tg_realloc(l->reqs, l->cap * sizeof(*l->reqs));
		}
		memset(&l->reqs[l->n], 0, sizeof(l->reqs[l->n]));
		l->reqs[l->n].api_version = api_version;
		l->reqs[l->n++].kind = kind;
	}
	free(kk);
}

/* Index the listed items of r by namespace and name. */
static void take_list(tg_drift_live *l, tg_kube_list_req *r)
{
	char *kk = kind_key(r->api_version, r->kind);
	json_t *map = json_object_get(l->by_kind, kk), *it;
	size_t k;

	json_array_foreach(r->items, k, it) {
		json_t *m = json_object_get(it, "metadata");
		char *key = ns_name_key(
		        json_string_value(json_object_get(m, "namespace")),
		        json_string_value(json_object_get(m, "name")));
		json_object_set(map, key, it);
		free(key);
	}
	free(kk);
}

int tg_drift_live_list(tg_drift_live *l, tg_kube *k, const char *label_selector)
{
	size_t i;
	int error = 0;

	for (i = 0; i < l->n; i++)
		l->reqs[i].label_selector = label_selector;
	if (l->n)
		error = tg_kube_list_all(k, l->reqs, l->n);
	/* A kind whose list failed keeps an empty map. */
	for (i = 0; i < l->n; i++) {
		if (l->reqs[i].result == 0)
			take_list(l, &l->reqs[i]);
		tg_kube_list_req_clear(&l->reqs[i]);
	}
	l->n = 0;
	return error;
}

json_t *tg_drift_live_find(const tg_drift_live *l,
                           const char *api_version,
                           const char *kind,
                           const char *ns,
                           const char *name)
{
	char *kk = kind_key(api_version, kind);
	char *key = ns_name_key(ns, name);
	json_t *live = json_object_get(json_object_get(l->by_kind, kk), key);

	free(kk);
	free(key);
	return live;
}
