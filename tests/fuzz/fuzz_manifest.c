/* Kubernetes manifests as the manifests stage reads a commit's files:
 * tg_manifest_set_add_file (YAML or JSON, objects, units, image
 * extraction), then every object and image read back. The first byte
 * picks the file name, so both the YAML and the JSON path and a unit
 * below a directory are reached. */
#include <stdlib.h>

#include <jansson.h>

#include "fuzz.h"
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_manifest_set *set = NULL;
	const char *name;

	if (size < 1)
		return 0;
	name = names[data[0] % (sizeof(names) / sizeof(names[0]))];
	if (tg_manifest_set_new(&set, NULL) < 0)
		return 0;
	if (tg_manifest_set_add_file(set, name, (const char *)data + 1,
	                             size - 1) == 0)
		walk(set);
	tg_manifest_set_free(set);
	return 0;
}
