/*
 * Drift: how a live object differs from what tollgate applied.
 *
 * Only the fields tollgate sets are compared (server defaults and fields
 * other managers added are not drift). Lists of objects whose items have
 * a "name" (containers, ports, env, volumes) are matched by name, other
 * lists compared whole. A drifted field is reported with its JSON pointer
 * and the field managers other than tollgate that own it according to the
 * live object's managedFields (fieldsV1). For Secrets the values are never
 * reported, only which keys differ.
 */
#ifndef TOLLGATE_DRIFT_H
#define TOLLGATE_DRIFT_H

#include <jansson.h>

/*
 * Compare desired (what tollgate applies) with live (what the server
 * returned). *out is a new JSON array of
 *   {"path": "/spec/replicas", "managers": ["kubectl-patch"],
 *    "desired": 3, "live": 5}
 * ("desired"/"live" are left out for Secret data, and for values over a
 * small size). An empty array means no drift. self is tollgate's field
 * manager name, excluded from "managers".
 */
void tg_drift_compare(json_t **out,
                      json_t *desired,
                      json_t *live,
                      const char *self);

/*
 * The managers (other than self) whose fieldsV1 in live's managedFields
 * own the field at pointer (or anything below it). New array of strings.
 */
json_t *tg_drift_owners(json_t *live, const char *pointer, const char *self);

#endif
