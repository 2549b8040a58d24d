#!/usr/bin/env bash
# Build QEMU (Debian's 10.0.x source) with our NVMe device model laid over it.
# Incremental: the first run configures and builds everything (about 3 minutes on
# 2 cores); later runs relink only what our changed files touch.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

"$top/scripts/setup.sh"
"$top/scripts/overlay.sh"

if [ ! -f "$QEMU_BUILD/build.ninja" ]; then
    log "configuring QEMU in $QEMU_BUILD"
    mkdir -p "$QEMU_BUILD"
    # A headless test VM's feature set: KVM and TCG, Linux AIO and io_uring for
    # the block layer, user-mode networking, and the tools (qemu-img).
    (cd "$QEMU_BUILD" && "$QEMU_SRC/configure" \
        --python=/usr/bin/python3 \
        --target-list=x86_64-softmmu \
        --without-default-features \
        --enable-kvm --enable-tcg \
        --enable-linux-aio --enable-linux-io-uring \
        --enable-slirp --enable-fdt=system --enable-tools \
        --disable-install-blobs --disable-download \
        > "$QEMU_BUILD/../configure.log" 2>&1) \
        || { tail -n 30 "$BUILD/configure.log"; die "configure failed (log: $BUILD/configure.log)"; }
fi
log "building (ninja)"
qtests=$(sed 's|^|tests/qtest/|' "$top/tests/qtest/nvme-qtests.list")
# shellcheck disable=SC2086 # one word per qtest
ninja -C "$QEMU_BUILD" qemu-system-x86_64 qemu-img $qtests "$@" \
    | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Linking|Generating)' || true
[ "${PIPESTATUS[0]}" = 0 ] || die "build failed"
[ -x "$QEMU_BIN" ] || die "no $QEMU_BIN after the build"
