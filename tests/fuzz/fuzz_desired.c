/*
 * The apply body of a desired object (reconciler/apply/desired.c): made
 * once the object is parsed, by writing the commit annotation into the
 * object's sorted compact text (no reals), or by serialising the tree with
 * the annotation (with reals). The input is a JSON document, as a
 * committer's manifest gives the tree after its YAML; an object gets its
 * text and body for a commit, as the plan makes them.
 *
 * Invariants: a body is made exactly when metadata.annotations is an
 * object without the commit annotation and the namespace is absent or a
 * string; the body, parsed with duplicate members refused, is the tree
 * with the annotation in metadata.annotations and nothing else changed;
 * the tree itself is left as it was (the text and the content hash carry
 * no commit).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apply_int.h"
#include "fuzz.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* Should apply_obj_init make a body for tree? */
static bool wants_body(json_t *tree)
{
	json_t *meta = json_object_get(tree, "metadata");
	json_t *ns = json_object_get(meta, "namespace");
	json_t *ann = json_object_get(meta, "annotations");

	return json_is_object(ann) && !json_object_get(ann, TG_ANN_COMMIT) &&
	       (!ns || json_is_string(ns));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t err;
	json_t *tree, *before, *want, *got;
	obj o;

	tree = json_loadb((const char *)data, size, JSON_ALLOW_NUL, &err);
	if (!json_is_object(tree)) {
		json_decref(tree);
		return 0;
	}
	before = json_deep_copy(tree);
	apply_obj_init(&o, tree, COMMIT);
	if (!json_equal(tree, before))
		abort(); /* the annotation was left on the tree */
	if (!o.text) {
		if (o.body)
			abort();
	} else if (!wants_body(tree) != !o.body) {
		abort();
	} else if (o.body) {
		want = json_deep_copy(tree);
		json_object_set_new(
		        json_object_get(json_object_get(want, "metadata"),
		                        "annotations"),
		        TG_ANN_COMMIT, json_string(COMMIT));
		got = json_loads(o.body,
		                 JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
		if (!got || !json_equal(got, want))
			abort();
		json_decref(got);
		json_decref(want);
	}
	apply_obj_clear(&o);
	json_decref(before);
	json_decref(tree);
	return 0;
}
