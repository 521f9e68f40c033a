/*
 * Internals of the Kubernetes client shared by reconciler/cluster/kube.c
 * (client, requests, operations), discovery.c and list.c.
 */
#ifndef TOLLGATE_KUBE_INT_H
#define TOLLGATE_KUBE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tollgate/http.h"
#include "tollgate/kube.h"

typedef struct resource {
	tg_kube_resource pub;
	char *group, *version, *kind, *name;
} resource;

struct tg_kube {
	tg_http *http;
	char *server;
	char *auth; /* "Authorization: ..." header, secret */
	char *manager;
	resource *res;
	size_t nres;
	bool discovered;
	bool running; /* a batch runs: a nested one must not start */
	unsigned list_limit;
	size_t max_batch;
};

typedef void (*reply_fn)(tg_kube *k,
                         int result,
                         tg_http_response *resp,
                         void *ctx);

/* Drop the resource types discovered (kube.c). */
void kube_resources_clear(tg_kube *k);

/* Submit method url with an optional JSON body of content_type; fn is
 * called with ctx when the reply (or failure) comes. 0 or an error. */
int kube_submit(tg_kube *k,
                const char *method,
                const char *url,
                const char *content_type,
                const char *body,
                reply_fn fn,
                void *ctx);

/*
 * The message of a failed response: the Status message when the server
 * sent one, else the HTTP status and a piece of the body. 401/403 become
 * TG_EAUTH, 404 TG_ENOTFOUND, 409 TG_ECONFLICT, others TG_ERROR.
 */
int kube_status_error(char **msg_out, const tg_http_response *resp);

/* The JSON body of a response. 0 or TG_EPARSE. */
int kube_parse_body(json_t **out, const tg_http_response *resp);

/* The collection URL of resource r in namespace ns (ignored for
 * cluster-scoped kinds; NULL for all namespaces). New string. */
char *
kube_collection_url(tg_kube *k, const tg_kube_resource *r, const char *ns);

#endif
