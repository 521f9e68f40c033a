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

/* The run has ended (or is ended now): kill what is left of its group,
 * reap it, hand over the buffers, close the pipes. */
static void finish(tg_render__run *r)
{
	(void)kill(-r->pid, SIGKILL);
	if (!r->reaped)
		while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
			;
	r->out = tg_buf_detach(&r->out_len, &r->outb);
	r->err = tg_buf_detach(NULL, &r->errb);
	close(r->out_fd);
	close(r->err_fd);
	r->out_fd = r->err_fd = -1;
	r->running = false;
}

/* After a poll: read what is ready, reap the leader, end the run when
 * its pipes closed, its deadline passed or its output is over the cap. */
static void step(tg_render__run *r, const struct pollfd *p)
{
	if (p[0].revents)
		r->out_open = drain(r->out_fd, &r->outb, TG_MAX_RENDER_OUTPUT,
		                    &r->too_big);
	if (p[1].revents)
		r->err_open = drain(r->err_fd, &r->errb, TG_MAX_RENDER_STDERR,
		                    &r->err_over);
	/* The leader is done: what it left behind goes too, so a child
	 * holding the pipes cannot stall the cycle. */
	if (!r->reaped && waitpid(r->pid, &r->status, WNOHANG) == r->pid) {
		r->reaped = true;
		(void)kill(-r->pid, SIGKILL);
	}
	if (!r->too_big && (r->out_open || r->err_open) &&
	    tg_monotonic() >= r->deadline)
		r->timed_out = true;
	if (r->too_big || r->timed_out || (!r->out_open && !r->err_open))
		finish(r);
}

void tg_render__wait_any(tg_render__run **runs, size_t n)
{
	struct pollfd *p = tg_calloc(2 * n + 1, sizeof(*p));
	size_t i, active;
	bool ended = false;

	while (!ended) {
		for (i = 0, active = 0; i < n; i++) {
			tg_render__run *r = runs[i];

			p[2 * i].fd =
			        r->running && r->out_open ? r->out_fd : -1;
			p[2 * i + 1].fd =
			        r->running && r->err_open ? r->err_fd : -1;
			p[2 * i].events = p[2 * i + 1].events = POLLIN;
			p[2 * i].revents = p[2 * i + 1].revents = 0;
			active += r->running;
		}
		if (!active)
			break;
		if (poll(p, 2 * n, POLL_MS) < 0)
			memset(p, 0, 2 * n * sizeof(*p));
		for (i = 0; i < n; i++) {
			if (!runs[i]->running)
				continue;
			step(runs[i], &p[2 * i]);
			ended |= !runs[i]->running;
		}
	}
	free(p);
}

int tg_render__start(tg_render__run *r)
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
	r->pid = pid;
	r->out_fd = out[0];
	r->err_fd = err[0];
	out[0] = err[0] = -1;
	r->out_open = r->err_open = r->running = true;
	r->reaped = r->err_over = false;
	r->deadline = tg_monotonic() + (double)r->timeout_s;
	tg_buf_init(&r->outb, TG_MAX_RENDER_OUTPUT);
	tg_buf_init(&r->errb, TG_MAX_RENDER_STDERR);
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

int tg_render__exec(tg_render__run *r)
{
	tg_render__run *one = r;
	int error = tg_render__start(r);

	while (error == 0 && r->running)
		tg_render__wait_any(&one, 1);
	return error;
}

void tg_render__run_clear(tg_render__run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->out_len = 0;
}
