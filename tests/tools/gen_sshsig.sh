#!/bin/bash
# Makes tests/data/sshsig/: OpenSSH keys and sshsig signatures made by the
# real ssh-keygen over a commit-like payload, for tests/unit/test_sshsig.c.
# Run once; the output is committed (private keys are test-only).
set -euo pipefail
out=${1:-$(dirname "$0")/../data/sshsig}
mkdir -p "$out"
cd "$out"
rm -f ./*
printf 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\ndeploy v1\n' >payload
printf 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\ndeploy v2\n' >payload-other
for t in ed25519 ecdsa256 ecdsa384 rsa; do
	case $t in
	ed25519) a=(-t ed25519) ;;
	ecdsa256) a=(-t ecdsa -b 256) ;;
	ecdsa384) a=(-t ecdsa -b 384) ;;
	rsa) a=(-t rsa -b 3072) ;;
	esac
	ssh-keygen -q "${a[@]}" -N '' -C "$t@example.com" -f "key-$t"
	ssh-keygen -q -Y sign -n git -f "key-$t" payload
	mv payload.sig "sig-$t"
done
ssh-keygen -q -t ed25519 -N '' -C other -f key-other
ssh-keygen -q -Y sign -n git -f key-other payload
mv payload.sig sig-other
ssh-keygen -q -Y sign -n file -f key-ed25519 payload
mv payload.sig sig-ed25519-ns-file
ssh-keygen -q -Y sign -n git -O hashalg=sha256 -f key-rsa payload
mv payload.sig sig-rsa-sha256
cat key-*.pub | grep -v other >keys.pub
rm -f key-ed25519 key-ecdsa256 key-ecdsa384 key-rsa key-other
{
	echo "# team"
	echo "alice@example.com namespaces=\"git\" $(cut -d' ' -f1,2 key-ed25519.pub)"
	echo "bob@example.com,carol@example.com valid-after=\"20230101\",valid-before=\"20231101Z\" $(cut -d' ' -f1,2 key-ecdsa256.pub)"
	echo "dave@example.com namespaces=\"file\" $(cut -d' ' -f1,2 key-ecdsa384.pub)"
	echo "\"erin@example.com\" $(cut -d' ' -f1,2 key-rsa.pub) erin's laptop"
} >allowed_signers
