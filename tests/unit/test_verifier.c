/*
 * Tests of the verdict model, the verdict cache and the verifier's
 * decisions that need no registry (verify/verdict/verdict.c, verdict_cache.c,
 * verifier.c). The registry path is covered by tests/integration/verify_*.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testlib.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/util.h"
#include "tollgate/verdict.h"
#include "tollgate/verdict_cache.h"
#include "tollgate/verifier.h"

#define DIGEST                                                                 \
	"sha256:"                                                              \
	"634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"

static tg_check *passing(const char *name)
{
	tg_check *c = NULL;

	assert_int_equal(tg_check_new(&c, name), 0);
	return c;
}

static tg_check *failing(const char *name, const char *why)
{
	tg_check *c = passing(name);

	tg_check_fail(c, "%s", why);
	return c;
}

static tg_verdict *sample_verdict(void)
{
	tg_verdict *v = NULL;
	tg_check *sig = passing(TG_CHECK_SIGNATURE);

	assert_int_equal(tg_verdict_new(&v, "127.0.0.1:5000/acme/api:v1"), 0);
	tg_verdict_set_name(v, "127.0.0.1:5000/acme/api");
	tg_verdict_set_digest(v, DIGEST);
	tg_verdict_set_rule(v, "acme", "enforce");
	tg_verdict_set_time(v, 1790000000);
	json_object_set_new(tg_check_evidence(sig), "valid", json_integer(1));
	tg_check_note(sig, "signature 2: does not verify");
	tg_verdict_add_check(v, passing(TG_CHECK_REGISTRY), TG_CHECK_PASS);
	tg_verdict_add_check(v, sig, TG_CHECK_PASS);
	tg_verdict_add_check(v, failing(TG_CHECK_VULNERABILITIES, "CVE-1 high"),
	                     TG_CHECK_WAIVED);
	tg_verdict_add_platform(v, DIGEST, "linux/amd64");
	tg_verdict_finish(v);
	return v;
}

static void test_verifier_verdict_finish_rules(void **state)
{
	tg_verdict *v;

	(void)state;
	/* No checks at all: blocked. */
	assert_int_equal(tg_verdict_new(&v, "x"), 0);
	tg_verdict_finish(v);
	assert_int_equal(tg_verdict_get(v), TG_VERDICT_BLOCKED);
	/* A pass over a failed check is recorded as a failure. */
	tg_verdict_add_check(v, failing(TG_CHECK_SIGNATURE, "no"),
	                     TG_CHECK_PASS);
	assert_int_equal(tg_verdict_check_result(v, 0), TG_CHECK_FAIL);
	tg_verdict_finish(v);
	assert_int_equal(tg_verdict_get(v), TG_VERDICT_BLOCKED);
	tg_verdict_free(v);
	/* Warn and waived. */
	assert_int_equal(tg_verdict_new(&v, "x"), 0);
	tg_verdict_add_check(v, failing(TG_CHECK_SBOM, "no sbom"),
	                     TG_CHECK_WARN);
	tg_verdict_add_check(v, passing(TG_CHECK_SIGNATURE), TG_CHECK_PASS);
	tg_verdict_finish(v);
	assert_int_equal(tg_verdict_get(v), TG_VERDICT_WARNED);
	tg_verdict_free(v);
	v = sample_verdict();
	assert_int_equal(tg_verdict_get(v), TG_VERDICT_ALLOWED);
	assert_int_equal(tg_verdict_find_check(v, TG_CHECK_VULNERABILITIES), 2);
	assert_int_equal(tg_verdict_find_check(v, TG_CHECK_AGE), -1);
	tg_verdict_free(v);
}

static void test_verifier_verdict_json_roundtrip(void **state)
{
	tg_verdict *v = sample_verdict(), *back;
	json_t *j = tg_verdict_to_json(v), *j2;

	(void)state;
	assert_string_equal(json_string_value(json_object_get(j, "verdict")),
	                    "allowed");
	assert_string_equal(json_string_value(json_object_get(j, "verifiedAt")),
	                    "2026-09-21T14:13:20Z");
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(j, "checks"), 2),
	                "result")),
	        "waived");
	assert_int_equal(tg_verdict_from_json(&back, j), 0);
	j2 = tg_verdict_to_json(back);
	assert_true(json_equal(j, j2));
	json_decref(j2);
	tg_verdict_free(back);
	assert_int_equal(tg_verdict_dup(&back, v), 0);
	j2 = tg_verdict_to_json(back);
	assert_true(json_equal(j, j2));
	json_decref(j2);
	tg_verdict_free(back);
	json_decref(j);
	tg_verdict_free(v);
}

static void
test_verifier_verdict_from_json_rejects_and_fails_closed(void **state)
{
	tg_verdict *v;
	json_t *j;

	(void)state;
	/* A stored "allowed" over a failed check reads back blocked. */
	j = json_loads("{\"image\":\"a/b\",\"verdict\":\"allowed\",\"checks\":"
	               "[{\"name\":\"signature\",\"result\":\"fail\"}]}",
	               0, NULL);
	assert_int_equal(tg_verdict_from_json(&v, j), 0);
	assert_int_equal(tg_verdict_get(v), TG_VERDICT_BLOCKED);
	tg_verdict_free(v);
	json_decref(j);
	j = json_loads("{\"verdict\":\"allowed\",\"checks\":[]}", 0, NULL);
	assert_int_equal(tg_verdict_from_json(&v, j), TG_EPARSE);
	assert_null(v);
	assert_contains(tg_error_last(), "no \"image\"");
	json_decref(j);
	j = json_loads("{\"image\":\"a\",\"verdict\":\"maybe\",\"checks\":[]}",
	               0, NULL);
	assert_int_equal(tg_verdict_from_json(&v, j), TG_EPARSE);
	assert_contains(tg_error_last(), "unknown verdict \"maybe\"");
	json_decref(j);
	j = json_loads("{\"image\":\"a\",\"verdict\":\"allowed\",\"checks\":"
	               "[{\"name\":\"signature\",\"result\":\"ok\"}]}",
	               0, NULL);
	assert_int_equal(tg_verdict_from_json(&v, j), TG_EPARSE);
	assert_contains(tg_error_last(), "unknown check result \"ok\"");
	json_decref(j);
	j = json_loads(
	        "{\"image\":\"a\",\"verdict\":\"allowed\",\"checks\":{}}", 0,
	        NULL);
	assert_int_equal(tg_verdict_from_json(&v, j), TG_EPARSE);
	assert_contains(tg_error_last(), "no \"checks\" array");
	json_decref(j);
}

static void test_verifier_verdict_text_names_image_and_check(void **state)
{
	tg_verdict *v = NULL;
	tg_buf b;

	(void)state;
	assert_int_equal(tg_verdict_new(&v, "127.0.0.1:5000/acme/api:v1"), 0);
	tg_verdict_set_name(v, "127.0.0.1:5000/acme/api");
	tg_verdict_set_digest(v, DIGEST);
	tg_verdict_set_rule(v, "acme", "enforce");
	tg_verdict_add_check(
	        v,
	        failing(TG_CHECK_SIGNATURE,
	                "0 of 3 signatures verify with key \"release\"; "
	                "re-sign or add the signer to the policy"),
	        TG_CHECK_FAIL);
	tg_verdict_finish(v);
	tg_buf_init(&b, 1 << 20);
	assert_int_equal(tg_verdict_format_text(&b, v), 0);
	assert_contains(b.data, "127.0.0.1:5000/acme/api:v1: blocked " DIGEST
	                        " (rule acme, enforce)\n");
	assert_contains(
	        b.data,
	        "  127.0.0.1:5000/acme/api@" DIGEST
	        ": signature: 0 of 3 signatures verify with key "
	        "\"release\"; re-sign or add the signer to the policy\n");
	tg_buf_free(&b);
	tg_verdict_free(v);
}

static void test_verifier_cache_keys_and_expiry(void **state)
{
	tg_verdict_cache *c = NULL;
	tg_verdict *v = sample_verdict(), *got;
	char subj[64];
	int i;

	(void)state;
	assert_int_equal(tg_verdict_cache_new(&c, 60), 0);
	tg_verdict_cache_put(c, "sha256:p1", "a@" DIGEST, v, 1000);
	got = tg_verdict_cache_get(c, "sha256:p1", "a@" DIGEST, 1030, NULL);
	assert_non_null(got);
	assert_int_equal(tg_verdict_get(got), TG_VERDICT_ALLOWED);
	tg_verdict_free(got);
	/* Another policy: no answer. */
	assert_null(
	        tg_verdict_cache_get(c, "sha256:p2", "a@" DIGEST, 1030, NULL));
	/* Another subject: no answer. */
	assert_null(
	        tg_verdict_cache_get(c, "sha256:p1", "b@" DIGEST, 1030, NULL));
	/* Past the TTL: no answer, and expire drops it. */
	assert_null(
	        tg_verdict_cache_get(c, "sha256:p1", "a@" DIGEST, 1061, NULL));
	/* Many entries grow the table without losing any. */
	for (i = 0; i < 500; i++) {
		snprintf(subj, sizeof(subj), "img%d@x", i);
		tg_verdict_cache_put(c, "sha256:p1", subj, v, 1050);
	}
	assert_int_equal(tg_verdict_cache_count(c), 501);
	got = tg_verdict_cache_get(c, "sha256:p1", "img321@x", 1060, NULL);
	assert_non_null(got);
	tg_verdict_free(got);
	tg_verdict_cache_expire(c, 1061);
	assert_int_equal(tg_verdict_cache_count(c), 500);
	tg_verdict_cache_free(c);
	tg_verdict_free(v);
}

static void test_verifier_cache_persists(void **state)
{
	char *dir = tt_mkdtemp();
	char *path = tg_path_join(dir, "cache.json");
	char *bad = tg_path_join(dir, "bad.json");
	tg_verdict_cache *c = NULL, *c2 = NULL;
	tg_verdict *v = sample_verdict(), *got;

	(void)state;
	assert_int_equal(tg_verdict_cache_new(&c, 60), 0);
	tg_verdict_cache_put(c, "sha256:p1", "a@" DIGEST, v, 1000);
	tg_verdict_cache_put(c, "sha256:p1", "old@" DIGEST, v, 900);
	assert_int_equal(tg_verdict_cache_save(c, path), 0);
	assert_int_equal(tg_verdict_cache_new(&c2, 60), 0);
	/* A missing file is an empty cache. */
	assert_int_equal(tg_verdict_cache_load(c2, bad, 1010), 0);
	assert_int_equal(tg_verdict_cache_load(c2, path, 1010), 0);
	/* The entry stored at 900 is past its TTL at 1010. */
	assert_int_equal(tg_verdict_cache_count(c2), 1);
	got = tg_verdict_cache_get(c2, "sha256:p1", "a@" DIGEST, 1010, NULL);
	assert_non_null(got);
	assert_string_equal(tg_verdict_digest(got), DIGEST);
	tg_verdict_free(got);
	tt_write_file(bad, "{\"version\":\"other\",\"entries\":[]}");
	assert_int_equal(tg_verdict_cache_load(c2, bad, 1010), TG_EPARSE);
	assert_contains(tg_error_last(), "not a verdict cache");
	tt_write_file(bad, "{\"version\":\"tollgate.dev/verdict-cache/v1\","
	                   "\"entries\":[{\"subject\":1}]}");
	assert_int_equal(tg_verdict_cache_load(c2, bad, 1010), TG_EPARSE);
	assert_contains(tg_error_last(), "entry 1");
	tg_verdict_cache_free(c2);
	tg_verdict_cache_free(c);
	tg_verdict_free(v);
	tt_rmtree(dir);
	free(bad);
	free(path);
	free(dir);
}

/* A verdict allowed by an exception (waived check) that ends at until. */
static tg_verdict *bounded_verdict(int64_t until)
{
	tg_verdict *v = NULL;
	tg_check *vuln = failing(TG_CHECK_VULNERABILITIES, "CVE-1 critical");

	assert_int_equal(tg_verdict_new(&v, "127.0.0.1:5000/acme/api:v1"), 0);
	tg_verdict_set_digest(v, DIGEST);
	tg_verdict_set_time(v, 1000);
	tg_check_bound(vuln, until + 50, "a later bound");
	tg_check_bound(vuln, until, "exception \"api-cve\" expires 2026-12-31");
	tg_check_bound(vuln, until + 10, "later again: ignored");
	tg_verdict_add_check(v, passing(TG_CHECK_SIGNATURE), TG_CHECK_PASS);
	tg_verdict_add_check(v, vuln, TG_CHECK_WAIVED);
	tg_verdict_finish(v);
	assert_int_equal(tg_verdict_get(v), TG_VERDICT_ALLOWED);
	return v;
}

/* Issue 13: a cached allowed verdict is never served past the earliest
 * time it depended on, and the lookup hands back the expired verdict so
 * the new one can say why it was not used. */
/* The file is the same whatever order the entries were put in (found by
 * fuzz_verdict_cache: loading a file and saving it again reordered
 * entries whose slots collide). */
static void test_verifier_cache_file_order(void **state)
{
	char *dir = tt_mkdtemp();
	char *p1 = tg_path_join(dir, "one.json");
	char *p2 = tg_path_join(dir, "two.json");
	char *p3 = tg_path_join(dir, "three.json");
	char *t1, *t2, *t3, subject[128];
	size_t l1, l2, l3;
	tg_verdict_cache *a = NULL, *b = NULL, *again = NULL;
	tg_verdict *v = sample_verdict();
	int i;

	(void)state;
	assert_int_equal(tg_verdict_cache_new(&a, 60), 0);
	assert_int_equal(tg_verdict_cache_new(&b, 60), 0);
	for (i = 0; i < 300; i++) {
		snprintf(subject, sizeof(subject), "img%d@" DIGEST, i);
		tg_verdict_cache_put(a, i % 2 ? "sha256:p1" : "sha256:p2",
		                     subject, v, 1000);
		snprintf(subject, sizeof(subject), "img%d@" DIGEST, 299 - i);
		tg_verdict_cache_put(b,
		                     (299 - i) % 2 ? "sha256:p1" : "sha256:p2",
		                     subject, v, 1000);
	}
	assert_int_equal(tg_verdict_cache_save(a, p1), 0);
	assert_int_equal(tg_verdict_cache_save(b, p2), 0);
	assert_int_equal(tg_verdict_cache_new(&again, 60), 0);
	assert_int_equal(tg_verdict_cache_load(again, p2, 1010), 0);
	assert_int_equal(tg_verdict_cache_count(again), 300);
	assert_int_equal(tg_verdict_cache_save(again, p3), 0);
	assert_int_equal(tg_file_read(&t1, &l1, p1, 1 << 24), 0);
	assert_int_equal(tg_file_read(&t2, &l2, p2, 1 << 24), 0);
	assert_int_equal(tg_file_read(&t3, &l3, p3, 1 << 24), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(t1, t2, l1);
	assert_int_equal(l1, l3);
	assert_memory_equal(t1, t3, l1);
	/* Sorted by policy hash, then subject. */
	assert_true(strstr(t1, "\"sha256:p1\"") < strstr(t1, "\"sha256:p2\""));
	assert_true(strstr(t1, "img101@") < strstr(t1, "img103@"));
	free(t1);
	free(t2);
	free(t3);
	tg_verdict_cache_free(again);
	tg_verdict_cache_free(b);
	tg_verdict_cache_free(a);
	tg_verdict_free(v);
	tt_rmtree(dir);
	free(p1);
	free(p2);
	free(p3);
	free(dir);
}

static void test_verifier_cache_stops_at_valid_until(void **state)
{
	tg_verdict_cache *c = NULL;
	tg_verdict *v = bounded_verdict(1100), *got, *expired = NULL;
	const char *check = NULL, *why = NULL;
	json_t *j;

	(void)state;
	assert_int_equal(tg_verdict_valid_until(v, &check, &why), 1100);
	assert_string_equal(check, TG_CHECK_VULNERABILITIES);
	assert_string_equal(why, "exception \"api-cve\" expires 2026-12-31");
	/* The bound is part of the JSON form and reads back. */
	j = tg_verdict_to_json(v);
	assert_string_equal(json_string_value(json_object_get(j, "validUntil")),
	                    "1970-01-01T00:18:20Z");
	json_decref(j);
	assert_int_equal(tg_verdict_cache_new(&c, 600), 0);
	tg_verdict_cache_put(c, "sha256:p1", "a@" DIGEST, v, 1000);
	got = tg_verdict_cache_get(c, "sha256:p1", "a@" DIGEST, 1100, &expired);
	assert_non_null(got);
	assert_null(expired);
	assert_int_equal(tg_verdict_valid_until(got, NULL, NULL), 1100);
	tg_verdict_free(got);
	/* One second later, well within the TTL: not served. */
	assert_null(tg_verdict_cache_get(c, "sha256:p1", "a@" DIGEST, 1101,
	                                 &expired));
	assert_non_null(expired);
	assert_int_equal(tg_verdict_valid_until(expired, &check, &why), 1100);
	assert_string_equal(check, TG_CHECK_VULNERABILITIES);
	tg_verdict_free(expired);
	/* Kept (to say why) until the TTL ends, never served. */
	tg_verdict_cache_expire(c, 1101);
	assert_int_equal(tg_verdict_cache_count(c), 1);
	assert_null(
	        tg_verdict_cache_get(c, "sha256:p1", "a@" DIGEST, 1200, NULL));
	tg_verdict_cache_expire(c, 1601);
	assert_int_equal(tg_verdict_cache_count(c), 0);
	/* Stored after its bound: never served either. */
	tg_verdict_cache_put(c, "sha256:p1", "a@" DIGEST, v, 1101);
	assert_null(
	        tg_verdict_cache_get(c, "sha256:p1", "a@" DIGEST, 1101, NULL));
	/* A verdict without any bound lives for the TTL. */
	tg_verdict_free(v);
	v = sample_verdict();
	assert_int_equal(tg_verdict_valid_until(v, NULL, NULL), TG_TIME_NEVER);
	tg_verdict_cache_put(c, "sha256:p1", "a@" DIGEST, v, 1000);
	got = tg_verdict_cache_get(c, "sha256:p1", "a@" DIGEST, 1600, NULL);
	assert_non_null(got);
	tg_verdict_free(got);
	tg_verdict_cache_free(c);
	tg_verdict_free(v);
}

/* An entry written as the cache file holds it. */
static void write_entry(const char *path, const char *until, const char *vj)
{
	char *text = tg_aprintf(
	        "{\"version\":\"tollgate.dev/verdict-cache/v1\",\"entries\":"
	        "[{\"policyHash\":\"sha256:p1\",\"subject\":\"a@x\","
	        "\"storedAt\":1000%s%s,\"verdict\":%s}]}",
	        until ? ",\"validUntil\":" : "", until ? until : "", vj);

	tt_write_file(path, text);
	free(text);
}

/* The bound survives a restart; an entry of the older format (no
 * validUntil) is treated as expired; an edited entry gets no longer than
 * its checks allow. */
static void test_verifier_cache_persists_valid_until(void **state)
{
	char *dir = tt_mkdtemp(), *path = tg_path_join(dir, "cache.json");
	tg_verdict_cache *c = NULL, *c2 = NULL;
	tg_verdict *v = bounded_verdict(1100), *got;
	json_t *j = tg_verdict_to_json(v);
	char *vj = json_dumps(j, JSON_COMPACT);

	(void)state;
	assert_int_equal(tg_verdict_cache_new(&c, 600), 0);
	tg_verdict_cache_put(c, "sha256:p1", "a@" DIGEST, v, 1000);
	assert_int_equal(tg_verdict_cache_save(c, path), 0);
	assert_int_equal(tg_verdict_cache_new(&c2, 600), 0);
	assert_int_equal(tg_verdict_cache_load(c2, path, 1050), 0);
	got = tg_verdict_cache_get(c2, "sha256:p1", "a@" DIGEST, 1100, NULL);
	assert_non_null(got);
	tg_verdict_free(got);
	assert_null(
	        tg_verdict_cache_get(c2, "sha256:p1", "a@" DIGEST, 1101, NULL));
	tg_verdict_cache_free(c2);
	/* Loaded after the bound: not served, but handed back as expired
	 * (a new `once` says why it verified again). */
	assert_int_equal(tg_verdict_cache_new(&c2, 600), 0);
	assert_int_equal(tg_verdict_cache_load(c2, path, 1101), 0);
	assert_null(
	        tg_verdict_cache_get(c2, "sha256:p1", "a@" DIGEST, 1101, &got));
	assert_non_null(got);
	tg_verdict_free(got);
	tg_verdict_cache_free(c2);
	assert_int_equal(tg_verdict_cache_new(&c2, 600), 0);
	/* No validUntil (the format before issue 13): expired. */
	write_entry(path, NULL, vj);
	assert_int_equal(tg_verdict_cache_load(c2, path, 1010), 0);
	assert_int_equal(tg_verdict_cache_count(c2), 0);
	/* null (unbounded) over a bounded check: the check's bound holds. */
	write_entry(path, "null", vj);
	assert_int_equal(tg_verdict_cache_load(c2, path, 1010), 0);
	assert_int_equal(tg_verdict_cache_count(c2), 1);
	assert_null(tg_verdict_cache_get(c2, "sha256:p1", "a@x", 1101, NULL));
	tg_verdict_cache_free(c2);
	/* An earlier stored bound than the checks': the stored one holds. */
	assert_int_equal(tg_verdict_cache_new(&c2, 600), 0);
	write_entry(path, "1050", vj);
	assert_int_equal(tg_verdict_cache_load(c2, path, 1010), 0);
	got = tg_verdict_cache_get(c2, "sha256:p1", "a@x", 1050, NULL);
	assert_non_null(got);
	tg_verdict_free(got);
	assert_null(tg_verdict_cache_get(c2, "sha256:p1", "a@x", 1051, NULL));
	/* A bound of the wrong type is a corrupt file. */
	write_entry(path, "\"soon\"", vj);
	assert_int_equal(tg_verdict_cache_load(c2, path, 1010), TG_EPARSE);
	tg_verdict_cache_free(c2);
	tg_verdict_cache_free(c);
	tg_verdict_free(v);
	json_decref(j);
	free(vj);
	tt_rmtree(dir);
	free(path);
	free(dir);
}

/* An entry stored at a time so far back that now minus it does not fit
 * in 64 bits is expired like any old one (it was served as fresh: the
 * subtraction overflowed). Found by fuzz_verdict_cache. */
static void test_verifier_cache_ancient_entry_expired(void **state)
{
	char *dir = tt_mkdtemp(), *path = tg_path_join(dir, "cache.json");
	tg_verdict_cache *c = NULL;
	tg_verdict *v = bounded_verdict(5000);
	json_t *j = tg_verdict_to_json(v);
	char *vj = json_dumps(j, JSON_COMPACT), *text;

	(void)state;
	text = tg_aprintf("{\"version\":\"tollgate.dev/verdict-cache/v1\","
	                  "\"entries\":[{\"policyHash\":\"sha256:p1\","
	                  "\"subject\":\"a@x\",\"storedAt\":"
	                  "-9223372036854775807,\"validUntil\":null,"
	                  "\"verdict\":%s}]}",
	                  vj);
	tt_write_file(path, text);
	assert_int_equal(tg_verdict_cache_new(&c, 600), 0);
	assert_int_equal(tg_verdict_cache_load(c, path, 1010), 0);
	assert_int_equal(tg_verdict_cache_count(c), 0);
	assert_null(tg_verdict_cache_get(c, "sha256:p1", "a@x", 1010, NULL));
	tg_verdict_cache_free(c);
	tg_verdict_free(v);
	json_decref(j);
	free(vj);
	free(text);
	tt_rmtree(dir);
	free(path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verifier_verdict_finish_rules),
		cmocka_unit_test(test_verifier_verdict_json_roundtrip),
		cmocka_unit_test(
		        test_verifier_verdict_from_json_rejects_and_fails_closed),
		cmocka_unit_test(
		        test_verifier_verdict_text_names_image_and_check),
		cmocka_unit_test(test_verifier_cache_keys_and_expiry),
		cmocka_unit_test(test_verifier_cache_persists),
		cmocka_unit_test(test_verifier_cache_file_order),
		cmocka_unit_test(test_verifier_cache_stops_at_valid_until),
		cmocka_unit_test(test_verifier_cache_persists_valid_until),
		cmocka_unit_test(test_verifier_cache_ancient_entry_expired),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
