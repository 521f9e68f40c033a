/*
 * Legacy cosign signature layers (.sig and .att tags) as the product
 * verifies them: tg_sigstore_verify_material, the keyless verify hook of
 * a policy authority, on the signed message, the raw signature and the
 * layer's annotations. The input is
 *
 *   flags, u16 length + message, u16 length + signature,
 *   certificate PEM NUL chain PEM NUL Rekor bundle (SET) JSON
 *
 * (lengths big-endian, clamped to what is left; an annotation left out or
 * empty is absent). Flags: 1 rekor.required (else no log and the current time,
 * as the product sets it), 2 an attestation (.att): the message is a DSSE
 * payload whose type is a u8-length-prefixed string before it, signed
 * over its PAE, 4 the Fulcio v1 CA as fulcioCerts (else the built-in
 * public-good root), 8 ctlog.required. The clock is fixed.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tollgate/dsse.h"
#include "tollgate/error.h"
#include "tollgate/policy.h"
#include "tollgate/sigstore.h"
#include "tollgate/util.h"

/* 2026-12-01T00:00:00Z, as fuzz_bundle. */
#define FUZZ_NOW 1796083200

static char *fulcio_pem;
static size_t fulcio_len;
static tg_regexp *subject_re;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tg_clock_set(FUZZ_NOW);
	fulcio_pem = fuzz_source_file(&fulcio_len,
	                              "tests/fuzz/material/fulcio_v1.crt.pem");
	return tg_regexp_compile(&subject_re, "^mitr@redhat\\.com$") < 0;
}

/* The next part of *n bytes at *p, its length in the first len_bytes. */
static const uint8_t *
take(size_t *part_len, const uint8_t **p, size_t *n, unsigned len_bytes)
{
	const uint8_t *part;
	size_t want = 0;

	while (len_bytes-- && *n) {
		want = want << 8 | **p;
		(*p)++;
		(*n)--;
	}
	if (want > *n)
		want = *n;
	part = *p;
	*p += want;
	*n -= want;
	*part_len = want;
	return part;
}

/* The three annotations, NUL-separated; NULL when left out or empty. */
static void annotations(char *out[3], const uint8_t *p, size_t n)
{
	size_t len, i;

	for (i = 0; i < 3 && n; i++) {
		const uint8_t *next;
		size_t next_len;

		fuzz_split(&len, &next, &next_len, p, n, 0);
		out[i] = len ? fuzz_cstr(p, len) : NULL;
		p = next;
		n = next_len;
	}
}

static void verify(const tg_sig_material *m, uint8_t flags)
{
	tg_policy_keyless k = { 0 };
	tg_policy_authority a = { 0 };
	char *signer = NULL;
	int64_t until;

	k.issuer = "https://github.com/login/oauth";
	k.subject_regexp = subject_re;
	k.ctlog.required = flags & 8;
	if (flags & 4) {
		k.fulcio_certs = fulcio_pem;
		k.fulcio_certs_len = fulcio_len;
	}
	a.name = "fuzz";
	a.kind = TG_AUTHORITY_KEYLESS;
	a.keyless = &k;
	a.rekor.required = flags & 1;
	if (tg_sigstore_verify_material(&signer, &until, &a, m) == 0)
		free(signer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_sig_material m = { 0 };
	unsigned char *pae = NULL;
	char *ann[3] = { NULL }, *type = NULL;
	const uint8_t *p = data + 1, *part;
	size_t n, len;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	n = size - 1;
	if (flags & 2) {
		part = take(&len, &p, &n, 1);
		type = fuzz_cstr(part, len);
		part = take(&len, &p, &n, 2);
		tg_discard(tg_dsse_pae(&pae, &m.msg_len, type, part, len));
		m.msg = pae;
	} else {
		m.msg = take(&m.msg_len, &p, &n, 2);
	}
	m.sig = take(&m.sig_len, &p, &n, 2);
	annotations(ann, p, n);
	m.certificate = ann[0];
	m.chain = ann[1];
	m.bundle = ann[2];
	verify(&m, flags);
	free(ann[0]);
	free(ann[1]);
	free(ann[2]);
	free(type);
	free(pae);
	return 0;
}
