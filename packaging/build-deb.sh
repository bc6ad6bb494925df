#!/bin/sh
# `make deb`: build/pidvisor_VERSION_ARCH.deb with dpkg-deb from the static pidvisor, the
# man pages, the example config and packaging/deb/ (control, maintainer scripts offering
# supervisord and supervisorctl through update-alternatives, copyright, changelog).
# Usage: packaging/build-deb.sh VERSION STATIC-BINARY OUT-DIR   (environment: MAINTAINER)
set -eu

version=$1-1
static=$2
out=$3
maintainer=${MAINTAINER:-pidvisor maintainers <pidvisor@example.org>}
cd "$(dirname "$0")/.."
arch=$(dpkg --print-architecture)
root=$out/deb-root
rm -rf "$root"
umask 022

install -D -m 755 "$static" "$root/usr/bin/pidvisor"
strip --remove-section=.comment --remove-section=.note "$root/usr/bin/pidvisor"
doc=$root/usr/share/doc/pidvisor
for m in docs/pidvisor.8 docs/pidvisor-ctl.1 docs/pidvisor-check.1; do
	sec=${m##*.}
	install -D -m 644 "$m" "$root/usr/share/man/man$sec/${m##*/}"
	gzip -9n "$root/usr/share/man/man$sec/${m##*/}"
done
install -D -m 644 packaging/supervisord.conf "$doc/examples/supervisord.conf"
install -D -m 644 packaging/deb/copyright "$doc/copyright"
sed -e "s/@VERSION@/$version/" -e "s/@MAINTAINER@/$maintainer/" \
	-e "s/@DATE@/$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")/" \
	packaging/deb/changelog.in | gzip -9n >"$doc/changelog.Debian.gz"
chmod 644 "$doc/changelog.Debian.gz"
install -D -m 644 packaging/deb/lintian-overrides "$root/usr/share/lintian/overrides/pidvisor"

mkdir -p "$root/DEBIAN"
install -m 755 packaging/deb/postinst packaging/deb/prerm "$root/DEBIAN/"
(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
# glibc, libev, inih and expat are linked into the static binary: Built-Using names their
# source versions
built_using=$(dpkg-query -W -f='${source:Package} (= ${source:Version}), ' \
	libc6-dev libev-dev libinih-dev libexpat1-dev | sed 's/, $//')
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@MAINTAINER@/$maintainer/" \
	-e "s/@SIZE@/$size/" -e "s/@BUILT_USING@/$built_using/" packaging/deb/control.in >"$root/DEBIAN/control"
chmod 644 "$root/DEBIAN/control"

deb=$out/pidvisor_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
rm -rf "$root"
echo "$deb"
