/*
 * Manifests: the parse cache (tollgate/manifest.h). The file
 * (stateDir/manifest-cache) is
 *
 *   tollgate manifest cache 1
 *   E <key: 64 hex> <objects>
 *   O <line> <images> <pod specs>
 *   <len>:<apiVersion>  <len>:<kind>  <len>:<namespace>  <len>:<name>
 *   <len>:<text>  (then <len>:<pointer> <len>:<written> per image, and
 *   <len>:<pointer> per pod spec), each field on its own line
 *   ...
 *   end <sha256 hex of every byte above this line>
 *
 * written atomically (temp file, fsync, rename). The key is the SHA-256
 * of a salt (the format, tollgate's version and build id, the image
 * paths the set extracts with), the file's path and the SHA-256 of its
 * bytes: an entry is used only for the very bytes it was made from, by
 * the very build that made it. Anything unexpected in the file (another
 * first line, a malformed or duplicate entry, a missing or wrong end
 * line, a file over TG_MAX_MANIFEST_CACHE_BYTES) and it is dropped whole:
 * every file is then parsed, which is only slower.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

#define CACHE_HEADER "tollgate manifest cache 1\n"
#define CACHE_END "end "
/* Bytes of the build id kept in the salt (SHA-1 ids are 20). */
#define BUILD_ID_MAX 64
/* Objects of one file, images and pod specs of one object, lines. */
#define MAX_COUNT 1000000u

typedef struct entry {
	unsigned char key[TG_SHA256_LEN];
	const char *raw; /* the whole entry, "E" line included, in data */
	size_t raw_len;
	const char *body; /* after the "E" line */
	size_t nobj;
	bool used;
} entry;

struct tg_manifest_cache {
	char *path;
	char *data; /* the file as read */
	entry *e;   /* sorted by key */
	size_t n;
	tg_buf added; /* entries recorded this cycle, in the file's format */
	size_t nadded, hits, misses;
	bool full;    /* added outgrew the limit: nothing is written */
	bool dropped; /* the file read was unusable: written anew */
	unsigned char salt[TG_SHA256_LEN];
};

/* A cursor over bytes of the file. */
typedef struct rd {
	const char *p, *end;
} rd;

/* Reading ------------------------------------------------------------------ */

/* Decimal digits up to stop (consumed), at most max. */
static bool rd_num(rd *r, char stop, uint64_t max, uint64_t *out)
{
	const char *s = r->p;

	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	if (r->p == s || r->p >= r->end || *r->p != stop ||
	    tg_parse_u64(out, s, (size_t)(r->p - s), max) < 0)
		return false;
	r->p++;
	return true;
}

/* "<len>:<bytes>\n": bytes without NUL, at most remaining. */
static bool rd_field(rd *r, const char **s, size_t *n)
{
	uint64_t len;

	if (!rd_num(r, ':', TG_MAX_MANIFEST_CACHE_BYTES, &len) ||
	    len >= (uint64_t)(r->end - r->p) || r->p[len] != '\n' ||
	    memchr(r->p, '\0', (size_t)len))
		return false;
	*s = r->p;
	*n = (size_t)len;
	r->p += len + 1;
	return true;
}

/* "<c> " */
static bool rd_tag(rd *r, char c)
{
	if (r->end - r->p < 2 || r->p[0] != c || r->p[1] != ' ')
		return false;
	r->p += 2;
	return true;
}

/* "O <line> <images> <pod specs>\n" */
static bool rd_object_line(rd *r, uint64_t *line, uint64_t *ni, uint64_t *np)
{
	return rd_tag(r, 'O') && rd_num(r, ' ', UINT32_MAX, line) &&
	       rd_num(r, ' ', MAX_COUNT, ni) && rd_num(r, '\n', MAX_COUNT, np);
}

/* Skip one object, checking its shape. */
static bool skip_object(rd *r)
{
	uint64_t line, ni, np, i;
	const char *s;
	size_t n;

	if (!rd_object_line(r, &line, &ni, &np))
		return false;
	for (i = 0; i < 5 + 2 * ni + np; i++)
		if (!rd_field(r, &s, &n))
			return false;
	return true;
}

/* One entry at r into e. */
static bool rd_entry(rd *r, entry *e)
{
	uint64_t nobj, i;

	memset(e, 0, sizeof(*e));
	e->raw = r->p;
	if (!rd_tag(r, 'E') || r->end - r->p < 2 * TG_SHA256_LEN + 1 ||
	    tg_hex_decode(e->key, sizeof(e->key), r->p, 2 * TG_SHA256_LEN) < 0)
		return false;
	r->p += 2 * TG_SHA256_LEN;
	if (*r->p++ != ' ' || !rd_num(r, '\n', MAX_COUNT, &nobj))
		return false;
	e->body = r->p;
	e->nobj = (size_t)nobj;
	for (i = 0; i < nobj; i++)
		if (!skip_object(r))
			return false;
	e->raw_len = (size_t)(r->p - e->raw);
	return true;
}

static int cmp_entry(const void *a, const void *b)
{
	return memcmp(((const entry *)a)->key, ((const entry *)b)->key,
	              TG_SHA256_LEN);
}

/* The body between the header and the end line, checked against the end
 * line's digest. */
static bool check_end(char *data, size_t len, rd *body)
{
	unsigned char want[TG_SHA256_LEN], got[TG_SHA256_LEN];
	size_t hl = strlen(CACHE_HEADER), el = strlen(CACHE_END);
	size_t tail = el + 2 * TG_SHA256_LEN + 1;
	const char *last;

	if (len < hl + tail || memcmp(data, CACHE_HEADER, hl) ||
	    data[len - 1] != '\n')
		return false;
	last = data + len - tail;
	if (last[-1] != '\n' || memcmp(last, CACHE_END, el) ||
	    tg_hex_decode(want, sizeof(want), last + el, 2 * TG_SHA256_LEN) < 0)
		return false;
	tg_sha256(got, data, (size_t)(last - data));
	if (memcmp(want, got, sizeof(want)))
		return false;
	body->p = data + hl;
	body->end = last;
	return true;
}

/* Index every entry of the file; false when anything is off. */
static bool parse_cache(tg_manifest_cache *c, size_t len)
{
	size_t cap = 0, i;
	rd r;

	if (!check_end(c->data, len, &r))
		return false;
	while (r.p < r.end) {
		if (c->n == cap) {
			cap = cap ? 2 * cap : 256;
			c->e = tg_realloc(c->e, cap * sizeof(*c->e));
		}
		if (!rd_entry(&r, &c->e[c->n]))
			return false;
		c->n++;
	}
	if (c->n)
		tg_qsort(c->e, c->n, sizeof(*c->e), cmp_entry);
	for (i = 1; i < c->n; i++)
		if (!cmp_entry(&c->e[i - 1], &c->e[i]))
			return false;
	return true;
}

tg_manifest_cache *tg_manifest_cache_load(const char *path)
{
	tg_manifest_cache *c = tg_calloc(1, sizeof(*c));
	size_t len = 0;
	int error;

	tg_buf_init(&c->added, TG_MAX_MANIFEST_CACHE_BYTES);
	if (!path)
		return c;
	c->path = tg_strdup(path);
	error = tg_file_read(&c->data, &len, path, TG_MAX_MANIFEST_CACHE_BYTES);
	if (error == 0 && !parse_cache(c, len)) {
		tg_log(TG_LOG_WARN,
		       "manifest cache not used: malformed (torn or changed "
		       "by hand); every file is parsed",
		       "path", path, NULL);
		error = TG_EPARSE;
		c->dropped = true;
	} else if (error < 0 && error != TG_ENOTFOUND) {
		tg_log(TG_LOG_WARN, "manifest cache not used", "error",
		       tg_error_last(), NULL);
	}
	if (error < 0) {
		/* Any doubt: nothing is remembered. */
		free(c->e);
		free(c->data);
		c->e = NULL;
		c->data = NULL;
		c->n = 0;
	}
	tg_error_clear();
	return c;
}

void tg_manifest_cache_free(tg_manifest_cache *c)
{
	if (!c)
		return;
	tg_buf_free(&c->added);
	free(c->e);
	free(c->data);
	free(c->path);
	free(c);
}

size_t tg_manifest_cache_hits(const tg_manifest_cache *c)
{
	return c->hits;
}

size_t tg_manifest_cache_misses(const tg_manifest_cache *c)
{
	return c->misses;
}

/* Keys --------------------------------------------------------------------- */

/* The GNU build id of the running program, as hex, into out ("" when it
 * has none): a rebuilt tollgate may parse differently. */
static int build_id_note(struct dl_phdr_info *info, size_t size, void *arg)
{
	char *out = arg;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		const char *end = p + ph->p_memsz;

		if (ph->p_type != PT_NOTE)
			continue;
		while (end - p >= (ptrdiff_t)sizeof(ElfW(Nhdr))) {
			const ElfW(Nhdr) *nh =
			        (const ElfW(Nhdr) *)(const void *)p;
			size_t name = (nh->n_namesz + 3) & ~(size_t)3;
			size_t desc = (nh->n_descsz + 3) & ~(size_t)3;
			const char *d = p + sizeof(*nh) + name;

			if (d + desc > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID &&
			    nh->n_descsz <= BUILD_ID_MAX) {
				tg_hex_encode(out, (const unsigned char *)d,
				              nh->n_descsz);
				return 1;
			}
			p = d + desc;
		}
	}
	return 1; /* the first object is the program itself */
}

/* "<len>:<s>" into b, so that no two lists of strings read the same. */
static void salt_str(tg_buf *b, const char *s)
{
	/* b has no limit that a path can reach (the set checked them) */
	tg_discard(tg_buf_printf(b, "%zu:%s", s ? strlen(s) : 0, s ? s : ""));
}

/* The salt: what a file's parse depends on besides its path and bytes. */
static void make_salt(tg_manifest_cache *c, const tg_manifest_set *set)
{
	char id[2 * BUILD_ID_MAX + 1] = "";
	tg_buf b;
	size_t i, j;

	dl_iterate_phdr(build_id_note, id);
	tg_buf_init(&b, SIZE_MAX);
	salt_str(&b, CACHE_HEADER);
	salt_str(&b, TOLLGATE_VERSION);
	salt_str(&b, id);
	for (i = 0; i < set->npaths; i++) {
		const image_path *ip = &set->paths[i];

		salt_str(&b, ip->group ? "g" : "-");
		salt_str(&b, ip->group);
		salt_str(&b, ip->kind);
		salt_str(&b, ip->declared_only ? "declared" : "paths");
		tg_discard(tg_buf_printf(&b, "%zu", ip->nsegs));
		for (j = 0; j < ip->nsegs; j++)
			salt_str(&b, ip->segs[j]);
	}
	tg_sha256(c->salt, b.data ? b.data : "", b.len);
	tg_buf_free(&b);
}

void tg_manifest_set_use_cache(tg_manifest_set *set, tg_manifest_cache *cache)
{
	set->cache = cache;
	if (cache)
		make_salt(cache, set);
}

void tg_manifest_cache_key(unsigned char *key,
                           const tg_manifest_cache *c,
                           bool rendered,
                           const char *path,
                           const char *data,
                           size_t len)
{
	unsigned char buf[3 * TG_SHA256_LEN + 1];

	memcpy(buf, c->salt, TG_SHA256_LEN);
	/* a renderer's output is parsed without lines: another kind */
	buf[TG_SHA256_LEN] = rendered ? 'r' : 'f';
	tg_sha256(buf + TG_SHA256_LEN + 1, path, strlen(path));
	tg_sha256(buf + 2 * TG_SHA256_LEN + 1, data, len);
	tg_sha256(key, buf, sizeof(buf));
}

/* Hits ------------------------------------------------------------------ */

/* A copy of the next field (checked at load). */
static char *rd_str(rd *r, size_t *len)
{
	const char *s = "";
	size_t n = 0;

	if (!rd_field(r, &s, &n)) { /* cannot happen: checked at load */
		s = "";
		n = 0;
	}
	if (len)
		*len = n;
	return tg_strndup(s, n);
}

/* The next image of an entry into obj; false when it does not parse as
 * a reference or is there twice (no entry this build wrote). */
static bool restore_image(rd *r, tg_manifest_object *obj)
{
	tg_manifest_image *img = tg_calloc(1, sizeof(*img));

	img->obj = obj;
	img->pointer = rd_str(r, NULL);
	img->written = rd_str(r, NULL);
	if (tg_imageref_parse(&img->ref, img->written) < 0 ||
	    tg_manifest_strmap_get(&obj->image_at, img->pointer)) {
		tg_error_clear();
		free(img->pointer);
		free(img->written);
		tg_imageref_free(img->ref);
		free(img);
		return false;
	}
	ptrvec_push(&obj->images, img);
	tg_manifest_strmap_put(&obj->image_at, img->pointer, img);
	return true;
}

/* The next pod spec pointer of an entry into obj. */
static bool restore_pod_spec(rd *r, tg_manifest_object *obj)
{
	char *ptr = rd_str(r, NULL);

	if (tg_manifest_strmap_get(&obj->pod_specs, ptr)) {
		free(ptr);
		return false;
	}
	tg_manifest_strmap_put(&obj->pod_specs, ptr, obj);
	ptrvec_push(&obj->pod_spec_ptrs, ptr);
	return true;
}

/* The next object of an entry (its shape checked at load) as an object
 * of ctx's unit, or NULL when it is not what this build writes. */
static tg_manifest_object *restore_object(rd *r, file_ctx *ctx)
{
	tg_manifest_object *obj = tg_calloc(1, sizeof(*obj));
	uint64_t line = 0, ni = 0, np = 0, i;
	bool ok = rd_object_line(r, &line, &ni, &np);

	obj->unit = ctx->unit;
	obj->file = tg_strdup(ctx->path);
	obj->line = (unsigned)line;
	obj->api_version = rd_str(r, NULL);
	obj->kind = rd_str(r, NULL);
	obj->ns = rd_str(r, NULL);
	obj->name = rd_str(r, NULL);
	obj->text = rd_str(r, &obj->text_len);
	obj->group = tg_manifest_api_group(obj->api_version);
	ok = ok && obj->group && *obj->kind && *obj->name && obj->text_len;
	/* every field is read, so that the cursor stays in step */
	for (i = 0; i < ni; i++)
		ok = restore_image(r, obj) && ok;
	for (i = 0; i < np; i++)
		ok = restore_pod_spec(r, obj) && ok;
	if (!ok) {
		tg_manifest_object_destroy(obj);
		return NULL;
	}
	return obj;
}

/* The objects of e into ctx's unit, registered as a parse adds them. */
static bool restore_entry(file_ctx *ctx, entry *e)
{
	tg_manifest_object **objs = tg_calloc(e->nobj + 1, sizeof(*objs));
	rd r = { e->body, e->raw + e->raw_len };
	size_t i, k;

	for (i = 0; i < e->nobj; i++) {
		if ((objs[i] = restore_object(&r, ctx)) != NULL)
			continue;
		while (i > 0)
			tg_manifest_object_destroy(objs[--i]);
		free(objs);
		return false;
	}
	for (i = 0; i < e->nobj; i++) {
		tg_manifest_object *obj = objs[i];

		ptrvec_push(&ctx->unit->objects, obj);
		ctx->set->nobjects++;
		tg_manifest_object_register(ctx, obj);
		tg_manifest_object_park(obj); /* a CRD's tree was read */
		for (k = 0; k < obj->images.n; k++)
			tg_manifest_unit_add_image(ctx->set, obj,
			                           obj->images.v[k]);
	}
	free(objs);
	return true;
}

bool tg_manifest_cache_restore(file_ctx *ctx, const unsigned char *key)
{
	tg_manifest_cache *c = ctx->set->cache;
	entry probe, *e;

	memcpy(probe.key, key, TG_SHA256_LEN);
	e = tg_bsearch(&probe, c->e, c->n, sizeof(*c->e), cmp_entry);
	if (!e || e->used || !restore_entry(ctx, e)) {
		c->misses++;
		return false;
	}
	e->used = true;
	c->hits++;
	return true;
}

/* Recording and saving ------------------------------------------------------
 */

static int wr_field(tg_buf *b, const char *s, size_t n)
{
	int error = tg_buf_printf(b, "%zu:", n);

	if (error == 0)
		error = tg_buf_append(b, s, n);
	return error ? error : tg_buf_puts(b, "\n");
}

static int wr_object(tg_buf *b, const tg_manifest_object *o)
{
	size_t i;
	int error = tg_buf_printf(b, "O %u %zu %zu\n", o->line, o->images.n,
	                          o->pod_spec_ptrs.n);

	if (error == 0)
		error = wr_field(b, o->api_version, strlen(o->api_version));
	if (error == 0)
		error = wr_field(b, o->kind, strlen(o->kind));
	if (error == 0)
		error = wr_field(b, o->ns, strlen(o->ns));
	if (error == 0)
		error = wr_field(b, o->name, strlen(o->name));
	if (error == 0)
		error = wr_field(b, o->text, o->text_len);
	for (i = 0; i < o->images.n && error == 0; i++) {
		const tg_manifest_image *img = o->images.v[i];

		error = wr_field(b, img->pointer, strlen(img->pointer));
		if (error == 0)
			error = wr_field(b, img->written, strlen(img->written));
	}
	for (i = 0; i < o->pod_spec_ptrs.n && error == 0; i++)
		error = wr_field(b, o->pod_spec_ptrs.v[i],
		                 strlen(o->pod_spec_ptrs.v[i]));
	return error;
}

void tg_manifest_cache_record(tg_manifest_cache *c,
                              const unsigned char *key,
                              const tg_manifest_unit *unit,
                              size_t first)
{
	char hex[2 * TG_SHA256_LEN + 1];
	size_t mark = c->added.len, i;
	int error;

	if (c->full)
		return;
	tg_hex_encode(hex, key, TG_SHA256_LEN);
	error = tg_buf_printf(&c->added, "E %s %zu\n", hex,
	                      unit->objects.n - first);
	for (i = first; i < unit->objects.n && error == 0; i++)
		error = wr_object(&c->added, unit->objects.v[i]);
	if (error) {
		/* too big to keep: the file is left as it is */
		c->added.len = mark;
		c->full = true;
		return;
	}
	c->nadded++;
}

int tg_manifest_cache_save(tg_manifest_cache *c)
{
	unsigned char d[TG_SHA256_LEN];
	char hex[2 * TG_SHA256_LEN + 1];
	size_t i, used = 0;
	tg_buf b;
	int error;

	for (i = 0; i < c->n; i++)
		used += c->e[i].used;
	if (!c->path || c->full ||
	    (c->nadded == 0 && used == c->n && !c->dropped))
		return 0; /* the file says what it would say */
	tg_buf_init(&b, TG_MAX_MANIFEST_CACHE_BYTES);
	error = tg_buf_puts(&b, CACHE_HEADER);
	for (i = 0; i < c->n && error == 0; i++)
		if (c->e[i].used)
			error = tg_buf_append(&b, c->e[i].raw, c->e[i].raw_len);
	if (error == 0 && c->added.len)
		error = tg_buf_append(&b, c->added.data, c->added.len);
	if (error == 0) {
		tg_sha256(d, b.data, b.len);
		tg_hex_encode(hex, d, sizeof(d));
		error = tg_buf_printf(&b, CACHE_END "%s\n", hex);
	}
	if (error == 0)
		error = tg_file_write_atomic(c->path, b.data, b.len);
	tg_buf_free(&b);
	return error;
}
