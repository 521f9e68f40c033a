/*
 * The image age check (maxImageAge) on the image config's "created".
 *
 * Implemented in verify/predicates/image_age.c.
 */
#ifndef TOLLGATE_IMAGE_AGE_H
#define TOLLGATE_IMAGE_AGE_H

#include <stdint.h>

#include <jansson.h>

#include "tollgate/check.h"
#include "tollgate/error.h"

/*
 * maxImageAge: the image config's "created" (RFC 3339) must be at most
 * max_age seconds before now. A missing or bad "created" fails (fail
 * closed: the image's age cannot be shown). max_age 0: always passes,
 * with evidence still filled. Evidence: {"created", "ageSeconds",
 * "maxAgeSeconds"}. *out is always set; returns 0.
 */
TG_WUR int tg_image_age_check(tg_check **out,
                              const json_t *config,
                              int64_t max_age,
                              int64_t now);

#endif
