#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test_resv.py's guest side: reservations as nvme-cli makes them. First through the
# multipath device, as one host on both paths (Linux sets no Host Identifier on PCIe,
# so both controllers act for host 0): register, acquire Write Exclusive, write,
# report, release, unregister. Then rsv-b is given its own Host Identifier and becomes
# a second host: rsv-a's host reserves, rsv-b is fenced from writing, preempts with
# rsv-a's key, and rsv-a is fenced in turn and finds the notice in log page 80h.
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh

ca=$(ctrl_by_sn rsv-a)
cb=$(ctrl_by_sn rsv-b)
head=$(ns_head "$ca" 1)
result devs "$ca $cb $head"
resultcmd id-ctrl nvme id-ctrl "/dev/$ca" -o json
resultcmd id-ns nvme id-ns "/dev/$head" -o json

# io CTRL OPCODE: one block of nsid 1 at LBA 8, through controller CTRL only
io() {
    if [ "$2" = write ]; then
        nvme io-passthru "/dev/$1" --opcode=0x01 --namespace-id=1 --data-len=512 \
            --write --cdw10=8 --cdw12=0 --input-file=/tmp/block \
            > /dev/null 2> "/tmp/io-$1-$2.err"
    else
        nvme io-passthru "/dev/$1" --opcode=0x02 --namespace-id=1 --data-len=512 \
            --read --cdw10=8 --cdw12=0 > /dev/null 2> "/tmp/io-$1-$2.err"
    fi
}
# fails CMD...: CMD must fail
fails() {
    if "$@"; then return 1; fi
}
dd if=/dev/urandom of=/tmp/block bs=512 count=1 2>/dev/null

# One host, two paths, through the multipath device
check register nvme resv-register "/dev/$head" --nrkey=0xabc --rrega=0
check acquire nvme resv-acquire "/dev/$head" --crkey=0xabc --rtype=1 --racqa=0
resultcmd report-held nvme resv-report "/dev/$head" -o json
check write-as-holder dd if=/tmp/block of="/dev/$head" bs=512 seek=16 count=1 \
    oflag=direct conv=notrunc
check write-path-a io "$ca" write
check write-path-b io "$cb" write
check release nvme resv-release "/dev/$head" --crkey=0xabc --rtype=1 --rrela=0
check unregister nvme resv-register "/dev/$head" --crkey=0xabc --rrega=1
resultcmd report-empty nvme resv-report "/dev/$head" -o json

# Two hosts: rsv-b gets Host Identifier 0b0b0b0b0b0b0b02
printf '\002\013\013\013\013\013\013\013' > /tmp/hostb
check set-hostid-b nvme set-feature "/dev/$cb" --feature-id=0x81 --data-len=8 \
    --data=/tmp/hostb
check a-register nvme resv-register "/dev/$ca" --namespace-id=1 --nrkey=0xa --rrega=0
check a-acquire nvme resv-acquire "/dev/$ca" --namespace-id=1 --crkey=0xa --rtype=1 \
    --racqa=0
check b-write-fenced fails io "$cb" write
result b-write-error "$(tr '\n' ' ' < "/tmp/io-$cb-write.err")"
check b-read-allowed io "$cb" read
check b-register nvme resv-register "/dev/$cb" --namespace-id=1 --nrkey=0xb --rrega=0
check b-preempt nvme resv-acquire "/dev/$cb" --namespace-id=1 --crkey=0xb --prkey=0xa \
    --rtype=1 --racqa=1
check b-write-after-preempt io "$cb" write
check a-write-fenced fails io "$ca" write
resultcmd report-preempted nvme resv-report "/dev/$ca" --namespace-id=1 -o json
# the next entry of rsv-a's Reservation Notification log, as raw bytes
notice_log() {
    nvme get-log "/dev/$ca" --log-id=0x80 --log-len=64 --raw-binary > /tmp/notice
}
check notice-log notice_log
result notice "$(od -An -tx1 -N16 /tmp/notice | tr '\n' ' ')"
check b-release nvme resv-release "/dev/$cb" --namespace-id=1 --crkey=0xb --rtype=1 \
    --rrela=0
check a-write-again io "$ca" write
result dmesg-nvme "$(dmesg | grep -i -E 'nvme' | tail -n 8 | tr '\n' '|')"
