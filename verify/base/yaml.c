/*
 * YAML to jansson over libyaml's event parser: see include/tollgate/yaml.h.
 *
 * One pass over the events with an explicit stack of open mappings and
 * sequences (never deeper than TG_MAX_YAML_DEPTH), so hostile nesting
 * cannot exhaust the C stack. Plain scalars are resolved like go-yaml v2,
 * the YAML library under sigs.k8s.io/yaml that kubectl uses, because the
 * JSON we produce must be the JSON kubectl would send.
 *
 * Aliases insert deep copies of the anchored value: the manifest loader
 * rewrites image fields in place, and a value shared by two parents would
 * be rewritten in both. Every node a copy creates counts against
 * TG_MAX_YAML_ALIAS_NODES before the copy is made, which stops "billion
 * laughs" documents after at most that many nodes.
 *
 * Positions (TG_YAML_POSITIONS) live in a tree parallel to the JSON,
 * allocated from one arena per tg_yaml_docs; alias copies share the
 * anchored node's position subtree, so positions point at the text the
 * user wrote.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"
#include "yaml_int.h"

/* Parser state ---------------------------------------------------------- */

enum { F_SEQ, F_MAP };

struct merge_src {
	json_t *obj; /* owned reference */
	struct pos *pos;
};

struct frame {
	int kind;
	json_t *val; /* owned until attached to its parent */
	struct pos *pos;
	char *anchor; /* registered when the container ends */
	size_t nodes_start, bytes_start;
	unsigned height; /* greatest height of a child */
	unsigned line, col;
	/* mappings: the key waiting for its value */
	tg_buf key;
	bool have_key, key_merge;
	unsigned kline, kcol;
	struct merge_src *merges;
	size_t n_merges, cap_merges;
};

struct anchor {
	char *name;
	json_t *val;
	struct pos *pos;
	size_t nodes, bytes;
	unsigned height;
};

struct yp {
	const char *name;
	const char *data;
	size_t len;
	unsigned flags;
	tg_yaml_docs *docs;
	struct frame *stack;
	size_t depth;
	size_t max_depth;   /* frames used so far, for cleanup */
	size_t nodes;       /* nodes created in this document */
	size_t file_nodes;  /* nodes created in the file */
	size_t alias_nodes; /* nodes created by alias copies in the file */
	size_t bytes;       /* scalar bytes (keys too) in this document */
	size_t alias_bytes; /* scalar bytes copied by aliases in the file */
	struct anchor *anchors;
	size_t n_anchors, cap_anchors, anchors_total;
	json_t *anchor_index; /* name -> index into anchors */
	size_t n_docs;
	json_t *root;
	struct pos *root_pos;
	unsigned root_line, root_col;
	unsigned doc_line, doc_col; /* of the "---", or the first token */
};

/* Record "name:line:col: detail" and return code. */
#define yp_error(p, ...) tg_yaml_error_at((p)->name, __VA_ARGS__)

/* Stack ------------------------------------------------------------------ */

static struct frame *top(struct yp *p)
{
	return p->depth ? &p->stack[p->depth - 1] : NULL;
}

static bool want_key(struct yp *p)
{
	struct frame *f = top(p);

	return f && f->kind == F_MAP && !f->have_key;
}

static int check_key(struct yp *p, struct frame *f, unsigned line, unsigned col)
{
	if (memchr(f->key.data ? f->key.data : "", '\0', f->key.len))
		return yp_error(p, TG_EPARSE, line, col,
		                "mapping key contains a NUL character");
	if (json_object_getn(f->val, f->key.data ? f->key.data : "",
	                     f->key.len))
		return yp_error(p, TG_EPARSE, line, col,
		                "duplicate key \"%.*s\" (a key may appear once "
		                "in a mapping; keys like 1 and 0x1, or y and "
		                "true, are the same once written as JSON)",
		                (int)(f->key.len > 100 ? 100 : f->key.len),
		                f->key.data);
	f->have_key = true;
	f->key_merge = false;
	f->kline = line;
	f->kcol = col;
	return 0;
}

/* A value for "<<": a mapping, or a sequence of mappings (earlier ones
 * take precedence). Takes v. */
static int add_merge(struct yp *p,
                     struct frame *f,
                     json_t *v,
                     struct pos *ps,
                     unsigned line,
                     unsigned col)
{
	size_t i, n = json_is_array(v) ? json_array_size(v) : 1;
	int error = 0;

	for (i = 0; i < n; i++) {
		json_t *m = json_is_array(v) ? json_array_get(v, i) : v;

		if (!json_is_object(m)) {
			error = yp_error(p, TG_EPARSE, line, col,
			                 "merge key \"<<\" needs a mapping or "
			                 "a sequence of mappings");
			goto out;
		}
	}
	if (f->n_merges + n > f->cap_merges) {
		f->cap_merges = (f->n_merges + n) * 2;
		f->merges = tg_realloc(f->merges,
		                       f->cap_merges * sizeof(*f->merges));
	}
	for (i = 0; i < n; i++) {
		struct merge_src *m = &f->merges[f->n_merges++];

		m->obj = json_incref(json_is_array(v) ? json_array_get(v, i)
		                                      : v);
		m->pos = ps && json_is_array(v) && i < ps->n ? ps->kids[i].node
		                                             : ps;
	}
out:
	json_decref(v);
	return error;
}

/* Attach a finished value (taken) to the open container or the document. */
static int attach(struct yp *p,
                  json_t *v,
                  struct pos *ps,
                  unsigned height,
                  unsigned line,
                  unsigned col)
{
	struct frame *f = top(p);
	const char *key;

	if (!f) {
		p->root = v;
		p->root_pos = ps;
		return 0;
	}
	if (height > f->height)
		f->height = height;
	if (f->kind == F_SEQ) {
		json_array_append_new(f->val, v);
		if (f->pos)
			tg_yaml_pos_add(p->docs, f->pos, NULL, 0, line, col,
			                ps);
		return 0;
	}
	f->have_key = false;
	if (f->key_merge)
		return add_merge(p, f, v, ps, line, col);
	key = f->key.data ? f->key.data : "";
	json_object_setn_new_nocheck(f->val, key, f->key.len, v);
	if (f->pos)
		tg_yaml_pos_add(p->docs, f->pos, key, f->key.len, f->kline,
		                f->kcol, ps);
	return 0;
}

/* What an alias of an anchored node would copy. */
struct extent {
	size_t nodes, bytes;
	unsigned height;
};

static int anchor_add(struct yp *p,
                      const char *name,
                      json_t *v,
                      struct pos *ps,
                      struct extent ext,
                      unsigned line,
                      unsigned col)
{
	struct anchor *a;

	if (++p->anchors_total > TG_MAX_YAML_ANCHORS)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "more than %d anchors in one file",
		                TG_MAX_YAML_ANCHORS);
	if (p->n_anchors == p->cap_anchors) {
		p->cap_anchors = p->cap_anchors ? p->cap_anchors * 2 : 8;
		p->anchors = tg_realloc(p->anchors,
		                        p->cap_anchors * sizeof(*p->anchors));
	}
	if (!p->anchor_index)
		p->anchor_index = json_object();
	a = &p->anchors[p->n_anchors];
	a->name = tg_strdup(name);
	a->val = json_incref(v);
	a->pos = ps;
	a->nodes = ext.nodes;
	a->bytes = ext.bytes;
	a->height = ext.height;
	/* A later anchor of the same name replaces the earlier one, as in
	 * go-yaml. */
	json_object_set_new(p->anchor_index, name,
	                    json_integer((json_int_t)p->n_anchors));
	p->n_anchors++;
	return 0;
}

static void anchors_clear(struct yp *p)
{
	size_t i;

	for (i = 0; i < p->n_anchors; i++) {
		free(p->anchors[i].name);
		json_decref(p->anchors[i].val);
	}
	p->n_anchors = 0;
	json_decref(p->anchor_index);
	p->anchor_index = NULL;
}

/* Events ----------------------------------------------------------------- */

/* Count n new nodes against the file's limit. */
static int add_nodes(struct yp *p, size_t n, unsigned line, unsigned col)
{
	if (n > TG_MAX_YAML_NODES - p->file_nodes)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "more than %d nodes in one file",
		                TG_MAX_YAML_NODES);
	p->file_nodes += n;
	p->nodes += n;
	return 0;
}

/* A scalar key that needs no JSON value: plain or string-tagged, without
 * an anchor. Quoted keys (all of JSON's) go straight to the key buffer. */
static int
on_simple_key(struct yp *p, const yaml_event_t *ev, unsigned line, unsigned col)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	struct frame *f = top(p);
	int error;

	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    !ev->data.scalar.tag)
		error = tg_yaml_key_from_plain(&f->key, p->name, s, n, line,
		                               col);
	else {
		tg_buf_clear(&f->key);
		error = tg_buf_append(&f->key, s, n);
	}
	if (error < 0)
		return error;
	p->bytes += f->key.len;
	return check_key(p, f, line, col);
}

static bool is_merge_key(const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;

	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       ev->data.scalar.length == 2 &&
	       memcmp(ev->data.scalar.value, "<<", 2) == 0 &&
	       (!tag || tg_yaml_tag_is(tag, "merge"));
}

static bool is_simple_key(const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;

	return !ev->data.scalar.anchor &&
	       (!tag || strcmp(tag, "!") == 0 || tg_yaml_tag_is(tag, "str"));
}

/* A bad value of a mapping: its message (which never quotes the value,
 * a Secret's perhaps) names the key. Returns error. */
static int name_value_key(const struct frame *f, int error)
{
	char msg[TG_ERROR_MAX];

	if (!f || f->kind != F_MAP || !f->have_key || f->key_merge)
		return error;
	snprintf(msg, sizeof(msg), "%s", tg_error_last());
	return tg_error_set(error, "%s; key \"%.100s\"", msg,
	                    f->key.data ? f->key.data : "");
}

static int
on_scalar(struct yp *p, const yaml_event_t *ev, unsigned line, unsigned col)
{
	const char *anchor = (const char *)ev->data.scalar.anchor;
	size_t n = ev->data.scalar.length;
	struct frame *f = top(p);
	struct extent ext = { 1, n, 0 };
	json_t *v = NULL;
	int error = 0;

	if (n > TG_MAX_YAML_SCALAR_BYTES)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "scalar of %zu bytes is over the limit of %u "
		                "bytes",
		                n, TG_MAX_YAML_SCALAR_BYTES);
	if (want_key(p) && is_merge_key(ev)) {
		f->have_key = f->key_merge = true;
		f->kline = line;
		f->kcol = col;
		return 0;
	}
	if (want_key(p) && is_simple_key(ev))
		return on_simple_key(p, ev, line, col);
	if ((error = add_nodes(p, 1, line, col)) < 0)
		return error;
	if (!(v = tg_yaml_scalar_json(p->name, ev, line, col, &error)))
		return error ? name_value_key(f, error)
		             : yp_error(p, TG_EPARSE, line, col, "bad scalar");
	p->bytes += n;
	if (anchor &&
	    (error = anchor_add(p, anchor, v, NULL, ext, line, col)) < 0)
		goto out;
	if (want_key(p)) {
		/* A tagged or anchored key: its JSON value gives the key. */
		if ((error = tg_yaml_key_from_json(&f->key, p->name, v, line,
		                                   col)) == 0)
			error = check_key(p, f, line, col);
		goto out;
	}
	error = attach(p, v, NULL, 0, line, col);
	v = NULL;
out:
	json_decref(v);
	return error;
}

static int check_collection_tag(struct yp *p,
                                const char *tag,
                                const char *want,
                                unsigned line,
                                unsigned col)
{
	char shown[TG_YAML_TAG_TEXT_MAX];

	if (!tag || strcmp(tag, "!") == 0 || tg_yaml_tag_is(tag, want))
		return 0;
	tg_yaml_tag_display(shown, sizeof(shown), tag);
	if (tg_yaml_tag_is(tag, "map") || tg_yaml_tag_is(tag, "seq"))
		return yp_error(
		        p, TG_EPARSE, line, col, "tag \"%s\" on a %s", shown,
		        strcmp(want, "map") == 0 ? "mapping" : "sequence");
	return yp_error(p, TG_EPARSE, line, col,
	                "unknown tag \"%s\" (supported: !!str, !!int, !!float, "
	                "!!bool, !!null, !!binary, !!timestamp, !!map, !!seq)",
	                shown);
}

static int on_start(struct yp *p,
                    const yaml_event_t *ev,
                    int kind,
                    unsigned line,
                    unsigned col)
{
	const char *anchor, *tag;
	struct frame *f;
	int error;

	if (kind == F_MAP) {
		anchor = (const char *)ev->data.mapping_start.anchor;
		tag = (const char *)ev->data.mapping_start.tag;
	} else {
		anchor = (const char *)ev->data.sequence_start.anchor;
		tag = (const char *)ev->data.sequence_start.tag;
	}
	if ((error = check_collection_tag(p, tag, kind == F_MAP ? "map" : "seq",
	                                  line, col)) < 0)
		return error;
	if (want_key(p))
		return yp_error(p, TG_EPARSE, line, col,
		                "mapping key is a %s; JSON keys must be "
		                "strings",
		                kind == F_MAP ? "mapping" : "sequence");
	if (p->depth >= TG_MAX_YAML_DEPTH)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "nesting deeper than %d levels",
		                TG_MAX_YAML_DEPTH);
	if ((error = add_nodes(p, 1, line, col)) < 0)
		return error;
	f = &p->stack[p->depth++];
	if (p->depth > p->max_depth) {
		p->max_depth = p->depth;
		memset(f, 0, sizeof(*f));
		tg_buf_init(&f->key, TG_MAX_YAML_SCALAR_BYTES);
	}
	f->kind = kind;
	f->val = kind == F_MAP ? json_object() : json_array();
	f->pos = p->flags & TG_YAML_POSITIONS
	                 ? tg_yaml_pos_new(p->docs, kind == F_MAP)
	                 : NULL;
	f->anchor = anchor ? tg_strdup(anchor) : NULL;
	f->nodes_start = p->nodes - 1;
	f->bytes_start = p->bytes;
	f->height = 0;
	f->line = line;
	f->col = col;
	f->have_key = false;
	f->key_merge = false;
	f->n_merges = 0;
	return 0;
}

/* Members of the "<<" mappings that the mapping does not set itself. */
static void apply_merges(struct yp *p, struct frame *f)
{
	size_t i;

	for (i = 0; i < f->n_merges; i++) {
		struct merge_src *m = &f->merges[i];
		const char *key;
		size_t keylen;
		json_t *v;
		const struct pos_kid *k;

		json_object_keylen_foreach(m->obj, key, keylen, v) {
			if (json_object_getn(f->val, key, keylen))
				continue;
			json_object_setn(f->val, key, keylen, v);
			if (!f->pos)
				continue;
			k = tg_yaml_pos_find_key(m->pos, key, keylen);
			tg_yaml_pos_add(p->docs, f->pos, key, keylen,
			                k ? k->line : 0, k ? k->col : 0,
			                k ? k->node : NULL);
		}
		json_decref(m->obj);
	}
	f->n_merges = 0;
}

static int on_end(struct yp *p)
{
	struct frame *f = &p->stack[--p->depth];
	json_t *v = f->val;
	unsigned height = f->height + 1;
	int error = 0;

	if (f->kind == F_MAP)
		apply_merges(p, f);
	f->val = NULL;
	if (f->anchor) {
		struct extent ext = { p->nodes - f->nodes_start,
			              p->bytes - f->bytes_start, height };

		error = anchor_add(p, f->anchor, v, f->pos, ext, f->line,
		                   f->col);
		free(f->anchor);
		f->anchor = NULL;
		if (error < 0) {
			json_decref(v);
			return error;
		}
	}
	return attach(p, v, f->pos, height, f->line, f->col);
}

/* Charge an alias copy to the file's budgets, before making it. */
static int
alias_budget(struct yp *p, const struct anchor *a, unsigned line, unsigned col)
{
	int error;

	if (p->depth + a->height > TG_MAX_YAML_DEPTH)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "alias \"*%.100s\" makes nesting deeper than "
		                "%d levels",
		                a->name, TG_MAX_YAML_DEPTH);
	if (a->nodes > TG_MAX_YAML_ALIAS_NODES - p->alias_nodes)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "alias expansion would create more than %d "
		                "nodes (billion laughs?)",
		                TG_MAX_YAML_ALIAS_NODES);
	if (a->bytes > TG_MAX_YAML_ALIAS_BYTES - p->alias_bytes)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "alias expansion would copy more than %u "
		                "bytes of text (billion laughs?)",
		                TG_MAX_YAML_ALIAS_BYTES);
	if ((error = add_nodes(p, a->nodes, line, col)) < 0)
		return error;
	p->alias_nodes += a->nodes;
	p->alias_bytes += a->bytes;
	p->bytes += a->bytes;
	return 0;
}

static int
on_alias(struct yp *p, const yaml_event_t *ev, unsigned line, unsigned col)
{
	const char *name = (const char *)ev->data.alias.anchor;
	json_t *idx =
	        p->anchor_index ? json_object_get(p->anchor_index, name) : NULL;
	struct anchor *a;
	json_t *v;
	size_t i;
	int error;

	for (i = 0; i < p->depth; i++)
		if (p->stack[i].anchor && strcmp(p->stack[i].anchor, name) == 0)
			return yp_error(p, TG_EPARSE, line, col,
			                "alias \"*%.100s\" inside the node it "
			                "refers to",
			                name);
	if (!idx)
		return yp_error(p, TG_EPARSE, line, col,
		                "alias \"*%.100s\" refers to no anchor defined "
		                "before it in this document",
		                name);
	a = &p->anchors[json_integer_value(idx)];
	if ((error = alias_budget(p, a, line, col)) < 0)
		return error;
	if (want_key(p)) {
		if ((error = tg_yaml_key_from_json(&top(p)->key, p->name,
		                                   a->val, line, col)) < 0)
			return error;
		return check_key(p, top(p), line, col);
	}
	v = json_deep_copy(a->val);
	return attach(p, v, a->pos, a->height, line, col);
}

/* Documents -------------------------------------------------------------- */

static int on_document_start(struct yp *p, unsigned line, unsigned col)
{
	if (++p->n_docs > TG_MAX_YAML_DOCUMENTS)
		return yp_error(p, TG_ETOOBIG, line, col,
		                "more than %d documents in one file",
		                TG_MAX_YAML_DOCUMENTS);
	p->doc_line = line;
	p->doc_col = col;
	p->nodes = 0;
	p->root = NULL;
	p->root_pos = NULL;
	p->root_line = 0;
	return 0;
}

static void on_document_end(struct yp *p)
{
	tg_yaml_docs_push(p->docs, p->root, p->root_line, p->root_col,
	                  p->root_pos);
	p->root = NULL;
	anchors_clear(p);
}

/* The byte at a 1-based line and column (in characters), or -1. */
static int byte_at(const struct yp *p, unsigned line, unsigned col)
{
	size_t i = 0;

	for (; line > 1 && i < p->len; i++)
		if (p->data[i] == '\n')
			line--;
	for (; i < p->len && p->data[i] != '\n'; i++) {
		if (((unsigned char)p->data[i] & 0xC0) == 0x80)
			continue;
		if (--col == 0)
			return (unsigned char)p->data[i];
	}
	return -1;
}

/* libyaml's own errors, with the position it gives. */
static int parser_error(struct yp *p, const yaml_parser_t *parser)
{
	unsigned line = 1, col = 1;
	size_t i;

	if (parser->error == YAML_MEMORY_ERROR)
		return tg_error_set(TG_ERROR, "%s: out of memory", p->name);
	if (parser->error == YAML_READER_ERROR) {
		/* The reader gives a byte offset, not a mark. */
		for (i = 0; i < parser->problem_offset && i < p->len; i++) {
			if (p->data[i] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)p->data[i] & 0xC0) != 0x80)
				col++;
		}
		if (parser->problem_value != -1)
			return yp_error(p, TG_EPARSE, line, col,
			                "%s (byte 0x%02X); the file must be "
			                "UTF-8 (or UTF-16 with a BOM)",
			                parser->problem, parser->problem_value);
		return yp_error(p, TG_EPARSE, line, col, "%s",
		                parser->problem ? parser->problem
		                                : "bad input");
	}
	line = (unsigned)parser->problem_mark.line + 1;
	col = (unsigned)parser->problem_mark.column + 1;
	if (parser->error == YAML_SCANNER_ERROR &&
	    byte_at(p, line, col) == '\t')
		return yp_error(p, TG_EPARSE, line, col,
		                "%s: a tab; YAML indents with spaces only",
		                parser->problem);
	if (parser->context)
		return yp_error(p, TG_EPARSE, line, col, "%s (%s at line %u)",
		                parser->problem ? parser->problem : "error",
		                parser->context,
		                (unsigned)parser->context_mark.line + 1);
	return yp_error(p, TG_EPARSE, line, col, "%s",
	                parser->problem ? parser->problem : "syntax error");
}

static int on_event(struct yp *p, const yaml_event_t *ev)
{
	unsigned line = (unsigned)ev->start_mark.line + 1;
	unsigned col = (unsigned)ev->start_mark.column + 1;

	if (p->depth == 0 && !p->root_line &&
	    (ev->type == YAML_SCALAR_EVENT || ev->type == YAML_ALIAS_EVENT ||
	     ev->type == YAML_SEQUENCE_START_EVENT ||
	     ev->type == YAML_MAPPING_START_EVENT)) {
		/* An empty document's null sits where the next token is;
		 * its "---" is where the user looks. */
		bool empty = ev->type == YAML_SCALAR_EVENT &&
		             ev->data.scalar.length == 0 &&
		             !ev->data.scalar.tag && !ev->data.scalar.anchor;

		p->root_line = empty ? p->doc_line : line;
		p->root_col = empty ? p->doc_col : col;
	}
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		return on_document_start(p, line, col);
	case YAML_DOCUMENT_END_EVENT:
		on_document_end(p);
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(p, ev, line, col);
	case YAML_ALIAS_EVENT:
		return on_alias(p, ev, line, col);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(p, ev, F_SEQ, line, col);
	case YAML_MAPPING_START_EVENT:
		return on_start(p, ev, F_MAP, line, col);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(p);
	default:
		return 0;
	}
}

static void yp_cleanup(struct yp *p)
{
	size_t i;

	for (i = 0; i < p->max_depth; i++) {
		struct frame *f = &p->stack[i];

		json_decref(f->val);
		free(f->anchor);
		tg_buf_free(&f->key);
		while (f->n_merges)
			json_decref(f->merges[--f->n_merges].obj);
		free(f->merges);
	}
	free(p->stack);
	json_decref(p->root);
	anchors_clear(p);
	free(p->anchors);
}

static int parse_events(struct yp *p)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	bool done = false;
	int error = 0;

	if (!yaml_parser_initialize(&parser))
		return tg_error_set(TG_ERROR, "%s: out of memory", p->name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)p->data,
	                             p->len);
	while (!done && error == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			error = parser_error(p, &parser);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		error = on_event(p, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return error;
}

int tg_yaml_parse(tg_yaml_docs **out,
                  const char *name,
                  const char *data,
                  size_t len,
                  unsigned flags)
{
	struct yp p;
	int error;

	*out = NULL;
	if (!name)
		name = "<input>";
	if (!data) /* libyaml asserts on a NULL input */
		data = "";
	if (len > TG_MAX_FILE_BYTES)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: %zu bytes is over the limit of %u "
		                    "bytes for one file",
		                    name, len, TG_MAX_FILE_BYTES);
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.data = data;
	p.len = len;
	p.flags = flags;
	p.docs = tg_calloc(1, sizeof(*p.docs));
	p.stack = tg_malloc(TG_MAX_YAML_DEPTH * sizeof(*p.stack));
	error = parse_events(&p);
	yp_cleanup(&p);
	if (error < 0) {
		tg_yaml_docs_free(p.docs);
		return error;
	}
	*out = p.docs;
	return 0;
}

int tg_yaml_parse_file(tg_yaml_docs **out, const char *path, unsigned flags)
{
	char *data = NULL;
	size_t len;
	int error;

	*out = NULL;
	if ((error = tg_file_read(&data, &len, path, TG_MAX_FILE_BYTES)) < 0)
		return error;
	error = tg_yaml_parse(out, path, data, len, flags);
	free(data);
	return error;
}
