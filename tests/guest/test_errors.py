# SPDX-License-Identifier: GPL-2.0-or-later
"""Backend errors: the drive's rerror/werror policy is honoured.

blkdebug injects the errors: every read of the 4 KiB at 100 MiB fails with EIO, the first
write at 200 MiB fails with ENOSPC. With rerror=report the guest's read fails with a media
error (Unrecovered Read Error), counted in the SMART log and recorded in the error log; with
werror=stop the VM pauses on the write, and after `cont` the write is retried and succeeds."""

from guestlib import MiB, guest_script

SERIAL = 'errs'
SIZE = 256 * MiB
READ_BAD = 100 * MiB
WRITE_BAD = 200 * MiB

BLKDEBUG = f'''[inject-error]
event = "none"
iotype = "read"
errno = "5"
sector = "{READ_BAD // 512}"
once = "off"

[inject-error]
event = "none"
iotype = "write"
errno = "28"
sector = "{WRITE_BAD // 512}"
once = "on"
'''

def run(ctx):
    img = ctx.image('d0.raw', SIZE)
    cfg = ctx.tmp / 'blkdebug.conf'
    cfg.write_text(BLKDEBUG)
    drive = (f'if=none,id=d0,format=raw,werror=stop,rerror=report,'
             f'file.driver=blkdebug,file.config={cfg},'
             f'file.image.driver=file,file.image.filename={img}')
    env = {'SERIAL': SERIAL, 'RSKIP': READ_BAD // 4096, 'WSEEK': WRITE_BAD // 4096}
    g = ctx.guest(guest_script('errors'), env=env,
                  args=['-drive', drive, '-device', f'nvme,serial={SERIAL},drive=d0',
                        '-trace', 'nvme_io_error'])
    g.start()
    g.wait_sync('write', timeout=90)
    g.events()                          # those of the boot: not this test's
    g.reply('GO')

    try:
        stopped = g.event_wait('STOP', timeout=60)
    except TimeoutError:
        stopped = None
    ctx.check('werror=stop: the VM stops on the failed write', stopped is not None,
              'no STOP event within 60 s')
    status = g.vm.cmd('query-status')
    ctx.check('werror=stop: status io-error', status.get('status') == 'io-error',
              f'query-status: {status}')
    ioerr = g.events('BLOCK_IO_ERROR', wait=0.5)
    ctx.check('werror=stop: BLOCK_IO_ERROR event with action stop',
              any(e['data'].get('action') == 'stop' and e['data'].get('operation') == 'write'
                  for e in ioerr), f'events: {ioerr}')
    g.vm.cmd('cont')
    rc = g.wait_done(timeout=90)
    ctx.check('guest script finished', rc == 0, f'rc={rc}')

    r = g.results
    # Unrecovered Read Error is a media error to Linux (core.c nvme_error_status:
    # BLK_STS_MEDIUM), which the reader gets as ENODATA (blk_errors[]), not EIO
    ctx.check('rerror=report: the read of the bad block fails in the guest with ENODATA '
              '(a media error)',
              r.get('dd-read.rc') not in (None, 0) and 'No data available' in str(
                  r.get('dd-read', '')),
              f'dd exit {r.get("dd-read.rc")!r}: {r.get("dd-read")!r}')
    dev = str(r.get('dev', '')).rpartition('/')[2]
    where = f'critical medium error, dev {dev}, sector {READ_BAD // 512} op 0x0:(READ)'
    ctx.check(f'the guest kernel reports it on the bad block ("{where}")',
              bool(dev) and where in str(r.get('dd-read.dmesg', '')),
              f'dmesg: {r.get("dd-read.dmesg")!r}')
    smart = r.get('smart') if isinstance(r.get('smart'), dict) else {}
    ctx.check('SMART log counts the media error', int(smart.get('media_errors', 0)) >= 1,
              f'smart-log: {str(smart)[:300]}')
    errlog = r.get('errlog') if isinstance(r.get('errlog'), dict) else {}
    entries = errlog.get('errors', []) if errlog else []
    # nvme-cli prints the status field without the phase tag: SCT 2, SC 81h; the LBA
    # is the first of the read (512-byte blocks)
    bad = [e for e in entries if int(e.get('status_field', 0)) & 0x7ff == 0x281
           and e.get('lba') == READ_BAD // 512 and e.get('nsid') == 1]
    ctx.check(f'error log holds an Unrecovered Read Error entry for nsid 1, LBA '
              f'{READ_BAD // 512}', bool(bad), f'error-log: {str(errlog)[:400]}')
    ctx.check('werror=stop: the write is retried after cont and lands',
              r.get('readback') == r.get('pattern') and r.get('pattern'),
              f'pattern {r.get("pattern")} read back {r.get("readback")}')
