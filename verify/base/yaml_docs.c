/*
 * The parsed documents of a YAML stream and the positions of their nodes
 * (TG_YAML_POSITIONS): see include/tollgate/yaml.h. The event parser in
 * verify/base/yaml.c fills them; lookups by JSON pointer live here.
 *
 * Positions live in a tree parallel to the JSON, allocated from one arena
 * per tg_yaml_docs.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate/buf.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"
#include "yaml_int.h"

/* Arena ------------------------------------------------------------------ */

static void *arena_alloc(tg_yaml_docs *docs, size_t n)
{
	struct arena *a = docs->arena;
	size_t size =
	        (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	void *p;

	if (!a || a->cap - a->used < size) {
		size_t cap = size > TG_YAML_ARENA_CHUNK_BYTES
		                     ? size
		                     : TG_YAML_ARENA_CHUNK_BYTES;

		a = tg_malloc(sizeof(*a) + cap);
		a->used = 0;
		a->cap = cap;
		/* A big block goes behind the current chunk so the current
		 * chunk's free space is not lost. */
		if (docs->arena && size > TG_YAML_ARENA_CHUNK_BYTES) {
			a->next = docs->arena->next;
			docs->arena->next = a;
		} else {
			a->next = docs->arena;
			docs->arena = a;
		}
	}
	p = (char *)a->data + a->used;
	a->used += size;
	memset(p, 0, n);
	return p;
}

struct pos *tg_yaml_pos_new(tg_yaml_docs *docs, bool is_map)
{
	struct pos *ps = arena_alloc(docs, sizeof(*ps));

	ps->is_map = is_map;
	return ps;
}

/* Append a child position; key is copied into the arena. */
void tg_yaml_pos_add(tg_yaml_docs *docs,
                     struct pos *ps,
                     const char *key,
                     size_t keylen,
                     unsigned line,
                     unsigned col,
                     struct pos *node)
{
	struct pos_kid *k;

	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 4;
		struct pos_kid *kids = arena_alloc(docs, cap * sizeof(*kids));

		if (ps->n)
			memcpy(kids, ps->kids, ps->n * sizeof(*kids));
		ps->kids = kids;
		ps->cap = cap;
	}
	k = &ps->kids[ps->n++];
	if (key) {
		char *copy = arena_alloc(docs, keylen + 1);

		memcpy(copy, key, keylen);
		k->key = copy;
		k->keylen = keylen;
	}
	k->line = line;
	k->col = col;
	k->node = node;
}

const struct pos_kid *
tg_yaml_pos_find_key(const struct pos *ps, const char *key, size_t keylen)
{
	size_t i;

	if (!ps || !ps->is_map)
		return NULL;
	for (i = 0; i < ps->n; i++)
		if (ps->kids[i].keylen == keylen &&
		    memcmp(ps->kids[i].key, key, keylen) == 0)
			return &ps->kids[i];
	return NULL;
}

/* Documents -------------------------------------------------------------- */

void tg_yaml_docs_push(tg_yaml_docs *docs,
                       json_t *v,
                       unsigned line,
                       unsigned col,
                       struct pos *ps)
{
	struct doc *d;

	if (docs->n == docs->cap) {
		docs->cap = docs->cap ? docs->cap * 2 : 4;
		docs->v = tg_realloc(docs->v, docs->cap * sizeof(*docs->v));
	}
	d = &docs->v[docs->n++];
	d->val = v ? v : json_null();
	d->line = line;
	d->col = col;
	d->pos = ps;
}

size_t tg_yaml_docs_count(const tg_yaml_docs *docs)
{
	return docs ? docs->n : 0;
}

json_t *tg_yaml_docs_get(const tg_yaml_docs *docs, size_t i)
{
	return docs && i < docs->n ? docs->v[i].val : NULL;
}

unsigned tg_yaml_docs_line(const tg_yaml_docs *docs, size_t i)
{
	return docs && i < docs->n ? docs->v[i].line : 0;
}

/* One RFC 6901 reference token of path into buf (unescaped); returns the
 * rest of path, or NULL when the token is malformed. */
static const char *pointer_token(tg_buf *buf, const char *path)
{
	const char *s = path;

	tg_buf_clear(buf);
	for (; *s && *s != '/'; s++) {
		char c = *s;

		if (c == '~') {
			if (s[1] != '0' && s[1] != '1')
				return NULL;
			c = s[1] == '0' ? '~' : '/';
			s++;
		}
		if (tg_buf_append(buf, &c, 1) < 0)
			return NULL;
	}
	return s;
}

static const struct pos_kid *
pos_find_index(const struct pos *ps, const char *tok, size_t len)
{
	uint64_t idx;

	if (!ps || ps->is_map || (len > 1 && tok[0] == '0') ||
	    tg_parse_u64(&idx, tok, len, SIZE_MAX) < 0 || idx >= ps->n)
		return NULL;
	return &ps->kids[idx];
}

void tg_yaml_docs_line_at(unsigned *line_out,
                          unsigned *col_out,
                          const tg_yaml_docs *docs,
                          size_t i,
                          const char *path)
{
	const struct pos *ps;
	const struct pos_kid *k;
	unsigned line, col;
	tg_buf tok;

	*line_out = 0;
	if (col_out)
		*col_out = 0;
	if (!docs || i >= docs->n || !path || (*path && *path != '/'))
		return;
	ps = docs->v[i].pos;
	line = docs->v[i].line;
	col = docs->v[i].col;
	tg_buf_init(&tok, TG_YAML_POINTER_TOKEN_MAX);
	while (*path) {
		path = pointer_token(&tok, path + 1);
		if (!path || !ps)
			goto out;
		k = ps->is_map ? tg_yaml_pos_find_key(
		                         ps, tok.data ? tok.data : "", tok.len)
		               : pos_find_index(ps, tok.data, tok.len);
		if (!k)
			goto out;
		line = k->line;
		col = k->col;
		ps = k->node;
	}
	*line_out = line;
	if (col_out)
		*col_out = col;
out:
	tg_buf_free(&tok);
}

/* Digits of the shortest "%.*g" of d that reads back as d. */
static int real_digits(double d)
{
	char buf[40];
	int p;

	for (p = 1; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			return p;
	}
	return 17;
}

int tg_json_real_digits(const json_t *v)
{
	const char *key;
	json_t *x;
	size_t i;
	int best = 0, d;

	if (!v)
		return 0;
	switch (json_typeof(v)) {
	case JSON_REAL:
		return real_digits(json_real_value(v));
	case JSON_ARRAY:
		json_array_foreach(v, i, x) {
			if ((d = tg_json_real_digits(x)) > best)
				best = d;
		}
		return best;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, x) {
			if ((d = tg_json_real_digits(x)) > best)
				best = d;
		}
		return best;
	default:
		return 0;
	}
}

void tg_yaml_docs_free(tg_yaml_docs *docs)
{
	struct arena *a, *next;
	size_t i;

	if (!docs)
		return;
	for (i = 0; i < docs->n; i++)
		json_decref(docs->v[i].val);
	free(docs->v);
	for (a = docs->arena; a; a = next) {
		next = a->next;
		free(a);
	}
	free(docs);
}
