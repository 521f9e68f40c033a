/*
 * tg_drift_slim: a live object as the API server (or a watch event) sent
 * it, reduced in place before drift reads it. The server is not trusted:
 * any JSON, with any managedFields. The input is the live object; the
 * reduced object must still be an object, and reducing it again changes
 * nothing.
 */
#include <stdlib.h>

#include <jansson.h>

#include "fuzz.h"
#include "tollgate/drift.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *live = json_loadb((const char *)data, size, 0, NULL);
	json_t *once;

	if (!json_is_object(live)) {
		json_decref(live);
		return 0;
	}
	tg_drift_slim(live);
	once = json_deep_copy(live);
	tg_drift_slim(live);
	if (!json_is_object(live) || !json_equal(live, once))
		abort();
	json_decref(once);
	json_decref(live);
	return 0;
}
