/*
 * Rekor entry bodies (a bundle's canonicalizedBody: hashedrekord 0.0.1 and
 * 0.0.2, dsse 0.0.1 and 0.0.2, intoto 0.0.2) as tg_rekor_check_body
 * compares them with the bundle. The first byte picks the entry's
 * kindVersion (bits 0-1, or 0x10 for dsse 0.0.2), whether the bundle is a
 * DSSE envelope (4) and whether its signer is a certificate (8: its DER
 * kept and its key the signer, as the product sets them) or a key; the
 * rest is the body.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "bundle_int.h"
#include "fuzz.h"
#include "tollgate/dsse.h"
#include "tollgate/keys.h"
#include "tollgate/util.h"

static const char *const kinds[5][2] = {
	{ "hashedrekord", "0.0.1" }, { "hashedrekord", "0.0.2" },
	{ "dsse", "0.0.1" },         { "intoto", "0.0.2" },
	{ "dsse", "0.0.2" },
};

static X509 *cert;
static unsigned char *cert_der;
static size_t cert_der_len;
static tg_key *key, *cert_key;
static unsigned char *pae;
static size_t pae_len;

#define PAYLOAD "{\"_type\":\"https://in-toto.io/Statement/v1\"}"
#define PAYLOAD_TYPE "application/vnd.in-toto+json"
#define SIG "MEUCIQD signature bytes"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len;
	char *s;
	BIO *bio;
	int error, der_len;

	(void)argc;
	(void)argv;
	s = fuzz_source_file(&len, "tests/fuzz/material/fulcio_v1.crt.pem");
	bio = BIO_new_mem_buf(s, (int)len);
	cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	free(s);
	s = fuzz_source_file(&len, "tests/fuzz/material/release.pub");
	error = tg_key_from_pem(&key, "release.pub", s, len);
	free(s);
	if (!cert || error < 0)
		return 1;
	/* As bundle.c's keep_leaf_der and pick_signer do. */
	der_len = i2d_X509(cert, &cert_der);
	if (der_len <= 0 || tg_key_from_x509(&cert_key, "fulcio", cert) < 0)
		return 1;
	cert_der_len = (size_t)der_len;
	return tg_dsse_pae(&pae, &pae_len, PAYLOAD_TYPE,
	                   (const unsigned char *)PAYLOAD,
	                   sizeof(PAYLOAD) - 1) < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bundle b = { 0 };
	vctx v = { 0 };
	tlog_entry e = { 0 };

	if (size < 1)
		return 0;
	b.name = "bundle.json";
	b.dsse = data[0] & 4;
	if (data[0] & 8) {
		b.leaf = cert;
		b.leaf_der = cert_der;
		b.leaf_der_len = cert_der_len;
	}
	b.sig = (unsigned char *)SIG;
	b.sig_len = sizeof(SIG) - 1;
	b.payload_type = PAYLOAD_TYPE;
	b.payload = (unsigned char *)PAYLOAD;
	b.payload_len = sizeof(PAYLOAD) - 1;
	v.name = b.name;
	v.b = &b;
	v.signer = b.leaf ? cert_key : key;
	v.pae = pae;
	v.pae_len = pae_len;
	tg_sha256(v.dig.sha256, PAYLOAD, sizeof(PAYLOAD) - 1);
	v.dig.has_sha256 = true;
	e.kind = kinds[data[0] & 0x10 ? 4 : data[0] & 3][0];
	e.version = kinds[data[0] & 0x10 ? 4 : data[0] & 3][1];
	e.body = (unsigned char *)data + 1;
	e.body_len = size - 1;
	tg_discard(tg_rekor_check_body(&v, &e, "log entry 1"));
	return 0;
}
