# SPDX-License-Identifier: GPL-2.0-or-later
"""The commands of nvme-cli 2.3's own namespace-management and Copy tests.

    -drive file=pool.raw,if=none,id=pool,format=raw          (12 GiB, sparse)
    -device nvme-subsys,id=subsys0,pool=pool
    -device nvme,serial=cli-a,id=nvme0,subsys=subsys0

nvme-cli's tests/nvme_attach_detach_ns_test.py deletes every namespace (NSID
FFFFFFFFh), creates a 10 GiB one (0x1400000 blocks), attaches it, resets the
controller, reads and writes it, detaches and deletes it, and creates and attaches
it again; tests/nvme_copy_test.py copies two blocks on it. The guest runs the same
commands in the same order (without the Python harness, which the guest lacks).
"""

from guestlib import MiB, guest_script


def run(ctx):
    pool = ctx.image('pool.raw', 12 * 1024 * MiB)
    g = ctx.guest(guest_script('nvmecli'),
                  args=['-drive', f'file={pool},if=none,id=pool,format=raw',
                        '-device', 'nvme-subsys,id=subsys0,pool=pool',
                        '-device', 'nvme,serial=cli-a,id=nvme0,subsys=subsys0'])
    g.start()
    rc = g.wait_done(timeout=600)
    ctx.check('guest script finished', rc == 0, f'rc={rc}')
    ctx.expect_guest_checks(g, [
        'delete-all', 'none-allocated', 'create', 'attach', 'io-read', 'io-write',
        'detach', 'delete', 'reset', 'gone', 'create-again', 'attach-again', 'copy'])
    ctx.check("list-ctrl's first line gives controller id 1 (get_ctrl_id)",
              str(g.results.get('ctrl-id')) == '1', repr(g.results.get('ctrl-id')))
