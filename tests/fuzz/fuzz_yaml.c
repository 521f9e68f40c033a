/* YAML streams as every YAML reader of tollgate parses them (manifests,
 * tollgate.yaml, the policy, kubeconfig): tg_yaml_parse with positions. */
#include <stdlib.h>

#include <jansson.h>

#include "fuzz.h"
#include "tollgate/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_yaml_docs *docs = NULL;
	unsigned line, col;
	size_t i;

	if (tg_yaml_parse(&docs, "fuzz.yaml", (const char *)data, size,
	                  TG_YAML_POSITIONS) < 0)
		return 0;
	for (i = 0; i < tg_yaml_docs_count(docs); i++) {
		json_t *doc = tg_yaml_docs_get(docs, i);
		int digits = tg_json_real_digits(doc);

		/* How manifests are sent to the API server. */
		free(json_dumps(
		        doc,
		        JSON_COMPACT | JSON_ENCODE_ANY |
		                JSON_REAL_PRECISION(digits > 0 ? digits : 17)));
		(void)tg_yaml_docs_line(docs, i);
		tg_yaml_docs_line_at(&line, &col, docs, i, "/metadata/name");
	}
	tg_yaml_docs_free(docs);
	return 0;
}
