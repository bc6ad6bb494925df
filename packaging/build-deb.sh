#!/bin/sh
# `make deb`: build/pidvisor_VERSION_ARCH.deb with dpkg-deb from the static pidvisor,
# pidvisor-image, the man pages, the example config and packaging/deb/ (control, copyright,
# changelog, lintian overrides).
# The package takes supervisor's place: Conflicts, Replaces and Provides supervisor, and ships
# /usr/bin/supervisord and supervisorctl as its own symlinks to pidvisor (with their man page
# links). Alternatives cannot do it: Debian's supervisor ships both names as real files, which
# update-alternatives refuses to replace, leaving Python's supervisord on the path while
# claiming pidvisor; and the two cannot share a machine anyway (same /etc/supervisor config,
# same socket, same service name).
# pidvisor-image links libyaml and inih dynamically: dpkg-shlibdeps writes its Depends.
# Usage: packaging/build-deb.sh VERSION STATIC-BINARY PIDVISOR-IMAGE OUT-DIR
# (environment: MAINTAINER)
set -eu

version=$1-1
static=$2
image_tool=$3
out=$4
maintainer=${MAINTAINER:-pidvisor maintainers <pidvisor@example.org>}
cd "$(dirname "$0")/.."
arch=$(dpkg --print-architecture)
root=$out/deb-root
rm -rf "$root"
umask 022

install -D -m 755 "$static" "$root/usr/bin/pidvisor"
install -D -m 755 "$image_tool" "$root/usr/bin/pidvisor-image"
for b in pidvisor pidvisor-image; do
	strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/$b"
done
ln -s pidvisor "$root/usr/bin/supervisord"
ln -s pidvisor "$root/usr/bin/supervisorctl"
# Debian's supervisor layout, which its left-over /etc/supervisor/supervisord.conf names (an
# [include] of conf.d/*.conf, the main log and child logs in /var/log/supervisor): dpkg removes
# them with supervisor when they are empty
install -d -m 755 "$root/etc/supervisor/conf.d" "$root/var/log/supervisor"
# where pidvisor-image looks for the static pidvisor it puts in images
mkdir -p "$root/usr/lib/pidvisor"
ln -s ../../bin/pidvisor "$root/usr/lib/pidvisor/pidvisor-static"
doc=$root/usr/share/doc/pidvisor
for m in docs/pidvisor.8 docs/pidvisor-ctl.1 docs/pidvisor-check.1 docs/pidvisor-image.1; do
	sec=${m##*.}
	install -D -m 644 "$m" "$root/usr/share/man/man$sec/${m##*/}"
	gzip -9n "$root/usr/share/man/man$sec/${m##*/}"
done
ln -s pidvisor.8.gz "$root/usr/share/man/man8/supervisord.8.gz"
ln -s pidvisor-ctl.1.gz "$root/usr/share/man/man1/supervisorctl.1.gz"
install -D -m 644 packaging/supervisord.conf "$doc/examples/supervisord.conf"
install -D -m 644 packaging/deb/copyright "$doc/copyright"
sed -e "s/@VERSION@/$version/" -e "s/@MAINTAINER@/$maintainer/" \
	-e "s/@DATE@/$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")/" \
	packaging/deb/changelog.in | gzip -9n >"$doc/changelog.Debian.gz"
chmod 644 "$doc/changelog.Debian.gz"
install -D -m 644 packaging/deb/lintian-overrides "$root/usr/share/lintian/overrides/pidvisor"

mkdir -p "$root/DEBIAN"
(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
# glibc, libev, inih and expat are linked into the static binary: Built-Using names their
# source versions
built_using=$(dpkg-query -W -f='${source:Package} (= ${source:Version}), ' \
	libc6-dev libev-dev libinih-dev libexpat1-dev | sed 's/, $//')
# dpkg-shlibdeps reads debian/control from its working directory: a minimal one
shlib=$(mktemp -d)
trap 'rm -rf "$shlib"' EXIT
mkdir "$shlib/debian"
printf 'Source: pidvisor\n\nPackage: pidvisor\nArchitecture: any\n' >"$shlib/debian/control"
image_bin=$(realpath "$root/usr/bin/pidvisor-image")
depends=$(cd "$shlib" && dpkg-shlibdeps -O "$image_bin" | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "$0: dpkg-shlibdeps found no dependency for pidvisor-image" >&2; exit 1; }
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@MAINTAINER@/$maintainer/" \
	-e "s/@SIZE@/$size/" -e "s/@BUILT_USING@/$built_using/" -e "s/@DEPENDS@/$depends/" \
	packaging/deb/control.in >"$root/DEBIAN/control"
chmod 644 "$root/DEBIAN/control"

deb=$out/pidvisor_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
rm -rf "$root"
echo "$deb"
