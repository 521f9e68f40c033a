/*
 * Watches: the objects a watcher keeps (watch_int.h), by "ns/name" in a
 * chained hash table. Each entry is one allocation: identity, uid,
 * resourceVersion and content hash, and the object's text when it is
 * kept (a lean watcher keeps it only for what changed since a reader
 * last vouched for the object, see watch.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate/util.h"

#include "watch_int.h"

/* FNV-1a: collisions only cost a longer chain (keys are compared). */
static uint64_t key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

void watch_cache_init(watch_cache *c)
{
	memset(c, 0, sizeof(*c));
}

void watch_obj_free(watch_obj *o)
{
	if (!o)
		return;
	free(o->text);
	free(o);
}

void watch_cache_clear(watch_cache *c)
{
	size_t i;
	watch_obj *o, *next;

	for (i = 0; i < c->cap; i++)
		for (o = c->slot[i]; o; o = next) {
			next = o->next;
			watch_obj_free(o);
		}
	free(c->slot);
	watch_cache_init(c);
}

/* A new entry: key "ns/name", uid and rv copied (uid may be ""). */
watch_obj *watch_obj_new(const char *ns,
                         const char *name,
                         const char *uid,
                         const char *rv,
                         const unsigned char hash[TG_SHA256_LEN])
{
	size_t nl = strlen(ns), ml = strlen(name), ul = strlen(uid),
	       rl = strlen(rv);
	watch_obj *o = tg_calloc(1, sizeof(*o) + nl + ml + ul + rl + 4);
	char *p = o->s;

	memcpy(p, ns, nl);
	p[nl] = '/';
	memcpy(p + nl + 1, name, ml + 1);
	o->name = nl + 1;
	p += nl + ml + 2;
	memcpy(p, uid, ul + 1);
	o->uid = (unsigned)(p - o->s);
	p += ul + 1;
	memcpy(p, rv, rl + 1);
	o->rv = (unsigned)(p - o->s);
	o->hash_key = key_hash(o->s);
	memcpy(o->hash, hash, TG_SHA256_LEN);
	/* What a reader is offered before its text: the sizes of
	 * tg_kube_list_peek. */
	o->peekable = nl < 64 && ml > 0 && ml < 254 && ul > 0 && ul < 64 &&
	              rl > 0 && rl < 64;
	return o;
}

static watch_obj **find_slot(const watch_cache *c, const char *key, uint64_t h)
{
	watch_obj **p = &c->slot[h & (c->cap - 1)];

	while (*p && ((*p)->hash_key != h || strcmp((*p)->s, key) != 0))
		p = &(*p)->next;
	return p;
}

watch_obj *watch_cache_get(const watch_cache *c, const char *key)
{
	return c->cap ? *find_slot(c, key, key_hash(key)) : NULL;
}

static void grow(watch_cache *c)
{
	size_t cap = c->cap ? 2 * c->cap : 64, i;
	watch_obj **slot = tg_calloc(cap, sizeof(*slot)), *o, *next;

	for (i = 0; i < c->cap; i++)
		for (o = c->slot[i]; o; o = next) {
			next = o->next;
			o->next = slot[o->hash_key & (cap - 1)];
			slot[o->hash_key & (cap - 1)] = o;
		}
	free(c->slot);
	c->slot = slot;
	c->cap = cap;
}

void watch_cache_put(watch_cache *c, watch_obj *o)
{
	watch_obj **p;

	if (c->n + 1 > c->cap)
		grow(c);
	p = find_slot(c, o->s, o->hash_key);
	if (*p) {
		o->next = (*p)->next;
		watch_obj_free(*p);
		c->n--;
	} else {
		o->next = NULL;
	}
	*p = o;
	c->n++;
}

bool watch_cache_del(watch_cache *c, const char *key)
{
	watch_obj **p, *o;

	if (!c->cap)
		return false;
	p = find_slot(c, key, key_hash(key));
	if (!(o = *p))
		return false;
	*p = o->next;
	watch_obj_free(o);
	c->n--;
	return true;
}

watch_obj *watch_cache_next(const watch_cache *c, size_t *i, watch_obj *o)
{
	if (o && o->next)
		return o->next;
	for (*i = o ? *i + 1 : 0; *i < c->cap; (*i)++)
		if (c->slot[*i])
			return c->slot[*i];
	return NULL;
}

bool watch_cache_differ(const watch_cache *a, const watch_cache *b)
{
	watch_obj *o = NULL, *p;
	size_t i = 0;

	if (a->n != b->n)
		return true;
	while ((o = watch_cache_next(a, &i, o))) {
		p = watch_cache_get(b, o->s);
		if (!p || memcmp(p->hash, o->hash, TG_SHA256_LEN) != 0)
			return true;
	}
	return false;
}
