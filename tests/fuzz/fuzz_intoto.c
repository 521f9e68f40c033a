/* An in-toto statement: tg_intoto_statement_parse, then the subject
 * lookup every attestation goes through, and the same bytes as an
 * attestation from a bundle (tg_attestation_from_statement). */
#include "fuzz.h"
#include "tollgate/attestation.h"
#include "tollgate/intoto.h"

#define DIGEST                                                                 \
	"sha256:a8a89ddac563a6c7d1d02a9f0a0b4f9d6e0b7cc4ad881f3551ab633da219"  \
	"2a29"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_intoto_statement *s = NULL;
	tg_attestation *a = NULL;

	if (tg_intoto_statement_parse(&s, data, size) == 0) {
		(void)tg_intoto_statement_type(s);
		(void)tg_intoto_statement_predicate_type(s);
		(void)tg_intoto_statement_predicate(s);
		(void)tg_intoto_statement_has_subject(s, DIGEST);
		tg_intoto_statement_free(s);
	}
	if (tg_attestation_from_statement(&a, data, size, DIGEST, "release",
	                                  "sha256:00", "referrer") == 0)
		tg_attestation_free(a);
	return 0;
}
