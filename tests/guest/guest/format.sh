#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test_format.py's guest side: fio verify through the multipath device of the shared
# namespace (round-robin: both paths), nvme format to 4 KiB blocks through fmt-a only,
# both paths and the head must show 4096-byte blocks, then fio verify again.
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh

ca=$(ctrl_by_sn fmt-a)
cb=$(ctrl_by_sn fmt-b)
head=$(ns_head "$ca" 1)
pa=$(ns_path "$ca" 1)
pb=$(ns_path "$cb" 1)
subsys=$(basename "$(dirname "$(readlink -f "/sys/block/$head")")")
result ctrls "$ca $cb"
result devs "$head $pa $pb"
echo round-robin > "/sys/class/nvme-subsystem/$subsys/iopolicy"
result iopolicy "$(cat "/sys/class/nvme-subsystem/$subsys/iopolicy")"
# lbs: the logical block size of the head and both paths
lbs() {
    echo "$(cat "/sys/block/$head/queue/logical_block_size")" \
        "$(cat "/sys/block/$pa/queue/logical_block_size")" \
        "$(cat "/sys/block/$pb/queue/logical_block_size")"
}
result before "$(lbs)"

# fio_verify SEED: write and verify 2 x 32 MiB through the multipath device
fio_verify() {
    fio --name=v --filename="/dev/$head" --rw=randwrite --bs=4k --iodepth=16 \
        --numjobs=2 --size=32M --offset_increment=64M --ioengine=libaio --direct=1 \
        --verify=crc32c --do_verify=1 --verify_fatal=1 --randseed="$1"
}
# ios DEV: reads + writes DEV completed
ios() {
    read -r _r _ _ _ _w _ < "/sys/block/$1/stat"
    echo $((_r + _w))
}

check fio-verify-512 fio_verify 1
a0=$(ios "$pa")
b0=$(ios "$pb")
check format-through-a nvme format "/dev/$ca" --namespace-id=1 --lbaf=1 --ses=0 --force
check path-a-4k waitval "/sys/block/$pa/queue/logical_block_size" 4096 20
check path-b-4k waitval "/sys/block/$pb/queue/logical_block_size" 4096 20
check head-4k waitval "/sys/block/$head/queue/logical_block_size" 4096 20
result after "$(lbs)"
resultcmd id-ns-b nvme id-ns "/dev/$cb" --namespace-id=1 -o json
check fio-verify-4k fio_verify 2
result path-ios "$(($(ios "$pa") - a0)) $(($(ios "$pb") - b0))"
