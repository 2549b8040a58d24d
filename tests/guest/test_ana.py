# SPDX-License-Identifier: GPL-2.0-or-later
"""Asymmetric Namespace Access with the seed's topology: one subsystem with ana=true, two
controllers (nvme0 serial foo, nvme1 serial bar), ns1 in ANA group 1 and ns2 in group 2.

Before an injection: Identify Controller's ANA fields (nvme id-ctrl), the ANA log of each
controller (nvme ana-log), ana_state/ana_grpid of the four path devices. Then the seed's
HMP command, exactly as written, through QMP human-monitor-command: its output line, the
NVME_ANA_STATE_CHANGED event, query-nvme-ana; the guest gets the AEN, reads the log and
marks nvme0's path to ns1 inaccessible, nvme1's stays optimized, the ANA log of nvme0 shows
group 1 inaccessible with a higher change count; dd and fio verify on the multipath
device work, through nvme1 only (path device statistics). Then recovery (optimized again).

test_ana_flips.py runs fio verify across many state changes; test_ana_errors.py checks
the monitor's errors. Both import the topology from here.
"""

import json
import sys

from guestlib import MiB, fio_json, guest_script

SEED_HMP = 'nvme_ana_inject_state nvme0 1 inaccessible'
SEED_HMP_OUT = 'nvme0: ANA state inaccessible(3) injected'
CTRLS = (('nvme0', 'foo'), ('nvme1', 'bar'))     # QEMU id, serial
NAMESPACES = ((1, 1), (2, 2))                     # nsid, ANA group
ANA_GRP_MAX = 128
ANATT = 10
STATE_VALUE = {'optimized': 1, 'non-optimized': 2, 'inaccessible': 3,
               'persistent-loss': 4, 'change': 15}
EVENT = 'NVME_ANA_STATE_CHANGED'


def seed_args(ctx, sizes=(128 * MiB, 256 * MiB), iothread=None):
    """The seed's command line (drives drv10, drv11 as sparse raw images); with
    @iothread, both controllers run in an iothread of that id."""
    args = []
    ctrl = ''
    for i, size in enumerate(sizes):
        img = ctx.image(f'drv1{i}.raw', size)
        args += ['-drive', f'file={img},if=none,id=drv1{i},format=raw']
    if iothread:
        args += ['-object', f'iothread,id={iothread}']
        ctrl = f',iothread={iothread}'
    return args + [
        '-device', 'nvme-subsys,id=subsys0,ana=true',
        '-device', f'nvme,serial=foo,id=nvme0,subsys=subsys0{ctrl}',
        '-device', f'nvme,serial=bar,id=nvme1,subsys=subsys0{ctrl}',
        '-device', 'nvme-ns,id=ns1,drive=drv10,nsid=1,subsys=subsys0,ana.grpid=1',
        '-device', 'nvme-ns,id=ns2,drive=drv11,nsid=2,subsys=subsys0,ana.grpid=2',
    ]


def ana_table(query):
    """query-nvme-ana -> {(ctrl id, grpid): (state, nsids)}, {ctrl id: change count},
    {ctrl id: cntlid}."""
    states, counts, cntlids = {}, {}, {}
    for sub in query or []:
        for c in sub.get('controllers', []):
            counts[c['id']] = c['change-count']
            cntlids[c['id']] = c['cntlid']
            for g in c.get('groups', []):
                states[(c['id'], g['grpid'])] = (g['state'], list(g.get('nsids', [])))
    return states, counts, cntlids


def hmp_lines(text):
    return [l.rstrip('\r') for l in (text or '').splitlines() if l.strip()]


def fio_summary(v):
    """(ok, text): every job without error, bytes written and verified."""
    j = fio_json(v)
    if not j or not j.get('jobs'):
        return False, f'no fio JSON: {str(v)[:300]}'
    bad, parts = [], []
    for i, job in enumerate(j['jobs']):
        w, r = job.get('write', {}), job.get('read', {})
        parts.append(f'job {i}: error={job.get("error")} written={w.get("io_bytes")} '
                     f'verified={r.get("io_bytes")}')
        if job.get('error') != 0 or not w.get('io_bytes') or r.get('io_bytes') != w.get('io_bytes'):
            bad.append(i)
    return not bad, '; '.join(parts)


def run(ctx):
    g = ctx.guest(guest_script('ana'), smp=2, args=seed_args(ctx))
    g.start()
    states, counts, cntlids = ana_table(g.vm.cmd('query-nvme-ana'))
    want = {(c, grp): ('optimized', [nsid]) for c, _ in CTRLS for nsid, grp in NAMESPACES}
    ctx.check('query-nvme-ana at start: both controllers, groups 1 [ns 1] and 2 [ns 2], '
              'optimized, change count 0',
              states == want and counts == {'nvme0': 0, 'nvme1': 0},
              f'states {states}, change counts {counts}')

    g.wait_sync('inject', timeout=90)
    r = g.results
    check_before(ctx, r, cntlids)

    # the seed's HMP command, as written
    g.events()
    out = g.hmp(SEED_HMP)
    ctx.check(f'HMP "{SEED_HMP}" prints "{SEED_HMP_OUT}"', hmp_lines(out) == [SEED_HMP_OUT],
              f'output {out!r}')
    check_event(ctx, g, 'nvme0', cntlids.get('nvme0'), 1, 'inaccessible', 1)
    states, counts, _ = ana_table(g.vm.cmd('query-nvme-ana'))
    want[('nvme0', 1)] = ('inaccessible', [1])
    ctx.check('query-nvme-ana after the injection: nvme0 group 1 inaccessible, change count '
              '1; nvme1 unchanged', states == want and counts == {'nvme0': 1, 'nvme1': 0},
              f'states {states}, change counts {counts}')
    info = g.hmp('info nvme_ana')
    ctx.check('info nvme_ana shows nvme0 group 1 inaccessible',
              'controller nvme0 cntlid 1 change count 1' in info
              and 'group 1: inaccessible, nsids 1' in info, f'info nvme_ana:\n{info}')
    g.reply('GO')

    g.wait_sync('recover', timeout=120)
    check_after(ctx, r)

    out = g.hmp('nvme_ana_inject_state nvme0 1 optimized')
    ctx.check('HMP recovery prints "nvme0: ANA state optimized(1) injected"',
              hmp_lines(out) == ['nvme0: ANA state optimized(1) injected'], f'output {out!r}')
    check_event(ctx, g, 'nvme0', cntlids.get('nvme0'), 1, 'optimized', 2)
    g.reply('GO')
    rc = g.wait_done(timeout=90)
    ctx.check('guest script finished', rc == 0, f'rc={rc}')
    check_recovered(ctx, r)
    extra = g.events(EVENT)
    ctx.check('no other NVME_ANA_STATE_CHANGED events', not extra, f'events {extra}')
    ctx.expect_guest_checks(g, ['dd-write-multipath', 'dd-read-after-recovery'])
    if g.test_starts:
        ctx.info(f'boot to test start {g.test_starts[0]:.1f} s, whole guest run '
                 f'{g.t_done:.1f} s')


def check_event(ctx, g, ctrl, cntlid, grpid, state, count, timeout=10):
    want = {'controller': ctrl, 'cntlid': cntlid, 'grpid': grpid, 'state': state,
            'change-count': count}
    try:
        ev = g.event_wait(EVENT, timeout=timeout)
    except TimeoutError:
        ctx.check(f'event {EVENT} {want}', False, f'none in {timeout} s')
        return
    ctx.check(f'event {EVENT} {want}', ev.get('data') == want, f'got {ev.get("data")}')


def check_before(ctx, r, cntlids):
    ctx.check('guest found both controllers by Identify SN',
              r.get('ctrl.foo') and r.get('ctrl.bar') and r.get('ctrl.foo') != r.get('ctrl.bar'),
              f'foo -> {r.get("ctrl.foo")!r}, bar -> {r.get("ctrl.bar")!r}')
    for (qid, sn) in CTRLS:
        ctrl = r.get(f'ctrl.{sn}')
        ctx.check(f'{sn}: guest controller {ctrl} is live, cntlid {cntlids.get(qid)} as '
                  f'query-nvme-ana says for {qid}',
                  r.get(f'state.{sn}') == 'live'
                  and str(r.get(f'cntlid.{sn}')) == str(cntlids.get(qid)),
                  f'state {r.get(f"state.{sn}")!r}, sysfs cntlid {r.get(f"cntlid.{sn}")!r}')
        idc = r.get(f'b.idctrl.{sn}')
        if not isinstance(idc, dict):
            ctx.check(f'{sn}: nvme id-ctrl -o json', False, f'{str(idc)[:300]}')
            continue
        cmic, oaes, nn, mnan = (idc.get(k, 0) for k in ('cmic', 'oaes', 'nn', 'mnan'))
        ctx.check(f'{sn}: id-ctrl sn is {sn}', str(idc.get('sn', '')).strip() == sn,
                  f'sn {idc.get("sn")!r}')
        ctx.check(f'{sn}: id-ctrl cmic has bit 1 (several controllers) and bit 3 (ANA)',
                  cmic & 0x0a == 0x0a, f'cmic {cmic:#x}')
        ctx.check(f'{sn}: id-ctrl oaes has bit 11 (ANA change notices)', oaes & 0x800,
                  f'oaes {oaes:#x}')
        ctx.check(f'{sn}: id-ctrl anatt {ANATT}', idc.get('anatt') == ANATT,
                  f'anatt {idc.get("anatt")}')
        ctx.check(f'{sn}: id-ctrl anacap lists optimized, non-optimized, inaccessible, '
                  f'persistent loss and change (bits 0-4)',
                  idc.get('anacap', 0) & 0x1f == 0x1f, f'anacap {idc.get("anacap", 0):#x}')
        ctx.check(f'{sn}: id-ctrl anagrpmax and nanagrpid {ANA_GRP_MAX}',
                  idc.get('anagrpmax') == ANA_GRP_MAX and idc.get('nanagrpid') == ANA_GRP_MAX,
                  f'anagrpmax {idc.get("anagrpmax")}, nanagrpid {idc.get("nanagrpid")}')
        ctx.check(f'{sn}: id-ctrl mnan between 1 and nn', 1 <= mnan <= nn,
                  f'mnan {mnan}, nn {nn}')
        ctx.info(f'{sn}: cmic {cmic:#x} oaes {oaes:#x} anatt {idc.get("anatt")} anacap '
                 f'{idc.get("anacap", 0):#x} anagrpmax {idc.get("anagrpmax")} nanagrpid '
                 f'{idc.get("nanagrpid")} mnan {mnan} nn {nn}')
        check_log(ctx, f'{sn}: before: ana-log', r.get(f'b.analog.{sn}'),
                  {1: 'optimized', 2: 'optimized'}, 0, {1: 0, 2: 0})
        got = [r.get(f'b.anagrpid.{sn}.{nsid}') for nsid, _ in NAMESPACES]
        ctx.check(f'{sn}: id-ns anagrpid of ns 1 and 2 is 1 and 2',
                  got == [grp for _, grp in NAMESPACES], f'anagrpid {got}')
    check_rgo(ctx, 'foo: before: ana-log --groups (RGO)', r.get('b.rgo.foo'),
              {1: 'optimized', 2: 'optimized'})
    head = str(r.get('head', '')).split()
    ctx.check('multipath devices for ns 1 and ns 2', len(head) == 2 and 'none' not in head,
              f'{r.get("head")!r}')
    check_paths(ctx, 'before', r, 'b', {})


def check_log(ctx, name, log, want_states, want_count, want_grp_counts):
    """ANA log (nvme-cli 2.3 JSON): groups 1 [1] and 2 [2] in want_states, header change
    count want_count (or a callable), group change counts."""
    if not isinstance(log, dict):
        ctx.check(name, False, f'nvme ana-log -o json: {str(log)[:300]}')
        return
    descs = log.get('ANA DESC LIST ', log.get('ANA DESC LIST', []))
    got = {}
    for d in descs:
        nsids = [n.get('nsid') for n in d.get('NSIDS', [])]
        got[d.get('grpid')] = (d.get('state'), nsids, d.get('chgcnt'))
    want = {grp: (want_states[grp], [nsid], want_grp_counts[grp]) for nsid, grp in NAMESPACES}
    cc = log.get('chgcnt')
    ok_cc = want_count(cc) if callable(want_count) else cc == want_count
    ctx.check(f'{name}: {log.get("ngrps")} groups {want} (state, nsids, group change count), '
              f'change count {cc}', log.get('ngrps') == 2 and got == want and ok_cc,
              f'got ngrps {log.get("ngrps")}, groups {got}, change count {cc}')


def check_rgo(ctx, name, log, want_states):
    """ANA log with RGO (groups only): both groups, their states, no NSIDs."""
    if not isinstance(log, dict):
        ctx.check(name, False, f'nvme ana-log --groups -o json: {str(log)[:300]}')
        return
    descs = log.get('ANA DESC LIST ', log.get('ANA DESC LIST', []))
    got = {d.get('grpid'): (d.get('state'), d.get('nnsids'), len(d.get('NSIDS', [])))
           for d in descs}
    want = {grp: (st, 0, 0) for grp, st in want_states.items()}
    ctx.check(f'{name}: groups {want} (state, nnsids, NSIDs listed)',
              log.get('ngrps') == len(want) and got == want,
              f'ngrps {log.get("ngrps")}, groups {got}')


def check_paths(ctx, when, r, prefix, changed):
    """Every path device: ana_state (optimized unless in `changed`) and ana_grpid."""
    for _, sn in CTRLS:
        for nsid, grp in NAMESPACES:
            v = str(r.get(f'{prefix}.path.{sn}.{nsid}', '')).split()
            state = changed.get((sn, nsid), 'optimized')
            ctx.check(f'{when}: path {sn}/ns{nsid} ({v[0] if v else "?"}) ana_state {state}, '
                      f'ana_grpid {grp}', len(v) == 3 and v[1:] == [state, str(grp)],
                      f'sysfs says {v}')


def check_after(ctx, r):
    w = str(r.get('a.waited', '')).split()
    ok = len(w) == 3 and w[0] == '0'
    ctx.check('guest: nvme0 path to ns1 became inaccessible (AEN, ANA log read)', ok,
              f'not in 15 s (rc, uptime before, after: {r.get("a.waited")!r}); with no I/O '
              f'running only the ANA change notice can tell Linux (core.c '
              f'nvme_handle_aen_notice queues ana_work; multipath.c nvme_read_ana_log)')
    if ok:
        ctx.info(f'guest saw inaccessible {float(w[2]) - float(w[1]):.2f} s after the '
                 f'injection reply')
    check_paths(ctx, 'after the injection', r, 'a', {('foo', 1): 'inaccessible'})
    check_log(ctx, 'foo: after the injection: ana-log', r.get('a.analog.foo'),
              {1: 'inaccessible', 2: 'optimized'}, lambda cc: cc == 1, {1: 1, 2: 0})
    check_rgo(ctx, 'foo: after the injection: ana-log --groups (RGO)', r.get('a.rgo.foo'),
              {1: 'inaccessible', 2: 'optimized'})
    check_log(ctx, 'bar: after the injection: ana-log unchanged', r.get('a.analog.bar'),
              {1: 'optimized', 2: 'optimized'}, 0, {1: 0, 2: 0})
    pat = r.get('a.pattern')
    ctx.check('dd through the multipath device reads back what it wrote',
              pat and r.get('a.readback') == pat, f'wrote {pat!r}, read {r.get("a.readback")!r}')
    ok, text = fio_summary(r.get('a.fio'))
    ctx.check('fio randwrite verify on the multipath device: no error, all verified',
              ok and r.get('a.fio.rc') == 0, f'rc {r.get("a.fio.rc")}: {text}')
    s0, s1 = _stat(r.get('a0.stat')), _stat(r.get('a1.stat'))
    if s0 and s1:
        d = [b - a for a, b in zip(s0, s1)]
        ctx.check('the I/O went through nvme1 only (sectors read/written on nvme0\'s path '
                  'unchanged, on nvme1\'s grew)',
                  d[0] == 0 and d[1] == 0 and d[2] > 0 and d[3] >= 2 * 8 * MiB // 512,
                  f'sectors read/written: nvme0 path +{d[0]}/+{d[1]}, nvme1 path '
                  f'+{d[2]}/+{d[3]}')
    else:
        ctx.check('path statistics', False, f'{r.get("a0.stat")!r} {r.get("a1.stat")!r}')


def check_recovered(ctx, r):
    w = str(r.get('r.waited', '')).split()
    ctx.check('guest: nvme0 path to ns1 optimized again', len(w) == 3 and w[0] == '0',
              f'waited 15 s: {r.get("r.waited")!r}')
    check_paths(ctx, 'after recovery', r, 'r', {})
    check_log(ctx, 'foo: after recovery: ana-log', r.get('r.analog.foo'),
              {1: 'optimized', 2: 'optimized'}, 2, {1: 2, 2: 0})
    pat = r.get('a.pattern')
    ctx.check('after recovery the multipath device reads the same data',
              pat and r.get('r.readback') == pat, f'wrote {pat!r}, read {r.get("r.readback")!r}')
    s0, s1 = _stat(r.get('r0.stat')), _stat(r.get('r1.stat'))
    if s0 and s1:
        d = [b - a for a, b in zip(s0, s1)]
        ctx.info(f'after recovery, 32 MiB read: nvme0 path +{d[0]} sectors, nvme1 path '
                 f'+{d[2]} sectors (the numa policy keeps a cached optimized path)')


def _stat(v):
    try:
        return [int(x) for x in str(v).split()]
    except ValueError:
        return None


if __name__ == '__main__':
    import run
    sys.exit(run.main(['ana'] + sys.argv[1:]))
