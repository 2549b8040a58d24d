#!/usr/bin/env bash
# Lay our files over QEMU's source tree (build/qemu-src) and take upstream's hw/nvme
# out of the build. What changes in QEMU's own files is all in scripts/qemu-glue.patch:
#  - hw/nvme is no longer built (our device registers the type names nvme, nvme-ns,
#    nvme-subsys); its trace events are dropped with it;
#  - upstream's include/block/nvme.h moves to include/block/nvme-upstream.h, and its
#    two other users (block/nvme.c, the VFIO userspace driver, and qga) include it
#    from there, so they build unchanged against the header they were written for;
#  - hw/block/meson.build builds our device; tests/qtest builds our qtests and
#    tests/qtest/libqos their host driver.
# The patch is tried on a scratch copy of the files it touches first: if it does not
# apply, nothing in the tree changes. The tree keeps a copy of the patch it holds
# (.nvme-glue.patch) and its sha256 (the stamp); when qemu-glue.patch changes, the old
# one is reversed and the new one applied, again on the scratch copy first, and only
# the files whose content changes are written (rebuilds stay incremental).
# Our files are symlinked, so editing one rebuilds incrementally. hw/block/trace-events
# is upstream's file followed by ours (regenerated only when either changes).
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

[ -f "$QEMU_SRC/VERSION" ] || die "no QEMU source in $QEMU_SRC: run scripts/setup.sh"
glue="$top/scripts/qemu-glue.patch"
kept="$QEMU_SRC/.nvme-glue.patch"        # the patch this tree holds
stamp="$QEMU_SRC/.nvme-overlay-applied"  # its sha256
want=$(sha256sum < "$glue" | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
restart="delete build/qemu-src, build/qemu and build/upstream-nvme, then run scripts/build.sh (it fetches QEMU's source again)"

if [ "$have" != "$want" ]; then
    old=
    if [ -f "$kept" ]; then
        old=$kept
        log "qemu-glue.patch changed since $QEMU_SRC was overlaid: reversing the old patch, applying the new one"
    elif [ -f "$stamp" ]; then
        # An older overlay.sh stamped the tree without keeping its patch: the tree
        # should hold today's, which reversing it (on the scratch copy) checks.
        old=$glue
        log "$QEMU_SRC was overlaid by an older overlay.sh: checking that it holds today's qemu-glue.patch"
    else
        log "applying scripts/qemu-glue.patch to $QEMU_SRC"
    fi
    scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
    files=$(cat "$glue" ${old:+"$old"} | sed -nE 's#^(---|\+\+\+) [^/[:space:]]+/([^[:space:]]+).*#\2#p' | sort -u)
    for f in $files; do
        [ ! -e "$QEMU_SRC/$f" ] || { mkdir -p "$scratch/$(dirname "$f")"; cp -p "$QEMU_SRC/$f" "$scratch/$f"; }
    done
    if [ -n "$old" ] && ! out=$(cd "$scratch" && patch -p1 -R -f -s --no-backup-if-mismatch < "$old" 2>&1); then
        printf '%s\n' "$out" >&2
        die "$QEMU_SRC no longer matches the glue patch it was overlaid with (${old#"$top/"}); nothing was changed. To start over: $restart"
    fi
    if ! out=$(cd "$scratch" && patch -p1 -f -s --no-backup-if-mismatch < "$glue" 2>&1); then
        printf '%s\n' "$out" >&2
        die "scripts/qemu-glue.patch does not apply to $QEMU_SRC (QEMU $(cat "$QEMU_SRC/VERSION")); nothing was changed. Fix the patch (patch -p1 in Debian's QEMU 10.0.x source) and run again; if the tree itself is not as fetched (edited, or half-patched by an older overlay.sh): $restart"
    fi
    if [ ! -f "$QEMU_SRC/include/block/nvme-upstream.h" ]; then
        # Upstream's NVMe sources leave the tree (hw/nvme keeps its Kconfig) for
        # build/upstream-nvme, where the copy check compares our files with them.
        up="$BUILD/upstream-nvme"
        mkdir -p "$up/hw/nvme" "$up/include/block" "$up/tests/qtest"
        (cd "$QEMU_SRC" \
         && mv hw/nvme/*.[ch] "$up/hw/nvme/" \
         && cp include/block/nvme.h "$up/include/block/nvme.h" \
         && mv tests/qtest/nvme-test.c "$up/tests/qtest/nvme-test.c" \
         && cp hw/block/trace-events hw/block/trace-events.upstream \
         && mv include/block/nvme.h include/block/nvme-upstream.h)
    fi
    changed=
    for f in $files; do        # write only what changed: the rest keeps its timestamp
        if [ -e "$scratch/$f" ]; then
            cmp -s "$scratch/$f" "$QEMU_SRC/$f" || { cp "$scratch/$f" "$QEMU_SRC/$f"; changed+=" $f"; }
        elif [ -e "$QEMU_SRC/$f" ]; then
            rm "$QEMU_SRC/$f"; changed+=" $f"
        fi
    done
    cp "$glue" "$kept"
    echo "$want" > "$stamp"
    log "qemu-glue.patch (sha256 ${want:0:16}...) applied; files written:${changed:- none}"
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
