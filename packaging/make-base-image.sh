#!/bin/sh
# Makes a local Debian base image from Debian packages, with no registry:
# mmdebstrap (minbase) writes a root file system as a tarball, docker import loads it.
# Usage: packaging/make-base-image.sh [--force] [TAG]     (TAG defaults to debian:bookworm)
# Does nothing when TAG exists, unless --force. DOCKER_HOST is honoured (docker's own variable).
# The suite is TAG's tag (debian:trixie -> trixie); the mirror is the host's: every apt source
# file of /etc/apt naming that suite, or MIRROR (a URI or a sources file) when it is set.
set -eu

force=no
tag=
for arg; do
	case "$arg" in
	--force) force=yes ;;
	-h | --help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "usage: $0 [--force] [TAG]" >&2; exit 2 ;;
	*) tag=$arg ;;
	esac
done
tag=${tag:-debian:bookworm}
case "$tag" in
*:*) suite=${tag##*:} ;;
*) echo "$0: $tag: give a tag naming the Debian suite (debian:bookworm)" >&2; exit 2 ;;
esac

if [ "$force" = no ] && docker image inspect "$tag" >/dev/null 2>&1; then
	echo "$tag: already there (--force to remake it)"
	exit 0
fi

# The host's sources for the suite: a list line "deb URI SUITE ..." or a deb822 "Suites:" field.
mirrors=${MIRROR:-}
if [ -z "$mirrors" ]; then
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		if grep -Eq "^[[:space:]]*(deb[[:space:]]+([[][^]]*[]][[:space:]]+)?[^[:space:]]+|Suites:.*)[[:space:]]$suite([[:space:]]|$)" "$f"; then
			mirrors="$mirrors $f"
		fi
	done
fi
if [ -z "$mirrors" ]; then
	echo "$0: no apt source for '$suite' in /etc/apt; set MIRROR=http://deb.debian.org/debian" >&2
	exit 1
fi

start=$(date +%s)
echo "$tag: mmdebstrap --variant=minbase $suite from$mirrors" >&2
# The tarball goes straight into docker import; pipefail is not POSIX, so each side's status is
# checked through a file.
status=$(mktemp)
trap 'rm -f "$status"' EXIT
{
	mmdebstrap --quiet --variant=minbase --format=tar "$suite" - $mirrors ||
		echo "mmdebstrap failed ($?)" >"$status"
} | docker import \
	--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'ENV LANG=C.UTF-8' \
	--change "LABEL org.opencontainers.image.description=\"Debian $suite minbase, by pidvisor's packaging/make-base-image.sh\"" \
	--message "mmdebstrap --variant=minbase $suite" - "$tag" >/dev/null
if [ -s "$status" ]; then
	echo "$0: $(cat "$status")" >&2
	docker image rm "$tag" >/dev/null 2>&1 || true
	exit 1
fi
echo "$tag: made in $(($(date +%s) - start))s" >&2
