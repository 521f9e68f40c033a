/* known_hosts files: tg_known_hosts_check_data for a host on port 22 and
 * on another port, with the server's key as a blob and as a SHA-256 only
 * (plain, hashed |1| and wildcard host patterns, @revoked and
 * @cert-authority markers all go through the same lines). */
#include "fuzz.h"
#include "tollgate/knownhosts.h"

/* An ed25519 key blob in SSH wire format. */
static const unsigned char blob[] = {
	0,   0,   0,  11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5',
	'1', '9', 0,  0,  0,   32,  1,   2,   3,   4,   5,   6,   7,
	8,   9,   10, 11, 12,  13,  14,  15,  16,  17,  18,  19,  20,
	21,  22,  23, 24, 25,  26,  27,  28,  29,  30,  31,  32
};
static const unsigned char sha[32] = { 0x42 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;

	tg_discard(tg_known_hosts_check_data("known_hosts", text, size,
	                                     "git.example.com", 22, blob,
	                                     sizeof(blob), NULL));
	tg_discard(tg_known_hosts_check_data("known_hosts", text, size,
	                                     "127.0.0.1", 2222, NULL, 0, sha));
	return 0;
}
