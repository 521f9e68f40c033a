/* Internal to the manifest module (manifest.c, images.c, manifest_dir.c). */
#ifndef TOLLGATE_MANIFEST_INT_H
#define TOLLGATE_MANIFEST_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tollgate/manifest.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

/* A growable array of pointers. */
typedef struct ptrvec {
	void **v;
	size_t n, cap;
} ptrvec;

/* String keys to pointers, open addressing; the keys are owned. */
typedef struct strmap {
	char **keys;
	void **vals;
	size_t n, cap; /* cap is 0 or a power of two */
} strmap;

/* An image location: parsed JSON pointer segments; "*" is a wildcard. */
typedef struct image_path {
	char *group; /* NULL: any */
	char *kind;
	char **segs;
	size_t nsegs;
	/* imagePaths named the kind with no path: it is described (its
	 * image-like fields are not images), nothing is read from it */
	bool declared_only;
} image_path;

struct tg_manifest_image {
	tg_manifest_object *obj;
	char *pointer;
	char *written;
	tg_imageref *ref;
};

/*
 * An object. text is what every stage reads: json is the tree parsed from
 * it while a stage needs one (tg_manifest_object_load), NULL between
 * (object.c). The identity, images and pod spec pointers stay.
 */
struct tg_manifest_object {
	tg_manifest_unit *unit;
	char *file;
	unsigned line;
	char *text; /* compact JSON in the order written */
	size_t text_len;
	json_t *json;
	char *api_version, *kind, *ns, *name, *group; /* ns "" when absent */
	ptrvec images;
	strmap image_at;      /* pointer -> image, so each is added once */
	strmap pod_specs;     /* pointers of the pod specs read, read once */
	ptrvec pod_spec_ptrs; /* the same pointers in the order found (owned) */
	ptrvec pod_spec_vals; /* and the pod specs (borrowed from json, only
	                         while it is loaded) */
};

struct tg_manifest_unit {
	char *name;
	ptrvec objects;
	ptrvec images; /* borrowed from the objects */
	ptrvec errors; /* borrowed from the set */
	bool parsed;   /* a file of it was parsed, not taken from the cache */
};

struct tg_manifest_set {
	ptrvec units;
	bool sorted;
	strmap unit_map;
	strmap object_map;   /* identity key -> object */
	strmap cluster_crds; /* group+kind of CRDs with scope Cluster */
	strmap skipped;      /* rendered units: their files are not read */
	ptrvec errors;       /* owned strings */
	image_path *paths;
	size_t npaths;
	char *prefix;
	size_t nfiles, nobjects;
	/* errors recorded outside tg_manifest_object_register, counted to
	 * tell whether a file parsed without any (cache.c) */
	size_t parse_errors;
	bool registering;
	tg_manifest_cache *cache; /* borrowed, or NULL */
	/* tg_manifest_set_on_image() */
	void (*on_image)(void *ctx, const char *written);
	void *on_image_ctx;
};

/* An image of obj in its unit's list, and told to the on_image hook. */
void tg_manifest_unit_add_image(tg_manifest_set *set,
                                tg_manifest_object *obj,
                                tg_manifest_image *img);

/* What the loader knows about the file being added. */
typedef struct file_ctx {
	tg_manifest_set *set;
	tg_manifest_unit *unit;
	const char *path; /* tree-relative */
	char *display;    /* prefix + path, for messages */
	const char *data;
	size_t len;
	tg_yaml_docs *docs_pos; /* the file with positions, for lists */
	bool own_pos;           /* docs_pos is a second parse */
	int pos_failed;
	bool no_lines; /* a renderer's output: lines mean nothing */
} file_ctx;

/* strmap.c: the value of key, or NULL. */
void *tg_manifest_strmap_get(const strmap *m, const char *key);
/* strmap.c: insert key (copied); the key must not be present. */
void tg_manifest_strmap_put(strmap *m, const char *key, void *val);
/* strmap.c: free the keys and the table (not the values). */
void tg_manifest_strmap_free(strmap *m);

static inline void ptrvec_push(ptrvec *pv, void *p)
{
	if (pv->n == pv->cap) {
		pv->cap = pv->cap ? pv->cap * 2 : 8;
		pv->v = tg_realloc(pv->v, pv->cap * sizeof(*pv->v));
	}
	pv->v[pv->n++] = p;
}

/* Set the prefix shown before file names in messages when none was given
 * in the options. */
void tg_manifest_set_default_prefix(tg_manifest_set *set, const char *prefix);

/* Record a problem with a directory (or a link to one) at path: it
 * belongs to the unit the directory's files would be in. */
void tg_manifest_set_add_dir_error(tg_manifest_set *set,
                                   const char *path,
                                   const char *message);

/* "<prefix>/<file>:<line>", or without ":<line>" when line is 0 (a
 * renderer's output); caller frees. */
char *
tg_manifest_loc(const tg_manifest_set *set, const char *file, unsigned line);

/* The unit called name (the first n bytes of s), created when new. */
tg_manifest_unit *tg_manifest_unit_named(tg_manifest_set *set,
                                         const char *name);
tg_manifest_unit *
tg_manifest_unit_named_n(tg_manifest_set *set, const char *s, size_t n);

/* Add the objects of every document of docs (parsed from ctx's file). */
void tg_manifest_add_docs(file_ctx *ctx, const tg_yaml_docs *docs);

/* True once TG_MAX_TREE_FILES files were added: walkers stop. */
bool tg_manifest_set_is_full(const tg_manifest_set *set);

/* An error of unit (and of the set), formatted. */
void tg_manifest_unit_errorf(tg_manifest_set *set,
                             tg_manifest_unit *unit,
                             const char *fmt,
                             ...) __attribute__((format(printf, 3, 4)));

/* object.c: free obj and what it owns (NULL is fine). */
void tg_manifest_object_destroy(tg_manifest_object *obj);

/* object.c: obj's text from tree, and obj->json the tree parsed back from
 * it (what every stage reads). -1 with *why when the tree has no JSON
 * text that reads back. */
int tg_manifest_object_make_text(tg_manifest_object *obj,
                                 json_t *tree,
                                 const char **why);

/* object.c: check apiVersion, kind, metadata.name and
 * metadata.namespace of obj->json and keep copies. -1 with *field and
 * *why (static text) when one is wrong. */
int tg_manifest_object_check_identity(tg_manifest_object *obj,
                                      const char **field,
                                      const char **why);

/* object.c: "group" of "group/version", "" for "version"; NULL when
 * malformed. Caller frees. */
char *tg_manifest_api_group(const char *api_version);

/* object.c: drop obj's tree (its text stays). */
void tg_manifest_object_park(tg_manifest_object *obj);

/* object.c: obj's tree, parsed from its text when parked (borrowed). */
json_t *tg_manifest_object_load(tg_manifest_object *obj);

/* images.c: the value at an RFC 6901 pointer written by this module, or
 * NULL. */
json_t *tg_manifest_pointer_get(json_t *root, const char *pointer);

/* identity.c: record obj under its identity (namespace defaulted as
 * kubectl does); on a duplicate, an error in the units of both. */
void tg_manifest_object_register(file_ctx *ctx, tg_manifest_object *obj);

/* "Kind ns/name" or "Kind name", for messages (caller frees). */
char *tg_manifest_object_describe(const tg_manifest_object *obj);

/* images.c: the built-in pod spec locations and those of opts (may be
 * NULL) into set. 0 or TG_EINVALID (a bad image path). */
int tg_manifest_image_paths_add(tg_manifest_set *set,
                                const tg_manifest_options *opts);

/* images.c: free the image paths of set. */
void tg_manifest_image_paths_free(tg_manifest_set *set);

/* images.c: every image of obj, at the image paths its kind matches, in
 * every pod spec nested anywhere and in their image volumes; what cannot
 * be an image is an error of its unit, and so is an image-like field of
 * a kind tollgate does not know (tg_manifest_scan_image_fields). */
void tg_manifest_extract_images(file_ctx *ctx, tg_manifest_object *obj);

/* images.c: the image of obj at pointer, or NULL. */
tg_manifest_image *tg_manifest_image_at(const tg_manifest_object *obj,
                                        const char *pointer);

/* images.c: an error of obj's unit: "<file>:<line>: <Kind ns/name>:
 * <where>: <detail>". */
void tg_manifest_image_error(file_ctx *ctx,
                             tg_manifest_object *obj,
                             const char *where,
                             const char *detail);

/* images.c: whether imagePaths or tollgate itself knows where every
 * image of obj's kind is, so its other fields need no scan. */
bool tg_manifest_kind_is_known(const tg_manifest_set *set,
                               const tg_manifest_object *obj);

/* images_scan.c: every string field of obj named image or images, or
 * ending in Image, that is not an extracted image and parses as an image
 * reference is an error of its unit. */
void tg_manifest_scan_image_fields(file_ctx *ctx, tg_manifest_object *obj);

/* cache.c: the key of a file's parse (path relative to the root), or
 * of a renderer's output (path "<unit> (<renderer>)"). */
void tg_manifest_cache_key(unsigned char *key,
                           const tg_manifest_cache *cache,
                           bool rendered,
                           const char *path,
                           const char *data,
                           size_t len);

/* cache.c: add the objects the cache holds under key to ctx's unit, as
 * parsing the file would (registered in the set). False (a miss, nothing
 * added) when it holds none. */
bool tg_manifest_cache_restore(file_ctx *ctx, const unsigned char *key);

/* cache.c: record the objects unit got from index first on as the parse
 * of the file under key. */
void tg_manifest_cache_record(tg_manifest_cache *cache,
                              const unsigned char *key,
                              const tg_manifest_unit *unit,
                              size_t first);

#endif
