/*
 * SSH commit signatures (signed commits): the first byte picks the input.
 * 0: a file of OpenSSH public keys (tg_ssh_signers_parse_keys); 1: an
 * allowed_signers file (tg_ssh_signers_parse_allowed); anything else: the
 * rest is an armoured SSH signature checked by tg_sshsig_verify over a
 * fixed payload in namespace "git", against a plain key list and against
 * tests/data/sshsig/allowed_signers (principals, namespaces=,
 * valid-after/valid-before, as signed commits are checked), at a time the
 * first byte gives: 2022-06-01 plus three days for each step above 2, so
 * that both sides of the validity window of bob's line are reached.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "tollgate/sshsig.h"

static tg_ssh_signers *signers, *allowed;
static char *payload;
static size_t payload_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len;
	char *s;
	int error;

	(void)argc;
	(void)argv;
	payload = fuzz_source_file(&payload_len,
	                           "tests/fuzz/material/ssh-payload");
	s = fuzz_source_file(&len, "tests/fuzz/material/ssh-keys.pub");
	error = tg_ssh_signers_parse_keys(&signers, "ssh-keys.pub", s, len);
	free(s);
	if (error < 0)
		return 1;
	s = fuzz_source_file(&len, "tests/data/sshsig/allowed_signers");
	error = tg_ssh_signers_parse_allowed(&allowed, "allowed_signers", s,
	                                     len);
	free(s);
	return error < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *rest = (const char *)data + 1;
	tg_ssh_signers *s = NULL;
	tg_sig_info info = { 0 };

	if (size == 0)
		return 0;
	if (data[0] == 0 &&
	    tg_ssh_signers_parse_keys(&s, "keys", rest, size - 1) == 0)
		(void)tg_ssh_signers_count(s);
	else if (data[0] == 1 && tg_ssh_signers_parse_allowed(
	                                 &s, "allowed", rest, size - 1) == 0)
		(void)tg_ssh_signers_count(s);
	else if (data[0] > 1) {
		tg_discard(tg_sshsig_verify(&info, signers, rest, size - 1,
		                            payload, payload_len, "git",
		                            1700000000));
		tg_discard(tg_sshsig_verify(
		        &info, allowed, rest, size - 1, payload, payload_len,
		        "git",
		        1654041600 + (int64_t)(data[0] - 2) * 3 * 86400));
	}
	tg_ssh_signers_free(s);
	return 0;
}
