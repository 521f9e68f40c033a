/* Tests of the drift memo (reconciler/drift/memo.c): what a later cycle
 * may skip, and that a torn, tampered or stale file never makes an
 * object look clean. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "tollgate/drift.h"
#include "tollgate/util.h"

static const char *K1 = "apps/v1 Deployment shop/web";
static const char *K2 = "v1 ConfigMap shop/web-config";
static const int64_t NOW = 1800000000;

static char *memo_path(void)
{
	char dir[] = "/tmp/tg-memo-XXXXXX";

	assert_non_null(mkdtemp(dir));
	return tg_path_join(dir, "drift-memo");
}

/* A memo of K1 (uid u1, rv 42, desired d1, healthy) and K2 saved to a
 * new file; its path. */
static char *saved(unsigned char d1[32], unsigned char d2[32])
{
	tg_drift_memo *m = NULL;
	char *path = memo_path();

	tg_sha256(d1, "desired one", 11);
	tg_sha256(d2, "desired two", 11);
	assert_int_equal(tg_drift_memo_load(&m, NULL), 0);
	tg_drift_memo_add(m, K1, "u1", "42", d1, 1, NOW - 10);
	tg_drift_memo_add(m, K2, "u2", "7", d2, 0, NOW - 10);
	assert_int_equal(tg_drift_memo_save(m, path), 0);
	tg_drift_memo_free(m);
	return path;
}

static bool clean(const tg_drift_memo *m,
                  const char *key,
                  const char *uid,
                  const char *rv,
                  const unsigned char d[32],
                  int64_t now)
{
	int health = -1;
	int64_t when = 0;

	return tg_drift_memo_clean(&health, &when, m, key, uid, rv, d, now);
}

static void rmpath(char *path)
{
	char *dir = tg_strdup(path);

	unlink(path);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
	free(dir);
	free(path);
}

/* Only the same object at the same resourceVersion against the same
 * desired object is clean: a write by anyone, a recreated object or a
 * change in Git each mean a full compare. */
static void test_memo_exact_match_only(void **state)
{
	unsigned char d1[32], d2[32];
	char *path = saved(d1, d2);
	tg_drift_memo *m = NULL;
	int health = -1;
	int64_t when = 0;

	(void)state;
	assert_int_equal(tg_drift_memo_load(&m, path), 0);
	assert_true(tg_drift_memo_clean(&health, &when, m, K1, "u1", "42", d1,
	                                NOW));
	assert_int_equal(health, 1);
	assert_int_equal(when, NOW - 10);
	assert_true(clean(m, K2, "u2", "7", d2, NOW));
	assert_false(clean(m, K1, "u1", "43", d1, NOW)); /* edited */
	assert_false(clean(m, K1, "u9", "42", d1, NOW)); /* recreated */
	assert_false(clean(m, K1, "u1", "42", d2, NOW)); /* Git changed */
	assert_false(
	        clean(m, "apps/v1 Deployment shop/other", "u1", "42", d1, NOW));
	/* Stale, or from the future: compared in full. */
	assert_false(clean(m, K1, "u1", "42", d1,
	                   NOW - 10 + TG_DRIFT_MEMO_MAX_AGE_S + 1));
	assert_false(clean(m, K1, "u1", "42", d1, NOW - 11));
	tg_drift_memo_free(m);
	rmpath(path);
}

/* Rewrite the file at path with f applied to its text. */
static void rewrite(const char *path, void (*f)(char *text, size_t *len))
{
	char *data = NULL;
	size_t len = 0;

	assert_int_equal(tg_file_read(&data, &len, path, 1 << 20), 0);
	f(data, &len);
	assert_int_equal(tg_file_write_atomic(path, data, len), 0);
	free(data);
}

static void torn(char *text, size_t *len)
{
	(void)text;
	*len = *len / 2; /* a write cut short */
}

static void no_end(char *text, size_t *len)
{
	*len = (size_t)(strstr(text, "\nend ") - text) + 1;
}

/* Only the first line (a write cut short after it). */
static void header_only(char *text, size_t *len)
{
	*len = (size_t)(strchr(text, '\n') - text) + 1;
}

/* Another writer makes the memo name the edited version: the end line's
 * digest no longer matches. */
static void tampered(char *text, size_t *len)
{
	char *rv = strstr(text, "\t42\t");

	(void)len;
	rv[2] = '3';
}

static void other_version(char *text, size_t *len)
{
	(void)len;
	text[strlen("tollgate drift memo ")] = '9';
}

/* Whatever is wrong with the file, nothing in it is trusted. */
static void test_memo_doubt_means_empty(void **state)
{
	void (*cases[])(char *, size_t *) = { torn, no_end, header_only,
		                              tampered, other_version };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char d1[32], d2[32];
		char *path = saved(d1, d2);
		tg_drift_memo *m = NULL;

		rewrite(path, cases[i]);
		assert_int_equal(tg_drift_memo_load(&m, path), 0);
		assert_false(clean(m, K1, "u1", "42", d1, NOW));
		assert_false(clean(m, K1, "u1", "43", d1, NOW));
		assert_false(clean(m, K2, "u2", "7", d2, NOW));
		tg_drift_memo_free(m);
		rmpath(path);
	}
}

/* A key added twice (the same object in two units) is not remembered;
 * fields the file could not carry are not either. */
static void test_memo_ambiguous_not_kept(void **state)
{
	unsigned char d[32];
	tg_drift_memo *m = NULL;
	char *path = memo_path();

	(void)state;
	tg_sha256(d, "x", 1);
	assert_int_equal(tg_drift_memo_load(&m, NULL), 0);
	tg_drift_memo_add(m, K1, "u1", "1", d, 0, NOW);
	tg_drift_memo_add(m, K1, "u1", "1", d, 0, NOW);
	tg_drift_memo_add(m, "v1 ConfigMap a/b\tc", "u2", "1", d, 0, NOW);
	tg_drift_memo_add(m, K2, "u2", "1\n2", d, 0, NOW);
	tg_drift_memo_add(m, "v1 ConfigMap a/ok", "u3", "5", d, 0, NOW);
	assert_int_equal(tg_drift_memo_save(m, path), 0);
	tg_drift_memo_free(m);
	assert_int_equal(tg_drift_memo_load(&m, path), 0);
	assert_false(clean(m, K1, "u1", "1", d, NOW));
	assert_false(clean(m, K2, "u2", "1\n2", d, NOW));
	assert_true(clean(m, "v1 ConfigMap a/ok", "u3", "5", d, NOW));
	tg_drift_memo_free(m);
	rmpath(path);
}

/* No file yet: an empty memo, no error. */
static void test_memo_missing_file(void **state)
{
	unsigned char d[32] = { 0 };
	tg_drift_memo *m = NULL;
	char *path = memo_path();

	(void)state;
	assert_int_equal(tg_drift_memo_load(&m, path), 0);
	assert_false(clean(m, K1, "u1", "42", d, NOW));
	tg_drift_memo_free(m);
	rmpath(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memo_exact_match_only),
		cmocka_unit_test(test_memo_doubt_means_empty),
		cmocka_unit_test(test_memo_ambiguous_not_kept),
		cmocka_unit_test(test_memo_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
