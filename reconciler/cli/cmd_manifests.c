/*
 * tollgate manifests DIR [--output json|text]: load a deploy tree as the
 * agent would and print its units, objects and images. Problems are
 * printed to stderr (and listed in the output); the exit code is 1 when
 * there was any, after everything was reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/cli.h"
#include "tollgate/error.h"
#include "tollgate/manifest.h"
#include "tollgate/render.h"

static void usage(void)
{
	fputs("usage: tollgate manifests DIR [--root ROOT] [--config FILE] "
	      "[--output json|text]\n",
	      stderr);
}

static json_t *image_json(const tg_manifest_image *img)
{
	const tg_imageref *r = tg_manifest_image_ref(img);

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "pointer",
	                 tg_manifest_image_pointer(img), "written",
	                 tg_manifest_image_written(img), "normalized",
	                 r->canonical, "registry", r->registry, "repository",
	                 r->repository, "tag",
	                 r->tag ? json_string(r->tag) : json_null(), "digest",
	                 r->digest ? json_string(r->digest) : json_null());
}

static json_t *object_json(const tg_manifest_object *obj)
{
	json_t *images = json_array();
	size_t i;

	for (i = 0; i < tg_manifest_object_image_count(obj); i++)
		json_array_append_new(
		        images, image_json(tg_manifest_object_image(obj, i)));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:o}", "apiVersion",
	                 tg_manifest_object_api_version(obj), "kind",
	                 tg_manifest_object_kind(obj), "namespace",
	                 tg_manifest_object_namespace(obj), "name",
	                 tg_manifest_object_name(obj), "file",
	                 tg_manifest_object_file(obj), "line",
	                 (json_int_t)tg_manifest_object_line(obj), "images",
	                 images);
}

static json_t *unit_json(const tg_manifest_unit *u)
{
	json_t *objects = json_array(), *errors = json_array();
	size_t i;

	for (i = 0; i < tg_manifest_unit_object_count(u); i++)
		json_array_append_new(
		        objects, object_json(tg_manifest_unit_object(u, i)));
	for (i = 0; i < tg_manifest_unit_error_count(u); i++)
		json_array_append_new(
		        errors, json_string(tg_manifest_unit_error(u, i)));
	return json_pack("{s:s, s:b, s:o, s:o}", "name",
	                 tg_manifest_unit_name(u), "valid",
	                 tg_manifest_unit_is_valid(u), "objects", objects,
	                 "errors", errors);
}

static int print_json(const tg_manifest_set *set, const char *dir)
{
	json_t *units = json_array(), *errors = json_array(), *doc;
	size_t i;
	int rc;

	for (i = 0; i < tg_manifest_set_unit_count(set); i++)
		json_array_append_new(units,
		                      unit_json(tg_manifest_set_unit(set, i)));
	for (i = 0; i < tg_manifest_set_error_count(set); i++)
		json_array_append_new(
		        errors, json_string(tg_manifest_set_error(set, i)));
	doc = json_pack(
	        "{s:s, s:b, s:{s:i, s:i, s:i, s:i, s:i}, s:o, s:o}", "root",
	        dir, "valid", tg_manifest_set_error_count(set) == 0, "summary",
	        "units", (json_int_t)tg_manifest_set_unit_count(set),
	        "invalidUnits",
	        (json_int_t)tg_manifest_set_invalid_unit_count(set), "objects",
	        (json_int_t)tg_manifest_set_object_count(set), "images",
	        (json_int_t)tg_manifest_set_image_count(set), "errors",
	        (json_int_t)tg_manifest_set_error_count(set), "units", units,
	        "errors", errors);
	if (!doc)
		return -1;
	rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(doc);
	return rc;
}

static void print_object_text(const tg_manifest_object *obj)
{
	const char *ns = tg_manifest_object_namespace(obj);
	size_t i;

	printf("  %s %s%s%s  %s", tg_manifest_object_kind(obj), ns,
	       ns[0] ? "/" : "", tg_manifest_object_name(obj),
	       tg_manifest_object_file(obj));
	/* a renderer's output has no lines worth showing */
	if (tg_manifest_object_line(obj))
		printf(":%u", tg_manifest_object_line(obj));
	putchar('\n');
	for (i = 0; i < tg_manifest_object_image_count(obj); i++) {
		const tg_manifest_image *img = tg_manifest_object_image(obj, i);

		printf("    image %s -> %s  (%s)\n",
		       tg_manifest_image_written(img),
		       tg_manifest_image_ref(img)->canonical,
		       tg_manifest_image_pointer(img));
	}
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

static void print_unit_text(const tg_manifest_unit *u)
{
	size_t nobj = tg_manifest_unit_object_count(u);
	size_t nimg = tg_manifest_unit_image_count(u);
	size_t nerr = tg_manifest_unit_error_count(u), j;

	if (nerr)
		printf("unit %s: INVALID (%zu error%s), ",
		       tg_manifest_unit_name(u), nerr, plural(nerr));
	else
		printf("unit %s: valid, ", tg_manifest_unit_name(u));
	printf("%zu object%s, %zu image%s\n", nobj, plural(nobj), nimg,
	       plural(nimg));
	for (j = 0; j < nobj; j++)
		print_object_text(tg_manifest_unit_object(u, j));
	for (j = 0; j < nerr; j++)
		printf("  error: %s\n", tg_manifest_unit_error(u, j));
}

static void print_text(const tg_manifest_set *set)
{
	size_t nunits = tg_manifest_set_unit_count(set);
	size_t nobj = tg_manifest_set_object_count(set);
	size_t nimg = tg_manifest_set_image_count(set),
	       nerr = tg_manifest_set_error_count(set);
	size_t i;

	for (i = 0; i < nunits; i++)
		print_unit_text(tg_manifest_set_unit(set, i));
	printf("%zu unit%s (%zu invalid), %zu object%s, %zu image%s, %zu "
	       "error%s\n",
	       nunits, plural(nunits), tg_manifest_set_invalid_unit_count(set),
	       nobj, plural(nobj), nimg, plural(nimg), nerr, plural(nerr));
}

/* The arguments: DIR, --root ROOT, --config FILE (for render). */
typedef struct margs {
	const char *dir, *root, *config;
} margs;

/* "--name VALUE" at argv[*i] into *out: 1 taken, 0 not this option, -1
 * a missing value. */
static int
value_option(const char **out, const char *name, int argc, char **argv, int *i)
{
	if (strcmp(argv[*i], name))
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "tollgate manifests: %s needs a value\n", name);
		return -1;
	}
	*out = argv[++*i];
	return 1;
}

static int parse_args(margs *a, tg_cli_common *common, int argc, char **argv)
{
	const char **dir = &a->dir;
	int i, r;

	*dir = NULL;
	for (i = 1; i < argc; i++) {
		if ((r = tg_cli_common_option(common, argc, argv, &i)) < 0)
			return -1;
		if (r == 0)
			r = value_option(&a->root, "--root", argc, argv, &i);
		if (r == 0)
			r = value_option(&a->config, "--config", argc, argv,
			                 &i);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr,
			        "tollgate manifests: unknown option "
			        "\"%s\"\n",
			        argv[i]);
			return -1;
		}
		if (*dir) {
			fprintf(stderr, "tollgate manifests: one directory "
			                "only\n");
			return -1;
		}
		*dir = argv[i];
	}
	if (!*dir) {
		fprintf(stderr, "tollgate manifests: DIR is missing\n");
		return -1;
	}
	return 0;
}

int tg_cmd_manifests(int argc, char **argv)
{
	/* JSON by default (DESIGN.md 3.1): the output is meant for tools. */
	tg_cli_common common = { TG_OUTPUT_JSON };
	tg_manifest_set *set = NULL;
	tg_render *render = NULL;
	margs a = { NULL, NULL, NULL };
	const char *dir;
	size_t i, nerr;
	int rc = TG_EXIT_ERROR;

	if (parse_args(&a, &common, argc, argv) < 0) {
		usage();
		return TG_EXIT_USAGE;
	}
	dir = a.dir;
	/* the config's imagePaths; rendered as the agent would, without
	 * its cache */
	if (tg_cli_manifest_set_new(&set, a.config, dir) < 0 ||
	    tg_cli_open_render(&render, a.config) < 0 ||
	    tg_render_units_in_dir(set, render, dir, a.root) < 0 ||
	    tg_manifest_set_add_dir(set, dir) < 0) {
		fprintf(stderr, "tollgate manifests: %s\n", tg_error_last());
		goto out;
	}
	if (common.output == TG_OUTPUT_JSON) {
		if (print_json(set, dir) < 0) {
			fprintf(stderr, "tollgate manifests: cannot write "
			                "the output\n");
			goto out;
		}
	} else {
		print_text(set);
	}
	fflush(stdout);
	nerr = tg_manifest_set_error_count(set);
	for (i = 0; i < nerr; i++)
		fprintf(stderr, "tollgate manifests: error: %s\n",
		        tg_manifest_set_error(set, i));
	if (nerr)
		fprintf(stderr,
		        "tollgate manifests: %zu error%s in %zu "
		        "unit%s; those units would be blocked\n",
		        nerr, nerr == 1 ? "" : "s",
		        tg_manifest_set_invalid_unit_count(set),
		        tg_manifest_set_invalid_unit_count(set) == 1 ? ""
		                                                     : "s");
	rc = nerr ? TG_EXIT_ERROR : TG_EXIT_OK;
out:
	tg_manifest_set_free(set);
	tg_render_free(render);
	return rc;
}
