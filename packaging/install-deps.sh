#!/bin/sh
# Installs what building and testing pidvisor needs on Debian bookworm.
# Usage: packaging/install-deps.sh build|test|image
# Does nothing when every package is already there, so make can call it every time.
set -eu

build_pkgs="gcc make pkg-config libev-dev libinih-dev libexpat1-dev libyaml-dev"
test_pkgs="$build_pkgs clang clang-format libclang-rt-14-dev libcmocka-dev python3-pytest python3-pytest-xdist python3-psutil python3-yaml supervisor tini dumb-init s6 runit chromium python3-websocket python3-prometheus-client util-linux procps strace stress-ng php-fpm postgresql"
image_pkgs="$test_pkgs docker.io mmdebstrap busybox-static lintian dpkg-dev podman uidmap"

case "${1:-build}" in
build) want=$build_pkgs ;;
test) want=$test_pkgs ;;
image) want=$image_pkgs ;;
*) echo "usage: $0 build|test|image" >&2; exit 2 ;;
esac

# kubectl (tests/image/test_kubectl.py): Debian's kubernetes-client, unless a kubectl is there
# already (the package would conflict with another vendor's)
if [ "${1:-build}" = image ] && ! command -v kubectl >/dev/null 2>&1; then
	want="$want kubernetes-client"
fi

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "pidvisor: missing Debian packages:$missing" >&2
	echo "pidvisor: run 'sudo $0 $1' or install them yourself" >&2
	exit 1
fi
echo "pidvisor: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# supervisor's package would start a system supervisord; policy-rc.d keeps it from doing so.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends $missing >/dev/null
