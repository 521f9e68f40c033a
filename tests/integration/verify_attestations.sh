#!/usr/bin/env bash
# tollgate verify with attestations (DSSE envelopes at sha256-<hex>.att):
# required SBOM and vulnerability scan, attestations by an unknown key or
# for another image, a scan above maxSeverity, an exception that waives it,
# an expired exception, and a rule in warn mode. A policy that requires an
# attestation never passes without one.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/registry.sh"

TGB=("python3" "$TG_SOURCE_DIR/tests/tools/tg-image-batch")
tt_start_registry
R=$REGISTRY
for k in release stranger; do
	openssl ecparam -name prime256v1 -genkey -noout -out "$TT_TMP/$k.pem" 2>/dev/null
	openssl ec -in "$TT_TMP/$k.pem" -pubout -out "$TT_TMP/$k.pub" 2>/dev/null
done
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)

cat >"$TT_TMP/spdx.json" <<EOF
{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "api",
 "creationInfo": {"created": "$now"},
 "packages": [{"name": "openssl", "versionInfo": "3.0.11",
   "licenseConcluded": "Apache-2.0"}]}
EOF
vuln() { # FILE SEVERITY-OF-CVE-2023-0001
	cat >"$1" <<-EOF
	{"scanner": {"uri": "pkg:github/aquasecurity/trivy@0.45.0", "version": "0.45.0",
	  "result": {"SchemaVersion": 2, "Results": [{"Target": "api",
	    "Vulnerabilities": [{"VulnerabilityID": "CVE-2023-0001",
	      "PkgName": "openssl", "Severity": "$2"}]}]}},
	 "metadata": {"scanStartedOn": "$now", "scanFinishedOn": "$now"}}
	EOF
}
vuln "$TT_TMP/vuln-low.json" LOW
vuln "$TT_TMP/vuln-critical.json" CRITICAL

SPDX=https://spdx.dev/Document
VULN=https://cosign.sigstore.dev/attestation/vuln/v1
# Set up in two batches (tg-image-batch: one python process each).
names=(none good stranger subject critical oldexc soft)
mapfile -t D < <(for n in "${names[@]}"; do
	echo "push $R/acme/$n:v1 --content $n"
done | "${TGB[@]}")
[ "${#D[@]}" -eq 7 ] || { echo "setup failed: ${D[*]}" >&2; exit 1; }
d_none=${D[0]} d_good=${D[1]} d_subj=${D[3]} d_crit=${D[4]} d_old=${D[5]}
K=$TT_TMP/release.pem
"${TGB[@]}" >/dev/null <<EOF
$(for n in "${names[@]}"; do echo "sign $R/acme/$n:v1 --key $K"; done)
attest $R/acme/good:v1 --key $K --predicate-type $SPDX --predicate $TT_TMP/spdx.json
attest $R/acme/good:v1 --key $K --predicate-type $VULN --predicate $TT_TMP/vuln-low.json --statement v0.1
attest $R/acme/stranger:v1 --key $TT_TMP/stranger.pem --predicate-type $SPDX --predicate $TT_TMP/spdx.json
attest $R/acme/stranger:v1 --key $K --predicate-type $VULN --predicate $TT_TMP/vuln-low.json
attest $R/acme/subject:v1 --key $K --predicate-type $SPDX --predicate $TT_TMP/spdx.json --subject-digest $d_good
attest $R/acme/subject:v1 --key $K --predicate-type $VULN --predicate $TT_TMP/vuln-low.json
attest $R/acme/critical:v1 --key $K --predicate-type $SPDX --predicate $TT_TMP/spdx.json
attest $R/acme/critical:v1 --key $K --predicate-type $VULN --predicate $TT_TMP/vuln-critical.json
attest $R/acme/oldexc:v1 --key $K --predicate-type $SPDX --predicate $TT_TMP/spdx.json
attest $R/acme/oldexc:v1 --key $K --predicate-type $VULN --predicate $TT_TMP/vuln-critical.json
EOF

cat >"$TT_TMP/policy.yaml" <<EOF
apiVersion: tollgate.dev/v1alpha1
kind: Policy
registries:
  allowed: [$R/]
rules:
  - name: soft
    images: ["$R/acme/soft"]
    mode: warn
    signatures:
      authorities: [{name: release, key: release.pub}]
    attestations:
      sbom: {required: true}
  - name: acme
    images: ["$R/acme/**"]
    signatures:
      authorities: [{name: release, key: release.pub}]
    attestations:
      sbom: {required: true, formats: [spdx, cyclonedx]}
      vulnerabilities: {required: true, maxSeverity: high, maxScanAge: 7d}
exceptions:
  - name: api-openssl
    images: ["$R/acme/critical@$d_crit"]
    waive: [vulnerabilities]
    reason: "vendor fix due next week, ticket SEC-1"
    approvedBy: security@example.com
    expires: 2999-12-31
  - name: old-waiver
    images: ["$R/acme/oldexc@$d_old"]
    waive: [vulnerabilities]
    reason: "long gone"
    approvedBy: security@example.com
    expires: 2020-01-01
EOF

verify() { # OUT RC images...
	tt_run "$1" "$2" "$TG_BIN" verify --policy "$TT_TMP/policy.yaml" \
		--insecure-registry "$R" "${@:3}"
}
field() { # JSON-FILE CHECK KEY -> value of the check's key (result, ...)
	python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))["verdicts"][0]
c=[c for c in v["checks"] if c["name"]==sys.argv[2]]
print(c[0][sys.argv[3]] if c else "absent")' "$@"
}

# Signed but without attestations: the required ones fail.
verify out rc "$R/acme/none:v1"
tt_eq "no attestations: blocked" 3 "$rc"
tt_contains "no attestations: sbom reason" "$out" \
	"$R/acme/none@$d_none: sbom: no SBOM (SPDX or CycloneDX) attestation signed by the rule's authorities (tag sha256-${d_none#sha256:}.att)"
tt_contains "no attestations: vulnerabilities reason" "$out" \
	"vulnerabilities: no vulnerability scan ($VULN) attestation"

# SBOM and scan signed by the rule's key, for this digest: allowed.
verify out rc --output json "$R/acme/good:v1"
tt_eq "good attestations: allowed" 0 "$rc"
printf '%s' "$out" >"$TT_TMP/good.json"
tt_eq "good attestations: sbom passes" pass "$(field "$TT_TMP/good.json" sbom result)"
tt_eq "good attestations: vulnerabilities pass" pass "$(field "$TT_TMP/good.json" vulnerabilities result)"
ev=$(python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))["verdicts"][0]
c=[c for c in v["checks"] if c["name"]=="sbom"][0]["evidence"]["attestation"]
print(c["authority"], c["predicateType"], c["digest"].startswith("sha256:"))' "$TT_TMP/good.json")
tt_eq "good attestations: evidence names the signer" "release $SPDX True" "$ev"

# SBOM attested by a key the rule does not trust.
verify out rc "$R/acme/stranger:v1"
tt_eq "sbom by unknown key: blocked" 3 "$rc"
tt_contains "sbom by unknown key: says why" "$out" \
	"sbom: attestation 1: no signature of the DSSE envelope verifies (key \"release\""

# SBOM whose statement is about another image.
verify out rc "$R/acme/subject:v1"
tt_eq "sbom for another digest: blocked" 3 "$rc"
tt_contains "sbom for another digest: says why" "$out" \
	"sbom: attestation 1: the statement's subjects do not include $d_subj"

# A critical finding above maxSeverity high, waived by an active exception.
verify out rc --output json "$R/acme/critical:v1"
tt_eq "critical CVE waived by exception: allowed" 0 "$rc"
printf '%s' "$out" >"$TT_TMP/crit.json"
tt_eq "critical CVE: vulnerabilities waived" waived "$(field "$TT_TMP/crit.json" vulnerabilities result)"
tt_contains "critical CVE: the waiver is named" "$(field "$TT_TMP/crit.json" vulnerabilities notes)" \
	'waived by exception "api-openssl": vendor fix due next week, ticket SEC-1 (approved by security@example.com, expires 2999-12-31)'
tt_contains "critical CVE: the finding stays in the reasons" "$(field "$TT_TMP/crit.json" vulnerabilities reasons)" \
	"CVE-2023-0001"
# The same scan with an expired exception: blocked, the expiry said.
verify out rc --output json "$R/acme/oldexc:v1"
tt_eq "expired exception: blocked" 3 "$rc"
printf '%s' "$out" >"$TT_TMP/old.json"
tt_contains "expired exception: noted" "$(field "$TT_TMP/old.json" vulnerabilities notes)" \
	'exception "old-waiver" expired on 2020-01-01'

# Warn mode: the missing SBOM warns, exit 0.
verify out rc "$R/acme/soft:v1"
tt_eq "warn mode: exit 0" 0 "$rc"
tt_contains "warn mode: warned" "$out" "$R/acme/soft:v1: warned"
tt_contains "warn mode: reason shown" "$out" "sbom: no SBOM"

tt_done
