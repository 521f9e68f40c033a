#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "tollgate/util.h"

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

char *tt_src_path(const char *rel)
{
	return tg_path_join(env_or("TG_SOURCE_DIR", "."), rel);
}

char *tt_fixture_path(const char *rel)
{
	return tg_path_join(env_or("TG_FIXTURES", "../shared/fixtures"), rel);
}

static char *read_or_fail(char *path, size_t *len_out)
{
	char *data = NULL;
	size_t len = 0;

	if (tg_file_read(&data, &len, path, 256u * 1024 * 1024) < 0) {
		print_error("cannot read %s\n", path);
		free(path);
		fail();
	}
	free(path);
	if (len_out)
		*len_out = len;
	return data;
}

char *tt_read_src(const char *rel, size_t *len_out)
{
	return read_or_fail(tt_src_path(rel), len_out);
}

char *tt_read_fixture(const char *rel, size_t *len_out)
{
	return read_or_fail(tt_fixture_path(rel), len_out);
}

char *tt_mkdtemp(void)
{
	char *p =
	        tg_aprintf("%s/tollgate-test-XXXXXX", env_or("TMPDIR", "/tmp"));

	if (!mkdtemp(p))
		fail_msg("mkdtemp failed");
	return p;
}

void tt_rmtree(const char *path)
{
	char *cmd = tg_aprintf("rm -rf '%s'", path);

	if (system(cmd) != 0)
		print_error("could not remove %s\n", path);
	free(cmd);
}

char *tt_dir;

int tt_dir_setup(void **state)
{
	(void)state;
	tt_dir = tt_mkdtemp();
	return 0;
}

int tt_dir_teardown(void **state)
{
	(void)state;
	tt_rmtree(tt_dir);
	free(tt_dir);
	tt_dir = NULL;
	return 0;
}

void tt_put(const char *rel, const char *data)
{
	char *p = tg_path_join(tt_dir, rel);

	tt_write_file(p, data);
	free(p);
}

void tt_write_file(const char *path, const char *data)
{
	char *dir = tg_strdup(path), *slash = strrchr(dir, '/');
	FILE *f;

	if (slash) {
		char *cmd;
		*slash = '\0';
		cmd = tg_aprintf("mkdir -p '%s'", dir);
		if (system(cmd) != 0)
			fail_msg("mkdir -p %s failed", dir);
		free(cmd);
	}
	free(dir);
	f = fopen(path, "wb");
	if (!f)
		fail_msg("cannot write %s", path);
	fputs(data, f);
	fclose(f);
}

void tt_assert_contains(const char *s,
                        const char *sub,
                        const char *file,
                        int line)
{
	if (!s || !strstr(s, sub)) {
		print_error("%s:%d: expected \"%s\" to contain \"%s\"\n", file,
		            line, s ? s : "(null)", sub);
		fail();
	}
}

static FILE *server_out;

int tt_testcluster_start(const char *dir, int tls, char **url_out)
{
	char *bin = tg_path_join(env_or("TG_BUILD_DIR", "build"),
	                         "tests/testcluster/testcluster");
	char *kc = tg_path_join(dir, "kubeconfig");
	char line[512];
	int fds[2];
	pid_t pid;
	FILE *f;

	if (pipe(fds) < 0)
		fail_msg("pipe failed");
	pid = fork();
	if (pid < 0)
		fail_msg("fork failed");
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(bin, bin, "--listen", "127.0.0.1:0", "--token",
		      "test-token", "--kubeconfig-out", kc,
		      tls ? "--tls" : NULL, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (!f || !fgets(line, sizeof(line), f))
		fail_msg("%s did not print its URL", bin);
	line[strcspn(line, "\r\n")] = '\0';
	/* Kept open: a server writing to a closed pipe would die of SIGPIPE. */
	server_out = f;
	*url_out = tg_strdup(line);
	free(bin);
	free(kc);
	return (int)pid;
}

int tt_process_stop(int pid)
{
	int status = 0;

	kill((pid_t)pid, SIGTERM);
	if (waitpid((pid_t)pid, &status, 0) < 0)
		return -1;
	if (server_out) {
		fclose(server_out);
		server_out = NULL;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the folder's files ending with suffix, sorted; NULL-ended. */
static char **bad_names(const char *dir, const char *suffix, size_t *n_out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	if (!d)
		fail_msg("%s: cannot open the folder", dir);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strncmp(e->d_name, "README", 6))
			continue;
		if (suffix && !tg_str_has_suffix(e->d_name, suffix))
			continue;
		names = realloc(names, (n + 2) * sizeof(*names));
		assert_non_null(names);
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (names)
		qsort(names, n, sizeof(*names), name_cmp);
	*n_out = n;
	return names;
}

static void run_bad_case(const char *dir,
                         const char *name,
                         void (*fn)(const tt_bad_case *c, void *ctx),
                         void *ctx)
{
	static const char tag[] = "# error: ";
	tt_bad_case c = { 0 };
	char *path = tg_aprintf("%s/%s", dir, name);
	size_t len;
	char *data = read_or_fail(strdup(path), &len);
	size_t eol = 0;
	char *expected;

	/* an index, not memchr's pointer: gcc 12 -O2 takes that for dangling */
	while (eol < len && data[eol] != '\n')
		eol++;
	if (strncmp(data, tag, sizeof(tag) - 1) || eol == len)
		fail_msg("%s: no \"# error: <expected message>\" first line; "
		         "every bad input states the error it must give",
		         path);
	expected = tg_strndup(data + sizeof(tag) - 1, eol - (sizeof(tag) - 1));
	if (!expected[0])
		fail_msg("%s: the \"# error:\" line is empty", path);
	c.name = name;
	c.path = path;
	c.expected = expected;
	c.input = data + eol + 1;
	c.input_len = len - (eol + 1);
	c.whole = data;
	c.whole_len = len;
	fn(&c, ctx);
	free(expected);
	free(data);
	free(path);
}

int tt_each_bad_case(const char *rel,
                     const char *suffix,
                     void (*fn)(const tt_bad_case *c, void *ctx),
                     void *ctx)
{
	char *dir = tt_src_path(rel);
	size_t n = 0, i;
	char **names = bad_names(dir, suffix, &n);

	if (n == 0)
		fail_msg("%s: no bad inputs", dir);
	for (i = 0; i < n; i++) {
		run_bad_case(dir, names[i], fn, ctx);
		free(names[i]);
	}
	free(names);
	free(dir);
	return (int)n;
}
