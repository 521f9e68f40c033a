/*
 * The render section of tollgate.yaml (DESIGN.md 3.2, README.md
 * "Rendering"): the kustomize command and timeout, and the render plugins
 * (name, detect, command, timeout). Commands are argv lists, never a
 * shell line: what runs is exactly what the file says.
 */
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

#define DEFAULT_PLUGIN_TIMEOUT_S 60

/* A plugin name: a DNS label, shown in messages as "unit (name)". */
static bool is_plugin_name(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* A detect entry: one plain file name, looked up in the unit directory. */
static bool is_file_name(const char *s)
{
	return *s && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/');
}

/*
 * A non-empty list of at most max non-empty strings into *out / *n
 * (NULL-terminated). ok, when set, checks each one.
 */
static void get_strv(tg_config__ctx *x,
                     const json_t *obj,
                     const tg_config__key *parent,
                     const char *name,
                     size_t max,
                     bool (*ok)(const char *),
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
	if (json_array_size(arr) == 0 || json_array_size(arr) > max) {
		tg_config__error(x, &k, TG_EINVALID,
		                 "expected 1 to %zu strings, got %zu", max,
		                 json_array_size(arr));
		return;
	}
	*out = tg_calloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach(arr, i, v) {
		tg_config__key_child(&ek, &k, NULL, i);
		if (!json_is_string(v) || !*json_string_value(v) ||
		    !tg_config__str_is_clean(json_string_value(v)) ||
		    (ok && !ok(json_string_value(v)))) {
			tg_config__error(x, &ek, TG_EINVALID,
			                 "expected a non-empty %s, got %s",
			                 ok ? "file name (no '/')" : "string",
			                 json_is_string(v)
			                         ? "an unusable string"
			                         : tg_schema_type_name(v));
			continue;
		}
		(*out)[(*n)++] = tg_strdup(json_string_value(v));
	}
}

static void
read_kustomize(tg_config__ctx *x, const json_t *r, const tg_config__key *rk)
{
	static const char *const known[] = { "command", "timeout", NULL };
	tg_config__key k;
	json_t *m = tg_config__get_map(x, r, rk, "kustomize", &k, known);

	if (!m)
		return;
	get_strv(x, m, &k, "command", TG_MAX_RENDER_ARGS, NULL,
	         &x->c->render.kustomize_command,
	         &x->c->render.nkustomize_command);
	tg_config__get_duration(x, m, &k, "timeout", 1,
	                        &x->c->render.kustomize_timeout);
}

/* Plugin i must not share its name with an earlier one (or kustomize). */
static void
check_plugin_name(tg_config__ctx *x, const tg_config__key *nk, size_t i)
{
	const tg_config_render_plugin *p = &x->c->render.plugins[i];
	size_t j;

	if (!strcmp(p->name, "kustomize")) {
		tg_config__error(x, nk, TG_EINVALID,
		                 "\"kustomize\" is built in; configure it "
		                 "under render.kustomize");
		return;
	}
	for (j = 0; j < i; j++)
		if (x->c->render.plugins[j].name &&
		    !strcmp(x->c->render.plugins[j].name, p->name))
			tg_config__error(x, nk, TG_EINVALID,
			                 "plugin \"%s\" is already defined "
			                 "(render.plugins[%zu])",
			                 p->name, j);
}

static void read_plugin(tg_config__ctx *x,
                        const json_t *v,
                        const tg_config__key *k,
                        size_t i)
{
	static const char *const known[] = { "name", "detect", "command",
		                             "timeout", NULL };
	tg_config_render_plugin *p = &x->c->render.plugins[i];
	tg_config__key nk;

	p->timeout = DEFAULT_PLUGIN_TIMEOUT_S;
	if (!json_is_object(v)) {
		tg_config__error(x, k, TG_EINVALID,
		                 "expected a mapping {name, detect, command, "
		                 "timeout}, got %s",
		                 tg_schema_type_name(v));
		return;
	}
	tg_config__check_keys(x, v, k, known);
	if (tg_config__get_str(x, v, k, "name", true, &p->name, &nk)) {
		if (!is_plugin_name(p->name))
			tg_config__error(x, &nk, TG_EINVALID,
			                 "\"%s\" is not a name (lowercase "
			                 "letters, digits and '-')",
			                 p->name);
		else
			check_plugin_name(x, &nk, i);
	}
	get_strv(x, v, k, "detect", TG_MAX_RENDER_ARGS, is_file_name,
	         &p->detect, &p->ndetect);
	get_strv(x, v, k, "command", TG_MAX_RENDER_ARGS, NULL, &p->command,
	         &p->ncommand);
	if (!json_object_get(v, "detect"))
		tg_config__error(x, k, TG_EINVALID,
		                 "missing required key \"detect\"");
	if (!json_object_get(v, "command"))
		tg_config__error(x, k, TG_EINVALID,
		                 "missing required key \"command\"");
	tg_config__get_duration(x, v, k, "timeout", 1, &p->timeout);
}

/* render.parallel: renderers run at once, 1..TG_MAX_RENDER_PARALLEL. */
static void
read_parallel(tg_config__ctx *x, const json_t *r, const tg_config__key *rk)
{
	tg_config__key k;
	json_t *v = tg_config__member(x, r, rk, "parallel", TG_SCHEMA_INTEGER,
	                              false, &k);

	if (!v)
		return;
	if (json_integer_value(v) < 1 ||
	    json_integer_value(v) > TG_MAX_RENDER_PARALLEL) {
		tg_config__error(x, &k, TG_EINVALID,
		                 "%lld renderers at once: must be 1 to %d "
		                 "(TG_MAX_RENDER_PARALLEL)",
		                 (long long)json_integer_value(v),
		                 TG_MAX_RENDER_PARALLEL);
		return;
	}
	x->c->render.parallel = (unsigned)json_integer_value(v);
}

void tg_config__read_render(tg_config__ctx *x, const json_t *root)
{
	static const char *const known[] = { "kustomize", "plugins", "parallel",
		                             NULL };
	tg_config__key k, pk, ek;
	json_t *r = tg_config__get_map(x, root, NULL, "render", &k, known);
	json_t *arr, *v;
	size_t i;

	if (!r)
		return;
	read_kustomize(x, r, &k);
	read_parallel(x, r, &k);
	arr = tg_config__member(x, r, &k, "plugins", TG_SCHEMA_LIST, false,
	                        &pk);
	if (!arr)
		return;
	if (json_array_size(arr) > TG_MAX_RENDER_PLUGINS) {
		tg_config__error(x, &pk, TG_EINVALID,
		                 "%zu plugins, over the limit of %d "
		                 "(TG_MAX_RENDER_PLUGINS)",
		                 json_array_size(arr), TG_MAX_RENDER_PLUGINS);
		return;
	}
	x->c->render.plugins = tg_calloc(json_array_size(arr) + 1,
	                                 sizeof(*x->c->render.plugins));
	json_array_foreach(arr, i, v) {
		tg_config__key_child(&ek, &pk, NULL, i);
		x->c->render.nplugins++;
		read_plugin(x, v, &ek, i);
	}
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void tg_config__free_render(tg_config *c)
{
	size_t i;

	free_strv(c->render.kustomize_command, c->render.nkustomize_command);
	for (i = 0; i < c->render.nplugins; i++) {
		free(c->render.plugins[i].name);
		free_strv(c->render.plugins[i].detect,
		          c->render.plugins[i].ndetect);
		free_strv(c->render.plugins[i].command,
		          c->render.plugins[i].ncommand);
	}
	free(c->render.plugins);
}
