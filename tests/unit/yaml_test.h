/*
 * Helpers shared by the YAML reader's tests (test_yaml.c,
 * test_yaml_hostile.c).
 */
#ifndef TOLLGATE_TEST_YAML_H
#define TOLLGATE_TEST_YAML_H

#include <string.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/yaml.h"

/* Parse a string that must be good; returns the docs. */
static inline tg_yaml_docs *parse_ok(const char *text, unsigned flags)
{
	tg_yaml_docs *docs = NULL;
	int error = tg_yaml_parse(&docs, "t.yaml", text, strlen(text), flags);

	if (error)
		fail_msg("parse failed: %d %s", error, tg_error_last());
	return docs;
}

/* Parse text that must fail with code; returns the message. */
static inline const char *parse_bad(const char *text, size_t len, int code)
{
	tg_yaml_docs *docs = (tg_yaml_docs *)1;

	assert_int_equal(tg_yaml_parse(&docs, "x.yaml", text, len, 0), code);
	assert_null(docs);
	return tg_error_last();
}

#endif
