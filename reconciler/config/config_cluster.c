/*
 * tollgate.yaml: the cluster, registries, imagePaths and notify sections
 * and the grammar of their values (namespace names, host:port, JSON
 * pointers, kind names, webhook URLs and header names).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config_int.h"
#include "tollgate/buf.h"
#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/schema.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

/* DNS-1123 label: what a namespace name must be. */
static bool is_dns_label(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* "host" or "host:port" with a port 1..65535 (IPv6 as "[::1]:5000"). */
bool tg_config__is_host_port(const char *s, bool need_port)
{
	const char *colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
	const char *c;
	uint64_t port;

	if (s[0] == '[' && colon)
		colon++;
	if (!colon)
		return !need_port && *s;
	if (tg_parse_u64(&port, colon + 1, strlen(colon + 1), 65535) < 0 ||
	    port == 0) {
		tg_error_clear();
		return false;
	}
	for (c = s; c < colon; c++)
		if (*c == ' ' || *c == '/' || *c == '@')
			return false;
	return true;
}

static void get_str_list(tg_config__ctx *x,
                         const json_t *obj,
                         const tg_config__key *parent,
                         const char *name,
                         bool (*ok)(const char *),
                         const char *what,
                         char ***out,
                         size_t *n);

/* An object name as Kubernetes names cluster-scoped objects. */
static bool is_dns_subdomain(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-' ||
	    s[n - 1] == '.' || s[n - 1] == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '.'))
			return false;
	return true;
}

/* The names of deploy/kubernetes/rbac.yaml's ClusterRoles and
 * ClusterRoleBindings (each pair shares its names). */
static const char *const deploy_rbac[] = { "tollgate-cluster",
	                                   "tollgate-namespaced" };

static void set_names(char ***out, size_t *n)
{
	size_t i;

	*out = tg_calloc(TG_ARRAY_LEN(deploy_rbac) + 1, sizeof(char *));
	for (i = 0; i < TG_ARRAY_LEN(deploy_rbac); i++)
		(*out)[i] = tg_strdup(deploy_rbac[i]);
	*n = TG_ARRAY_LEN(deploy_rbac);
}

void tg_config__default_rbac(tg_config *c)
{
	set_names(&c->cluster.cluster_roles, &c->cluster.ncluster_roles);
	set_names(&c->cluster.cluster_role_bindings,
	          &c->cluster.ncluster_role_bindings);
}

/* A list of object names that replaces the default in *out when the key
 * is there. */
static void get_names(tg_config__ctx *x,
                      const json_t *cl,
                      const tg_config__key *k,
                      const char *name,
                      char ***out,
                      size_t *n)
{
	size_t i;

	if (!json_object_get(cl, name))
		return;
	for (i = 0; i < *n; i++)
		free((*out)[i]);
	free(*out);
	*out = NULL;
	*n = 0;
	get_str_list(x, cl, k, name, is_dns_subdomain,
	             "a valid object name (lowercase letters, digits, '-' and "
	             "'.')",
	             out, n);
}

/* cluster.reservedNamespaces, admissionPolicy, admissionPolicyBinding,
 * clusterRoles, clusterRoleBindings: the objects no unit may write
 * (reconciler/admit/). */
static void
read_reserved(tg_config__ctx *x, const json_t *cl, const tg_config__key *k)
{
	static const char *const names[] = { "admissionPolicy",
		                             "admissionPolicyBinding" };
	char **out[2];
	tg_config__key ck;
	size_t i;

	out[0] = &x->c->cluster.admission_policy;
	out[1] = &x->c->cluster.admission_policy_binding;
	get_str_list(x, cl, k, "reservedNamespaces", is_dns_label,
	             "a namespace name (lowercase letters, digits and '-', "
	             "at most 63)",
	             &x->c->cluster.reserved_namespaces,
	             &x->c->cluster.nreserved_namespaces);
	get_names(x, cl, k, "clusterRoles", &x->c->cluster.cluster_roles,
	          &x->c->cluster.ncluster_roles);
	get_names(x, cl, k, "clusterRoleBindings",
	          &x->c->cluster.cluster_role_bindings,
	          &x->c->cluster.ncluster_role_bindings);
	for (i = 0; i < 2; i++)
		if (tg_config__get_str(x, cl, k, names[i], false, out[i],
		                       &ck) &&
		    !is_dns_subdomain(*out[i]))
			tg_config__error(x, &ck, TG_EINVALID,
			                 "\"%s\" is not a valid object name "
			                 "(lowercase letters, digits, '-' and "
			                 "'.')",
			                 *out[i]);
}

void tg_config__read_cluster(tg_config__ctx *x, const json_t *root)
{
	static const char *const known[] = { "kubeconfig",
		                             "inventoryNamespace",
		                             "reservedNamespaces",
		                             "admissionPolicy",
		                             "admissionPolicyBinding",
		                             "clusterRoles",
		                             "clusterRoleBindings",
		                             "drift",
		                             "prune",
		                             NULL };
	tg_config__key k, ck;
	json_t *cl = tg_config__get_map(x, root, NULL, "cluster", &k, known);
	char *drift = NULL;

	if (!cl)
		return;
	tg_config__get_path(x, cl, &k, "kubeconfig", false,
	                    &x->c->cluster.kubeconfig);
	if (tg_config__get_str(x, cl, &k, "inventoryNamespace", false,
	                       &x->c->cluster.inventory_namespace, &ck) &&
	    !is_dns_label(x->c->cluster.inventory_namespace))
		tg_config__error(
		        x, &ck, TG_EINVALID,
		        "\"%s\" is not a valid namespace name (lowercase "
		        "letters, digits and '-', at most 63)",
		        x->c->cluster.inventory_namespace);
	if (tg_config__get_str(x, cl, &k, "drift", false, &drift, &ck)) {
		if (!strcmp(drift, "correct"))
			x->c->cluster.drift = TG_DRIFT_CORRECT;
		else if (!strcmp(drift, "report"))
			x->c->cluster.drift = TG_DRIFT_REPORT;
		else
			tg_config__error(x, &ck, TG_EINVALID,
			                 "\"%s\": expected correct or report",
			                 drift);
	}
	free(drift);
	tg_config__get_bool(x, cl, &k, "prune", &x->c->cluster.prune);
	read_reserved(x, cl, &k);
}

/* A list of strings, each checked by ok (may be NULL). */
static void get_str_list(tg_config__ctx *x,
                         const json_t *obj,
                         const tg_config__key *parent,
                         const char *name,
                         bool (*ok)(const char *),
                         const char *what,
                         char ***out,
                         size_t *n)
{
	tg_config__key k, ek;
	json_t *arr = tg_config__member(x, obj, parent, name, TG_SCHEMA_LIST,
	                                false, &k),
	       *v;
	size_t i;

	if (!arr)
		return;
	*out = tg_calloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach(arr, i, v) {
		tg_config__key_child(&ek, &k, NULL, i);
		if (!json_is_string(v) || !*json_string_value(v) ||
		    !tg_config__str_is_clean(json_string_value(v))) {
			tg_config__error(x, &ek, TG_EINVALID,
			                 "expected a non-empty string, got %s",
			                 tg_schema_type_name(v));
			continue;
		}
		if (ok && !ok(json_string_value(v))) {
			tg_config__error(x, &ek, TG_EINVALID,
			                 "\"%s\" is not %s",
			                 json_string_value(v), what);
			continue;
		}
		(*out)[(*n)++] = tg_strdup(json_string_value(v));
	}
}

static bool is_registry_host(const char *s)
{
	return tg_config__is_host_port(s, false) && !strchr(s, '/');
}

void tg_config__read_registries(tg_config__ctx *x, const json_t *root)
{
	static const char *const known[] = { "auth", "insecure", "caFile",
		                             NULL };
	tg_config__key k;
	json_t *r = tg_config__get_map(x, root, NULL, "registries", &k, known);

	if (!r)
		return;
	tg_config__get_path(x, r, &k, "auth", false, &x->c->registries.auth);
	tg_config__get_path(x, r, &k, "caFile", false,
	                    &x->c->registries.ca_file);
	get_str_list(x, r, &k, "insecure", is_registry_host,
	             "a registry host[:port]", &x->c->registries.insecure,
	             &x->c->registries.ninsecure);
}

/* A JSON pointer (RFC 6901) as imagePaths uses: "/spec/template/spec". */
static bool is_json_pointer(const char *s)
{
	return s[0] == '/' && s[1] && !strstr(s, "//");
}

static bool is_kind_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static void read_image_path(tg_config__ctx *x,
                            const json_t *v,
                            const tg_config__key *k,
                            tg_config_image_path *ip)
{
	static const char *const known[] = { "group", "kind", "paths", NULL };
	tg_config__key ck;

	if (!json_is_object(v)) {
		tg_config__error(
		        x, k, TG_EINVALID,
		        "expected a mapping {group, kind, paths}, got %s",
		        tg_schema_type_name(v));
		return;
	}
	tg_config__check_keys(x, v, k, known);
	if (json_is_string(json_object_get(v, "group")) &&
	    !*json_string_value(json_object_get(v, "group")))
		ip->group = tg_strdup(""); /* core group */
	else
		tg_config__get_str(x, v, k, "group", false, &ip->group, &ck);
	if (tg_config__get_str(x, v, k, "kind", true, &ip->kind, &ck) &&
	    !is_kind_name(ip->kind))
		tg_config__error(x, &ck, TG_EINVALID,
		                 "\"%s\" is not a kind name", ip->kind);
	get_str_list(x, v, k, "paths", is_json_pointer,
	             "a JSON pointer such as /spec/template/spec", &ip->paths,
	             &ip->npaths);
	if (!ip->npaths && !json_is_array(json_object_get(v, "paths")))
		tg_config__error(x, k, TG_EINVALID,
		                 "missing required key \"paths\"");
}

void tg_config__read_image_paths(tg_config__ctx *x, const json_t *root)
{
	tg_config__key k, ek;
	json_t *arr = tg_config__member(x, root, NULL, "imagePaths",
	                                TG_SCHEMA_LIST, false, &k),
	       *v;
	size_t i;

	if (!arr)
		return;
	x->c->image_paths =
	        tg_calloc(json_array_size(arr) + 1, sizeof(*x->c->image_paths));
	json_array_foreach(arr, i, v) {
		tg_config__key_child(&ek, &k, NULL, i);
		read_image_path(x, v, &ek,
		                &x->c->image_paths[x->c->nimage_paths++]);
	}
}

static bool is_http_url(const char *s)
{
	return tg_str_has_prefix(s, "https://") ||
	       tg_str_has_prefix(s, "http://");
}

/* An HTTP header name: RFC 9110 token characters. */
static bool is_header_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) ||
		      strchr("!#$%&'*+-.^_`|~", *s)))
			return false;
	return true;
}

void tg_config__read_notify(tg_config__ctx *x, const json_t *root)
{
	static const char *const known[] = { "webhooks", NULL };
	static const char *const hook_keys[] = { "url", "header",
		                                 "headerValueFile", NULL };
	tg_config__key k, wk, ek, uk, hk;
	json_t *n = tg_config__get_map(x, root, NULL, "notify", &k, known),
	       *arr, *v;
	size_t i;

	if (!n || !(arr = tg_config__member(x, n, &k, "webhooks",
	                                    TG_SCHEMA_LIST, false, &wk)))
		return;
	x->c->notify.webhooks =
	        tg_calloc(json_array_size(arr) + 1, sizeof(tg_config_webhook));
	json_array_foreach(arr, i, v) {
		tg_config_webhook *w =
		        &x->c->notify.webhooks[x->c->notify.nwebhooks];

		tg_config__key_child(&ek, &wk, NULL, i);
		if (!json_is_object(v)) {
			tg_config__error(x, &ek, TG_EINVALID,
			                 "expected a mapping {url, header, "
			                 "headerValueFile}, got %s",
			                 tg_schema_type_name(v));
			continue;
		}
		tg_config__check_keys(x, v, &ek, hook_keys);
		if (!tg_config__get_str(x, v, &ek, "url", true, &w->url, &uk))
			continue;
		x->c->notify.nwebhooks++;
		if (!is_http_url(w->url))
			tg_config__error(
			        x, &uk, TG_EINVALID,
			        "\"%s\" must be an http:// or https:// URL",
			        w->url);
		if (tg_config__get_str(x, v, &ek, "header", false, &w->header,
		                       &hk) &&
		    !is_header_name(w->header))
			tg_config__error(x, &hk, TG_EINVALID,
			                 "\"%s\" is not an HTTP header name",
			                 w->header);
		tg_config__get_path(x, v, &ek, "headerValueFile", false,
		                    &w->header_value_file);
		if (!w->header != !w->header_value_file)
			tg_config__error(
			        x, &ek, TG_EINVALID,
			        "header and headerValueFile go together "
			        "(the value is read from the file, never "
			        "written here)");
	}
}
