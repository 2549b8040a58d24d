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

from guestlib import MiB, guest_script

SIZE = 256 * MiB

def run(ctx):
    img = ctx.image('d0.raw', SIZE)
    g = ctx.guest(guest_script('format'), smp=2,
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
