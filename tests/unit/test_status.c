/*
 * Tests of status documents (message, note, STATUS.md, substance) and of
 * status commits against a real bare repository made with the git CLI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/gitrepo.h"
#include "tollgate/limits.h"
#include "tollgate/source.h"
#include "tollgate/status.h"
#include "tollgate/util.h"

#define DIGEST_A                                                               \
	"sha256:"                                                              \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B                                                               \
	"sha256:"                                                              \
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define COMMIT_1 "3f2c1a9e0a376f450fe3067655dbb1f2bd8b4b00"

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	va_list ap;
	char cmd[4096];

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sh_out(const char *fmt, ...)
{
	va_list ap;
	char cmd[4096];
	tg_buf b;
	char buf[4096];
	size_t n;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	tg_buf_init(&b, 1 << 20);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		assert_int_equal(tg_buf_append(&b, buf, n), 0);
	pclose(p);
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return tg_buf_detach(NULL, &b);
}

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);

	if (!v)
		fail_msg("bad test JSON: %s", e.text);
	return v;
}

/* payments blocked (1 of 2 images), web applied. */
static json_t *doc_blocked(const char *commit, const char *time)
{
	char *text = tg_aprintf(
	        "{\"sourceCommit\": \"%s\", \"time\": \"%s\","
	        " \"units\": {"
	        "  \"payments\": {\"verdict\": \"blocked\", \"images\": ["
	        "   {\"ref\": \"registry.example.com/pay:1.2\","
	        "    \"digest\": \"" DIGEST_A "\", \"verdict\": \"blocked\","
	        "    \"checkedAt\": \"%s\","
	        "    \"reasons\": [\"signature: 0 of 1 signatures verify with "
	        "key \\\"release\\\"\", \"vulnerabilities: CVE-2024-1 is "
	        "critical\"]},"
	        "   {\"ref\": \"registry.example.com/side:1\","
	        "    \"digest\": \"" DIGEST_B "\", \"verdict\": \"allowed\"}]},"
	        "  \"web\": {\"verdict\": \"applied\", \"images\": ["
	        "   {\"ref\": \"registry.example.com/web:2\","
	        "    \"digest\": \"" DIGEST_B "\", \"verdict\": \"allowed\"}]}"
	        "}}",
	        commit, time, time);
	json_t *v = parse(text);

	free(text);
	return v;
}

/* The commit message for prev -> doc; the test fails if it is refused. */
static char *message(const json_t *prev, const json_t *doc)
{
	char *s = NULL;

	assert_int_equal(tg_status_message(&s, prev, doc), 0);
	assert_non_null(s);
	return s;
}

/* STATUS.md for doc; the test fails if it is refused. */
static char *markdown(const json_t *doc)
{
	char *s = NULL;

	assert_int_equal(tg_status_markdown(&s, doc), 0);
	assert_non_null(s);
	return s;
}

static void test_status_message_subject_body_trailers(void **state)
{
	json_t *doc = doc_blocked(COMMIT_1, "2026-11-23T04:50:00Z");
	char *msg = message(NULL, doc);

	(void)state;
	assert_true(tg_str_has_prefix(
	        msg, "blocked: payments at 3f2c1a9 (1 of 2 images failed "
	             "verification); applied: web (1 image verified)\n\n"));
	assert_contains(msg,
	                "Blocked images:\n- payments: "
	                "registry.example.com/pay:1.2@" DIGEST_A " (blocked)\n"
	                "    signature: 0 of 1 signatures verify with key "
	                "\"release\"\n"
	                "    vulnerabilities: CVE-2024-1 is critical\n");
	assert_true(tg_str_has_suffix(msg, "\n\nSource-Commit: " COMMIT_1 "\n"
	                                   "Tollgate-Unit: payments\n"
	                                   "Tollgate-Verdict: blocked\n"
	                                   "Tollgate-Unit: web\n"
	                                   "Tollgate-Verdict: applied\n"));
	free(msg);
	json_decref(doc);
}

/* Workload violations: blocking ones and warnings in the commit body,
 * the exceptions used, the note's lines and STATUS.md's table; the
 * subject gives the unit's message when no image failed. */
static void test_status_workload_violations(void **state)
{
	json_t *doc = parse(
	        "{\"sourceCommit\": \"" COMMIT_1 "\", \"time\": \"t\","
	        " \"units\": {"
	        "  \"shop\": {\"verdict\": \"blocked\", \"message\": \"1 "
	        "workload violation\", \"images\": [{\"ref\": \"r.example/"
	        "web:1\", \"digest\": \"" DIGEST_B "\", \"verdict\": "
	        "\"allowed\"}], \"workloads\": [{\"mode\": \"enforce\", "
	        "\"control\": \"privileged\", \"message\": \"Deployment "
	        "shop/web: container web: spec.template.spec.containers[0]."
	        "securityContext.privileged: true; allowed: false or unset "
	        "(baseline: privileged)\"}, {\"mode\": \"enforce\", "
	        "\"waivedBy\": \"agent\", \"message\": \"waived one\"}],"
	        "  \"workloadExceptions\": [{\"name\": \"agent\", "
	        "\"reason\": \"vendor\", \"approvedBy\": \"sec@example."
	        "com\", \"expires\": \"2027-03-31\"}]},"
	        "  \"trial\": {\"verdict\": \"applied\", \"images\": [], "
	        "\"workloads\": [{\"mode\": \"warn\", \"message\": "
	        "\"Pod trial/p: spec.hostNetwork: true\"}]}}}");
	char *msg = message(NULL, doc), *note = NULL, *md = markdown(doc);

	(void)state;
	assert_true(tg_str_has_prefix(
	        msg, "blocked: shop at 3f2c1a9 (1 workload violation)"));
	assert_contains(msg, "Workload violations:\n- shop: Deployment "
	                     "shop/web: container web: spec.template.spec."
	                     "containers[0].securityContext.privileged: "
	                     "true; allowed: false or unset (baseline: "
	                     "privileged)\n\n");
	assert_contains(msg, "Workload warnings (applied):\n- trial: Pod "
	                     "trial/p: spec.hostNetwork: true\n");
	assert_contains(msg, "Workload exceptions used:\n- shop: agent "
	                     "(vendor; approved by sec@example.com; expires "
	                     "2027-03-31)\n");
	assert_null(strstr(msg, "waived one"));
	assert_int_equal(tg_status_note(&note, doc), 0);
	assert_contains(note, "shop: blocked (1 workload violation)\n"
	                      "  workload (enforce): Deployment shop/web");
	assert_contains(note, "  exception used: agent\n");
	assert_contains(note, "  workload (warn): Pod trial/p");
	assert_contains(md, "| workload violation | mode |");
	assert_contains(md, "| waived one | waived |");
	free(msg);
	free(note);
	free(md);
	json_decref(doc);
}

static void test_status_message_lists_only_changed_units(void **state)
{
	json_t *prev = doc_blocked(COMMIT_1, "2026-11-23T04:50:00Z");
	json_t *doc = doc_blocked(COMMIT_1, "2026-11-23T05:00:00Z");
	json_t *web = json_object_get(json_object_get(doc, "units"), "web");
	char *msg;

	(void)state;
	/* web fails now; payments is as before */
	json_object_set_new(web, "verdict", json_string("failed"));
	json_object_set_new(web, "message",
	                    json_string("apply: Deployment web: forbidden"));
	msg = message(prev, doc);
	assert_true(tg_str_has_prefix(msg, "failed: web at 3f2c1a9 (apply: "
	                                   "Deployment web: forbidden)\n"));
	assert_contains(msg, "Failed units:\n- web: apply: Deployment web: "
	                     "forbidden\n");
	assert_contains(msg, "Tollgate-Unit: web\nTollgate-Verdict: failed\n");
	assert_null(strstr(msg, "Tollgate-Unit: payments"));
	free(msg);
	json_decref(prev);
	json_decref(doc);
}

static void test_status_same_ignores_time_and_unchanged(void **state)
{
	json_t *a = doc_blocked(COMMIT_1, "2026-11-23T04:50:00Z");
	json_t *b = doc_blocked(COMMIT_1, "2026-11-23T05:50:00Z");
	json_t *img;

	(void)state;
	assert_true(tg_status_same(a, b));
	json_object_set_new(json_object_get(json_object_get(b, "units"), "web"),
	                    "verdict", json_string("unchanged"));
	assert_true(tg_status_same(a, b));
	/* A time deep inside counts as nothing; any other new member does. */
	img = json_array_get(
	        json_object_get(json_object_get(json_object_get(b, "units"),
	                                        "payments"),
	                        "images"),
	        0);
	json_object_set_new(img, "checkedAt", json_string("2026-11-23T05:50Z"));
	assert_true(tg_status_same(a, b));
	json_object_set_new(img, "note", json_string("new"));
	assert_false(tg_status_same(a, b));
	json_object_del(img, "note");
	assert_true(tg_status_same(a, b));
	img = json_array_get(
	        json_object_get(json_object_get(json_object_get(b, "units"),
	                                        "payments"),
	                        "images"),
	        1);
	json_object_set_new(img, "digest", json_string(DIGEST_A));
	assert_false(tg_status_same(a, b));
	assert_false(tg_status_same(NULL, b));
	json_decref(a);
	json_decref(b);
}

/* A unit's name is the committer's choice: a unit named like a time
 * stamp ("rolloutAt", "time") is compared like any other, or a change
 * to it alone would leave no status commit. */
static void test_status_same_unit_named_like_time(void **state)
{
	const char *names[] = { "rolloutAt", "time", "durationMs" };
	size_t i;

	(void)state;
	for (i = 0; i < TG_ARRAY_LEN(names); i++) {
		json_t *a = doc_blocked(COMMIT_1, "2026-11-23T04:50:00Z");
		json_t *b = doc_blocked(COMMIT_1, "2026-11-23T04:50:00Z");

		json_object_set_new(json_object_get(a, "units"), names[i],
		                    parse("{\"verdict\": \"applied\"}"));
		json_object_set_new(json_object_get(b, "units"), names[i],
		                    parse("{\"verdict\": \"applied\"}"));
		assert_true(tg_status_same(a, b));
		json_object_set_new(
		        json_object_get(json_object_get(b, "units"), names[i]),
		        "verdict", json_string("blocked"));
		assert_false(tg_status_same(a, b));
		/* a unit of that name that appears is a change too */
		json_object_del(json_object_get(a, "units"), names[i]);
		assert_false(tg_status_same(a, b));
		json_decref(a);
		json_decref(b);
	}
}

static void test_status_untrusted_text_cannot_forge(void **state)
{
	json_t *doc =
	        parse("{\"sourceCommit\": \"" COMMIT_1 "\", \"units\": {"
	              " \"evil\\nTollgate-Verdict: applied\": {\"verdict\": "
	              "\"blocked\", \"images\": [{\"ref\": \"x/y:1 | <script>"
	              "[a](https://evil.example)\", \"verdict\": \"blocked\", "
	              "\"reasons\": [\"bad\\nSource-Commit: 0000\", "
	              "\"rtl \\u202e txt\"]}]}}}");
	char *msg = message(NULL, doc);
	char *md = markdown(doc);

	(void)state;
	/* no line may start a forged trailer */
	assert_null(strstr(msg, "\nSource-Commit: 0000"));
	assert_null(strstr(msg, "\nTollgate-Verdict: applied"));
	assert_contains(msg, "bad Source-Commit: 0000");
	assert_contains(msg, "Tollgate-Unit: evil Tollgate-Verdict: applied\n"
	                     "Tollgate-Verdict: blocked\n");
	assert_null(strstr(msg, "\xe2\x80\xae"));
	assert_contains(msg, "rtl \xef\xbf\xbd txt");
	/* Markdown: no HTML, no link, no broken table cell */
	assert_null(strstr(md, "<script>"));
	assert_contains(md, "\\<script\\>");
	assert_contains(md, "x/y:1 \\| ");
	assert_contains(md, "\\[a\\]\\(https\\://evil.example\\)");
	assert_null(strstr(md, "\xe2\x80\xae"));
	free(msg);
	free(md);
	json_decref(doc);
}

/* A status text that would pass TG_STATUS_TEXT_MAX is refused, not cut. */
static void test_status_text_over_limit_fails(void **state)
{
	json_t *doc = doc_blocked(COMMIT_1, "2026-11-23T04:50:00Z");
	json_t *web = json_object_get(json_object_get(doc, "units"), "web");
	size_t len = TG_STATUS_TEXT_MAX + 1;
	char *huge = tg_malloc(len + 1), *md = (char *)"unset";

	(void)state;
	memset(huge, 'x', len);
	huge[len] = '\0';
	json_object_set_new(web, "message", json_string(huge));
	assert_int_equal(tg_status_markdown(&md, doc), TG_ETOOBIG);
	assert_null(md);
	assert_contains(tg_error_last(), "STATUS.md: ");
	free(huge);
	json_decref(doc);
}

static void test_status_markdown_blocked_first(void **state)
{
	json_t *doc = doc_blocked(COMMIT_1, "2026-11-23T04:50:00Z");
	char *md = markdown(doc), *pay, *web;

	(void)state;
	assert_contains(md, "| payments | **blocked** | 2 | 1 |\n"
	                    "| web | applied | 1 | 0 |\n");
	pay = strstr(md, "## payments: blocked");
	web = strstr(md, "## web: applied");
	assert_non_null(pay);
	assert_non_null(web);
	assert_true(pay < web);
	assert_contains(md, "`" DIGEST_A "` | blocked | signature: 0 of 1 "
	                    "signatures verify with key \"release\"<br>"
	                    "vulnerabilities: CVE-2024-1 is critical |\n");
	free(md);
	json_decref(doc);
}

static void test_status_validate_names_member(void **state)
{
	json_t *doc = parse("{\"sourceCommit\": \"" COMMIT_1 "\", \"units\": "
	                    "{\"a\": {\"verdict\": \"maybe\"}}}");

	(void)state;
	assert_int_equal(tg_status_validate(doc), TG_EINVALID);
	assert_contains(tg_error_last(), "units.a.verdict");
	json_decref(doc);
	doc = parse("{\"sourceCommit\": \"main\", \"units\": {}}");
	assert_int_equal(tg_status_validate(doc), TG_EINVALID);
	assert_contains(tg_error_last(), "sourceCommit");
	json_decref(doc);
	doc = parse("{\"sourceCommit\": \"" COMMIT_1 "\", \"units\": {\"a\": "
	            "{\"verdict\": \"blocked\", \"images\": [{\"ref\": "
	            "\"x\"}]}}}");
	assert_int_equal(tg_status_validate(doc), TG_EINVALID);
	assert_contains(tg_error_last(), "units.a.images[0]");
	json_decref(doc);
}

/* ---- Against a repository ---------------------------------------- */

typedef struct fixture {
	char *dir, *remote, *work, *state;
	char *head; /* deploy branch commit */
	tg_source *src;
} fixture;

static int setup(void **state)
{
	fixture *f = tg_calloc(1, sizeof(*f));
	tg_source_opts o = { 0 };

	f->dir = tt_mkdtemp();
	f->remote = tg_aprintf("%s/remote.git", f->dir);
	f->work = tg_aprintf("%s/work", f->dir);
	f->state = tg_aprintf("%s/state", f->dir);
	sh("git init -q --bare -b main '%s' && git init -q -b main '%s' && "
	   "cd '%s' && git remote add origin '%s' && mkdir payments && "
	   "echo 'a: 1' > payments/a.yaml && git add -A && "
	   "git -c user.name=t -c user.email=t@e commit -q -m deploy && "
	   "git push -q origin HEAD:main 2>/dev/null",
	   f->remote, f->work, f->work, f->remote);
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
	free(f->work);
	free(f->state);
	free(f->head);
	free(f);
	return 0;
}

static tg_status_opts default_opts(void)
{
	tg_status_opts o = { 0 };

	o.branch = "tollgate/status";
	o.notes_ref = "refs/notes/tollgate";
	o.author_name = "tollgate";
	o.author_email = "tollgate@cluster.local";
	o.push = true;
	return o;
}

static void test_status_publish_root_commit_then_nothing(void **state)
{
	fixture *f = *state;
	tg_status_opts o = default_opts();
	tg_status_result r;
	json_t *doc = doc_blocked(f->head, "2026-11-23T04:50:00Z");
	char *out;

	assert_int_equal(
	        tg_status_publish(&r, tg_source_gitrepo(f->src), &o, doc), 0);
	assert_true(r.committed);
	assert_true(r.pushed);
	assert_int_equal(r.attempts, 1);
	out = sh_out("git -C '%s' rev-parse tollgate/status", f->remote);
	assert_string_equal(out, r.commit);
	free(out);
	/* a root commit: no parent, so no history shared with main */
	out = sh_out("git -C '%s' rev-list --parents -n1 tollgate/status",
	             f->remote);
	assert_string_equal(out, r.commit);
	free(out);
	out = sh_out("git -C '%s' merge-base main tollgate/status; echo rc=$?",
	             f->remote);
	assert_string_equal(out, "rc=1");
	free(out);
	out = sh_out("git -C '%s' ls-tree -r --name-only tollgate/status",
	             f->remote);
	assert_string_equal(out, "STATUS.md\nstatus.json\nunits/payments.json\n"
	                         "units/web.json");
	free(out);
	out = sh_out("git -C '%s' notes --ref=tollgate show main", f->remote);
	assert_string_equal(out, "payments: blocked (1 of 2 images failed "
	                         "verification)\nweb: applied (1 image "
	                         "verified)");
	free(out);
	out = sh_out("git -C '%s' show tollgate/status:units/payments.json",
	             f->remote);
	assert_contains(out, "\"unit\": \"payments\"");
	assert_contains(out, "\"verdict\": \"blocked\"");
	free(out);

	/* the same status an hour later: no commit */
	json_decref(doc);
	doc = doc_blocked(f->head, "2026-11-23T05:50:00Z");
	assert_int_equal(
	        tg_status_publish(&r, tg_source_gitrepo(f->src), &o, doc), 0);
	assert_false(r.committed);
	assert_int_equal(r.attempts, 0);
	out = sh_out("git -C '%s' rev-list --count tollgate/status", f->remote);
	assert_string_equal(out, "1");
	free(out);

	/* the status got through but its note did not (refs are pushed one
	 * by one): the next publish adds the note alone */
	sh("git -C '%s' update-ref -d refs/notes/tollgate", f->remote);
	assert_int_equal(
	        tg_status_publish(&r, tg_source_gitrepo(f->src), &o, doc), 0);
	assert_false(r.committed);
	assert_true(r.pushed);
	out = sh_out("git -C '%s' notes --ref=tollgate show main", f->remote);
	assert_contains(out, "payments: blocked");
	free(out);
	out = sh_out("git -C '%s' rev-list --count tollgate/status", f->remote);
	assert_string_equal(out, "1");
	free(out);
	json_decref(doc);
}

/* Another writer pushes to the status branch just before our push. */
static void race(void *ctx, int attempt)
{
	fixture *f = ctx;

	if (attempt != 0)
		return;
	sh("cd '%s' && rm -rf other && git clone -q -b tollgate/status "
	   "'%s' other 2>/dev/null && cd other && echo x > OTHER && "
	   "git add OTHER && git -c user.name=o -c user.email=o@e commit -q "
	   "-m 'other writer' && git push -q origin tollgate/status "
	   "2>/dev/null",
	   f->dir, f->remote);
}

static void test_status_publish_rebuilds_when_remote_moved(void **state)
{
	fixture *f = *state;
	tg_status_opts o = default_opts();
	tg_status_result r;
	json_t *doc = doc_blocked(f->head, "2026-11-23T04:50:00Z");
	json_t *web;
	char *out, *want;

	assert_int_equal(
	        tg_status_publish(&r, tg_source_gitrepo(f->src), &o, doc), 0);
	web = json_object_get(json_object_get(doc, "units"), "web");
	json_object_set_new(web, "verdict", json_string("failed"));
	json_object_set_new(web, "message", json_string("timeout"));
	o.before_push = race;
	o.before_push_ctx = f;
	assert_int_equal(
	        tg_status_publish(&r, tg_source_gitrepo(f->src), &o, doc), 0);
	assert_true(r.pushed);
	assert_int_equal(r.attempts, 2);
	/* both kept: ours rebuilt on top of the other writer's */
	out = sh_out("git -C '%s' log --format=%%s tollgate/status", f->remote);
	want = tg_aprintf("failed: web at %.7s (timeout)\nother writer\n"
	                  "blocked: payments at %.7s (1 of 2 images failed "
	                  "verification); applied: web (1 image verified)",
	                  f->head, f->head);
	assert_string_equal(out, want);
	free(out);
	free(want);
	/* the rebuilt commit still carries our tree plus nothing of theirs
	 * but history */
	out = sh_out("git -C '%s' show tollgate/status:units/web.json",
	             f->remote);
	assert_contains(out, "\"verdict\": \"failed\"");
	free(out);
	json_decref(doc);
}

/* A caller that frees the document before the push (tollgate run) and
 * reads it back for the attempt after a refused push. */
typedef struct doc_keeper {
	json_t *doc;
	char *text; /* what the caller would read back */
	int released, reloaded;
	bool lost; /* the copy cannot be read back */
} doc_keeper;

static void keeper_release(void *ctx)
{
	doc_keeper *k = ctx;

	json_decref(k->doc);
	k->doc = NULL;
	k->released++;
}

static const json_t *keeper_reload(void *ctx)
{
	doc_keeper *k = ctx;

	k->reloaded++;
	if (!k->lost)
		k->doc = json_loads(k->text, 0, NULL);
	return k->doc;
}

static void test_status_publish_releases_doc_before_push(void **state)
{
	fixture *f = *state;
	tg_status_opts o = default_opts();
	tg_status_result r;
	doc_keeper k = { 0 };
	json_t *web;
	char *out;

	k.doc = doc_blocked(f->head, "2026-11-23T04:50:00Z");
	assert_int_equal(
	        tg_status_publish(&r, tg_source_gitrepo(f->src), &o, k.doc), 0);
	web = json_object_get(json_object_get(k.doc, "units"), "web");
	json_object_set_new(web, "verdict", json_string("failed"));
	json_object_set_new(web, "message", json_string("timeout"));
	k.text = json_dumps(k.doc, 0);
	o.doc_release = keeper_release;
	o.doc_reload = keeper_reload;
	o.doc_ctx = &k;
	o.before_push = race;
	o.before_push_ctx = f;
	assert_int_equal(
	        tg_status_publish(&r, tg_source_gitrepo(f->src), &o, k.doc), 0);
	assert_true(r.pushed);
	assert_int_equal(r.attempts, 2);
	/* freed before each push, read back once for the second attempt */
	assert_int_equal(k.released, 2);
	assert_int_equal(k.reloaded, 1);
	assert_null(k.doc);
	out = sh_out("git -C '%s' show tollgate/status:units/web.json",
	             f->remote);
	assert_contains(out, "\"verdict\": \"failed\"");
	free(out);
	out = sh_out("git -C '%s' log -1 --format=%%s tollgate/status",
	             f->remote);
	assert_contains(out, "failed: web at");
	free(out);

	/* The copy is lost: the attempt after a refused push fails and says
	 * so; nothing half-written is pushed. */
	k.doc = json_loads(k.text, 0, NULL);
	json_object_set_new(
	        json_object_get(json_object_get(k.doc, "units"), "web"),
	        "message", json_string("crash loop"));
	k.lost = true;
	k.released = k.reloaded = 0;
	assert_int_equal(
	        tg_status_publish(&r, tg_source_gitrepo(f->src), &o, k.doc),
	        TG_ERROR);
	assert_contains(tg_error_last(),
	                "the status document cannot be read back");
	assert_int_equal(k.released, 1);
	assert_int_equal(k.reloaded, 1);
	out = sh_out("git -C '%s' show tollgate/status:units/web.json",
	             f->remote);
	assert_null(strstr(out, "crash loop"));
	free(out);
	free(k.text);
}

/* The status refs came with the source fetch (one connection), then
 * another writer pushed before our publish: the first push, made on the
 * stale tips, is refused, and the second is rebuilt on fresh ones. */
static void test_status_prefetched_tips_stale_then_refetched(void **state)
{
	fixture *f = *state;
	tg_status_opts o = default_opts();
	tg_status_result r;
	json_t *doc = doc_blocked(f->head, "2026-11-23T04:50:00Z");
	const char *remote[2] = { "refs/heads/tollgate/status",
		                  "refs/notes/tollgate" };
	const char *local[2] = { TG_STATUS_TRACK_BRANCH,
		                 TG_STATUS_TRACK_NOTES };
	char *out;

	assert_int_equal(
	        tg_status_publish(&r, tg_source_gitrepo(f->src), &o, doc), 0);
	/* The combined fetch brings the status tip along. */
	assert_int_equal(tg_source_fetch_with(f->src, remote, local, 2, NULL),
	                 0);
	race(f, 0);
	json_object_set_new(
	        json_object_get(json_object_get(doc, "units"), "web"),
	        "verdict", json_string("failed"));
	o.tips_fetched = true;
	assert_int_equal(
	        tg_status_publish(&r, tg_source_gitrepo(f->src), &o, doc), 0);
	assert_true(r.committed);
	assert_true(r.pushed);
	assert_int_equal(r.attempts, 2);
	out = sh_out("git -C '%s' log --format=%%s -n2 tollgate/status",
	             f->remote);
	assert_contains(out, "other writer");
	assert_contains(out, "failed: web");
	free(out);
	out = sh_out("git -C '%s' rev-list --count tollgate/status", f->remote);
	assert_string_equal(out, "3");
	free(out);

	/* Nothing new, tips fetched with the source and current: no push. */
	assert_int_equal(tg_source_fetch_with(f->src, remote, local, 2, NULL),
	                 0);
	assert_int_equal(
	        tg_status_publish(&r, tg_source_gitrepo(f->src), &o, doc), 0);
	assert_false(r.committed);
	assert_int_equal(r.attempts, 0);
	json_decref(doc);
}

static void test_status_refuses_shared_history(void **state)
{
	fixture *f = *state;
	tg_status_opts o = default_opts();
	tg_status_result r;
	json_t *doc = doc_blocked(f->head, "2026-11-23T04:50:00Z");

	sh("git -C '%s' branch tollgate/status main", f->remote);
	assert_int_equal(
	        tg_status_publish(&r, tg_source_gitrepo(f->src), &o, doc),
	        TG_EINVALID);
	assert_contains(tg_error_last(), "shares history with the deploy "
	                                 "branch");
	assert_false(r.committed);
	json_decref(doc);
}

static void test_status_without_push_stays_local(void **state)
{
	fixture *f = *state;
	tg_status_opts o = default_opts();
	tg_status_result r;
	json_t *doc = doc_blocked(f->head, "2026-11-23T04:50:00Z");
	char *out;

	o.push = false;
	assert_int_equal(
	        tg_status_publish(&r, tg_source_gitrepo(f->src), &o, doc), 0);
	assert_true(r.committed);
	assert_false(r.pushed);
	out = sh_out("git -C '%s' branch --list tollgate/status", f->remote);
	assert_string_equal(out, "");
	free(out);
	out = sh_out("git -C '%s'/git/*.git rev-parse tollgate/status",
	             f->state);
	assert_string_equal(out, r.commit);
	free(out);
	json_decref(doc);
}

/* Pieces of a blob for tg_gitrepo_blob_write_from: n pieces of len
 * bytes ('a' + piece number), or a failure after fail_after pieces. */
typedef struct pieces {
	size_t n, len, fail_after;
} pieces;

static int fill_pieces(void *ctx, tg_gitrepo_put_fn put, void *wctx)
{
	const pieces *p = ctx;
	char *buf = tg_malloc(p->len + 1);
	size_t i;
	int error = 0;

	for (i = 0; i < p->n && error == 0; i++) {
		if (p->fail_after && i == p->fail_after) {
			error = tg_error_set(TG_ERROR, "the writer stopped");
			break;
		}
		memset(buf, 'a' + (int)(i % 26), p->len);
		if (put(buf, p->len, wctx) < 0)
			error = tg_error_set(TG_ERROR, "put failed");
	}
	free(buf);
	return error;
}

/*
 * A blob written in pieces is the blob of its bytes, as git reads it,
 * whether it stays in memory (small), passes the 1 MiB kept in memory
 * part-way (the kept bytes go first into the stream), or starts with a
 * piece over it; a writer that fails leaves no blob behind.
 */
static void test_status_blob_from_pieces(void **state)
{
	fixture *f = *state;
	tg_gitrepo *r = tg_source_gitrepo(f->src);
	const pieces cases[] = {
		{ 0, 10, 0 },       /* empty */
		{ 3, 1000, 0 },     /* small */
		{ 300, 4000, 0 },   /* 1.2 MB: the stream from piece 263 */
		{ 1, 1100000, 0 },  /* one piece over the limit */
		{ 600, 4000, 400 }, /* fails after the stream was made */
		{ 10, 100, 5 },     /* fails while in memory */
	};
	size_t c;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const pieces *p = &cases[c];
		size_t total = p->n * p->len, i;
		char *all = tg_malloc(total + 1), *out;
		git_oid oid, want;
		int error;

		for (i = 0; i < p->n; i++)
			memset(all + i * p->len, 'a' + (int)(i % 26), p->len);
		assert_int_equal(
		        git_odb_hash(&want, all, total, GIT_OBJECT_BLOB), 0);
		error = tg_gitrepo_blob_write_from(&oid, r, fill_pieces,
		                                   (void *)p, "pieces");
		out = sh_out("git -C '%s'/git/*.git cat-file -s %s 2>&1; "
		             "echo rc=$?",
		             f->state, git_oid_tostr_s(&want));
		if (p->fail_after) {
			assert_int_equal(error, TG_ERROR);
			assert_contains(tg_error_last(), "the writer stopped");
			assert_contains(out, "rc=128");
		} else {
			char *size = tg_aprintf("%zu\nrc=0", total);

			assert_int_equal(error, 0);
			assert_true(git_oid_equal(&oid, &want));
			assert_string_equal(out, size);
			free(size);
		}
		free(out);
		free(all);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_message_subject_body_trailers),
		cmocka_unit_test(test_status_workload_violations),
		cmocka_unit_test(test_status_message_lists_only_changed_units),
		cmocka_unit_test(test_status_same_ignores_time_and_unchanged),
		cmocka_unit_test(test_status_same_unit_named_like_time),
		cmocka_unit_test(test_status_untrusted_text_cannot_forge),
		cmocka_unit_test(test_status_markdown_blocked_first),
		cmocka_unit_test(test_status_text_over_limit_fails),
		cmocka_unit_test(test_status_validate_names_member),
		cmocka_unit_test_setup_teardown(
		        test_status_publish_root_commit_then_nothing, setup,
		        teardown),
		cmocka_unit_test_setup_teardown(
		        test_status_publish_rebuilds_when_remote_moved, setup,
		        teardown),
		cmocka_unit_test_setup_teardown(
		        test_status_publish_releases_doc_before_push, setup,
		        teardown),
		cmocka_unit_test_setup_teardown(
		        test_status_prefetched_tips_stale_then_refetched, setup,
		        teardown),
		cmocka_unit_test_setup_teardown(
		        test_status_refuses_shared_history, setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_status_without_push_stays_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_blob_from_pieces,
		                                setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
