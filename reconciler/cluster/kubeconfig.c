/*
 * kubeconfig and in-cluster configuration: see
 * reconciler/include/tollgate/kubeconfig.h. The file format is client-go's
 * clientcmd v1 Config.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "tollgate/error.h"
#include "tollgate/kubeconfig.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

#define TG_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

static void free_secret(char *s, size_t len)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, len ? len : strlen(s));
	free(s);
}

void tg_kube_target_free(tg_kube_target *t)
{
	if (!t)
		return;
	free(t->server);
	free(t->context);
	free(t->namespace_);
	free(t->ca_pem);
	free(t->client_cert_pem);
	free_secret(t->client_key_pem, t->client_key_pem_len);
	free_secret(t->token, 0);
	free_secret(t->basic_auth, 0);
	free(t);
}

/* Entry "name" of the named list (clusters, users, contexts): the inner
 * object under field, or NULL. */
static json_t *
find_named(json_t *doc, const char *list, const char *field, const char *name)
{
	json_t *arr = json_object_get(doc, list), *item;
	size_t i;

	json_array_foreach(arr, i, item) {
		const char *n =
		        json_string_value(json_object_get(item, "name"));
		if (n && !strcmp(n, name))
			return json_object_get(item, field);
	}
	return NULL;
}

static const char *str_field(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Read a file named in the kubeconfig, relative to its directory. */
static int read_ref(char **out, size_t *len, const char *dir, const char *path)
{
	char *full = path[0] == '/' ? tg_strdup(path) : tg_path_join(dir, path);
	int error = tg_file_read(out, len, full, TG_MAX_KUBECONFIG_BYTES);

	free(full);
	return error;
}

/* A value given inline as base64 (the *-data keys) or as a file path. */
static int data_or_file(char **out,
                        size_t *len,
                        const char *kcpath,
                        const char *dir,
                        json_t *obj,
                        const char *data_key,
                        const char *file_key)
{
	const char *data = str_field(obj, data_key);
	const char *file = str_field(obj, file_key);
	unsigned char *dec;

	*out = NULL;
	*len = 0;
	if (data) {
		if (tg_base64_decode(&dec, len, data, strlen(data)) < 0)
			return tg_error_set(TG_EPARSE,
			                    "%s: %s is not valid "
			                    "base64",
			                    kcpath, data_key);
		*out = (char *)dec;
		return 0;
	}
	if (file)
		return read_ref(out, len, dir, file);
	return 0;
}

static int load_cluster(tg_kube_target *t,
                        const char *path,
                        const char *dir,
                        json_t *cluster,
                        const char *name,
                        bool allow_insecure)
{
	const char *server = str_field(cluster, "server");
	json_t *insecure = json_object_get(cluster, "insecure-skip-tls-verify");
	size_t n;

	if (!server || !*server)
		return tg_error_set(TG_EINVALID,
		                    "%s: cluster \"%s\" has no "
		                    "server",
		                    path, name);
	if (!tg_str_has_prefix(server, "https://") &&
	    !tg_str_has_prefix(server, "http://"))
		return tg_error_set(TG_EINVALID,
		                    "%s: cluster \"%s\": server "
		                    "\"%s\" is not an http(s) URL",
		                    path, name, server);
	n = strlen(server);
	while (n > 0 && server[n - 1] == '/')
		n--;
	t->server = tg_strndup(server, n);
	if (json_is_true(insecure)) {
		if (!allow_insecure)
			return tg_error_set(TG_EINVALID,
			                    "%s: cluster \"%s\" "
			                    "sets insecure-skip-tls-verify; "
			                    "tollgate refuses that unless "
			                    "cluster.insecureSkipTLSVerify is "
			                    "set in its own config",
			                    path, name);
		t->insecure_skip_tls_verify = true;
	}
	return data_or_file(&t->ca_pem, &t->ca_pem_len, path, dir, cluster,
	                    "certificate-authority-data",
	                    "certificate-authority");
}

static int load_user(tg_kube_target *t,
                     const char *path,
                     const char *dir,
                     json_t *user,
                     const char *name)
{
	const char *token = str_field(user, "token");
	const char *token_file = str_field(user, "tokenFile");
	const char *username = str_field(user, "username");
	size_t len;
	int error;

	if (json_object_get(user, "exec") ||
	    json_object_get(user, "auth-provider"))
		return tg_error_set(TG_EINVALID,
		                    "%s: user \"%s\" uses an exec "
		                    "or auth-provider plugin, which tollgate "
		                    "does not run; use a token, tokenFile or "
		                    "client certificate",
		                    path, name);
	if ((error = data_or_file(&t->client_cert_pem, &t->client_cert_pem_len,
	                          path, dir, user, "client-certificate-data",
	                          "client-certificate")) < 0 ||
	    (error = data_or_file(&t->client_key_pem, &t->client_key_pem_len,
	                          path, dir, user, "client-key-data",
	                          "client-key")) < 0)
		return error;
	if (!t->client_cert_pem != !t->client_key_pem)
		return tg_error_set(TG_EINVALID,
		                    "%s: user \"%s\" has a client "
		                    "certificate without a key, or a key "
		                    "without a certificate",
		                    path, name);
	if (token)
		t->token = tg_strdup(token);
	else if (token_file) {
		if ((error = read_ref(&t->token, &len, dir, token_file)) < 0)
			return error;
		while (len > 0 &&
		       (t->token[len - 1] == '\n' || t->token[len - 1] == '\r'))
			t->token[--len] = '\0';
	}
	if (username) {
		const char *pw = str_field(user, "password");
		t->basic_auth = tg_aprintf("%s:%s", username, pw ? pw : "");
	}
	return 0;
}

/* The directory of the kubeconfig at path, which relative paths inside
 * it start from. New string. */
static char *kubeconfig_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? tg_strndup(path, (size_t)(slash - path))
	             : tg_strdup(".");
}

static int load_context(tg_kube_target *t,
                        const char *path,
                        json_t *doc,
                        const char *context,
                        bool allow_insecure)
{
	json_t *ctx, *cluster, *user = NULL;
	const char *cname, *uname, *ns;
	char *dir = kubeconfig_dir(path);
	int error = 0;

	if (!context)
		context = str_field(doc, "current-context");
	if (!context || !*context) {
		error = tg_error_set(TG_EINVALID,
		                     "%s: no current-context and "
		                     "no context named",
		                     path);
		goto out;
	}
	if (!(ctx = find_named(doc, "contexts", "context", context))) {
		error = tg_error_set(TG_ENOTFOUND,
		                     "%s: context \"%s\" not "
		                     "found",
		                     path, context);
		goto out;
	}
	t->context = tg_strdup(context);
	cname = str_field(ctx, "cluster");
	uname = str_field(ctx, "user");
	if ((ns = str_field(ctx, "namespace")) && *ns)
		t->namespace_ = tg_strdup(ns);
	if (!cname ||
	    !(cluster = find_named(doc, "clusters", "cluster", cname))) {
		error = tg_error_set(TG_ENOTFOUND,
		                     "%s: context \"%s\" names "
		                     "cluster \"%s\", which is not defined",
		                     path, context, cname ? cname : "");
		goto out;
	}
	if (uname && *uname &&
	    !(user = find_named(doc, "users", "user", uname))) {
		error = tg_error_set(TG_ENOTFOUND,
		                     "%s: context \"%s\" names "
		                     "user \"%s\", which is not defined",
		                     path, context, uname);
		goto out;
	}
	if ((error = load_cluster(t, path, dir, cluster, cname,
	                          allow_insecure)) < 0)
		goto out;
	if (user)
		error = load_user(t, path, dir, user, uname);
out:
	free(dir);
	return error;
}

int tg_kube_target_from_kubeconfig_data(tg_kube_target **out,
                                        const char *path,
                                        const char *data,
                                        size_t len,
                                        const char *context,
                                        bool allow_insecure)
{
	tg_yaml_docs *docs = NULL;
	tg_kube_target *t = NULL;
	json_t *doc;
	int error;

	*out = NULL;
	if (len > TG_MAX_KUBECONFIG_BYTES)
		return tg_error_set(TG_ETOOBIG, "%s: over %u bytes", path,
		                    (unsigned)TG_MAX_KUBECONFIG_BYTES);
	if ((error = tg_yaml_parse(&docs, path, data, len, 0)) < 0)
		goto out;
	doc = tg_yaml_docs_count(docs) ? tg_yaml_docs_get(docs, 0) : NULL;
	if (!json_is_object(doc)) {
		error = tg_error_set(TG_EPARSE,
		                     "%s: not a kubeconfig (expected "
		                     "a mapping with clusters, users and "
		                     "contexts)",
		                     path);
		goto out;
	}
	t = tg_calloc(1, sizeof(*t));
	if ((error = load_context(t, path, doc, context, allow_insecure)) < 0)
		goto out;
	*out = t;
	t = NULL;
out:
	tg_kube_target_free(t);
	tg_yaml_docs_free(docs);
	return error;
}

int tg_kube_target_from_kubeconfig(tg_kube_target **out,
                                   const char *path,
                                   const char *context,
                                   bool allow_insecure)
{
	char *data = NULL;
	size_t len;
	int error;

	*out = NULL;
	if ((error = tg_file_read(&data, &len, path, TG_MAX_KUBECONFIG_BYTES)) <
	    0)
		return error;
	error = tg_kube_target_from_kubeconfig_data(out, path, data, len,
	                                            context, allow_insecure);
	/* The kubeconfig may hold a token or a client key inline. */
	free_secret(data, len);
	return error;
}

int tg_kube_target_in_cluster(tg_kube_target **out, const char *sa_dir)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	tg_kube_target *t;
	size_t len;
	char *p;
	int error;

	*out = NULL;
	if (!sa_dir)
		sa_dir = TG_SA_DIR;
	if (!host || !*host || !port || !*port)
		return tg_error_set(TG_EINVALID,
		                    "not running in a cluster: "
		                    "KUBERNETES_SERVICE_HOST and "
		                    "KUBERNETES_SERVICE_PORT are not set; set "
		                    "cluster.kubeconfig");
	t = tg_calloc(1, sizeof(*t));
	/* An IPv6 service address needs brackets in a URL. */
	t->server = strchr(host, ':')
	                    ? tg_aprintf("https://[%s]:%s", host, port)
	                    : tg_aprintf("https://%s:%s", host, port);
	t->context = tg_strdup("in-cluster");
	p = tg_path_join(sa_dir, "token");
	error = tg_file_read(&t->token, &len, p, TG_MAX_KUBECONFIG_BYTES);
	free(p);
	if (error < 0)
		goto out;
	while (len > 0 && (t->token[len - 1] == '\n'))
		t->token[--len] = '\0';
	p = tg_path_join(sa_dir, "ca.crt");
	error = tg_file_read(&t->ca_pem, &t->ca_pem_len, p,
	                     TG_MAX_KUBECONFIG_BYTES);
	free(p);
	if (error < 0)
		goto out;
	p = tg_path_join(sa_dir, "namespace");
	if (tg_file_read(&t->namespace_, &len, p, 256) == 0)
		while (len > 0 && t->namespace_[len - 1] == '\n')
			t->namespace_[--len] = '\0';
	free(p);
	*out = t;
	t = NULL;
out:
	tg_kube_target_free(t);
	return error;
}
