#!/bin/bash
# Makes tests/data/openpgp/: OpenPGP keys and detached signatures made by
# the real GnuPG over a commit-like payload, for tests/unit/test_openpgp.c
# and the fuzz seeds, then the hostile variants of bad/ (pgp_mutate.py).
# Run once; the output is committed (no private key is kept). Times are
# faked so the data is stable: 2026-01-01 for every key but erin's,
# which was made on 2020-01-01 and expired a day later.
set -euo pipefail
out=$(cd "${1:-$(dirname "$0")/../data/openpgp}" && pwd)
tools=$(cd "$(dirname "$0")" && pwd)
export GNUPGHOME=$(mktemp -d)
trap 'gpgconf --kill gpg-agent; rm -rf "$GNUPGHOME"' EXIT
T='--faked-system-time 20260101T000000!'
gpg_() { gpg --batch --quiet --no-greeting --pinentry-mode loopback --passphrase '' "$@"; }
fpr() { gpg_ --list-keys --with-colons "$1" | awk -F: '/^fpr/{print $10; exit}'; }
sub() { gpg_ --list-keys --with-colons "$1" | awk -F: '/^fpr/{n++} /^fpr/&&n==2{print $10; exit}'; }
cd "$out"
rm -rf ./*
printf 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@example.com> 1767229200 +0000\ncommitter A <a@example.com> 1767229200 +0000\n\ndeploy v1\n' >payload
printf 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@example.com> 1767229200 +0000\ncommitter A <a@example.com> 1767229200 +0000\n\ndeploy v2\n' >payload-other

gen() { gpg_ $T --quick-gen-key "$1" "$2" "$3" never; }
gen 'Alice <alice@example.com>' ed25519 sign
gen 'Bob <bob@example.com>' rsa3072 cert
gpg_ $T --quick-add-key "$(fpr bob@)" rsa3072 sign never
gen 'Carol <carol@example.com>' nistp256 sign
gen 'Dave <dave@example.com>' nistp384 sign
gen 'Frank <frank@example.com>' ed25519 sign
gen 'Gina <gina@example.com>' ed25519 cert
gpg_ $T --quick-add-key "$(fpr gina@)" ed25519 sign never
gen 'Mallory <mallory@example.com>' ed25519 sign
gpg_ --faked-system-time '20200101T000000!' --quick-gen-key \
	'Erin <erin@example.com>' ed25519 sign 1d

sign() { gpg_ $T -u "$1" "${@:3}" -o "$2" -bsa payload; }
sign alice@ sig-alice
sign alice@ sig-alice-sha512 --digest-algo SHA512
sign "$(sub bob@)!" sig-bob
sign "$(sub bob@)!" sig-bob-sha1 --digest-algo SHA1
sign carol@ sig-carol
sign dave@ sig-dave
sign frank@ sig-frank
sign "$(sub gina@)!" sig-gina
sign mallory@ sig-other
gpg_ --faked-system-time '20200101T010000!' -u erin@ -o sig-erin -bsa payload

for k in alice bob carol dave erin gina; do
	gpg_ --armor --export "$k@" >"$k.asc"
done
# frank revokes his key (the certificate gpg made with it, reason 0)
sed 's/^:-----/-----/' "$GNUPGHOME/openpgp-revocs.d/$(fpr frank@).rev" |
	gpg_ --import
gpg_ --armor --export frank@ >frank.asc
# gina's signing subkey becomes an authentication subkey
printf 'key 1\nchange-usage\nS\nA\nQ\nsave\n' |
	gpg_ --faked-system-time '20260102T000000!' --expert --command-fd 0 --edit-key "$(fpr gina@)" >/dev/null
gpg_ --armor --export gina@ >gina-sub-auth.asc
# a DSA primary key is of an algorithm that never signs here
gpg_ $T --quick-gen-key 'Dsa <dsa@example.com>' dsa2048 sign never
gpg_ --armor --export dsa@ >dsa.asc
# an RSA key under 2048 bits
gpg_ $T --quick-gen-key 'Weak <weak@example.com>' rsa1024 sign never
gpg_ --armor --export weak@ >weak.asc
cat alice.asc bob.asc carol.asc dave.asc erin.asc frank.asc gina.asc >keys.asc
python3 "$tools/pgp_mutate.py" "$out"
# (tests/data/policy/bad/commits-openpgp.yaml names alice's fingerprint: update it when this runs again)
