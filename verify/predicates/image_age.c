/* The image age check (include/tollgate/image_age.h). */
#include <stdio.h>

#include "tollgate/error.h"
#include "tollgate/image_age.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

/* "90d", "12h", "1d6h", "45s": a duration as the policy writes it. */
static void format_duration(char *buf, size_t size, int64_t secs)
{
	static const struct {
		char unit;
		int64_t len;
	} units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < 4 && n + 1 < size; i++) {
		int w;

		if (secs < units[i].len && !(secs == 0 && n == 0 && i == 3))
			continue;
		w = snprintf(buf + n, size - n, "%lld%c",
		             (long long)(secs / units[i].len), units[i].unit);
		if (w < 0)
			break;
		n += (size_t)w;
		secs %= units[i].len;
	}
}

int tg_image_age_check(tg_check **out,
                       const json_t *config,
                       int64_t max_age,
                       int64_t now)
{
	tg_check *c = NULL;
	json_t *ev, *created = json_object_get(config, "created");
	int64_t t;
	char when[TG_RFC3339_BYTES], dur[TG_DURATION_TEXT_BYTES];
	int error;

	if ((error = tg_check_new(&c, "age")) < 0)
		return error;
	ev = tg_check_evidence(c);
	*out = c;
	json_object_set_new(ev, "maxAgeSeconds", json_integer(max_age));
	if (!json_is_string(created) ||
	    tg_parse_rfc3339(&t, json_string_value(created)) < 0) {
		if (max_age > 0)
			tg_check_fail(c, "image config has no valid "
			                 "\"created\" time, so its age cannot "
			                 "be checked against maxImageAge");
		return 0;
	}
	json_object_set_new(ev, "created",
	                    json_string(json_string_value(created)));
	json_object_set_new(ev, "ageSeconds", json_integer(now - t));
	if (max_age > 0 && now - t > max_age) {
		tg_format_rfc3339(when, t);
		format_duration(dur, sizeof(dur), max_age);
		tg_check_fail(c,
		              "image created %s is older than maxImageAge "
		              "%s; rebuild it or waive age by exception",
		              when, dur);
	} else if (max_age > 0 && t >= 0 && max_age <= TG_TIME_NEVER - t) {
		/* Passing now; failing once the image is too old. */
		tg_format_rfc3339(when, t);
		format_duration(dur, sizeof(dur), max_age);
		tg_check_bound(c, t + max_age,
		               "maxImageAge: image created %s, limit %s", when,
		               dur);
	}
	return 0;
}
