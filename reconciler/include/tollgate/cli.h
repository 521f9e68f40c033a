/*
 * Command-line subcommands. Each tg_cmd_<name>() takes the arguments after
 * "tollgate" (argv[0] is the command name), parses them, calls the module
 * APIs and returns the process exit code.
 */
#ifndef TOLLGATE_CLI_H
#define TOLLGATE_CLI_H

#include <stdbool.h>

#include "tollgate/error.h"

enum {
	TG_EXIT_OK = 0,      /* done, nothing blocked */
	TG_EXIT_ERROR = 1,   /* config, I/O, network */
	TG_EXIT_USAGE = 2,   /* bad command line */
	TG_EXIT_BLOCKED = 3, /* at least one unit or image blocked */
};

typedef enum { TG_OUTPUT_TEXT, TG_OUTPUT_JSON } tg_output_format;

/* Options every command accepts. */
typedef struct tg_cli_common {
	tg_output_format output;
} tg_cli_common;

/*
 * If argv[*i] is a common option (--output, --log-format, --log-level, in
 * "--opt value" or "--opt=value" form), apply it, advance *i past it and
 * return 1; return 0 if it is not one; return -1 after printing a usage
 * error. Logging options take effect at once.
 */
TG_WUR int
tg_cli_common_option(tg_cli_common *c, int argc, char **argv, int *i);

/*
 * For "--name value" or "--name=value" at argv[*i]: set *value, advance *i
 * and return 1; 0 when argv[*i] is another option; -1 (after printing a
 * usage error) when the value is missing.
 */
TG_WUR int tg_cli_option_value(
        const char **value, const char *name, int argc, char **argv, int *i);

/* The renderer for `tollgate manifests` and `check`: the render section
 * of the configuration file config (NULL: defaults), no cache. */
struct tg_render;
TG_WUR int tg_cli_open_render(struct tg_render **out, const char *config);

/* The manifest set for `tollgate manifests` and `check`: the imagePaths
 * of the configuration file config (NULL: none, the agent's default),
 * file names after path_prefix. */
struct tg_manifest_set;
TG_WUR int tg_cli_manifest_set_new(struct tg_manifest_set **out,
                                   const char *config,
                                   const char *path_prefix);

/* The first lines of a unit in the text output of `check` and of a
 * cycle: "unit NAME: VERDICT (message)", then its errors, admission
 * refusals and workload findings, one line each. */
struct json_t;
void tg_cli_print_unit_head(const char *name, const struct json_t *u);

TG_WUR int tg_cmd_version(int argc, char **argv);
TG_WUR int tg_cmd_verify(int argc, char **argv);
/* tollgate manifests DIR: units, objects and images of a deploy tree. */
TG_WUR int tg_cmd_manifests(int argc, char **argv);
/* tollgate check --policy FILE DIR: scopes, workload rules (and with
 * --images the images) of a deploy tree, offline, for CI. */
TG_WUR int tg_cmd_check(int argc, char **argv);
TG_WUR int tg_cmd_once(int argc, char **argv);
TG_WUR int tg_cmd_plan(int argc, char **argv);
/* tollgate run --config FILE: reconcile until SIGTERM. */
TG_WUR int tg_cmd_run(int argc, char **argv);
/* sigstore verify-bundle: see reconciler/cli/cmd_sigstore.c. */
TG_WUR int tg_cmd_sigstore(int argc, char **argv);

#endif
