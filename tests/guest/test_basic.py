# SPDX-License-Identifier: GPL-2.0-or-later
"""One NVMe controller with one 256 MiB namespace: probe, identify, logs, features, fio
with verification, controller reset, and a guest reboot that probes it again."""

import hashlib
import json
import sys

from guestlib import MiB, fio_json, guest_script, nvme_device

SERIAL = 'deadbeef'
SIZE = 256 * MiB
PATTERN_OFFSET = 200 * MiB      # 1 MiB written there by the guest, outside fio's 64 MiB
PATTERN_SIZE = 1 * MiB
# the guest's part: guest/basic.sh (fio writes and verifies two jobs of 32 MiB)


def run(ctx):
    img = ctx.image('d0.raw', SIZE)
    g = ctx.guest(guest_script('basic'), smp=2, reboot=True,
                  env={'SERIAL': SERIAL, 'PSEEK': PATTERN_OFFSET // (64 * 1024)},
                  args=['-drive', f'file={img},if=none,id=d0,format=raw',
                        '-device', f'{nvme_device()},serial={SERIAL},drive=d0'])
    g.start()
    g.wait_sync('boot', timeout=60)
    boot1 = g.test_starts[0] if g.test_starts else None
    g.reply('GO 1')
    g.wait_sync('reboot', timeout=240)
    g.reply('GO')
    g.wait_sync('boot', timeout=60)
    ctx.check('reboot: guest booted a second time', len(g.test_starts) == 2,
              f'test started {len(g.test_starts)} times')
    g.reply('GO 2')
    rc = g.wait_done(timeout=120)
    ctx.check('guest script finished', rc == 0, f'rc={rc}')

    r = g.results
    for b, what in (('b1', 'boot'), ('b2', 'reboot')):
        ctrl = r.get(f'{b}.ctrl', '')
        ctrls = str(r.get(f'{b}.ctrls', '')).split()
        ctx.check(f'{what}: driver probed /sys/class/nvme/nvme0', 'nvme0' in ctrls,
                  f'/sys/class/nvme has {ctrls}')
        ctx.check(f'{what}: sysfs serial is {SERIAL}',
                  str(r.get(f'{b}.serial', '')).strip() == SERIAL,
                  f'serial {r.get(f"{b}.serial")!r} (controller {ctrl!r})')
        ctx.check(f'{what}: controller state live', r.get(f'{b}.state') == 'live',
                  f'state {r.get(f"{b}.state")!r}')
        devs = (r.get(f'{b}.list') or {}).get('Devices', []) \
            if isinstance(r.get(f'{b}.list'), dict) else []
        ctx.check(f'{what}: nvme list shows one namespace', len(devs) == 1,
                  f'nvme list: {str(r.get(f"{b}.list"))[:300]}')
        if devs:
            d = devs[0]
            size = d.get('PhysicalSize') or d.get('MaximumLBA', 0) * d.get('SectorSize', 0)
            ctx.check(f'{what}: namespace size {SIZE // MiB} MiB', size == SIZE,
                      f'nvme list says {size} bytes ({d})')
        ctx.check(f'{what}: block device size {SIZE // MiB} MiB',
                  str(r.get(f'{b}.blocksize')) == str(SIZE // 512),
                  f'/sys/block/.../size = {r.get(f"{b}.blocksize")!r} sectors')

    idc = r.get('b1.id-ctrl')
    ctx.check('id-ctrl -o json answers', isinstance(idc, dict) and r.get('b1.id-ctrl.rc') == 0,
              f'rc={r.get("b1.id-ctrl.rc")} {str(idc)[:300]}')
    if isinstance(idc, dict):
        ctx.check(f'id-ctrl sn is {SERIAL}', str(idc.get('sn', '')).strip() == SERIAL,
                  f'sn={idc.get("sn")!r}')
    ctx.info(f'get-feature -f 7: {r.get("b1.nqueues")}')

    fio = fio_json(r.get('b1.fio'))
    jobs = fio.get('jobs', []) if fio else []
    ctx.check('fio: two jobs reported', len(jobs) == 2, f'fio output: {str(r.get("b1.fio"))[:300]}')
    for i, j in enumerate(jobs):
        w, rd = j.get('write', {}), j.get('read', {})
        ctx.check(f'fio job {i}: no error, 32 MiB written and verified',
                  j.get('error') == 0 and w.get('io_bytes') == 32 * MiB
                  and rd.get('io_bytes') == 32 * MiB,
                  f'error={j.get("error")} written={w.get("io_bytes")} '
                  f'verified={rd.get("io_bytes")}')
    if jobs:
        ctx.info('fio randwrite 4k QD32: ' + ', '.join(
            f'job {i} {j["write"].get("iops", 0):.0f} IOPS' for i, j in enumerate(jobs)))

    ctx.check('reset: controller live again', r.get('b1.state-after-reset') == 'live',
              f'state {r.get("b1.state-after-reset")!r}')
    pat = r.get('b1.pattern')
    ctx.check('reset: data read back after reset', pat and r.get('b1.pattern-after-reset') == pat,
              f'md5 {r.get("b1.pattern-after-reset")!r}, wrote {pat!r}')
    ctx.check('reboot: data read back after reboot', pat and r.get('b2.pattern') == pat,
              f'md5 {r.get("b2.pattern")!r}, wrote {pat!r}')
    with open(img, 'rb') as f:
        f.seek(PATTERN_OFFSET)
        host_md5 = hashlib.md5(f.read(PATTERN_SIZE)).hexdigest()
    ctx.check('image file holds the data the guest wrote', host_md5 == pat,
              f'md5 at {PATTERN_OFFSET} is {host_md5}, guest wrote {pat!r}')

    ctx.expect_guest_checks(g, ['smart-log', 'error-log', 'get-feature-7', 'fio-randwrite-verify',
                                'pattern-write', 'reset', 'fio-verify-after-reset',
                                'read-after-reboot'])
    if boot1 is not None:
        ctx.info(f'boot to test start {boot1:.2f} s (2 vCPUs), whole guest run '
                 f'{g.t_done:.1f} s')


if __name__ == '__main__':
    import run
    sys.exit(run.main(['basic'] + sys.argv[1:]))
