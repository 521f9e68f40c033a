/*
 * The policy file (policy.yaml, DESIGN.md 3.3): load, validate, and look up
 * what applies to an image.
 *
 * The policy belongs to the security team and is read from a path given by
 * the agent configuration or `tollgate verify --policy`, never from the
 * deploy repository. Loading validates every key: an unknown or misplaced
 * key, a value of the wrong type, a bad duration, date, severity, mode or
 * regular expression, a duplicate name, a threshold above the number of
 * authorities, an authority with both or neither of key and keyless, all
 * give TG_EINVALID (or TG_EPARSE for YAML syntax) with a message
 * "<path>:<line>:<col>: <key>: <what is wrong>", so a typo never silently
 * weakens a policy.
 *
 * Lifetimes: tg_policy is opaque and owns everything reachable from it. The
 * structs below are read-only views handed out as const pointers borrowed
 * from the policy; they live until tg_policy_free().
 *
 * Image names: every lookup takes the normalised name without tag or digest
 * ("docker.io/library/nginx", "ghcr.io/acme/api", as tg_imageref.name) and,
 * where it matters, the manifest digest ("sha256:<hex>").
 *
 * Globs (rules[].images, exceptions[].images): matched against the whole
 * name. `*` matches any run of characters within one path component (not
 * '/'), `**` any run including '/', `?` one character other than '/'.
 * A pattern may end in "@sha256:<64 hex>": then the name part must match
 * AND the image's digest must be exactly that one. Tags (":tag") are not
 * allowed in patterns (a tag is mutable); a ':' is allowed only in the
 * first component as a registry port (as in 127.0.0.1:5000/ followed
 * by **).
 *
 * Regular expressions (...RegExp keys): POSIX extended (regcomp with
 * REG_EXTENDED), searched unanchored like cosign's Go regexp.MatchString:
 * write ^ and $ to anchor. RE2/Perl syntax that POSIX ERE lacks or reads
 * differently is refused at load rather than silently changing meaning:
 * backslash before a letter or digit (\d \w \s \b ...: use [0-9],
 * [[:alnum:]_], [[:space:]]), "(?" groups and flags, and lazy quantifiers
 * (*? +? ?? }?).
 */
#ifndef TOLLGATE_POLICY_H
#define TOLLGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tollgate/error.h"
#include "tollgate/keys.h"

#define TG_POLICY_API_VERSION "tollgate.dev/v1alpha1"
#define TG_POLICY_KIND "Policy"

typedef struct tg_policy tg_policy;

/* A compiled regular expression (see above). */
typedef struct tg_regexp tg_regexp;

/*
 * Compile source (POSIX ERE, with the refusals above). 0 with *out (the
 * caller frees it with tg_regexp_free), or TG_EINVALID / TG_ETOOBIG with a
 * message (no file location: the policy loader adds it).
 */
int tg_regexp_compile(tg_regexp **out, const char *source) TG_WUR;
void tg_regexp_free(tg_regexp *re);

/* True when re finds a match anywhere in s. */
bool tg_regexp_match(const tg_regexp *re, const char *s);
/* The expression as written in the policy. Borrowed. */
const char *tg_regexp_source(const tg_regexp *re);

/* Vulnerability severities, ordered. Scanner severities map onto these:
 * "negligible" counts as low and "unknown" (or any unrecognised value)
 * counts as high, so an unrated finding is not waved through. */
typedef enum {
	TG_SEVERITY_NONE = 0,
	TG_SEVERITY_LOW = 1,
	TG_SEVERITY_MEDIUM = 2,
	TG_SEVERITY_HIGH = 3,
	TG_SEVERITY_CRITICAL = 4,
} tg_severity;

/* "none", "low", ... (lowercase, as in the policy). */
const char *tg_severity_name(tg_severity s);
/* Exactly one of the lowercase names. 0 or TG_EINVALID. */
int tg_severity_parse(tg_severity *out, const char *s) TG_WUR;

typedef enum {
	TG_POLICY_ENFORCE = 0, /* a failing image is blocked */
	TG_POLICY_WARN = 1,    /* a failing image is reported, not blocked */
} tg_policy_mode;

typedef enum {
	/* As cosign: only the signed digest must match the image. */
	TG_IDENTITY_ANY = 0,
	/* The signed docker-reference must name the image's repository
	 * (after remapIdentity). */
	TG_IDENTITY_REPOSITORY = 1,
	/* The signed docker-reference must equal the reference deployed,
	 * tag included (after remapIdentity). */
	TG_IDENTITY_EXACT = 2,
} tg_policy_identity;

/* Transparency-log settings of an authority ("rekor:" / "ctlog:"). */
typedef struct tg_policy_tlog {
	bool required;        /* an entry / SCT must be present and valid */
	const tg_key *key;    /* "publicKey:" loaded, or NULL (then the
	                            trusted root's keys apply) */
	const char *key_path; /* resolved path of publicKey, or NULL */
} tg_policy_tlog;

/*
 * keyless: a Fulcio certificate whose OIDC issuer and subject (SAN) match.
 * At least one of issuer / issuerRegExp and one of subject / subjectRegExp
 * are required (as cosign's --certificate-identity and
 * --certificate-oidc-issuer). Trust comes from trustedRoot (a Sigstore
 * trusted_root.json), from fulcioCerts (PEM roots and intermediates), or
 * when neither is given from the default root (tg_trustroot_default: the
 * built-in public-good root, or the one the agent keeps current via TUF).
 */
typedef struct tg_policy_keyless {
	const char *issuer;              /* exact, or NULL */
	const tg_regexp *issuer_regexp;  /* or NULL */
	const char *subject;             /* exact, or NULL */
	const tg_regexp *subject_regexp; /* or NULL */
	const char *trusted_root_path;   /* resolved path, or NULL */
	const char *trusted_root; /* its bytes (NUL-terminated) or NULL */
	size_t trusted_root_len;
	const char *fulcio_certs_path; /* resolved path, or NULL */
	const char *fulcio_certs;      /* PEM bytes (NUL-terminated) or NULL */
	size_t fulcio_certs_len;
	tg_policy_tlog ctlog; /* default: required, no key */
} tg_policy_keyless;

typedef enum {
	TG_AUTHORITY_KEY = 0,
	TG_AUTHORITY_KEYLESS = 1,
} tg_policy_authority_kind;

typedef struct tg_policy_authority {
	const char *name;
	tg_policy_authority_kind kind;
	const tg_key *key;                /* TG_AUTHORITY_KEY */
	const char *key_path;             /* resolved path of "key:" */
	const tg_policy_keyless *keyless; /* TG_AUTHORITY_KEYLESS */
	/* Rekor: default required for keyless (a Fulcio certificate is short
	 * lived and only a log entry proves when it signed), not required for
	 * keys. */
	tg_policy_tlog rekor;
	unsigned line; /* in the policy file */
} tg_policy_authority;

typedef struct tg_policy_signatures {
	unsigned threshold; /* authorities that must sign, each by a signer
	                     * of its own (one key or identity counts once);
	                     * >= 1 */
	tg_policy_identity signed_identity;
	/* remapIdentity: an image named prefix+rest is checked as if it were
	 * signed_prefix+rest. Both NULL when not given. */
	const char *remap_prefix;
	const char *remap_signed_prefix;
	const tg_policy_authority *const *authorities;
	size_t nauthorities;
} tg_policy_signatures;

/* attestations.sbom.formats */
enum {
	TG_SBOM_FORMAT_SPDX = 0x1u,
	TG_SBOM_FORMAT_CYCLONEDX = 0x2u,
};

/* attestations.sbom.deniedPackages[] */
typedef struct tg_policy_denied_package {
	const char *name;    /* package name as the SBOM writes it */
	const char *version; /* constraint ("<1.2.3", ">=1.0, <1.4", "1.2.3")
	                        or NULL for every version; see predicate.h */
} tg_policy_denied_package;

/*
 * An attestation requirement. `present` says whether the key was given at
 * all; when it was not, nothing about that attestation is checked. An
 * attestation counts only when signed by one of the rule's authorities.
 * With required: false, an attestation that is present is still checked
 * and must pass; a missing one is not a failure.
 */
typedef struct tg_policy_sbom {
	bool present;
	bool required;
	unsigned formats; /* TG_SBOM_FORMAT_* bits; default both */
	const char *const *denied_licenses; /* SPDX ids */
	size_t ndenied_licenses;
	const tg_policy_denied_package *denied_packages;
	size_t ndenied_packages;
} tg_policy_sbom;

typedef struct tg_policy_vulns {
	bool present;
	bool required;
	/* Highest severity allowed; findings above it fail. Default
	 * critical (any finding allowed; the scan's presence and age are
	 * still checked). */
	tg_severity max_severity;
	int64_t max_scan_age;      /* seconds; 0 = no limit */
	const char *const *ignore; /* CVE (or GHSA...) ids */
	size_t nignore;
} tg_policy_vulns;

typedef struct tg_policy_provenance {
	bool present;
	bool required;
	const char *builder_id;                    /* exact, or NULL */
	const tg_regexp *builder_id_regexp;        /* or NULL */
	const char *source_repository;             /* exact, or NULL */
	const tg_regexp *source_repository_regexp; /* or NULL */
} tg_policy_provenance;

typedef struct tg_policy_rule {
	const char *name;
	const char *const *images; /* globs */
	size_t nimages;
	tg_policy_mode mode; /* default enforce */
	tg_policy_signatures signatures;
	tg_policy_sbom sbom;
	tg_policy_vulns vulnerabilities;
	tg_policy_provenance provenance;
	int64_t max_image_age; /* seconds; 0 = no limit */
	unsigned line;
} tg_policy_rule;

/* exceptions[].waive */
enum {
	TG_WAIVE_SIGNATURE = 0x01u,
	TG_WAIVE_SBOM = 0x02u,
	TG_WAIVE_VULNERABILITIES = 0x04u,
	TG_WAIVE_PROVENANCE = 0x08u,
	TG_WAIVE_AGE = 0x10u,
};

/*
 * The controls of the Pod Security Standards (kubernetes.io "Pod
 * Security Standards"), named as the Pod Security Admission library
 * names its checks; an exception waives one as "podSecurity/<name>".
 * The first twelve are the baseline level's, the rest the restricted
 * level's (which includes baseline).
 */
typedef enum tg_pss_control {
	TG_PSS_HOST_PROCESS = 0,
	TG_PSS_HOST_NAMESPACES,
	TG_PSS_PRIVILEGED,
	TG_PSS_CAPABILITIES_BASELINE,
	TG_PSS_HOST_PATH_VOLUMES,
	TG_PSS_HOST_PORTS,
	TG_PSS_APPARMOR,
	TG_PSS_SELINUX,
	TG_PSS_PROC_MOUNT,
	TG_PSS_SECCOMP_BASELINE,
	TG_PSS_SYSCTLS,
	TG_PSS_HOST_PROBES, /* hostProbesAndHostLifecycle, from v1.34 */
	TG_PSS_RESTRICTED_VOLUMES,
	TG_PSS_ALLOW_PRIVILEGE_ESCALATION,
	TG_PSS_RUN_AS_NON_ROOT,
	TG_PSS_RUN_AS_USER,
	TG_PSS_SECCOMP_RESTRICTED,
	TG_PSS_CAPABILITIES_RESTRICTED,
	TG_PSS_PROC_MOUNT_RESTRICTED, /* from v1.35, in place of procMount */
	TG_PSS_NCONTROLS
} tg_pss_control;

/* "hostProcess", "capabilities_baseline", ... (NULL when out of range);
 * tg_pss_control_title: the standard's own title ("Host Namespaces"). */
const char *tg_pss_control_name(tg_pss_control c);
const char *tg_pss_control_title(tg_pss_control c);
/* The control named name; 0 or TG_ENOTFOUND. */
int tg_pss_control_parse(tg_pss_control *out, const char *name) TG_WUR;

/* "signature", "sbom", ... for one TG_WAIVE_* bit. */
const char *tg_policy_waive_name(unsigned bit);

typedef struct tg_policy_exception {
	const char *name;
	const char *const *images; /* globs or name@sha256:<hex>; may be
	                              empty when objects are given */
	size_t nimages;
	/* "Kind/namespace/name" globs of the workload objects it covers
	 * (a cluster-scoped object: "Kind//name"); may be empty */
	const char *const *objects;
	size_t nobjects;
	unsigned waive;            /* TG_WAIVE_* bits */
	uint32_t pss_waive;        /* 1u << tg_pss_control, podSecurity/<id> */
	bool waive_network_policy; /* networkPolicy */
	const char *const *cves;   /* waived finding ids */
	size_t ncves;
	const char *reason;
	const char *approved_by;
	const char *expires; /* "YYYY-MM-DD" as written */
	int64_t expires_at;  /* 23:59:59Z of that day */
	unsigned line;
} tg_policy_exception;

/*
 * Load and validate the policy at path. Relative key/trust paths in it are
 * resolved against the policy file's directory; absolute paths are used as
 * they are. Keys are loaded (tg_key_load_file) and checked now, so a
 * missing or bad key fails the load. 0, or TG_ENOTFOUND / TG_EIO (file),
 * TG_EPARSE (YAML), TG_ETOOBIG, TG_EINVALID (content) with
 * "<path>:<line>:<col>: ..." in tg_error_last().
 */
int tg_policy_load(tg_policy **out, const char *path) TG_WUR;

/* The same from bytes; name is used in messages and base_dir resolves
 * relative paths (NULL: the current directory). */
int tg_policy_parse(tg_policy **out,
                    const char *name,
                    const char *data,
                    size_t len,
                    const char *base_dir) TG_WUR;

void tg_policy_free(tg_policy *policy);

/* The path or name the policy was loaded from. Borrowed. */
const char *tg_policy_name(const tg_policy *policy);

/*
 * "sha256:<hex>" over the canonical policy content (keys sorted, compact
 * JSON) and the material it refers to (each key's id, the bytes of trusted
 * roots and certificate files): changes whenever a verdict could. For
 * verdict caches. Borrowed.
 */
const char *tg_policy_hash(const tg_policy *policy);

/* registries.allowed ------------------------------------------------------- */

/*
 * Whether name (normalised, e.g. "docker.io/library/nginx") is under one
 * of registries.allowed. An entry is a prefix on component boundaries:
 * "registry.example.com/" and "registry.example.com" both allow
 * "registry.example.com/x/y" but not "registry.example.com.evil/x";
 * "ghcr.io/acme/" allows "ghcr.io/acme/api" but not "ghcr.io/acmex/api".
 * No registries key: every registry is allowed (rules still apply).
 */
bool tg_policy_registry_allowed(const tg_policy *policy, const char *name);

/* rules -------------------------------------------------------------------- */

size_t tg_policy_rule_count(const tg_policy *policy);
const tg_policy_rule *tg_policy_rule_at(const tg_policy *policy, size_t i);

/* Whether one of the rule's globs matches name (and digest, for a digest
 * pattern; digest may be NULL, then digest patterns do not match). */
bool tg_policy_rule_matches(const tg_policy_rule *rule,
                            const char *name,
                            const char *digest);

/*
 * The rule that applies to an image: the registry must be allowed, then
 * the first rule (in file order) whose images match. 0 with *out borrowed,
 * or TG_EINVALID with "<name>: registry not allowed by the policy
 * (registries.allowed: ...)" or "<name>: no policy rule matches" in
 * tg_error_last(); the image is then blocked.
 */
int tg_policy_select(const tg_policy_rule **out,
                     const tg_policy *policy,
                     const char *name,
                     const char *digest) TG_WUR;

/* exceptions --------------------------------------------------------------- */

size_t tg_policy_exception_count(const tg_policy *policy);
const tg_policy_exception *tg_policy_exception_at(const tg_policy *policy,
                                                  size_t i);

/* Whether one of the exception's images matches name+digest. */
bool tg_policy_exception_matches(const tg_policy_exception *exc,
                                 const char *name,
                                 const char *digest);

/* Whether the exception is still in force at now (until the end of its
 * expires day, UTC). */
bool tg_policy_exception_active(const tg_policy_exception *exc, int64_t now);

/*
 * Collect the exceptions that match an image, in file order, into out
 * (borrowed pointers; at most max). Returns how many matched (may be more
 * than max). The caller checks tg_policy_exception_active() on each so it
 * can report "exception X expired on D" for an expired one.
 */
size_t tg_policy_exceptions_for(const tg_policy_exception **out,
                                size_t max,
                                const tg_policy *policy,
                                const char *name,
                                const char *digest);

/*
 * What the active exceptions matching an image waive at now: the OR of
 * their TG_WAIVE_* bits. Waived CVE ids are read from the exceptions
 * themselves (tg_policy_exceptions_for).
 */
unsigned tg_policy_waivers(const tg_policy *policy,
                           const char *name,
                           const char *digest,
                           int64_t now);

/* scopes ------------------------------------------------------------------- */

/*
 * scopes[] (DESIGN.md 3.3): which namespaces and kinds the units matching
 * `units` may write. The first scope (in file order) whose units match a
 * unit applies to it; with none, the admit stage's default scope applies
 * (namespaced objects anywhere but tollgate's reserved namespaces, and of
 * the cluster-scoped kinds only Namespace and CustomResourceDefinition).
 * No scope can grant tollgate's reserved objects (reconciler/admit/).
 *
 * Name globs (units, namespaces): `*` matches any run of characters,
 * `?` one character; everything else matches itself.
 *
 * Kind globs (kinds, clusterKinds) are written "group/Kind", the core
 * group without a group ("ConfigMap", "Namespace"), as in a manifest's
 * apiVersion without its version: "apps/Deployment",
 * "rbac.authorization.k8s.io/ClusterRole". `*` and `?` do not cross the
 * '/': "rbac.authorization.k8s.io/" followed by `*` is every kind of that
 * group, and a pattern
 * without '/' names core kinds only ("Secret", "*"), except that `*`
 * alone means every kind of every group. Kinds match case-sensitively.
 */
typedef struct tg_policy_scope {
	const char *name;
	const char *const *units; /* name globs; required */
	size_t nunits;
	/* name globs; absent: no namespace (the scope grants no
	 * namespaced object) */
	const char *const *namespaces;
	size_t nnamespaces;
	/* kind globs of namespaced kinds; absent: every kind */
	const char *const *kinds;
	size_t nkinds;
	/* kind globs of cluster-scoped kinds; absent: none */
	const char *const *cluster_kinds;
	size_t ncluster_kinds;
	unsigned line;
} tg_policy_scope;

size_t tg_policy_scope_count(const tg_policy *policy);
const tg_policy_scope *tg_policy_scope_at(const tg_policy *policy, size_t i);

/* The first scope whose units match unit (borrowed), or NULL. */
const tg_policy_scope *tg_policy_scope_for(const tg_policy *policy,
                                           const char *unit);

/* Whether name glob pattern matches s (see above). */
bool tg_policy_name_glob_match(const char *pattern, const char *s);

/* Whether kind glob pattern matches the kind of group ("" for core). */
bool tg_policy_kind_glob_match(const char *pattern,
                               const char *group,
                               const char *kind);

/* Whether one of the scope's namespaces matches ns. */
bool tg_policy_scope_allows_namespace(const tg_policy_scope *scope,
                                      const char *ns);

/* Whether the scope lists group/kind: in kinds (every kind when absent)
 * for a namespaced kind, in clusterKinds for a cluster-scoped one. */
bool tg_policy_scope_allows_kind(const tg_policy_scope *scope,
                                 const char *group,
                                 const char *kind,
                                 bool namespaced);

/* workloads ---------------------------------------------------------------- */

/* workloads[].podSecurity */
typedef enum {
	TG_PSS_LEVEL_PRIVILEGED = 0, /* nothing checked */
	TG_PSS_LEVEL_BASELINE = 1,
	TG_PSS_LEVEL_RESTRICTED = 2,
} tg_pss_level;

/* "privileged", "baseline", "restricted". */
const char *tg_pss_level_name(tg_pss_level l);

/* The newest Kubernetes minor version whose Pod Security Standards are
 * known here; "latest" and any later v1.N check as of it. */
#define TG_PSS_LATEST_MINOR 37

/* workloads[].networkPolicy: the directions a default-deny policy must
 * cover in every namespace with pods. */
enum {
	TG_NETPOL_INGRESS = 0x1u,
	TG_NETPOL_EGRESS = 0x2u,
};

/*
 * workloads[] (DESIGN.md 3.3): rules on what runs. The first rule whose
 * namespaces globs match a namespace applies to the pods there.
 */
typedef struct tg_policy_workload {
	const char *name;
	const char *const *namespaces; /* name globs; required */
	size_t nnamespaces;
	tg_pss_level pod_security; /* default privileged */
	unsigned pss_minor;        /* podSecurityVersion v1.N, capped at
	                              TG_PSS_LATEST_MINOR ("latest") */
	const char *pss_version;   /* as written, or "latest" */
	unsigned network_policy;   /* TG_NETPOL_* bits; 0 none */
	tg_policy_mode mode;       /* default enforce */
	unsigned line;
} tg_policy_workload;

size_t tg_policy_workload_count(const tg_policy *policy);
const tg_policy_workload *tg_policy_workload_at(const tg_policy *policy,
                                                size_t i);

/* The first workload rule whose namespaces match ns (borrowed), or
 * NULL: nothing is checked there. */
const tg_policy_workload *tg_policy_workload_for(const tg_policy *policy,
                                                 const char *ns);

/* Whether one of the exception's objects globs matches the object
 * "kind/ns/name" (ns "" for a cluster-scoped object). */
bool tg_policy_exception_matches_object(const tg_policy_exception *exc,
                                        const char *kind,
                                        const char *ns,
                                        const char *name);

/* commits ------------------------------------------------------------------ */

/* The SSH keys of a signer (tollgate/sshsig.h). */
typedef struct tg_ssh_signers tg_ssh_signers;
/* The OpenPGP keys of a signer (tollgate/openpgp.h). */
typedef struct tg_pgp_keyring tg_pgp_keyring;

/*
 * commits: (DESIGN.md 3.3): who may change what is deployed. mode head:
 * the commit to deploy must be signed by a listed signer; mode history:
 * every commit since the last deployed one too (merges included; on the
 * first deploy only the head).
 */
typedef enum {
	TG_COMMITS_HEAD = 0,
	TG_COMMITS_HISTORY = 1,
} tg_policy_commit_mode;

typedef enum {
	TG_SIGNER_SSH = 0,             /* ssh: a file of OpenSSH public keys */
	TG_SIGNER_ALLOWED_SIGNERS = 1, /* allowedSigners: git's format */
	TG_SIGNER_OPENPGP = 2,         /* openpgp: armoured public keys */
	TG_SIGNER_X509 = 3,            /* x509: roots and identity */
} tg_policy_signer_kind;

/* x509: CMS signatures (gitsign, smimesign) by a certificate that chains
 * to roots and whose identity (email or URI SAN) matches. */
typedef struct tg_policy_x509 {
	const char *roots_path; /* resolved path */
	const char *roots;      /* PEM bytes (NUL-terminated) */
	size_t roots_len;
	const char *subject;             /* exact, or NULL */
	const tg_regexp *subject_regexp; /* or NULL */
	const char *issuer; /* Fulcio OIDC issuer extension, or NULL */
} tg_policy_x509;

typedef struct tg_policy_signer {
	const char *name;
	tg_policy_signer_kind kind;
	const char *path;              /* the key file (resolved), or NULL */
	const tg_ssh_signers *ssh;     /* TG_SIGNER_SSH / _ALLOWED_SIGNERS */
	const tg_pgp_keyring *openpgp; /* TG_SIGNER_OPENPGP */
	const tg_policy_x509 *x509;    /* TG_SIGNER_X509 */
	unsigned line;
} tg_policy_signer;

typedef struct tg_policy_commits {
	tg_policy_commit_mode mode;
	const tg_policy_signer *signers;
	size_t nsigners;
	unsigned line;
} tg_policy_commits;

/* The commits: section, or NULL when the policy has none (then commits
 * are not checked). Borrowed. */
const tg_policy_commits *tg_policy_commits_get(const tg_policy *policy);

/* keyless ------------------------------------------------------------------ */

/*
 * Whether a certificate's OIDC issuer and subject (SAN) satisfy the
 * keyless authority: every given condition (exact and regexp) must hold.
 * 0, or TG_EUNTRUSTED with a message naming what differs.
 */
int tg_policy_keyless_match(const tg_policy_keyless *keyless,
                            const char *issuer,
                            const char *subject) TG_WUR;

#endif
