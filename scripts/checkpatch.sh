#!/usr/bin/env bash
# QEMU's own style checker, scripts/checkpatch.pl from QEMU's source, on every file of
# ours that a QEMU patch series would carry: hw/block/nvme*.[ch], include/block/nvme.h,
# tests/qtest/nvme-*.[ch], tests/qtest/libqos/nvme.[ch] and qapi/nvme.json (git ls-files,
# from the repository's top).
# Prints TAP: a plan, one "ok"/"not ok" line per file and, under a file that fails,
# each of its findings as a "#" line. A file fails on any ERROR or WARNING (or when it
# cannot be checked); the exit status is 0 only if no file failed.
#   scripts/checkpatch.sh              the files above
#   scripts/checkpatch.sh FILE...      these files instead
# CHECKPATCH=path runs that checkpatch.pl instead of the one in $QEMU_SRC.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

checkpatch=${CHECKPATCH:-$QEMU_SRC/scripts/checkpatch.pl}
[ -f "$checkpatch" ] \
    || die "$checkpatch not found: scripts/setup.sh fetches QEMU's source (or set CHECKPATCH=path)"

if [ $# -gt 0 ]; then
    files=("$@")
else
    cd "$top"
    list=$(git ls-files 'hw/block/nvme*.c' 'hw/block/nvme*.h' include/block/nvme.h \
        'tests/qtest/nvme-*.c' 'tests/qtest/nvme-*.h' 'tests/qtest/libqos/nvme.[ch]' \
        qapi/nvme.json)
    [ -n "$list" ] || die "no file to check in $top"
    mapfile -t files <<< "$list"
fi

echo "1..${#files[@]}"
n=0 bad=0
for f in "${files[@]}"; do
    n=$((n + 1))
    rc=0 findings=''
    if [ -f "$f" ]; then
        # --strict: a warning fails checkpatch.pl too; --terse: one line per finding
        out=$(perl "$checkpatch" --no-tree --strict --terse --no-summary --color=never \
            -f "$f" 2>&1) || rc=$?
        findings=$(grep -E '(ERROR|WARNING): ' <<< "$out" || true)
        # a failure that names no finding is shown as checkpatch.pl said it
        [ "$rc" = 0 ] || [ -n "$findings" ] \
            || findings="checkpatch.pl failed (exit status $rc): $out"
    else
        findings="$f: no such file"
    fi
    if [ -z "$findings" ]; then
        echo "ok $n - checkpatch: $f"
    else
        echo "not ok $n - checkpatch: $f"
        while IFS= read -r line; do echo "#   $line"; done <<< "$findings"
        bad=$((bad + 1))
    fi
done
[ "$bad" = 0 ] || { log "$bad of $n files have checkpatch findings"; exit 1; }
