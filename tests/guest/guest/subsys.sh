#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test_subsys.py's guest side: what sysfs and nvme-cli say about the seed's topology
# (subsystems, controllers, block devices), then fio with verification on the three
# namespaces (three jobs of 2 x 16 MiB; round-robin over the shared one's paths) and a
# 1 MiB pattern at 64 KiB block PSEEK of each, read back through the block devices.
# Parameters (/test.env): SUBSYS_NQN (the shared namespace's subsystem), QUX_NQN (qux's
# subsystem), PSEEK.
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh
: "${SUBSYS_NQN:?}" "${QUX_NQN:?}" "${PSEEK:?}"

# -- what sysfs says ----------------------------------------------------------------
for s in /sys/class/nvme-subsystem/nvme-subsys*; do
    n=${s##*/}
    result "subsys.$n.nqn" "$(cat "$s/subsysnqn")"
    result "subsys.$n.ctrls" "$(subsys_ctrls "$n" | tr '\n' ' ')"
done
for c in /sys/class/nvme/nvme*; do
    n=${c##*/}
    for a in serial cntlid subsysnqn transport address state; do
        result "ctrl.$n.$a" "$(cat "$c/$a")"
    done
    resultcmd "ctrl.$n.id" nvme id-ctrl "/dev/$n" -o json
done
for b in /sys/block/nvme*; do
    n=${b##*/}
    result "blk.$n.nsid" "$(cat "$b/nsid")"
    result "blk.$n.size" "$(cat "$b/size")"
    result "blk.$n.lbs" "$(cat "$b/queue/logical_block_size")"
    result "blk.$n.hidden" "$(cat "$b/hidden" 2>/dev/null)"
    result "blk.$n.node" "$([ -b "/dev/$n" ] && echo yes || echo no)"
    result "blk.$n.parent" "$(path_ctrl "$n")"
    [ -b "/dev/$n" ] && resultcmd "blk.$n.idns" nvme id-ns "/dev/$n" -o json
done

# -- what nvme-cli says -------------------------------------------------------------
resultcmd list nvme list -v -o json
resultcmd list-subsys nvme list-subsys -o json
for b in /sys/block/nvme*; do
    n=${b##*/}
    [ -b "/dev/$n" ] && resultcmd "list-subsys.$n" nvme list-subsys "/dev/$n" -o json
done

# -- I/O ------------------------------------------------------------------------------
s0=$(subsys_by_nqn "$SUBSYS_NQN")
d1=$(ns_dev 1 "$s0")
d2=$(ns_dev 2 "$s0")
d3=$(ns_dev 3 "$(subsys_by_nqn "$QUX_NQN")")
result devs "$d1 $d2 $d3"
if [ -z "$s0" ] || [ -z "$d1" ] || [ -z "$d2" ] || [ -z "$d3" ]; then
    fail devices-found "subsystem '$s0', namespaces 1-3: '$d1' '$d2' '$d3'"
    exit 1
fi
# spread I/O over every path (the default policy, numa, sticks to one)
echo round-robin > "/sys/class/nvme-subsystem/$s0/iopolicy"
result iopolicy "$(cat "/sys/class/nvme-subsystem/$s0/iopolicy")"
paths=$(ns_paths "$d1")
for p in $paths; do result "stat0.$p" "$(cat "/sys/block/$p/stat")"; done
check fio-verify fio --rw=randwrite --bs=4k --iodepth=32 --numjobs=2 --size=16M \
    --offset_increment=16M --ioengine=libaio --direct=1 --verify=crc32c \
    --do_verify=1 --verify_fatal=1 --output-format=json --output=/tmp/fio.json \
    --name=ns1 --filename="/dev/$d1" --name=ns2 --filename="/dev/$d2" \
    --name=ns3 --filename="/dev/$d3"
result fio "$(tr -d '\n' < /tmp/fio.json)"
for p in $paths; do result "stat1.$p" "$(cat "/sys/block/$p/stat")"; done

# a pattern on each namespace, read back through the block device (three times on the
# shared one: with round-robin, the 64 KiB reads go down every path)
for d in "$d1" "$d2" "$d3"; do
    dd if=/dev/urandom of="/tmp/pat.$d" bs=64k count=16 2>/dev/null
    result "pattern.$d" "$(md5sum < "/tmp/pat.$d" | cut -d' ' -f1)"
    check "pattern-write-$d" dd if="/tmp/pat.$d" of="/dev/$d" bs=64k seek="$PSEEK" \
        oflag=direct conv=fsync
done
echo 3 > /proc/sys/vm/drop_caches
md5() {
    dd if="/dev/$1" bs=64k skip="$PSEEK" count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1
}
for d in "$d1" "$d1" "$d1" "$d2" "$d3"; do echo "readback $d $(md5 "$d")"; done > /tmp/readback
result readback "$(tr '\n' ';' < /tmp/readback)"
for p in $paths; do result "stat2.$p" "$(cat "/sys/block/$p/stat")"; done
