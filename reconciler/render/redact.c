/*
 * Redacting a failed renderer's stderr (tollgate/render.h, DESIGN.md 5:
 * never quote a Secret's value). The stderr of a renderer goes into the
 * unit's error: the log, status.json, STATUS.md, the status commit and
 * the notes. A renderer may print what it read (kustomize quotes
 * documents in some errors; a plugin may print anything), so before the
 * message is kept, every text the unit's private tree or the renderer's
 * output holds as a Secret value is masked:
 *   - data (as written, and decoded) and stringData of every Secret
 *     object (and Secrets in List items) in every YAML/JSON file;
 *   - literals, and the contents of files, envs and env, of every
 *     secretGenerator of a kustomization and every SecretGenerator
 *     plugin configuration;
 *   - in a YAML file that does not parse and mentions "Secret", the
 *     value part of every indented "key: value" line.
 * Each value is masked line by line (so a PEM key printed in part is
 * still masked), as written and in base64; pieces shorter than
 * REDACT_MIN are too short to mask without destroying the message and
 * carry little of a secret. stderr is cut to the length shown first,
 * and a value cut there is masked from where it starts.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "render_int.h"
#include "tollgate/buf.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

#define REDACT_MIN 4
#define REDACTED "[redacted]"
/* Directory depth of the private tree walked (the tree is written by
 * tollgate, so this only bounds the recursion). */
#define REDACT_MAX_DEPTH 64
/* Values collected for one unit; more are not kept. */
#define REDACT_MAX_VALUES 100000

typedef struct secrets {
	char **v;
	size_t n, cap;
	const char *top; /* the private tree, absolute */
} secrets;

static void add_piece(secrets *s, const char *p, size_t len)
{
	while (len && (*p == ' ' || *p == '\t' || *p == '"' || *p == '\'')) {
		p++;
		len--;
	}
	while (len &&
	       (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r' ||
	        p[len - 1] == '"' || p[len - 1] == '\''))
		len--;
	if (len < REDACT_MIN || s->n >= REDACT_MAX_VALUES)
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = tg_realloc(s->v, s->cap * sizeof(char *));
	}
	s->v[s->n++] = tg_strndup(p, len);
}

/* A value: each of its lines, and the whole of it in base64. */
static void add_value(secrets *s, const char *v, size_t len)
{
	const char *p = v, *end = v + len, *nl;
	char *b64;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		add_piece(s, p, (size_t)((nl ? nl : end) - p));
		p = nl ? nl + 1 : end;
	}
	if (len) {
		b64 = tg_base64_encode((const unsigned char *)v, len);
		add_piece(s, b64, strlen(b64));
		free(b64);
	}
}

/* Every string of the object o: as written, and base64-decoded when
 * decode says so and it decodes. */
static void add_strings(secrets *s, json_t *o, bool decode)
{
	const char *key;
	json_t *v;
	unsigned char *raw;
	size_t n;

	json_object_foreach(o, key, v) {
		if (!json_is_string(v))
			continue;
		add_value(s, json_string_value(v), json_string_length(v));
		if (decode && tg_base64_decode(&raw, &n, json_string_value(v),
		                               json_string_length(v)) == 0) {
			add_value(s, (const char *)raw, n);
			free(raw);
		}
		tg_error_clear();
	}
}

/* The file rel (relative to the directory dir of the tree): whole, or
 * for an env file the value of each KEY=VALUE line. */
static void add_file(secrets *s, const char *dir, const char *rel, bool env)
{
	char *p = tg_render_path_join(dir, rel), *full, *data = NULL;
	char *line, *save = NULL, *eq;
	size_t len = 0;

	if (!p)
		return;
	full = tg_path_join(s->top, p);
	if (tg_file_read(&data, &len, full, TG_MAX_FILE_BYTES) == 0 && !env)
		add_value(s, data, len);
	for (line = env && data ? strtok_r(data, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		if (*line != '#' && (eq = strchr(line, '=')) != NULL)
			add_value(s, eq + 1, strlen(eq + 1));
	tg_error_clear();
	free(data);
	free(full);
	free(p);
}

/* "key=path" or "path" of a generator's files. */
static const char *file_part(const char *s)
{
	const char *eq = strchr(s, '=');

	return eq ? eq + 1 : s;
}

/* One secretGenerator entry (or SecretGenerator configuration) of a
 * file in the directory dir. */
static void add_generator(secrets *s, json_t *g, const char *dir)
{
	json_t *v, *env = json_object_get(g, "env");
	const char *eq;
	size_t i;

	json_array_foreach(json_object_get(g, "literals"), i, v)
		if (json_is_string(v) &&
		    (eq = strchr(json_string_value(v), '=')) != NULL)
			add_value(s, eq + 1, strlen(eq + 1));
	json_array_foreach(json_object_get(g, "files"), i, v)
		if (json_is_string(v))
			add_file(s, dir, file_part(json_string_value(v)),
			         false);
	json_array_foreach(json_object_get(g, "envs"), i, v)
		if (json_is_string(v))
			add_file(s, dir, json_string_value(v), true);
	if (json_is_string(env))
		add_file(s, dir, json_string_value(env), true);
}

static void add_doc(secrets *s, json_t *doc, const char *dir, int depth)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	json_t *v;
	size_t i;

	if (!json_is_object(doc) || depth > 2)
		return;
	if (kind && !strcmp(kind, "Secret")) {
		add_strings(s, json_object_get(doc, "data"), true);
		add_strings(s, json_object_get(doc, "stringData"), false);
	}
	if (kind && !strcmp(kind, "SecretGenerator"))
		add_generator(s, doc, dir);
	json_array_foreach(json_object_get(doc, "secretGenerator"), i, v)
		add_generator(s, v, dir);
	json_array_foreach(json_object_get(doc, "items"), i, v)
		add_doc(s, v, dir, depth + 1);
}

/* A file that does not parse but mentions Secret: every value part. */
static void add_broken(secrets *s, const char *data, size_t len)
{
	const char *p = data, *end = data + len, *nl, *colon;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		colon = memchr(p, ':', (size_t)(nl - p));
		/* values are nested (data:, stringData:); the top level
		 * is kind:, apiVersion: and the like */
		if (colon && (*p == ' ' || *p == '\t'))
			add_piece(s, colon + 1, (size_t)(nl - colon - 1));
		p = nl + 1;
	}
}

/* The YAML stream data of a file in the directory dir. */
static void add_yaml(secrets *s, const char *data, size_t len, const char *dir)
{
	tg_yaml_docs *docs = NULL;
	size_t i;

	if (tg_yaml_parse(&docs, "render", data, len, 0) < 0) {
		tg_error_clear();
		if (memmem(data, len, "Secret", 6))
			add_broken(s, data, len);
		return;
	}
	for (i = 0; i < tg_yaml_docs_count(docs); i++)
		add_doc(s, tg_yaml_docs_get(docs, i), dir, 0);
	tg_yaml_docs_free(docs);
}

static bool yaml_name(const char *name)
{
	const char *dot = strrchr(name, '.');

	return !strcmp(name, "Kustomization") ||
	       (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml") ||
	                !strcmp(dot, ".json")));
}

/* A regular file rel of the tree: read as YAML when its name says so. */
static void scan_file(secrets *s, const char *rel, const char *dir)
{
	char *full = tg_path_join(s->top, rel), *data = NULL;
	size_t len = 0;

	if (tg_file_read(&data, &len, full, TG_MAX_FILE_BYTES) == 0)
		add_yaml(s, data, len, dir);
	tg_error_clear();
	free(data);
	free(full);
}

/* Every file under the tree-relative directory rel ("" the top). */
static void scan_dir(secrets *s, const char *rel, int depth)
{
	char *full = *rel ? tg_path_join(s->top, rel) : tg_strdup(s->top);
	DIR *d = depth < REDACT_MAX_DEPTH ? opendir(full) : NULL;
	struct dirent *e;
	struct stat st;

	while (d && (e = readdir(d)) != NULL) {
		char *p, *fp;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = *rel ? tg_path_join(rel, e->d_name) : tg_strdup(e->d_name);
		fp = tg_path_join(s->top, p);
		if (lstat(fp, &st) < 0)
			;
		else if (S_ISDIR(st.st_mode))
			scan_dir(s, p, depth + 1);
		else if (S_ISREG(st.st_mode) && yaml_name(e->d_name))
			scan_file(s, p, rel);
		free(fp);
		free(p);
	}
	if (d)
		closedir(d);
	free(full);
}

static int longest_first(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

/* msg with every occurrence of v replaced (a new string). */
static char *mask_one(char *msg, const char *v)
{
	size_t vl = strlen(v);
	char *hit = strstr(msg, v), *p = msg;
	tg_buf b;

	if (!hit)
		return msg;
	tg_buf_init(&b, (size_t)TG_MAX_RENDER_STDERR * 8);
	for (; hit; p = hit + vl, hit = strstr(p, v)) {
		tg_discard(tg_buf_append(&b, p, (size_t)(hit - p)));
		tg_discard(tg_buf_append(&b, REDACTED, strlen(REDACTED)));
	}
	tg_discard(tg_buf_append(&b, p, strlen(p)));
	free(msg);
	return tg_buf_detach(NULL, &b);
}

/* A message cut at the cap may end with the start of a value: that
 * start is masked too (a new string). */
static char *mask_tail(char *msg, const char *v)
{
	size_t ml = strlen(msg), vl = strlen(v), k;
	char *out;

	for (k = vl - 1 < ml ? vl - 1 : ml; k >= REDACT_MIN; k--) {
		if (!memcmp(msg + ml - k, v, k)) {
			msg[ml - k] = '\0';
			out = tg_aprintf("%s%s", msg, REDACTED);
			free(msg);
			return out;
		}
	}
	return msg;
}

char *tg_render__redact(const char *err,
                        size_t max,
                        const char *top,
                        const char *out,
                        size_t out_len)
{
	secrets s = { NULL, 0, 0, top };
	char *msg = tg_strdup(err ? err : "");
	bool cut = strlen(msg) > max;
	size_t i;

	if (cut)
		msg[max] = '\0';

	if (top)
		scan_dir(&s, "", 0);
	if (out && out_len)
		add_yaml(&s, out, out_len, "");
	if (s.n)
		tg_qsort(s.v, s.n, sizeof(char *), longest_first);
	for (i = 0; i < s.n; i++) {
		msg = mask_one(msg, s.v[i]);
		if (cut)
			msg = mask_tail(msg, s.v[i]);
	}
	for (i = 0; i < s.n; i++)
		free(s.v[i]);
	free(s.v);
	return msg;
}
