/*
 * tollgate.yaml: parse with positions, then walk a fixed schema. Every
 * member is checked for a known name and the right type; every error names
 * file:line:col of the key and the dotted key path, so a mistyped key
 * ("brnach") is found before the agent runs with a default instead.
 * This file holds the top level, loading and freeing; the walk's building
 * blocks are in config_walk.c, the sections in config_source.c and
 * config_cluster.c (shared through config_int.h).
 */
#include <limits.h>
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

/* Defaults (README.md "Configuration"). */
#define DEFAULT_BRANCH "main"
#define DEFAULT_INTERVAL_S 30
#define DEFAULT_STATUS_BRANCH "tollgate/status"
#define DEFAULT_NOTES_REF "refs/notes/tollgate"
#define DEFAULT_AUTHOR_NAME "tollgate"
#define DEFAULT_AUTHOR_EMAIL "tollgate@cluster.local"
#define DEFAULT_INVENTORY_NS "tollgate-system"
/* The ValidatingAdmissionPolicy and binding of
 * deploy/kubernetes/admission.yaml. */
#define DEFAULT_ADMISSION_POLICY "tollgate-sole-writer"
#define DEFAULT_STATE_DIR "/var/lib/tollgate"
#define DEFAULT_REVERIFY_S 3600
#define DEFAULT_RENDER_TIMEOUT_S 60

/* An OCI source has no Git repository to hold the status: it needs
 * status.url (DESIGN.md 3.2). */
static void check_status_repo(tg_config__ctx *x)
{
	tg_config__key k, uk;

	if (!x->c->source.oci || x->c->status.url)
		return;
	tg_config__key_child(&k, NULL, "source", 0);
	tg_config__key_child(&uk, &k, "url", 0);
	tg_config__error(x, &uk, TG_EINVALID,
	                 "an oci:// source needs status.url: a Git "
	                 "repository for the status commits");
}

static void read_top(tg_config__ctx *x, const json_t *root)
{
	static const char *const known[] = {
		"source",     "status",     "cluster",
		"policy",     "registries", "stateDir",
		"imagePaths", "notify",     "reverifyInterval",
		"listenAddr", "render",     "sigstore",
		NULL
	};
	tg_config__key k;

	tg_config__check_keys(x, root, NULL, known);
	tg_config__read_source(x, root);
	tg_config__read_status(x, root);
	tg_config__read_cluster(x, root);
	tg_config__get_path(x, root, NULL, "policy", true, &x->c->policy);
	tg_config__read_registries(x, root);
	tg_config__get_path(x, root, NULL, "stateDir", false, &x->c->state_dir);
	tg_config__read_image_paths(x, root);
	tg_config__read_notify(x, root);
	tg_config__read_render(x, root);
	tg_config__read_sigstore(x, root);
	tg_config__get_duration(x, root, NULL, "reverifyInterval", 1,
	                        &x->c->reverify_interval);
	if (tg_config__get_str(x, root, NULL, "listenAddr", false,
	                       &x->c->listen_addr, &k) &&
	    !tg_config__is_host_port(x->c->listen_addr, true))
		tg_config__error(
		        x, &k, TG_EINVALID,
		        "\"%s\" is not host:port (e.g. 127.0.0.1:9090 or "
		        ":9090)",
		        x->c->listen_addr);
	check_status_repo(x);
	if (!x->c->source.oci && !x->c->status.url && x->c->source.branch &&
	    x->c->status.branch &&
	    !strcmp(x->c->source.branch, x->c->status.branch)) {
		tg_config__key_child(&k, NULL, "status", 0);
		tg_config__error(
		        x, &k, TG_EINVALID,
		        "status.branch must differ from source.branch "
		        "(\"%s\"): the status branch has its own history",
		        x->c->status.branch);
	}
}

static tg_config *config_defaults(const char *name, const char *base_dir)
{
	tg_config *c = tg_calloc(1, sizeof(*c));

	c->file = tg_strdup(name);
	c->dir = tg_strdup(base_dir);
	c->source.branch = tg_strdup(DEFAULT_BRANCH);
	c->source.path = tg_strdup("");
	c->source.interval = DEFAULT_INTERVAL_S;
	c->status.branch = tg_strdup(DEFAULT_STATUS_BRANCH);
	c->status.notes = tg_strdup(DEFAULT_NOTES_REF);
	c->status.author_name = tg_strdup(DEFAULT_AUTHOR_NAME);
	c->status.author_email = tg_strdup(DEFAULT_AUTHOR_EMAIL);
	c->status.push = true;
	c->cluster.inventory_namespace = tg_strdup(DEFAULT_INVENTORY_NS);
	c->cluster.admission_policy = tg_strdup(DEFAULT_ADMISSION_POLICY);
	c->cluster.admission_policy_binding =
	        tg_strdup(DEFAULT_ADMISSION_POLICY);
	tg_config__default_rbac(c);
	c->cluster.drift = TG_DRIFT_CORRECT;
	c->cluster.prune = true;
	c->state_dir = tg_strdup(DEFAULT_STATE_DIR);
	c->reverify_interval = DEFAULT_REVERIFY_S;
	c->render.kustomize_timeout = DEFAULT_RENDER_TIMEOUT_S;
	return c;
}

int tg_config_parse(tg_config **out,
                    const char *name,
                    const char *data,
                    size_t len,
                    const char *base_dir)
{
	tg_config__ctx x = { 0 };
	tg_yaml_docs *docs = NULL;
	json_t *root;
	int error;

	*out = NULL;
	if ((error = tg_yaml_parse(&docs, name, data, len, TG_YAML_POSITIONS)) <
	    0)
		return error;
	x.docs = docs;
	x.name = name;
	x.base_dir = base_dir;
	x.c = config_defaults(name, base_dir);
	tg_buf_init(&x.errors, TG_ERROR_MAX);
	root = tg_yaml_docs_count(docs) ? tg_yaml_docs_get(docs, 0) : NULL;
	if (tg_yaml_docs_count(docs) != 1 || !json_is_object(root))
		tg_config__error(
		        &x, NULL, TG_EINVALID,
		        "expected one YAML document holding a mapping");
	else
		read_top(&x, root);
	if (x.nerrors) {
		if (x.nerrors > TG_CONFIG_MAX_ERRORS)
			/* cut short by TG_ERROR_MAX like the messages */
			tg_discard(tg_buf_printf(
			        &x.errors, "\n... and %d more errors",
			        x.nerrors - TG_CONFIG_MAX_ERRORS));
		error = tg_error_set(x.code, "%s", x.errors.data);
		tg_config_free(x.c);
	} else {
		*out = x.c;
	}
	tg_buf_free(&x.errors);
	tg_yaml_docs_free(docs);
	return error;
}

/* The absolute directory of a file path, for resolving relative paths. */
static int config_dir(char **out, const char *path)
{
	char *copy = tg_strdup(path), *slash = strrchr(copy, '/');
	char resolved[PATH_MAX];
	int error = 0;

	if (slash == copy)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	if (!realpath(slash ? copy : ".", resolved))
		error = tg_error_set(TG_EIO, "%s: cannot resolve its directory",
		                     path);
	else
		*out = tg_strdup(resolved);
	free(copy);
	return error;
}

int tg_config_load(tg_config **out, const char *path)
{
	char *data = NULL, *dir = NULL;
	size_t len = 0;
	int error;

	*out = NULL;
	if ((error = tg_file_read(&data, &len, path, TG_MAX_CONFIG_BYTES)) < 0)
		return error;
	if ((error = config_dir(&dir, path)) == 0)
		error = tg_config_parse(out, path, data, len, dir);
	free(data);
	free(dir);
	return error;
}

void tg_config_source_opts(tg_source_opts *out, const tg_config *c)
{
	memset(out, 0, sizeof(*out));
	out->url = c->source.url;
	out->branch = c->source.branch;
	out->path = c->source.path;
	out->state_dir = c->state_dir;
	out->ssh_key = c->source.ssh_key;
	out->known_hosts = c->source.known_hosts;
	out->username = c->source.username;
	out->password_file = c->source.password_file;
	out->ca_file = c->source.ca_file;
}

void tg_config_status_repo_opts(tg_source_opts *out, const tg_config *c)
{
	memset(out, 0, sizeof(*out));
	out->url = c->status.url;
	out->branch = c->status.branch;
	out->path = "";
	out->state_dir = c->state_dir;
	out->ssh_key = c->status.ssh_key;
	out->known_hosts = c->status.known_hosts;
	out->username = c->status.username;
	out->password_file = c->status.password_file;
	out->ca_file = c->status.ca_file;
}

void tg_config_status_opts(tg_status_opts *out, const tg_config *c)
{
	memset(out, 0, sizeof(*out));
	out->branch = c->status.branch;
	out->notes_ref = c->status.notes;
	out->author_name = c->status.author_name;
	out->author_email = c->status.author_email;
	out->push = c->status.push;
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

tg_manifest_image_path *tg_config_manifest_image_paths(const tg_config *c)
{
	tg_manifest_image_path *ip;
	size_t i;

	if (c->nimage_paths == 0)
		return NULL;
	ip = tg_calloc(c->nimage_paths, sizeof(*ip));
	for (i = 0; i < c->nimage_paths; i++) {
		ip[i].group = c->image_paths[i].group;
		ip[i].kind = c->image_paths[i].kind;
		ip[i].paths = (const char *const *)c->image_paths[i].paths;
		ip[i].npaths = c->image_paths[i].npaths;
	}
	return ip;
}

void tg_config_free(tg_config *c)
{
	size_t i;

	if (!c)
		return;
	free(c->file);
	free(c->dir);
	free(c->source.url);
	free(c->source.branch);
	free(c->source.path);
	free(c->source.ssh_key);
	free(c->source.known_hosts);
	free(c->source.username);
	free(c->source.password_file);
	free(c->source.ca_file);
	free(c->source.layer_media_type);
	free(c->status.url);
	free(c->status.ssh_key);
	free(c->status.known_hosts);
	free(c->status.username);
	free(c->status.password_file);
	free(c->status.ca_file);
	free(c->status.branch);
	free(c->status.notes);
	free(c->status.author_name);
	free(c->status.author_email);
	free(c->cluster.kubeconfig);
	free(c->cluster.inventory_namespace);
	free_strv(c->cluster.reserved_namespaces,
	          c->cluster.nreserved_namespaces);
	free(c->cluster.admission_policy);
	free(c->cluster.admission_policy_binding);
	free_strv(c->cluster.cluster_roles, c->cluster.ncluster_roles);
	free_strv(c->cluster.cluster_role_bindings,
	          c->cluster.ncluster_role_bindings);
	free(c->policy);
	free(c->registries.auth);
	free_strv(c->registries.insecure, c->registries.ninsecure);
	free(c->registries.ca_file);
	free(c->state_dir);
	for (i = 0; i < c->nimage_paths; i++) {
		free(c->image_paths[i].group);
		free(c->image_paths[i].kind);
		free_strv(c->image_paths[i].paths, c->image_paths[i].npaths);
	}
	free(c->image_paths);
	for (i = 0; i < c->notify.nwebhooks; i++) {
		free(c->notify.webhooks[i].url);
		free(c->notify.webhooks[i].header);
		free(c->notify.webhooks[i].header_value_file);
	}
	free(c->notify.webhooks);
	free(c->listen_addr);
	tg_config__free_render(c);
	tg_config__free_sigstore(c);
	free(c);
}
