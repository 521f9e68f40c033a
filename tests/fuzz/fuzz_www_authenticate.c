/* A registry's WWW-Authenticate header: tg_www_authenticate_parse. */
#include <stdlib.h>

#include "fuzz.h"
#include "http_header_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_auth_challenge c = { 0 };
	char *s = fuzz_cstr(data, size);

	if (tg_www_authenticate_parse(&c, s) == 0)
		tg_auth_challenge_clear(&c);
	free(s);
	return 0;
}
