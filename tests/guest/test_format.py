# SPDX-License-Identifier: GPL-2.0-or-later
"""Format NVM of a shared namespace through one controller, under Linux multipath.

    -device nvme-subsys,id=subsys0
    -device nvme,serial=fmt-a,id=nvme0,subsys=subsys0
    -device nvme,serial=fmt-b,id=nvme1,subsys=subsys0
    -device nvme-ns,drive=d0,nsid=1,subsys=subsys0        (256 MiB, 512-byte blocks)

fio writes and verifies through the multipath device with the round-robin policy (both
paths carry I/O), then `nvme format` switches namespace 1 to 4 KiB blocks through fmt-a
only. Both controllers must report the change (Namespace Attribute Changed, Changed
Namespace List), so Linux revalidates both paths: each path and the head show 4096-byte
blocks, and fio with verification through both paths finds no error and no mismatch. A
controller that kept the news to itself leaves the other path at 512 bytes, where I/O
lands on the wrong blocks.
"""

from guestlib import MiB

SIZE = 256 * MiB

GUEST = r'''
. /guestlib.sh
ca=$(ctrl_by_sn fmt-a)
cb=$(ctrl_by_sn fmt-b)
head=$(ns_head $ca 1)
pa=$(ns_path $ca 1)
pb=$(ns_path $cb 1)
subsys=$(basename "$(dirname "$(readlink -f /sys/block/$head)")")
result ctrls "$ca $cb"
result devs "$head $pa $pb"
echo round-robin > /sys/class/nvme-subsystem/$subsys/iopolicy
result iopolicy "$(cat /sys/class/nvme-subsystem/$subsys/iopolicy)"
result before "$(cat /sys/block/$head/queue/logical_block_size) $(cat /sys/block/$pa/queue/logical_block_size) $(cat /sys/block/$pb/queue/logical_block_size)"

fio_verify() {
    fio --name=v --filename=/dev/$head --rw=randwrite --bs=4k --iodepth=16 \
        --numjobs=2 --size=32M --offset_increment=64M --ioengine=libaio --direct=1 \
        --verify=crc32c --do_verify=1 --verify_fatal=1 --randseed=$1
}
ios() { set -- $(cat /sys/block/$1/stat); echo $(($1 + $5)); }

check fio-verify-512 fio_verify 1
a0=$(ios $pa); b0=$(ios $pb)
check format-through-a nvme format /dev/$ca --namespace-id=1 --lbaf=1 --ses=0 --force
check path-a-4k waitval /sys/block/$pa/queue/logical_block_size 4096 20
check path-b-4k waitval /sys/block/$pb/queue/logical_block_size 4096 20
check head-4k waitval /sys/block/$head/queue/logical_block_size 4096 20
result after "$(cat /sys/block/$head/queue/logical_block_size) $(cat /sys/block/$pa/queue/logical_block_size) $(cat /sys/block/$pb/queue/logical_block_size)"
resultcmd id-ns-b nvme id-ns /dev/$cb --namespace-id=1 -o json
check fio-verify-4k fio_verify 2
result path-ios "$(($(ios $pa) - a0)) $(($(ios $pb) - b0))"
'''


def run(ctx):
    img = ctx.image('d0.raw', SIZE)
    g = ctx.guest(GUEST, smp=2,
                  args=['-drive', f'file={img},if=none,id=d0,format=raw',
                        '-device', 'nvme-subsys,id=subsys0',
                        '-device', 'nvme,serial=fmt-a,id=nvme0,subsys=subsys0',
                        '-device', 'nvme,serial=fmt-b,id=nvme1,subsys=subsys0',
                        '-device', 'nvme-ns,drive=d0,nsid=1,subsys=subsys0'])
    g.start()
    rc = g.wait_done(timeout=600)
    ctx.check('guest script finished', rc == 0, f'rc={rc}')
    ctx.expect_guest_checks(g, ['fio-verify-512', 'format-through-a', 'path-a-4k',
                                'path-b-4k', 'head-4k', 'fio-verify-4k'])
    ctx.check('round-robin policy set', g.results.get('iopolicy') == 'round-robin',
              f"iopolicy {g.results.get('iopolicy')!r}")
    ctx.check('512-byte blocks on head and both paths before',
              g.results.get('before') == '512 512 512', f"{g.results.get('before')!r}")
    ctx.check('4096-byte blocks on head and both paths after',
              g.results.get('after') == '4096 4096 4096', f"{g.results.get('after')!r}")
    ios = (g.results.get('path-ios') or '0 0').split()
    ctx.check('after the format both paths carried I/O',
              len(ios) == 2 and all(int(n) > 0 for n in ios), f'path I/Os {ios}')
