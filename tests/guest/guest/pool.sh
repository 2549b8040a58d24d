#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test_pool.py's guest side, one boot per PHASE on the same capacity pool:
#   create   nvme create-ns (32 MiB, shared, ANA group 2), attach-ns to both
#            controllers: the multipath head appears with both paths; fio writes and
#            verifies; a 1 MiB marker is written at 20 MiB
#   restart  (QEMU restarted) the namespace is there, attached to both controllers,
#            in ANA group 2: fio verifies phase 1's data, the marker reads back; then
#            detach-ns from both and delete-ns: the head goes, nsid 2 is unallocated
#   deleted  (QEMU restarted) nsid 2 stays deleted; the command line's nsid 1 works
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh

NSID=2
ca=$(ctrl_by_sn pool-a)
cb=$(ctrl_by_sn pool-b)
result devs "$ca $cb"
resultcmd id-ctrl nvme id-ctrl "/dev/$ca" -o json

# head_ready: the multipath head of NSID with a path through each controller
head_ready() {
    _h=$(ns_head "$ca" "$NSID") && [ -e "/dev/$_h" ] &&
        ns_path "$ca" "$NSID" > /dev/null && ns_path "$cb" "$NSID" > /dev/null
}
# fio_verify ARGS...: fio's writes of phase 1, checked by crc32c
fio_verify() {
    fio --name=v --filename="/dev/$head" --rw=write --bs=64k --size=16M \
        --ioengine=libaio --direct=1 --verify=crc32c --verify_fatal=1 "$@" \
        > /tmp/fio.out 2>&1
}
allocated() {
    nvme list-ns "/dev/$ca" --all | grep -q "0x$NSID\$"
}
unallocated() {
    ! allocated
}
no_head() {
    ! ns_head "$ca" "$NSID" > /dev/null
}

case "$PHASE" in
create)
    resultcmd create nvme create-ns "/dev/$ca" --nsze=65536 --ncap=65536 --flbas=0 \
        --nmic=1 --anagrp-id=2
    check allocated allocated
    check attach nvme attach-ns "/dev/$ca" --namespace-id=$NSID --controllers=1,2
    check head-appears waituntil 30 head_ready
    head=$(ns_head "$ca" "$NSID")   # check runs it in a subshell
    result head "$head"
    resultcmd id-ns nvme id-ns "/dev/$head" -o json
    check fio-verify fio_verify --do_verify=1
    result fio-tail "$(tail -n 3 /tmp/fio.out | tr '\n' ' ')"
    dd if=/dev/urandom of=/tmp/marker bs=1M count=1 2>/dev/null
    check write-marker dd if=/tmp/marker of="/dev/$head" bs=1M seek=20 count=1 \
        oflag=direct conv=notrunc
    result marker "$(md5sum < /tmp/marker | cut -d' ' -f1)"
    resultcmd id-ctrl-after nvme id-ctrl "/dev/$ca" -o json
    ;;
restart)
    check head-back waituntil 30 head_ready
    head=$(ns_head "$ca" "$NSID")
    result head "$head"
    resultcmd id-ns nvme id-ns "/dev/$head" -o json
    check fio-verify-only fio_verify --verify_only=1
    result fio-tail "$(tail -n 3 /tmp/fio.out | tr '\n' ' ')"
    result marker "$(dd if="/dev/$head" bs=1M skip=20 count=1 iflag=direct 2>/dev/null |
        md5sum | cut -d' ' -f1)"
    check detach nvme detach-ns "/dev/$ca" --namespace-id=$NSID --controllers=1,2
    check head-goes waituntil 30 no_head
    check delete nvme delete-ns "/dev/$ca" --namespace-id=$NSID
    check unallocated unallocated
    resultcmd id-ctrl-after nvme id-ctrl "/dev/$ca" -o json
    ;;
deleted)
    check still-unallocated unallocated
    check no-head no_head
    ns1=$(ns_head "$ca" 1)
    check ns1-reads dd if="/dev/$ns1" of=/dev/null bs=64k count=16 iflag=direct
    ;;
esac
