/* A docker config.json: tg_docker_config_parse, then a lookup. */
#include "fuzz.h"
#include "registry_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_docker_cred *creds = NULL;
	size_t n = 0;

	if (tg_docker_config_parse(&creds, &n, "config.json",
	                           (const char *)data, size) < 0)
		return 0;
	(void)tg_docker_cred_find(creds, n, "docker.io");
	(void)tg_docker_cred_find(creds, n, "127.0.0.1:5000");
	tg_docker_creds_free(creds, n);
	return 0;
}
