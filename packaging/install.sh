#!/bin/sh
# `make install` and `make uninstall`: pidvisor, pidvisor-image, the static pidvisor that
# pidvisor-image puts in images, the man pages and an example config.
# Usage: packaging/install.sh install|uninstall
# (environment, from the Makefile: DESTDIR PREFIX LINKS FORCE_LINKS LINK_NAMES)
# With LINKS=1 the LINK_NAMES (supervisord, supervisorctl, tini, dumb-init) become symlinks to
# pidvisor; a name that is already a real file (or a link elsewhere) is kept, with a warning,
# unless FORCE_LINKS=1. Uninstall removes only what install puts: a name that is not a symlink
# to pidvisor is left alone.
set -eu

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
LINKS=${LINKS:-0}
FORCE_LINKS=${FORCE_LINKS:-0}
cd "$(dirname "$0")/.."

root=$DESTDIR$PREFIX
bindir=$root/bin
libdir=$root/lib/pidvisor
mandir=$root/share/man
exdir=$root/share/doc/pidvisor/examples
link_names=${LINK_NAMES:?set by the Makefile}

# source, destination, mode: one line per installed file
files() {
	echo "build/pidvisor $bindir/pidvisor 755"
	echo "build/pidvisor-image $bindir/pidvisor-image 755"
	echo "build/pidvisor-static $libdir/pidvisor-static 755"
	for m in docs/*.1 docs/*.8; do
		echo "$m $mandir/man${m##*.}/${m##*/} 644"
	done
	echo "packaging/supervisord.conf $exdir/supervisord.conf 644"
}

ours() { [ -L "$1" ] && [ "$(readlink "$1")" = pidvisor ]; }

install_all() {
	files | while read -r src dst mode; do
		[ -f "$src" ] || { echo "install: $src is missing: run make first" >&2; exit 1; }
		install -D -m "$mode" "$src" "$dst"
	done
	[ "$LINKS" = 1 ] || return 0
	for n in $link_names; do
		l=$bindir/$n
		if ours "$l"; then
			continue
		elif [ -e "$l" ] || [ -L "$l" ]; then
			if [ "$FORCE_LINKS" != 1 ]; then
				echo "install: $l exists and is not pidvisor's: kept (FORCE_LINKS=1 replaces it)" >&2
				continue
			fi
			rm -f "$l"
		fi
		ln -s pidvisor "$l"
	done
}

uninstall_all() {
	for n in $link_names; do
		if ours "$bindir/$n"; then rm -f "$bindir/$n"; fi
	done
	files | while read -r src dst mode; do
		rm -f "$dst"
	done
	for d in "$libdir" "$exdir" "$root/share/doc/pidvisor"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null || true
	done
}

case "${1:-}" in
install) install_all ;;
uninstall) uninstall_all ;;
*) echo "usage: $0 install|uninstall" >&2; exit 2 ;;
esac
