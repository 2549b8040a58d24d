#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test_errors.py's guest side: a read of the bad block (rerror=report), then, after the
# host's go, a write of the block that stops the VM (werror=stop) and is retried.
# Parameters (/test.env): SERIAL the controller's serial; RSKIP, WSEEK the 4 KiB blocks
# blkdebug fails reads of and the first write to.
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh
: "${SERIAL:?}" "${RSKIP:?}" "${WSEEK:?}"

c=$(ctrl_by_serial "$SERIAL")
dev=/dev/${c}n1
[ -b "$dev" ] || dev=/dev/$(ns_nodes | grep -E '^nvme[0-9]+n1$' | head -n 1)
result dev "$dev"
dd if="$dev" of=/dev/null bs=4k count=1 skip="$RSKIP" iflag=direct 2>/tmp/dd.err
result dd-read.rc $?
result dd-read "$(tr '\n' ' ' < /tmp/dd.err)"
result dd-read.dmesg "$(dmesg | grep -E 'error' | tail -n 4 | tr '\n' '|')"
resultcmd smart nvme smart-log "/dev/$c" -o json
resultcmd errlog nvme error-log "/dev/$c" -e 4 -o json
check read-elsewhere dd if="$dev" of=/dev/null bs=4k count=1 skip=10 iflag=direct

dd if=/dev/urandom of=/tmp/pat bs=4k count=1 2>/dev/null
result pattern "$(md5sum < /tmp/pat | cut -d' ' -f1)"
hostsync write >/dev/null
check write-after-stop dd if=/tmp/pat of="$dev" bs=4k count=1 seek="$WSEEK" oflag=direct conv=fsync
echo 3 > /proc/sys/vm/drop_caches
result readback "$(dd if="$dev" bs=4k count=1 skip="$WSEEK" iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)"
