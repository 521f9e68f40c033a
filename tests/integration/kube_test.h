/*
 * Shared by the C integration tests of the Kubernetes client and the
 * apply engine: a world of one tests/testcluster (over TLS, a bearer
 * token, its CA as certificate-authority-data in the kubeconfig) and a
 * client of it, set up once per test group.
 */
#ifndef TG_KUBE_TEST_H
#define TG_KUBE_TEST_H

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testlib.h"
#include "tollgate/apply.h"
#include "tollgate/error.h"
#include "tollgate/kube.h"
#include "tollgate/kubeconfig.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

typedef struct world {
	char *dir;
	char *url;
	int pid;
	tg_kube *kube;
} world;

static inline int setup(void **state)
{
	world *w = tg_calloc(1, sizeof(*w));
	tg_kube_target *t = NULL;
	char *kc;

	w->dir = tt_mkdtemp();
	w->pid = tt_testcluster_start(w->dir, 1, &w->url);
	kc = tg_path_join(w->dir, "kubeconfig");
	assert_int_equal(tg_kube_target_from_kubeconfig(&t, kc, NULL, false),
	                 0);
	assert_non_null(t->ca_pem);
	assert_int_equal(tg_kube_new(&w->kube, t, NULL), 0);
	tg_kube_target_free(t);
	free(kc);
	*state = w;
	return 0;
}

static inline int teardown(void **state)
{
	world *w = *state;

	tg_kube_free(w->kube);
	assert_int_equal(tt_process_stop(w->pid), 0);
	tt_rmtree(w->dir);
	free(w->dir);
	free(w->url);
	free(w);
	return 0;
}

/* Objects from YAML text, as a new array. */
static inline json_t *objects(const char *yaml)
{
	tg_yaml_docs *docs = NULL;
	json_t *arr = json_array();
	size_t i;

	assert_int_equal(
	        tg_yaml_parse(&docs, "test.yaml", yaml, strlen(yaml), 0), 0);
	for (i = 0; i < tg_yaml_docs_count(docs); i++)
		json_array_append(arr, tg_yaml_docs_get(docs, i));
	tg_yaml_docs_free(docs);
	return arr;
}

#endif
