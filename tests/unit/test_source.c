/*
 * Tests of the Git source against real repositories made with the git CLI
 * in a temporary directory (local-path transport), and of known_hosts
 * checking with keys made by ssh-keygen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/knownhosts.h"
#include "tollgate/limits.h"
#include "tollgate/source.h"
#include "tollgate/util.h"

typedef struct fixture {
	char *dir;    /* temp root */
	char *remote; /* bare repository: the "server" */
	char *work;   /* a clone used to make commits */
	char *state;  /* tollgate's state directory */
} fixture;

/* Run a shell command built from fmt; fail the test when it fails. */
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

/* Output of a shell command, trimmed; caller frees. */
static char *sh_out(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char buf[4096];
	size_t n;

	assert_non_null(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	pclose(p);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return tg_strdup(buf);
}

static const char *git_env = "GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e "
                             "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@e";

static void commit_all(fixture *f, const char *msg)
{
	sh("cd '%s' && git add -A && %s git commit -q -m '%s' && "
	   "git push -q origin HEAD:main 2>/dev/null",
	   f->work, git_env, msg);
}

static int setup(void **state)
{
	fixture *f = tg_calloc(1, sizeof(*f));

	f->dir = tt_mkdtemp();
	f->remote = tg_aprintf("%s/remote.git", f->dir);
	f->work = tg_aprintf("%s/work", f->dir);
	f->state = tg_aprintf("%s/state", f->dir);
	sh("git init -q --bare -b main '%s' && git init -q -b main '%s' && "
	   "cd '%s' && git remote add origin '%s'",
	   f->remote, f->work, f->work, f->remote);
	sh("cd '%s' && mkdir -p clusters/prod/payments clusters/prod/web "
	   "docs && printf 'kind: A\\n' > clusters/prod/payments/deploy.yaml "
	   "&& printf '{}' > clusters/prod/web/svc.json && printf 'x: 1\\n' > "
	   "clusters/prod/root.yml && echo readme > clusters/prod/README.md "
	   "&& echo secret > docs/secret.yaml",
	   f->work);
	commit_all(f, "first");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	tt_rmtree(f->dir);
	free(f->dir);
	free(f->remote);
	free(f->work);
	free(f->state);
	free(f);
	return 0;
}

static tg_source *open_source(fixture *f, const char *branch, const char *path)
{
	tg_source_opts o = { 0 };
	tg_source *s = NULL;

	o.url = f->remote;
	o.branch = branch;
	o.path = path;
	o.state_dir = f->state;
	assert_int_equal(tg_source_open(&s, &o), 0);
	return s;
}

static const tg_source_file *find_file(const tg_source_tree *t,
                                       const char *path)
{
	size_t i;

	for (i = 0; i < tg_source_tree_count(t); i++)
		if (!strcmp(tg_source_tree_get(t, i)->path, path))
			return tg_source_tree_get(t, i);
	return NULL;
}

static void test_source_reads_manifests_below_path(void **state)
{
	fixture *f = *state;
	tg_source *s = open_source(f, "main", "clusters/prod/");
	tg_source_tree *t = NULL;
	char *cmd = tg_aprintf("git -C '%s' rev-parse main", f->remote);
	char *head = sh_out(cmd);

	assert_int_equal(tg_source_fetch(s), 0);
	assert_string_equal(tg_source_commit(s), head);
	assert_int_equal(tg_source_read(&t, s), 0);
	assert_string_equal(tg_source_tree_commit(t), head);
	/* sorted, manifest names only, relative to source.path */
	assert_int_equal(tg_source_tree_count(t), 3);
	assert_string_equal(tg_source_tree_get(t, 0)->path,
	                    "payments/deploy.yaml");
	assert_string_equal(tg_source_tree_get(t, 0)->data, "kind: A\n");
	assert_int_equal(tg_source_tree_get(t, 0)->len, 8);
	assert_string_equal(tg_source_tree_get(t, 1)->path, "root.yml");
	assert_string_equal(tg_source_tree_get(t, 2)->path, "web/svc.json");
	tg_source_tree_free(t);
	tg_source_free(s);
	free(cmd);
	free(head);
}

static void test_source_fetch_is_incremental(void **state)
{
	fixture *f = *state;
	tg_source *s = open_source(f, "main", "clusters/prod");
	tg_source_tree *t = NULL;
	char first[TG_SOURCE_OID_HEX], head[TG_SOURCE_OID_HEX];
	bool moved = true;

	assert_int_equal(tg_source_fetch(s), 0);
	tg_strlcpy(first, tg_source_commit(s), sizeof(first));
	assert_int_equal(tg_source_remote_head(head, &moved, s), 0);
	assert_false(moved);
	assert_string_equal(head, first);

	sh("cd '%s' && printf 'kind: B\\n' > clusters/prod/web/new.yaml",
	   f->work);
	commit_all(f, "second");
	assert_int_equal(tg_source_remote_head(head, &moved, s), 0);
	assert_true(moved);
	assert_string_not_equal(head, first);
	tg_source_free(s);

	/* A new tg_source over the same state dir reuses the cache. */
	s = open_source(f, "main", "clusters/prod");
	assert_int_equal(tg_source_fetch(s), 0);
	assert_string_equal(tg_source_commit(s), head);
	assert_int_equal(tg_source_read(&t, s), 0);
	assert_non_null(find_file(t, "web/new.yaml"));
	assert_string_equal(find_file(t, "web/new.yaml")->data, "kind: B\n");
	tg_source_tree_free(t);
	tg_source_free(s);
}

/* A long-running agent reads a new commit every few cycles with the same
 * tg_source: libgit2's object cache is bounded by
 * TG_MAX_GIT_OBJECT_CACHE, not libgit2's 256 MiB default (the soak's RSS
 * grew a few kB a cycle), and what it holds stays under the bound. */
static void test_source_git_cache_is_bounded(void **state)
{
	fixture *f = *state;
	tg_source *s = open_source(f, "main", "clusters/prod");
	tg_source_tree *t = NULL;
	ssize_t used = -1, allowed = -1;
	int i;

	for (i = 0; i < 5; i++) {
		sh("cd '%s' && printf 'kind: C%d\\n' > "
		   "clusters/prod/web/c.yaml",
		   f->work, i);
		commit_all(f, "more");
		assert_int_equal(tg_source_fetch(s), 0);
		assert_int_equal(tg_source_read(&t, s), 0);
		tg_source_tree_free(t);
		t = NULL;
	}
	assert_int_equal(
	        git_libgit2_opts(GIT_OPT_GET_CACHED_MEMORY, &used, &allowed),
	        0);
	assert_int_equal(allowed, (ssize_t)TG_MAX_GIT_OBJECT_CACHE);
	assert_true(used > 0 && used <= allowed);
	tg_source_free(s);
}

static int count_packs(fixture *f)
{
	char *cmd = tg_aprintf("ls '%s'/git/*.git/objects/pack/ | "
	                       "grep -c '[.]pack$'",
	                       f->state);
	char *out = sh_out(cmd);
	int n = atoi(out);

	free(cmd);
	free(out);
	return n;
}

/* Each fetch that brings a commit adds a pack to the cache; past
 * TG_MAX_GIT_PACKS the small ones are rewritten into one at the next
 * fetch, and every commit stays readable, in this tg_source and in a new
 * one over the same state dir. */
static void test_source_git_cache_is_compacted(void **state)
{
	fixture *f = *state;
	tg_source *s = open_source(f, "main", "clusters/prod");
	tg_source_tree *t = NULL;
	int i, most = 0;

	assert_int_equal(tg_source_fetch(s), 0);
	for (i = 0; i < TG_MAX_GIT_PACKS + 3; i++) {
		sh("cd '%s' && printf 'kind: P%d\\n' > "
		   "clusters/prod/web/p%d.yaml",
		   f->work, i, i);
		commit_all(f, "more");
		assert_int_equal(tg_source_fetch(s), 0);
		if (count_packs(f) > most)
			most = count_packs(f);
	}
	assert_int_equal(most, TG_MAX_GIT_PACKS + 1);
	assert_true(count_packs(f) < TG_MAX_GIT_PACKS / 2);
	assert_int_equal(tg_source_read(&t, s), 0);
	assert_int_equal(tg_source_tree_count(t), 3 + TG_MAX_GIT_PACKS + 3);
	assert_string_equal(find_file(t, "web/p0.yaml")->data, "kind: P0\n");
	tg_source_tree_free(t);
	tg_source_free(s);
	s = open_source(f, "main", "clusters/prod");
	assert_int_equal(tg_source_fetch(s), 0);
	assert_int_equal(tg_source_read(&t, s), 0);
	assert_int_equal(tg_source_tree_count(t), 3 + TG_MAX_GIT_PACKS + 3);
	tg_source_tree_free(t);
	tg_source_free(s);
	sh("git --git-dir=\"$(ls -d '%s'/git/*.git)\" fsck --no-progress "
	   "--no-dangling",
	   f->state);
}

static void test_source_missing_branch_names_url_and_branch(void **state)
{
	fixture *f = *state;
	tg_source *s = open_source(f, "release", NULL);

	assert_int_equal(tg_source_fetch(s), TG_ENOTFOUND);
	assert_contains(tg_error_last(), f->remote);
	assert_contains(tg_error_last(), "branch \"release\" does not exist");
	tg_source_free(s);
}

static void test_source_missing_path_names_path(void **state)
{
	fixture *f = *state;
	tg_source *s = open_source(f, "main", "clusters/staging");
	tg_source_tree *t = NULL;

	assert_int_equal(tg_source_fetch(s), 0);
	assert_int_equal(tg_source_read(&t, s), TG_ENOTFOUND);
	assert_null(t);
	assert_contains(tg_error_last(), "source.path \"clusters/staging\" "
	                                 "does not exist");
	assert_contains(tg_error_last(), "branch main");
	tg_source_free(s);
}

static void test_source_symlink_inside_is_read(void **state)
{
	fixture *f = *state;
	tg_source *s = open_source(f, "main", "clusters/prod");
	tg_source_tree *t = NULL;

	sh("cd '%s/clusters/prod/web' && ln -s ../payments/deploy.yaml "
	   "link.yaml && ln -s ../../../README.md notes.txt",
	   f->work);
	commit_all(f, "links");
	assert_int_equal(tg_source_fetch(s), 0);
	assert_int_equal(tg_source_read(&t, s), 0);
	assert_non_null(find_file(t, "web/link.yaml"));
	assert_string_equal(find_file(t, "web/link.yaml")->data, "kind: A\n");
	/* not a manifest name: never followed, so not an error either */
	assert_null(find_file(t, "web/notes.txt"));
	tg_source_tree_free(t);
	tg_source_free(s);
}

/* The one problem of t: its path and message. */
static void assert_one_problem(const tg_source_tree *t,
                               const char *path,
                               const char *message)
{
	assert_int_equal(tg_source_tree_problem_count(t), 1);
	assert_string_equal(tg_source_tree_problem(t, 0)->path, path);
	assert_contains(tg_source_tree_problem(t, 0)->message, message);
	assert_null(find_file(t, path));
}

static void test_source_refuses_symlink_outside(void **state)
{
	fixture *f = *state;
	tg_source *s = open_source(f, "main", "clusters/prod");
	tg_source_tree *t = NULL;

	sh("cd '%s/clusters/prod/web' && ln -s ../../../docs/secret.yaml "
	   "steal.yaml",
	   f->work);
	commit_all(f, "escape");
	assert_int_equal(tg_source_fetch(s), 0);
	assert_int_equal(tg_source_read(&t, s), 0);
	assert_one_problem(t, "web/steal.yaml",
	                   "symlink points outside "
	                   "source.path");
	/* the rest of the tree is still read */
	assert_non_null(find_file(t, "payments/deploy.yaml"));
	tg_source_tree_free(t);
	tg_source_free(s);

	sh("cd '%s/clusters/prod/web' && rm steal.yaml && "
	   "ln -s /etc/passwd abs.yaml && ln -s ../payments abs2.yaml",
	   f->work);
	commit_all(f, "absolute");
	s = open_source(f, "main", "clusters/prod");
	assert_int_equal(tg_source_fetch(s), 0);
	assert_int_equal(tg_source_read(&t, s), 0);
	assert_int_equal(tg_source_tree_problem_count(t), 2);
	assert_string_equal(tg_source_tree_problem(t, 0)->path, "web/abs.yaml");
	assert_contains(tg_source_tree_problem(t, 0)->message,
	                "symlink to an absolute path");
	assert_string_equal(tg_source_tree_problem(t, 1)->path,
	                    "web/abs2.yaml");
	assert_contains(tg_source_tree_problem(t, 1)->message,
	                "points to a directory");
	tg_source_tree_free(t);
	tg_source_free(s);
}

static void test_source_refuses_submodule(void **state)
{
	fixture *f = *state;
	tg_source *s = open_source(f, "main", "clusters/prod");
	tg_source_tree *t = NULL;

	/* A gitlink entry, as "git submodule add" makes. */
	sh("cd '%s' && git update-index --add --cacheinfo "
	   "160000,0123456789012345678901234567890123456789,"
	   "clusters/prod/vendor && %s git commit -q -m sub && "
	   "git push -q origin HEAD:main 2>/dev/null",
	   f->work, git_env);
	assert_int_equal(tg_source_fetch(s), 0);
	assert_int_equal(tg_source_read(&t, s), 0);
	assert_one_problem(t, "vendor", "is a submodule");
	tg_source_tree_free(t);
	tg_source_free(s);
}

static void test_source_refuses_oversized_blob(void **state)
{
	fixture *f = *state;
	tg_source *s = open_source(f, "main", "clusters/prod");
	tg_source_tree *t = NULL;

	sh("cd '%s' && head -c %u /dev/zero | tr '\\0' 'a' > "
	   "clusters/prod/web/big.yaml",
	   f->work, TG_MAX_FILE_BYTES + 1);
	commit_all(f, "big");
	assert_int_equal(tg_source_fetch(s), 0);
	assert_int_equal(tg_source_read(&t, s), 0);
	assert_one_problem(t, "web/big.yaml", "TG_MAX_FILE_BYTES");
	tg_source_tree_free(t);
	tg_source_free(s);
}

static void test_source_skips_hidden_and_limits_depth(void **state)
{
	fixture *f = *state;
	tg_source *s = open_source(f, "main", "clusters/prod");
	tg_source_tree *t = NULL;
	char deep[512] = "clusters/prod/web";
	int i;

	sh("cd '%s/clusters/prod' && mkdir -p .github web/.hidden && "
	   "echo 'a: 1' > .github/ci.yaml && echo 'a: 1' > web/.hidden/x.yaml "
	   "&& echo 'a: 1' > web/.dot.yaml",
	   f->work);
	commit_all(f, "hidden");
	assert_int_equal(tg_source_fetch(s), 0);
	assert_int_equal(tg_source_read(&t, s), 0);
	assert_int_equal(tg_source_tree_count(t), 3);
	assert_int_equal(tg_source_tree_problem_count(t), 0);
	tg_source_tree_free(t);

	for (i = 0; i < TG_MAX_TREE_DEPTH + 1; i++)
		strcat(deep, "/d");
	sh("cd '%s' && mkdir -p %s && echo 'a: 1' > %s/x.yaml", f->work, deep,
	   deep);
	commit_all(f, "deep");
	assert_int_equal(tg_source_fetch(s), 0);
	assert_int_equal(tg_source_read(&t, s), TG_ETOOBIG);
	assert_null(t);
	assert_contains(tg_error_last(), "TG_MAX_TREE_DEPTH");
	tg_source_free(s);
}

static void test_source_refuses_bad_options(void **state)
{
	fixture *f = *state;
	tg_source_opts o = { 0 };
	tg_source *s = NULL;

	o.branch = "main";
	o.state_dir = f->state;
	o.url = "ssh://git@127.0.0.1:2222/deploy.git";
	assert_int_equal(tg_source_open(&s, &o), TG_EINVALID);
	assert_contains(tg_error_last(), "knownHosts is required");
	o.url = "https://bob:hunter2@example.com/deploy.git";
	assert_int_equal(tg_source_open(&s, &o), TG_EINVALID);
	assert_contains(tg_error_last(), "contains a password");
	o.url = f->remote;
	o.branch = "bad..name";
	assert_int_equal(tg_source_open(&s, &o), TG_EINVALID);
	assert_contains(tg_error_last(), "not a valid branch name");
	o.branch = "main";
	o.path = "../etc";
	assert_int_equal(tg_source_open(&s, &o), TG_EINVALID);
	assert_contains(tg_error_last(), "source.path \"../etc\"");
	assert_null(s);
}

/* ---- known_hosts ------------------------------------------------- */

/* Make an ed25519 key with ssh-keygen; return its wire blob. */
static unsigned char *
make_key(const char *dir, const char *name, size_t *len, char **pub_line)
{
	char *cmd, *path, *line, *b64, *sp;
	unsigned char *blob = NULL;

	path = tg_aprintf("%s/%s", dir, name);
	sh("ssh-keygen -q -t ed25519 -N '' -f '%s'", path);
	cmd = tg_aprintf("cat '%s.pub'", path);
	line = sh_out(cmd);
	b64 = strchr(line, ' ') + 1;
	sp = strchr(b64, ' ');
	assert_int_equal(
	        tg_base64_decode(&blob, len, b64,
	                         sp ? (size_t)(sp - b64) : strlen(b64)),
	        0);
	if (sp)
		*sp = '\0';
	*pub_line = line; /* "ssh-ed25519 AAAA..." */
	free(cmd);
	free(path);
	return blob;
}

static void test_source_known_hosts_plain_port_and_hashed(void **state)
{
	fixture *f = *state;
	char *kh = tg_aprintf("%s/known_hosts", f->dir), *pub1, *pub2;
	size_t l1, l2;
	unsigned char *k1 = make_key(f->dir, "k1", &l1, &pub1);
	unsigned char *k2 = make_key(f->dir, "k2", &l2, &pub2);
	unsigned char sha[32];
	char *content;

	content = tg_aprintf("# comment\n"
	                     "git.example.com,10.0.0.1 %s\n"
	                     "[127.0.0.1]:2222 %s\n"
	                     "*.corp.example,!bad.corp.example %s\n",
	                     pub1, pub2, pub1);
	tt_write_file(kh, content);
	assert_int_equal(
	        tg_known_hosts_check(kh, "git.example.com", 22, k1, l1, NULL),
	        0);
	assert_int_equal(tg_known_hosts_check(kh, "10.0.0.1", 0, k1, l1, NULL),
	                 0);
	assert_int_equal(
	        tg_known_hosts_check(kh, "127.0.0.1", 2222, k2, l2, NULL), 0);
	tg_sha256(sha, k2, l2);
	assert_int_equal(
	        tg_known_hosts_check(kh, "127.0.0.1", 2222, NULL, 0, sha), 0);
	assert_int_equal(
	        tg_known_hosts_check(kh, "a.corp.example", 22, k1, l1, NULL),
	        0);
	/* negated pattern */
	assert_int_equal(
	        tg_known_hosts_check(kh, "bad.corp.example", 22, k1, l1, NULL),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "is not in known_hosts");
	/* same host, other port: unknown */
	assert_int_equal(
	        tg_known_hosts_check(kh, "127.0.0.1", 22, k2, l2, NULL),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "ssh host 127.0.0.1 is not in");
	/* changed key */
	assert_int_equal(
	        tg_known_hosts_check(kh, "git.example.com", 22, k2, l2, NULL),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "does not match");
	assert_contains(tg_error_last(), ":2");
	assert_contains(tg_error_last(), "SHA256:");

	/* hashed with ssh-keygen -H, then revoked */
	sh("ssh-keygen -q -H -f '%s' >/dev/null 2>&1", kh);
	assert_int_equal(
	        tg_known_hosts_check(kh, "git.example.com", 22, k1, l1, NULL),
	        0);
	assert_int_equal(
	        tg_known_hosts_check(kh, "127.0.0.1", 2222, k2, l2, NULL), 0);
	assert_int_equal(
	        tg_known_hosts_check(kh, "other.example.com", 22, k1, l1, NULL),
	        TG_EUNTRUSTED);
	free(content);
	content = tg_aprintf("git.example.com %s\n@revoked * %s\n", pub1, pub1);
	tt_write_file(kh, content);
	assert_int_equal(
	        tg_known_hosts_check(kh, "git.example.com", 22, k1, l1, NULL),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "@revoked");
	assert_int_equal(
	        tg_known_hosts_check("/nonexistent/kh", "h", 22, k1, l1, NULL),
	        TG_ENOTFOUND);
	free(content);
	free(kh);
	free(k1);
	free(k2);
	free(pub1);
	free(pub2);
}

/*
 * Found by fuzz_known_hosts: a host pattern of many '*' took exponential
 * time (the run stalled for minutes). Now the match takes linear steps
 * per star; wildcards still match as ssh's do. The bytes form
 * tg_known_hosts_check_data is what tg_known_hosts_check reads with.
 */
static void test_source_known_hosts_many_stars_is_fast(void **state)
{
	static const unsigned char blob[] = { 0,   0,   0,   11,  's', 's', 'h',
		                              '-', 'e', 'd', '2', '5', '5', '1',
		                              '9', 0,   0,   0,   1,   7 };
	char *b64 = tg_base64_encode(blob, sizeof(blob));
	char *host = tg_aprintf("%0200d.example.com", 0);
	char stars[201];
	char *kh;
	double t0;

	(void)state;
	memset(stars, '*', 200);
	stars[200] = '\0';
	/* 200 stars then a character no host name has. */
	kh = tg_aprintf("%s! ssh-ed25519 %s\n", stars, b64);
	t0 = tg_monotonic();
	assert_int_equal(tg_known_hosts_check_data("kh", kh, strlen(kh), host,
	                                           22, blob, sizeof(blob),
	                                           NULL),
	                 TG_EUNTRUSTED);
	assert_true(tg_monotonic() - t0 < 2.0);
	free(kh);
	/* The same stars ending in the host's suffix match. */
	kh = tg_aprintf("%s.example.com ssh-ed25519 %s\n", stars, b64);
	assert_int_equal(tg_known_hosts_check_data("kh", kh, strlen(kh), host,
	                                           22, blob, sizeof(blob),
	                                           NULL),
	                 0);
	free(kh);
	kh = tg_aprintf("g?t.*.COM,[127.0.0.?]:2222 ssh-ed25519 %s\n", b64);
	assert_int_equal(tg_known_hosts_check_data("kh", kh, strlen(kh),
	                                           "git.example.com", 22, blob,
	                                           sizeof(blob), NULL),
	                 0);
	assert_int_equal(tg_known_hosts_check_data("kh", kh, strlen(kh),
	                                           "127.0.0.1", 2222, blob,
	                                           sizeof(blob), NULL),
	                 0);
	assert_int_equal(tg_known_hosts_check_data("kh", kh, strlen(kh),
	                                           "gt.example.com", 22, blob,
	                                           sizeof(blob), NULL),
	                 TG_EUNTRUSTED);
	free(kh);
	free(host);
	free(b64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		        test_source_reads_manifests_below_path, setup,
		        teardown),
		cmocka_unit_test_setup_teardown(
		        test_source_fetch_is_incremental, setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_source_git_cache_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_source_git_cache_is_compacted, setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_source_missing_branch_names_url_and_branch, setup,
		        teardown),
		cmocka_unit_test_setup_teardown(
		        test_source_missing_path_names_path, setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_source_symlink_inside_is_read, setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_source_refuses_symlink_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_refuses_submodule,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_source_refuses_oversized_blob, setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_source_skips_hidden_and_limits_depth, setup,
		        teardown),
		cmocka_unit_test_setup_teardown(test_source_refuses_bad_options,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_source_known_hosts_plain_port_and_hashed, setup,
		        teardown),
		cmocka_unit_test(test_source_known_hosts_many_stars_is_fast),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
