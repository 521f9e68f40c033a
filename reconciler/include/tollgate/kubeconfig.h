/*
 * Where the Kubernetes API is and how to authenticate: from a kubeconfig
 * file (its current context, or a named one) or from the pod's service
 * account (in-cluster). Secrets (token, client key) live only in memory
 * and are wiped on free; they never appear in messages.
 */
#ifndef TOLLGATE_KUBECONFIG_H
#define TOLLGATE_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "tollgate/error.h"

typedef struct tg_kube_target {
	char *server;     /* "https://host:port" (no trailing '/') */
	char *context;    /* context name, or "in-cluster" */
	char *namespace_; /* context namespace, or NULL */
	char *ca_pem;     /* CA bundle to trust (PEM), or NULL: system */
	size_t ca_pem_len;
	char *client_cert_pem; /* client certificate (PEM), or NULL */
	size_t client_cert_pem_len;
	char *client_key_pem; /* secret */
	size_t client_key_pem_len;
	char *token;      /* bearer token, secret, or NULL */
	char *basic_auth; /* "user:password", secret, or NULL */
	bool insecure_skip_tls_verify;
} tg_kube_target;

/*
 * Read a kubeconfig. context NULL means current-context. Paths inside
 * (certificate-authority, client-certificate, client-key, tokenFile) are
 * relative to the kubeconfig's directory. insecure-skip-tls-verify is
 * refused (TG_EINVALID) unless allow_insecure is set: skipping TLS checks
 * must be chosen in tollgate's own config, not inherited. exec and
 * auth-provider plugins are not supported (TG_EINVALID naming them).
 * Errors name the file and the entry.
 */
TG_WUR int tg_kube_target_from_kubeconfig(tg_kube_target **out,
                                          const char *path,
                                          const char *context,
                                          bool allow_insecure);

/* The same from the kubeconfig's bytes (at most TG_MAX_KUBECONFIG_BYTES,
 * else TG_ETOOBIG); path names it in messages and relative paths inside
 * start from its directory. */
TG_WUR int tg_kube_target_from_kubeconfig_data(tg_kube_target **out,
                                               const char *path,
                                               const char *data,
                                               size_t len,
                                               const char *context,
                                               bool allow_insecure);

/*
 * In-cluster configuration: KUBERNETES_SERVICE_HOST and _PORT from the
 * environment, token and ca.crt from sa_dir (NULL means
 * /var/run/secrets/kubernetes.io/serviceaccount).
 */
TG_WUR int tg_kube_target_in_cluster(tg_kube_target **out, const char *sa_dir);

void tg_kube_target_free(tg_kube_target *t);

#endif
