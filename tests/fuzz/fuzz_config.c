/* tollgate.yaml: tg_config_parse, the bytes form of tg_config_load. */
#include "fuzz.h"
#include "tollgate/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_config *cfg = NULL;

	/* base_dir names no directory, so a path in the input reads
	 * nothing. */
	if (tg_config_parse(&cfg, "tollgate.yaml", (const char *)data, size,
	                    "/nonexistent/tollgate-fuzz") == 0)
		tg_config_free(cfg);
	return 0;
}
