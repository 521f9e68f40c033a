/*
 * The agent configuration, tollgate.yaml (DESIGN.md 3.2; every key, its
 * default and meaning are in README.md "Configuration").
 *
 * Loading is strict: an unknown key, a value of the wrong type or a bad
 * value is an error "<file>:<line>:<col>: <key path>: <what is wrong>" (all
 * errors of the file, one per line, in tg_error_last()). Relative paths are
 * resolved against the directory of the configuration file. Secrets are
 * never in the configuration itself, only paths of files holding them.
 *
 * The loaded configuration is plain read-only data: callers read the
 * fields, never change or free them one by one.
 */
#ifndef TOLLGATE_CONFIG_H
#define TOLLGATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tollgate/error.h"
#include "tollgate/manifest.h"
#include "tollgate/source.h"
#include "tollgate/status.h"

/* Bytes in a configuration file. */
#define TG_MAX_CONFIG_BYTES (1u * 1024 * 1024)

typedef enum {
	TG_DRIFT_CORRECT = 0, /* re-apply what drifted */
	TG_DRIFT_REPORT = 1,  /* only report it */
} tg_drift_mode;

/* imagePaths entry: where pod specs sit in objects of a custom kind. */
typedef struct tg_config_image_path {
	char *group; /* API group ("" = core); NULL matches any group */
	char *kind;
	char **paths; /* JSON pointers (RFC 6901) to pod specs */
	size_t npaths;
} tg_config_image_path;

typedef struct tg_config_webhook {
	char *url;
	char *header;            /* header name, NULL when unset */
	char *header_value_file; /* absolute path of its value */
} tg_config_webhook;

/* render.plugins entry (README.md "Rendering"). */
typedef struct tg_config_render_plugin {
	char *name;
	char **detect; /* file names that select the plugin in a unit */
	size_t ndetect;
	char **command; /* argv, run in the unit's directory */
	size_t ncommand;
	int64_t timeout; /* seconds */
} tg_config_render_plugin;

typedef struct tg_config {
	char *file; /* the configuration file, as given */
	char *dir;  /* its directory, absolute */
	struct {
		char *url; /* URL, or an absolute local path, or oci://... */
		bool oci;  /* url is oci://HOST[:PORT]/REPO:TAG or @sha256: */
		/* the artifact's layer media type (oci only; NULL = Flux's
		 * TG_OCI_SOURCE_FLUX_LAYER) */
		char *layer_media_type;
		char *branch;
		char *path;       /* "" = repository root */
		int64_t interval; /* seconds */
		char *ssh_key;    /* absolute paths below, NULL when unset */
		char *known_hosts;
		char *username;
		char *password_file;
		char *ca_file;
	} source;
	struct {
		/* a Git repository of its own for the status (required for an
		 * oci:// source); NULL: the source repository */
		char *url;
		char *ssh_key; /* status.auth, as source.auth */
		char *known_hosts;
		char *username;
		char *password_file;
		char *ca_file;
		char *branch;
		char *notes;
		char *author_name;
		char *author_email;
		bool push;
	} status;
	struct {
		char *kubeconfig; /* NULL: in-cluster service account */
		char *inventory_namespace;
		/* reservedNamespaces: no unit may write in them (the
		 * inventory namespace always is, listed or not) */
		char **reserved_namespaces;
		size_t nreserved_namespaces;
		/* the ValidatingAdmissionPolicy and its binding that make
		 * tollgate the only writer: no unit may write them */
		char *admission_policy;
		char *admission_policy_binding;
		/* clusterRoles, clusterRoleBindings: tollgate's own RBAC
		 * (default: deploy's tollgate-cluster and
		 * tollgate-namespaced); no unit may write them */
		char **cluster_roles;
		size_t ncluster_roles;
		char **cluster_role_bindings;
		size_t ncluster_role_bindings;
		tg_drift_mode drift;
		bool prune;
	} cluster;
	char *policy;
	struct {
		char *auth;      /* docker config.json, NULL when unset */
		char **insecure; /* "host[:port]" allowed over plain HTTP */
		size_t ninsecure;
		char *ca_file;
	} registries;
	char *state_dir;
	tg_config_image_path *image_paths;
	size_t nimage_paths;
	int64_t reverify_interval; /* seconds */
	struct {
		tg_config_webhook *webhooks;
		size_t nwebhooks;
	} notify;
	char *listen_addr; /* "host:port" of metrics/health; NULL = off */
	struct {
		/* render.kustomize.command; NULL: kustomize build, or
		 * kubectl kustomize when kustomize is not on PATH */
		char **kustomize_command;
		size_t nkustomize_command;
		int64_t kustomize_timeout; /* seconds */
		tg_config_render_plugin *plugins;
		size_t nplugins;
		/* render.parallel: renderers at once; 0: one per CPU */
		unsigned parallel;
	} render;
	/* sigstore.tuf: the Sigstore trust root kept current through TUF */
	struct {
		bool enabled;    /* sigstore.tuf is present */
		char *mirror;    /* base URL without a trailing '/' */
		char *root;      /* bootstrap root.json (absolute); NULL: the
		                    built-in public-good root */
		int64_t refresh; /* seconds */
	} tuf;
} tg_config;

/*
 * Read and check the configuration file at path. *out is owned by the
 * caller (tg_config_free). 0, TG_ENOTFOUND / TG_EIO (file), TG_EPARSE
 * (YAML), TG_EINVALID (unknown key, wrong type or bad value).
 */
int tg_config_load(tg_config **out, const char *path) TG_WUR;

/*
 * The same from bytes: name is used in messages and base_dir (absolute)
 * to resolve relative paths.
 */
int tg_config_parse(tg_config **out,
                    const char *name,
                    const char *data,
                    size_t len,
                    const char *base_dir) TG_WUR;

/* The source options of c (strings borrowed from c). */
void tg_config_source_opts(tg_source_opts *out, const tg_config *c);

/* The options of the status repository (status.url, status.auth, its
 * branch) as a Git source; url NULL when the status goes to the source
 * repository. Strings borrowed from c. */
void tg_config_status_repo_opts(tg_source_opts *out, const tg_config *c);

/* The status options of c (strings borrowed from c, no test hook). */
void tg_config_status_opts(tg_status_opts *out, const tg_config *c);

/* The configuration's imagePaths as the manifests stage takes them
 * (tg_manifest_options.image_paths): an array of c->nimage_paths entries
 * that point into c (free the array only), or NULL when there are none. */
tg_manifest_image_path *tg_config_manifest_image_paths(const tg_config *c);

void tg_config_free(tg_config *c);

#endif
