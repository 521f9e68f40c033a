/*
 * Internals of the policy module shared by policy.c (loading, the
 * sections of the file but one), policy_sig.c (rules[].signatures:
 * authorities, keys, keyless trust, transparency logs), policy_parse.c (the
 * parser's building blocks) and policy_match.c (globs, regular expressions,
 * lookups).
 *
 * The tg_policy__ names are the parser's internals, used by policy.c,
 * policy_sig.c and policy_parse.c only; each function's comment is at its
 * definition.
 */
#ifndef TOLLGATE_POLICY_INT_H
#define TOLLGATE_POLICY_INT_H

#include <regex.h>

#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/policy.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

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
	tg_policy_scope *scopes;
	size_t nscopes;
	tg_policy_workload *workloads;
	size_t nworkloads;
	tg_key **keys; /* owned, freed with the policy */
	size_t nkeys;
	tg_regexp **regexps; /* owned */
	size_t nregexps;
	tg_policy_commits *commits; /* in mem, or NULL */
	tg_ssh_signers **ssh_sets;  /* owned */
	size_t nssh_sets;
	tg_pgp_keyring **pgp_sets; /* owned */
	size_t npgp_sets;
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

/* Parser ------------------------------------------------------------------ */

/* Where a value is: its JSON pointer (for tg_yaml_docs_line_at) and the
 * dotted path shown to people ("rules[0].signatures.threshold"). */
typedef struct tg_policy__loc {
	const char *ptr;
	const char *disp;
} tg_policy__loc;

/* The state of one tg_policy_parse() call. */
typedef struct tg_policy__ctx {
	tg_policy *p;
	const tg_yaml_docs *docs;
	const char *name;
	const char *base_dir;
	tg_arena scratch; /* locations; freed after loading */
	tg_buf canon;     /* key ids and file digests for the hash */
} tg_policy__ctx;

/* The keys one mapping of the policy allows. */
typedef struct tg_policy__section {
	const char *where; /* generic path, for "belongs in ..." */
	const char *const *keys;
} tg_policy__section;

/* Every section, NULL-terminated (policy.c), for "belongs in" hints. */
extern const tg_policy__section *const tg_policy__all_sections[];

/* Sections of rules[].signatures (the others are private to policy.c). */
extern const tg_policy__section tg_policy__s_sigs;
extern const tg_policy__section tg_policy__s_remap;
extern const tg_policy__section tg_policy__s_auth;
extern const tg_policy__section tg_policy__s_keyless;
extern const tg_policy__section tg_policy__s_tlog;

void *tg_policy__arena_keep(tg_arena *a, void *ptr);
void *tg_policy__arena_calloc(tg_arena *a, size_t n, size_t size);
char *tg_policy__arena_strdup(tg_arena *a, const char *s);
void tg_policy__arena_free(tg_arena *a);

tg_policy__loc
tg_policy__loc_key(tg_policy__ctx *c, tg_policy__loc parent, const char *key);
tg_policy__loc
tg_policy__loc_index(tg_policy__ctx *c, tg_policy__loc parent, size_t i);

int tg_policy__perr_code(tg_policy__ctx *c,
                         int code,
                         tg_policy__loc at,
                         const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));

#define tg_policy__perr(c, at, ...)                                            \
	tg_policy__perr_code((c), TG_EINVALID, (at), __VA_ARGS__)

int tg_policy__check_keys(tg_policy__ctx *c,
                          const json_t *obj,
                          tg_policy__loc at,
                          const tg_policy__section *sec);
json_t *tg_policy__member(tg_policy__ctx *c,
                          const json_t *obj,
                          tg_policy__loc at,
                          const char *key,
                          tg_policy__loc *kl);
int tg_policy__get_str(tg_policy__ctx *c,
                       const json_t *obj,
                       tg_policy__loc at,
                       const char *key,
                       bool required,
                       const char **out);
int tg_policy__get_bool(tg_policy__ctx *c,
                        const json_t *obj,
                        tg_policy__loc at,
                        const char *key,
                        bool def,
                        bool *out);
int tg_policy__get_duration(tg_policy__ctx *c,
                            const json_t *obj,
                            tg_policy__loc at,
                            const char *key,
                            int64_t *out);
int tg_policy__get_map(tg_policy__ctx *c,
                       const json_t *obj,
                       tg_policy__loc at,
                       const char *key,
                       bool required,
                       json_t **out,
                       tg_policy__loc *kl);
int tg_policy__get_list(tg_policy__ctx *c,
                        const json_t *obj,
                        tg_policy__loc at,
                        const char *key,
                        bool required,
                        json_t **out,
                        tg_policy__loc *kl);

/* Validates one string of a list; 0 or a tg_error with no location. */
typedef int (*tg_policy__str_check_fn)(const char *s);

int tg_policy__get_str_list(tg_policy__ctx *c,
                            const json_t *obj,
                            tg_policy__loc at,
                            const char *key,
                            bool required,
                            tg_policy__str_check_fn check,
                            const char *const **out,
                            size_t *n_out);
int tg_policy__parse_enum(tg_policy__ctx *c,
                          const json_t *v,
                          tg_policy__loc at,
                          const char *const *names,
                          unsigned *idx_out);
int tg_policy__get_enum(tg_policy__ctx *c,
                        const json_t *obj,
                        tg_policy__loc at,
                        const char *key,
                        const char *const *names,
                        unsigned *idx_out);
int tg_policy__get_regexp(tg_policy__ctx *c,
                          const json_t *obj,
                          tg_policy__loc at,
                          const char *key,
                          const tg_regexp **out);
int tg_policy__check_name(const char *s);
int tg_policy__check_vuln_id(const char *s);
int tg_policy__check_license_id(const char *s);

/*
 * rules[].signatures (policy_sig.c): authorities with their keys, keyless
 * trust and transparency logs, signedIdentity, remapIdentity, threshold.
 * 0 or TG_EINVALID (or the code of a key or file that fails to load) with
 * the message recorded by tg_policy__perr_code().
 */
int tg_policy__parse_signatures(tg_policy__ctx *c,
                                const json_t *m,
                                tg_policy__loc ml,
                                tg_policy_signatures *s);

/*
 * scopes[] (policy_scope.c): the list, each scope's keys, globs and
 * unique names. 0 or TG_EINVALID / TG_ETOOBIG with the message recorded
 * by tg_policy__perr_code().
 */
int tg_policy__parse_scopes(tg_policy__ctx *c, const json_t *doc);

/*
 * commits: (policy_commits.c): mode and signers, each signer's key file
 * loaded now. 0 or the code of the first problem with the message
 * recorded by tg_policy__perr_code().
 */
int tg_policy__parse_commits(tg_policy__ctx *c, const json_t *doc);

/* Free what the commits section owns (the SSH key sets). */
void tg_policy__commits_free(tg_policy *p);

/* The sections of commits:, for "belongs in" hints. */
extern const tg_policy__section tg_policy__s_commits;
extern const tg_policy__section tg_policy__s_signer;
extern const tg_policy__section tg_policy__s_x509;

/* The scopes[] section, for "belongs in" hints. */
extern const tg_policy__section tg_policy__s_scope;

/*
 * workloads[] (policy_workloads.c): each rule's keys, namespaces globs,
 * podSecurity level and version, networkPolicy, mode, unique names.
 * 0 or TG_EINVALID / TG_ETOOBIG with the message recorded.
 */
int tg_policy__parse_workloads(tg_policy__ctx *c, const json_t *doc);

/* The workloads[] sections, for "belongs in" hints. */
extern const tg_policy__section tg_policy__s_workload;
extern const tg_policy__section tg_policy__s_netpol;

/*
 * One entry of exceptions[].waive that names a workload control
 * ("podSecurity/<control>", "networkPolicy") into e: 0, 1 when item is
 * no such entry (then it is an image waiver), or TG_EINVALID (an unknown
 * control) with the message recorded.
 */
int tg_policy__parse_workload_waive(tg_policy__ctx *c,
                                    const char *item,
                                    tg_policy__loc at,
                                    tg_policy_exception *e);

/* An exceptions[].objects glob: "Kind/namespace/name". */
int tg_policy__check_object_glob(const char *s);

#endif
