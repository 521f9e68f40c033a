/*
 * Tests of the previous status in digests (reconciler/report/statusprev*.c):
 * status.json read back unit by unit gives the same digests as the whole
 * tree and refuses what the whole parse refused; the digests file in
 * stateDir serves only the status commit it names, and a torn or tampered
 * file is dropped (status.json is read instead), against a real bare
 * repository made with the git CLI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../reconciler/report/statusdoc_int.h"
#include "testlib.h"
#include "tollgate/buf.h"
#include "tollgate/source.h"
#include "tollgate/status.h"
#include "tollgate/util.h"

#define DIGEST_A                                                               \
	"sha256:"                                                              \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static json_t *parse(const char *text, size_t len)
{
	json_error_t e;
	json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);

	if (!v)
		fail_msg("bad test JSON: %s", e.text);
	return v;
}

/* ---- Reading status.json unit by unit ----------------------------- */

/* The text (len bytes) read unit by unit says what the tree says. */
static void assert_parse_len_matches_tree(const char *text, size_t len)
{
	json_t *doc = parse(text, len);
	tg_statusprev *t = tg_statusprev_of(doc);
	tg_statusprev *p = tg_statusprev_parse(text, len);
	size_t i;

	assert_non_null(p);
	assert_true(tg_statusprev_same(t, p));
	assert_int_equal(t->nunits, p->nunits);
	for (i = 0; i < t->nunits; i++) {
		assert_string_equal(t->units[i].name, p->units[i].name);
		assert_memory_equal(t->units[i].d, p->units[i].d,
		                    TG_SHA256_LEN);
	}
	for (i = 0; i < TG_STATUSPREV_PLAIN_N; i++)
		assert_int_equal(t->plain[i].has, p->plain[i].has);
	assert_true(tg_statusprev_plain_equal(t, p, TG_STATUSPREV_DRIFT) ==
	            t->plain[TG_STATUSPREV_DRIFT].has);
	assert_false(tg_statusprev_artifact_changed(p, t));
	if (tg_statusprev_source(t))
		assert_string_equal(tg_statusprev_source(t),
		                    tg_statusprev_source(p));
	tg_statusprev_free(t);
	tg_statusprev_free(p);
	json_decref(doc);
}

#define assert_parse_matches_tree(text)                                        \
	assert_parse_len_matches_tree((text), strlen(text))

static void test_parse_matches_tree(void **state)
{
	(void)state;
	assert_parse_matches_tree(
	        "{\"sourceCommit\":\"abc\",\"units\":{\"a\":{\"verdict\":"
	        "\"applied\",\"n\":12,\"r\":1.5,\"t\":true,\"z\":null}},"
	        "\"drift\":[],\"artifact\":{\"digest\":\"" DIGEST_A "\","
	        "\"verdict\":\"allowed\"}}");
	/* strings holding what delimits values, escapes, indentation */
	assert_parse_matches_tree(
	        "{\n  \"time\": \"x\",\n  \"units\": {\n    \"we}b\": {\n"
	        "      \"verdict\": \"unchanged\",\n      \"message\": "
	        "\"a \\\"}{\\\" ], \\\\\"\n    },\n    \"\\u00e9t\\u00e9\": "
	        "{\"verdict\": \"blocked\", \"images\": [[], {}, [1, -2.5e3]]}"
	        "\n  },\n  \"n\": -7,\n  \"drift\": [{\"unit\": "
	        "\"we}b\"}]\n}\n");
	assert_parse_matches_tree("{\"units\": {}, \"count\": 0}");
	assert_parse_matches_tree("{\"units\": [1, 2]}");
	/* jansson takes one NUL byte right after a number or a literal as
	 * its end (found by fuzz_status_prev: the unit-by-unit reader took
	 * the NUL for the end of the value and then found no ',' or '}', so
	 * the last status read as none and a status commit was made
	 * needlessly) */
	assert_parse_len_matches_tree("{\n  \"sourceCommit\":\n2\0}", 23);
	assert_parse_len_matches_tree("{\"units\": {\"a\": {\"n\": 1}}, "
	                              "\"t\": true\0}",
	                              38);
}

/* What the whole parse refused (not JSON, a key twice) is no status. */
static void test_parse_refuses_what_json_refuses(void **state)
{
	const char *bad[] = {
		"{\"units\": {\"a\": {}, \"a\": {}}}",
		"{\"time\": 1, \"units\": {}, \"time\": 2}",
		"{\"units\": {\"a\": {\"v\": 1, \"v\": 2}}}",
		"{\"units\": {}, \"units\": {}}",
		"{\"units\": {}} x",
		"{\"units\": {\"a\": {}}",
		"{\"units\": {\"a\": {\"m\": \"x}}}",
		"{\"units\" {}}",
		"{\"units\": {},}",
		"[{\"units\": {}}]",
		"",
	};
	json_error_t e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *v = json_loads(bad[i], JSON_REJECT_DUPLICATES, &e);

		assert_true(!json_is_object(v));
		json_decref(v);
		assert_null(tg_statusprev_parse(bad[i], strlen(bad[i])));
	}
}

/* ---- The digests file against a repository ------------------------ */

typedef struct fixture {
	char *dir, *remote, *state, *digests;
	char *head;
	tg_source *src;
} fixture;

static char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sh_out(const char *fmt, ...)
{
	va_list ap;
	char cmd[4096], buf[4096];
	tg_buf b;
	size_t n;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_non_null(p = popen(cmd, "r"));
	tg_buf_init(&b, 1 << 20);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		assert_int_equal(tg_buf_append(&b, buf, n), 0);
	assert_int_equal(pclose(p), 0);
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return tg_buf_detach(NULL, &b);
}

static int setup(void **state)
{
	fixture *f = tg_calloc(1, sizeof(*f));
	tg_source_opts o = { 0 };

	f->dir = tt_mkdtemp();
	f->remote = tg_aprintf("%s/remote.git", f->dir);
	f->state = tg_aprintf("%s/state", f->dir);
	f->digests = tg_aprintf("%s/status-digests", f->dir);
	free(sh_out("git init -q --bare -b main '%s' && cd '%s' && "
	            "git init -q -b main work && cd work && echo a > a && "
	            "git add a && git -c user.name=t -c user.email=t@e "
	            "commit -q -m deploy && git push -q '%s' HEAD:main "
	            "2>/dev/null",
	            f->remote, f->dir, f->remote));
	f->head = sh_out("git -C '%s' rev-parse main", f->remote);
	o.url = f->remote;
	o.branch = "main";
	o.state_dir = f->state;
	assert_int_equal(tg_source_open(&f->src, &o), 0);
	assert_int_equal(tg_source_fetch(f->src), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	tg_source_free(f->src);
	tt_rmtree(f->dir);
	free(f->dir);
	free(f->remote);
	free(f->state);
	free(f->digests);
	free(f->head);
	free(f);
	return 0;
}

/* payments with verdict v, web applied. */
static json_t *doc_of(const fixture *f, const char *v, const char *time)
{
	char *text = tg_aprintf(
	        "{\"sourceCommit\": \"%s\", \"time\": \"%s\", \"units\": {"
	        "\"payments\": {\"verdict\": \"%s\", \"message\": \"m\"},"
	        "\"web\": {\"verdict\": \"applied\"}}, \"drift\": []}",
	        f->head, time, v);
	json_t *doc = parse(text, strlen(text));

	free(text);
	return doc;
}

static bool publish(tg_status_result *r, fixture *f, const json_t *doc)
{
	tg_status_opts o = { 0 };

	o.branch = "tollgate/status";
	o.notes_ref = "refs/notes/tollgate";
	o.author_name = "tollgate";
	o.author_email = "tollgate@cluster.local";
	o.push = true;
	o.digests_path = f->digests;
	assert_int_equal(
	        tg_status_publish(r, tg_source_gitrepo(f->src), &o, doc), 0);
	return r->committed;
}

/* Write the digests of doc into the file, naming commit. */
static void save_digests_of(fixture *f, const json_t *doc, const char *commit)
{
	tg_statusprev *p = tg_statusprev_of(doc);

	assert_int_equal(tg_statusprev_save(p, f->digests, commit), 0);
	tg_statusprev_free(p);
}

static char *read_digests(fixture *f)
{
	return sh_out("cat '%s'", f->digests);
}

/* "failed: payments at <7 hex> (m)": b's commit went in. */
static void assert_b_committed(fixture *f)
{
	char *s = sh_out("git -C '%s' log -1 --format=%%s tollgate/status",
	                 f->remote);
	char *want = tg_aprintf("failed: payments at %.7s (m)", f->head);

	assert_string_equal(s, want);
	free(s);
	free(want);
}

static void test_digests_file_serves_its_commit(void **state)
{
	fixture *f = *state;
	json_t *a = doc_of(f, "applied", "t1"), *b = doc_of(f, "failed", "t2");
	tg_status_result r;
	char *text, *s;

	assert_true(publish(&r, f, a));
	text = read_digests(f);
	s = tg_aprintf("commit %s\n", r.commit);
	assert_contains(text, s);
	free(s);
	free(text);
	/* the same status later: no commit */
	json_object_set_new(a, "time", json_string("t3"));
	assert_false(publish(&r, f, a));
	/* the file is what is compared while it names the tip: b's digests
	 * under the tip make b nothing new */
	save_digests_of(f, b, r.commit);
	assert_false(publish(&r, f, b));
	/* naming another commit it is not used: status.json is read */
	save_digests_of(f, b, "0123456789012345678901234567890123456789");
	assert_true(publish(&r, f, b));
	assert_b_committed(f);
	/* and then the file names the new commit */
	text = read_digests(f);
	s = tg_aprintf("commit %s\n", r.commit);
	assert_contains(text, s);
	free(s);
	free(text);
	assert_false(publish(&r, f, b));
	json_decref(a);
	json_decref(b);
}

/* The line of unit name in text (hex name), its digest replaced by d. */
static void replace_unit_digest(char *text,
                                const char *name,
                                const unsigned char d[TG_SHA256_LEN])
{
	char hex[2 * TG_SHA256_LEN + 1], *line, *nh;

	nh = tg_malloc(2 * strlen(name) + 1);
	tg_hex_encode(nh, (const unsigned char *)name, strlen(name));
	line = tg_aprintf("unit %s ", nh);
	assert_non_null(strstr(text, line));
	tg_hex_encode(hex, d, TG_SHA256_LEN);
	memcpy(strstr(text, line) + strlen(line), hex, 2 * TG_SHA256_LEN);
	free(line);
	free(nh);
}

/* Someone edits the file (the end line no longer matches): it is dropped
 * with a warning, status.json is read, and b is committed. */
static void test_tampered_digests_file_dropped(void **state)
{
	fixture *f = *state;
	json_t *a = doc_of(f, "applied", "t1"), *b = doc_of(f, "failed", "t2");
	tg_statusprev *pb = tg_statusprev_of(b);
	tg_status_result r;
	char *text, *s;

	assert_true(publish(&r, f, a));
	text = read_digests(f);
	replace_unit_digest(text, "payments",
	                    tg_statusprev_unit(pb, "payments"));
	s = tg_aprintf("%s\n", text); /* sh_out took the last newline */
	tt_write_file(f->digests, s);
	free(s);
	free(text);
	assert_true(publish(&r, f, b));
	assert_b_committed(f);
	tg_statusprev_free(pb);
	json_decref(a);
	json_decref(b);
}

/* A file cut short (a crash while writing without the rename) or with a
 * line it does not know is dropped too. */
static void test_torn_digests_file_dropped(void **state)
{
	fixture *f = *state;
	json_t *a = doc_of(f, "applied", "t1"), *b = doc_of(f, "failed", "t2");
	tg_status_result r;
	char *text, *end;

	assert_true(publish(&r, f, a));
	save_digests_of(f, b, r.commit);
	text = read_digests(f);
	assert_non_null(end = strstr(text, "\nend "));
	end[1] = '\0';
	tt_write_file(f->digests, text);
	free(text);
	assert_true(publish(&r, f, b));
	assert_b_committed(f);
	json_decref(a);
	json_decref(b);
}

/* A file that is only its header line (a crash right after writing it):
 * dropped, without reading before the buffer (the end line's search found
 * no newline once the header's was cut: UBSan). */
static void test_header_only_digests_file_dropped(void **state)
{
	fixture *f = *state;
	json_t *a = doc_of(f, "applied", "t1"), *b = doc_of(f, "failed", "t2");
	tg_status_result r;

	assert_true(publish(&r, f, a));
	tt_write_file(f->digests, "tollgate status digests 1\n");
	assert_true(publish(&r, f, b));
	assert_b_committed(f);
	json_decref(a);
	json_decref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_matches_tree),
		cmocka_unit_test(test_parse_refuses_what_json_refuses),
		cmocka_unit_test_setup_teardown(
		        test_digests_file_serves_its_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_tampered_digests_file_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_digests_file_dropped,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_header_only_digests_file_dropped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
