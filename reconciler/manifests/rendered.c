/*
 * A renderer's output as the objects of a unit (tollgate/render.h): see
 * tg_manifest_set_add_rendered() in tollgate/manifest.h. The stream may be
 * larger than one manifest file (TG_MAX_FILE_BYTES, the YAML reader's
 * limit) up to TG_MAX_RENDER_OUTPUT, so it is parsed in pieces cut at
 * document separators.
 */
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"
#include "tollgate/error.h"
#include "tollgate/yaml.h"

void tg_manifest_set_skip_unit(tg_manifest_set *set, const char *unit)
{
	(void)tg_manifest_unit_named(set, unit); /* the unit exists from now */
	if (!tg_manifest_strmap_get(&set->skipped, unit))
		tg_manifest_strmap_put(&set->skipped, unit, set);
}

void tg_manifest_set_add_render_error(tg_manifest_set *set,
                                      const char *unit,
                                      const char *renderer,
                                      const char *message)
{
	char *file = tg_aprintf("%s (%s)", unit, renderer);
	char *loc = tg_manifest_loc(set, file, 0);

	tg_manifest_unit_errorf(set, tg_manifest_unit_named(set, unit),
	                        "%s: %s", loc, message);
	free(loc);
	free(file);
}

/*
 * Length of the next piece of data (at most max bytes) that ends at a
 * document separator ("---" at the start of a line) or at the end; 0 when
 * one document alone is longer than max.
 */
static size_t next_piece(const char *data, size_t len, size_t max)
{
	size_t cut = 0, i;

	if (len <= max)
		return len;
	for (i = 1; i + 3 <= len && i <= max; i++)
		if (data[i - 1] == '\n' && !memcmp(data + i, "---", 3))
			cut = i;
	return cut;
}

/* The stream into ctx's unit, piece by piece. */
static void add_pieces(file_ctx *ctx, const char *data, size_t len)
{
	tg_yaml_docs *docs = NULL;
	size_t off = 0, n;

	while (off < len) {
		if (!(n = next_piece(data + off, len - off,
		                     TG_MAX_FILE_BYTES))) {
			tg_manifest_unit_errorf(
			        ctx->set, ctx->unit,
			        "%s: one document over %u bytes", ctx->display,
			        TG_MAX_FILE_BYTES);
			break;
		}
		ctx->data = data + off;
		ctx->len = n;
		if (tg_yaml_parse(&docs, ctx->display, data + off, n, 0) < 0) {
			tg_manifest_unit_errorf(ctx->set, ctx->unit, "%s",
			                        tg_error_last());
			break;
		}
		tg_manifest_add_docs(ctx, docs);
		tg_yaml_docs_free(docs);
		docs = NULL;
		off += n;
	}
}

int tg_manifest_set_add_rendered(tg_manifest_set *set,
                                 const char *unit,
                                 const char *renderer,
                                 const char *data,
                                 size_t len)
{
	char *file = tg_aprintf("%s (%s)", unit, renderer);
	unsigned char key[TG_SHA256_LEN];
	size_t errors = set->parse_errors, first;
	file_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.set = set;
	ctx.unit = tg_manifest_unit_named(set, unit);
	ctx.path = file;
	ctx.display = tg_manifest_loc(set, file, 0);
	ctx.pos_failed = 1; /* no positions: lines of the stream mean nothing */
	ctx.no_lines = true;
	set->nfiles++;
	first = ctx.unit->objects.n;
	/* the output's bytes are the key: whatever the renderer read, the
	 * objects are those of these very bytes */
	if (set->cache)
		tg_manifest_cache_key(key, set->cache, true, file, data, len);
	if (!set->cache || !tg_manifest_cache_restore(&ctx, key)) {
		ctx.unit->parsed = true;
		add_pieces(&ctx, data, len);
		if (set->cache && set->parse_errors == errors)
			tg_manifest_cache_record(set->cache, key, ctx.unit,
			                         first);
	}
	free(ctx.display);
	free(file);
	return 0;
}
