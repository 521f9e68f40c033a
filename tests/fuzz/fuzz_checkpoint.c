/* A transparency log checkpoint (signed note): tg_checkpoint_parse. */
#include "fuzz.h"
#include "tollgate/tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_checkpoint *cp = NULL;

	if (tg_checkpoint_parse(&cp, (const char *)data, size) < 0)
		return 0;
	(void)tg_checkpoint_origin(cp);
	(void)tg_checkpoint_size(cp);
	(void)tg_checkpoint_root(cp);
	(void)tg_checkpoint_signature_count(cp);
	tg_checkpoint_free(cp);
	return 0;
}
