# SPDX-License-Identifier: GPL-2.0-or-later
"""What a storage array offers, as Linux and nvme-cli use it.

    -device nvme-subsys,id=subsys0
    -device nvme,serial=arr-a,id=nvme0,subsys=subsys0
    -device nvme,serial=arr-b,id=nvme1,subsys=subsys0
    -device nvme-ns,drive=d0,nsid=1,subsys=subsys0        (64 MiB, 512-byte blocks)

Through the multipath device: `nvme copy` copies blocks and the copy reads back equal;
`nvme write-uncor` makes a block fail to read through both controllers and the block
device until it is written again; `nvme subsystem-reset` through one controller while
fio writes and verifies on both paths (round-robin): fio ends without error or
mismatch, both controllers come back live. The kernel's I/O timeout is 5 s here
(nvme_core.io_timeout), so the controller that did not write NSSR notices sooner: Linux
finds NSSRO at that controller's timeout and resets it.
"""

import json

from guestlib import MiB, guest_script

SIZE = 64 * MiB


def run(ctx):
    img = ctx.image('d0.raw', SIZE)
    g = ctx.guest(guest_script('array'), smp=2, append='nvme_core.io_timeout=5',
                  args=['-drive', f'file={img},if=none,id=d0,format=raw',
                        '-device', 'nvme-subsys,id=subsys0',
                        '-device', 'nvme,serial=arr-a,id=nvme0,subsys=subsys0',
                        '-device', 'nvme,serial=arr-b,id=nvme1,subsys=subsys0',
                        '-device', 'nvme-ns,drive=d0,nsid=1,subsys=subsys0'])
    g.start()
    rc = g.wait_done(timeout=900)
    ctx.check('guest script finished', rc == 0, f'rc={rc}')
    ctx.expect_guest_checks(g, [
        'write-source', 'copy', 'read-copy', 'copy-matches',
        'write-uncor', 'read-a-fails', 'read-b-fails', 'dd-fails', 'read-neighbour',
        'rewrite', 'read-a-after', 'read-b-after',
        'subsystem-reset', 'fio-verify-across-reset', 'ctrl-a-live', 'ctrl-b-live',
        'read-a-after-reset', 'read-b-after-reset', 'copy-survives-reset',
        'copy-still-matches'])
    idc = g.results.get('id-ctrl') or {}
    if isinstance(idc, str):
        try:
            idc = json.loads(idc)
        except ValueError:
            idc = {}
    oncs = idc.get('oncs', 0)
    ctx.check('Identify Controller: ONCS has Write Uncorrectable and Copy',
              oncs & 0x102 == 0x102, f'oncs {oncs:#x}')
    err = g.results.get('read-b-error') or ''
    ctx.check('the read through arr-b reports Unrecovered Read Error',
              'UNRECOVERED' in err.upper() or 'READ_ERROR' in err.upper()
              or '0x281' in err.lower() or '0x2281' in err.lower(), repr(err))
    devs = (g.results.get('devs') or '').split()
    dmesg = str(g.results.get('dmesg-nvme') or '')
    cb = devs[1] if len(devs) > 1 else '?'
    ctx.check('Linux found the other controller reset by NSSR (CSTS.NSSRO, RDY 0)',
              f'{cb}: controller is down; will reset: CSTS=0x10' in dmesg,
              dmesg.replace('|', '\n')[-600:])
