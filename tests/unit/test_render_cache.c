/*
 * Tests of the render cache's pruning (reconciler/render/cache.c): an
 * entry not used in the last cache_cycles cycles is removed, the least
 * recently used beyond the size cap too (never one used in the current
 * cycle), and what a killed run left behind (a private tree, a temporary
 * file) once it is older than the longest renderer timeout; a cycles
 * file that is not tollgate's is no history (nothing pruned by age). The
 * units are read through a directory fs that gives Git-like ids (a hash
 * of the content under each path), as the commit's object database
 * does, so the cache is on; the renderer is a real plugin process.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/manifest.h"
#include "tollgate/render.h"
#include "tollgate/util.h"

/* A directory fs with ids: the SHA-256 of every path and byte below. */
static tg_render_fs g_inner;

static void hash_into(tg_buf *b, const char *path, tg_render_kind kind)
{
	char **names = NULL, *data = NULL, id[TG_RENDER_ID_HEX];
	size_t n = 0, len = 0, i;

	assert_int_equal(tg_buf_printf(b, "%d %s\n", (int)kind, path), 0);
	if (kind == TG_RENDER_FILE) {
		assert_int_equal(g_inner.ops->read(g_inner.ctx, path, 1 << 20,
		                                   &data, &len),
		                 0);
		assert_int_equal(tg_buf_append(b, data, len), 0);
		free(data);
		return;
	}
	assert_int_equal(g_inner.ops->list(g_inner.ctx, path, &names, &n), 0);
	for (i = 0; i < n; i++) {
		char *c = *path ? tg_path_join(path, names[i])
		                : tg_strdup(names[i]);
		tg_render_kind k;

		assert_int_equal(g_inner.ops->stat(g_inner.ctx, c, &k, id), 0);
		hash_into(b, c, k);
		free(c);
		free(names[i]);
	}
	free(names);
}

static int id_stat(void *ctx,
                   const char *path,
                   tg_render_kind *kind,
                   char id[TG_RENDER_ID_HEX])
{
	unsigned char md[TG_SHA256_LEN];
	int error = g_inner.ops->stat(g_inner.ctx, path, kind, id);
	tg_buf b;

	(void)ctx;
	if (error < 0 || *kind == TG_RENDER_MISSING)
		return error;
	tg_buf_init(&b, 1 << 24);
	hash_into(&b, path, *kind);
	tg_sha256(md, b.data ? b.data : "", b.len);
	tg_hex_encode(id, md, sizeof(md));
	tg_buf_free(&b);
	return 0;
}

static int
id_read(void *ctx, const char *path, size_t max, char **data, size_t *len)
{
	(void)ctx;
	return g_inner.ops->read(g_inner.ctx, path, max, data, len);
}

static int id_list(void *ctx, const char *path, char ***names, size_t *n)
{
	(void)ctx;
	return g_inner.ops->list(g_inner.ctx, path, names, n);
}

static void id_free(void *ctx)
{
	(void)ctx;
}

static const tg_render_fs_ops id_ops = { id_stat, id_read, id_list, id_free };

/* One cycle over tt_dir/units with renderer r; the renderer's runs. */
static size_t cycle(tg_render *r)
{
	tg_render_fs fs = { &id_ops, NULL };
	tg_manifest_options mo = { 0 };
	tg_manifest_set *set = NULL;
	size_t before = tg_render_runs(r);
	struct timespec pause = { 0, 50 * 1000 * 1000 };

	/* file times come from a clock that ticks every few ms */
	nanosleep(&pause, NULL);
	assert_int_equal(tg_render_fs_dir(&g_inner, tt_dir), 0);
	assert_int_equal(tg_manifest_set_new(&set, &mo), 0);
	assert_int_equal(tg_render_units(set, r, &fs, "units"), 0);
	assert_true(tg_manifest_unit_is_valid(
	        tg_manifest_set_unit_by_name(set, "a")));
	tg_manifest_set_free(set);
	tg_render_fs_free(&g_inner);
	nanosleep(&pause, NULL);
	return tg_render_runs(r) - before;
}

static tg_render *renderer(size_t cycles, uint64_t max_bytes)
{
	static char *detect[] = { "render.sh", NULL };
	static char *cmd[] = { "sh", "-c", "cat obj.yaml", NULL };
	static tg_config_render_plugin p;
	tg_render_options ro = { 0 };
	tg_render *r = NULL;
	char *state = tg_path_join(tt_dir, "state");

	p.name = "cat";
	p.detect = detect;
	p.ndetect = 1;
	p.command = cmd;
	p.ncommand = 3;
	p.timeout = 10;
	ro.plugins = &p;
	ro.nplugins = 1;
	ro.state_dir = state;
	ro.cache_cycles = cycles;
	ro.cache_max_bytes = max_bytes;
	assert_int_equal(tg_render_new(&r, &ro), 0);
	free(state);
	return r;
}

static void unit(const char *name, const char *version)
{
	char *f = tg_aprintf("units/%s/render.sh", name);
	char *o = tg_aprintf("units/%s/obj.yaml", name);
	char *y = tg_aprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: "
	                     "{name: %s}\ndata: {v: \"%s\"}\n",
	                     name, version);

	tt_put(f, "#\n");
	tt_put(o, y);
	free(f);
	free(o);
	free(y);
}

/* Whether state/render/rel exists. */
static bool there(const char *rel)
{
	char *p = tg_aprintf("%s/state/render/%s", tt_dir, rel);
	bool yes = access(p, F_OK) == 0;

	free(p);
	return yes;
}

/* Cache entries (<key>.yaml) in state/render. */
static size_t entries(void)
{
	char *p = tg_aprintf("%s/state/render", tt_dir);
	DIR *d = opendir(p);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strlen(e->d_name) == 69 &&
		     tg_str_has_suffix(e->d_name, ".yaml");
	closedir(d);
	free(p);
	return n;
}

/* Put rel (a file, or a directory with a file) in state/render, last
 * changed two hours ago. */
static void old(const char *rel, bool dir)
{
	char *p = tg_aprintf("%s/state/render/%s", tt_dir, rel);
	char *f = dir ? tg_path_join(p, "tree/secret.yaml") : tg_strdup(p);
	struct timespec t[2];

	tt_write_file(f, "x\n");
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= 7200;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, p, t, 0), 0);
	free(f);
	free(p);
}

static void test_cache_prunes_unused_cycles_and_leftovers(void **state)
{
	tg_render *r = renderer(2, 0);

	(void)state;
	unit("a", "1");
	unit("b", "1");
	assert_int_equal(cycle(r), 2);
	assert_int_equal(entries(), 2);
	unit("a", "2");
	assert_int_equal(cycle(r), 1);
	/* a's first output was used one cycle ago: kept */
	assert_int_equal(entries(), 3);
	/* what a killed run left: an old private tree and temporary file
	 * go, a recent tree (another run's, maybe) stays */
	old("tollgate-render-Ab12Cd", true);
	old("0123456789012345678901234567890123456789012345678901234567890123"
	    ".yaml.tmp.4242",
	    false);
	tt_put("state/render/tollgate-render-Ef34Gh/tree/x.yaml", "x\n");
	assert_int_equal(cycle(r), 0);
	/* not used in the last two cycles: removed; the others stay */
	assert_int_equal(entries(), 2);
	assert_false(there("tollgate-render-Ab12Cd"));
	assert_false(there("01234567890123456789012345678901234567890123456789"
	                   "01234567890123.yaml.tmp.4242"));
	assert_true(there("tollgate-render-Ef34Gh"));
	/* the cache still serves both units */
	assert_int_equal(cycle(r), 0);
	tg_render_free(r);
}

/* Beyond the size cap the least recently used go, but never an entry
 * the cycle used, whatever the cap. */
static void test_cache_prunes_over_cap(void **state)
{
	tg_render *r = renderer(10, 1);

	(void)state;
	unit("a", "1");
	unit("b", "1");
	assert_int_equal(cycle(r), 2);
	assert_int_equal(entries(), 2);
	unit("b", "2");
	assert_int_equal(cycle(r), 1);
	assert_int_equal(entries(), 2);
	assert_int_equal(cycle(r), 0);
	tg_render_free(r);
}

/* A cycles file tollgate did not write (or a torn one) is no history:
 * nothing is removed by age until the history is whole again, and the
 * file is rewritten. */
static void test_cache_cycles_file_not_ours(void **state)
{
	tg_render *r = renderer(2, 0);
	char *cycles = tg_aprintf("%s/state/render/cycles", tt_dir);
	char *data = NULL;
	size_t len = 0;

	(void)state;
	unit("a", "1");
	assert_int_equal(cycle(r), 1);
	old("1123456789012345678901234567890123456789012345678901234567890123"
	    ".yaml",
	    false);
	tt_write_file(cycles, "garbage\n12\n");
	assert_int_equal(cycle(r), 0);
	assert_true(there("1123456789012345678901234567890123456789012345678"
	                  "901234567890123.yaml"));
	assert_int_equal(tg_file_read(&data, &len, cycles, 4096), 0);
	assert_null(strstr(data, "garbage"));
	assert_non_null(strchr(data, '\n'));
	free(data);
	/* one more cycle and the history is whole: the old entry goes */
	assert_int_equal(cycle(r), 0);
	assert_false(there("1123456789012345678901234567890123456789012345678"
	                   "901234567890123.yaml"));
	free(cycles);
	tg_render_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		        test_cache_prunes_unused_cycles_and_leftovers,
		        tt_dir_setup, tt_dir_teardown),
		cmocka_unit_test_setup_teardown(test_cache_prunes_over_cap,
		                                tt_dir_setup, tt_dir_teardown),
		cmocka_unit_test_setup_teardown(test_cache_cycles_file_not_ours,
		                                tt_dir_setup, tt_dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
