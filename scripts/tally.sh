# shellcheck shell=bash
# Counting for scripts/test.sh (sourced, not run; tests/scripts tests it): every test
# is a pass, a failure or a skip, and a test that never ran is a failure.
# SPDX-License-Identifier: GPL-2.0-or-later
passed=0 failed=0 skipped=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + ${3:-0})); }

# tap_count NAME LOG STATUS: count a TAP producer's output (LOG) and exit status.
# "ok" passes, "not ok" fails, either with "# SKIP" is a skip; the tests of the plan
# ("1..N") that never reported fail (the binary died), and so does a non-zero exit.
tap_count() {
    local name=$1 out=$2 rc=$3 p f s plan ran
    grep -E '^(ok|not ok) ' "$out"
    s=$(grep -ciE '^(ok|not ok) [^#]*# *skip' "$out" || true)
    p=$(grep -E '^ok ' "$out" | grep -cviE '^[^#]*# *skip' || true)
    f=$(grep -E '^not ok ' "$out" | grep -cviE '^[^#]*# *skip' || true)
    plan=$(sed -nE 's/^1\.\.([0-9]+).*/\1/p' "$out" | head -n 1)
    ran=$((p + f + s))
    if [ "${plan:-0}" = 0 ] && [ "$ran" = 0 ]; then
        echo "not ok - $name ran no test"; f=$((f + 1))
    elif [ -z "$plan" ]; then
        echo "not ok - $name printed no plan (1..N): how many tests it has is unknown"; f=$((f + 1))
    elif [ "$ran" -lt "$plan" ]; then
        echo "not ok - $name: $((plan - ran)) of its $plan tests never ran, each a failure"
        f=$((f + plan - ran))
    elif [ "$ran" -gt "$plan" ]; then
        echo "not ok - $name reported $ran tests, its plan $plan"; f=$((f + 1))
    fi
    if [ "$rc" != 0 ]; then
        [ "$f" != 0 ] || { echo "not ok - $name exited with status $rc"; f=1; }
        tail -n 20 "$out"
    fi
    echo "$name: $p passed, $f failed, $s skipped"
    count "$p" "$f" "$s"
}

# guest_count LOG STATUS TEST...: count the guest runner's output (LOG): its "PASS:"
# and "FAIL:" lines, which its summary "N passed, N failed" must match; a missing
# summary, a TEST that never finished (no "  TEST: N s" line) or a non-zero exit fail.
guest_count() {
    local out=$1 rc=$2 t p f s=0 line
    shift 2
    p=$(grep -c '^PASS: ' "$out" || true)
    f=$(grep -c '^FAIL: ' "$out" || true)
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
        s=${BASH_REMATCH[4]:-0}
        if [ "${BASH_REMATCH[1]}/${BASH_REMATCH[2]}" != "$p/$f" ]; then
            echo "not ok - guest tests: summary '$line', but $p PASS and $f FAIL lines"
            f=$((f + 1))
        fi
    else
        echo "not ok - guest tests: no summary line"; f=$((f + 1))
    fi
    for t; do
        grep -qE "^  $t: [0-9.]+ s$" "$out" || { echo "not ok - guest test $t never finished"; f=$((f + 1)); }
    done
    [ "$rc" = 0 ] || [ "$f" != 0 ] || { echo "not ok - guest tests exited with status $rc"; f=1; }
    echo "guest tests: $p passed, $f failed, $s skipped"
    count "$p" "$f" "$s"
}
