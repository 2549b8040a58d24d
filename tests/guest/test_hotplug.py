# SPDX-License-Identifier: GPL-2.0-or-later
"""Hot-unplug and re-plug one controller of a subsystem while fio writes and verifies
through the multipath device of the shared namespace.

    -machine q35
    -device pcie-root-port,id=rp0,chassis=1,slot=1      (and rp1 ... rp4)
    -device nvme-subsys,id=subsys0
    -device nvme,serial=foo,id=nvme0,subsys=subsys0,bus=rp0
    -device nvme,serial=bar,id=nvme1,subsys=subsys0,bus=rp1
    -device nvme,serial=baz,id=nvme2,subsys=subsys0,bus=rp2
    -device nvme-ns,id=ns1,drive=drv10,nsid=1,subsys=subsys0   (128 MiB, shared)

Hotplug: QEMU 10.0's q35 gives the root ports ACPI PCI hotplug by default, and Linux 6.1
(acpiphp, built in) takes it: device_del is done in a fraction of a second. With
GUEST_HOTPLUG=native the test turns ACPI hotplug off
(-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off) so that PCIe native hotplug
(pciehp, built in too) does it: Linux then waits out the 5 s attention-button delay before
it lets the controller go.

Sequence: the guest sets the round-robin I/O policy (so that every path carries I/O),
starts fio (randwrite 4k, QD32, 2 jobs on separate 16 MiB ranges, time based, verifying
as it goes: verify_backlog; stopped with SIGINT when the sequence is over) on the
multipath device, waits until every path carries I/O, and asks the host to unplug bar's
controller; the host sends device_del and waits for DEVICE_DELETED; the guest checks that
the controller and its path are gone, that fio still runs and that I/O goes on over the
two other paths; the host device_adds the controller again with the same options; the
guest checks that it is back (Identify SN bar, live, a path to the namespace carrying
I/O); then the host device_adds a fourth controller (quux, on the empty rp3) that the
subsystem never had, and the guest checks that it joins (a new CNTLID, the shared
namespace attached, a fourth path carrying I/O); then the host device_adds a controller
without subsys= (solo, drive=, on rp4: a subsystem of its own, as `device_add nvme` is
most often used), the guest writes and reads its namespace, and the host removes it again;
fio ends without an I/O error or a verify failure.
"""

import json
import os
import sys
import time

from guestlib import ExecuteError, MiB, fio_json, guest_script, io_per_path, nvme_device

NQN_PREFIX = 'nqn.2019-08.org.qemu:'
NQN = NQN_PREFIX + 'subsys0'
SIZE = 128 * MiB
RUNTIME = 150                   # fio's longest run: the guest stops it (SIGINT) when the
                                # hotplug sequence is over (about 15 s on an idle machine)
VICTIM = {'id': 'nvme1', 'serial': 'bar', 'bus': 'rp1'}
NEW = {'id': 'nvme3', 'serial': 'quux', 'bus': 'rp3'}     # hot-added, never there before
# a controller without subsys= (a subsystem of its own) with a namespace from drive=
SOLO = {'id': 'nvme4', 'serial': 'solo', 'bus': 'rp4', 'drive': 'drv20'}
SOLO_SIZE = 32 * MiB


TRACE = ('nvme_adm_abort*', 'nvme_ctrl_reset*', 'nvme_err_cmd*', 'nvme_io_error*', 'nvme_ub*')


def hotplug_mode():
    """'acpi' (QEMU's q35 default) or 'native' (pciehp), from GUEST_HOTPLUG."""
    mode = os.environ.get('GUEST_HOTPLUG', 'acpi')
    if mode not in ('acpi', 'native'):
        raise ValueError(f'GUEST_HOTPLUG must be acpi or native, not {mode!r}')
    return mode


def topology(dev):
    args = []
    for i in range(5):          # rp3 and rp4 stay empty for hot-added controllers
        args += ['-device', f'pcie-root-port,id=rp{i},chassis={i + 1},slot={i + 1}']
    args += ['-device', 'nvme-subsys,id=subsys0']
    for i, sn in enumerate(('foo', 'bar', 'baz')):
        args += ['-device', f'{dev},serial={sn},id=nvme{i},subsys=subsys0,bus=rp{i}']
    args += ['-device', 'nvme-ns,id=ns1,drive=drv10,nsid=1,subsys=subsys0']
    return args


def run(ctx):
    mode = hotplug_mode()
    dev = nvme_device()
    img = ctx.image('drv10.raw', SIZE)
    solo_img = ctx.image('drv20.raw', SOLO_SIZE)
    args = ['-drive', f'file={img},if=none,id=drv10,format=raw',
            '-drive', f'file={solo_img},if=none,id={SOLO["drive"]},format=raw'] + topology(dev)
    if mode == 'native':
        args += ['-global', 'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off']
    # the device's view of aborts, resets and failed commands, in the QEMU log (globs: no
    # warning from a QEMU whose nvme has other trace events)
    for ev in TRACE:
        args += ['-trace', ev]
    env = {'RUNTIME': RUNTIME, 'NQN': NQN, 'VSN': VICTIM['serial'], 'NEWSN': NEW['serial'],
           'SOLONQN': NQN_PREFIX + SOLO['serial']}
    g = ctx.guest(guest_script('hotplug'), env=env, smp=2, args=args)
    g.start()
    ctx.info(f'hotplug mode: {mode} (q35, pcie-root-port)')

    # -- unplug: device_del, DEVICE_DELETED ---------------------------------------------
    g.wait_sync('unplug', timeout=120)
    t0 = time.monotonic()
    answer = 'GO'
    try:
        g.vm.cmd('device_del', id=VICTIM['id'])
        ev = g.event_wait('DEVICE_DELETED', timeout=30, match={'data': {'device': VICTIM['id']}})
        ctx.check(f'device_del {VICTIM["id"]}: DEVICE_DELETED', ev is not None)
        ctx.info(f'device_del to DEVICE_DELETED: {time.monotonic() - t0:.2f} s')
    except (ExecuteError, TimeoutError) as e:
        ctx.check(f'device_del {VICTIM["id"]}: DEVICE_DELETED', False, str(e) or 'none in 30 s')
        answer = 'FAILED'
    peripherals = [p['name'] for p in g.vm.cmd('qom-list', path='/machine/peripheral')]
    ctx.check(f'{VICTIM["id"]} is gone from /machine/peripheral',
              VICTIM['id'] not in peripherals, f'peripherals {peripherals}')
    g.reply(answer)

    # -- re-plug: device_add with the same options --------------------------------------
    g.wait_sync('replug', timeout=60)
    answer = 'GO'
    opts = {'driver': dev, 'serial': VICTIM['serial'], 'id': VICTIM['id'],
            'subsys': 'subsys0', 'bus': VICTIM['bus']}
    try:
        g.vm.cmd('device_add', opts)
        ctx.check('device_add ' + ','.join(f'{k}={v}' for k, v in opts.items()), True)
    except ExecuteError as e:
        ctx.check('device_add ' + ','.join(f'{k}={v}' for k, v in opts.items()), False,
                  str(e))
        answer = 'FAILED'
    g.reply(answer)

    # -- a fourth controller, new to the subsystem ----------------------------------------
    g.wait_sync('add-new', timeout=60)
    answer = 'GO'
    opts = {'driver': dev, 'serial': NEW['serial'], 'id': NEW['id'], 'subsys': 'subsys0',
            'bus': NEW['bus']}
    try:
        g.vm.cmd('device_add', opts)
        ctx.check('device_add ' + ','.join(f'{k}={v}' for k, v in opts.items()), True)
    except ExecuteError as e:
        ctx.check('device_add ' + ','.join(f'{k}={v}' for k, v in opts.items()), False,
                  str(e))
        answer = 'FAILED'
    g.reply(answer)

    # -- a controller without subsys=, with drive= ---------------------------------------
    g.wait_sync('add-solo', timeout=60)
    opts = {'driver': dev, 'serial': SOLO['serial'], 'id': SOLO['id'], 'bus': SOLO['bus'],
            'drive': SOLO['drive']}
    added = False
    try:
        g.vm.cmd('device_add', opts)
        added = True
    except ExecuteError as e:
        err = str(e)
    ctx.check('device_add ' + ','.join(f'{k}={v}' for k, v in opts.items())
              + ' (no subsys=: a subsystem of its own)', added,
              f'QEMU refused it: {err}' if not added else '')
    g.reply('GO' if added else 'FAILED')
    if added:
        g.wait_sync('del-solo', timeout=60)
        try:
            g.vm.cmd('device_del', id=SOLO['id'])
            g.event_wait('DEVICE_DELETED', timeout=30, match={'data': {'device': SOLO['id']}})
            ctx.check(f'device_del {SOLO["id"]}: DEVICE_DELETED', True)
        except (ExecuteError, TimeoutError) as e:
            ctx.check(f'device_del {SOLO["id"]}: DEVICE_DELETED', False, str(e) or 'none in 30 s')
        g.reply('GO')

    rc = g.wait_done(timeout=90)
    ctx.check('guest script finished', rc == 0, f'rc={rc}')
    r = g.results
    h = r.get('head')
    victim, _, vaddr = str(r.get('victim', '')).partition(' ')
    before = str(r.get('before.ctrls', '')).split()
    ctx.check('before: three controllers, three paths',
              len(before) == 3 and len(str(r.get('before.paths', '')).split()) == 3,
              f'controllers {before}, paths {r.get("before.paths")!r}')

    ctx.check('/sys/class/nvme: 3 controllers, 2 after device_del, 3 after device_add',
              [r.get(f'{k}.nctrl') for k in ('before', 'gone', 'back')] == [3, 2, 3],
              f'counts {[r.get(f"{k}.nctrl") for k in ("before", "gone", "back")]}')
    io0, io1 = io_per_path(r.get('io.pre')), io_per_path(r.get('io.start'))
    ctx.check('before: fio\'s I/O goes over all three paths (round-robin)',
              len(io1) == 3 and all(io1[p] > io0.get(p, 0) for p in io1),
              f'completed I/O per path {io0} then {io1}')
    gone = str(r.get('gone.ctrls', '')).split()
    ctx.check('unplugged: two controllers left in the subsystem, both live',
              sorted(gone) == sorted(c for c in before if c != victim)
              and str(r.get('gone.states', '')).count(':live') == 2,
              f'controllers {gone} ({r.get("gone.states")!r}), before {before}, '
              f'unplugged {victim}')
    gpaths = str(r.get('gone.paths', '')).split()
    ctx.check('unplugged: two paths left to the namespace',
              len(gpaths) == 2 and not any(p.split('c')[1].split('n')[0] == victim[4:]
                                           for p in gpaths),
              f'paths {gpaths} (unplugged {victim})')
    io1, io2 = io_per_path(r.get('gone.io1')), io_per_path(r.get('gone.io2'))
    ctx.check('unplugged: I/O goes on over both remaining paths',
              len(io2) == 2 and all(io2[p] > io1.get(p, 0) for p in io2),
              f'completed I/O per path {io1} then {io2}')

    ctx.check('re-plugged: the controller has Identify SN ' + VICTIM['serial'],
              r.get('back.sn') == VICTIM['serial'],
              f'{r.get("back.ctrl")!r} sn {r.get("back.sn")!r}')
    ctx.check('re-plugged: live, in ' + NQN,
              r.get('back.state') == 'live' and r.get('back.nqn') == NQN,
              f'state {r.get("back.state")!r} nqn {r.get("back.nqn")!r}')
    back = str(r.get('back.ctrls', '')).split()
    ids = str(r.get('back.cntlids', '')).split()
    ctx.check('re-plugged: three controllers with distinct CNTLIDs',
              len(back) == 3 and len(set(ids)) == 3, f'controllers {back}, CNTLIDs {ids}')
    bpaths = str(r.get('back.paths', '')).split()
    ctx.check('re-plugged: three paths to the namespace', len(bpaths) == 3, f'paths {bpaths}')
    io1, io2 = io_per_path(r.get('back.io1')), io_per_path(r.get('back.io2'))
    new = [p for p in io2 if f'c{str(r.get("back.ctrl", ""))[4:]}n' in p]
    ctx.check('re-plugged: I/O goes over all three paths, the new one too',
              len(io2) == 3 and new and all(io2[p] > io1.get(p, 0) for p in io2),
              f'completed I/O per path {io1} then {io2} (new path {new})')

    ids = str(r.get('new.cntlids', '')).split()
    ctx.check(f'new controller {NEW["serial"]}: four controllers, distinct CNTLIDs',
              len(ids) == 4 and len(set(ids)) == 4, f'CNTLIDs {ids}')
    idns = r.get('new.idns')
    ctx.check(f'new controller {NEW["serial"]}: the shared namespace is attached '
              '(Identify Namespace NSID 1: 128 MiB, NMIC 1)',
              isinstance(idns, dict) and idns.get('nsze') == SIZE // 512
              and idns.get('nmic') == 1, f'{str(idns)[:300]}')
    io1, io2 = io_per_path(r.get('new.io1')), io_per_path(r.get('new.io2'))
    new = [p for p in io2 if f'c{str(r.get("new.ctrl", ""))[4:]}n' in p]
    ctx.check(f'new controller {NEW["serial"]}: I/O goes over all four paths, its own too',
              len(io2) == 4 and new and all(io2[p] > io1.get(p, 0) for p in io2),
              f'completed I/O per path {io1} then {io2} (new path {new})')

    if added:
        ctx.check(f'{SOLO["serial"]}: one controller in its own subsystem, namespace '
                  f'{SOLO_SIZE // MiB} MiB',
                  len(str(r.get('solo.ctrls', '')).split()) == 1
                  and r.get('solo.size') == SOLO_SIZE // 512,
                  f'controllers {r.get("solo.ctrls")!r}, size {r.get("solo.size")!r} sectors')
        ctx.expect_guest_checks(g, ['solo-subsystem-and-namespace', 'solo-write-read',
                                    'solo-gone'])

    fin = r.get('final')
    paths = []
    if isinstance(fin, list):
        for host in fin:
            for s in host.get('Subsystems', []):
                paths += [(p.get('Name'), p.get('State')) for p in s.get('Paths', [])]
    ctx.check(f'nvme list-subsys /dev/{h}: four live paths at the end',
              len(paths) == 4 and all(st == 'live' for _, st in paths), f'{paths}')

    fio = fio_json(r.get('fio'))
    jobs = fio.get('jobs', []) if fio else []
    # fio stopped by SIGINT exits with 0 or 128 (its exit value for a signal), its jobs
    # report error 0 and the verification covers what they wrote (checked below)
    ctx.check('fio: ran until stopped (exit status 0 or 128 after SIGINT)',
              r.get('fio.rc') in (0, 128), f'rc={r.get("fio.rc")!r} {r.get("fio.out")!r}')
    ctx.check('no I/O timeouts in the guest kernel log', r.get('io.timeouts') == 0,
              f'{r.get("io.timeouts")!r} nvme lines with "timeout" in dmesg (console log '
              f'{g.console_log}; the device\'s aborts and resets are traced in {g.qemu_log})')
    ctx.check('fio: two jobs reported', len(jobs) == 2, f'fio output: {str(r.get("fio"))[:300]}')
    for i, j in enumerate(jobs):
        w, rd = j.get('write', {}), j.get('read', {})
        wb, rb = w.get('io_bytes', 0), rd.get('io_bytes', 0)
        # verify_backlog=256 with QD32: at most about 300 blocks written and not yet read
        ctx.check(f'fio job {i}: no error, what it wrote was verified',
                  j.get('error') == 0 and wb > 0 and rb >= wb - 320 * 4096,
                  f'error={j.get("error")} written={wb} verified={rb}')
    if jobs:
        ctx.info('fio: ' + ', '.join(
            f'job {i} wrote {j["write"].get("io_bytes", 0) // MiB} MiB, verified '
            f'{j["read"].get("io_bytes", 0) // MiB} MiB, {j["write"].get("iops", 0):.0f} IOPS'
            for i, j in enumerate(jobs)))
    ctx.info(f'guest: path gone {r.get("gone.secs")} s after DEVICE_DELETED was answered, '
             f'back {r.get("back.secs")} s after device_add; controller {victim} ({vaddr}) '
             f'came back as {r.get("back.ctrl")} cntlid {r.get("back.cntlid")}')
    ctx.expect_guest_checks(g, ['fio-running-before-unplug', 'controller-and-path-gone',
                                'fio-running-gone', 'controller-and-path-back',
                                'fio-running-back', 'new-controller-and-path',
                                'fio-running-new'])
    if g.test_starts:
        ctx.info(f'boot to test start {g.test_starts[0]:.2f} s, whole guest run '
                 f'{g.t_done:.1f} s')


if __name__ == '__main__':
    import run
    sys.exit(run.main(['hotplug'] + sys.argv[1:]))
