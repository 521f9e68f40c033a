/*
 * Internals of tollgate.yaml loading shared by config.c (the top level,
 * loading, freeing), config_walk.c (errors, key paths, typed members),
 * config_source.c (source and status) and config_cluster.c (cluster,
 * registries, imagePaths, notify). Each function's comment is at its
 * definition.
 */
#ifndef TOLLGATE_CONFIG_INT_H
#define TOLLGATE_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/config.h"
#include "tollgate/limits.h"
#include "tollgate/schema.h"
#include "tollgate/yaml.h"

/* The walk: the parsed file, where errors go, and the result. */
typedef struct tg_config__ctx {
	const tg_yaml_docs *docs;
	const char *name;
	const char *base_dir;
	tg_buf errors;
	int nerrors;
	int code;
	tg_config *c;
} tg_config__ctx;

/* A member being read: its JSON pointer (for positions) and its dotted
 * key path (for people). */
typedef struct tg_config__key {
	char ptr[TG_CONFIG_KEY_PATH_MAX];
	char path[TG_CONFIG_KEY_PATH_MAX];
} tg_config__key;

void tg_config__error(tg_config__ctx *x,
                      const tg_config__key *k,
                      int code,
                      const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));
void tg_config__key_child(tg_config__key *out,
                          const tg_config__key *parent,
                          const char *name,
                          size_t index);
void tg_config__check_keys(tg_config__ctx *x,
                           const json_t *obj,
                           const tg_config__key *k,
                           const char *const *known);
json_t *tg_config__member(tg_config__ctx *x,
                          const json_t *obj,
                          const tg_config__key *parent,
                          const char *name,
                          tg_schema_type t,
                          bool required,
                          tg_config__key *k);
bool tg_config__str_is_clean(const char *s);
const char *tg_config__get_str(tg_config__ctx *x,
                               const json_t *obj,
                               const tg_config__key *parent,
                               const char *name,
                               bool required,
                               char **out,
                               tg_config__key *k);
void tg_config__get_path(tg_config__ctx *x,
                         const json_t *obj,
                         const tg_config__key *parent,
                         const char *name,
                         bool required,
                         char **out);
void tg_config__get_bool(tg_config__ctx *x,
                         const json_t *obj,
                         const tg_config__key *parent,
                         const char *name,
                         bool *out);
void tg_config__get_duration(tg_config__ctx *x,
                             const json_t *obj,
                             const tg_config__key *parent,
                             const char *name,
                             int64_t min,
                             int64_t *out);
json_t *tg_config__get_map(tg_config__ctx *x,
                           const json_t *obj,
                           const tg_config__key *parent,
                           const char *name,
                           tg_config__key *k,
                           const char *const *known);
bool tg_config__is_host_port(const char *s, bool need_port);

void tg_config__read_source(tg_config__ctx *x, const json_t *root);
void tg_config__read_status(tg_config__ctx *x, const json_t *root);
void tg_config__read_cluster(tg_config__ctx *x, const json_t *root);
/* cluster.clusterRoles and clusterRoleBindings: deploy's names. */
void tg_config__default_rbac(tg_config *c);
void tg_config__read_registries(tg_config__ctx *x, const json_t *root);
void tg_config__read_image_paths(tg_config__ctx *x, const json_t *root);
void tg_config__read_notify(tg_config__ctx *x, const json_t *root);
void tg_config__read_render(tg_config__ctx *x, const json_t *root);
void tg_config__free_render(tg_config *c);
void tg_config__read_sigstore(tg_config__ctx *x, const json_t *root);
void tg_config__free_sigstore(tg_config *c);

#endif
