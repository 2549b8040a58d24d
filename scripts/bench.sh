#!/usr/bin/env bash
# The benchmark (not a test): our NVMe device against QEMU's own NVMe device and
# virtio-blk, all built from the same Debian QEMU source, in one run, as ratios.
#   scripts/bench.sh [bench.py options]   e.g. --rounds 3, --only callgrind
# Builds what is missing: our QEMU (scripts/build.sh) and, once, a reference QEMU
# from the pristine source (build/qemu-orig, upstream's hw/nvme) in build/qemu-ref.
# Then scripts/bench/bench.py measures (instructions per command under callgrind,
# fio in a guest, where QEMU's CPU time goes under perf, a large subsystem's
# start-up) and writes docs/performance.md.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

"$top/scripts/build.sh"
"$top/scripts/guest-image.sh"
# perf for the profile part only: the tests do not need it
if ! perf --version >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "run as root: apt-get must install linux-perf"
    log "installing linux-perf"
    apt-get install -y -q linux-perf >/dev/null || die "apt-get install linux-perf failed"
fi

REF_BUILD="$BUILD/qemu-ref"
if [ ! -f "$REF_BUILD/build.ninja" ]; then
    qemu_configure "$QEMU_ORIG" "$REF_BUILD"
fi
log "building the reference QEMU (upstream's nvme) in $REF_BUILD"
NINJA_STATUS='[%f/%t] ' ninja -C "$REF_BUILD" qemu-system-x86_64 2>&1 \
    | ninja_progress || die "reference build failed (ninja's output is above)"

exec /usr/bin/python3 "$top/scripts/bench/bench.py" \
    --ours "$QEMU_BIN" --upstream "$REF_BUILD/qemu-system-x86_64" "$@"
