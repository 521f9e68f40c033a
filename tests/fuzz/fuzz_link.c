/* A registry's Link header (referrers pagination): tg_link_next_parse. */
#include <stdlib.h>

#include "fuzz.h"
#include "http_header_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *next = NULL;
	char *s = fuzz_cstr(data, size);

	if (tg_link_next_parse(&next, s) == 0)
		free(next);
	free(s);
	return 0;
}
