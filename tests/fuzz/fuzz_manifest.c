/* Kubernetes manifests as the manifests stage reads a commit's files:
 * tg_manifest_set_add_file (YAML or JSON, objects, units, image
 * extraction), then every object and image read back. The first byte
 * selects: its low two bits the file name (so both the YAML and the JSON
 * path and a unit below a directory are reached); bit 2 the options the
 * agent passes when tollgate.yaml has imagePaths (made by the config
 * parser and tg_config_manifest_image_paths, as agent.c does); bit 3 a
 * renderer's output instead of a file (tg_manifest_set_add_rendered:
 * split at document separators, no positions). */
#include <stdlib.h>

#include <jansson.h>

#include "fuzz.h"
#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/imageref.h"
#include "tollgate/manifest.h"

static const char *const names[] = { "apps/web/deploy.yaml", "app.json",
	                             "base/kustomization.yml", "x.yaml" };

#define PIN                                                                    \
	"sha256:0123456789abcdef0123456789abcdef0123456789abcdef01234567"      \
	"89abcdef"

/* What the plan does with a valid unit's images: pin each to a digest. */
static void pin_images(tg_manifest_object *o)
{
	size_t i;

	for (i = 0; i < tg_manifest_object_image_count(o); i++) {
		tg_manifest_image *img = tg_manifest_object_image(o, i);
		char *pinned =
		        tg_imageref_pinned(tg_manifest_image_ref(img), PIN);

		tg_discard(tg_manifest_object_set_image(
		        o, tg_manifest_image_pointer(img), pinned));
		free(pinned);
	}
}

static void walk(const tg_manifest_set *set)
{
	size_t u, i;

	for (u = 0; u < tg_manifest_set_unit_count(set); u++) {
		tg_manifest_unit *unit = tg_manifest_set_unit(set, u);

		for (i = 0; i < tg_manifest_unit_error_count(unit); i++)
			(void)tg_manifest_unit_error(unit, i);
		for (i = 0; i < tg_manifest_unit_object_count(unit); i++) {
			tg_manifest_object *o =
			        tg_manifest_unit_object(unit, i);

			(void)tg_manifest_object_group(o);
			(void)tg_manifest_object_namespace(o);
			(void)tg_manifest_object_name(o);
			if (tg_manifest_unit_is_valid(unit))
				pin_images(o);
			free(json_dumps(tg_manifest_object_json(o),
			                JSON_COMPACT));
		}
	}
}

/* imagePaths as a tollgate.yaml gives them: a kind with a pod spec, one
 * with image strings below wildcards, one declared to hold none. */
static const char config_text[] =
        "source: {url: https://git.example/deploy.git}\n"
        "policy: policy.yaml\n"
        "imagePaths:\n"
        "  - {group: argoproj.io, kind: Rollout, "
        "paths: [/spec/template/spec]}\n"
        "  - {group: example.com, kind: Widget, "
        "paths: [/spec/image, /spec/jobs/*/template/spec, /spec/images/*]}\n"
        "  - {kind: Gadget, paths: []}\n"
        "  - {group: \"\", kind: PodTemplate, paths: [/template/spec]}\n";

static tg_config *cfg;
static tg_manifest_image_path *ip;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (tg_config_parse(&cfg, "tollgate.yaml", config_text,
	                    sizeof(config_text) - 1,
	                    "/nonexistent/tollgate-fuzz") < 0 ||
	    !(ip = tg_config_manifest_image_paths(cfg)))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_manifest_set *set = NULL;
	tg_manifest_options mo = { 0 };
	const char *name, *text = (const char *)data + 1;
	int error;

	if (size < 1)
		return 0;
	name = names[data[0] & 3];
	if (data[0] & 4) {
		mo.image_paths = ip;
		mo.nimage_paths = cfg->nimage_paths;
	}
	if (tg_manifest_set_new(&set, data[0] & 4 ? &mo : NULL) < 0)
		return 0;
	if (data[0] & 8)
		error = tg_manifest_set_add_rendered(
		        set, "apps/web", "kustomize", text, size - 1);
	else
		error = tg_manifest_set_add_file(set, name, text, size - 1);
	if (error == 0)
		walk(set);
	tg_manifest_set_free(set);
	return 0;
}
