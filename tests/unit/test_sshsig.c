/* Tests of SSH signatures over bytes and the key files that list their
 * signers (verify/sig/sshsig.c, sshkey.c, sshfile.c), with signatures
 * made by the real ssh-keygen (tests/tools/gen_sshsig.sh) and hostile
 * ones derived from them. */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/sshsig.h"
#include "tollgate/util.h"

#define D "tests/data/sshsig/"
/* 2023-11-14T22:13:20Z, when the fixtures' payload says it was made. */
#define WHEN 1700000000

static tg_ssh_signers *load(const char *rel, bool allowed)
{
	size_t len;
	char *data = tt_read_src(rel, &len);
	tg_ssh_signers *s = NULL;
	int error = allowed ? tg_ssh_signers_parse_allowed(&s, rel, data, len)
	                    : tg_ssh_signers_parse_keys(&s, rel, data, len);

	if (error < 0)
		fail_msg("%s: %s", rel, tg_error_last());
	free(data);
	return s;
}

/* Verify signature file sig over payload file msg. */
static int verify_files(tg_sig_info *info,
                        const tg_ssh_signers *s,
                        const char *sig,
                        const char *msg,
                        int64_t when)
{
	size_t sl, ml;
	char *sd = tt_read_src(sig, &sl), *md = tt_read_src(msg, &ml);
	int error = tg_sshsig_verify(info, s, sd, sl, md, ml, "git", when);

	free(sd);
	free(md);
	return error;
}

static void test_sshsig_verifies_every_key_type(void **state)
{
	const char *sigs[] = { D "sig-ed25519", D "sig-ecdsa256",
		               D "sig-ecdsa384", D "sig-rsa",
		               D "sig-rsa-sha256" };
	const char *types[] = { "ed25519 SHA256:", "ecdsa-nistp256 SHA256:",
		                "ecdsa-nistp384 SHA256:", "rsa SHA256:",
		                "rsa SHA256:" };
	tg_ssh_signers *s = load(D "keys.pub", false);
	tg_sig_info info;
	size_t i;

	(void)state;
	assert_int_equal(tg_ssh_signers_count(s), 4);
	for (i = 0; i < 5; i++) {
		if (verify_files(&info, s, sigs[i], D "payload", WHEN) != 0)
			fail_msg("%s: %s", sigs[i], tg_error_last());
		assert_string_equal(info.format, "ssh");
		assert_true(tg_str_has_prefix(info.key, types[i]));
		assert_string_equal(info.principal, "");
	}
	tg_ssh_signers_free(s);
}

static void test_sshsig_rejects_other_payload_and_unlisted_key(void **state)
{
	tg_ssh_signers *s = load(D "keys.pub", false);
	tg_sig_info info;

	(void)state;
	assert_int_equal(verify_files(&info, s, D "sig-ed25519",
	                              D "payload-other", WHEN),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "does not verify");
	assert_int_equal(
	        verify_files(&info, s, D "sig-other", D "payload", WHEN),
	        TG_ENOTFOUND);
	assert_contains(tg_error_last(), "is not listed in " D "keys.pub");
	/* the refusal still names the key that signed */
	assert_true(tg_str_has_prefix(info.key, "ed25519 SHA256:"));
	assert_int_equal(verify_files(&info, s, D "sig-ed25519-ns-file",
	                              D "payload", WHEN),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "another namespace");
	tg_ssh_signers_free(s);
}

static void test_sshsig_allowed_signers_options(void **state)
{
	tg_ssh_signers *s = load(D "allowed_signers", true);
	tg_sig_info info;

	(void)state;
	assert_int_equal(tg_ssh_signers_count(s), 4);
	assert_int_equal(
	        verify_files(&info, s, D "sig-ed25519", D "payload", WHEN), 0);
	assert_string_equal(info.principal, "alice@example.com");
	/* bob's key: valid-after 2023-01-01, valid-before 2023-11-01 */
	assert_int_equal(
	        verify_files(&info, s, D "sig-ecdsa256", D "payload", WHEN),
	        TG_EEXPIRED);
	assert_contains(tg_error_last(), "valid only before 2023-11-01");
	assert_int_equal(verify_files(&info, s, D "sig-ecdsa256", D "payload",
	                              1690000000),
	                 0);
	assert_string_equal(info.principal,
	                    "bob@example.com,carol@example.com");
	assert_int_equal(verify_files(&info, s, D "sig-ecdsa256", D "payload",
	                              1660000000),
	                 TG_EEXPIRED);
	assert_contains(tg_error_last(), "valid only after 2023-01-01");
	/* dave may sign files only */
	assert_int_equal(
	        verify_files(&info, s, D "sig-ecdsa384", D "payload", WHEN),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "namespaces \"file\" only");
	/* a quoted principal and a comment after the key */
	assert_int_equal(verify_files(&info, s, D "sig-rsa", D "payload", WHEN),
	                 0);
	assert_string_equal(info.principal, "erin@example.com");
	tg_ssh_signers_free(s);
}

/* The decoded blob of a fixture signature. */
static unsigned char *fixture_blob(const char *rel, size_t *len)
{
	size_t n;
	char *armour = tt_read_src(rel, &n);
	char *b = strchr(armour, '\n') + 1, *e = strstr(armour, "-----END");
	unsigned char *blob = NULL;

	assert_int_equal(tg_base64_decode(&blob, len, b, (size_t)(e - b)), 0);
	free(armour);
	return blob;
}

/* Verify blob (armoured here) over the payload with keys.pub. */
static int verify_blob(const unsigned char *blob, size_t len)
{
	tg_ssh_signers *s = load(D "keys.pub", false);
	char *b64 = tg_base64_encode(blob, len);
	char *sig = tg_aprintf("-----BEGIN SSH SIGNATURE-----\n%s\n"
	                       "-----END SSH SIGNATURE-----\n",
	                       b64);
	size_t ml;
	char *msg = tt_read_src(D "payload", &ml);
	int error = tg_sshsig_verify(NULL, s, sig, strlen(sig), msg, ml, "git",
	                             WHEN);

	free(msg);
	free(sig);
	free(b64);
	tg_ssh_signers_free(s);
	return error;
}

static unsigned char *find_bytes(unsigned char *b, size_t n, const char *s)
{
	size_t i, sn = strlen(s);

	for (i = 0; i + sn <= n; i++)
		if (!memcmp(b + i, s, sn))
			return b + i;
	fail_msg("\"%s\" not in the blob", s);
	return NULL;
}

static void test_sshsig_hostile_blobs(void **state)
{
	size_t n;
	unsigned char *b = fixture_blob(D "sig-ed25519", &n);
	unsigned char *c = malloc(n + 8);

	(void)state;
	assert_int_equal(verify_blob(b, n), 0);
	/* truncated anywhere */
	assert_int_equal(verify_blob(b, n - 10), TG_EPARSE);
	assert_int_equal(verify_blob(b, 20), TG_EPARSE);
	assert_int_equal(verify_blob(b, 3), TG_EPARSE);
	/* trailing bytes */
	memcpy(c, b, n);
	memset(c + n, 0, 8);
	assert_int_equal(verify_blob(c, n + 8), TG_EPARSE);
	/* a length field far over the limit, and one past the end */
	memcpy(c, b, n);
	c[10] = 0x7f;
	assert_int_equal(verify_blob(c, n), TG_ETOOBIG);
	assert_contains(tg_error_last(), "over the limit");
	memcpy(c, b, n);
	c[13] = 0xf0;
	assert_int_equal(verify_blob(c, n), TG_EPARSE);
	assert_contains(tg_error_last(), "bytes left");
	/* version 2 */
	memcpy(c, b, n);
	c[9] = 2;
	assert_int_equal(verify_blob(c, n), TG_EINVALID);
	/* unknown key type inside the signature's public key */
	memcpy(c, b, n);
	find_bytes(c, 40, "ssh-ed25519")[10] = '8';
	assert_int_equal(verify_blob(c, n), TG_EINVALID);
	assert_contains(tg_error_last(), "unknown key type");
	/* unknown signature algorithm (the second "ssh-ed25519") */
	memcpy(c, b, n);
	find_bytes(c + 40, n - 40, "ssh-ed25519")[10] = '8';
	assert_int_equal(verify_blob(c, n), TG_EINVALID);
	/* unknown hash algorithm */
	memcpy(c, b, n);
	find_bytes(c, n, "sha512")[5] = '1';
	assert_int_equal(verify_blob(c, n), TG_EINVALID);
	/* one bit of the signature flipped */
	memcpy(c, b, n);
	c[n - 1] ^= 1;
	assert_int_equal(verify_blob(c, n), TG_EUNTRUSTED);
	free(c);
	free(b);
}

static void test_sshsig_hostile_armour(void **state)
{
	tg_ssh_signers *s = load(D "keys.pub", false);
	size_t n;
	char *sig = tt_read_src(D "sig-ed25519", &n);
	char *cut = tg_strndup(sig, n - 20);
	const char *bad64 = "-----BEGIN SSH SIGNATURE-----\n$$$$\n"
	                    "-----END SSH SIGNATURE-----\n";

	(void)state;
	assert_int_equal(tg_sshsig_verify(NULL, s, cut, strlen(cut), "x", 1,
	                                  "git", WHEN),
	                 TG_EPARSE);
	assert_contains(tg_error_last(), "truncated armour");
	assert_int_equal(
	        tg_sshsig_verify(NULL, s, sig + 5, n - 5, "x", 1, "git", WHEN),
	        TG_EPARSE);
	assert_int_equal(tg_sshsig_verify(NULL, s, bad64, strlen(bad64), "x", 1,
	                                  "git", WHEN),
	                 TG_EPARSE);
	assert_contains(tg_error_last(), "base64");
	free(cut);
	free(sig);
	tg_ssh_signers_free(s);
}

/* A key file that must not load, with the code and part of the message. */
static void bad_file(const char *text, bool allowed, int code, const char *msg)
{
	tg_ssh_signers *s = (tg_ssh_signers *)1;
	int error = allowed ? tg_ssh_signers_parse_allowed(&s, "f", text,
	                                                   strlen(text))
	                    : tg_ssh_signers_parse_keys(&s, "f", text,
	                                                strlen(text));

	if (error != code)
		fail_msg("%s: code %d, want %d (%s)", text, error, code,
		         tg_error_last());
	assert_null(s);
	assert_contains(tg_error_last(), msg);
}

static void test_sshsig_bad_key_files(void **state)
{
	size_t n;
	char *key = tt_read_src(D "key-ed25519.pub", &n);
	char *line;

	(void)state;
	bad_file("", false, TG_EPARSE, "no public key");
	bad_file("# only a comment\n", true, TG_EPARSE, "no public key");
	bad_file("hello world\n", false, TG_EPARSE,
	         "f:1: not an OpenSSH public key");
	bad_file("ssh-dss AAAAB3NzaC1kc3MAAACBAP\n", false, TG_EINVALID,
	         "\"ssh-dss\" is not supported");
	bad_file("ssh-ed25519 !!!!\n", false, TG_EPARSE, "base64");
	line = tg_aprintf("\n\nssh-rsa %s", strchr(key, ' ') + 1);
	bad_file(line, false, TG_EPARSE, "f:3: the key's type differs");
	free(line);
	line = tg_aprintf("a@b cert-authority %s", key);
	bad_file(line, true, TG_EINVALID, "f:1: cert-authority lines");
	free(line);
	line = tg_aprintf("a@b valid-before=\"2023-11-01\" %s", key);
	bad_file(line, true, TG_EINVALID, "valid-before: expected");
	free(line);
	line = tg_aprintf("a@b no-touch-required %s", key);
	bad_file(line, true, TG_EINVALID, "unknown option");
	free(line);
	bad_file("a@b\n", true, TG_EPARSE, "no key after the principals");
	free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sshsig_verifies_every_key_type),
		cmocka_unit_test(
		        test_sshsig_rejects_other_payload_and_unlisted_key),
		cmocka_unit_test(test_sshsig_allowed_signers_options),
		cmocka_unit_test(test_sshsig_hostile_blobs),
		cmocka_unit_test(test_sshsig_hostile_armour),
		cmocka_unit_test(test_sshsig_bad_key_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
