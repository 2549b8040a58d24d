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
# ninja's "[done/total] what" lines become progress: one updating line on a terminal,
# a line every 10 % in a log. Every other line (a failed command, the compiler's
# errors) is shown as it is; a ninja failure fails this script, whatever binaries exist.
progress() {
    local line n t pct last=0 next=10 tty=0 open=0
    [ -t 1 ] && tty=1
    while IFS= read -r line; do
        if [[ $line =~ ^\[([0-9]+)/([0-9]+)\]\ (.*) ]]; then
            n=${BASH_REMATCH[1]} t=${BASH_REMATCH[2]}
            pct=$((t > 0 ? n * 100 / t : 100))
            [ "$n" -ge "$last" ] || next=10     # ninja starts again after regenerating
            last=$n
            if [ "$tty" = 1 ]; then
                printf '\r\033[K[build.sh] %s/%s %3d%% %.50s' "$n" "$t" "$pct" "${BASH_REMATCH[3]}"
                open=1
            elif [ "$pct" -ge "$next" ]; then
                printf '[build.sh] %3d%% (%s/%s)\n' "$pct" "$n" "$t"
                next=$((pct / 10 * 10 + 10))
            fi
        elif [[ $line != "ninja: Entering directory"* ]]; then
            [ "$open" = 0 ] || { printf '\n'; open=0; }
            printf '%s\n' "$line"
        fi
    done
    [ "$open" = 0 ] || printf '\n'
}
qtests=$(sed 's|^|tests/qtest/|' "$top/tests/qtest/nvme-qtests.list")
# shellcheck disable=SC2086 # one word per qtest
NINJA_STATUS='[%f/%t] ' ninja -C "$QEMU_BUILD" qemu-system-x86_64 qemu-img $qtests "$@" 2>&1 \
    | progress || die "build failed (ninja's output is above)"
[ -x "$QEMU_BIN" ] || die "no $QEMU_BIN after the build"
