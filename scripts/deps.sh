#!/usr/bin/env bash
# Install the Debian packages ferry needs, only those that are missing.
#   scripts/deps.sh           build + test dependencies (make check, make demo)
#   scripts/deps.sh bench     also what bench/compare measures against
#   scripts/deps.sh audit     also what make audit runs
set -euo pipefail

pkgs=(build-essential cmake ninja-build pkg-config
      libssl-dev openssl libsqlite3-dev libargon2-dev libevent-dev libcmocka-dev
      clang libclang-rt-14-dev valgrind curl python3 jq util-linux procps
      tshark tcpdump)
# The authd integration tests read its database with the sqlite3 shell.
pkgs+=(sqlite3)
# sd_notify for the daemons (Type=notify units).
pkgs+=(libsystemd-dev)
# The EST client: libcurl built on OpenSSL (its SSL_CTX is ferry's to set up);
# t_proxy runs a real HTTP proxy.
pkgs+=(libcurl4-openssl-dev tinyproxy-bin)
# Packaging and service files: the .deb (t_deb), the units (t_units:
# systemd-analyze), zsh completion (t_install), libseccomp for the sandbox.
pkgs+=(debhelper dpkg-dev fakeroot lintian systemd zsh man-db libseccomp-dev)
for group in "$@"; do
	case "$group" in
	bench) pkgs+=(openssh-server openssh-client rsync nginx-light) ;;
	audit) pkgs+=(testssl.sh) ;;
	*) echo "deps.sh: unknown group '$group' (known: bench, audit)" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "deps.sh: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections 2>/dev/null || true
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
