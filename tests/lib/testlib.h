/*
 * Helpers for the cmocka unit tests: paths to the source tree and the
 * shared fixtures, and file loading.
 */
#ifndef TOLLGATE_TESTLIB_H
#define TOLLGATE_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Path under the source tree (TG_SOURCE_DIR, else "."). Caller frees. */
char *tt_src_path(const char *rel);
/* Path under ../shared/fixtures (TG_FIXTURES). Caller frees. */
char *tt_fixture_path(const char *rel);
/* Read a whole file under the source tree; fails the test if missing. */
char *tt_read_src(const char *rel, size_t *len_out);
/* Read a whole file under the fixtures; fails the test if missing. */
char *tt_read_fixture(const char *rel, size_t *len_out);
/* A fresh temporary directory (removed by tt_rmtree). Caller frees. */
char *tt_mkdtemp(void);
void tt_rmtree(const char *path);
/* Write a file, creating parent directories. */
void tt_write_file(const char *path, const char *data);

/*
 * A scratch directory per test: tt_dir_setup and tt_dir_teardown, as a
 * cmocka setup and teardown, make tt_dir and remove it; tt_put writes
 * the file rel below it (directories made).
 */
extern char *tt_dir;
int tt_dir_setup(void **state);
int tt_dir_teardown(void **state);
void tt_put(const char *rel, const char *data);

/*
 * Start tests/testcluster (TG_BUILD_DIR/tests/testcluster/testcluster) on a
 * free loopback port, with --tls when tls is set, writing its kubeconfig
 * to dir/kubeconfig. Returns the server's PID; *url_out (caller frees) is
 * the URL it printed. Fails the test when it does not start.
 */
int tt_testcluster_start(const char *dir, int tls, char **url_out);
/* SIGTERM and wait; returns the exit status (0 on a clean exit). */
int tt_process_stop(int pid);

/*
 * One hostile input of a tests/data/<kind>/bad/ folder. Each file states
 * the error it must give on its first line, `# error: <text>` (for YAML
 * that line is a comment; for JSON and other formats the line is cut off
 * before the input is used). `input` is what follows that line.
 */
typedef struct tt_bad_case {
	const char *name;     /* file name inside the folder */
	const char *path;     /* full path */
	const char *expected; /* the text after "# error: " */
	const char *input;    /* the bytes after the first line */
	size_t input_len;
	const char *whole; /* the whole file, "# error:" line included */
	size_t whole_len;
} tt_bad_case;

/*
 * Call fn for every file of the folder rel (under the source tree) whose
 * name ends with suffix (NULL: every file but README*), in name order.
 * A file without a "# error:" first line fails the test, naming it, so a
 * new bad input cannot be added without stating what it must do. Returns
 * the number of files; fails the test when there are none.
 */
int tt_each_bad_case(const char *rel,
                     const char *suffix,
                     void (*fn)(const tt_bad_case *c, void *ctx),
                     void *ctx);

/* Assert that s contains sub, printing both when it does not. */
#define assert_contains(s, sub)                                                \
	tt_assert_contains((s), (sub), __FILE__, __LINE__)
void tt_assert_contains(const char *s,
                        const char *sub,
                        const char *file,
                        int line);

#endif
