/*
 * Live state for drift: the live objects of several kinds read with one
 * LIST per kind (all namespaces, by label) instead of one GET per object,
 * streamed: each object is handed on as it is parsed and freed after, so
 * the cluster is never held whole. See reconciler/include/tollgate/drift.h.
 */
#include <stdlib.h>
#include <string.h>

#include "tollgate/drift.h"
#include "tollgate/util.h"

struct tg_drift_live {
	json_t *kinds; /* {"<apiVersion> <kind>": true} */
	tg_kube_list_req *reqs;
	size_t n, cap;
};

int tg_drift_live_new(tg_drift_live **out)
{
	tg_drift_live *l = tg_calloc(1, sizeof(*l));

	l->kinds = json_object();
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
	json_decref(l->kinds);
	free(l);
}

void tg_drift_live_want(tg_drift_live *l,
                        const char *api_version,
                        const char *kind)
{
	char *kk = tg_aprintf("%s %s", api_version, kind);

	if (!json_object_get(l->kinds, kk)) {
		json_object_set_new(l->kinds, kk, json_true());
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

int tg_drift_live_list(tg_drift_live *l,
                       tg_kube *k,
                       const char *label_selector,
                       const tg_drift_live_sink *sink)
{
	size_t i;
	int error = 0;

	for (i = 0; i < l->n; i++) {
		l->reqs[i].label_selector = label_selector;
		l->reqs[i].on_item = sink->on_item;
		l->reqs[i].skip = sink->skip;
		/* What the compare and health read (tollgate run keeps
		 * that much of each object between cycles). */
		l->reqs[i].reduce = tg_drift_slim;
		l->reqs[i].ctx = sink->ctx;
	}
	if (l->n)
		error = tg_kube_list_all(k, l->reqs, l->n);
	for (i = 0; i < l->n; i++) {
		if (l->reqs[i].result < 0 && sink->on_failed)
			sink->on_failed(sink->ctx, l->reqs[i].api_version,
			                l->reqs[i].kind, l->reqs[i].message);
		tg_kube_list_req_clear(&l->reqs[i]);
	}
	l->n = 0;
	json_object_clear(l->kinds);
	return error;
}
