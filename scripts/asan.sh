#!/usr/bin/env bash
# The qtests under AddressSanitizer + UndefinedBehaviorSanitizer: builds QEMU (gcc,
# --enable-asan --enable-ubsan) in build/qemu-asan from the same source tree as
# build/qemu, incrementally, then runs every qtest of tests/qtest/nvme-qtests.list
# against it. Fails on a failed test or on any sanitizer report, from the test
# process or the QEMU it spawns: each process logs to build/asan-logs/<test>/*.<pid>.
# Leaks are reported (LeakSanitizer at exit) except QEMU's own, listed in
# scripts/lsan-suppressions.txt. Ends with "asan: N passed, N failed".
#   scripts/asan.sh [--build-only]
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"
ASAN_BUILD="$BUILD/qemu-asan"

"$top/scripts/setup.sh"
"$top/scripts/overlay.sh"
t0=$SECONDS
if [ ! -f "$ASAN_BUILD/build.ninja" ]; then
    log "configuring QEMU with ASan + UBSan in $ASAN_BUILD"
    mkdir -p "$ASAN_BUILD"
    # build.sh's feature set less the tools, plus the sanitizers.
    (cd "$ASAN_BUILD" && "$QEMU_SRC/configure" \
        --python=/usr/bin/python3 --target-list=x86_64-softmmu \
        --without-default-features --enable-kvm --enable-tcg \
        --enable-linux-aio --enable-linux-io-uring --enable-slirp --enable-fdt=system \
        --disable-install-blobs --disable-download \
        --enable-asan --enable-ubsan > "$BUILD/configure-asan.log" 2>&1) \
        || { tail -n 30 "$BUILD/configure-asan.log"; die "configure failed (log: $BUILD/configure-asan.log)"; }
fi
log "building (ninja, ASan + UBSan)"
mapfile -t qtests < "$top/tests/qtest/nvme-qtests.list"
nice -n 10 ninja -C "$ASAN_BUILD" qemu-system-x86_64 "${qtests[@]/#/tests/qtest/}" \
    | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Linking|Generating)' || true
[ "${PIPESTATUS[0]}" = 0 ] || die "ASan build failed"
log "build: $((SECONDS - t0)) s"
[ "${1:-}" = --build-only ] && exit 0

# abort_on_error: a memory error kills the process with SIGABRT, which libqtest
# reports (and a dead QEMU fails the test). exitcode=0: a leak found at exit is
# only logged, so that one leak does not end the remaining tests; the log decides.
# UBSan reports and goes on; the log decides too.
logs="$BUILD/asan-logs"
rm -rf "$logs"
passed=0 failed=0 t0=$SECONDS
for name in "${qtests[@]}"; do
    log "qtests under ASan/UBSan: $name"
    mkdir -p "$logs/$name"
    out="$logs/$name.out"
    rc=0
    (cd "$ASAN_BUILD" && QTEST_QEMU_BINARY=./qemu-system-x86_64 \
        ASAN_OPTIONS="abort_on_error=1:exitcode=0:detect_leaks=1:log_path=$logs/$name/asan" \
        LSAN_OPTIONS="suppressions=$top/scripts/lsan-suppressions.txt:print_suppressions=0" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0:log_path=$logs/$name/ubsan" \
        nice -n 10 timeout 2400 "./tests/qtest/$name" --tap -k) > "$out" 2>&1 || rc=$?
    grep -E '^(ok|not ok) ' "$out" || true
    p=$(grep -cE '^ok ' "$out" || true)
    f=$(grep -cE '^not ok ' "$out" || true)
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1; echo "not ok - $name exited with status $rc"; tail -n 20 "$out"
    fi
    [ "$p" -gt 0 ] || { f=$((f + 1)); echo "not ok - $name ran no test"; }
    # A log may hold only ASan's warning that it does not fully support swapcontext
    # (QEMU's coroutines): a report is an ERROR, a SUMMARY or a UBSan runtime error.
    for r in $(grep -lE 'ERROR: |SUMMARY: |runtime error: ' -r "$logs/$name" || true); do
        f=$((f + 1))
        echo "not ok - $name: sanitizer report in ${r#"$top"/}"
        grep -m 1 -E 'ERROR|SUMMARY|runtime error' "$r" | sed 's/^/#   /' || true
    done
    echo "$name (ASan/UBSan): $p passed, $f failed"
    passed=$((passed + p)) failed=$((failed + f))
done
log "run: $((SECONDS - t0)) s"
echo "asan: $passed passed, $failed failed"
[ "$failed" = 0 ]
