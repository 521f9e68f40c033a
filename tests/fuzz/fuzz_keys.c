/* Public keys as policies and bundles carry them: tg_key_from_pem and
 * tg_key_from_der (the first byte picks which). */
#include "fuzz.h"
#include "tollgate/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_key *key = NULL;
	int error;

	if (size < 1)
		return 0;
	if (data[0] & 1)
		error = tg_key_from_der(&key, "key.der", data + 1, size - 1);
	else
		error = tg_key_from_pem(&key, "key.pem", (const char *)data + 1,
		                        size - 1);
	if (error < 0)
		return 0;
	(void)tg_key_id(key);
	(void)tg_key_type(key);
	tg_key_free(key);
	return 0;
}
