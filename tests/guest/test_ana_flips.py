# SPDX-License-Identifier: GPL-2.0-or-later
"""fio with verification on the multipath device of ns1 while the host flips ANA group 1
through QMP (nvme-ana-set-state) many times, in the seed's topology.

The guest runs fio (4k randwrite, iodepth 16, two jobs on separate 16 MiB halves, verify
crc32c) over and over until the host has finished; every run writes and then verifies its
data, so every flip lands in a write or a verify phase. A watcher in the guest prints the
ana_state of both paths to ns1 when it changes ("ANAWATCH <nvme0's> <nvme1's>") and the
sectors moved through each path every ~0.1-0.2 s, more often while a path is in change
("ANAIO <nvme0's> <nvme1's>").

For each step the host checks: the NVME_ANA_STATE_CHANGED events (controller, state,
change count; a transition gives 'change' then its target), that the guest saw the new
states (and the 'change' state of a transition), and which paths carried I/O in the new
state: only the optimized path when there is exactly one, the non-optimized one when it
is the only usable path, none at all when no path is usable (I/O waits in the multipath
requeue list) and I/O again when a path returns. Steps: non-optimized, inaccessible and
persistent loss on each controller in turn, transitions through change, all paths
inaccessible (by subsystem id) and then one path back, all paths in change, and all paths
inaccessible one at a time.

The console log (build/guest/logs/ana_flips.console.log) ends with the kernel's NVMe lines
("DMESG ...", with multipath.c's debug lines: every ANA log the host parsed). ANA_DEBUG=1 in
the environment adds QEMU trace events (ANA states, AENs, log reads, failed commands) to
build/guest/logs/ana_flips.qemu.log.

At the end: every fio run exited 0 with no I/O error and no verify failure, the kernel
requeued I/O while no path was usable, and reset no controller; query-nvme-ana matches
the states and change counts the host expects.
"""

import os
import re
import sys
import time

from guestlib import guest_script
from test_ana import EVENT, ana_table, seed_args

FIO_SIZE_MB = 16                # each of fio's two jobs (guest/ana_flips.sh)
CTRLS = ('nvme0', 'nvme1')

# (label, controller or subsystem id, state, transition-ms or None, hold seconds); a
# transition lasts 2 s or more: the watcher samples the paths' I/O every ~0.2 s, and the
# path in change is judged from the third sample on (io_verdict wants 4)
STEPS = [
    ('nvme0 non-optimized', 'nvme0', 'non-optimized', None, 2.0),
    ('nvme1 non-optimized as well', 'nvme1', 'non-optimized', None, 2.0),
    ('nvme0 optimized again', 'nvme0', 'optimized', None, 2.0),
    ('nvme1 inaccessible', 'nvme1', 'inaccessible', None, 2.0),
    ('nvme1 back to optimized through change (2000 ms)', 'nvme1', 'optimized', 2000, 1.5),
    ('nvme0 inaccessible', 'nvme0', 'inaccessible', None, 2.0),
    ('nvme0 persistent loss', 'nvme0', 'persistent-loss', None, 2.0),
    ('nvme0 to non-optimized through change (2500 ms)', 'nvme0', 'non-optimized', 2500, 2.0),
    ('nvme0 optimized', 'nvme0', 'optimized', None, 1.5),
    ('all paths inaccessible (subsys0)', 'subsys0', 'inaccessible', None, 3.0),
    ('nvme1 returns through change (2000 ms)', 'nvme1', 'optimized', 2000, 2.0),
    ('nvme0 returns', 'nvme0', 'optimized', None, 1.5),
    ('all paths through change to optimized (subsys0, 3000 ms)', 'subsys0', 'optimized', 3000,
     1.5),
    ('nvme0 inaccessible (one at a time)', 'nvme0', 'inaccessible', None, 2.0),
    ('nvme1 inaccessible too: no path', 'nvme1', 'inaccessible', None, 3.0),
    ('nvme0 returns, non-optimized', 'nvme0', 'non-optimized', None, 2.0),
    ('nvme1 returns optimized', 'nvme1', 'optimized', None, 2.0),
    ('nvme0 optimized: all back', 'nvme0', 'optimized', None, 1.0),
]

WATCH_RE = re.compile(r'^ANAWATCH (\S+) (\S+)( |$)')
IO_RE = re.compile(r'^ANAIO (\d+) (\d+) t=([\d.]+)')


def expected_io(pair):
    """Which paths may carry I/O in the state pair: a set of indexes, or None for either
    (both equally good)."""
    opt = {i for i, s in enumerate(pair) if s == 'optimized'}
    non = {i for i, s in enumerate(pair) if s == 'non-optimized'}
    if len(opt) == 1:
        return opt
    if len(opt) == 2:
        return None
    if len(non) == 1:
        return non
    if len(non) == 2:
        return None
    return set()


def describe(paths):
    if paths is None:
        return 'I/O on either path'
    if not paths:
        return 'no I/O on any path (requeued)'
    return f'I/O through {CTRLS[next(iter(paths))]} only'


class Watch:
    """The guest's ANAWATCH/ANAIO console lines."""

    def __init__(self, g):
        self.g = g

    def find_pair(self, pair, since, timeout):
        """Index of the first 'ANAWATCH a b' line == pair at or after `since`, or None."""
        want = f'ANAWATCH {pair[0]} {pair[1]}'
        deadline = time.monotonic() + timeout
        while True:
            lines = self.g.lines[since:]
            for i, line in enumerate(lines):
                if line == want or line.startswith(want + ' '):
                    return since + i
            if time.monotonic() > deadline or not self.g.alive():
                return None
            time.sleep(0.05)

    def last_pair(self, since=0):
        for line in reversed(self.g.lines[since:]):
            m = WATCH_RE.match(line)
            if m:
                return m.groups()
        return None

    def last_line(self, since=0):
        for line in reversed(self.g.lines[since:]):
            if line.startswith('ANAWATCH '):
                return line
        return None

    def samples(self, start, end=None, every=0.0):
        """The ANAIO samples (sectors through nvme0's path, nvme1's) in lines start..end,
        only those `every` s or more after the previous one kept."""
        out, last = [], None
        for m in (IO_RE.match(l) for l in self.g.lines[start:end]):
            if m and (last is None or float(m.group(3)) >= last + every):
                out.append((int(m.group(1)), int(m.group(2))))
                last = float(m.group(3))
        return out


def io_verdict(samples, exp):
    """(ok, text) for the ANAIO samples taken in a state where `exp` (expected_io) holds.
    A path that must stay idle is judged from the third sample on (I/O in flight when the
    state changed may still complete on it); a path that must carry I/O, over them all."""
    if len(samples) < 4:
        return False, f'only {len(samples)} ANAIO samples'
    grow = [samples[-1][i] - samples[0][i] for i in (0, 1)]
    late = [samples[-1][i] - samples[2][i] for i in (0, 1)]
    text = (f'sectors over {len(samples)} samples: nvme0 +{grow[0]}, nvme1 +{grow[1]} '
            f'(from the third sample: +{late[0]}, +{late[1]})')
    if exp is None:
        return grow[0] + grow[1] > 0, text
    if not exp:
        return late == [0, 0], text
    i = next(iter(exp))
    return grow[i] > 0 and late[1 - i] == 0, text


def run(ctx, iothread=None, during=None):
    """The scenario; @iothread puts the controllers in an iothread of that id, and
    @during(g), if given, runs once the flips are over."""
    debug = os.environ.get('ANA_DEBUG', '')
    args = seed_args(ctx, iothread=iothread)
    if debug:
        # QEMU's side in the .qemu.log: state changes, AENs, log reads, failed commands
        for ev in ('nvme_ana_state', 'nvme_adm_get_log', 'nvme_adm_aer*',
                   'nvme_adm_error_log'):
            args += ['-trace', ev]
        args += ['-msg', 'timestamp=on']
    g = ctx.guest(guest_script('ana_flips'), env={'FIO_SIZE_MB': FIO_SIZE_MB}, smp=2,
                  args=args)
    g.start()
    watch = Watch(g)
    g.wait_sync('flip', timeout=120)
    setup = str(g.results.get('setup', '')).split()
    ctx.info(f'guest: controllers {setup[:2]}, multipath {setup[2:3]}, paths {setup[3:]}')
    first = watch.find_pair(('optimized', 'optimized'), 0, 10)
    ctx.check('guest watcher: both paths to ns1 optimized at start', first is not None,
              f'last seen {watch.last_pair()}')
    g.events()

    model = {c: 'optimized' for c in CTRLS}
    counts = {c: 0 for c in CTRLS}
    all_events = 0
    t_flips = time.monotonic()
    for label, target, state, ms, hold in STEPS:
        all_events += step(ctx, g, watch, model, counts, label, target, state, ms, hold)
    t_flips = time.monotonic() - t_flips

    if during:
        during(g)
    extra = g.events(EVENT)
    ctx.check('no unexpected NVME_ANA_STATE_CHANGED events', not extra, f'{extra}')
    want = {(c, grp): ('optimized', [grp]) for c in CTRLS for grp in (1, 2)}
    states, got_counts, _ = ana_table(g.vm.cmd('query-nvme-ana'))
    ctx.check(f'query-nvme-ana at the end: groups 1 and 2 optimized, change counts {counts}',
              states == want and got_counts == counts,
              f'states {states}, change counts {got_counts}')

    g.reply('GO')
    rc = g.wait_done(timeout=120)
    ctx.check('guest script finished', rc == 0, f'rc={rc}')
    r = g.results
    runs = int(r.get('fio.runs') or 0)
    bad, lats = [], []
    for i in range(1, runs + 1):
        v = str(r.get(f'fio.{i}', ''))
        m = re.match(r'rc=(\d+) errors=\[([\d ]*)\] io_bytes=\[([\d ]*)\] maxlat_ns=(\d+)', v)
        if m:
            lats.append(int(m.group(4)) / 1e9)
        errs = m and [int(x) for x in m.group(2).split()]
        io = m and [int(x) for x in m.group(3).split()]
        # io_bytes: read, write, trim per job; every job writes and verifies its 16 MiB
        full = FIO_SIZE_MB << 20
        if not (m and m.group(1) == '0' and errs == [0, 0] and io is not None
                and len(io) == 6 and io[0] == io[1] == io[3] == io[4] == full):
            bad.append(f'run {i}: {v} {r.get(f"fio.{i}.out", "")}')
    ctx.check(f'fio: {runs} runs spanning the flips, each wrote and verified 2 x '
              f'{FIO_SIZE_MB} MiB with no I/O error and no verify failure',
              runs >= 1 and not bad, f'{runs} runs; ' + '; '.join(bad))
    ctx.info('fio runs, longest I/O latency: ' + ', '.join(f'{x:.2f} s' for x in lats))
    ctx.check('the kernel requeued I/O while no path was usable ("no usable path - '
              'requeuing I/O")', int(r.get('requeued') or 0) > 0,
              f'dmesg count {r.get("requeued")!r}')
    ctx.check('fio I/O waited for 2 s or more while no path was usable, then completed '
              'without error', any(x >= 2.0 for x in lats),
              f'longest latency per run: {[round(x, 2) for x in lats]}')
    # the guest reports the (empty) grep result: a missing one means no look at dmesg
    ctx.check('no I/O error, ANATT timeout, controller reset or ANA log failure in dmesg',
              'trouble' in r and not str(r['trouble']).strip(' |'),
              f'dmesg: {r.get("trouble", "no result from the guest")!r}')
    ctx.check('both controllers live at the end', r.get('ctrl.state') == 'live live',
              f'states {r.get("ctrl.state")!r}')
    ctx.check('both paths optimized at the end', r.get('final') == 'optimized optimized',
              f'{r.get("final")!r}')

    ctx.info(f'{len(STEPS)} steps, {all_events} events, flips {t_flips:.1f} s, {runs} fio '
             f'runs, guest run {g.t_done:.1f} s')


def step(ctx, g, watch, model, counts, label, target, state, ms, hold):
    """One command; returns the number of events it caused."""
    name = f'step "{label}"'
    targets = list(CTRLS) if target == 'subsys0' else [target]
    before = tuple(model[c] for c in CTRLS)
    want = []
    for c in targets:
        if ms is not None and model[c] != 'change':
            counts[c] += 1
            want.append((c, 'change', counts[c]))
        if ms is not None or model[c] != state:
            counts[c] += 1
            want.append((c, state, counts[c]))
        model[c] = state
    final = tuple(model[c] for c in CTRLS)
    mid = tuple('change' if c in targets else before[i] for i, c in enumerate(CTRLS))

    mark = g.mark()
    args = {'id': target, 'grpid': 1, 'state': state}
    if ms is not None:
        args['transition-ms'] = ms
    g.vm.cmd('nvme-ana-set-state', args)

    got = []
    deadline = time.monotonic() + 5 + (ms or 0) / 1000
    while len(got) < len(want):
        try:
            e = g.event_wait(EVENT, timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        d = e['data']
        if d.get('grpid') == 1:
            got.append((d['controller'], d['state'], d['change-count']))
        else:
            got.append((d['controller'], d['state'], d['change-count'], d['grpid']))
    per_ctrl_order = all([w for w in want if w[0] == c] == [x for x in got if x[0] == c]
                         for c in CTRLS)
    ctx.check(f'{name}: events {want}', sorted(got) == sorted(want) and per_ctrl_order,
              f'got {got}')

    start, i_mid = mark, None
    if ms is not None:
        i_mid = watch.find_pair(mid, mark, 10)
        ctx.check(f'{name}: guest saw {mid[0]}/{mid[1]} during the transition',
                  i_mid is not None, f'last seen {watch.last_pair(mark)}')
        if i_mid is not None:
            start = i_mid
    i_fin = watch.find_pair(final, start, 15)
    ctx.check(f'{name}: guest sees nvme0/nvme1 paths {final[0]}/{final[1]}', i_fin is not None,
              f'last seen {watch.last_pair(mark)} (waited 15 s)')
    if i_fin is None:
        return len(want)
    if i_mid is not None:
        # during the transition: paths in change must stay idle; too few samples to
        # judge (io_verdict wants 4) is a failure, not a check left out
        exp = expected_io(mid)
        # the watcher samples every round in change: thinned to the usual ~0.15 s, so
        # that the third sample still leaves in-flight I/O time to complete
        smp = watch.samples(start, i_fin, every=0.15)
        ok, text = io_verdict(smp, exp)
        if exp and len(smp) >= 4:
            ok = smp[-1][1 - next(iter(exp))] == smp[2][1 - next(iter(exp))]
        ctx.check(f'{name}: during the transition ({mid[0]}/{mid[1]}): '
                  f'{"no I/O on the path in change" if exp else describe(exp)}', ok, text)
    exp = expected_io(final)
    # hold the state; where I/O must flow, wait up to 6 s more for it (fio restarts
    # between runs, and requeued I/O needs the kernel to notice the path is back)
    t_end = time.monotonic() + hold
    t_max = t_end + (6.0 if exp != set() else 0.0)
    while True:
        time.sleep(0.2)
        ok, text = io_verdict(watch.samples(i_fin, g.mark()), exp)
        now = time.monotonic()
        if now >= t_max or (now >= t_end and ok):
            break
    if not ok and exp == set():
        text += ('; Linux must requeue while no path is usable and the controllers are '
                 'live (multipath.c nvme_ns_head_submit_bio, nvme_available_path)')
    elif not ok:
        text += ('; Linux picks an optimized path, else a non-optimized one (multipath.c '
                 '__nvme_find_path), and resubmits requeued I/O when a path becomes '
                 'usable (nvme_update_ns_ana_state -> nvme_mpath_set_live)')
    if not ok:
        text += f'; guest watcher: {watch.last_line(i_fin)}'
    ctx.check(f'{name}: {final[0]}/{final[1]}: {describe(exp)}', ok, text)
    ctx.info(f'{label}: {text}')
    return len(want)


if __name__ == '__main__':
    import run
    sys.exit(run.main(['ana_flips'] + sys.argv[1:]))
