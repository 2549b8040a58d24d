#!/usr/bin/env bash
# Run every test: build what is missing, then the qtests (our host driver against the
# controller), the guest tests (a Linux guest on our device) and the tests of these
# scripts. Ends with one line: "N passed, N failed" (", N skipped" added when some
# were skipped). Exit status 0 only if none failed. A test that never ran (a binary
# that died, a guest test that never finished) counts as failed.
#   scripts/test.sh            everything
#   scripts/test.sh qtest      only the qtests (twice: main loop, then iothread=)
#   scripts/test.sh guest [names...]   only the guest tests (optionally some)
#   scripts/test.sh scripts    only the tests of scripts/, shellcheck on our shell
#                              scripts, and QEMU's checkpatch.pl on our files
#                              (scripts/checkpatch.sh; no build, seconds)
#   scripts/test.sh asan       only the qtests under ASan + UBSan (scripts/asan.sh)
#   scripts/test.sh series     only the patch series: git am on a pristine tree, a
#                              build after every patch, checkpatch on each
#                              (scripts/export-series.sh --check)
# SPDX-License-Identifier: GPL-2.0-or-later
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"
. "$top/scripts/tally.sh"

what=${1:-all}
[ $# -gt 0 ] && shift
case "$what" in all|qtest|guest|scripts|asan|series) ;; *) die "usage: $0 [all|qtest|guest [names...]|scripts|asan|series]" ;; esac
want() { [ "$what" = all ] || [ "$what" = "$1" ]; }

# A TAP producer (a qtest binary, the scripts' tests): run it, count its output.
run_tap() {
    local name=$1 out="$BUILD/$1.log"
    shift
    mkdir -p "$BUILD"
    log "$name"
    "$@" > "$out" 2>&1
    tap_count "$name" "$out" $?
}

built=1
if want qtest || want guest; then
    "$top/scripts/build.sh" || { built=0; echo "not ok - build failed"; count 0 1; }
fi

if want scripts; then
    run_tap scripts "$top/tests/scripts/test-scripts.sh"
    run_tap shellcheck "$top/tests/scripts/shellcheck.sh"
    # QEMU's style checker on every file a QEMU patch series would carry
    if [ -f "$QEMU_SRC/scripts/checkpatch.pl" ]; then
        run_tap checkpatch "$top/scripts/checkpatch.sh"
    else
        echo "ok - checkpatch # SKIP no QEMU source in $QEMU_SRC (scripts/setup.sh fetches it)"
        count 0 0 1
    fi
fi

# Twice: the controllers in the main loop, then every controller in an iothread
# (iothread=, which QNVME_IOTHREAD=1 adds: tests/qtest/libqos/nvme.c)
if want qtest && [ "$built" = 1 ]; then
    while read -r name; do
        run_tap "$name" env -C "$QEMU_BUILD" QTEST_QEMU_BINARY=./qemu-system-x86_64 \
            timeout 1200 "./tests/qtest/$name" --tap -k
    done < "$top/tests/qtest/nvme-qtests.list"
    while read -r name; do
        run_tap "$name-iothread" env -C "$QEMU_BUILD" QNVME_IOTHREAD=1 \
            QTEST_QEMU_BINARY=./qemu-system-x86_64 \
            timeout 1200 "./tests/qtest/$name" --tap -k
    done < "$top/tests/qtest/nvme-qtests.list"
fi

# The same qtests under AddressSanitizer and UBSan, in a build of their own
if want asan; then
    "$top/scripts/asan.sh" 2>&1 | tee "$BUILD/asan.log"
    line=$(grep -E '^asan: [0-9]+ passed, [0-9]+ failed' "$BUILD/asan.log" | tail -n 1)
    p=${line#asan: }; p=${p%% passed*}; f=${line#*, }; f=${f%% failed*}
    [ -n "$line" ] || { p=0; f=1; echo "not ok - asan: no summary line"; }
    count "$p" "$f"
fi

# The device as a QEMU patch series, applied to pristine QEMU and built patch by patch
if want series; then
    run_tap series "$top/scripts/export-series.sh" --check
fi

if want guest && [ "$built" = 1 ]; then
    out="$BUILD/guest.log"
    if "$top/scripts/guest-image.sh"; then
        /usr/bin/python3 "$top/tests/guest/run.py" "$@" 2>&1 | tee "$out"
        rc=$?
        mapfile -t tests < <(/usr/bin/python3 "$top/tests/guest/run.py" -l "$@")
        guest_count "$out" "$rc" "${tests[@]}"
    else
        echo "not ok - building the guest image failed"; count 0 1
    fi
fi

if [ "$what" = all ]; then
    # Our files must be written here: an outside checker compares them with upstream's
    # hw/nvme when it is there (COPYCHECK=path, copycheck on PATH, or ../shared/tools).
    cc=${COPYCHECK:-$(command -v copycheck || echo "$top/../shared/tools/copycheck")}
    if [ -x "$cc" ]; then
        out=$("$cc" "$top" "$BUILD/upstream-nvme" 2>&1); rc=$?
    else
        out="not found (COPYCHECK=path runs it)"; rc=2
    fi
    case $rc in
        0) echo "ok - copycheck: no run identical to QEMU's hw/nvme"; count 1 0 ;;
        2) echo "ok - copycheck # SKIP ${out##*$'\n'}"; count 0 0 1 ;;
        *) echo "$out" | tail -n 20
           echo "not ok - copycheck found runs identical to QEMU's hw/nvme"; count 0 1 ;;
    esac
fi

summary="$passed passed, $failed failed"
[ "$skipped" = 0 ] || summary+=", $skipped skipped"
echo "$summary"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
