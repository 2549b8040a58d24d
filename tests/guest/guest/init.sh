#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Guest /init for the NVMe tests: scripts/guest-image.sh puts it into base.cpio.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=vt100
echo    # end the firmware's "Booting from ROM.." line
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/pts /dev/shm /root
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# Nothing to modprobe here: stop the kernel from spawning it for crypto look-ups.
echo > /proc/sys/kernel/modprobe

cmdline=$(cat /proc/cmdline)
settle=10
for w in $cmdline; do
    case "$w" in guest.settle=*) settle=${w#guest.settle=} ;; esac
done

# Load the modules in dependency order, passing module.param=value options from the
# kernel command line (modprobe would do that; insmod does not).
while read -r ko; do
    mod=${ko%.ko}; mod=$(echo "$mod" | tr - _)
    opts=
    for w in $cmdline; do
        case "$w" in *.*=*|*.*) ;; *) continue ;; esac
        m=$(echo "${w%%.*}" | tr - _)
        [ "$m" = "$mod" ] && opts="$opts ${w#*.}"
    done
    # shellcheck disable=SC2086 # the options are words
    insmod "/lib/modules/$ko" $opts || echo "init: insmod $ko$opts failed"
done < /lib/modules/order

# Wait (at most $settle s) until every NVMe PCI function has a live controller and the
# set of /dev/nvme* nodes has stopped changing.
want=0
for c in /sys/bus/pci/devices/*/class; do
    [ "$(cat "$c" 2>/dev/null)" = 0x010802 ] && want=$((want + 1))
done
if [ "$want" -gt 0 ]; then
    i=0 last='' stable=0
    while [ $i -lt $((settle * 20)) ]; do
        live=0 busy=0
        for s in /sys/class/nvme/nvme*/state; do
            [ -e "$s" ] || continue
            case "$(cat "$s" 2>/dev/null)" in
                live) live=$((live + 1)) ;;
                new|connecting|resetting) busy=1 ;;
            esac
        done
        now=$(echo /dev/nvme*)
        if [ $busy = 0 ] && [ $live -ge $want ] && [ "$now" = "$last" ]; then
            stable=$((stable + 1))
            [ $stable -ge 2 ] && break
        else
            stable=0
        fi
        last=$now
        usleep 50000
        i=$((i + 1))
    done
    [ $i -lt $((settle * 20)) ] || echo "init: NVMe devices did not settle in ${settle}s"
fi

if [ -x /test.sh ]; then
    read -r up _ < /proc/uptime
    echo "GUEST-TEST-START uptime=$up"
    cd /tmp || echo "init: cannot change to /tmp"
    /test.sh
    rc=$?
    echo "GUEST-DONE rc=$rc"
    poweroff -f
else
    echo "init: no /test.sh; shell on the console (exit to power off)"
    setsid cttyhack sh -l
    poweroff -f
fi
