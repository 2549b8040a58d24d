#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test_faults.py's guest side: what Linux does with faults the host injects between
# the sync points (the host side says which). flt-a and flt-b are two paths to nsid 1.
#   path-fault   fio verify on the multipath device (round-robin) while flt-a fails
#                I/O with a path error: no I/O error, no mismatch
#   media        a 4 KiB read of the faulty range fails with EIO, its neighbours work
#   wp           the namespace turns read-only: writes fail, reads work, and back
#   cfs, stall   flt-b fails (CSTS.CFS) or stops: Linux times out, resets it, and it
#                works again
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh

ca=$(ctrl_by_sn flt-a)
cb=$(ctrl_by_sn flt-b)
head=$(ns_head "$ca" 1)
subsys=$(basename "$(dirname "$(readlink -f "/sys/block/$head")")")
result devs "$ca $cb $head"
echo round-robin > "/sys/class/nvme-subsystem/$subsys/iopolicy"
dd if=/dev/urandom of=/tmp/blk bs=4096 count=1 2>/dev/null

# fails CMD...: CMD must fail
fails() {
    if "$@"; then return 1; fi
}
# blk4k OP N: a 4 KiB direct read (or write) of block N of the multipath device
blk4k() {
    if [ "$1" = write ]; then
        dd if=/tmp/blk of="/dev/$head" bs=4096 seek="$2" count=1 oflag=direct \
            conv=notrunc 2> "/tmp/dd-$2.err"
    else
        dd if="/dev/$head" of=/dev/null bs=4096 skip="$2" count=1 iflag=direct \
            2> "/tmp/dd-$2.err"
    fi
}
# read_b: one block of nsid 1 through flt-b only
read_b() {
    nvme io-passthru "/dev/$cb" --opcode=0x02 --namespace-id=1 --data-len=512 \
        --read --cdw10=0 --cdw12=0 > /dev/null 2> /tmp/read-b.err
}
ro_is() {
    read -r _ro < "/sys/block/$head/ro" && [ "$_ro" = "$1" ]
}

hostsync path-fault || exit 1
fio --name=v --filename="/dev/$head" --rw=randwrite --bs=4k --iodepth=8 --size=8M \
    --ioengine=libaio --direct=1 --verify=crc32c --do_verify=1 --verify_fatal=1 \
    > /tmp/fio.out 2>&1
check fio-verify-under-path-fault test $? = 0
result fio-tail "$(tail -n 3 /tmp/fio.out | tr '\n' ' ')"
hostsync path-fault-done || exit 1

hostsync media || exit 1
check media-eio fails blk4k read 256
result media-error "$(tr '\n' ' ' < /tmp/dd-256.err)"
check media-before blk4k read 255
check media-after blk4k read 257
# the SMART log is per controller: the read went through one of the two
resultcmd smart-a nvme smart-log "/dev/$ca" -o json
resultcmd smart-b nvme smart-log "/dev/$cb" -o json
result media-dmesg "$(dmesg | grep -i 'medium' | tail -n 2 | tr '\n' '|')"
hostsync media-done || exit 1
check media-gone blk4k read 256

hostsync wp || exit 1
check ro-seen waituntil 30 ro_is 1
check wp-write-fails fails blk4k write 10
check wp-read-works blk4k read 10
hostsync wp-done || exit 1
check rw-seen waituntil 30 ro_is 0
check write-after-wp blk4k write 10

for fault in cfs stall; do
    hostsync "$fault" || exit 1
    read_b
    result "$fault-read-rc" $?
    check "$fault-ctrl-live" waitval "/sys/class/nvme/$cb/state" live 60
    # after the reset Linux scans the namespaces again, which the passthrough
    # through the controller's char device needs done: give it 10 s
    check "$fault-read-after" waituntil 10 read_b
    result "$fault-dmesg" "$(dmesg | grep -E "$cb" | tail -n 6 | tr '\n' '|')"
    hostsync "$fault-done" || exit 1
done
