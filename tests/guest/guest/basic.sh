#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test_basic.py's guest side, run on both boots (the host answers "GO 1", then "GO 2"):
# the controller with serial SERIAL and its namespace in sysfs and nvme-cli; on the first
# boot Identify, logs, features, fio with verification (two jobs of 32 MiB), a pattern at
# 64 KiB block PSEEK, a controller reset, then a reboot; on the second the pattern again.
# Parameters (/test.env): SERIAL, PSEEK.
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh
: "${SERIAL:?}" "${PSEEK:?}"

boot=$(hostsync boot) || exit 1
# shellcheck disable=SC2086 # "GO N": its words
set -- $boot
b=b$2                                   # RESULT keys: b1.* first boot, b2.* second

c=$(ctrl_by_serial "$SERIAL")
result "$b.ctrls" "$(cd /sys/class/nvme 2>/dev/null && echo nvme*)"
result "$b.ctrl" "$c"
if [ -z "$c" ]; then
    echo "no NVMe controller with serial $SERIAL"; dmesg | grep -i nvme | tail -n 20
    exit 1
fi
result "$b.serial" "$(cat "/sys/class/nvme/$c/serial")"
result "$b.state" "$(cat "/sys/class/nvme/$c/state")"
dev=/dev/$(ns_nodes | head -n 1)
result "$b.dev" "$dev"
resultcmd "$b.list" nvme list -o json
result "$b.blocksize" "$(cat "/sys/block/${dev#/dev/}/size")"

# fio_verify ARGS...: random writes with verification, two jobs of 32 MiB on $dev
fio_verify() {
    fio --name=v --filename="$dev" --rw=randwrite --bs=4k --iodepth=32 --numjobs=2 \
        --size=32M --offset_increment=32M --ioengine=libaio --direct=1 --verify=crc32c \
        --do_verify=1 "$@"
}
# pattern: the md5 of the 1 MiB at block PSEEK
pattern() {
    dd if="$dev" bs=64k skip="$PSEEK" count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1
}

if [ "$b" = b1 ]; then
    resultcmd b1.id-ctrl nvme id-ctrl "/dev/$c" -o json
    check smart-log nvme smart-log "/dev/$c"
    check error-log nvme error-log "/dev/$c"
    check get-feature-7 nvme get-feature "/dev/$c" -f 7
    resultcmd b1.nqueues nvme get-feature "/dev/$c" -f 7
    check fio-randwrite-verify fio_verify --output-format=json --output=/tmp/fio.json
    result b1.fio "$(tr -d '\n' < /tmp/fio.json)"

    dd if=/dev/urandom of=/tmp/pat bs=64k count=16 2>/dev/null
    result b1.pattern "$(md5sum < /tmp/pat | cut -d' ' -f1)"
    check pattern-write dd if=/tmp/pat of="$dev" bs=64k seek="$PSEEK" oflag=direct conv=fsync

    check reset nvme reset "/dev/$c"
    i=0
    while [ "$(cat "/sys/class/nvme/$c/state")" != live ] && [ $i -lt 100 ]; do
        usleep 50000; i=$((i + 1))
    done
    result b1.state-after-reset "$(cat "/sys/class/nvme/$c/state")"
    echo 3 > /proc/sys/vm/drop_caches
    result b1.pattern-after-reset "$(pattern)"
    check fio-verify-after-reset fio_verify --verify_only=1

    hostsync reboot
    reboot -f
    sleep 30
    exit 1
else
    echo 3 > /proc/sys/vm/drop_caches
    result b2.pattern "$(pattern)"
    check read-after-reboot dd if="$dev" of=/dev/null bs=1M count=64 iflag=direct
fi
