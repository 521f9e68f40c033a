#!/bin/bash
# Makes tests/data/cmssig/: two test CAs, leaf certificates with an email
# SAN, and detached CMS signatures over a commit-like payload made by
# `openssl cms -sign` (the form gitsign and smimesign write), for
# tests/unit/test_cmssig.c. Run once; the output is committed (no private
# keys are kept). Certificates are valid for 100 years from when it ran.
set -euo pipefail
out=${1:-$(dirname "$0")/../data/cmssig}
mkdir -p "$out"
cd "$out"
rm -f ./*
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp ../sshsig/payload ../sshsig/payload-other .
ca() { # ca NAME
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$tmp/$1.key" -out "$1.pem" -subj "/CN=$1" \
		-days 36500 \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign 2>/dev/null
}
leaf() { # leaf NAME CA EMAIL
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$tmp/$1.key" -out "$tmp/$1.csr" -subj "/CN=$1" 2>/dev/null
	printf 'subjectAltName=email:%s\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' \
		"$3" >"$tmp/$1.ext"
	openssl x509 -req -in "$tmp/$1.csr" -CA "$2.pem" -CAkey "$tmp/$2.key" \
		-CAcreateserial -out "$1.pem" -days 36500 \
		-extfile "$tmp/$1.ext" 2>/dev/null
}
sign() { # sign LEAF OUT: gitsign's armour
	openssl cms -sign -binary -in payload -signer "$1.pem" \
		-inkey "$tmp/$1.key" -outform PEM -out "$tmp/$2" 2>/dev/null
	sed -e 's/BEGIN CMS/BEGIN SIGNED MESSAGE/' -e 's/END CMS/END SIGNED MESSAGE/' \
		"$tmp/$2" >"$2"
}
ca ca1
ca ca2
leaf ci ca1 ci@acme.example
leaf other ca1 other@acme.example
leaf rogue ca2 ci@acme.example
sign ci sig-ci
sign other sig-other
sign rogue sig-rogue
openssl cms -sign -binary -nodetach -in payload -signer ci.pem \
	-inkey "$tmp/ci.key" -outform PEM -out sig-attached 2>/dev/null
rm -f ./*.srl
