/*
 * The server state: creation, reset to a fresh cluster, destruction.
 */
#include <string.h>

#include "tc.h"
#include "tollgate/util.h"

/* The namespaces every cluster starts with. */
static const char *const initial_namespaces[] = { "default", "kube-system",
	                                          "kube-public",
	                                          "kube-node-lease" };

static void seed(tc_state *st)
{
	const tc_type *t = tc_type_find(st, "", "v1", "namespaces");
	tc_target tg = { t, NULL, NULL, NULL };
	size_t i;

	for (i = 0;
	     i < sizeof(initial_namespaces) / sizeof(initial_namespaces[0]);
	     i++) {
		json_t *ns = json_pack(
		        "{s:s,s:s,s:{s:s,s:{s:s}},s:{s:[s]}}", "kind",
		        "Namespace", "apiVersion", "v1", "metadata", "name",
		        initial_namespaces[i], "labels",
		        "kubernetes.io/metadata.name", initial_namespaces[i],
		        "spec", "finalizers", "kubernetes");

		tg.name = initial_namespaces[i];
		tc_obj_init_meta(st, t, &tg, ns);
		tc_store_put(st, t, ns, "ADDED");
		json_decref(ns);
	}
}

int tc_state_init(tc_state *st, const char *token)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->log_lock, NULL);
	pthread_cond_init(&st->changed, NULL);
	pthread_cond_init(&st->workload_changed, NULL);
	st->token = tg_strdup(token);
	st->db = json_object();
	st->log = json_array();
	st->events = tg_calloc(TC_MAX_EVENTS, sizeof(*st->events));
	st->bookmark_s = TC_WATCH_BOOKMARK_S;
	tc_types_init(st);
	seed(st);
	return 0;
}

/* Back to a fresh cluster: built-in types, the initial namespaces, no
 * events; the resourceVersion counter keeps growing, as it would. */
void tc_state_reset(tc_state *st)
{
	json_object_clear(st->db);
	st->db_gen++;
	tc_store_sorted_free(st);
	tc_events_clear(st);
	tc_types_init(st);
	seed(st);
}

void tc_state_destroy(tc_state *st)
{
	tc_events_clear(st);
	free(st->events);
	tc_types_free(st);
	tc_faults_free(st);
	tc_store_sorted_free(st);
	json_decref(st->db);
	json_decref(st->log);
	free(st->token);
	free(st->server_url);
	pthread_cond_destroy(&st->changed);
	pthread_cond_destroy(&st->workload_changed);
	pthread_mutex_destroy(&st->log_lock);
	pthread_mutex_destroy(&st->lock);
}
