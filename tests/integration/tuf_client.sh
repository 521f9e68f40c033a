#!/usr/bin/env bash
# The trust root through TUF (issue 18): the TUF client
# (tests/tools/tg-tuf drives the product's client) against repositories
# made in the test by tests/tools/make-tuf-repo.py (Ed25519, ECDSA P-256
# and RSA-PSS keys) and served by Python's http.server on loopback. It
# follows root rotations to keys it did not know, and refuses an expired
# timestamp, a rollback of the timestamp or of the snapshot it names, a
# target whose hash or length does not match, a new root not signed by the
# old keys or holding another version, and a mirror that is down; after
# each refusal the cache still gives the last verified target, and nothing
# unverified enters it. tuf_run.sh tests the agent with sigstore.tuf.
. "$TG_SOURCE_DIR/tests/lib/common.sh"

GEN=$TG_SOURCE_DIR/tests/tools/make-tuf-repo.py
TUF=$TG_BUILD_DIR/tests/tools/tg-tuf
ROOT1=$TG_SOURCE_DIR/tests/data/bundles/rekor2/trusted_root.json
ROOT2=$TG_SOURCE_DIR/verify/sigstore/data/trusted_root_public_good.json
SHA1=$(sha256sum "$ROOT1" | cut -d' ' -f1)
SHA2=$(sha256sum "$ROOT2" | cut -d' ' -f1)
SRV=$TT_TMP/srv
mkdir -p "$SRV"
PORT=$(tt_free_port)
tt_bg "$TT_TMP/http.log" python3 -m http.server --bind 127.0.0.1 \
	--directory "$SRV" "$PORT"
HTTP_PID=$TT_LAST_PID
tt_wait_port "$PORT"

# fresh NAME: a repository publishing ROOT1, at $SRV/NAME (copies of one
# made once: key generation is the slow part)
python3 "$GEN" init "$TT_TMP/base"
python3 "$GEN" publish "$TT_TMP/base" "$ROOT1"
fresh() {
	cp -r "$TT_TMP/base" "$SRV/$1"
}
# tuf CMD NAME: tg-tuf against repository NAME with its own cache
tuf() {
	tt_run OUT RC "$TUF" "$1" "http://127.0.0.1:$PORT/$2/repo" \
		"$TT_TMP/cache-$2" "$SRV/$2/repo/1.root.json"
}
gen() { python3 "$GEN" "$@" >/dev/null; }

# --- a first update and a key rotation ----------------------------------
fresh rot
tuf refresh rot
tt_eq "first update: exit 0" 0 "$RC"
tt_eq "first update: root 1, targets 1, the published target" \
	"ok root=1 targets=1 sha256=$SHA1" "$OUT"
tt_eq "the cache holds the metadata and the target" \
	"root.json snapshot.json targets.json timestamp.json trusted_root.json verified-at" \
	"$(cd "$TT_TMP/cache-rot" && ls | tr '\n' ' ' | sed 's/ $//')"
# root v2 with two new root keys and a new timestamp key; then a new target
gen rotate-root "$SRV/rot" --rotate-timestamp
gen timestamp "$SRV/rot"
tuf refresh rot
tt_eq "rotation: root 2 accepted (signed by v1's keys and its own)" \
	"ok root=2 targets=1 sha256=$SHA1" "$OUT"
gen publish "$SRV/rot" "$ROOT2"
tuf refresh rot
tt_eq "rotation: the new timestamp key signs the next target" \
	"ok root=2 targets=2 sha256=$SHA2" "$OUT"
gen rotate-root "$SRV/rot"
gen rotate-root "$SRV/rot"
tuf refresh rot
tt_eq "two rotations in one update" "ok root=4 targets=2 sha256=$SHA2" "$OUT"
tuf cached rot
tt_eq "the cache alone gives the last verified target" \
	"ok root=4 targets=2 sha256=$SHA2" "$OUT"

# --- root rotation attacks ----------------------------------------------
fresh rootatk
tuf refresh rootatk
gen rotate-root "$SRV/rootatk" --unsigned-by-old
tuf refresh rootatk
tt_eq "a root not signed by the old root keys: refused" 1 "$RC"
tt_contains "... for the threshold of version 1" "$OUT" \
	"2.root.json: signed by 0 of the 2 keys of role root that version 1 of the root requires"
tt_contains "... and the cached root is still version 1" \
	"$(cat "$TT_TMP/cache-rootatk/root.json")" '"version": 1'
rm "$SRV/rootatk/repo/2.root.json"
python3 - "$SRV/rootatk/state/state.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s["root"] = 1
s["roles"]["root"] = ["root-a1", "root-b1"]
json.dump(s, open(sys.argv[1], "w"))
PY
gen rotate-root "$SRV/rootatk" --version 3
tuf refresh rootatk
tt_eq "2.root.json holding version 3: refused" 1 "$RC"
tt_contains "... as a skipped version" "$OUT" \
	"2.root.json: holds version 3 (a rollback or a skipped version); 2 is required"

# --- an expired timestamp -------------------------------------------------
fresh exp
tuf refresh exp
gen timestamp "$SRV/exp" --expired
tuf refresh exp
tt_eq "an expired timestamp: refused" 1 "$RC"
tt_contains "... as expired" "$OUT" \
	"tg-tuf: expired: timestamp.json: version 2 expired at 2001-01-01T00:00:00Z"
tuf cached exp
tt_eq "... the last verified target stays" "ok root=1 targets=1 sha256=$SHA1" "$OUT"
tt_contains "... and the expired timestamp was not cached" \
	"$(cat "$TT_TMP/cache-exp/timestamp.json")" '"version": 1'

# --- rollback attempts ----------------------------------------------------
fresh rb
gen publish "$SRV/rb" "$ROOT1"
cp "$SRV/rb/repo/timestamp.json" "$TT_TMP/ts2.json"
gen timestamp "$SRV/rb"
tuf refresh rb
tt_eq "rollback setup: timestamp 3 verified" "ok root=1 targets=2 sha256=$SHA1" "$OUT"
cp "$SRV/rb/repo/timestamp.json" "$TT_TMP/ts3.json"
cp "$TT_TMP/ts2.json" "$SRV/rb/repo/timestamp.json"
tuf refresh rb
tt_eq "an older timestamp (version 2 after 3): refused" 1 "$RC"
tt_contains "... as a rollback" "$OUT" \
	"rollback refused: timestamp.json version 2 is older than the trusted version 3"
cp "$TT_TMP/ts3.json" "$SRV/rb/repo/timestamp.json"
gen timestamp "$SRV/rb" --snapshot 1
tuf refresh rb
tt_eq "a new timestamp naming an older snapshot: refused" 1 "$RC"
tt_contains "... as a rollback" "$OUT" \
	"rollback refused: snapshot.json named by timestamp.json version 1 is older than the trusted version 2"

# --- a target that does not match ---------------------------------------
fresh hash
T=$SRV/hash/repo/targets/$SHA1.trusted_root.json
python3 - "$T" <<'PY'
import sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read())
d[10] ^= 0x20
open(p, "wb").write(bytes(d))
PY
tuf refresh hash
tt_eq "a target whose hash does not match: refused" 1 "$RC"
tt_contains "... naming the hash" "$OUT" \
	"targets/$SHA1.trusted_root.json: sha256 does not match the signed metadata"
tt_eq "... and nothing unverified is cached" "absent" \
	"$([ -e "$TT_TMP/cache-hash/trusted_root.json" ] && echo present || echo absent)"
truncate -s -1 "$T"
tuf refresh hash
tt_contains "a target shorter than its length: refused" "$OUT" \
	"$(($(stat -c %s "$ROOT1") - 1)) bytes, but the signed metadata says $(stat -c %s "$ROOT1")"
printf '  ' >>"$T"
tuf refresh hash
tt_contains "a target longer than its length: not read past it" "$OUT" \
	"tg-tuf: too big: TUF mirror: GET http://127.0.0.1:$PORT/hash/repo/targets/$SHA1.trusted_root.json"

# --- a repository without consistent snapshots --------------------------
python3 "$GEN" init "$SRV/plain" --no-consistent
python3 "$GEN" publish "$SRV/plain" "$ROOT1"
tuf refresh plain
tt_eq "consistent_snapshot false: plain file names" \
	"ok root=1 targets=1 sha256=$SHA1" "$OUT"

# --- the mirror down ------------------------------------------------------
kill "$HTTP_PID"
wait "$HTTP_PID" 2>/dev/null || true
tuf refresh rot
tt_eq "mirror down: the update fails" 1 "$RC"
tt_contains "... with a network error" "$OUT" "tg-tuf: network error: TUF mirror"
tuf cached rot
tt_eq "... the cache still gives the last verified target" \
	"ok root=4 targets=2 sha256=$SHA2" "$OUT"


tt_done
