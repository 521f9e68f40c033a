/* tollgate.yaml: tg_config_parse, the bytes form of tg_config_load. */
#include <git2.h>

#include "fuzz.h"
#include "tollgate/config.h"

/* As the CLI does: libgit2 stays initialised for the whole process. The
 * parser's own init/shutdown pair around a ref check would otherwise set
 * up TLS (and read the system's CA file) on every input, which was 40% of
 * this target's time. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();
	return 0;
}

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
