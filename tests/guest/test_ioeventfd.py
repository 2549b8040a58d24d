# SPDX-License-Identifier: GPL-2.0-or-later
"""Shadow doorbells with ioeventfd: Linux uses Doorbell Buffer Config when OACS bit 8 is
set; with ioeventfd=on the I/O queues' doorbells signal eventfds. fio with verification on
two queues must pass, and the driver must have set the buffers up (dbbuf in its log)."""

from guestlib import LOG_DIR, MiB

SERIAL = 'evfd'
SIZE = 128 * MiB

GUEST = r'''
. /guestlib.sh
c=$(ctrl_by_serial SERIAL)
dev=/dev/${c}n1
result dev "$dev"
result oacs "$(nvme id-ctrl /dev/$c -o json | tr -d ' \n' | sed 's/.*"oacs":\([0-9]*\).*/\1/')"
check fio-verify fio --name=v --filename=$dev --rw=randwrite --bs=4k --iodepth=16 \
    --numjobs=2 --size=16M --offset_increment=32M --ioengine=libaio --direct=1 \
    --verify=crc32c --do_verify=1
check fio-read fio --name=r --filename=$dev --rw=randread --bs=64k --iodepth=8 \
    --size=32M --ioengine=libaio --direct=1
'''


def run(ctx):
    img = ctx.image('d0.raw', SIZE)
    g = ctx.guest(GUEST.replace('SERIAL', SERIAL), smp=2,
                  args=['-drive', f'file={img},if=none,id=d0,format=raw',
                        '-device', f'nvme,serial={SERIAL},drive=d0,ioeventfd=on',
                        '-trace', 'nvme_dbbuf_config', '-trace', 'nvme_ioeventfd'])
    g.start()
    rc = g.wait_done(timeout=180)
    ctx.check('guest script finished', rc == 0, f'rc={rc}')
    oacs = int(g.results.get('oacs') or 0)
    ctx.check('Identify OACS offers Doorbell Buffer Config (bit 8)', oacs & 0x100,
              f'oacs {oacs:#x}')
    log = (LOG_DIR / f'{ctx.test}.qemu.log').read_text(errors='replace')
    ctx.check('Linux configured the shadow doorbell buffers', 'nvme_dbbuf_config' in log,
              'no nvme_dbbuf_config trace in the QEMU log')
    ctx.check('I/O queue doorbells signal eventfds', log.count('nvme_ioeventfd') >= 4,
              f'{log.count("nvme_ioeventfd")} eventfds attached')
