/* Tests of the shared helpers: errors, buffers, numbers, encodings, times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

static void test_util_buf_refuses_past_max(void **state)
{
	tg_buf b;

	(void)state;
	tg_buf_init(&b, 8);
	assert_int_equal(tg_buf_puts(&b, "12345"), 0);
	assert_int_equal(tg_buf_puts(&b, "6789"), TG_ETOOBIG);
	assert_string_equal(b.data, "12345");
	assert_int_equal(tg_buf_printf(&b, "%d", 678), 0);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(tg_buf_printf(&b, "x"), TG_ETOOBIG);
	tg_buf_free(&b);
}

static void test_util_parse_u64_bounds(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(tg_parse_u64(&v, "1234", 4, 10000), 0);
	assert_int_equal(v, 1234);
	assert_int_equal(tg_parse_u64(&v, "10001", 5, 10000), TG_ETOOBIG);
	assert_int_equal(tg_parse_u64(&v, "-1", 2, 10000), TG_EPARSE);
	assert_int_equal(tg_parse_u64(&v, "", 0, 10000), TG_EPARSE);
	assert_int_equal(
	        tg_parse_u64(&v, "18446744073709551616", 20, UINT64_MAX),
	        TG_ETOOBIG);
}

static void test_util_base64_roundtrip_and_rejects(void **state)
{
	unsigned char *out;
	size_t n;
	char *enc;

	(void)state;
	assert_int_equal(tg_base64_decode(&out, &n, "aGVsbG8=", 8), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	enc = tg_base64_encode(out, n);
	assert_string_equal(enc, "aGVsbG8=");
	free(enc);
	free(out);
	assert_int_equal(tg_base64_decode(&out, &n, "aGVsbG8", 7), TG_EPARSE);
	assert_int_equal(tg_base64_decode(&out, &n, "aGV*bG8=", 8), TG_EPARSE);
	assert_int_equal(tg_base64_decode(&out, &n, "aG=sbG8=", 8), TG_EPARSE);
	assert_null(out);
}

static void test_util_digest_validation(void **state)
{
	char d[TG_DIGEST_STR_LEN + 1];

	(void)state;
	tg_sha256_digest_str(d, "abc", 3);
	assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a3"
	                       "96177a9cb410ff61f20015ad");
	assert_true(tg_digest_is_valid(d));
	d[10] = 'A';
	assert_false(tg_digest_is_valid(d));
	assert_false(tg_digest_is_valid("sha256:abc"));
	assert_false(
	        tg_digest_is_valid("md5:ba7816bf8f01cfea414140de5dae2223"));
}

/* Pieces streamed in give the digest of their concatenation (the unit
 * content hash and the drift memo's desired hash are made this way and
 * must not change with it), empty pieces included. */
static void test_util_sha256_stream(void **state)
{
	unsigned char one[TG_SHA256_LEN], streamed[TG_SHA256_LEN];
	tg_sha256_stream *s;

	(void)state;
	tg_sha256(one, "{\"a\":1}\n0 ns\ncommit", 19);
	s = tg_sha256_begin();
	tg_sha256_add(s, "{\"a\":1}", 7);
	tg_sha256_add(s, "\n0 ", 3);
	tg_sha256_add(s, "", 0);
	tg_sha256_add(s, "ns", 2);
	tg_sha256_add(s, "\n", 1);
	tg_sha256_add(s, "commit", 6);
	tg_sha256_end(streamed, s);
	assert_memory_equal(one, streamed, TG_SHA256_LEN);
	s = tg_sha256_begin();
	tg_sha256_end(streamed, s);
	tg_sha256(one, "", 0);
	assert_memory_equal(one, streamed, TG_SHA256_LEN);
}

static void test_util_durations(void **state)
{
	int64_t s;

	(void)state;
	assert_int_equal(tg_parse_duration(&s, "30s"), 0);
	assert_int_equal(s, 30);
	assert_int_equal(tg_parse_duration(&s, "7d"), 0);
	assert_int_equal(s, 7 * 86400);
	assert_int_equal(tg_parse_duration(&s, "1h30m"), 0);
	assert_int_equal(s, 5400);
	assert_int_equal(tg_parse_duration(&s, "7"), TG_EPARSE);
	assert_contains(tg_error_last(), "bad duration \"7\"");
	assert_int_equal(tg_parse_duration(&s, "1w"), TG_EPARSE);
	assert_int_equal(tg_parse_duration(&s, ""), TG_EPARSE);
	assert_int_equal(tg_parse_duration(&s, "-5s"), TG_EPARSE);
}

static void test_util_times(void **state)
{
	int64_t t;
	char out[21];

	(void)state;
	assert_int_equal(tg_parse_rfc3339(&t, "1970-01-01T00:00:00Z"), 0);
	assert_int_equal(t, 0);
	assert_int_equal(tg_parse_rfc3339(&t, "2024-02-29T12:00:00.123Z"), 0);
	tg_format_rfc3339(out, t);
	assert_string_equal(out, "2024-02-29T12:00:00Z");
	assert_int_equal(tg_parse_rfc3339(&t, "2024-02-29T14:00:00+02:00"), 0);
	tg_format_rfc3339(out, t);
	assert_string_equal(out, "2024-02-29T12:00:00Z");
	assert_int_equal(tg_parse_rfc3339(&t, "2023-02-29T12:00:00Z"),
	                 TG_EPARSE);
	assert_int_equal(tg_parse_rfc3339(&t, "2023-01-01 12:00:00Z"),
	                 TG_EPARSE);
	assert_int_equal(tg_parse_date_end(&t, "2026-12-31"), 0);
	tg_format_rfc3339(out, t);
	assert_string_equal(out, "2026-12-31T23:59:59Z");
	assert_int_equal(tg_parse_date_end(&t, "2026-13-01"), TG_EPARSE);
}

/* Sleep until the next second of the wall clock (the clock file is read
 * again at most once a second). */
static void next_second(void)
{
	time_t t = time(NULL);

	while (time(NULL) == t)
		usleep(10000);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* TOLLGATE_TEST_CLOCK_FILE: the offset follows the file while the clock
 * runs; a bad or missing file keeps the last good offset. */
static void test_util_clock_file(void **state)
{
	char path[] = "/tmp/tg-clock-XXXXXX";
	int fd = mkstemp(path);
	int64_t d;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "3600\n");
	tg_clock_set_offset_file(path);
	d = tg_now() - (int64_t)time(NULL);
	assert_true(d >= 3599 && d <= 3600);
	write_file(path, "-60");
	next_second();
	d = tg_now() - (int64_t)time(NULL);
	assert_true(d >= -61 && d <= -60);
	write_file(path, "soon");
	next_second();
	d = tg_now() - (int64_t)time(NULL);
	assert_true(d >= -61 && d <= -60);
	unlink(path);
	next_second();
	d = tg_now() - (int64_t)time(NULL);
	assert_true(d >= -61 && d <= -60);
	tg_clock_set_offset_file(NULL);
	tg_clock_set_offset(0);
}

static void test_util_safe_relative_paths(void **state)
{
	(void)state;
	assert_true(tg_path_is_safe_relative("keys/release.pub"));
	assert_false(tg_path_is_safe_relative("../etc/passwd"));
	assert_false(tg_path_is_safe_relative("a/../../b"));
	assert_false(tg_path_is_safe_relative("/abs"));
	assert_false(tg_path_is_safe_relative("a//b"));
	assert_false(tg_path_is_safe_relative("a/./b"));
	assert_false(tg_path_is_safe_relative(""));
}

static void test_util_error_prefix_keeps_detail(void **state)
{
	(void)state;
	assert_int_equal(tg_error_set(TG_EPARSE, "line 3: bad"), TG_EPARSE);
	assert_int_equal(tg_error_prefix(TG_EPARSE, "%s", "policy.yaml"),
	                 TG_EPARSE);
	assert_string_equal(tg_error_last(), "policy.yaml: line 3: bad");
	assert_int_equal(tg_error_code(), TG_EPARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_buf_refuses_past_max),
		cmocka_unit_test(test_util_parse_u64_bounds),
		cmocka_unit_test(test_util_base64_roundtrip_and_rejects),
		cmocka_unit_test(test_util_digest_validation),
		cmocka_unit_test(test_util_sha256_stream),
		cmocka_unit_test(test_util_durations),
		cmocka_unit_test(test_util_times),
		cmocka_unit_test(test_util_clock_file),
		cmocka_unit_test(test_util_safe_relative_paths),
		cmocka_unit_test(test_util_error_prefix_keeps_detail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
