#!/usr/bin/env bash
# QEMU's generic fuzzer (libFuzzer, ASan + UBSan) on our device. Builds what is missing
# (clang, --enable-fuzzing, in build/qemu-fuzz from build/qemu-src), then fuzzes one
# configuration for the given time and prints executions, exec/s and findings.
#   scripts/fuzz.sh [ctrl|subsys|pool] [seconds] fuzz (default: ctrl, 600 s)
#   scripts/fuzz.sh repro CONFIG FILE             a finding as a qtest trace, replayed
#   scripts/fuzz.sh args CONFIG                   print the configuration's QEMU arguments
# Configurations: ctrl = one controller on a null-co drive throttled to 1 IOPS in virtual
# time (I/O stays in flight across register writes until the fuzzer steps the clock);
# subsys = nvme-subsys with ANA, two controllers, a shared namespace (ANA group 1,
# throttled) and one private to the first controller; pool = nvme-subsys with ANA and a
# capacity pool (Namespace Management), two controllers, a shared namespace (throttled).
# No iothread= configuration: generic-fuzz's DMA hook is not thread-safe (docs/security.md).
# Seeds: scripts/fuzz-seeds.py.
# Per configuration, build/fuzz/CONFIG/ holds corpus/ (kept across runs), crashes/
# (reproducers: crash-*, timeout-*, oom-*), fuzz.log and the copy of the fuzzer binary
# the run uses. See docs/security.md.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"
FUZZ_BUILD="$BUILD/qemu-fuzz"
FUZZ_BIN="$FUZZ_BUILD/qemu-fuzz-x86_64"

config_args() {
    # Firmware from Debian's seabios and qemu-system-data, as the qtests take it.
    local fw="-L /usr/share/seabios -L /usr/share/qemu"
    local slow="driver=null-co,read-zeroes=on,size=16M,throttling.iops-total=1"
    case "$1" in
    ctrl) echo "$fw -M q35 -nodefaults -drive if=none,id=d0,$slow" \
               "-device nvme,id=c0,serial=fuzz0,drive=d0" ;;
    subsys) echo "$fw -M q35 -nodefaults -drive if=none,id=d0,$slow" \
                 "-drive if=none,id=d1,driver=null-co,read-zeroes=on,size=4M" \
                 "-device nvme-subsys,id=s0,ana=true" \
                 "-device nvme,id=c0,serial=fuzz0,subsys=s0,ioeventfd=on" \
                 "-device nvme,id=c1,serial=fuzz1,subsys=s0" \
                 "-device nvme-ns,drive=d0,nsid=1,subsys=s0,ana.grpid=1" \
                 "-device nvme-ns,drive=d1,nsid=2,bus=c0" ;;
    pool) echo "$fw -M q35 -nodefaults -drive if=none,id=d0,$slow" \
               "-drive if=none,id=p0,driver=null-co,read-zeroes=on,size=4G" \
               "-device nvme-subsys,id=s0,ana=true,pool=p0" \
               "-device nvme,id=c0,serial=fuzz0,subsys=s0" \
               "-device nvme,id=c1,serial=fuzz1,subsys=s0" \
               "-device nvme-ns,drive=d0,nsid=1,subsys=s0,ana.grpid=1" ;;
    *) die "unknown configuration '$1' (ctrl, subsys or pool)" ;;
    esac
}
# The objects whose MMIO, PCI config space and DMA the fuzzer drives: every memory
# region of each controller (BAR0 "nvme", the MSI-X table and PBA in BAR4).
export QEMU_FUZZ_OBJECTS=nvme

build() {
    "$top/scripts/setup.sh"
    "$top/scripts/overlay.sh"
    if ! command -v clang >/dev/null || ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
        log "installing clang and libFuzzer (libclang-rt-dev)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            clang libclang-rt-dev >/dev/null
    fi
    if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
        log "configuring QEMU (clang, libFuzzer, ASan, UBSan) in $FUZZ_BUILD"
        mkdir -p "$FUZZ_BUILD"
        (cd "$FUZZ_BUILD" && CC=clang CXX=clang++ "$QEMU_SRC/configure" \
            --python=/usr/bin/python3 --target-list=x86_64-softmmu \
            --without-default-features --enable-kvm --disable-tcg --enable-fdt=system \
            --disable-install-blobs --disable-download \
            --enable-fuzzing --enable-asan --enable-ubsan > "$BUILD/configure-fuzz.log" 2>&1) \
            || { tail -n 30 "$BUILD/configure-fuzz.log"; die "configure failed (log: $BUILD/configure-fuzz.log)"; }
    fi
    log "building qemu-fuzz-x86_64 (ninja)"
    nice -n 10 ninja -C "$FUZZ_BUILD" qemu-fuzz-x86_64 \
        | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Linking|Generating)' || true
    [ "${PIPESTATUS[0]}" = 0 ] || die "fuzzer build failed"
}

# UBSan reports count as crashes. No leak detection: QEMU and the harness leak a little
# on every input, so LeakSanitizer would scan the heap after each one (10 times slower);
# our device's leaks are the ASan qtests' job (scripts/asan.sh).
export ASAN_OPTIONS=detect_leaks=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

fuzz() {
    local cfg=$1 secs=$2 dir="$BUILD/fuzz/$1"
    QEMU_FUZZ_ARGS=$(config_args "$cfg"); export QEMU_FUZZ_ARGS
    build
    mkdir -p "$dir/corpus" "$dir/crashes"
    # Seeds (read, not written): host driver sessions that enable the controller and run
    # commands, so that mutations start from a working controller.
    /usr/bin/python3 "$top/scripts/fuzz-seeds.py" "$BUILD/fuzz/seeds"
    "$FUZZ_BIN" --fuzz-target=generic-fuzz -runs=0 2>&1 \
        | sed -n '/following MemoryRegions/,/^INFO/p' | grep '^  \*' | sed 's/^ /fuzzed region:/' || true
    log "fuzzing '$cfg' for $secs s: $QEMU_FUZZ_ARGS"
    # Fork mode: a finding is saved and fuzzing goes on in a new child process. Each
    # child starts the binary afresh, so the run uses its own copy: another run's build
    # relinking $FUZZ_BIN must not make children fail to start (libFuzzer would count
    # them as crashes) or change the code under test halfway.
    local bin="$dir/qemu-fuzz-x86_64"
    cp "$FUZZ_BIN" "$bin.tmp" && mv -f "$bin.tmp" "$bin"
    local t0=$SECONDS rc=0
    (cd "$dir" && nice -n 10 "$bin" --fuzz-target=generic-fuzz \
        -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -detect_leaks=0 \
        -max_total_time="$secs" -timeout=30 -rss_limit_mb=4096 -max_len=8192 \
        -artifact_prefix="$dir/crashes/" -print_final_stats=1 \
        "$dir/corpus" "$BUILD/fuzz/seeds") > "$dir/fuzz.log" 2>&1 || rc=$?
    local last execs
    last=$(grep -E '^#[0-9]+: cov:' "$dir/fuzz.log" | tail -n 1)
    echo "last status: ${last:-none}"
    execs=$(sed -nE 's/^#([0-9]+): .*/\1/p' <<<"$last")
    echo "$cfg: $((SECONDS - t0)) s, ${execs:-0} executions," \
         "$(( ${execs:-0} / (SECONDS - t0 > 0 ? SECONDS - t0 : 1) )) exec/s, exit status $rc"
    local found=0
    for f in "$dir/crashes"/*; do
        [ -e "$f" ] || continue
        case "$f" in *.trace|*.replay) continue ;; esac
        found=$((found + 1)); echo "finding: ${f#"$top"/}"
    done
    echo "$cfg: $found findings in build/fuzz/$cfg/crashes (all runs)"
}

# A finding as a qtest trace (build/fuzz/CONFIG/crashes/NAME.trace), replayed against
# the ASan qemu-system-x86_64 of scripts/asan.sh (output in NAME.replay).
repro() {
    local cfg=$1 file=$2 args
    args="-display none -machine accel=qtest -m 512M $(config_args "$cfg")"
    QEMU_FUZZ_ARGS=$(config_args "$cfg"); export QEMU_FUZZ_ARGS
    [ -x "$FUZZ_BIN" ] || build
    QTEST_LOG=1 FUZZ_SERIALIZE_QTEST=1 "$FUZZ_BIN" --fuzz-target=generic-fuzz -runs=1 \
        "$file" > "$file.raw" 2>&1 || true
    # The fuzzer's qtest log timer is gone after start-up, so GLib's warning about it
    # splits each "[DMA]" tag from its command: join them again before reordering.
    sed -E '/^\[DMA\]/{/\[R \+/!{N;s/^((\[DMA\] )(\[DOUBLE-FETCH\] )?)[^\n]*\n/\1/}}' \
        "$file.raw" > "$file.log"
    /usr/bin/python3 "$QEMU_SRC/scripts/oss-fuzz/reorder_fuzzer_qtest_trace.py" "$file.log" \
        > "$file.trace"
    rm -f "$file.raw" "$file.log"
    log "trace: $file.trace ($(wc -l < "$file.trace") commands)"
    [ -x "$BUILD/qemu-asan/qemu-system-x86_64" ] || "$top/scripts/asan.sh" --build-only
    # QEMU does not exit when the trace ends: still running after 20 s means it survived.
    local rc=0
    # shellcheck disable=SC2086 # the arguments are words
    ASAN_OPTIONS=detect_leaks=0 timeout 20 "$BUILD/qemu-asan/qemu-system-x86_64" $args \
        -qtest stdio < "$file.trace" > "$file.replay" 2>&1 || rc=$?
    log "replay on build/qemu-asan: $file.replay" \
        "($([ "$rc" = 124 ] && echo "QEMU survived the trace" || echo "QEMU exited with status $rc"))"
    grep -E 'ERROR: |SUMMARY: |runtime error|Assertion|^    #[0-9]+ ' "$file.replay" | head -n 40 || true
    echo "to replay: $BUILD/qemu-asan/qemu-system-x86_64 $args -qtest stdio < $file.trace"
}

case "${1:-ctrl}" in
    repro) [ $# = 3 ] || die "usage: $0 repro CONFIG FILE"; repro "$2" "$(realpath "$3")" ;;
    args) config_args "${2:-ctrl}" ;;
    ctrl|subsys|pool) fuzz "${1:-ctrl}" "${2:-600}" ;;
    *) die "usage: $0 [ctrl|subsys|pool] [seconds] | repro CONFIG FILE | args CONFIG" ;;
esac
