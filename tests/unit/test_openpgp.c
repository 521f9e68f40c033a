/* Tests of OpenPGP signatures over bytes and the key files that list
 * their signers (verify/sig/pgppkt.c, pgpkey.c, pgpring.c, pgpsig.c,
 * pgpverify.c), with keys and signatures made by the real GnuPG
 * (tests/tools/gen_openpgp.sh) and hostile ones derived from them
 * (tests/tools/pgp_mutate.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/openpgp.h"
#include "tollgate/util.h"

#define D "tests/data/openpgp/"
/* 2026-01-01T01:00:00Z, the committer time of the payload */
#define WHEN 1767229200

static int load_code(tg_pgp_keyring **out, const char *rel)
{
	size_t len;
	char *data = tt_read_src(rel, &len);
	int error = tg_pgp_keyring_parse(out, rel, data, len);

	free(data);
	return error;
}

static tg_pgp_keyring *load(const char *rel)
{
	tg_pgp_keyring *k = NULL;

	if (load_code(&k, rel) < 0)
		fail_msg("%s: %s", rel, tg_error_last());
	return k;
}

static int verify_files(tg_sig_info *info,
                        const tg_pgp_keyring *k,
                        const char *sig,
                        const char *msg,
                        int64_t when)
{
	size_t sl, ml;
	char *sd = tt_read_src(sig, &sl), *md = tt_read_src(msg, &ml);
	int error = tg_pgpsig_verify(info, k, sd, sl, md, ml, when);

	free(sd);
	free(md);
	return error;
}

static void test_openpgp_verifies_every_key_type(void **state)
{
	static const struct {
		const char *sig, *key, *uid;
	} ok[] = {
		{ D "sig-alice", "ed25519 ", "Alice <alice@example.com>" },
		{ D "sig-alice-sha512", "ed25519 ",
		  "Alice <alice@example.com>" },
		{ D "sig-bob", "rsa ", "Bob <bob@example.com>" },
		{ D "sig-carol", "ecdsa-p256 ", "Carol <carol@example.com>" },
		{ D "sig-dave", "ecdsa-p384 ", "Dave <dave@example.com>" },
		{ D "sig-gina", "ed25519 ", "Gina <gina@example.com>" },
	};
	tg_pgp_keyring *k = load(D "keys.asc");
	tg_sig_info info;
	size_t i;

	(void)state;
	assert_int_equal(tg_pgp_keyring_count(k), 7);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (verify_files(&info, k, ok[i].sig, D "payload", WHEN) != 0)
			fail_msg("%s: %s", ok[i].sig, tg_error_last());
		assert_string_equal(info.format, "openpgp");
		assert_true(tg_str_has_prefix(info.key, ok[i].key));
		assert_int_equal(strlen(info.key), strlen(ok[i].key) + 40);
		assert_string_equal(info.principal, ok[i].uid);
	}
	tg_pgp_keyring_free(k);
}

static void test_openpgp_rejects_other_payload_and_unlisted_key(void **state)
{
	tg_pgp_keyring *k = load(D "keys.asc");
	tg_sig_info info;

	(void)state;
	assert_int_equal(
	        verify_files(&info, k, D "sig-alice", D "payload-other", WHEN),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "does not verify");
	assert_int_equal(
	        verify_files(&info, k, D "sig-carol", D "payload-other", WHEN),
	        TG_EUNTRUSTED);
	assert_int_equal(
	        verify_files(&info, k, D "sig-other", D "payload", WHEN),
	        TG_ENOTFOUND);
	assert_contains(tg_error_last(), "no key of " D "keys.asc");
	/* the refusal still names the key that signed */
	assert_string_equal(info.format, "openpgp");
	assert_true(tg_str_has_prefix(info.key, "ed25519 "));
	/* SHA-1 is refused even from a listed key */
	assert_int_equal(
	        verify_files(&info, k, D "sig-bob-sha1", D "payload", WHEN),
	        TG_EINVALID);
	assert_contains(tg_error_last(), "never SHA-1");
	tg_pgp_keyring_free(k);
}

static void test_openpgp_expired_and_revoked_keys(void **state)
{
	tg_pgp_keyring *k = load(D "keys.asc");
	tg_sig_info info;

	(void)state;
	/* erin's key: made 2020-01-01, expired a day later */
	assert_int_equal(
	        verify_files(&info, k, D "sig-erin", D "payload", WHEN),
	        TG_EEXPIRED);
	assert_contains(tg_error_last(), "expired on 2020-01-02");
	assert_contains(tg_error_last(), "Erin <erin@example.com>");
	assert_int_equal(verify_files(&info, k, D "sig-erin", D "payload",
	                              1577840400 + 60),
	                 0);
	/* frank's key carries its revocation: refused with the reason */
	assert_int_equal(
	        verify_files(&info, k, D "sig-frank", D "payload", WHEN),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "was revoked on");
	assert_contains(tg_error_last(), "no reason given");
	tg_pgp_keyring_free(k);
}

static void test_openpgp_subkey_needs_sign_flag_and_backsig(void **state)
{
	tg_pgp_keyring *k = load(D "gina-sub-auth.asc");
	tg_sig_info info;

	(void)state;
	assert_int_equal(
	        verify_files(&info, k, D "sig-gina", D "payload", WHEN),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "not a signing subkey");
	tg_pgp_keyring_free(k);
	k = load(D "bad/keys-no-backsig.asc");
	assert_int_equal(
	        verify_files(&info, k, D "sig-gina", D "payload", WHEN),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(),
	                "no valid primary key binding signature");
	tg_pgp_keyring_free(k);
}

static void test_openpgp_hostile_signatures(void **state)
{
	static const struct {
		const char *file;
		int code;
		const char *msg;
	} bad[] = {
		{ "sig-truncated", TG_EPARSE, "truncated" },
		{ "sig-crc", TG_EPARSE, "CRC-24" },
		{ "sig-base64", TG_EPARSE, "invalid base64" },
		{ "sig-len-long", TG_EPARSE, "bytes but only" },
		{ "sig-len-short", TG_EPARSE, "not one signature packet" },
		{ "sig-partial", TG_EPARSE, "partial body length" },
		{ "sig-indeterminate", TG_EPARSE, "indeterminate" },
		{ "sig-two", TG_EPARSE, "not one signature packet" },
		{ "sig-after", TG_EPARSE, "text after" },
		{ "sig-v3", TG_EINVALID, "version 3" },
		{ "sig-unknown-alg", TG_EINVALID, "algorithm 99" },
		{ "sig-unknown-hash", TG_EINVALID, "hash algorithm 99" },
		{ "sig-type-text", TG_EINVALID, "type 0x01" },
		{ "sig-critical", TG_EINVALID, "critical subpacket 100" },
		{ "sig-mpi-huge", TG_ETOOBIG, "65535 bits" },
		{ "sig-empty", TG_EPARSE, "packet tag" },
	};
	tg_pgp_keyring *k = load(D "keys.asc");
	char path[256];
	size_t i;
	int error;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), D "bad/%s", bad[i].file);
		error = verify_files(NULL, k, path, D "payload", WHEN);
		if (error != bad[i].code ||
		    !strstr(tg_error_last(), bad[i].msg))
			fail_msg("%s: %s (%s): want %s", bad[i].file,
			         tg_error_name(error), tg_error_last(),
			         bad[i].msg);
	}
	error = tg_pgpsig_verify(NULL, k, "x", 1, "", 0, WHEN);
	assert_int_equal(error, TG_EPARSE);
	tg_pgp_keyring_free(k);
}

static void test_openpgp_hostile_key_files(void **state)
{
	static const struct {
		const char *file;
		int code;
		const char *msg;
	} bad[] = {
		{ D "bad/keys-bad-selfsig.asc", TG_EUNTRUSTED,
		  "self-signature of type 0x13" },
		{ D "bad/keys-no-uid.asc", TG_EINVALID,
		  "no user ID with a valid self-signature" },
		{ D "bad/keys-v5.asc", TG_EINVALID, "key version 5" },
		{ D "bad/keys-crc.asc", TG_EPARSE, "CRC-24" },
		{ D "bad/keys-truncated.asc", TG_EPARSE, "truncated" },
		{ D "bad/keys-private.asc", TG_EINVALID, "private key" },
		{ D "bad/keys-orphan.asc", TG_EPARSE, "before the first" },
		{ D "dsa.asc", TG_EINVALID, "primary key of algorithm-17" },
		{ D "weak.asc", TG_EINVALID, "RSA key of 1024 bits" },
		{ D "payload", TG_EPARSE, "no public key" },
	};
	tg_pgp_keyring *k = NULL;
	size_t i;
	int error;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = load_code(&k, bad[i].file);
		if (error != bad[i].code ||
		    !strstr(tg_error_last(), bad[i].msg))
			fail_msg("%s: %s (%s): want %s", bad[i].file,
			         tg_error_name(error), tg_error_last(),
			         bad[i].msg);
		assert_null(k);
		assert_contains(tg_error_last(), bad[i].file);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openpgp_verifies_every_key_type),
		cmocka_unit_test(
		        test_openpgp_rejects_other_payload_and_unlisted_key),
		cmocka_unit_test(test_openpgp_expired_and_revoked_keys),
		cmocka_unit_test(
		        test_openpgp_subkey_needs_sign_flag_and_backsig),
		cmocka_unit_test(test_openpgp_hostile_signatures),
		cmocka_unit_test(test_openpgp_hostile_key_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
