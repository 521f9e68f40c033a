/* Image references as written in manifests and policies:
 * tg_imageref_parse, then the pinned form and a copy. */
#include <stdlib.h>

#include "fuzz.h"
#include "tollgate/error.h"
#include "tollgate/imageref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_imageref *ref = NULL, *copy = NULL;
	char *s = fuzz_cstr(data, size);

	if (tg_imageref_parse(&ref, s) == 0) {
		free(tg_imageref_pinned(ref, "sha256:0123456789abcdef0123456789"
		                             "abcdef0123456789abcdef0123456789"
		                             "abcdef"));
		if (tg_imageref_dup(&copy, ref) == 0)
			tg_imageref_free(copy);
		tg_imageref_free(ref);
	}
	free(s);
	return 0;
}
