#!/usr/bin/env bash
# The qtests under AddressSanitizer + UndefinedBehaviorSanitizer: builds QEMU (gcc,
# --enable-asan --enable-ubsan) in build/qemu-asan from the same source tree as
# build/qemu, incrementally, then runs every qtest of tests/qtest/nvme-qtests.list
# against it twice: the controllers in the main loop, then in an iothread. Fails on a failed test or on any sanitizer report, from the test
# process or the QEMU it spawns: each process logs to build/asan-logs/<test>/*.<pid>.
# Leaks are reported (LeakSanitizer at exit) except QEMU's own, listed in
# scripts/lsan-suppressions.txt. Ends with "asan: N passed, N failed".
#   scripts/asan.sh [--build-only]
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"
. "$top/scripts/tally.sh"
ASAN_BUILD="$BUILD/qemu-asan"

"$top/scripts/setup.sh"
"$top/scripts/overlay.sh"
t0=$SECONDS
if [ ! -f "$ASAN_BUILD/build.ninja" ]; then
    qemu_configure "$QEMU_SRC" "$ASAN_BUILD" --enable-asan --enable-ubsan
fi
log "building (ninja, ASan + UBSan)"
mapfile -t qtests < "$top/tests/qtest/nvme-qtests.list"
NINJA_STATUS='[%f/%t] ' nice -n 10 ninja -C "$ASAN_BUILD" qemu-system-x86_64 \
    "${qtests[@]/#/tests/qtest/}" 2>&1 | ninja_progress \
    || die "ASan build failed (ninja's output is above)"
log "build: $((SECONDS - t0)) s"
[ "${1:-}" = --build-only ] && exit 0

# abort_on_error: a memory error kills the process with SIGABRT, which libqtest
# reports (and a dead QEMU fails the test). exitcode=0: a leak found at exit is
# only logged, so that one leak does not end the remaining tests; the log decides.
# UBSan reports and goes on; the log decides too.
logs="$BUILD/asan-logs"
rm -rf "$logs"
t0=$SECONDS
# One qtest binary in one mode: main-loop, or iothread (QNVME_IOTHREAD=1,
# tests/qtest/libqos/nvme.c: every controller in an iothread, which other threads
# park to reach the device)
run_one() {
    local mode=$1 qtest=$2 name=$2 out rc=0 p f passed_before failed_before
    local mode_env=()
    if [ "$mode" = iothread ]; then
        name="$qtest-iothread"
        mode_env=(QNVME_IOTHREAD=1)
    fi
    log "qtests under ASan/UBSan: $name"
    mkdir -p "$logs/$name"
    out="$logs/$name.out"
    (cd "$ASAN_BUILD" && QTEST_QEMU_BINARY=./qemu-system-x86_64 \
        ASAN_OPTIONS="abort_on_error=1:exitcode=0:detect_leaks=1:log_path=$logs/$name/asan" \
        LSAN_OPTIONS="suppressions=$top/scripts/lsan-suppressions.txt:print_suppressions=0" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0:log_path=$logs/$name/ubsan" \
        nice -n 10 env "${mode_env[@]}" timeout 2400 "./tests/qtest/$qtest" --tap -k) \
        > "$out" 2>&1 || rc=$?
    # the TAP plan decides what never ran (a QEMU that died takes the rest)
    passed_before=$passed failed_before=$failed
    tap_count "$name (ASan/UBSan)" "$out" "$rc" || true     # not under set -e
    p=$((passed - passed_before)) f=$((failed - failed_before))
    passed=$passed_before failed=$failed_before
    # A log may hold only ASan's warning that it does not fully support swapcontext
    # (QEMU's coroutines): a report is an ERROR, a SUMMARY or a UBSan runtime error.
    for r in $(grep -lE 'ERROR: |SUMMARY: |runtime error: ' -r "$logs/$name" || true); do
        f=$((f + 1))
        echo "not ok - $name: sanitizer report in ${r#"$top"/}"
        grep -m 1 -E 'ERROR|SUMMARY|runtime error' "$r" | sed 's/^/#   /' || true
    done
    echo "$name (ASan/UBSan): $p passed, $f failed"
    passed=$((passed + p)) failed=$((failed + f))
}

for mode in main-loop iothread; do
    for qtest in "${qtests[@]}"; do
        run_one "$mode" "$qtest"
    done
done
log "run: $((SECONDS - t0)) s"
echo "asan: $passed passed, $failed failed"
[ "$failed" = 0 ]
