#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test_ioeventfd.py's guest side: Identify OACS, then fio with verification and a read
# run on the namespace of the controller with serial SERIAL (/test.env).
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh
: "${SERIAL:?}"

c=$(ctrl_by_serial "$SERIAL")
dev=/dev/${c}n1
result dev "$dev"
result oacs "$(nvme id-ctrl "/dev/$c" -o json | tr -d ' \n' | sed 's/.*"oacs":\([0-9]*\).*/\1/')"
check fio-verify fio --name=v --filename="$dev" --rw=randwrite --bs=4k --iodepth=16 \
    --numjobs=2 --size=16M --offset_increment=32M --ioengine=libaio --direct=1 \
    --verify=crc32c --do_verify=1
check fio-read fio --name=r --filename="$dev" --rw=randread --bs=64k --iodepth=8 \
    --size=32M --ioengine=libaio --direct=1
