#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test_array.py's guest side: what nvme-cli does with the commands an array offers,
# through the multipath device of a namespace shared by arr-a and arr-b: Copy,
# Write Uncorrectable (seen through both controllers), and an NVM Subsystem Reset
# under fio verify (every path comes back, no I/O error, no mismatch).
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh

ca=$(ctrl_by_sn arr-a)
cb=$(ctrl_by_sn arr-b)
head=$(ns_head "$ca" 1)
pa=$(ns_path "$ca" 1)
pb=$(ns_path "$cb" 1)
subsys=$(basename "$(dirname "$(readlink -f "/sys/block/$head")")")
result devs "$ca $cb $head $pa $pb"
echo round-robin > "/sys/class/nvme-subsystem/$subsys/iopolicy"
resultcmd id-ctrl nvme id-ctrl "/dev/$ca" -o json

# Copy: 8 blocks from LBA 0 to LBA 1000 (nvme-cli counts blocks from 0)
dd if=/dev/urandom of=/tmp/src bs=4096 count=1 2>/dev/null
check write-source nvme write "/dev/$head" --start-block=0 --block-count=7 \
    --data-size=4096 --data=/tmp/src
check copy nvme copy "/dev/$head" --sdlba=1000 --slbs=0 --blocks=7
check read-copy nvme read "/dev/$head" --start-block=1000 --block-count=7 \
    --data-size=4096 --data=/tmp/dst
check copy-matches cmp /tmp/src /tmp/dst

# read_lba CTRL LBA: read one block of nsid 1 through controller CTRL only
read_lba() {
    nvme io-passthru "/dev/$1" --opcode=0x02 --namespace-id=1 --data-len=512 \
        --read --cdw10="$2" --cdw12=0 > /dev/null 2> "/tmp/read-$1-$2.err"
}
# fails CMD...: CMD must fail
fails() {
    if "$@"; then return 1; fi
}

# Write Uncorrectable on LBA 2000 through arr-a: reads fail through both
# controllers and the block device, until the block is written again
check write-uncor nvme write-uncor "/dev/$head" --start-block=2000 --block-count=0
check read-a-fails fails read_lba "$ca" 2000
check read-b-fails fails read_lba "$cb" 2000
result read-b-error "$(tr '\n' ' ' < "/tmp/read-$cb-2000.err")"
check dd-fails fails dd if="/dev/$head" of=/dev/null bs=512 skip=2000 count=1 iflag=direct
check read-neighbour read_lba "$cb" 2001
check rewrite nvme write "/dev/$head" --start-block=2000 --block-count=0 \
    --data-size=512 --data=/tmp/src
check read-a-after read_lba "$ca" 2000
check read-b-after read_lba "$cb" 2000

# NVM Subsystem Reset through arr-a while fio writes and verifies on both paths
fio --name=v --filename="/dev/$head" --rw=randwrite --bs=4k --iodepth=8 \
    --size=16M --offset=8M --ioengine=libaio --direct=1 --verify=crc32c \
    --do_verify=1 --verify_fatal=1 --time_based=0 --loops=3 \
    > /tmp/fio.out 2>&1 &
fio_pid=$!
sleep 3
check subsystem-reset nvme subsystem-reset "/dev/$ca"
wait "$fio_pid"
fio_rc=$?
check fio-verify-across-reset test "$fio_rc" = 0
result fio-tail "$(tail -n 5 /tmp/fio.out | tr '\n' ' ')"
result dmesg-nvme "$(dmesg | grep -i -E 'nvme[0-9]+:' | tail -n 12 | tr '\n' '|')"
check ctrl-a-live waitval "/sys/class/nvme/$ca/state" live 60
check ctrl-b-live waitval "/sys/class/nvme/$cb/state" live 60
check read-a-after-reset read_lba "$ca" 1000
check read-b-after-reset read_lba "$cb" 1000
check copy-survives-reset nvme read "/dev/$head" --start-block=1000 --block-count=7 \
    --data-size=4096 --data=/tmp/dst2
check copy-still-matches cmp /tmp/src /tmp/dst2
