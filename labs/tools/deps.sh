#!/bin/sh
# deps.sh — install the Debian/Ubuntu packages iolab needs.
#
#   labs/tools/deps.sh ensure    install only if something is missing (make runs this)
#   labs/tools/deps.sh install   install (or confirm) everything        (make deps)
#   labs/tools/deps.sh list      print the package list
#
# As root it runs apt-get directly; otherwise it says what and why, then uses sudo.
set -eu


PKGS="gcc make pkg-config libncurses-dev liburing-dev libcmocka-dev tmux gnuplot-nox iproute2 procps strace netcat-openbsd jq clang libclang-rt-14-dev libuv1-dev libevent-dev curl wrk nginx"

missing() {
	for p in $PKGS; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || printf '%s ' "$p"
	done
}

install() {
	pkgs=$1
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "iolab: missing packages: $pkgs" >&2
		echo "iolab: this is not a Debian/Ubuntu system (no apt-get); install the equivalents by hand." >&2
		exit 1
	fi
	if [ "$(id -u)" -eq 0 ]; then
		SUDO=
	elif command -v sudo >/dev/null 2>&1; then
		echo "iolab: installing missing packages with sudo apt-get: $pkgs" >&2
		echo "iolab: (needed to build the servers, the viewer and the tests; 'make deps' does the same)" >&2
		SUDO=sudo
	else
		echo "iolab: missing packages: $pkgs" >&2
		echo "iolab: not root and no sudo: run as root: apt-get install $pkgs" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $pkgs
}

case "${1:-ensure}" in
list)    echo "$PKGS" ;;
ensure)  m=$(missing); [ -z "$m" ] || install "$m" ;;
install) m=$(missing); if [ -n "$m" ]; then install "$m"; else echo "iolab: all packages present: $PKGS"; fi ;;
*)       echo "usage: $0 ensure|install|list" >&2; exit 2 ;;
esac
