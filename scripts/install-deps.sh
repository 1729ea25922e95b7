#!/bin/sh
# Installs the Debian packages that Vigil's build and tests need, only those
# that are missing.  Idempotent; quiet when there is nothing to do.
# systemd gives the tests systemd-analyze (unit files) and prometheus gives
# them promtool (GET /metrics); neither daemon is started.
set -eu

PKGS="make gcc pkg-config libssl-dev libjansson-dev libsqlite3-dev libcurl4-openssl-dev
node-llhttp libcmocka-dev python3 python3-pytest clang-14 libclang-rt-14-dev openssl
procps iproute2 tar systemd prometheus"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install:$missing" >&2; exit 1; }
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
