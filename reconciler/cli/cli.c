/* Shared command-line helpers and the version command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <git2.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <yaml.h>

#include "tollgate/cli.h"
#include "tollgate/config.h"
#include "tollgate/manifest.h"
#include "tollgate/render.h"
#include "tollgate/util.h"
#include "tollgate/log.h"

int tg_cli_option_value(
        const char **value, const char *name, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);

	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return 1;
	}
	if (arg[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "tollgate: %s needs a value\n", name);
		return -1;
	}
	*value = argv[++*i];
	return 1;
}

int tg_cli_common_option(tg_cli_common *c, int argc, char **argv, int *i)
{
	const char *v = NULL;
	int r;

	if ((r = tg_cli_option_value(&v, "--output", argc, argv, i)) != 0) {
		if (r < 0)
			return -1;
		if (!strcmp(v, "text"))
			c->output = TG_OUTPUT_TEXT;
		else if (!strcmp(v, "json"))
			c->output = TG_OUTPUT_JSON;
		else
			goto bad;
		return 1;
	}
	if ((r = tg_cli_option_value(&v, "--log-format", argc, argv, i)) != 0) {
		if (r < 0)
			return -1;
		if (!strcmp(v, "text"))
			tg_log_set_handler(tg_log_text_handler, NULL);
		else if (!strcmp(v, "json"))
			tg_log_set_handler(tg_log_json_handler, NULL);
		else
			goto bad;
		return 1;
	}
	if ((r = tg_cli_option_value(&v, "--log-level", argc, argv, i)) != 0) {
		tg_log_level level;

		if (r < 0)
			return -1;
		if (tg_log_parse_level(&level, v) < 0)
			goto bad;
		tg_log_set_level(level);
		return 1;
	}
	return 0;
bad:
	fprintf(stderr, "tollgate: bad value \"%s\" for %s\n", v, argv[*i]);
	return -1;
}

int tg_cmd_version(int argc, char **argv)
{
	int major, minor, rev;

	(void)argc;
	(void)argv;
	git_libgit2_version(&major, &minor, &rev);
	printf("tollgate %s\n", TOLLGATE_VERSION);
	printf("libgit2 %d.%d.%d, %s, curl %s, jansson %s, libyaml %s\n", major,
	       minor, rev, OpenSSL_version(OPENSSL_VERSION),
	       curl_version_info(CURLVERSION_NOW)->version,
	       jansson_version_str(), yaml_get_version_string());
	return TG_EXIT_OK;
}

int tg_cli_open_render(tg_render **out, const char *config)
{
	tg_render_options ro = { 0 };
	tg_config *c = NULL;
	int error;

	*out = NULL;
	if (config && (error = tg_config_load(&c, config)) < 0)
		return error;
	if (c) {
		ro.kustomize_command =
		        (const char *const *)c->render.kustomize_command;
		ro.nkustomize_command = c->render.nkustomize_command;
		ro.kustomize_timeout = c->render.kustomize_timeout;
		ro.plugins = c->render.plugins;
		ro.nplugins = c->render.nplugins;
		ro.parallel = c->render.parallel;
	}
	error = tg_render_new(out, &ro);
	tg_config_free(c);
	return error;
}

int tg_cli_manifest_set_new(tg_manifest_set **out,
                            const char *config,
                            const char *path_prefix)
{
	tg_manifest_options mo = { 0 };
	tg_manifest_image_path *ip = NULL;
	tg_config *c = NULL;
	int error;

	*out = NULL;
	if (config && (error = tg_config_load(&c, config)) < 0)
		return error;
	if (c && (ip = tg_config_manifest_image_paths(c)) != NULL) {
		mo.image_paths = ip;
		mo.nimage_paths = c->nimage_paths;
	}
	mo.path_prefix = path_prefix;
	error = tg_manifest_set_new(out, &mo); /* copies the paths */
	free(ip);
	tg_config_free(c);
	return error;
}

void tg_cli_print_unit_head(const char *name, const json_t *u)
{
	const char *msg = json_string_value(json_object_get(u, "message"));
	const json_t *x;
	size_t i;

	printf("unit %s: %s%s%s%s\n", name,
	       json_string_value(json_object_get(u, "verdict")),
	       msg ? " (" : "", msg ? msg : "", msg ? ")" : "");
	json_array_foreach(json_object_get(u, "errors"), i, x)
		printf("  error: %s\n", json_string_value(x));
	json_array_foreach(json_object_get(u, "admission"), i, x)
		printf("  not admitted: %s\n", json_string_value(x));
	json_array_foreach(json_object_get(u, "workloads"), i, x)
		printf("  workload (%s): %s\n",
		       json_object_get(x, "waivedBy")
		               ? "waived"
		               : json_string_value(json_object_get(x, "mode")),
		       json_string_value(json_object_get(x, "message")));
}
