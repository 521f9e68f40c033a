/*
 * Manifests: the string map (open addressing, owned keys) that indexes
 * units, object identities and image pointers (manifest_int.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"
#include "tollgate/util.h"

/* FNV-1a: fast, and collisions only cost probes (keys are compared). */
static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static size_t strmap_slot(const strmap *m, const char *key)
{
	size_t i = (size_t)hash_str(key) & (m->cap - 1);

	while (m->keys[i] && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

void *tg_manifest_strmap_get(const strmap *m, const char *key)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	i = strmap_slot(m, key);
	return m->keys[i] ? m->vals[i] : NULL;
}

static void strmap_grow(strmap *m)
{
	strmap old = *m;
	size_t i;

	/* Most maps are an object's (its images, its pod specs): one or
	 * two entries. Starting at 4 slots instead of 64 saved 2 KiB per
	 * Deployment, 6 MiB at 10,000 objects; the set's maps double up. */
	m->cap = old.cap ? old.cap * 2 : 4;
	m->keys = tg_calloc(m->cap, sizeof(*m->keys));
	m->vals = tg_calloc(m->cap, sizeof(*m->vals));
	for (i = 0; i < old.cap; i++) {
		size_t j;

		if (!old.keys[i])
			continue;
		j = strmap_slot(m, old.keys[i]);
		m->keys[j] = old.keys[i];
		m->vals[j] = old.vals[i];
	}
	free(old.keys);
	free(old.vals);
}

/* Insert key (copied); the key must not be present. */
void tg_manifest_strmap_put(strmap *m, const char *key, void *val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		strmap_grow(m);
	i = strmap_slot(m, key);
	m->keys[i] = tg_strdup(key);
	m->vals[i] = val;
	m->n++;
}

void tg_manifest_strmap_free(strmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
}
