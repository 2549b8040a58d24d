#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test_removal.py's guest side: fio (verifying as it goes) on the multipath device while
# the host pulls controller sr-b out of its PCIe slot (nvme-fault-inject
# surprise-removal) and later puts it back, without a word to this guest: Linux's
# pciehp must see both (link down, link up), the multipath device must go on over
# sr-a and then use sr-b again. Parameters (/test.env): RUNTIME (fio's longest run).
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh
: "${RUNTIME:?}"

ca=$(ctrl_by_sn sr-a)
cb=$(ctrl_by_sn sr-b)
h=$(ns_head "$ca" 1)
if [ -z "$ca" ] || [ -z "$cb" ] || [ -z "$h" ]; then
    fail setup "controllers '$ca' '$cb', namespace 1 '$h'"
    exit 1
fi
s0=$(basename "$(dirname "$(readlink -f "/sys/block/$h")")")
vaddr=$(cat "/sys/class/nvme/$cb/address")
result head "$h"
result victim "$cb $vaddr"
echo round-robin > "/sys/class/nvme-subsystem/$s0/iopolicy"

oneline() { tr '\n' ' '; }
# path_io: "path:reads+writes completed" for every path of the head
path_io() {
    for _p in $(ns_paths "$h"); do
        read -r _r _ _ _ _w _ < "/sys/block/$_p/stat"
        printf '%s:%s ' "$_p" $((_r + _w))
    done
}
# more_io FILE: every path of the head completed more I/O than FILE (path_io) says
more_io() {
    for _e in $(path_io); do
        _old=$(tr ' ' '\n' < "$1" | sed -n "s/^${_e%%:*}://p")
        [ "${_e#*:}" -gt "${_old:-0}" ] || return 1
    done
}
# io_goes KEY: the I/O per path now and once every path did more (at most 30 s later)
io_goes() {
    path_io > "/tmp/io.$1"
    result "$1.io1" "$(cat "/tmp/io.$1")"
    waituntil 30 more_io "/tmp/io.$1"
    result "$1.io2" "$(path_io)"
    if kill -0 "$fpid" 2>/dev/null; then pass "fio-running-$1"; else fail "fio-running-$1" "$(tail -n 3 /tmp/fio.out | oneline)"; fi
}
gone() { ! ctrl_at "$vaddr" > /dev/null && [ "$(ns_paths "$h" | wc -l)" = 1 ]; }
back() {
    _c=$(ctrl_at "$vaddr") && [ "$(cat "/sys/class/nvme/$_c/state")" = live ] &&
        [ "$(ns_paths "$h" | wc -l)" = 2 ]
}
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

path_io > /tmp/io.pre
fio --name=removal --filename="/dev/$h" --rw=randwrite --bs=4k --iodepth=16 \
    --size=32M --ioengine=libaio --direct=1 --verify=crc32c --do_verify=1 \
    --verify_backlog=256 --verify_fatal=1 --time_based --runtime="$RUNTIME" \
    --eta=never --output-format=json --output=/tmp/fio.json > /tmp/fio.out 2>&1 &
fpid=$!
waituntil 60 more_io /tmp/io.pre
result start.io "$(path_io)"

result remove.answer "$(hostsync remove)"
t0=$(now)
if waituntil 60 gone; then pass controller-gone; else fail controller-gone "$(path_io)"; fi
result gone.secs "$(since "$t0")"
result gone.paths "$(ns_paths "$h" | oneline)"
io_goes gone

result return.answer "$(hostsync return)"
t0=$(now)
if waituntil 90 back; then pass controller-back; else fail controller-back "$(path_io)"; fi
result back.secs "$(since "$t0")"
c=$(ctrl_at "$vaddr")
result back.sn "$(ctrl_sn "$c")"
result back.cntlid "$(cat "/sys/class/nvme/$c/cntlid" 2>/dev/null)"
result back.nqn "$(cat "/sys/class/nvme/$c/subsysnqn" 2>/dev/null)"
io_goes back

kill -INT "$fpid"
wait "$fpid"
result fio.rc $?
result fio "$(tr -d '\n' < /tmp/fio.json)"
result pciehp "$(dmesg | grep -E 'pciehp' | grep -E 'Link|Card' | oneline)"
dmesg | grep -iE 'pciehp|nvme|I/O error' | tail -n 30
