/*
 * Manifests: the Kubernetes objects of a deploy tree, grouped into units,
 * with every container image they reference (DESIGN.md 3.4).
 *
 * A tg_manifest_set is filled from (relative path, bytes) pairs with
 * tg_manifest_set_add_file(), so the same core serves a checked-out
 * directory (tg_manifest_set_add_dir() walks one) and a Git tree read
 * straight from the object database. Paths are relative to the tree root
 * (source.path) and use '/'.
 *
 * Units: a file "<dir>/..." belongs to the unit "<dir>" (its first path
 * component, however deep the file is); a file directly in the root
 * belongs to the unit "_root" (so a directory named "_root" is an error).
 * A unit exists once one of its files was added (or an error was recorded
 * for it).
 *
 * Files: every document of a YAML or JSON stream is an object; empty
 * documents are ignored. A document whose kind ends in "List" and that has
 * an "items" array (kubectl's v1/List, and the typed lists such as
 * ConfigMapList that `kubectl get -o yaml` writes) is replaced by its
 * items, as `kubectl apply -f` does, nested lists included up to
 * TG_MAX_MANIFEST_LIST_DEPTH. Each object must have string apiVersion,
 * kind and metadata.name (and metadata.namespace, when present, a string);
 * names and namespaces must be usable in an API path (no '/', '%', not "."
 * or ".."). Two objects with the same API group, kind, namespace and
 * name anywhere in the tree are an error in the units of both, naming
 * both files and lines. Namespaces are compared as kubectl applies them:
 * a namespaced (or unknown) kind without namespace is in "default"; a
 * cluster-scoped kind (Kubernetes' own, listed in identity.c, or a kind
 * whose CRD with spec.scope Cluster came earlier in the set) has none.
 *
 * Errors: a bad file, object or image reference makes its unit invalid
 * and is recorded as "<file>:<line>: <what>" (file shown with the
 * options' path_prefix); loading goes on, so one pass reports every
 * problem. The add functions return a negative code only for what the
 * caller must fix (an unsafe path, an unreadable root).
 *
 * Images, each found once (by pointer):
 * - in every pod spec, wherever it sits in an object of any kind: a
 *   mapping with a containers (or initContainers or ephemeralContainers)
 *   list holding a mapping with "image". Its image is that of every entry
 *   of the three lists, and the reference of every image volume
 *   (volumes[].image.reference). The built-in paths (Pod spec, Deployment,
 *   StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job
 *   spec.template.spec, PodTemplate template.spec, CronJob
 *   spec.jobTemplate.spec.template.spec) are read first, so a malformed
 *   container list there is an error even where the shape does not match;
 * - at the paths given for a kind in tg_manifest_options.image_paths (a
 *   pod spec or an image string).
 * A kind tollgate does not know may keep an image anywhere. "Known" is a
 * kind of one of Kubernetes' own API groups, listed by name in images.c
 * (their images are only in pod specs and image volumes), or a kind that
 * image_paths names (with paths, or with none: the kind is declared to
 * hold no other image). In any other kind, every string field named
 * "image" or "images" (or a list of strings there), or whose name ends in
 * "Image", that parses as an image reference and is not an image found
 * above blocks its unit: "Widget shop/w: spec.image looks like an image
 * that tollgate cannot place; declare the kind in imagePaths (or waive
 * it)". Fail closed: a path too long to follow is an error too.
 */
#ifndef TOLLGATE_MANIFEST_H
#define TOLLGATE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tollgate/error.h"
#include "tollgate/imageref.h"

typedef struct tg_manifest_set tg_manifest_set;
typedef struct tg_manifest_unit tg_manifest_unit;
typedef struct tg_manifest_object tg_manifest_object;
typedef struct tg_manifest_image tg_manifest_image;

/* The unit of files directly in the root. */
#define TG_MANIFEST_ROOT_UNIT "_root"

/*
 * Where images are in a kind tollgate does not know (the config's
 * imagePaths): {group: argoproj.io, kind: Rollout, paths:
 * ["/spec/template/spec"]}. Each path is an RFC 6901 JSON pointer; a "*"
 * segment matches every element of an array (or member of an object). A
 * path may lead to a pod spec (an object: its containers, initContainers,
 * ephemeralContainers and image volumes are read) or to an image string.
 * A kind listed with no path (npaths 0) is declared: its image-like
 * fields are not images and are not scanned. A path that
 * leads nowhere in an object is skipped; one that leads to another type is
 * an error of the unit.
 */
typedef struct tg_manifest_image_path {
	/* API group ("argoproj.io", "" for the core group), or a whole
	 * apiVersion ("argoproj.io/v1alpha1") to match one version only;
	 * NULL: any */
	const char *group;
	const char *kind; /* "Rollout" */
	const char *const *paths;
	size_t npaths;
} tg_manifest_image_path;

typedef struct tg_manifest_options {
	/* Extra image locations; copied by tg_manifest_set_new(). */
	const tg_manifest_image_path *image_paths;
	size_t nimage_paths;
	/* Put in front of file names in messages ("clusters/prod",
	 * "./deploy"); NULL for none. tg_manifest_set_add_dir() sets it to
	 * its directory when NULL. */
	const char *path_prefix;
} tg_manifest_options;

/* An empty set. opts may be NULL. 0 or TG_EINVALID (a bad image path). */
TG_WUR int tg_manifest_set_new(tg_manifest_set **out,
                               const tg_manifest_options *opts);

void tg_manifest_set_free(tg_manifest_set *set);

/*
 * From now on, fn(ctx, written) is called with each image reference (as
 * written, and parsed as a reference) of each object added, parsed or
 * from the parse cache, for work that can start while the reading goes
 * on. A reference may come more than once, and from a unit that fails
 * later. fn NULL: no more calls.
 */
void tg_manifest_set_on_image(tg_manifest_set *set,
                              void (*fn)(void *ctx, const char *written),
                              void *ctx);

/*
 * Whether a tree-relative path names a manifest file: it ends in ".yaml",
 * ".yml" or ".json" and no component starts with '.'. Walkers call it
 * before reading a file.
 */
bool tg_manifest_path_wanted(const char *path);

/*
 * Parse one file's bytes (path relative to the root, for its unit and in
 * messages) and add its objects and images. Problems with the content are
 * recorded in the file's unit and 0 is returned. TG_EINVALID when path is
 * not a safe relative path (tg_path_is_safe_relative); TG_ETOOBIG past
 * TG_MAX_TREE_FILES files (recorded as an error of the set too).
 */
TG_WUR int tg_manifest_set_add_file(tg_manifest_set *set,
                                    const char *path,
                                    const char *data,
                                    size_t len);

/*
 * Record a problem found while reading the tree (a symlink that leaves
 * it, a file over TG_MAX_FILE_BYTES) against the unit of path, as
 * "<path>: <message>". The unit becomes invalid.
 */
void tg_manifest_set_add_error(tg_manifest_set *set,
                               const char *path,
                               const char *message);

/*
 * Mark the unit name as rendered: files added for it afterwards are not
 * read (their objects come from its renderer). The unit exists from now.
 */
void tg_manifest_set_skip_unit(tg_manifest_set *set, const char *unit);

/*
 * Add a renderer's YAML stream as the objects of unit (which must have
 * been marked with tg_manifest_set_skip_unit). Messages name it
 * "<prefix>/<unit> (<renderer>)", with the line in the stream. Problems
 * are recorded in the unit; 0.
 */
TG_WUR int tg_manifest_set_add_rendered(tg_manifest_set *set,
                                        const char *unit,
                                        const char *renderer,
                                        const char *data,
                                        size_t len);

/* Fail unit with "<prefix>/<unit> (<renderer>): <message>". */
void tg_manifest_set_add_render_error(tg_manifest_set *set,
                                      const char *unit,
                                      const char *renderer,
                                      const char *message);

/*
 * Walk dir and add every wanted file (sorted by name, hidden files and
 * directories skipped). Symlinks that resolve inside dir are followed,
 * but not those met below a followed symlinked directory (so there are
 * no loops); one that leaves dir, or dangles, is an error naming the link.
 * Files over TG_MAX_FILE_BYTES and anything that is not a regular file or
 * directory are errors. Nesting is limited to TG_MAX_TREE_DEPTH.
 * 0, or TG_ENOTFOUND / TG_EIO when dir itself cannot be read.
 */
TG_WUR int tg_manifest_set_add_dir(tg_manifest_set *set, const char *dir);

/* Units, sorted by name. Borrowed from the set. */
size_t tg_manifest_set_unit_count(const tg_manifest_set *set);
tg_manifest_unit *tg_manifest_set_unit(const tg_manifest_set *set, size_t i);
tg_manifest_unit *tg_manifest_set_unit_by_name(const tg_manifest_set *set,
                                               const char *name);

/* Every error of the set, in the order found (borrowed). */
size_t tg_manifest_set_error_count(const tg_manifest_set *set);
const char *tg_manifest_set_error(const tg_manifest_set *set, size_t i);

/* Objects in the set, over all units. */
size_t tg_manifest_set_object_count(const tg_manifest_set *set);

/* Images in the set, over all units (each place an image is named). */
size_t tg_manifest_set_image_count(const tg_manifest_set *set);

/* Units with at least one error. */
size_t tg_manifest_set_invalid_unit_count(const tg_manifest_set *set);

const char *tg_manifest_unit_name(const tg_manifest_unit *unit);
/* False when any error was recorded for the unit. */
bool tg_manifest_unit_is_valid(const tg_manifest_unit *unit);
/* True when a file of the unit was parsed this cycle rather than taken
 * from the parse cache (tg_manifest_set_use_cache): its content is
 * likely new. */
bool tg_manifest_unit_parsed(const tg_manifest_unit *unit);
size_t tg_manifest_unit_error_count(const tg_manifest_unit *unit);
const char *tg_manifest_unit_error(const tg_manifest_unit *unit, size_t i);
/*
 * Drop the trees of the unit's objects (a caller that keeps one took a
 * reference). Objects are kept as the compact JSON text their tree was
 * parsed from; tg_manifest_object_json() parses it again when a stage
 * needs the tree, so a stage that is done with a unit drops its trees
 * and the set never holds every object as a tree at once.
 */
void tg_manifest_unit_drop_trees(tg_manifest_unit *unit);
/* Objects in file order (files in the order added). */
size_t tg_manifest_unit_object_count(const tg_manifest_unit *unit);
tg_manifest_object *tg_manifest_unit_object(const tg_manifest_unit *unit,
                                            size_t i);
/* Every image of the unit's objects, in object order. */
size_t tg_manifest_unit_image_count(const tg_manifest_unit *unit);
tg_manifest_image *tg_manifest_unit_image(const tg_manifest_unit *unit,
                                          size_t i);

const tg_manifest_unit *tg_manifest_object_unit(const tg_manifest_object *obj);
/* Tree-relative path and 1-based line of the object (of the list item
 * for an expanded list). */
const char *tg_manifest_object_file(const tg_manifest_object *obj);
unsigned tg_manifest_object_line(const tg_manifest_object *obj);
const char *tg_manifest_object_api_version(const tg_manifest_object *obj);
/* The part of apiVersion before '/', "" for the core group ("v1"). */
const char *tg_manifest_object_group(const tg_manifest_object *obj);
const char *tg_manifest_object_kind(const tg_manifest_object *obj);
/* metadata.namespace as written, "" when absent. */
const char *tg_manifest_object_namespace(const tg_manifest_object *obj);
const char *tg_manifest_object_name(const tg_manifest_object *obj);
/* The object itself (borrowed until tg_manifest_unit_drop_trees; change
 * it only through the functions here, or json_incref and copy). Parsed
 * from the object's text when its tree was dropped: every call sees the
 * same object, the one the image walk read. */
json_t *tg_manifest_object_json(const tg_manifest_object *obj);
/*
 * The pod specs of the object, each once, in the order the image walk
 * found them (the admit stage checks the same pod specs the images come
 * from); *pointer (may be NULL) gets its RFC 6901 pointer
 * ("/spec/template/spec"). Borrowed; NULL past the end.
 */
size_t tg_manifest_object_pod_spec_count(const tg_manifest_object *obj);
json_t *tg_manifest_object_pod_spec(const tg_manifest_object *obj,
                                    size_t i,
                                    const char **pointer);
size_t tg_manifest_object_image_count(const tg_manifest_object *obj);
tg_manifest_image *tg_manifest_object_image(const tg_manifest_object *obj,
                                            size_t i);

/*
 * Replace the image at pointer (one of the object's image pointers) with
 * ref, normally tg_imageref_pinned() of the verified digest. The image's
 * "written" form and parsed reference stay those from Git. 0, TG_ENOTFOUND
 * (no image of the object there) or TG_EPARSE (ref is not a reference).
 */
TG_WUR int tg_manifest_object_set_image(tg_manifest_object *obj,
                                        const char *pointer,
                                        const char *ref);

const tg_manifest_object *
tg_manifest_image_object(const tg_manifest_image *img);
/* RFC 6901 pointer inside the object: "/spec/template/spec/containers/0/image".
 */
const char *tg_manifest_image_pointer(const tg_manifest_image *img);
/* The reference as written in the file. */
const char *tg_manifest_image_written(const tg_manifest_image *img);
/* Parsed and normalised (never NULL: invalid references are errors). */
const tg_imageref *tg_manifest_image_ref(const tg_manifest_image *img);

/*
 * The parse cache (stateDir/manifest-cache, reconciler/manifests/cache.c):
 * what parsing a manifest file gave (its objects' text, identity, lines,
 * images and pod spec pointers), under a SHA-256 key over the file's
 * bytes, its path, the image paths of the set's options, the cache's
 * format and tollgate's version and build id. A file unchanged since the
 * last cycle is then not parsed again; a changed byte is another key.
 * Only a file that parsed without an error is kept. What is done across
 * files (duplicate objects, CRD scopes) is done again for every file,
 * and so is every later stage (their checks read the trees parsed back
 * from the objects' text, as for a file parsed now).
 *
 * The file is written atomically and ends with the SHA-256 of its
 * content; a torn, tampered or unknown file is dropped whole with a
 * warning (every file is parsed). It is tollgate's own, as the rest of
 * the state directory.
 */
typedef struct tg_manifest_cache tg_manifest_cache;

/* Read the cache at path (missing: empty; unusable: a warning, empty).
 * Always a cache. */
tg_manifest_cache *tg_manifest_cache_load(const char *path);

/* Files added to set from now on are looked up in cache (NULL: none) and
 * recorded in it when parsed. The cache must outlive its use by the set. */
void tg_manifest_set_use_cache(tg_manifest_set *set, tg_manifest_cache *cache);

/* Write the entries used or added since the load (the others go) when
 * that changes the file. 0, or the error of the write (TG_EIO). */
TG_WUR int tg_manifest_cache_save(tg_manifest_cache *cache);

/* Files found in the cache and files parsed (and recorded) since load. */
size_t tg_manifest_cache_hits(const tg_manifest_cache *cache);
size_t tg_manifest_cache_misses(const tg_manifest_cache *cache);

void tg_manifest_cache_free(tg_manifest_cache *cache);

#endif
