# SPDX-License-Identifier: GPL-2.0-or-later
"""Shadow doorbells with ioeventfd: Linux uses Doorbell Buffer Config when OACS bit 8 is
set; with ioeventfd=on the I/O queues' doorbells signal eventfds. fio with verification on
two queues must pass, and the driver must have set the buffers up (the trace QEMU prints
when Doorbell Buffer Config succeeds)."""

import re

from guestlib import LOG_DIR, MiB, guest_script

SERIAL = 'evfd'
# hw/block/trace-events as the log backend prints them
DBBUF_RE = re.compile(r'^(?:\d+@[\d.]+:)?pci_nvme_dbbuf_config shadow doorbells 0x([0-9a-f]+) '
                      r'event indexes 0x([0-9a-f]+)$', re.M)
IOEVENTFD_RE = re.compile(r'^(?:\d+@[\d.]+:)?pci_nvme_ioeventfd doorbell 0x([0-9a-f]+) '
                          r'signals an eventfd$', re.M)
SIZE = 128 * MiB

def run(ctx):
    img = ctx.image('d0.raw', SIZE)
    g = ctx.guest(guest_script('ioeventfd'), env={'SERIAL': SERIAL}, smp=2,
                  args=['-drive', f'file={img},if=none,id=d0,format=raw',
                        '-device', f'nvme,serial={SERIAL},drive=d0,ioeventfd=on',
                        '-trace', 'pci_nvme_dbbuf_config', '-trace', 'pci_nvme_ioeventfd'])
    g.start()
    rc = g.wait_done(timeout=180)
    ctx.check('guest script finished', rc == 0, f'rc={rc}')
    oacs = int(g.results.get('oacs') or 0)
    ctx.check('Identify OACS offers Doorbell Buffer Config (bit 8)', oacs & 0x100,
              f'oacs {oacs:#x}')
    # the trace lines QEMU printed, not the command line at the top of the log (it
    # names the same events); "pid@seconds:" comes first with -msg timestamp=on
    log = (LOG_DIR / f'{ctx.test}.qemu.log').read_text(errors='replace')
    dbbuf = [m.groups() for m in DBBUF_RE.finditer(log)]
    ctx.check('Linux configured the shadow doorbell buffers (pci_nvme_dbbuf_config trace)',
              any(int(dbs, 16) and int(eis, 16) for dbs, eis in dbbuf),
              f'pci_nvme_dbbuf_config traces: {dbbuf}')
    # two vCPUs: two I/O queue pairs, an SQ tail and a CQ head doorbell each
    dbs = sorted({int(off, 16) for off in IOEVENTFD_RE.findall(log)})
    ctx.check('I/O queue doorbells signal eventfds (4 or more pci_nvme_ioeventfd traces)',
              len(dbs) >= 4, f'doorbells with an eventfd: {[hex(d) for d in dbs]}')
