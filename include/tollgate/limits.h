/*
 * Every limit applied to input from outside, in one place, with its unit
 * and the reason for its value. A limit that is hit gives TG_ETOOBIG and a
 * message naming the input and the limit.
 */
#ifndef TOLLGATE_LIMITS_H
#define TOLLGATE_LIMITS_H

/* Files ------------------------------------------------------------------ */

/* Bytes in one manifest or policy file. Real manifests are far below 1 MiB
 * (kube-apiserver refuses objects over ~1.5 MiB); 8 MiB leaves room for
 * large CRDs and lists without letting a file exhaust memory. */
#define TG_MAX_FILE_BYTES (8u * 1024 * 1024)

/* Files read from one deploy tree: beyond this a repository is more likely
 * a mistake (a vendored tree) than a cluster's desired state. */
#define TG_MAX_TREE_FILES 50000

/* Directory nesting below source.path. */
#define TG_MAX_TREE_DEPTH 32

/* OCI sources (artifacts unpacked with libarchive) ---------------------- */

/* Entries (files and directories) in an artifact's tar layer: the same
 * bound as a Git tree. */
#define TG_MAX_ARCHIVE_ENTRIES TG_MAX_TREE_FILES

/* Path components of an archive entry: the same bound as a Git tree. */
#define TG_MAX_ARCHIVE_DEPTH TG_MAX_TREE_DEPTH

/* Bytes of one file in the archive: the same bound as a manifest file. */
#define TG_MAX_ARCHIVE_FILE_BYTES TG_MAX_FILE_BYTES

/* Bytes unpacked from one archive, all files together: a gzip bomb stops
 * here, while it is being inflated (not after). */
#define TG_MAX_ARCHIVE_TOTAL_BYTES (256u * 1024 * 1024)

/* Bytes of one entry's path in the archive (PATH_MAX of Linux). */
#define TG_MAX_ARCHIVE_PATH_BYTES 4096

/* Bytes of the compressed layer fetched from the registry: the unpacked
 * cap would be reached first by any real artifact (gzip of YAML). */
#define TG_MAX_ARCHIVE_LAYER_BYTES TG_MAX_BLOB_BYTES

/* Bytes of a media type (RFC 6838: 127 for type and subtype each). */
#define TG_MAX_MEDIA_TYPE_BYTES 255

/* Bytes of an annotation value (source URL, revision) copied into the
 * status. */
#define TG_MAX_OCI_SOURCE_ANNOTATION_BYTES 1024

/* Bytes a Git fetch may receive in one go. A deploy repository is text;
 * a remote sending more is broken or hostile. */
#define TG_MAX_GIT_FETCH_BYTES (1024ull * 1024 * 1024)

/* Symlinks followed to reach one file in the deploy tree. */
#define TG_MAX_SYMLINK_HOPS 8

/* Rendering (reconciler/render/) ---------------------------------------- */

/* Render plugins in tollgate.yaml, and arguments of one render command. */
#define TG_MAX_RENDER_PLUGINS 32
#define TG_MAX_RENDER_ARGS 64

/* Bytes a renderer may write to stdout for one unit: a cluster's
 * manifests are megabytes; more is a renderer gone wrong (or a YAML bomb
 * built from small inputs). */
#define TG_MAX_RENDER_OUTPUT (64u * 1024 * 1024)

/* Renderers run at once (render.parallel; the default is one per CPU,
 * at most this). */
#define TG_MAX_RENDER_PARALLEL 64

/* The render cache (stateDir/render/): an entry not used in this many
 * cycles is removed, and the least recently used beyond the size cap
 * (entries used in the current cycle are always kept). */
#define TG_RENDER_CACHE_CYCLES 10
#define TG_MAX_RENDER_CACHE_BYTES (1024ull * 1024 * 1024)

/* Bytes of a renderer's stderr kept, and shown in the unit's error. */
#define TG_MAX_RENDER_STDERR 2048

/* Address space of a renderer process (RLIMIT_AS): kustomize (Go) maps
 * about 1 GiB of virtual memory at start; 4 GiB leaves room to work and
 * stops a runaway from exhausting the machine. */
#define TG_MAX_RENDER_MEMORY (4ull * 1024 * 1024 * 1024)

/* Kustomization files one unit may reach (its own, bases, components),
 * and bytes of one kustomization file. */
#define TG_MAX_KUSTOMIZATIONS 256
#define TG_MAX_KUSTOMIZATION_BYTES (1u * 1024 * 1024)

/* Files and bytes written into a unit's private render tree. */
#define TG_MAX_RENDER_TREE_FILES 20000
#define TG_MAX_RENDER_TREE_BYTES (256ull * 1024 * 1024)

/* Attempts to push a status commit when the remote moved in between
 * (fetch, rebuild on the new tip, push again). */
#define TG_STATUS_PUSH_ATTEMPTS 5

/* A lock file in the Git cache older than this many seconds was left by a
 * process that died while updating a ref (ref updates take milliseconds):
 * it is removed when the cache is opened, or every fetch would fail. */
#define TG_GIT_STALE_LOCK_S 60

/* Directory levels below the cache's refs/ searched for such lock files. */
#define TG_GIT_MAX_REF_DEPTH 16

/* Bytes of a Git password or token file (source.auth.passwordFile):
 * tokens are a few hundred bytes; more is not a token file. */
#define TG_MAX_SECRET_FILE_BYTES 4096

/* Bytes of a symlink target in the deploy tree: Linux PATH_MAX, as no
 * checkout could hold a longer one. */
#define TG_MAX_SYMLINK_TARGET 4096

/* Bytes of rendered status text (commit message, note, STATUS.md): far
 * above what a cluster's status needs, low enough to bound memory. */
#define TG_STATUS_TEXT_MAX (16u * 1024 * 1024)

/* Bytes of image entries a status write keeps as text to copy into each
 * unit that shares them (reconciler/report/statusjson.c): 100 images take
 * 150 kB; past the limit the others are written in place. */
#define TG_STATUS_FRAGS_MAX_BYTES (4u * 1024 * 1024)

/* Reasons listed per image in a status commit body, and bytes of each:
 * enough to act on, short enough for `git log` to stay readable. */
#define TG_STATUS_REASONS_MAX 20
#define TG_STATUS_REASON_BYTES 300

/* Bytes of a unit's failure message in a status commit subject. */
#define TG_STATUS_DETAIL_BYTES 80

/* Bytes of a unit name in a status commit subject or body, and in a
 * note line; of an image reference in a body. Longer text is cut with
 * "...": a subject line should fit a terminal. */
#define TG_STATUS_SUBJECT_NAME_BYTES 64
#define TG_STATUS_NOTE_NAME_BYTES 256
#define TG_STATUS_IMAGE_REF_BYTES 512

/* Bytes of an image's verdict in a status commit body: the verdicts are
 * short words; anything longer is cut. */
#define TG_STATUS_VERDICT_BYTES 32

/* Bytes of each part of a drifted object's line in a status commit body
 * (unit, kind and namespace are short names; an object name and a field
 * path may be long; a field manager is a client name). Longer text is
 * cut with "...": one object stays one readable line. */
#define TG_STATUS_DRIFT_UNIT_BYTES 64
#define TG_STATUS_DRIFT_KIND_BYTES 64
#define TG_STATUS_DRIFT_NAMESPACE_BYTES 64
#define TG_STATUS_DRIFT_NAME_BYTES 256
#define TG_STATUS_DRIFT_PATH_BYTES 256
#define TG_STATUS_DRIFT_MANAGER_BYTES 128

/* Bytes of the rendered /metrics exposition: a fixed set of series is
 * a few kilobytes; the cap bounds memory should that ever change. */
#define TG_MAX_METRICS_BYTES (256u * 1024)

/* Bytes of the " -p PORT" hint in a known_hosts refusal (a port is at
 * most 5 digits). */
#define TG_KNOWN_HOSTS_PORT_OPT_BYTES 16

/* Pack files libgit2 keeps open (mapped) at once, process-wide. Every
 * fetch that brings new commits adds a pack to the Git cache and libgit2's
 * default is no limit, so a long-running agent gained one descriptor per
 * change (found by tests/bench/soak.sh); past the limit the least recently
 * used pack is closed and reopened when needed. */
#define TG_MAX_GIT_OPEN_PACKS 8

/* Bytes of parsed objects (commits, trees, tags) libgit2 keeps in memory
 * per repository, and bytes of pack files it keeps mapped, process-wide.
 * libgit2's defaults are 256 MiB and 8 GiB: a long-running agent reading
 * a new deploy commit and writing a status commit every cycle never
 * evicted anything, and its RSS grew by a few kB a cycle (found by
 * tests/bench/soak.sh). Past the limits objects are parsed again and
 * windows mapped again when needed. */
/* Pack files in a Git cache before the small ones are rewritten into one
 * (tg_gitrepo_compact): libgit2 keeps each pack's index mapped and
 * searches every pack, and each fetch adds one. */
#define TG_MAX_GIT_PACKS 16

#define TG_MAX_GIT_OBJECT_CACHE (512u * 1024)

/* pack.windowMemory of a Git cache: the bytes of objects a push's delta
 * search compares each object with (reconciler/git/remote.c). */
#define TG_GIT_PUSH_WINDOW_MEMORY (16u * 1024)
#define TG_MAX_GIT_MAPPED (64u * 1024 * 1024)

/* Bytes in a known_hosts file (source.auth.knownHosts): OpenSSH's own
 * files hold a few hundred hosts. */
#define TG_MAX_KNOWN_HOSTS_BYTES (4u * 1024 * 1024)

/* Webhook notifications: retries of one delivery, the first backoff in
 * milliseconds, and the per-request timeout in seconds. A receiver down
 * for longer loses the event (counted), and a cycle is never held up. */
#define TG_NOTIFY_RETRIES 3
#define TG_NOTIFY_RETRY_BASE_MS 200
#define TG_NOTIFY_TIMEOUT_S 5

/* Bytes of a status.json read back from the status branch: larger ones
 * are treated as damaged and rewritten. */
#define TG_MAX_STATUS_BYTES (64u * 1024 * 1024)

/* Characters in a status commit subject before the unit list is
 * shortened ("and 3 more"). */
#define TG_STATUS_SUBJECT_MAX 200

/* Seconds for which status tips fetched together with the source serve
 * the publish at the end of the cycle; an older fetch (a cycle that waited
 * for rollouts) is done again, so another writer's status is seen. */
#define TG_STATUS_TIPS_MAX_AGE_S 5.0

/* The status digests (stateDir/status-digests, tollgate's own file: a
 * digest of each unit of the status last committed): bytes of the file
 * (about 150 a unit) and of one name (a unit is a directory name). */
#define TG_STATUS_DIGESTS_MAX_BYTES (64u * 1024 * 1024)
#define TG_STATUS_DIGESTS_MAX_NAME 4096

/* Lists inside lists expanded in a manifest file (kind: List items that
 * are lists themselves). kubectl flattens them; real files nest at most
 * once, and a bound keeps the recursion short. */
#define TG_MAX_MANIFEST_LIST_DEPTH 4

/* Bytes of one error message about a manifest file (a duplicate object, a
 * bad image field): it names the file, line, object and field; a longer
 * one reads "... (message cut)". */
#define TG_MAX_MANIFEST_MESSAGE_BYTES 8192

/* Bytes of a JSON pointer to an image field built while walking an
 * object: every segment is a key or index of the object, escaping at
 * most doubles a key, so twice the largest file always suffices. */
#define TG_MAX_IMAGE_POINTER_BYTES (2 * (size_t)TG_MAX_FILE_BYTES)

/* YAML ------------------------------------------------------------------- */

/* Nesting of mappings and sequences. Kubernetes objects nest ~15 deep;
 * 128 is generous and keeps recursion on the stack bounded. */
#define TG_MAX_YAML_DEPTH 128

/* Nodes created by alias expansion in one file. Stops "billion laughs":
 * each alias copy counts every node it copies. */
#define TG_MAX_YAML_ALIAS_NODES 100000

/* Bytes of scalars (keys and values) copied by alias expansion in one
 * file: a node budget alone lets 100000 aliases of one 4 MiB scalar ask
 * for 400 GB. Twice the largest file covers any honest reuse. */
#define TG_MAX_YAML_ALIAS_BYTES (16u * 1024 * 1024)

/* Nodes (mappings, sequences and scalar values, alias copies included) in
 * one file. jansson spends ~100 bytes a node, and an 8 MiB file of "- a"
 * lines holds 2 million; the largest real CRDs have ~100000. */
#define TG_MAX_YAML_NODES 1000000

/* Anchors defined in one file. */
#define TG_MAX_YAML_ANCHORS 10000

/* Documents in one file. */
#define TG_MAX_YAML_DOCUMENTS 10000

/* Bytes in one scalar. */
#define TG_MAX_YAML_SCALAR_BYTES (4u * 1024 * 1024)

/* Characters of a plain scalar that may still be a number; longer ones are
 * strings (go-yaml would read a 500-digit decimal as a float; nothing real
 * writes one). */
#define TG_MAX_YAML_NUMBER_CHARS 500

/* Bytes of the text of a number formatted as a mapping key (int64, uint64
 * or a float32 in %g: at most ~25 characters). */
#define TG_YAML_NUMBER_TEXT_MAX 64

/* Bytes of a YAML tag as shown in messages ("!!" and up to 100 of its
 * characters). */
#define TG_YAML_TAG_TEXT_MAX 128

/* Bytes of each chunk of the arena that holds node positions. */
#define TG_YAML_ARENA_CHUNK_BYTES (64u * 1024)

/* Bytes of one reference token of a JSON pointer looked up in the node
 * positions (a mapping key; longer keys are never looked up). */
#define TG_YAML_POINTER_TOKEN_MAX 4096

/* Bytes of a list index written in decimal in a key path ("[123]"): a
 * size_t has at most 20 digits. */
#define TG_SCHEMA_INDEX_TEXT_MAX 24

/* Characters of a key or value compared for a "did you mean" hint (longer
 * ones are never near misses) and the largest edit distance of a hint. */
#define TG_SCHEMA_SUGGEST_MAX_CHARS 64
#define TG_SCHEMA_SUGGEST_MAX_DISTANCE 2

/* Bytes of a schema message before its prefix (an unknown key with the
 * list of the keys known in its mapping, a wrong type). */
#define TG_SCHEMA_MESSAGE_MAX 1024

/* Bytes of a policy error message before its "FILE:LINE:COL: path: "
 * prefix (tg_error_last() holds TG_ERROR_MAX in all). */
#define TG_POLICY_MESSAGE_MAX 1536

/* Characters in one glob of a policy scope (units, namespaces, kinds): a
 * namespace is at most 63, a group/Kind at most 253 + 1 + 63. */
#define TG_MAX_SCOPE_GLOB 320

/* Bytes of the JSON pointer and of the dotted key path of a tollgate.yaml
 * member (its keys are short and nest at most four deep). */
#define TG_CONFIG_KEY_PATH_MAX 512

/* Errors reported from one tollgate.yaml before giving up. */
#define TG_CONFIG_MAX_ERRORS 20

/* JSON from the network ---------------------------------------------------- */

/* Nesting depth accepted in JSON documents we parse (jansson has its own
 * limit of 2048; we check ours after parsing where it matters). */
#define TG_MAX_JSON_DEPTH 128

/* TUF (the trust root kept current, verify/sigstore/tuf_*.c) -------------- */

/* Bytes of each metadata file fetched from a TUF mirror (python-tuf's
 * defaults: root 512 KB, timestamp 16 KiB, targets 5 MB; Sigstore's files
 * are a few KiB). A snapshot or targets file whose length the signed
 * metadata above it states is read up to that length only. */
#define TG_TUF_MAX_ROOT_BYTES (512u * 1024)
#define TG_TUF_MAX_TIMESTAMP_BYTES (16u * 1024)
#define TG_TUF_MAX_SNAPSHOT_BYTES (2u * 1024 * 1024)
#define TG_TUF_MAX_TARGETS_BYTES (5u * 1024 * 1024)

/* Bytes of the target (trusted_root.json) itself. */
#define TG_TUF_MAX_TARGET_BYTES TG_MAX_FILE_BYTES

/* New root versions accepted in one update (python-tuf allows 256; a
 * repository rotates its root a few times a year). More is refused, so a
 * mirror cannot keep the client fetching roots forever. */
#define TG_TUF_MAX_ROOT_ROTATIONS 64

/* Keys in one root, key IDs of one role, signatures on one file. */
#define TG_TUF_MAX_KEYS 64
#define TG_TUF_MAX_ROLE_KEYS 64
#define TG_TUF_MAX_SIGNATURES 64

/* Entries of a snapshot's meta and of a targets file's targets. */
#define TG_TUF_MAX_ENTRIES 10000

/* Bytes of a key ID (64 hex digits for SHA-256 IDs; TAP 12 allows any
 * string), of a public key value (PEM RSA 4096), of a hex signature (RSA
 * 8192), of a target or metadata file name. */
#define TG_TUF_MAX_KEYID_BYTES 128
#define TG_TUF_MAX_PUBLIC_BYTES 4096
#define TG_TUF_MAX_SIG_HEX_BYTES 2048
#define TG_TUF_MAX_NAME_BYTES 255

/* Nesting depth of a metadata file's "signed" object in canonical form. */
#define TG_TUF_MAX_DEPTH 32

/* Kubernetes --------------------------------------------------------------- */

/* Bytes in one API response. Lists are paged with limit/continue. */
#define TG_MAX_KUBE_RESPONSE_BYTES (64u * 1024 * 1024)

/* Objects per LIST page asked of the API server by default (the
 * apiserver's own default chunk size). */
#define TG_KUBE_LIST_LIMIT 500

/* Nesting of objects and arrays the LIST page scanner follows
 * (reconciler/cluster/listscan.c): jansson's own parser depth limit, so
 * that the scanner refuses no page jansson would read. */
#define TG_KUBE_SCAN_MAX_DEPTH 2048

/* Pages followed for one LIST: 2000 pages of 500 is a million objects,
 * far beyond any kind tollgate lists; stops a server that never ends. */
#define TG_KUBE_MAX_LIST_PAGES 2000

/* Operations in one batch of tg_kube_run: one per object of a cycle's
 * units (a large cluster has tens of thousands); a larger batch is
 * refused whole, its operations failed. */
#define TG_KUBE_MAX_BATCH_OPS 100000

/* Resource types kept from discovery (a large cluster serves ~600). */
#define TG_KUBE_MAX_RESOURCES 4096

/* Bytes of a request URL built for one operation (path and query). */
#define TG_KUBE_MAX_URL_BYTES (64u * 1024)

/* Watches (reconciler/cluster/watch.c) of tollgate run. */
/* Lists followed by watches: one per kind in use (a few dozen); more are
 * listed from the server each cycle. */
#define TG_WATCH_MAX_WATCHERS 256

/* Cycles in a row in which no list asked for a watcher's objects (its
 * kind left the desired state) before the watcher is stopped and its
 * objects freed. */
#define TG_WATCH_IDLE_CYCLES 3
/* Bytes of one watch event line: an object is at most ~1.5 MiB in etcd,
 * and a line holds one object with its event envelope. */
#define TG_WATCH_MAX_EVENT_BYTES (4u * 1024 * 1024)
/* Bytes of a resourceVersion (etcd revisions are 20 digits at most;
 * opaque to clients, so some room). */
#define TG_WATCH_MAX_RV_BYTES 64
/* Objects one watcher keeps (a list that grows past it is listed from
 * the server instead). */
#define TG_WATCH_MAX_OBJECTS 200000
/* timeoutSeconds asked of the server: between these, at random, as
 * client-go's reflector does, so that streams do not all end together. */
#define TG_WATCH_TIMEOUT_MIN_S 300
#define TG_WATCH_TIMEOUT_MAX_S 600
/* Backoff after a failed list or stream: doubled from the base up to
 * the cap, with +-25% jitter. */
#define TG_WATCH_BACKOFF_BASE_S 0.5
#define TG_WATCH_BACKOFF_MAX_S 30.0
/* A stream that lasted less than this before the server ended it counts
 * as a failure for the backoff (a server that ends streams at once would
 * otherwise be asked again in a tight loop). */
#define TG_WATCH_MIN_STREAM_S 1.0
/* Seconds without a byte on an open stream before it counts as broken
 * (bookmarks come about every minute, and a stream lasts 5-10 min). */
#define TG_WATCH_IDLE_S 700
/* Changes waiting to be judged, and own writes remembered, before the
 * set gives up telling them apart and just runs a cycle / forgets. */
#define TG_WATCH_MAX_PENDING 100000
#define TG_WATCH_MAX_OWN 200000
/* Bytes of own writes judged and kept until the next sweep, beyond which
 * they are forgotten at once (cycles that keep failing never sweep). */
#define TG_WATCH_MAX_OWN_USED_BYTES ((size_t)16 << 20)
/* Seconds a cycle waits after the first relevant event (more events of
 * one edit, e.g. a Deployment and its status, come together). */
#define TG_WATCH_DEBOUNCE_S 0.2

/* Bytes in a kubeconfig, token or certificate file (real ones are a few
 * KiB; embedded certificates make them larger, never a MiB). */
#define TG_MAX_KUBECONFIG_BYTES (1u * 1024 * 1024)

/* Characters in a label value (Kubernetes: 63). */
#define TG_K8S_LABEL_VALUE_MAX 63

/* Characters of the unit name kept in an inventory ConfigMap's name:
 * names are at most 253 characters, with the prefix and hash added. */
#define TG_INVENTORY_UNIT_NAME_MAX 200

/* Bytes of one unit's serialised objects hashed to tell its content
 * from the inventory's (2 GiB: only the allocator limits it). */
#define TG_APPLY_MAX_UNIT_BYTES ((size_t)1 << 31)

/* Objects of one ordering phase applied as one batch: a phase with more
 * is applied in batches of this many, one after another, so that the
 * parsed trees of at most this many objects are held at once (a cold
 * cycle's phase of ConfigMaps and Services can hold thousands); each
 * batch still runs its requests in parallel. */
#define TG_APPLY_BATCH_MAX 512

/* Workloads whose rollout state is read at once after an apply: each
 * answer is the whole live object, held until its state is read, so a
 * cycle with thousands of Deployments holds at most this many. */
#define TG_APPLY_HEALTH_BATCH 128

/* Seconds to wait for a CustomResourceDefinition to be Established. */
#define TG_APPLY_CRD_WAIT_S 30.0

/* Seconds between polls of CRD and rollout status. */
#define TG_APPLY_POLL_INTERVAL_S 0.2

/* Bytes of a drifted value (compact JSON) copied into the drift report;
 * larger ones are left out: the path and managers say enough, and the
 * status stays small. */
#define TG_DRIFT_MAX_VALUE_BYTES 512

/* Bytes of a JSON pointer or one of its segments built or read by drift. */
#define TG_DRIFT_MAX_POINTER_BYTES (64u * 1024)

/* Index of a list item in a JSON pointer read by drift (2^30). */
#define TG_DRIFT_MAX_POINTER_INDEX (1u << 30)

/* A live object kept for drift (tg_drift_slim) is reduced to the fields
 * its managers own only down to this depth, and only when it names at
 * most this many managedFields entries: deeper values, or an object with
 * more entries, are kept whole (more memory, never less drift seen). */
#define TG_DRIFT_SLIM_MAX_DEPTH 64
#define TG_DRIFT_SLIM_MAX_MANAGERS 256

/* The drift memo (stateDir/drift-memo, tollgate's own file): bytes of the
 * file (about 250 a line: 1 million objects fit), its lines, the bytes of
 * one field (an identity "apiVersion kind namespace/name" is at most
 * ~600), and the seconds a memo of "compared, no drift" is trusted before
 * the object is compared in full again whatever its resourceVersion says
 * (a restored etcd may give out a resourceVersion twice). */
#define TG_DRIFT_MEMO_MAX_BYTES (256u * 1024 * 1024)
#define TG_DRIFT_MEMO_MAX_ENTRIES 1000000
#define TG_DRIFT_MEMO_MAX_FIELD 1024
#define TG_DRIFT_MEMO_MAX_AGE_S 3600

/* The manifest parse cache (stateDir/manifest-cache,
 * reconciler/manifests/cache.c): the file is read whole, and is about
 * the size of the deploy tree's objects written as compact JSON (4 MiB
 * at 10,000 small objects); past this it is not read (every file is
 * parsed) and not written. */
#define TG_MAX_MANIFEST_CACHE_BYTES (256u * 1024 * 1024)

/* Logging ------------------------------------------------------------------ */

/* Bytes of OpenSSL's text for one error added to a detail
 * (ERR_error_string_n; its own texts are under 200). */
#define TG_ERROR_OPENSSL_MAX 256

/* Fields (key/value pairs) of one log event; more are dropped. */
#define TG_LOG_MAX_FIELDS 16

/* The run loop (tollgate run) ---------------------------------------------- */

/* Bytes of a request body the HTTP endpoint reads (a Git webhook payload). */
#define TG_HTTPD_MAX_BODY_BYTES (1u * 1024 * 1024)

/* Connections the HTTP endpoint serves at once, and their idle timeout. */
#define TG_HTTPD_MAX_CONNECTIONS 32
#define TG_HTTPD_TIMEOUT_S 10

/* Backoff after a failed cycle: first delay, doubled up to the cap. */
#define TG_RUN_BACKOFF_BASE_S 2.0
#define TG_RUN_BACKOFF_MAX_S 300.0

/* Seconds a leader waits for rollouts by default: below the Lease's renew
 * deadline, so a cycle renews in time. */
#define TG_RUN_LEADER_HEALTH_TIMEOUT_S 8.0

/* Seconds between cheap remote ref checks by default. */
#define TG_RUN_DEFAULT_POLL_S 5.0

/* Policy reload: a watched file whose identity (inode, size, mtime, ctime)
 * is unchanged is hashed again while its last change is less than this
 * many seconds older than its last hash (a write in the same timestamp
 * tick as that hash leaves the identity alone). */
#define TG_POLICY_RACY_S 2

/* Bytes of a secret file (webhook header value, /reconcile secret). */
#define TG_MAX_SECRET_BYTES (64u * 1024)

/* Notifications waiting for delivery; older ones are dropped beyond it. */
#define TG_MAX_PENDING_NOTIFICATIONS 1000

/* Seconds a cycle waits for rollouts when the caller does not say
 * (tollgate once; a leader uses TG_RUN_LEADER_HEALTH_TIMEOUT_S). */
#define TG_AGENT_HEALTH_TIMEOUT_S 60.0

/* Bytes of a host name with its NUL (listen address, own hostname): DNS
 * names have at most 253 characters. */
#define TG_MAX_HOST_BYTES 256

/* The largest TCP port number (16 bits). */
#define TG_MAX_TCP_PORT 65535

/* The command line ----------------------------------------------------------
 */

/* Seconds accepted by tollgate run's --poll-interval and --health-timeout:
 * a day; a longer wait is a typo, not a setting. */
#define TG_RUN_MAX_FLAG_S 86400

/* Rounds accepted by tollgate verify --repeat (a benchmark aid). */
#define TG_MAX_VERIFY_REPEAT 100

/* Parallel registry transfers accepted by tollgate verify --parallel. */
#define TG_MAX_VERIFY_PARALLEL 1024

/* Bytes of tollgate verify's text output, held before it is printed: far
 * beyond TG_MAX_VERIFY_IMAGES verdicts with every reason. */
#define TG_MAX_VERIFY_OUTPUT_BYTES ((size_t)1 << 30)

/* Registries, signatures, certificates, Sigstore, OpenPGP. */
#include "tollgate/limits_verify.h"

#endif
