/*
 * Internals of the policy module shared by policy.c (loading and
 * validation) and policy_match.c (globs, regular expressions, lookups).
 */
#ifndef TOLLGATE_POLICY_INT_H
#define TOLLGATE_POLICY_INT_H

#include <regex.h>

#include "tollgate/policy.h"
#include "tollgate/util.h"

/* Characters in one images glob or registries.allowed entry: an image
 * name is at most 255, a digest adds 72. */
#define TG_POLICY_MAX_PATTERN 512

/* Characters in one regular expression. Identity expressions are short;
 * a cap keeps regcomp's automaton small. */
#define TG_POLICY_MAX_REGEXP 1024

/* Entries in one list (images, authorities, ignore, ...). Real policies
 * have tens; the cap bounds the work done per image. */
#define TG_POLICY_MAX_LIST 1000

struct tg_regexp {
	char *source;
	regex_t re;
};

/* Every allocation of a policy, freed together by tg_policy_free(). */
typedef struct tg_arena {
	void **ptrs;
	size_t n;
	size_t cap;
} tg_arena;

struct tg_policy {
	tg_arena mem;
	char *name;
	char hash[TG_DIGEST_STR_LEN + 1];
	bool has_registries;
	const char *const *allowed;
	size_t nallowed;
	tg_policy_rule *rules;
	size_t nrules;
	tg_policy_exception *exceptions;
	size_t nexceptions;
	tg_pubkey **keys; /* owned, freed with the policy */
	size_t nkeys;
	tg_regexp **regexps; /* owned */
	size_t nregexps;
};

/*
 * Check an images pattern (glob, optionally "@sha256:<hex>"). 0, or
 * TG_EINVALID with a message (no location: the caller adds it).
 */
int tg_policy_glob_check(const char *pattern);

/* Match pattern against name and digest (digest may be NULL). */
bool tg_policy_glob_match(const char *pattern,
                          const char *name,
                          const char *digest);

/* A registries.allowed entry: host[:port][/path][/]. 0 or TG_EINVALID. */
int tg_policy_registry_check(const char *entry);

#endif
