#!/usr/bin/env bash
# The verdict cache never serves an allowed verdict past the earliest time
# it depended on (issue 13): an exception's expiry, maxScanAge and
# maxImageAge. Three images are allowed at 23:59:30 of today (the test
# clock, TOLLGATE_TEST_CLOCK_OFFSET), each only until 23:59:59: one by an
# exception that expires today, one by a scan that becomes maxScanAge old
# then, one by an image that becomes maxImageAge old then. A second
# `once` before that time is answered from the cache kept in stateDir (the
# verdict keeps its first verifiedAt); a third one after it verifies each
# image again, blocks it, and says why the cached verdict was not used.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start

today=$(date -u +%Y-%m-%d)
end=$(date -u -d "$today 23:59:59" +%s)
at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
day_before=$(at $((end - 86400)))

# scan FILE SEVERITY|none FINISHED: a Trivy-style vuln/v1 predicate.
scan() {
	python3 - "$@" <<'PY'
import json, sys
path, sev, finished = sys.argv[1:4]
vulns = [] if sev == "none" else [{
    "VulnerabilityID": "CVE-2026-0013", "PkgName": "openssl",
    "InstalledVersion": "3.0.1", "FixedVersion": "3.0.2",
    "Severity": sev, "Title": "a test vulnerability"}]
pred = {"scanner": {"uri": "pkg:github/aquasecurity/trivy@v0.57.1",
                    "version": "0.57.1",
                    "result": {"SchemaVersion": 2, "Results": [
                        {"Target": "app", "Vulnerabilities": vulns}]}},
        "metadata": {"scanStartedOn": finished, "scanFinishedOn": finished}}
json.dump(pred, open(path, "w"))
PY
}
scan "$TT_TMP/critical.json" CRITICAL "$(at $((end - 3600)))"
scan "$TT_TMP/clean-old.json" none "$day_before"
VULN=https://cosign.sigstore.dev/attestation/vuln/v1
python3 "$TG_SOURCE_DIR/tests/tools/tg-image-batch" >/dev/null <<BATCH
push $REGISTRY/c/exc:1 --content exc
sign $REGISTRY/c/exc:1 --key $W_KEY
attest $REGISTRY/c/exc:1 --key $W_KEY --predicate-type $VULN --predicate $TT_TMP/critical.json
push $REGISTRY/c/scan:1 --content scan
sign $REGISTRY/c/scan:1 --key $W_KEY
attest $REGISTRY/c/scan:1 --key $W_KEY --predicate-type $VULN --predicate $TT_TMP/clean-old.json
push $REGISTRY/c/age:1 --content age --created $day_before
sign $REGISTRY/c/age:1 --key $W_KEY
BATCH

rule() { # NAME GLOB LINES...
	printf '  - name: %s\n    images: ["%s"]\n' "$1" "$2"
	printf '    signatures: {authorities: [{name: release-key, key: %s}]}\n' "$W_PUB"
	shift 2
	printf '%s\n' "$@"
}
{
	printf 'apiVersion: tollgate.dev/v1alpha1\nkind: Policy\n'
	printf 'registries:\n  allowed: [%s/]\nrules:\n' "$REGISTRY"
	rule exc "$REGISTRY/c/exc" "    attestations:" \
		"      vulnerabilities: {required: true, maxSeverity: high}"
	rule scan "$REGISTRY/c/scan" "    attestations:" \
		"      vulnerabilities: {required: true, maxSeverity: high, maxScanAge: 1d}"
	rule age "$REGISTRY/c/age" "    maxImageAge: 1d"
	cat <<POLICY
exceptions:
  - name: exc-cve
    images: ["$REGISTRY/c/exc"]
    waive: [vulnerabilities]
    reason: "vendor fix due, ticket SEC-13"
    approvedBy: security@example.com
    expires: "$today"
POLICY
} >"$W_POLICY"

P=$W_WORK/clusters/prod
for u in exc scan age; do
	mkdir -p "$P/$u"
	{ world_namespace "$u"; world_deployment "$u" app "$REGISTRY/c/$u:1"; } >"$P/$u/app.yaml"
done
world_commit "three units"

# once_at SECONDS-BEFORE-END: one cycle with the clock at end - SECONDS.
once_at() {
	export TOLLGATE_TEST_CLOCK_OFFSET=$((end - $1 - $(date +%s)))
	set +e
	OUT=$("$TG_BIN" once --config "$W_CONFIG" --health-timeout 0 \
		--output json 2>>"$TT_TMP/once.log")
	RC=$?
	set -e
	echo "$OUT" >>"$TT_TMP/once.log"
}
# fields: F[unit.key] from the JSON output, one python run per cycle:
# verdict, verifiedAt, validUntil, why (what bounds it), notes (of the
# check the bound came from), reasons.
declare -A F
CHECK_OF=(exc:vulnerabilities scan:vulnerabilities age:age)
fields() {
	local k v
	F=()
	while IFS=$'\t' read -r k v; do
		F[$k]=$v
	done < <(printf '%s' "$OUT" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
for uc in sys.argv[1:]:
    u, c = uc.split(":")
    i = doc["units"][u]["images"][0]
    chk = [x for x in i["checks"] if x["name"] == c][0]
    row = {"verdict": i["verdict"], "verifiedAt": i["verifiedAt"],
           "validUntil": i.get("validUntil", ""),
           "why": chk.get("validUntil", {}).get("reason", ""),
           "notes": " | ".join(chk["notes"]),
           "reasons": " | ".join(i.get("reasons", []))}
    for k, v in row.items():
        print("%s.%s\t%s" % (u, k, v))' "${CHECK_OF[@]}")
}

# 1. Allowed at 23:59:30, each until 23:59:59 and saying why.
once_at 29
tt_eq "first once: every unit applied" 0 "$RC"
fields
declare -A first
for u in exc scan age; do
	tt_eq "$u: allowed" allowed "${F[$u.verdict]}"
	tt_eq "$u: valid until the end of today" "${today}T23:59:59Z" \
		"${F[$u.validUntil]}"
	first[$u]=${F[$u.verifiedAt]}
done
tt_contains "exc: bounded by its exception" "${F[exc.why]}" \
	'exception "exc-cve" expires'
tt_contains "scan: bounded by maxScanAge" "${F[scan.why]}" "maxScanAge"
tt_contains "age: bounded by maxImageAge" "${F[age.why]}" "maxImageAge"
tt_contains "the cache file keeps the bound" \
	"$(cat "$W_STATE/verdict-cache.json")" "\"validUntil\":$end"

# 2. At 23:59:50 the cached verdicts are served (their first verifiedAt).
once_at 9
tt_eq "second once: nothing blocked" 0 "$RC"
fields
for u in exc scan age; do
	tt_eq "$u: served from the cache before its bound" "${first[$u]}" \
		"${F[$u.verifiedAt]}"
done

# 3. At 00:00:20 of tomorrow: verified again, blocked, and said why.
once_at -21
tt_eq "third once: blocked" 3 "$RC"
fields
tomorrow=$(at $((end + 1)) | cut -dT -f1)
for uc in "${CHECK_OF[@]}"; do
	u=${uc%%:*} c=${uc#*:}
	tt_eq "$u: blocked after its bound" blocked "${F[$u.verdict]}"
	tt_contains "$u: verified again (tomorrow)" "${F[$u.verifiedAt]}" \
		"${tomorrow}T00:00:"
	tt_contains "$u: the $c check says why the cache was not used" \
		"${F[$u.notes]}" \
		"the cached verdict of ${first[$u]} was not used: it held until ${today}T23:59:59Z"
done
tt_contains "exc: the expired exception is the reason" "${F[exc.notes]}" \
	'exception "exc-cve" expired'
tt_contains "scan: too old" "${F[scan.reasons]}" "older than maxScanAge"
tt_contains "age: too old" "${F[age.reasons]}" "older than maxImageAge"
tt_contains "the applied deployment stays as it was" \
	"$(kc get deployment app -n exc -o jsonpath='{.spec.template.spec.containers[0].image}')" \
	"$REGISTRY/c/exc:1@sha256:"
tc_stop_check
tt_done
