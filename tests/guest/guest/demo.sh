#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# demo.py's guest side: the seed's topology found through sysfs (names follow probe
# order), then the steps DEMO_STEPS names, in order: for each, "DEMO-STEP N", a hostsync
# (the host narrates, runs its part, answers), then the function step_NAME below.
# Parameters (/test.env): DEMO_STEPS, FIO_SECONDS (each fio run), NQN_PREFIX (of the
# subsystems' NQNs).
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh
: "${DEMO_STEPS:?}" "${FIO_SECONDS:?}" "${NQN_PREFIX:?}"

# run CMD...: show the command, then run it
run() { echo "guest# $*"; "$@"; }
S0=$(subsys_by_nqn "${NQN_PREFIX}subsys0")      # nvme-subsysN of subsys0
SQ=$(subsys_by_nqn "${NQN_PREFIX}qux")          # and of qux
NS1=$(ns_dev 1 "$S0")                           # the shared namespace's multipath device
FOO=$(ctrl_by_sn foo)

# fio_paths SECONDS: fio on the shared namespace, then the I/Os each path completed
fio_paths() {
    secs=$1
    for p in $(ns_paths "$NS1"); do
        read -r r _ _ _ w _ < "/sys/block/$p/stat"
        echo "$p $r $w"
    done > /tmp/io0
    set -- fio --name=demo --filename="/dev/$NS1" --rw=randrw --bs=4k --iodepth=16 \
        --numjobs=2 --size=32M --offset_increment=32M --ioengine=libaio --direct=1 \
        --time_based --runtime="$secs" --group_reporting --eta=never
    echo "guest# $* | grep -E 'err=|IOPS'"
    "$@" > /tmp/fio.out 2>&1 || { echo "fio failed: status $?"; tail -n 20 /tmp/fio.out; }
    grep -E 'err=|^ *(read|write): IOPS' /tmp/fio.out
    echo "I/Os completed per path during the run:"
    for p in $(ns_paths "$NS1"); do
        read -r r _ _ _ w _ < "/sys/block/$p/stat"
        r0=0 w0=0                       # the counts before the run
        while read -r q qr qw; do
            if [ "$q" = "$p" ]; then r0=$qr w0=$qw; fi
        done < /tmp/io0
        c=$(path_ctrl "$p")
        printf '  %-10s via %-6s (sn %s, %-13s): %6d reads %6d writes\n' "$p" "$c" \
            "$(ctrl_sn "$c")" "$(cat "/sys/block/$p/ana_state")" $((r - r0)) $((w - w0))
    done
}
# ana_paths: the ANA state of each path of the shared namespace
ana_paths() {
    for p in $(ns_paths "$NS1"); do
        c=$(path_ctrl "$p")
        printf '  %-10s via %-6s (sn %s): group %s %s\n' "$p" "$c" "$(ctrl_sn "$c")" \
            "$(cat "/sys/block/$p/ana_grpid")" "$(cat "/sys/block/$p/ana_state")"
    done
}
# wait_ana SN STATE: until the path through controller SN shows STATE (ANATT is 10 s)
wait_ana() {
    p=$(ns_path "$(ctrl_by_sn "$1")" 1)
    waitval "/sys/block/$p/ana_state" "$2" 12 ||
        echo "(the path via $1 is still $(cat "/sys/block/$p/ana_state"))"
}

# -- the steps (demo.py's STEPS give their titles and the host's part) -----------------

step_topology() {
    run nvme list -v
}

step_subsystems() {
    run nvme list-subsys
    run nvme list-subsys "/dev/$NS1"
}

step_identify() {
    echo "guest# nvme id-ctrl /dev/$FOO | grep -E '^(sn|mn|cntlid|cmic|mdts|subnqn) '"
    nvme id-ctrl "/dev/$FOO" | grep -E '^(sn|mn|cntlid|cmic|mdts|subnqn) '
    for c in $(subsys_ctrls "$S0") $(subsys_ctrls "$SQ"); do
        nvme id-ctrl "/dev/$c" | awk -v c="$c" '
            $1 == "sn" { sn = $3 } $1 == "cntlid" { id = $3 } $1 == "cmic" { cmic = $3 }
            $1 == "subnqn" { nqn = $3 }
            END { printf "%-6s sn %-4s cntlid %-4s cmic %-4s %s\n", c, sn, id, cmic, nqn }'
    done
}

step_io() {
    echo "guest# echo round-robin > /sys/class/nvme-subsystem/$S0/iopolicy"
    echo round-robin > "/sys/class/nvme-subsystem/$S0/iopolicy"
    fio_paths "$FIO_SECONDS"
}

step_ana() {
    run nvme ana-log "/dev/$FOO"
    ana_paths
}

step_inject() {
    wait_ana foo inaccessible
    ana_paths
    run nvme list-subsys "/dev/$NS1"
    fio_paths "$FIO_SECONDS"
}

step_recovery() {
    wait_ana foo change
    ana_paths
    wait_ana foo optimized
    ana_paths
    fio_paths "$FIO_SECONDS"
}

i=0
for step in $DEMO_STEPS; do
    i=$((i + 1))
    echo "DEMO-STEP $i"
    hostsync step "$i" >/dev/null || exit 1
    "step_$step"
done
echo DEMO-STEP end
hostsync end >/dev/null
