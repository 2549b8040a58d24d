# SPDX-License-Identifier: GPL-2.0-or-later
"""Reservations as nvme-cli makes them (resv-register, -acquire, -report, -release).

    -device nvme-subsys,id=subsys0
    -device nvme,serial=rsv-a,id=nvme0,subsys=subsys0
    -device nvme,serial=rsv-b,id=nvme1,subsys=subsys0
    -device nvme-ns,drive=d0,nsid=1,subsys=subsys0

Through the multipath device, Linux is one host on both paths (it sets no Host
Identifier on PCIe): a Write Exclusive reservation it holds lets it write through
either controller, and the report lists both controllers as that registrant's. Then
rsv-b gets a Host Identifier of its own and acts as a second host: it is fenced from
writing (Reservation Conflict) but reads, preempts the first host with its key, which
is then fenced and finds a "registration preempted" notice in log page 80h.
"""

from guestlib import MiB, guest_script, result_json

SIZE = 64 * MiB



def run(ctx):
    img = ctx.image('d0.raw', SIZE)
    g = ctx.guest(guest_script('resv'), smp=2,
                  args=['-drive', f'file={img},if=none,id=d0,format=raw',
                        '-device', 'nvme-subsys,id=subsys0',
                        '-device', 'nvme,serial=rsv-a,id=nvme0,subsys=subsys0',
                        '-device', 'nvme,serial=rsv-b,id=nvme1,subsys=subsys0',
                        '-device', 'nvme-ns,drive=d0,nsid=1,subsys=subsys0'])
    g.start()
    rc = g.wait_done(timeout=600)
    ctx.check('guest script finished', rc == 0, f'rc={rc}')
    ctx.expect_guest_checks(g, [
        'register', 'acquire', 'write-as-holder', 'write-path-a', 'write-path-b',
        'release', 'unregister', 'set-hostid-b', 'a-register', 'a-acquire',
        'b-write-fenced', 'b-read-allowed', 'b-register', 'b-preempt',
        'b-write-after-preempt', 'a-write-fenced', 'notice-log', 'b-release',
        'a-write-again'])

    oncs = result_json(g, 'id-ctrl').get('oncs', 0)
    ctx.check('Identify Controller: ONCS has Reservations', oncs & 0x20 == 0x20,
              f'oncs {oncs:#x}')
    rescap = result_json(g, 'id-ns').get('rescap', 0)
    ctx.check('Identify Namespace: RESCAP lists the six types and IEKEY',
              rescap == 0xfe, f'rescap {rescap:#x}')

    held = result_json(g, 'report-held')
    regs = held.get('regctls') or []
    ctx.check('report: Write Exclusive held, one host on two controllers',
              held.get('rtype') == 1 and held.get('regctl') == 2
              and sorted(r.get('cntlid') for r in regs) == [1, 2]
              and all(r.get('rcsts') == 1 and r.get('rkey') == 0xabc for r in regs),
              repr(held))
    empty = result_json(g, 'report-empty')
    ctx.check('report after release and unregister: nothing held, nobody registered,'
              ' generation 2', empty.get('rtype') == 0 and empty.get('regctl') == 0
              and empty.get('gen') == 2, repr(empty))

    err = (g.results.get('b-write-error') or '').upper()
    ctx.check('the fenced write reports Reservation Conflict',
              'RESERVATION' in err or '0x83' in err.lower(), repr(err))
    pre = result_json(g, 'report-preempted')
    regs = pre.get('regctls') or []
    ctx.check('report after the preemption: rsv-b alone holds Write Exclusive',
              pre.get('rtype') == 1 and pre.get('regctl') == 1 and len(regs) == 1
              and regs[0].get('cntlid') == 2 and regs[0].get('rcsts') == 1
              and regs[0].get('rkey') == 0xb, repr(pre))
    notice = (g.results.get('notice') or '').split()
    ctx.check('log page 80h: count 1, "registration preempted" (type 1), nsid 1',
              notice[:16] == ['01', '00', '00', '00', '00', '00', '00', '00',
                              '01', '00', '00', '00', '01', '00', '00', '00'],
              ' '.join(notice))
