# SPDX-License-Identifier: GPL-2.0-or-later
"""A surprise removal and return of one controller, with no word to the guest, while
fio writes and verifies through the multipath device of the shared namespace.

    -machine q35 -global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off
    -device pcie-root-port,id=rp0,chassis=1,slot=1      (and rp1)
    -device nvme-subsys,id=subsys0
    -device nvme,serial=sr-a,id=nvme0,subsys=subsys0,bus=rp0
    -device nvme,serial=sr-b,id=nvme1,subsys=subsys0,bus=rp1
    -device nvme-ns,drive=d0,nsid=1,subsys=subsys0              (64 MiB)

PCIe native hotplug (pciehp) owns the root ports: q35's ACPI hotplug is off. The host
injects `surprise-removal` on nvme1: the function goes silent and its slot reports
presence and link down; Linux's pciehp removes the controller, the multipath device goes
on over nvme0 (fio verify sees no error). The host removes the fault: the slot reports
the adapter back, pciehp powers the slot and enumerates it, the NVMe driver probes it, it
joins the subsystem again and carries I/O. QEMU never asks the guest anything.
"""

import sys

from guestlib import MiB, fio_json, guest_script, io_per_path

RUNTIME = 240               # fio's longest run: the guest stops it when the sequence is over


def run(ctx):
    img = ctx.image('d0.raw', 64 * MiB)
    args = ['-drive', f'file={img},if=none,id=d0,format=raw',
            '-global', 'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off',
            '-device', 'pcie-root-port,id=rp0,chassis=1,slot=1',
            '-device', 'pcie-root-port,id=rp1,chassis=2,slot=2',
            '-device', 'nvme-subsys,id=subsys0',
            '-device', 'nvme,serial=sr-a,id=nvme0,subsys=subsys0,bus=rp0',
            '-device', 'nvme,serial=sr-b,id=nvme1,subsys=subsys0,bus=rp1',
            '-device', 'nvme-ns,drive=d0,nsid=1,subsys=subsys0']
    g = ctx.guest(guest_script('removal'), env={'RUNTIME': RUNTIME}, smp=2, args=args)
    g.start()

    g.wait_sync('remove', timeout=180)
    g.events()
    f = g.vm.cmd('nvme-fault-inject', id='nvme1', kind='surprise-removal')
    ev = [(e['data']['fault'], e['data']['active']) for e in g.events('NVME_FAULT')]
    ctx.check('surprise-removal injected: NVME_FAULT start', (f['fault'], True) in ev,
              repr(ev))
    g.reply('GO')

    g.wait_sync('return', timeout=180)
    left = [q['kind'] for q in g.vm.cmd('query-nvme-faults')]
    ctx.check('query-nvme-faults lists the removal until it is removed',
              left == ['surprise-removal'], repr(left))
    g.vm.cmd('nvme-fault-remove', fault=f['fault'])
    g.reply('GO')

    rc = g.wait_done(timeout=240)
    ctx.check('guest script finished', rc == 0, f'rc={rc}')
    ctx.expect_guest_checks(g, ['controller-gone', 'fio-running-gone', 'controller-back',
                                'fio-running-back'])
    r = g.results
    victim = str(r.get('victim', '')).split(' ')[0]
    gpaths = str(r.get('gone.paths', '')).split()
    ctx.check('removed: one path left, not through the removed controller',
              len(gpaths) == 1 and f'c{victim[4:]}n' not in gpaths[0],
              f'paths {gpaths} (removed {victim})')
    io1, io2 = io_per_path(r.get('gone.io1')), io_per_path(r.get('gone.io2'))
    ctx.check('removed: I/O goes on over the remaining path',
              len(io2) == 1 and all(io2[p] > io1.get(p, 0) for p in io2),
              f'completed I/O per path {io1} then {io2}')
    pciehp = str(r.get('pciehp') or '')
    ctx.check("Linux's pciehp saw the link go down and come back (no guest action asked)",
              'Link Down' in pciehp and 'Link Up' in pciehp, pciehp)
    ctx.check('back: the controller has Identify SN sr-b and is in the same subsystem',
              r.get('back.sn') == 'sr-b'
              and r.get('back.nqn') == 'nqn.2019-08.org.qemu:subsys0',
              f'sn {r.get("back.sn")!r} nqn {r.get("back.nqn")!r}')
    io1, io2 = io_per_path(r.get('back.io1')), io_per_path(r.get('back.io2'))
    ctx.check('back: I/O goes over both paths again',
              len(io2) == 2 and all(io2[p] > io1.get(p, 0) for p in io2),
              f'completed I/O per path {io1} then {io2}')
    fio = fio_json(r.get('fio'))
    jobs = fio.get('jobs', []) if fio else []
    ctx.check('fio: ran until stopped (exit status 0 or 128 after SIGINT)',
              r.get('fio.rc') in (0, 128), f'rc={r.get("fio.rc")!r}')
    ctx.check('fio: no I/O error, what it wrote was verified',
              len(jobs) == 1 and jobs[0].get('error') == 0
              and jobs[0].get('write', {}).get('io_bytes', 0) > 0
              and jobs[0].get('read', {}).get('io_bytes', 0) > 0,
              f'fio output: {str(r.get("fio"))[:300]}')
    ctx.info(f'guest: controller gone {r.get("gone.secs")} s after the removal, back '
             f'{r.get("back.secs")} s after the fault was removed')


if __name__ == '__main__':
    import run
    sys.exit(run.main(['removal'] + sys.argv[1:]))
