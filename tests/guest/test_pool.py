# SPDX-License-Identifier: GPL-2.0-or-later
"""A capacity pool and Namespace Management, as nvme-cli uses them, across restarts.

    -drive file=pool.raw,if=none,id=pool,format=raw          (128 MiB)
    -device nvme-subsys,id=subsys0,ana=true,pool=pool
    -device nvme,serial=pool-a,id=nvme0,subsys=subsys0
    -device nvme,serial=pool-b,id=nvme1,subsys=subsys0
    -device nvme-ns,drive=d0,nsid=1,subsys=subsys0           (the command line's)

Three boots on the same pool. 1: create-ns 32 MiB in ANA group 2, attach-ns to both
controllers, the multipath head appears with two paths, fio writes and verifies.
2 (QEMU restarted): the namespace is back, attached to both, in group 2, its data
verify; detach-ns, delete-ns. 3 (restarted): it stays deleted; nsid 1 still works.
TNVMCAP and UNVMCAP follow (127 MiB: the pool's first MiB holds its table).
"""

from guestlib import MiB, guest_script, result_json

POOL = 128 * MiB
NS_BYTES = 32 * MiB
USABLE = POOL - MiB



def _cap(idc, key):
    try:
        return int(str(idc.get(key, -1)))
    except ValueError:
        return -1


def run(ctx):
    pool = ctx.image('pool.raw', POOL)
    d0 = ctx.image('d0.raw', 16 * MiB)
    args = ['-drive', f'file={pool},if=none,id=pool,format=raw',
            '-drive', f'file={d0},if=none,id=d0,format=raw',
            '-device', 'nvme-subsys,id=subsys0,ana=true,pool=pool',
            '-device', 'nvme,serial=pool-a,id=nvme0,subsys=subsys0',
            '-device', 'nvme,serial=pool-b,id=nvme1,subsys=subsys0',
            '-device', 'nvme-ns,drive=d0,nsid=1,subsys=subsys0']
    phases = {}
    for phase, names in (
            ('create', ['allocated', 'attach', 'head-appears', 'fio-verify',
                        'write-marker']),
            ('restart', ['head-back', 'fio-verify-only', 'detach', 'head-goes', 'delete',
                         'unallocated']),
            ('deleted', ['still-unallocated', 'no-head', 'ns1-reads'])):
        g = ctx.guest(guest_script('pool'), name=f'pool-{phase}', env={'PHASE': phase},
                      smp=2, args=args)
        g.start()
        rc = g.wait_done(timeout=600)
        ctx.check(f'{phase}: guest script finished', rc == 0, f'rc={rc}')
        ctx.expect_guest_checks(g, names)
        phases[phase] = g

    g1, g2 = phases['create'], phases['restart']
    idc = result_json(g1, 'id-ctrl')
    ctx.check('Identify Controller: OACS has Namespace Management',
              idc.get('oacs', 0) & 0x8 == 0x8, f"oacs {idc.get('oacs')}")
    ctx.check('TNVMCAP and UNVMCAP: the whole pool, all unallocated',
              _cap(idc, 'tnvmcap') == USABLE and _cap(idc, 'unvmcap') == USABLE,
              f"{idc.get('tnvmcap')} {idc.get('unvmcap')}")
    create = g1.results.get('create') or ''
    ctx.check('create-ns reports nsid 2', 'nsid:2' in str(create).replace(' ', ''),
              repr(create))
    after = result_json(g1, 'id-ctrl-after')
    ctx.check('UNVMCAP drops by the namespace',
              _cap(after, 'unvmcap') == USABLE - NS_BYTES, f"{after.get('unvmcap')}")
    for phase, g in (('create', g1), ('restart', g2)):
        idn = result_json(g, 'id-ns')
        ctx.check(f'{phase}: the namespace has 65536 blocks, shared, in ANA group 2',
                  idn.get('nsze') == 65536 and idn.get('nmic') == 1
                  and idn.get('anagrpid') == 2, repr({k: idn.get(k) for k in
                                                      ('nsze', 'nmic', 'anagrpid')}))
    m1, m2 = g1.results.get('marker'), g2.results.get('marker')
    ctx.check('the marker written before the restart reads back after it',
              bool(m1) and m1 == m2, f'{m1} / {m2}')
    after = result_json(g2, 'id-ctrl-after')
    ctx.check('after delete-ns, UNVMCAP is the whole pool again',
              _cap(after, 'unvmcap') == USABLE, f"{after.get('unvmcap')}")
