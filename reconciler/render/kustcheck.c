/*
 * The pre-check of kustomizations (tollgate/render.h): before kustomize
 * runs, every kustomization a unit reaches is read from the verified
 * commit, and every path it names is checked. kustomize itself would
 * fetch a remote base over the network (a URL, or "github.com/org/repo
 * //path?ref=v1" in go-getter form), read any absolute path on the
 * machine, run Helm for helmCharts, and run programs or containers for
 * KRM function and exec plugins; a committer could use each to render
 * content tollgate never verified, or to run code on the agent. So a
 * path must be relative, stay in the repository and exist in the commit,
 * and generators, transformers and validators must be built-in plugins.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "render_int.h"
#include "tollgate/buf.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

const char *const tg_render_kustomization_names[] = { "kustomization.yaml",
	                                              "kustomization.yml",
	                                              "Kustomization", NULL };

/* What a field's value must be. */
typedef enum { WANT_ANY, WANT_FILE, WANT_DIR } want_kind;

/* The walk over the kustomizations of one unit. */
typedef struct kwalk {
	const tg_render_fs *fs;
	tg_render__reach *reach;
	size_t nkust;
} kwalk;

/* One kustomization (or plugin configuration) being checked. */
typedef struct kfile {
	kwalk *w;
	const char *dir;  /* its directory, tree-relative */
	const char *file; /* its path, for messages */
	tg_yaml_docs *docs;
	size_t doc;
} kfile;

/* Built-in kustomize plugins that run no program (api/builtins); Helm's
 * inflation generator runs helm and is refused like helmCharts. */
static const char *const builtin_kinds[] = {
	"AnnotationsTransformer",
	"ConfigMapGenerator",
	"HashTransformer",
	"ImageTagTransformer",
	"LabelTransformer",
	"LegacyOrderTransformer",
	"NamespaceTransformer",
	"PatchJson6902Transformer",
	"PatchStrategicMergeTransformer",
	"PatchTransformer",
	"PrefixSuffixTransformer",
	"PrefixTransformer",
	"SuffixTransformer",
	"ReplacementTransformer",
	"ReplicaCountTransformer",
	"SecretGenerator",
	"SortOrderTransformer",
	"ValueAddTransformer",
	NULL,
};

static int kust_dir(kwalk *w, const char *dir);

/* "<file>:<line>: <field>: \"<value>\": <why>", as TG_EINVALID. */
static int refuse(const kfile *k,
                  const char *ptr,
                  const char *field,
                  const char *value,
                  const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));
static int refuse(const kfile *k,
                  const char *ptr,
                  const char *field,
                  const char *value,
                  const char *fmt,
                  ...)
{
	char why[512];
	unsigned line = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (k->docs)
		tg_yaml_docs_line_at(&line, NULL, k->docs, k->doc, ptr);
	if (value)
		return tg_error_set(TG_EINVALID, "%s:%u: %s: \"%.200s\": %s",
		                    k->file, line, field, value, why);
	return tg_error_set(TG_EINVALID, "%s:%u: %s: %s", k->file, line, field,
	                    why);
}

/* A reference kustomize would fetch instead of reading a local path. */
static bool looks_remote(const char *v)
{
	static const char *const prefixes[] = {
		"git@",           "git::", "ssh:",        "http:",
		"https:",         "file:", "github.com/", "gitlab.com/",
		"bitbucket.org/", "oci:",  NULL
	};
	size_t i;

	for (i = 0; prefixes[i]; i++)
		if (tg_str_has_prefix(v, prefixes[i]))
			return true;
	return strstr(v, "://") || strstr(v, "?ref=") ||
	       strstr(v, "?version=") || strstr(v, "//") || strchr(v, '?');
}

char *tg_render_path_join(const char *dir, const char *rel)
{
	tg_buf b;
	const char *c;
	char *last;

	tg_buf_init(&b, strlen(dir) + strlen(rel) + 2);
	/* sized for both: the appends cannot fail */
	tg_discard(tg_buf_puts(&b, dir));
	for (c = rel; *c;) {
		size_t n = strcspn(c, "/");

		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (!b.len) {
				tg_buf_free(&b);
				return NULL;
			}
			last = strrchr(b.data, '/');
			b.len = last ? (size_t)(last - b.data) : 0;
			b.data[b.len] = '\0';
		} else if (n && !(n == 1 && c[0] == '.')) {
			if (b.len)
				tg_discard(tg_buf_puts(&b, "/"));
			tg_discard(tg_buf_append(&b, c, n));
		}
		c += n + (c[n] == '/');
	}
	return tg_buf_detach(NULL, &b);
}

/* Check one path value; a directory of a resource is walked. */
static int check_path(const kfile *k,
                      const char *ptr,
                      const char *field,
                      const char *value,
                      want_kind want)
{
	tg_render_kind kind = TG_RENDER_MISSING;
	char id[TG_RENDER_ID_HEX] = "";
	char *path;
	int error;

	if (!*value)
		return refuse(k, ptr, field, value, "an empty path");
	if (looks_remote(value))
		return refuse(k, ptr, field, value,
		              "a URL or Git reference; tollgate renders only "
		              "files of the verified commit (vendor the base "
		              "into the repository)");
	if (value[0] == '/')
		return refuse(k, ptr, field, value,
		              "an absolute path; paths must be relative and "
		              "stay in the repository");
	if (!(path = tg_render_path_join(k->dir, value)))
		return refuse(k, ptr, field, value,
		              "the path leaves the repository");
	if ((error = k->w->fs->ops->stat(k->w->fs->ctx, path, &kind, id)) < 0) {
		error = refuse(k, ptr, field, value, "%s", tg_error_last());
	} else if (kind == TG_RENDER_MISSING) {
		error = refuse(k, ptr, field, value,
		               "%s does not exist in the commit", path);
	} else if (want == WANT_FILE && kind != TG_RENDER_FILE) {
		error = refuse(k, ptr, field, value, "is not a file");
	} else if (want == WANT_DIR && kind != TG_RENDER_DIR) {
		error = refuse(k, ptr, field, value, "is not a directory");
	} else if (kind == TG_RENDER_DIR) {
		error = kust_dir(k->w, path);
		if (error < 0)
			error = refuse(k, ptr, field, value, "%s",
			               tg_error_last());
	} else {
		tg_render__reach_add(k->w->reach, path, kind, id);
	}
	free(path);
	return error;
}

/* A list of path strings under key of obj (a string alone for env);
 * ptr and field name obj in the file and for people ("" at the top). */
static int check_list(const kfile *k,
                      const json_t *obj,
                      const char *ptr_base,
                      const char *field_base,
                      const char *key,
                      want_kind want,
                      bool inline_ok)
{
	json_t *v = json_object_get(obj, key), *e;
	char ptr[256], field[256];
	const char *dot = *field_base ? "." : "";
	size_t i;
	int error;

	if (!v || json_is_null(v))
		return 0;
	snprintf(ptr, sizeof(ptr), "%s/%s", ptr_base, key);
	snprintf(field, sizeof(field), "%s%s%s", field_base, dot, key);
	if (json_is_string(v) && !strcmp(key, "env"))
		return check_path(k, ptr, field, json_string_value(v), want);
	if (!json_is_array(v))
		return refuse(k, ptr, field, NULL, "expected a list");
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);

		snprintf(ptr, sizeof(ptr), "%s/%s/%zu", ptr_base, key, i);
		snprintf(field, sizeof(field), "%s%s%s[%zu]", field_base, dot,
		         key, i);
		if (!s)
			return refuse(k, ptr, field, NULL, "expected a string");
		if (inline_ok && (strchr(s, '\n') || s[0] == '{'))
			continue; /* an inline patch, not a path */
		if (!strcmp(key, "files") && strchr(s, '='))
			s = strchr(s, '=') + 1; /* "key=path" */
		if ((error = check_path(k, ptr, field, s, want)) < 0)
			return error;
	}
	return 0;
}

/* The "path" member of each mapping of the list under key (or of the
 * mapping under key itself, for openapi). */
static int
check_path_members(const kfile *k, const json_t *root, const char *key)
{
	json_t *v = json_object_get(root, key), *e;
	char ptr[256], field[256];
	size_t i;
	int error;

	if (json_is_object(v) && json_is_string(json_object_get(v, "path"))) {
		snprintf(ptr, sizeof(ptr), "/%s/path", key);
		snprintf(field, sizeof(field), "%s.path", key);
		return check_path(k, ptr, field,
		                  json_string_value(json_object_get(v, "path")),
		                  WANT_FILE);
	}
	if (!json_is_array(v))
		return 0;
	json_array_foreach(v, i, e) {
		json_t *p = json_object_get(e, "path");

		if (!json_is_string(p))
			continue;
		snprintf(ptr, sizeof(ptr), "/%s/%zu/path", key, i);
		snprintf(field, sizeof(field), "%s[%zu].path", key, i);
		if ((error = check_path(k, ptr, field, json_string_value(p),
		                        WANT_FILE)) < 0)
			return error;
	}
	return 0;
}

/* files, envs and env of each generator mapping under key. */
static int check_generators(const kfile *k, const json_t *root, const char *key)
{
	json_t *v = json_object_get(root, key), *e;
	char base[128], field[128];
	size_t i;
	int error;

	if (!json_is_array(v))
		return 0;
	json_array_foreach(v, i, e) {
		if (!json_is_object(e))
			continue;
		snprintf(base, sizeof(base), "/%s/%zu", key, i);
		snprintf(field, sizeof(field), "%s[%zu]", key, i);
		if ((error = check_list(k, e, base, field, "files", WANT_FILE,
		                        false)) < 0 ||
		    (error = check_list(k, e, base, field, "envs", WANT_FILE,
		                        false)) < 0 ||
		    (error = check_list(k, e, base, field, "env", WANT_FILE,
		                        false)) < 0)
			return error;
	}
	return 0;
}

static bool is_builtin_kind(const char *kind)
{
	size_t i;

	for (i = 0; kind && builtin_kinds[i]; i++)
		if (!strcmp(kind, builtin_kinds[i]))
			return true;
	return false;
}

/* One plugin configuration document: a built-in plugin, no function. */
static int check_plugin_doc(const kfile *k,
                            const json_t *doc,
                            const char *field,
                            const char *value)
{
	const char *api = json_string_value(json_object_get(doc, "apiVersion"));
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	json_t *ann = json_object_get(json_object_get(doc, "metadata"),
	                              "annotations");
	int error;

	if (json_object_get(ann, "config.kubernetes.io/function") ||
	    json_object_get(ann, "config.k8s.io/function"))
		return refuse(k, "", field, value,
		              "a KRM function (it runs a container or a "
		              "program); only kustomize's built-in plugins "
		              "are allowed");
	if (!api || strcmp(api, "builtin") || !is_builtin_kind(kind))
		return refuse(k, "", field, value,
		              "%s/%s is not one of kustomize's built-in "
		              "plugins (apiVersion: builtin); exec and Go "
		              "plugins run programs and are refused",
		              api ? api : "?", kind ? kind : "?");
	if ((error = check_list(k, doc, "", "", "paths", WANT_FILE, true)) <
	            0 ||
	    (error = check_list(k, doc, "", "", "files", WANT_FILE, false)) <
	            0 ||
	    (error = check_list(k, doc, "", "", "envs", WANT_FILE, false)) <
	            0 ||
	    (error = check_list(k, doc, "", "", "env", WANT_FILE, false)) < 0)
		return error;
	if (json_is_string(json_object_get(doc, "path")))
		return check_path(
		        k, "/path", "path",
		        json_string_value(json_object_get(doc, "path")),
		        WANT_FILE);
	return 0;
}

/* Every document of a plugin configuration (bytes of a file or inline). */
static int check_plugin_text(const kfile *k,
                             const char *name,
                             const char *data,
                             size_t len,
                             const char *field,
                             const char *value)
{
	kfile pk = *k;
	size_t i;
	int error = 0;

	pk.file = name;
	pk.doc = 0;
	if (tg_yaml_parse(&pk.docs, name, data, len, TG_YAML_POSITIONS) < 0)
		return refuse(k, "", field, value, "%s", tg_error_last());
	for (i = 0; i < tg_yaml_docs_count(pk.docs) && !error; i++) {
		json_t *d = tg_yaml_docs_get(pk.docs, i);

		pk.doc = i;
		if (d && !json_is_null(d))
			error = check_plugin_doc(&pk, d, field, value);
	}
	tg_yaml_docs_free(pk.docs);
	return error;
}

/* generators, transformers or validators: files (or inline documents) of
 * built-in plugin configurations. */
static int check_plugins(const kfile *k, const json_t *root, const char *key)
{
	json_t *v = json_object_get(root, key), *e;
	char ptr[128], field[128];
	size_t i;
	int error = 0;

	if (!json_is_array(v))
		return 0;
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);
		char *path = NULL, *data = NULL;
		size_t len = 0;

		snprintf(ptr, sizeof(ptr), "/%s/%zu", key, i);
		snprintf(field, sizeof(field), "%s[%zu]", key, i);
		if (!s)
			return refuse(k, ptr, field, NULL, "expected a string");
		if (strchr(s, '\n')) {
			error = check_plugin_text(k, k->file, s, strlen(s),
			                          field, NULL);
		} else if ((error = check_path(k, ptr, field, s, WANT_FILE)) ==
		           0) {
			/* check_path made sure it is a file in the tree */
			path = tg_render_path_join(k->dir, s);
			error = k->w->fs->ops->read(k->w->fs->ctx, path,
			                            TG_MAX_KUSTOMIZATION_BYTES,
			                            &data, &len);
			if (error == 0)
				error = check_plugin_text(k, path, data, len,
				                          field, s);
			else
				error = refuse(k, ptr, field, s, "%s",
				               tg_error_last());
		}
		free(path);
		free(data);
		if (error < 0)
			return error;
	}
	return 0;
}

/* Keys that make kustomize run Helm. */
static int check_refused_keys(const kfile *k, const json_t *root)
{
	static const char *const helm[] = { "helmCharts",
		                            "helmChartInflationGenerator",
		                            "helmGlobals", NULL };
	char ptr[64];
	size_t i;

	for (i = 0; helm[i]; i++) {
		if (!json_object_get(root, helm[i]))
			continue;
		snprintf(ptr, sizeof(ptr), "/%s", helm[i]);
		return refuse(k, ptr, helm[i], NULL,
		              "kustomize would run helm (and may pull charts "
		              "from the network); render charts with a render "
		              "plugin instead");
	}
	return 0;
}

/* Every field of one kustomization that names a path. */
static int check_fields(const kfile *k, const json_t *root)
{
	int error;

	if ((error = check_refused_keys(k, root)) < 0 ||
	    (error = check_list(k, root, "", "", "resources", WANT_ANY,
	                        false)) < 0 ||
	    (error = check_list(k, root, "", "", "bases", WANT_DIR, false)) <
	            0 ||
	    (error = check_list(k, root, "", "", "components", WANT_DIR,
	                        false)) < 0 ||
	    (error = check_list(k, root, "", "", "crds", WANT_FILE, false)) <
	            0 ||
	    (error = check_list(k, root, "", "", "configurations", WANT_FILE,
	                        false)) < 0 ||
	    (error = check_list(k, root, "", "", "patchesStrategicMerge",
	                        WANT_FILE, true)) < 0 ||
	    (error = check_path_members(k, root, "patches")) < 0 ||
	    (error = check_path_members(k, root, "patchesJson6902")) < 0 ||
	    (error = check_path_members(k, root, "replacements")) < 0 ||
	    (error = check_path_members(k, root, "openapi")) < 0 ||
	    (error = check_generators(k, root, "configMapGenerator")) < 0 ||
	    (error = check_generators(k, root, "secretGenerator")) < 0 ||
	    (error = check_plugins(k, root, "generators")) < 0 ||
	    (error = check_plugins(k, root, "transformers")) < 0 ||
	    (error = check_plugins(k, root, "validators")) < 0)
		return error;
	return 0;
}

int tg_render__kust_file(const char **name_out,
                         const tg_render_fs *fs,
                         const char *dir)
{
	tg_render_kind kind;
	char id[TG_RENDER_ID_HEX];
	size_t i;
	int error;

	*name_out = NULL;
	for (i = 0; tg_render_kustomization_names[i]; i++) {
		char *p = *dir ? tg_aprintf("%s/%s", dir,
		                            tg_render_kustomization_names[i])
		               : tg_strdup(tg_render_kustomization_names[i]);

		error = fs->ops->stat(fs->ctx, p, &kind, id);
		free(p);
		if (error < 0)
			return error;
		if (kind == TG_RENDER_FILE) {
			*name_out = tg_render_kustomization_names[i];
			return 0;
		}
	}
	return 0;
}

/* Read and check the kustomization of dir (and what it reaches). */
static int kust_read(kwalk *w, const char *dir, const char *name)
{
	kfile k = { w, dir, NULL, NULL, 0 };
	char *path = *dir ? tg_aprintf("%s/%s", dir, name) : tg_strdup(name);
	char *data = NULL;
	size_t len = 0;
	json_t *root;
	int error;

	k.file = path;
	if ((error = w->fs->ops->read(w->fs->ctx, path,
	                              TG_MAX_KUSTOMIZATION_BYTES, &data,
	                              &len)) < 0 ||
	    (error = tg_yaml_parse(&k.docs, path, data, len,
	                           TG_YAML_POSITIONS)) < 0)
		goto out;
	root = tg_yaml_docs_count(k.docs) == 1 ? tg_yaml_docs_get(k.docs, 0)
	                                       : NULL;
	if (!json_is_object(root))
		error = tg_error_set(TG_EINVALID,
		                     "%s: expected one YAML document holding "
		                     "a mapping",
		                     path);
	else
		error = check_fields(&k, root);
out:
	tg_yaml_docs_free(k.docs);
	free(data);
	free(path);
	return error;
}

/* The kustomization directory dir: recorded once, then checked. */
static int kust_dir(kwalk *w, const char *dir)
{
	tg_render_kind kind;
	char id[TG_RENDER_ID_HEX] = "";
	const char *name = NULL;
	size_t i;
	int error;

	for (i = 0; i < w->reach->n; i++)
		if (w->reach->v[i].kind == TG_RENDER_DIR &&
		    !strcmp(w->reach->v[i].path, dir))
			return 0; /* reached before (kustomize finds cycles) */
	if (++w->nkust > TG_MAX_KUSTOMIZATIONS)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: more than %d kustomizations reached "
		                    "(TG_MAX_KUSTOMIZATIONS)",
		                    dir, TG_MAX_KUSTOMIZATIONS);
	if ((error = w->fs->ops->stat(w->fs->ctx, dir, &kind, id)) < 0 ||
	    (error = tg_render__kust_file(&name, w->fs, dir)) < 0)
		return error;
	if (!name)
		return tg_error_set(TG_EINVALID,
		                    "%s/: no kustomization.yaml, "
		                    "kustomization.yml or Kustomization in it",
		                    *dir ? dir : ".");
	tg_render__reach_add(w->reach, dir, TG_RENDER_DIR, id);
	return kust_read(w, dir, name);
}

int tg_render__kust_check(tg_render__reach *out,
                          const tg_render_fs *fs,
                          const char *dir)
{
	kwalk w = { fs, out, 0 };

	return kust_dir(&w, dir);
}

void tg_render__reach_add(tg_render__reach *r,
                          const char *path,
                          tg_render_kind kind,
                          const char *id)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->v[i].kind == kind && !strcmp(r->v[i].path, path))
			return;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->v = tg_realloc(r->v, r->cap * sizeof(*r->v));
	}
	r->v[r->n].path = tg_strdup(path);
	r->v[r->n].kind = kind;
	tg_strlcpy(r->v[r->n].id, id, sizeof(r->v[r->n].id));
	r->n++;
}

void tg_render__reach_free(tg_render__reach *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->v[i].path);
	free(r->v);
	memset(r, 0, sizeof(*r));
}
