/*
 * Running a renderer (tollgate/render.h): a child in a process group of
 * its own, stdin from /dev/null, stdout and stderr into pipes, a clean
 * environment, no network (a new network namespace where the kernel lets
 * us make one), resource limits, and a deadline after which the whole
 * group is killed. Everything the child needs is prepared before fork(),
 * so between fork() and execve() only system calls run (the agent may
 * have other threads, whose locks a forked child must not touch).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "render_int.h"
#include "tollgate/buf.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* Poll interval while waiting for the renderer, in milliseconds: how
 * soon a leader that exited with children holding its pipes is seen. */
#define POLL_MS 100

char *tg_render__which(const char *cmd)
{
	const char *path = getenv("PATH"), *p;
	struct stat st;

	if (strchr(cmd, '/'))
		return access(cmd, X_OK) == 0 ? tg_strdup(cmd) : NULL;
	for (p = path && *path ? path : DEFAULT_PATH; *p;) {
		size_t n = strcspn(p, ":");
		char *dir = n ? tg_strndup(p, n) : tg_strdup(".");
		char *full = tg_path_join(dir, cmd);

		free(dir);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(full, X_OK) == 0)
			return full;
		free(full);
		p += n + (p[n] == ':');
	}
	return NULL;
}

/* The child's environment: nothing of the agent's but PATH, so no proxy,
 * credentials or KUBECONFIG reach the renderer. */
static char **clean_env(const char *home)
{
	const char *path = getenv("PATH");
	char **env = tg_calloc(8, sizeof(char *));

	env[0] = tg_aprintf("PATH=%s", path && *path ? path : DEFAULT_PATH);
	env[1] = tg_aprintf("HOME=%s", home);
	env[2] = tg_aprintf("TMPDIR=%s", home);
	env[3] = tg_aprintf("XDG_CONFIG_HOME=%s", home);
	env[4] = tg_aprintf("XDG_CACHE_HOME=%s", home);
	env[5] = tg_strdup("LC_ALL=C");
	return env;
}

static void free_strv(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* In the child: limits, isolation, then the program. Never returns. */
static void child(const tg_render__run *r,
                  const char *prog,
                  char **env,
                  int out_fd,
                  int err_fd,
                  int null_fd)
{
	struct rlimit as = { TG_MAX_RENDER_MEMORY, TG_MAX_RENDER_MEMORY };
	struct rlimit core = { 0, 0 };
	struct rlimit fsize = { TG_MAX_RENDER_TREE_BYTES,
		                TG_MAX_RENDER_TREE_BYTES };
	static const char msg[] = "tollgate: cannot start the renderer\n";
	struct sigaction dfl;
	sigset_t none;

	/* the agent ignores SIGPIPE and may block signals: not the child */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	(void)sigaction(SIGPIPE, &dfl, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (setpgid(0, 0) < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 ||
	    dup2(err_fd, 2) < 0)
		_exit(126);
	(void)!close_range(3, ~0u, 0);
	/* No network: as root a new network namespace; otherwise one inside
	 * a new user namespace; where neither is allowed the pre-check is
	 * the guard (no URL reaches the renderer). */
	if (unshare(CLONE_NEWNET) < 0)
		(void)!unshare(CLONE_NEWUSER | CLONE_NEWNET);
	(void)!setrlimit(RLIMIT_AS, &as);
	(void)!setrlimit(RLIMIT_CORE, &core);
	(void)!setrlimit(RLIMIT_FSIZE, &fsize);
	if (chdir(r->cwd) < 0)
		_exit(126);
	execve(prog, r->argv, env);
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(127);
}

/* Read what is ready on fd into b (at most cap bytes kept). false at
 * EOF or error; *over set when more than cap came. */
static bool drain(int fd, tg_buf *b, size_t cap, bool *over)
{
	char chunk[65536];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	if (b->len + (size_t)n > cap) {
		size_t keep = cap - b->len;

		if (keep)
			tg_discard(tg_buf_append(b, chunk, keep));
		*over = true;
		return true;
	}
	/* within cap, which is the buffer's max: cannot fail */
	tg_discard(tg_buf_append(b, chunk, (size_t)n));
	return true;
}

/* Read both pipes until EOF, the deadline or the output cap; reap. */
static void collect(tg_render__run *r, pid_t pid, int out_fd, int err_fd)
{
	struct pollfd p[2] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };
	double deadline = tg_monotonic() + (double)r->timeout_s;
	bool out_open = true, err_open = true, err_over = false;
	bool reaped = false;
	tg_buf out, err;

	tg_buf_init(&out, TG_MAX_RENDER_OUTPUT);
	tg_buf_init(&err, TG_MAX_RENDER_STDERR);
	while ((out_open || err_open) && !r->too_big) {
		if (tg_monotonic() >= deadline) {
			r->timed_out = true;
			break;
		}
		p[0].fd = out_open ? out_fd : -1;
		p[1].fd = err_open ? err_fd : -1;
		if (poll(p, 2, POLL_MS) > 0) {
			if (p[0].revents)
				out_open = drain(out_fd, &out,
				                 TG_MAX_RENDER_OUTPUT,
				                 &r->too_big);
			if (p[1].revents)
				err_open =
				        drain(err_fd, &err,
				              TG_MAX_RENDER_STDERR, &err_over);
		}
		/* The leader is done: what it left behind goes too, so a
		 * child holding the pipes cannot stall the cycle. */
		if (!reaped && waitpid(pid, &r->status, WNOHANG) == pid) {
			reaped = true;
			(void)kill(-pid, SIGKILL);
		}
	}
	(void)kill(-pid, SIGKILL);
	if (!reaped)
		while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
			;
	r->out = tg_buf_detach(&r->out_len, &out);
	r->err = tg_buf_detach(NULL, &err);
}

int tg_render__exec(tg_render__run *r)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, null_fd = -1;
	char **env = clean_env(r->home);
	char *prog = tg_render__which(r->argv[0]);
	pid_t pid;
	int error = 0;

	if (!prog) {
		error = tg_error_set(TG_EIO, "%s: command not found in PATH",
		                     r->argv[0]);
		goto out;
	}
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    (null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
	    (pid = fork()) < 0) {
		error = tg_error_set(TG_EIO, "%s: cannot start: %s", r->argv[0],
		                     strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(r, prog, env, out[1], err[1], null_fd);
	/* also here, so the group exists before anything signals it */
	(void)setpgid(pid, pid);
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;
	collect(r, pid, out[0], err[0]);
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	if (null_fd >= 0)
		close(null_fd);
	free(prog);
	free_strv(env);
	return error;
}

void tg_render__run_clear(tg_render__run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->out_len = 0;
}
