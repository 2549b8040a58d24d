#!/usr/bin/env bash
# Install everything this project needs on a Debian 12 machine (root, apt only),
# and unpack QEMU's source (Debian's package, trixie, 10.0.x) into build/.
# Safe to run again: each step is skipped when its result is already there.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

[ "$(id -u)" = 0 ] || die "run as root: it installs packages with apt-get"

# Our extra apt sources reuse the Debian mirror this machine is already configured with.
mirror=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
         | grep -v security | grep -oE 'https?://[^ ]+/debian/?' | head -n 1 || true)
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d}: add bookworm first"
src=/etc/apt/sources.list.d/nvme-subsys-project.sources
if [ ! -f "$src" ]; then
    log "adding bookworm-backports (deb, deb-src) and trixie (deb-src only) from $mirror"
    cat > "$src" <<SRC
Types: deb deb-src
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    rm -f "$top/build/.apt-done"
fi

# Build dependencies of QEMU (the feature set in README.md), firmware, guest tools.
pkgs="gcc make ninja-build pkg-config flex bison dpkg-dev python3 python3-venv
      libglib2.0-dev libpixman-1-dev libslirp-dev libaio-dev liburing-dev libfdt-dev
      zlib1g-dev seabios qemu-system-data
      busybox-static nvme-cli fio cpio xz-utils zstd socat valgrind"
backports="meson python3-pycotap"
mkdir -p "$top/build"
if [ ! -f "$top/build/.apt-done" ]; then
    log "apt-get update"
    apt-get update -qq
    log "installing: $pkgs"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
    log "installing from bookworm-backports: $backports"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -t bookworm-backports $backports >/dev/null
    touch "$top/build/.apt-done"
fi
meson_ver=$(/usr/bin/python3 -c 'import mesonbuild.coredata as c; print(c.version)')
ver_ge "$meson_ver" 1.5 || die "meson $meson_ver is too old: QEMU 10.0 needs >= 1.5 (bookworm-backports)"

# QEMU's source, as Debian ships it (apt-get source applies Debian's patch series).
if [ ! -f "$QEMU_SRC/VERSION" ]; then
    log "fetching QEMU source: apt-get source qemu/trixie"
    tmp="$top/build/qemu-src.tmp"
    rm -rf "$tmp"; mkdir -p "$tmp"
    (cd "$tmp" && apt-get source -qq qemu/trixie >/dev/null)
    dir=$(find "$tmp" -maxdepth 1 -mindepth 1 -type d -name 'qemu-*' | head -n 1)
    [ -n "$dir" ] || die "apt-get source qemu/trixie unpacked nothing"
    rm -rf "$QEMU_SRC"
    mv "$dir" "$QEMU_SRC"
    rm -rf "$tmp"
fi
qver=$(cat "$QEMU_SRC/VERSION")
case "$qver" in
    10.0.*) log "QEMU source $qver in $QEMU_SRC" ;;
    *) die "QEMU source is $qver, this project is built against 10.0.x: check the trixie deb-src entry" ;;
esac
