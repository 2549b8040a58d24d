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
    qemu_configure "$QEMU_SRC" "$QEMU_BUILD"
fi
log "building (ninja)"
qtests=$(sed 's|^|tests/qtest/|' "$top/tests/qtest/nvme-qtests.list")
# shellcheck disable=SC2086 # one word per qtest
NINJA_STATUS='[%f/%t] ' ninja -C "$QEMU_BUILD" qemu-system-x86_64 qemu-img $qtests "$@" 2>&1 \
    | ninja_progress || die "build failed (ninja's output is above)"
[ -x "$QEMU_BIN" ] || die "no $QEMU_BIN after the build"
