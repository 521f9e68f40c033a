# The Debian packages tollgate's build, tests and quickstart need, and a
# function that installs the missing ones. Sourced by tests/run.sh and
# examples/quickstart/run.sh:
#   . tests/lib/packages.sh
#   install_missing [PREFIX]    PREFIX names the caller in its one line
packages=(build-essential clang cmake pkg-config git openssl curl ca-certificates
	libgit2-dev libssl-dev libcurl4-openssl-dev libjansson-dev libyaml-dev
	libarchive-dev libcmocka-dev libmicrohttpd-dev
	docker-registry apache2-utils python3 python3-yaml python3-kubernetes
	python3-cryptography
	openssh-server gnupg gpgsm)

install_missing() {
	local prefix=${1:-run.sh} missing=() p sudo=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	# kubectl: any kubectl on PATH will do; Debian's is kubernetes-client.
	command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	echo "$prefix: installing ${missing[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Debian's docker-registry package starts a system registry on :5000;
# tollgate's tests and quickstart start their own on free ports.
stop_system_registry() {
	if command -v systemctl >/dev/null 2>&1; then
		systemctl stop docker-registry >/dev/null 2>&1 || true
	fi
}
