#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test_ana.py's guest side, the seed's ANA topology (controllers foo and bar, ns1 in ANA
# group 1, ns2 in group 2): Identify, ANA logs and path states before the injection
# ("b." results); after the host's go (nvme0's group 1 made inaccessible), the path
# state change, logs, dd and fio on the multipath device ("a."); after the recovery
# ("r."), the same data through nvme0's path again.
# Controllers are found by their Identify SN (sysfs 'serial' is the subsystem's, the
# same for both), paths by nsid under each controller.
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh

c0=$(ctrl_by_sn foo)
c1=$(ctrl_by_sn bar)
result ctrl.foo "$c0"
result ctrl.bar "$c1"
if [ -z "$c0" ] || [ -z "$c1" ]; then
    echo "controllers: $(ls /sys/class/nvme)"; dmesg | grep -i nvme | tail -n 20
    exit 1
fi
for sn in foo bar; do
    if [ $sn = foo ]; then c=$c0; else c=$c1; fi
    result "cntlid.$sn" "$(cat "/sys/class/nvme/$c/cntlid")"
    result "state.$sn" "$(cat "/sys/class/nvme/$c/state")"
done
h1=$(ns_head "$c0" 1)
h2=$(ns_head "$c0" 2)
result head "${h1:-none} ${h2:-none}"
[ -n "$h1" ] || { echo "no multipath device for nsid 1"; ls /sys/block; exit 1; }
p01=$(ns_path "$c0" 1)
p11=$(ns_path "$c1" 1)

paths() {       # RESULT $1.path.<sn>.<nsid> "<device> <ana_state> <ana_grpid>"
    for sn in foo bar; do
        if [ $sn = foo ]; then c=$c0; else c=$c1; fi
        for n in 1 2; do
            p=$(ns_path "$c" $n)
            result "$1.path.$sn.$n" "${p:-none} $(cat "/sys/block/$p/ana_state" 2>/dev/null)" \
                "$(cat "/sys/block/$p/ana_grpid" 2>/dev/null)"
        done
    done
}
logs() {
    resultcmd "$1.analog.foo" nvme ana-log "/dev/$c0" -o json
    resultcmd "$1.analog.bar" nvme ana-log "/dev/$c1" -o json
}
stats() {       # sectors read, written through nvme0's path to ns1, then nvme1's
    result "$1.stat" "$(awk '{print $3, $7}' "/sys/block/$p01/stat")" \
        "$(awk '{print $3, $7}' "/sys/block/$p11/stat")"
}
now() { read -r _u _ < /proc/uptime; echo "$_u"; }
# readback: the md5 of the 1 MiB written at 64 KiB block 1600 of the multipath device
readback() {
    dd if="/dev/$h1" bs=64k skip=1600 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1
}

resultcmd b.idctrl.foo nvme id-ctrl "/dev/$c0" -o json
resultcmd b.idctrl.bar nvme id-ctrl "/dev/$c1" -o json
for n in 1 2; do
    result "b.anagrpid.foo.$n" "$(nvme id-ns "/dev/$c0" -n $n -o json | grep '"anagrpid"' | tr -dc 0-9)"
    result "b.anagrpid.bar.$n" "$(nvme id-ns "/dev/$c1" -n $n -o json | grep '"anagrpid"' | tr -dc 0-9)"
done
paths b
logs b
resultcmd b.rgo.foo nvme ana-log "/dev/$c0" --groups -o json
hostsync inject || exit 1

t0=$(now)
waitval "/sys/block/$p01/ana_state" inaccessible 15
result a.waited "$? $t0 $(now)"
paths a
logs a
resultcmd a.rgo.foo nvme ana-log "/dev/$c0" --groups -o json
stats a0
dd if=/dev/urandom of=/tmp/pat bs=64k count=16 2>/dev/null
result a.pattern "$(md5sum < /tmp/pat | cut -d' ' -f1)"
check dd-write-multipath dd if=/tmp/pat of="/dev/$h1" bs=64k seek=1600 oflag=direct conv=fsync
echo 3 > /proc/sys/vm/drop_caches
result a.readback "$(readback)"
fio --name=v --filename="/dev/$h1" --rw=randwrite --bs=4k --iodepth=16 --numjobs=2 \
    --size=8M --offset_increment=8M --ioengine=libaio --direct=1 --verify=crc32c \
    --do_verify=1 --output-format=json --output=/tmp/fio.json > /tmp/fio.out 2>&1
result a.fio.rc $?
result a.fio "$(tr -d '\n' < /tmp/fio.json)"
stats a1
hostsync recover || exit 1

t0=$(now)
waitval "/sys/block/$p01/ana_state" optimized 15
result r.waited "$? $t0 $(now)"
paths r
logs r
stats r0
echo 3 > /proc/sys/vm/drop_caches
result r.readback "$(readback)"
check dd-read-after-recovery dd if="/dev/$h1" of=/dev/null bs=1M count=32 iflag=direct
stats r1
