#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test_ana_flips.py's guest side: fio with verification on the multipath device of ns1,
# run after run until the host has finished flipping ANA group 1, and a watcher that
# prints the ana_state of both paths to ns1 when it changes ("ANAWATCH <nvme0's>
# <nvme1's> ...") and the sectors moved through each path ("ANAIO <nvme0's> <nvme1's>
# t=<uptime>") every 5th round (~0.1-0.2 s), every round while a path is in change.
# Parameters (/test.env): FIO_SIZE_MB, the size of each of fio's two jobs.
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh
: "${FIO_SIZE_MB:?}"

c0=$(ctrl_by_sn foo)
c1=$(ctrl_by_sn bar)
h1=$(ns_head "$c0" 1)
p0=$(ns_path "$c0" 1)
p1=$(ns_path "$c1" 1)
result setup "$c0 $c1 $h1 $p0 $p1"
# the kernel's "ANA group N: state" debug lines go to dmesg, printed at the end
mount -t debugfs none /sys/kernel/debug 2>/dev/null
echo 'file multipath.c +p' > /sys/kernel/debug/dynamic_debug/control 2>/dev/null
if [ -z "$c0" ] || [ -z "$c1" ] || [ -z "$h1" ] || [ -z "$p0" ] || [ -z "$p1" ]; then
    ls /sys/class/nvme /sys/block; exit 1
fi

# watcher: path states when they change, sectors per path every 5th round, and every
# round while a path is in change (the host judges that short time from these)
(
    last='' n=0
    while [ ! -e /tmp/stop-watch ]; do
        read -r s0 < "/sys/block/$p0/ana_state"
        read -r s1 < "/sys/block/$p1/ana_state"
        read -r t _ < /proc/uptime
        if [ "$s0 $s1" != "$last" ]; then
            last="$s0 $s1"
            read -r k0 < "/sys/class/nvme/$c0/state"
            read -r k1 < "/sys/class/nvme/$c1/state"
            echo "ANAWATCH $last t=$t ctrl=$k0,$k1"
        fi
        if [ $((n % 5)) = 0 ] || [ "$s0" = change ] || [ "$s1" = change ]; then
            read -r _ _ r0 _ _ _ w0 _ < "/sys/block/$p0/stat"
            read -r _ _ r1 _ _ _ w1 _ < "/sys/block/$p1/stat"
            echo "ANAIO $((r0 + w0)) $((r1 + w1)) t=$t"
        fi
        n=$((n + 1))
        usleep 20000
    done
) &
watcher=$!

# fio_run ARGS...: 4k random writes, verified, two jobs of FIO_SIZE_MB on separate ranges
fio_run() {
    fio --name=flip --filename="/dev/$h1" --rw=randwrite --bs=4k --iodepth=16 \
        --numjobs=2 --size="${FIO_SIZE_MB}M" --offset_increment="${FIO_SIZE_MB}M" \
        --ioengine=libaio --direct=1 --verify=crc32c --do_verify=1 --output-format=json "$@"
}

# fio runs back to back until the host is done
(
    i=0
    while [ ! -e /tmp/stop-fio ]; do
        i=$((i + 1))
        fio_run --output="/tmp/fio.$i.json" > "/tmp/fio.$i.out" 2>&1
        rc=$?
        errs=$(grep '"error"' "/tmp/fio.$i.json" | tr -dc '0-9\n' | tr '\n' ' ')
        bytes=$(grep '"io_bytes"' "/tmp/fio.$i.json" | tr -dc '0-9\n' | tr '\n' ' ')
        lat=$(grep -A2 '"lat_ns"' "/tmp/fio.$i.json" | grep '"max"' | tr -dc '0-9\n' | sort -n | tail -n 1)
        echo "RESULT fio.$i rc=$rc errors=[ $errs] io_bytes=[ $bytes] maxlat_ns=${lat:-0}"
        [ $rc = 0 ] || echo "RESULT fio.$i.out $(grep -v '^{' "/tmp/fio.$i.out" | tail -n 8 | tr '\n' ' ')"
        echo $i > /tmp/fio.runs
    done
) &
fioloop=$!
sleep 1

hostsync flip || exit 1
touch /tmp/stop-fio
wait $fioloop
result fio.runs "$(cat /tmp/fio.runs)"
touch /tmp/stop-watch
wait $watcher
result requeued "$(dmesg | grep -c 'no usable path - requeuing I/O')"
result trouble "$(dmesg | grep -iE 'I/O error|failing I/O|ANATT|reset|Failed to get ANA log|nvme.*(timeout|down|abort)' | tail -n 8 | tr '\n' '|')"
result ctrl.state "$(cat "/sys/class/nvme/$c0/state") $(cat "/sys/class/nvme/$c1/state")"
result final "$(cat "/sys/block/$p0/ana_state") $(cat "/sys/block/$p1/ana_state")"
dmesg | grep -E 'nvme|requeu' | sed 's/^/DMESG /'
