#!/usr/bin/env bash
# tollgate verify: each attestation condition passing and failing against
# Debian's docker-registry: a scan older than maxScanAge, an SBOM with a
# denied license, SLSA v1 provenance from the expected builder and from
# another, and an image older than maxImageAge.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/registry.sh"

TGB=("python3" "$TG_SOURCE_DIR/tests/tools/tg-image-batch")
tt_start_registry
R=$REGISTRY
K=$TT_TMP/release.pem
openssl ecparam -name prime256v1 -genkey -noout -out "$K" 2>/dev/null
openssl ec -in "$K" -pubout -out "$TT_TMP/release.pub" 2>/dev/null
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
old=$(date -u -d '10 days ago' +%Y-%m-%dT%H:%M:%SZ)

scan() { # FILE FINISHED
	printf '%s\n' '{"scanner": {"uri": "pkg:github/aquasecurity/trivy@0.45.0", "version": "0.45.0",' \
		' "result": {"SchemaVersion": 2, "Results": [{"Target": "app",' \
		'  "Vulnerabilities": [{"VulnerabilityID": "CVE-2023-0002", "PkgName": "zlib", "Severity": "LOW"}]}]}},' \
		" \"metadata\": {\"scanStartedOn\": \"$2\", \"scanFinishedOn\": \"$2\"}}" >"$1"
}
spdx() { # FILE LICENSE
	printf '%s\n' '{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "app",' \
		" \"creationInfo\": {\"created\": \"$now\"}," \
		" \"packages\": [{\"name\": \"readline\", \"versionInfo\": \"8.2\", \"licenseConcluded\": \"$2\"}]}" >"$1"
}
slsa() { # FILE BUILDER
	printf '%s\n' '{"buildDefinition": {"buildType": "https://actions.github.io/buildtypes/workflow/v1",' \
		' "externalParameters": {"workflow": {"ref": "refs/tags/v1", "repository": "https://github.com/acme/app",' \
		'   "path": ".github/workflows/release.yml"}},' \
		' "resolvedDependencies": [{"uri": "git+https://github.com/acme/app@refs/tags/v1",' \
		'   "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"}}]},' \
		" \"runDetails\": {\"builder\": {\"id\": \"$2\"}, \"metadata\": {\"invocationId\": \"1\"}}}" >"$1"
}
scan "$TT_TMP/fresh.json" "$now"
scan "$TT_TMP/stale.json" "$old"
spdx "$TT_TMP/mit.json" MIT
spdx "$TT_TMP/gpl.json" "GPL-3.0-only"
slsa "$TT_TMP/gha.json" https://github.com/actions/runner/github-hosted
slsa "$TT_TMP/other.json" https://ci.example.com/untrusted

VULN=https://cosign.sigstore.dev/attestation/vuln/v1
SPDX=https://spdx.dev/Document
SLSA=https://slsa.dev/provenance/v1
{
	for n in scan-fresh scan-stale lic-ok lic-gpl prov-ok prov-bad age-new age-old; do
		c=""
		[ "$n" = age-old ] && c="--created 2020-01-01T00:00:00Z"
		[ "$n" = age-new ] && c="--created $now"
		echo "push $R/c/$n:v1 --content $n $c"
		echo "sign $R/c/$n:v1 --key $K"
	done
	echo "attest $R/c/scan-fresh:v1 --key $K --predicate-type $VULN --predicate $TT_TMP/fresh.json"
	echo "attest $R/c/scan-stale:v1 --key $K --predicate-type $VULN --predicate $TT_TMP/stale.json"
	echo "attest $R/c/lic-ok:v1 --key $K --predicate-type $SPDX --predicate $TT_TMP/mit.json"
	echo "attest $R/c/lic-gpl:v1 --key $K --predicate-type $SPDX --predicate $TT_TMP/gpl.json"
	echo "attest $R/c/prov-ok:v1 --key $K --predicate-type $SLSA --predicate $TT_TMP/gha.json"
	echo "attest $R/c/prov-bad:v1 --key $K --predicate-type $SLSA --predicate $TT_TMP/other.json"
} | "${TGB[@]}" >/dev/null

rule() { # NAME GLOB EXTRA...
	printf '  - name: %s\n    images: ["%s"]\n' "$1" "$2"
	printf '    signatures: {authorities: [{name: release, key: release.pub}]}\n'
	shift 2
	printf '%s\n' "$@"
}
{
	printf 'apiVersion: tollgate.dev/v1alpha1\nkind: Policy\n'
	printf 'registries:\n  allowed: [%s/]\nrules:\n' "$R"
	rule scans "$R/c/scan-*" "    attestations:" \
		"      vulnerabilities: {required: true, maxSeverity: high, maxScanAge: 7d}"
	rule licenses "$R/c/lic-*" "    attestations:" \
		"      sbom: {required: true, deniedLicenses: [GPL-3.0-only]}"
	rule provenance "$R/c/prov-*" "    attestations:" \
		'      provenance: {required: true, builderIdRegExp: "^https://github.com/actions/runner/"}'
	rule age "$R/c/age-*" "    maxImageAge: 90d"
} >"$TT_TMP/policy.yaml"

check() { # NAME EXPECTED-RC REASON-FRAGMENT
	tt_run OUT RC "$TG_BIN" verify --policy "$TT_TMP/policy.yaml" \
		--insecure-registry "$R" "$R/c/$1:v1"
	tt_eq "$1: exit $2" "$2" "$RC"
	[ -z "$3" ] || tt_contains "$1: reason" "$OUT" "$3"
}
check scan-fresh 0 ""
check scan-stale 3 "older than"
check lic-ok 0 ""
check lic-gpl 3 "GPL-3.0-only"
check prov-ok 0 ""
check prov-bad 3 "https://ci.example.com/untrusted"
check age-new 0 ""
check age-old 3 "2020-01-01"
tt_done
