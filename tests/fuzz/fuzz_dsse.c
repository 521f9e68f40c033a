/* A DSSE envelope: tg_dsse_envelope_parse, then the PAE over its payload
 * (what signatures are checked over). */
#include <stdlib.h>

#include "fuzz.h"
#include "tollgate/dsse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_dsse_envelope *e = NULL;
	unsigned char *pae = NULL;
	const unsigned char *payload;
	size_t len, sig_len, pae_len, i;

	if (tg_dsse_envelope_parse(&e, data, size) < 0)
		return 0;
	payload = tg_dsse_envelope_payload(&len, e);
	for (i = 0; i < tg_dsse_envelope_signature_count(e); i++) {
		(void)tg_dsse_envelope_keyid(e, i);
		(void)tg_dsse_envelope_signature(&sig_len, e, i);
	}
	if (tg_dsse_pae(&pae, &pae_len, tg_dsse_envelope_payload_type(e),
	                payload, len) == 0)
		free(pae);
	tg_dsse_envelope_free(e);
	return 0;
}
