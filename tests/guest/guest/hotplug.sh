#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test_hotplug.py's guest side: fio (verifying as it goes) on the multipath device of the
# shared namespace while the host unplugs the controller with Identify SN VSN, plugs it
# back, adds a fourth controller (SN NEWSN) and then a controller of a subsystem of its
# own (SOLONQN) that it removes again; after each step the controllers, paths and the
# I/O per path ("KEY.*" results; PASS/FAIL lines for what the guest can judge itself).
# Parameters (/test.env): NQN (the subsystem), VSN, NEWSN, SOLONQN, RUNTIME (fio's
# longest run in seconds: it is stopped with SIGINT when the sequence is over).
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh
: "${NQN:?}" "${VSN:?}" "${NEWSN:?}" "${SOLONQN:?}" "${RUNTIME:?}"

s0=$(subsys_by_nqn "$NQN")
h=$(ns_dev 1 "$s0")
victim=$(ctrl_by_sn "$VSN")
if [ -z "$s0" ] || [ -z "$h" ] || [ -z "$victim" ]; then
    fail setup "subsystem '$s0', namespace 1 '$h', controller with SN $VSN '$victim'"
    exit 1
fi
vaddr=$(cat "/sys/class/nvme/$victim/address")

# ios PATH: the reads + writes PATH completed
ios() {
    read -r _r _ _ _ _w _ < "/sys/block/$1/stat"
    echo $((_r + _w))
}
# paths_io: "path:reads+writes completed" for every path of the head
paths_io() {
    for p in $(ns_paths "$h"); do
        printf '%s:%s ' "$p" "$(ios "$p")"
    done
}
oneline() { tr '\n' ' '; }
cntlids() { for x in $(subsys_ctrls "$s0"); do cat "/sys/class/nvme/$x/cntlid"; done | oneline; }
states() {
    for x in $(subsys_ctrls "$s0"); do printf '%s:%s ' "$x" "$(cat "/sys/class/nvme/$x/state")"; done
}
# ctrls: the controllers /sys/class/nvme lists, one a line
ctrls() {
    for _c in /sys/class/nvme/*; do
        [ -e "$_c" ] && echo "${_c##*/}"
    done
}
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
seen() { echo "controllers: $(ctrls | oneline) paths: $(ns_paths "$h" | oneline)"; }
# snapshot KEY: what the host checks at each stage
snapshot() {
    result "$1.ctrls" "$(subsys_ctrls "$s0" | oneline)"
    result "$1.paths" "$(ns_paths "$h" | oneline)"
    result "$1.nctrl" "$(ctrls | wc -l)"
    result "$1.states" "$(states)"
    result "$1.cntlids" "$(cntlids)"
}
# progressed FILE: every path of the head completed more I/O than FILE (paths_io) says
progressed() {
    for p in $(ns_paths "$h"); do
        old=$(tr ' ' '\n' < "$1" | sed -n "s/^$p://p")
        [ "$(ios "$p")" -gt "${old:-0}" ] || return 1
    done
}
# fio_running NAME [WHY]: PASS NAME if fio still runs, else FAIL with its last output
fio_running() {
    if kill -0 "$fpid" 2>/dev/null; then
        pass "$1"
    else
        fail "$1" "${2:-fio ended}: $(tail -n 3 /tmp/fio.out | oneline)"
    fi
}
# io_flows KEY: completed I/O per path, then again once every path has done more (at most
# 15 s later); and is fio still running?
io_flows() {
    paths_io > "/tmp/io.$1"
    result "$1.io1" "$(cat "/tmp/io.$1")"
    waituntil 15 progressed "/tmp/io.$1"
    result "$1.io2" "$(paths_io)"
    fio_running "fio-running-$1"
}
# expect NAME SECS COND: PASS NAME once COND holds (within SECS), else FAIL with what is seen
expect() {
    if waituntil "$2" "$3"; then pass "$1"; else fail "$1" "$(seen)"; fi
}
gone() { ! ctrl_at "$vaddr" >/dev/null && ! ns_paths "$h" | grep -q "c${victim#nvme}n"; }
back() {
    c=$(ctrl_at "$vaddr") && [ "$(cat "/sys/class/nvme/$c/state")" = live ] &&
        ns_paths "$h" | grep -q "c${c#nvme}n"
}
four() {
    [ "$(subsys_ctrls "$s0" | wc -l)" = 4 ] && [ "$(ns_paths "$h" | wc -l)" = 4 ] &&
        n=$(ctrl_by_sn "$NEWSN") && [ "$(cat "/sys/class/nvme/$n/state")" = live ]
}
solo() { ss=$(subsys_by_nqn "$SOLONQN") && sd=$(ns_dev 1 "$ss") && [ -b "/dev/$sd" ]; }
solo_gone() { ! [ -e "/sys/class/nvme/$sc" ] && ! [ -e "/sys/class/nvme-subsystem/$ss" ]; }
solo_write_read() {
    dd if=/tmp/solo of="/dev/$sd" bs=64k oflag=direct &&
        dd if="/dev/$sd" bs=64k count=8 iflag=direct 2>/dev/null | cmp - /tmp/solo
}

result head "$h"
result victim "$victim $vaddr"
snapshot before
echo round-robin > "/sys/class/nvme-subsystem/$s0/iopolicy"
paths_io > /tmp/io.pre
result io.pre "$(cat /tmp/io.pre)"
# randwrite 4k, QD32, two jobs on separate 16 MiB ranges, verifying as it goes
fio --name=hotplug --filename="/dev/$h" --rw=randwrite --bs=4k --iodepth=32 \
    --numjobs=2 --size=16M --offset_increment=16M --ioengine=libaio --direct=1 \
    --verify=crc32c --do_verify=1 --verify_backlog=256 --verify_fatal=1 \
    --time_based --runtime="$RUNTIME" --eta=never --output-format=json \
    --output=/tmp/fio.json > /tmp/fio.out 2>&1 &
fpid=$!
# fio takes a while to start on a busy host: go on once every path carries its I/O
waituntil 60 progressed /tmp/io.pre
sleep 1
result io.start "$(paths_io)"
fio_running fio-running-before-unplug 'fio ended early'

# -- unplug ---------------------------------------------------------------------------
result unplug.answer "$(hostsync unplug "$victim $vaddr")"
t0=$(now)
expect controller-and-path-gone 15 gone
result gone.secs "$(since "$t0")"
snapshot gone
io_flows gone

# -- re-plug --------------------------------------------------------------------------
result replug.answer "$(hostsync replug)"
t0=$(now)
expect controller-and-path-back 20 back
result back.secs "$(since "$t0")"
c=$(ctrl_at "$vaddr")
result back.ctrl "$c"
result back.sn "$(ctrl_sn "$c")"
result back.cntlid "$(cat "/sys/class/nvme/$c/cntlid" 2>/dev/null)"
result back.nqn "$(cat "/sys/class/nvme/$c/subsysnqn" 2>/dev/null)"
result back.state "$(cat "/sys/class/nvme/$c/state" 2>/dev/null)"
snapshot back
io_flows back

# -- a fourth controller, new to the subsystem ------------------------------------------
result new.answer "$(hostsync add-new)"
expect new-controller-and-path 20 four
n=$(ctrl_by_sn "$NEWSN")
result new.ctrl "$n"
result new.idns "$(nvme id-ns "/dev/$n" -n 1 -o json 2>&1 | oneline)"
snapshot new
io_flows new

# -- a controller without subsys= (a subsystem of its own), hot-added then removed -------
answer=$(hostsync add-solo)
result solo.answer "$answer"
if [ "$answer" = GO ]; then
    if waituntil 20 solo; then
        pass solo-subsystem-and-namespace
    else
        fail solo-subsystem-and-namespace \
            "subsystems: $(cat /sys/class/nvme-subsystem/*/subsysnqn | oneline) $(seen)"
    fi
    result solo.ctrls "$(subsys_ctrls "$ss" | oneline)"
    result solo.size "$(cat "/sys/block/$sd/size" 2>/dev/null)"
    dd if=/dev/urandom of=/tmp/solo bs=64k count=8 2>/dev/null
    check solo-write-read solo_write_read
    sc=$(subsys_ctrls "$ss")
    result solo.del "$(hostsync del-solo)"
    expect solo-gone 15 solo_gone
fi

# the sequence is over: stop fio (it ends the jobs cleanly and writes its report)
kill -INT "$fpid"
wait "$fpid"
result fio.rc $?
result io.timeouts "$(dmesg | grep -c 'nvme.*timeout')"
result fio "$(tr -d '\n' < /tmp/fio.json)"
result fio.out "$(grep -v '^ *$' /tmp/fio.out | tail -n 5 | oneline)"
resultcmd final nvme list-subsys "/dev/$h" -o json
dmesg | grep -iE 'nvme|I/O error|blk_update' | tail -n 25
