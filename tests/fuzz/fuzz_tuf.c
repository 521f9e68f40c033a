/*
 * TUF metadata (include/tollgate/tuf.h): the first byte picks the role
 * (root, timestamp, snapshot, targets), the rest is the file, parsed with
 * tg_tuf_metadata_parse. A root is checked against itself (every key type
 * and signature path); any other file against Sigstore's real root.json,
 * loaded once. Any JSON also goes through the canonicaliser.
 */
#include <stdlib.h>

#include <jansson.h>

#include "fuzz.h"
#include "tollgate/tuf.h"

static tg_tuf_metadata *sigstore_root;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len;
	char *s = fuzz_source_file(
	        &len, "verify/sigstore/data/tuf_root_public_good.json");

	(void)argc;
	(void)argv;
	if (tg_tuf_metadata_parse(&sigstore_root, "root.json", "root", s, len) <
	    0)
		abort();
	free(s);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const roles[] = { "root", "timestamp", "snapshot",
		                             "targets" };
	const char *role;
	tg_tuf_metadata *md = NULL;
	json_t *doc;
	char *canon = NULL;
	size_t len;

	if (size < 1)
		return 0;
	role = roles[data[0] % 4];
	if (tg_tuf_metadata_parse(&md, "fuzz.json", role,
	                          (const char *)data + 1, size - 1) == 0) {
		tg_discard(tg_tuf_verify_role(data[0] % 4 ? sigstore_root : md,
		                              role, md));
		(void)tg_tuf_metadata_version(md);
		tg_tuf_metadata_free(md);
	}
	doc = json_loadb((const char *)data + 1, size - 1,
	                 JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	if (doc && tg_tuf_canonical_json(&canon, &len, doc, 1u << 20) == 0)
		free(canon);
	json_decref(doc);
	return 0;
}
