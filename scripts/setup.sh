#!/usr/bin/env bash
# Install everything this project needs on a Debian 12 machine (apt only), and unpack
# QEMU's source (Debian's package, trixie, 10.0.x) into build/.
# Safe to run again: each step is skipped when its result is already there, and root
# is needed only when something must be installed (or the apt sources added).
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

# Build dependencies of QEMU (the feature set in README.md), firmware, guest tools;
# QEMU 10.0 needs meson >= 1.5, from bookworm-backports.
pkgs="gcc make ninja-build pkg-config flex bison dpkg-dev python3 python3-venv
      libglib2.0-dev libpixman-1-dev libslirp-dev libaio-dev liburing-dev libfdt-dev
      zlib1g-dev seabios qemu-system-data patch
      busybox-static nvme-cli fio cpio xz-utils zstd socat valgrind shellcheck"
backports="meson python3-pycotap"
src=/etc/apt/sources.list.d/nvme-subsys-project.sources

# The packages among "$@" that are not installed.
missing() {
    local ok p
    ok=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$@" 2>/dev/null \
         | awk '$1 == "ii" { print $2 }' || true)
    for p; do grep -qxF "$p" <<<"$ok" || echo "$p"; done
}
meson_ver() { dpkg-query -W -f='${Version}' meson 2>/dev/null || true; }

# shellcheck disable=SC2086 # word lists
need=$(missing $pkgs | xargs)
# shellcheck disable=SC2086
need_bp=$(missing $backports | xargs)
ver_ge "$(meson_ver)" 1.5 || need_bp=$backports
fetch=0
[ -f "$QEMU_ORIG/VERSION" ] || fetch=1
updated=0
if [ -n "$need$need_bp" ] || { [ "$fetch" = 1 ] && [ ! -f "$src" ]; }; then
    if [ "$(id -u)" != 0 ]; then
        [ -z "$need$need_bp" ] || die "run as root: apt-get must install $need $need_bp"
        die "run as root: it must add $src (apt sources for QEMU's source)"
    fi
    if [ ! -f "$src" ]; then
        # Our extra apt sources reuse the Debian mirror this machine is configured with.
        mirror=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
                 | grep -v security | grep -oE 'https?://[^ ]+/debian/?' | head -n 1 || true)
        [ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d}: add bookworm first"
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
    fi
    log "apt-get update"
    apt-get update -qq
    updated=1
    export DEBIAN_FRONTEND=noninteractive
    if [ -n "$need" ]; then
        log "installing: $need"
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $need >/dev/null
    fi
    if [ -n "$need_bp" ]; then
        log "installing from bookworm-backports: $need_bp"
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends -t bookworm-backports $need_bp >/dev/null
    fi
fi
ver_ge "$(meson_ver)" 1.5 || die "meson $(meson_ver) is too old: QEMU 10.0 needs >= 1.5 (bookworm-backports)"

# QEMU's source, as Debian ships it (apt-get source applies Debian's patch series).
if [ "$fetch" = 1 ]; then
    if [ "$updated" = 0 ] && [ "$(id -u)" = 0 ]; then log "apt-get update"; apt-get update -qq; fi
    log "fetching QEMU source: apt-get source qemu/trixie"
    tmp="$BUILD/qemu-orig.tmp"
    rm -rf "$tmp"; mkdir -p "$tmp"
    (cd "$tmp" && apt-get source -qq qemu/trixie >/dev/null) \
        || die "apt-get source qemu/trixie failed: run apt-get update as root (or this script as root) and retry"
    dir=$(find "$tmp" -maxdepth 1 -mindepth 1 -type d -name 'qemu-*' | head -n 1)
    [ -n "$dir" ] || die "apt-get source qemu/trixie unpacked nothing"
    rm -rf "$QEMU_ORIG"
    mv "$dir" "$QEMU_ORIG"
    rm -rf "$tmp"
fi
# The tree we build is a copy; the pristine one serves the reference build
# of scripts/bench.sh and the patch series test.
if [ ! -f "$QEMU_SRC/VERSION" ]; then
    log "copying $QEMU_ORIG to $QEMU_SRC"
    rm -rf "$QEMU_SRC"
    cp -a "$QEMU_ORIG" "$QEMU_SRC"
fi
qver=$(cat "$QEMU_SRC/VERSION")
case "$qver" in
    10.0.*) log "QEMU source $qver in $QEMU_SRC" ;;
    *) die "QEMU source is $qver, this project is built against 10.0.x: check the trixie deb-src entry" ;;
esac
