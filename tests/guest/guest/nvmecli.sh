#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# test_nvmecli.py's guest side: the commands of nvme-cli 2.3's own tests
# (tests/nvme_attach_detach_ns_test.py with nvme_test.py's helpers, and
# tests/nvme_copy_test.py), in their order, on a controller whose subsystem has a
# capacity pool and no other namespace.
# shellcheck source=SCRIPTDIR/../guestlib.sh
. /guestlib.sh

c=$(ctrl_by_sn cli-a)
ctrl=/dev/$c
# get_ctrl_id(): the part after ':' of list-ctrl's first line
ctrl_id=$(nvme list-ctrl "$ctrl" | sed -n '1s/^[^:]*://p' | tr -d ' ')
result ctrl-id "$ctrl_id"
# the namespace's block device once the controller found it (ns1 in the tests)
ns1_ready() {
    _h=$(ns_head "$c" 1) && [ -b "/dev/$_h" ]
}
none_allocated() {
    test "$(nvme list-ns "$ctrl" --all | wc -l)" = 0
}
# create_and_validate_ns(1, 0x1400000, 0x1400000, 0, 0)
create_and_validate() {
    nvme create-ns "$ctrl" --nsze=20971520 --ncap=20971520 --flbas=0 --dps=0 &&
        nvme id-ns "$ctrl" -n 1 > /dev/null
}
# attach_ns(): attach, reset the controller, then the block device must be there
attach() {
    nvme attach-ns "$ctrl" --namespace-id=1 --controllers="$ctrl_id" &&
        nvme reset "$ctrl" && waituntil 20 ns1_ready
}

# setUp
check delete-all nvme delete-ns "$ctrl" -n 0xFFFFFFFF
check none-allocated none_allocated
# test_attach_detach_ns
check create create_and_validate
check attach attach
ns1=$(ns_head "$c" 1)
result ns1 "$ns1"
check io-read dd if="/dev/$ns1" of=/dev/null bs=4096 count=10
check io-write dd if=/dev/zero of="/dev/$ns1" bs=4096 count=10
check detach nvme detach-ns "$ctrl" --namespace-id=1 --controllers="$ctrl_id"
check delete nvme delete-ns "$ctrl" -n 1
check reset nvme reset "$ctrl"
check gone none_allocated
# tearDown: the primary namespace again
check create-again create_and_validate
check attach-again attach
# nvme_copy_test.py
check copy nvme copy "$ctrl" --namespace-id=1 --sdlba=0 --blocks=1 --slbs=1
