/*
 * Internals shared by reconciler/drift/drift.c (the compare, field
 * ownership) and slim.c (live objects reduced to what the compare reads).
 */
#ifndef TOLLGATE_DRIFT_INT_H
#define TOLLGATE_DRIFT_INT_H

#include <stddef.h>

#include <jansson.h>

/* The fieldsV1 entry ("i:<n>", "k:<key>" or "v:<value>") of fields that
 * covers item idx of the live list arr, or NULL (borrowed); with key, the
 * key object of a "k:" entry (new reference) or NULL into *key. */
json_t *
drift_item_fields(json_t *fields, json_t *arr, size_t idx, json_t **key);

#endif
