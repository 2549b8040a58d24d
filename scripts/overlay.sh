#!/usr/bin/env bash
# Lay our files over QEMU's source tree (build/qemu-src) and take upstream's hw/nvme
# out of the build. What changes in QEMU's own files is all in scripts/qemu-glue.patch:
#  - hw/nvme is no longer built (our device registers the type names nvme, nvme-ns,
#    nvme-subsys); its trace events are dropped with it;
#  - upstream's include/block/nvme.h moves to include/block/nvme-upstream.h, and its
#    two other users (block/nvme.c, the VFIO userspace driver, and qga) include it
#    from there, so they build unchanged against the header they were written for;
#  - hw/block/meson.build builds our device; tests/qtest builds our nvme-test.
# Our files are symlinked, so editing one rebuilds incrementally. hw/block/trace-events
# is upstream's file followed by ours (regenerated only when either changes).
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

[ -f "$QEMU_SRC/VERSION" ] || die "no QEMU source in $QEMU_SRC: run scripts/setup.sh"
stamp="$QEMU_SRC/.nvme-overlay-applied"
if [ ! -f "$stamp" ]; then
    log "applying scripts/qemu-glue.patch to $QEMU_SRC"
    # Upstream's NVMe sources leave the tree (hw/nvme keeps its Kconfig) for
    # build/upstream-nvme, where the copy check compares our files with them.
    up="$BUILD/upstream-nvme"
    mkdir -p "$up/hw/nvme" "$up/include/block" "$up/tests/qtest"
    (cd "$QEMU_SRC" \
     && mv hw/nvme/*.[ch] "$up/hw/nvme/" \
     && cp include/block/nvme.h "$up/include/block/nvme.h" \
     && mv tests/qtest/nvme-test.c "$up/tests/qtest/nvme-test.c" \
     && mv include/block/nvme.h include/block/nvme-upstream.h \
     && cp hw/block/trace-events hw/block/trace-events.upstream \
     && patch -p1 --quiet < "$top/scripts/qemu-glue.patch") \
        || die "the glue patch does not apply: is this QEMU 10.0.x from Debian?"
    touch "$stamp"
fi

# Every file of ours under these directories goes into the tree as a symlink.
(cd "$top" && git ls-files -co --exclude-standard -- hw include tests/qtest qapi monitor) |
while read -r f; do
    case "$f" in hw/block/trace-events) continue ;; esac
    dst="$QEMU_SRC/$f"
    mkdir -p "$(dirname "$dst")"
    [ "$(readlink "$dst" 2>/dev/null)" = "$top/$f" ] || ln -sfn "$top/$f" "$dst"
done

events="$QEMU_SRC/hw/block/trace-events"
new=$(cat "$QEMU_SRC/hw/block/trace-events.upstream" "$top/hw/block/trace-events")
[ "$new" = "$(cat "$events")" ] || printf '%s\n' "$new" > "$events"
