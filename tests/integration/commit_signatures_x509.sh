#!/usr/bin/env bash
# X.509-signed commits (policy commits: with an x509: signer) end to end:
# commits signed by real git with gpg.format=x509 and gpg.x509.program=
# gpgsm (GnuPG's CMS signer, as smimesign and gitsign write a commit's
# gpgsig) with certificates from test CAs made here and imported into a
# temporary gpgsm home. A certificate of the policy's CA with the policy's
# subject deploys; another subject from the same CA, and the same subject
# from another CA, are blocked (exit 3) with the cluster keeping the
# previous content.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start
. "$TG_SOURCE_DIR/tests/lib/commits.sh"

gpg_start
# no CRLs and no dirmngr: everything gpgsm needs is in its home
printf 'disable-crl-checks\ndisable-trusted-cert-crl-check\ndisable-dirmngr\n' \
	>"$GNUPGHOME/gpgsm.conf"
X=$TT_TMP/x509
mkdir -p "$X"
# ca NAME: a self-signed CA, trusted by gpgsm (trustlist.txt) for signing
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$X/$1.key" -out "$X/$1.pem" -days 30 -subj "/CN=$1" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	gpgsm --batch --import "$X/$1.pem" 2>/dev/null
	echo "$(openssl x509 -in "$X/$1.pem" -noout -fingerprint -sha1 |
		cut -d= -f2) S relax" >>"$GNUPGHOME/trustlist.txt"
}
# user NAME CA EMAIL: an RSA certificate for EMAIL from CA, imported with
# its key into gpgsm (PKCS#12 in the forms gpgsm 2.2 reads); sets
# NAME_fp to the certificate's fingerprint, which git uses as the key
user() {
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection,codeSigning\nsubjectAltName=email:%s\n' \
		"$3" >"$X/$1.ext"
	openssl req -newkey rsa:2048 -nodes -keyout "$X/$1.key" \
		-out "$X/$1.csr" -subj "/CN=$1" 2>/dev/null
	openssl x509 -req -in "$X/$1.csr" -CA "$X/$2.pem" -CAkey "$X/$2.key" \
		-CAcreateserial -out "$X/$1.pem" -days 30 -extfile "$X/$1.ext" 2>/dev/null
	printf -v "$1_fp" '%s' "$(openssl x509 -in "$X/$1.pem" -noout \
		-fingerprint -sha1 | cut -d= -f2 | tr -d :)"
	# The key goes in as PKCS#12 with an empty passphrase, given on
	# --passphrase-fd (with none, gpgsm ignores the agent's inquiry and
	# exits 2). gpgsm 2.2 fails to decrypt some of these files (about
	# one in thirty: "decryption failed", the same file every time, a
	# new export of the same key with a new salt and IV imports): only
	# the certificate arrives. So whether the key arrived is asked of
	# gpgsm, and the file exported anew and imported again when not.
	local fp=${1}_fp try
	for try in 1 2 3 4 5; do
		openssl pkcs12 -export -inkey "$X/$1.key" -in "$X/$1.pem" \
			-keypbe PBE-SHA1-3DES -certpbe NONE -macalg sha1 \
			-passout pass: -out "$X/$1.p12"
		printf '\n\n' | gpgsm --batch --pinentry-mode loopback \
			--passphrase-fd 0 --import "$X/$1.p12" 2>/dev/null || true
		# (gpgsm exits 0 whether or not it lists a key: a "crs"
		# record is a certificate with its secret key)
		gpgsm --batch --with-colons --list-secret-keys "0x${!fp}" \
			2>/dev/null | grep -q '^crs:' && return 0
	done
	echo "user: the key of $1 is not in gpgsm" >&2
	return 1
}
ca ca
ca other-ca
user bob ca bob@example.com
user carol ca carol@example.com
user dave other-ca bob@example.com
sign_opts() {
	local fp=${1}_fp
	echo "-c gpg.format=x509 -c gpg.x509.program=gpgsm -c user.signingkey=0x${!fp}"
}
COMMITS_SIGNERS="    - {name: ops, x509: {roots: $X/ca.pem, subject: bob@example.com}}"
commits_policy head

# 1. bob's certificate from the policy's CA: deployed, signer named
content v1
commit_as bob "v1"
tt_contains "git made a CMS signature with gpgsm" \
	"$(git -C "$W_WORK" cat-file -p HEAD)" "gpgsig -----BEGIN SIGNED MESSAGE-----"
once
tt_eq "a commit signed by bob's certificate deploys" 0 "$rc"
tt_contains "once names the signer" "$out" "commit: verified, signed by ops (x509"
tt_contains "once names the certificate" "$out" "CN=bob"
tt_eq "the cluster runs v1" v1 "$(live)"
tt_contains "status commit trailer names the signer" \
	"$(status_git log -1 --format=%B tollgate/status)" "Signed-By: ops (x509"

# 2. another subject from the same CA: blocked, v1 kept
content v2
commit_as carol "v2 by carol"
once
tt_eq "another subject exits 3" 3 "$rc"
tt_contains "the subject is named" "$out" "carol@example.com"
tt_eq "the cluster keeps v1" v1 "$(live)"

# 3. the policy's subject, but from another CA: blocked, v1 kept
content v3
commit_as dave "v3 by bob@example.com of another CA"
once
tt_eq "another CA exits 3" 3 "$rc"
tt_contains "the chain is the reason" "$out" "does not chain to the policy's roots"
tt_eq "the cluster still keeps v1" v1 "$(live)"

tt_done
