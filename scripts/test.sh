#!/usr/bin/env bash
# Run every test: build what is missing, then the qtests (our host driver
# against the controller) and the guest tests (a Linux guest on our device).
# Ends with one line: "N passed, N failed". Exit status 0 only if none failed.
#   scripts/test.sh            everything
#   scripts/test.sh qtest      only the qtests
#   scripts/test.sh guest [names...]   only the guest tests (optionally some)
#   scripts/test.sh asan       only the qtests under ASan + UBSan (scripts/asan.sh)
# SPDX-License-Identifier: GPL-2.0-or-later
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

what=${1:-all}
[ $# -gt 0 ] && shift
passed=0
failed=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); }

"$top/scripts/build.sh" || die "build failed"

# One qtest binary: its TAP lines, counted; a crash or a run with no test fails.
run_qtest() {
    local name=$1 out="$BUILD/$1.log" rc p f
    log "qtests: tests/qtest/$name"
    (cd "$QEMU_BUILD" && QTEST_QEMU_BINARY=./qemu-system-x86_64 \
        timeout 1200 "./tests/qtest/$name" --tap -k) > "$out" 2>&1
    rc=$?
    grep -E '^(ok|not ok) ' "$out"
    p=$(grep -cE '^ok ' "$out")
    f=$(grep -cE '^not ok ' "$out")
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1; echo "not ok - $name exited with status $rc"; tail -n 20 "$out"
    fi
    [ "$p" -gt 0 ] || { f=$((f + 1)); echo "not ok - $name ran no test"; }
    echo "$name: $p passed, $f failed"
    count "$p" "$f"
}

if [ "$what" = all ] || [ "$what" = qtest ]; then
    while read -r name; do
        run_qtest "$name"
    done < "$top/tests/qtest/nvme-qtests.list"
fi

if [ "$what" = all ] || [ "$what" = asan ]; then
    "$top/scripts/asan.sh" 2>&1 | tee "$BUILD/asan.log"
    line=$(grep -E '^asan: [0-9]+ passed, [0-9]+ failed' "$BUILD/asan.log" | tail -n 1)
    p=${line#asan: }; p=${p%% passed*}; f=${line#*, }; f=${f%% failed*}
    [ -n "$line" ] || { p=0; f=1; echo "not ok - asan: no summary line"; }
    count "$p" "$f"
fi

if [ "$what" = all ] || [ "$what" = guest ]; then
    "$top/scripts/guest-image.sh" || die "building the guest image failed"
    out="$BUILD/guest.log"
    /usr/bin/python3 "$top/tests/guest/run.py" "$@" 2>&1 | tee "$out"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    if [ -n "$line" ]; then
        p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
    else
        p=0; f=1; echo "guest tests: no summary line"
    fi
    echo "guest tests: $p passed, $f failed"
    count "$p" "$f"
fi

if [ "$what" = all ]; then
    # Our files must be written here: compare them with upstream's hw/nvme.
    cc="$top/../shared/tools/copycheck"
    if [ -x "$cc" ] && command -v duplicates >/dev/null 2>&1; then
        if out=$("$cc" "$top" "$BUILD/upstream-nvme" 2>&1); then
            echo "ok - copycheck: no run identical to QEMU's hw/nvme"; count 1 0
        else
            echo "$out" | tail -n 20
            echo "not ok - copycheck found runs identical to QEMU's hw/nvme"; count 0 1
        fi
    else
        echo "# copycheck not available here: skipped"
    fi
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
