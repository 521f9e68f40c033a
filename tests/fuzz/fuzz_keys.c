/*
 * Public keys as the product reads them from outside input. First byte
 * even: PEM, as a policy's key (inline or a file: tg_key_from_pem), then
 * made the Rekor or CT log key of a trust root (bit 1), as a policy's
 * rekor.publicKey and ctlog.publicKey are (tg_trustroot_set_log_key).
 * Odd: DER (SubjectPublicKeyInfo or PKCS#1), as a trusted root's log key
 * publicKey.rawBytes: put into a trusted_root.json and read by
 * tg_trustroot_parse, which decodes it and derives its checkpoint key ID.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sigstore_int.h"
#include "tollgate/buf.h"
#include "tollgate/keys.h"
#include "tollgate/limits.h"
#include "tollgate/trustroot.h"
#include "tollgate/util.h"

static void from_pem(const uint8_t *data, size_t size, bool ct)
{
	tg_trustroot *root = NULL;
	tg_key *key = NULL;

	if (tg_key_from_pem(&key, "key.pem", (const char *)data, size) < 0)
		return;
	(void)tg_key_id(key);
	(void)tg_key_type(key);
	if (tg_trustroot_new(&root) == 0) {
		tg_discard(tg_trustroot_set_log_key(root, ct, "key.pem", key));
		tg_trustroot_free(root);
	}
	tg_key_free(key);
}

static void from_der(const uint8_t *data, size_t size)
{
	tg_trustroot *root = NULL;
	tg_buf b;
	char *b64;
	int error;

	if (size > TG_MAX_PEM_BYTES)
		return;
	tg_buf_init(&b, 4 * TG_MAX_PEM_BYTES);
	b64 = tg_base64_encode(data, size);
	error = tg_buf_printf(
	        &b,
	        "{\"mediaType\": \"application/vnd.dev.sigstore."
	        "trustedroot+json;version=0.1\", \"tlogs\": [{"
	        "\"baseUrl\": \"https://log.example\", "
	        "\"hashAlgorithm\": \"SHA2_256\", \"publicKey\": {"
	        "\"rawBytes\": \"%s\", \"keyDetails\": "
	        "\"PKIX_ECDSA_P256_SHA_256\", \"validFor\": {\"start\": "
	        "\"2025-01-01T00:00:00Z\"}}, \"logId\": {\"keyId\": "
	        "\"o9u+tIBFDuyZ07BbrzKwz5d/psWDfFWTat8lWPRyWKA=\"}}]}",
	        b64);
	free(b64);
	if (error == 0 &&
	    tg_trustroot_parse(&root, "trusted_root.json", b.data, b.len) == 0)
		tg_trustroot_free(root);
	tg_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		from_der(data + 1, size - 1);
	else
		from_pem(data + 1, size - 1, data[0] & 2);
	return 0;
}
