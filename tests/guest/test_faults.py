# SPDX-License-Identifier: GPL-2.0-or-later
"""Faults injected from the monitor, and what a Linux host does with them.

    -device nvme-subsys,id=subsys0
    -device nvme,serial=flt-a,id=nvme0,subsys=subsys0
    -device nvme,serial=flt-b,id=nvme1,subsys=subsys0
    -device nvme-ns,drive=d0,nsid=1,subsys=subsys0              (64 MiB)

At each of the guest's sync points the host injects a fault with QMP, checks the
NVME_FAULT event, lets the guest act, then checks and removes it:
  - status 370h (Host Pathing Error) on nvme0 for 200 commands: fio verify on the
    multipath device sees no error (Linux retries on nvme1); the fault ends by count;
  - media-read on LBAs 2048-2055: a 4 KiB read there fails (ENODATA: Linux's errno
    for a medium error), the blocks around it read; the SMART log counts it;
  - write-protect: Linux makes the disk read-only (NSATTR, notice): writes fail, reads
    work; removed, it is writable again;
  - cfs, then stall, on nvme1: a command through it times out (io_timeout 5 s), Linux
    resets the controller, which ends the fault, and it works again.
"""

from guestlib import MiB, guest_script, result_json

LBA = 2048          # 4 KiB block 256 of the multipath device



def inject(g, **args):
    return g.vm.cmd('nvme-fault-inject', **args)


def fault_events(g):
    return [(e['data']['fault'], e['data']['active'], e['data'].get('reason'))
            for e in g.events('NVME_FAULT')]


def run(ctx):
    img = ctx.image('d0.raw', 64 * MiB)
    g = ctx.guest(guest_script('faults'), smp=2,
                  append='nvme_core.io_timeout=5 nvme_core.admin_timeout=5',
                  args=['-drive', f'file={img},if=none,id=d0,format=raw',
                        '-device', 'nvme-subsys,id=subsys0',
                        '-device', 'nvme,serial=flt-a,id=nvme0,subsys=subsys0',
                        '-device', 'nvme,serial=flt-b,id=nvme1,subsys=subsys0',
                        '-device', 'nvme-ns,drive=d0,nsid=1,subsys=subsys0'])
    g.start()

    g.wait_sync('path-fault', timeout=120)
    f = inject(g, id='nvme0', kind='status', status=0x370, count=200)
    g.reply('GO')
    g.wait_sync('path-fault-done', timeout=300)
    ev = fault_events(g)
    ctx.check('path fault: started, then ended by its count of 200 commands',
              ev == [(f['fault'], True, None), (f['fault'], False, 'count')], repr(ev))
    g.reply('GO')

    g.wait_sync('media', timeout=60)
    f = inject(g, id='subsys0', kind='media-read', nsid=1, slba=LBA, nlb=8)
    g.reply('GO')
    g.wait_sync('media-done', timeout=120)
    hits = {q['fault']: q['hits'] for q in g.vm.cmd('query-nvme-faults')}
    ctx.check('media fault: query-nvme-faults counts the failed reads',
              hits.get(f['fault'], 0) >= 1, repr(hits))
    g.vm.cmd('nvme-fault-remove', fault=f['fault'])
    g.reply('GO')

    g.wait_sync('wp', timeout=60)
    f = inject(g, id='subsys0', kind='write-protect', nsid=1)
    g.reply('GO')
    g.wait_sync('wp-done', timeout=120)
    g.vm.cmd('nvme-fault-remove', fault=f['fault'])
    g.reply('GO')

    for kind in ('cfs', 'stall'):
        g.wait_sync(kind, timeout=120)
        g.events()
        f = inject(g, id='nvme1', kind=kind)
        g.reply('GO')
        g.wait_sync(f'{kind}-done', timeout=300)
        ev = fault_events(g)
        ctx.check(f'{kind}: the fault ended with the reset Linux made',
                  (f['fault'], False, 'reset') in ev, repr(ev))
        left = g.vm.cmd('query-nvme-faults')
        ctx.check(f'{kind}: no fault is left', left == [], repr(left))
        g.reply('GO')

    rc = g.wait_done(timeout=120)
    ctx.check('guest script finished', rc == 0, f'rc={rc}')
    ctx.expect_guest_checks(g, [
        'fio-verify-under-path-fault', 'media-eio', 'media-before', 'media-after',
        'media-gone', 'ro-seen', 'wp-write-fails', 'wp-read-works', 'rw-seen',
        'write-after-wp', 'cfs-ctrl-live', 'cfs-read-after', 'stall-ctrl-live',
        'stall-read-after'])
    # Linux maps Unrecovered Read Error to BLK_STS_MEDIUM, which reads fail with
    # ENODATA ("No data available"); other errors would be EIO
    err = str(g.results.get('media-error') or '')
    ctx.check('the failed read reaches dd as a medium error (ENODATA)',
              'No data available' in err, repr(err))
    dmesg = str(g.results.get('media-dmesg') or '')
    ctx.check('the kernel logs a critical medium error at sector 2048',
              'critical medium error' in dmesg and 'sector 2048' in dmesg, repr(dmesg))
    media = [int(str(result_json(g, f'smart-{c}').get('media_errors', 0))) for c in 'ab']
    ctx.check("the SMART log of the controller that served the read counts the media "
              "error", sum(media) >= 1, repr(media))
    dmesg = str(g.results.get('cfs-dmesg') or '')
    ctx.check('Linux saw the fatal status and reset the controller',
              'CSTS=0x3' in dmesg or 'reset' in dmesg, dmesg.replace('|', '\n'))
