# SPDX-License-Identifier: GPL-2.0-or-later
"""The ANA monitor commands' errors, through QMP (nvme-ana-set-state) and HMP
(nvme_ana_inject_state), on a stopped machine (-S: no guest needed).

The seed's topology plus a controller without a subsystem (nvme2), a subsystem without ANA
with a controller (subsys1, nvme3), a non-NVMe PCI device (testdev0) and a QOM object
(mem0). Each bad command must fail with a message that names the problem, emit no
NVME_ANA_STATE_CHANGED event and leave query-nvme-ana and `info nvme_ana` as they were.
Then valid commands (by controller, by subsystem, a transition, a transition cancelled by
a later command) show that the comparison can see changes.
"""

import sys

from guestlib import ExecuteError
from test_ana import EVENT, hmp_lines, seed_args

EXTRA = [
    '-device', 'nvme,serial=baz,id=nvme2',
    '-device', 'nvme-subsys,id=subsys1',
    '-device', 'nvme,serial=qux,id=nvme3,subsys=subsys1',
    '-device', 'pci-testdev,id=testdev0',
    '-object', 'memory-backend-ram,id=mem0,size=1M',
]

NO_ANA = 'has no ANA'
# HMP's own argument parser (monitor/hmp.c) refuses a line with this after its reason
PARSE = 'Try "help nvme_ana_inject_state" for more information'
NOT_NVME = 'not an NVMe controller'
RANGE = 'ANA group ids are 1 to 128'

# (what, arguments, error class, words the message must hold)
QMP_CASES = [
    ('unknown id', {'id': 'nosuch', 'grpid': 1, 'state': 'inaccessible'},
     'GenericError', ["no device with id 'nosuch'"]),
    ('a drive id', {'id': 'drv10', 'grpid': 1, 'state': 'inaccessible'},
     'GenericError', ["'drv10'"]),
    ('an nvme-ns device', {'id': 'ns1', 'grpid': 1, 'state': 'inaccessible'},
     'GenericError', ["'ns1'", NOT_NVME]),
    ('a non-NVMe PCI device', {'id': 'testdev0', 'grpid': 1, 'state': 'inaccessible'},
     'GenericError', ["'testdev0'", NOT_NVME]),
    ('a QOM object', {'id': 'mem0', 'grpid': 1, 'state': 'inaccessible'},
     'GenericError', ["'mem0'", NOT_NVME]),
    ('a controller without subsys=', {'id': 'nvme2', 'grpid': 1, 'state': 'inaccessible'},
     'GenericError', ["'nvme2'", NO_ANA, 'ana=true']),
    ('a controller of a subsystem without ana',
     {'id': 'nvme3', 'grpid': 1, 'state': 'inaccessible'},
     'GenericError', ["'nvme3'", NO_ANA, 'subsys1']),
    ('a subsystem without ana', {'id': 'subsys1', 'grpid': 1, 'state': 'inaccessible'},
     'GenericError', ["'subsys1'", NO_ANA]),
    ('grpid 0', {'id': 'nvme0', 'grpid': 0, 'state': 'inaccessible'},
     'GenericError', ['grpid 0', RANGE]),
    ('grpid 129', {'id': 'nvme0', 'grpid': 129, 'state': 'inaccessible'},
     'GenericError', ['grpid 129', RANGE]),
    ('grpid 129 on the subsystem', {'id': 'subsys0', 'grpid': 129, 'state': 'inaccessible'},
     'GenericError', ['grpid 129', RANGE]),
    ('grpid 4294967295', {'id': 'nvme0', 'grpid': 4294967295, 'state': 'inaccessible'},
     'GenericError', ['4294967295', RANGE]),
    ('grpid -1 (not a uint32)', {'id': 'nvme0', 'grpid': -1, 'state': 'inaccessible'},
     'GenericError', ["Parameter 'grpid' expects uint32"]),
    ('an unknown state', {'id': 'nvme0', 'grpid': 1, 'state': 'bogus'},
     'GenericError', ['bogus']),
    ('transition-ms 10001 (over ANATT)',
     {'id': 'nvme0', 'grpid': 1, 'state': 'inaccessible', 'transition-ms': 10001},
     'GenericError', ['10001', 'ANATT']),
    ('a transition ending in change',
     {'id': 'nvme0', 'grpid': 1, 'state': 'change', 'transition-ms': 500},
     'GenericError', ['change']),
    ('a transition ending in change, on the subsystem',
     {'id': 'subsys0', 'grpid': 1, 'state': 'change', 'transition-ms': 500},
     'GenericError', ['change']),
    ('grpid 0 and an unknown id', {'id': 'nosuch', 'grpid': 0, 'state': 'optimized'},
     'GenericError', ['nosuch']),
]

# (what, command line, words the output must hold: the device's "Error: ..." or HMP's
# parser's message)
HMP_CASES = [
    ('unknown id', 'nvme_ana_inject_state nosuch 1 inaccessible', ["no device with id 'nosuch'"]),
    ('a drive id', 'nvme_ana_inject_state drv10 1 inaccessible', ["'drv10'"]),
    ('an nvme-ns device', 'nvme_ana_inject_state ns1 1 inaccessible', ["'ns1'", NOT_NVME]),
    ('a non-NVMe PCI device', 'nvme_ana_inject_state testdev0 1 inaccessible',
     ["'testdev0'", NOT_NVME]),
    ('a controller without subsys=', 'nvme_ana_inject_state nvme2 1 inaccessible',
     ["'nvme2'", NO_ANA]),
    ('a controller of a subsystem without ana', 'nvme_ana_inject_state nvme3 1 inaccessible',
     ["'nvme3'", NO_ANA]),
    ('a subsystem without ana', 'nvme_ana_inject_state subsys1 1 inaccessible',
     ["'subsys1'", NO_ANA]),
    ('grpid 0', 'nvme_ana_inject_state nvme0 0 inaccessible', ['grpid 0', RANGE]),
    ('grpid 129', 'nvme_ana_inject_state nvme0 129 inaccessible', ['grpid 129', RANGE]),
    ('grpid -1', 'nvme_ana_inject_state nvme0 -1 inaccessible',
     ['integer is for 32-bit values', PARSE]),
    ('grpid not a number', 'nvme_ana_inject_state nvme0 one inaccessible',
     ["invalid char 'o' in expression", PARSE]),
    ('an unknown state', 'nvme_ana_inject_state nvme0 1 bogus', ["unknown ANA state 'bogus'"]),
    ('a state in capitals', 'nvme_ana_inject_state nvme0 1 INACCESSIBLE',
     ["'INACCESSIBLE'"]),
    ('transition-ms 10001 (over ANATT)', 'nvme_ana_inject_state nvme0 1 inaccessible 10001',
     ['10001', 'ANATT']),
    ('a transition ending in change', 'nvme_ana_inject_state nvme0 1 change 500', ['change']),
    ('a missing state', 'nvme_ana_inject_state nvme0 1', ['string expected', PARSE]),
]


def run(ctx):
    g = ctx.guest('sleep 120', layers=('base',), args=seed_args(ctx) + EXTRA + ['-S'])
    g.start()
    base = g.vm.cmd('query-nvme-ana')
    base_info = g.hmp('info nvme_ana')
    ids = [s.get('id') for s in base]
    ctx.check('query-nvme-ana lists subsys0 only (subsys1 and nvme2 have no ANA)',
              ids == ['subsys0'], f'subsystems {ids}')
    ctx.check('info nvme_ana shows nvme0 and nvme1 only',
              'controller nvme0 ' in base_info and 'controller nvme1 ' in base_info
              and 'nvme2' not in base_info and 'nvme3' not in base_info,
              f'info nvme_ana:\n{base_info}')
    g.events()

    def unchanged(name):
        now = g.vm.cmd('query-nvme-ana')
        info = g.hmp('info nvme_ana')
        evs = g.events(EVENT)
        ctx.check(f'{name}: nothing changed (query-nvme-ana, info nvme_ana, no event)',
                  now == base and info == base_info and not evs,
                  f'query {now} (was {base}); events {evs}; info:\n{info}')

    for what, args, cls, words in QMP_CASES:
        name = f'QMP nvme-ana-set-state, {what}'
        try:
            ret = g.vm.cmd('nvme-ana-set-state', args)
            ctx.check(f'{name}: fails', False, f'succeeded: {ret!r} ({args})')
        except ExecuteError as e:
            desc = str(e)                # the error answer's desc
            missing = [w for w in words if w not in desc]
            ctx.check(f'{name}: {cls} naming {words}', e.error_class == cls and not missing,
                      f'{e.error_class}: {desc!r}')
            ctx.info(f'{what}: {desc}')
        unchanged(name)

    for what, line, words in HMP_CASES:
        name = f'HMP {line!r} ({what})'
        out = g.hmp(line)
        lines = hmp_lines(out)
        missing = [w for w in words if w not in out]
        ok = bool(lines) and bool(words) and not missing and 'injected' not in out and (
            lines[0].startswith('Error:') or lines[-1] == PARSE)
        ctx.check(f'{name}: an error naming {words}', ok, f'output {out!r}')
        ctx.info(f'{line}: {out.strip()}')
        unchanged(name)

    valid_commands(ctx, g, base)


def valid_commands(ctx, g, base):
    """Controls: the same commands with good arguments do change states and emit events;
    a transition ends after its time (once the machine runs) unless a later command
    cancels it."""
    def states():
        out = {}
        for sub in g.vm.cmd('query-nvme-ana'):
            for c in sub['controllers']:
                for grp in c['groups']:
                    out[(c['id'], grp['grpid'])] = grp['state']
                out[(c['id'], 'count')] = c['change-count']
        return out

    def events(want, name, timeout=5.0):
        got = []
        try:
            while len(got) < len(want):
                e = g.event_wait(EVENT, timeout=timeout)
                d = e['data']
                got.append((d['controller'], d['grpid'], d['state'], d['change-count']))
        except TimeoutError:
            pass
        # and any other: when none should come, watch for `timeout` s
        got += [(e['data']['controller'], e['data']['grpid'], e['data']['state'],
                 e['data']['change-count'])
                for e in g.events(EVENT, wait=0.0 if want else timeout)]
        ctx.check(f'{name}: events {want}', sorted(got) == sorted(want), f'got {got}')

    out = g.hmp('nvme_ana_inject_state nvme1 2 persistent-loss')
    ctx.check('HMP nvme_ana_inject_state nvme1 2 persistent-loss',
              hmp_lines(out) == ['nvme1: ANA state persistent-loss(4) injected'],
              f'output {out!r}')
    events([('nvme1', 2, 'persistent-loss', 1)], 'HMP persistent-loss')
    s = states()
    ctx.check('query: nvme1 group 2 persistent-loss, change count 1; nvme0 untouched',
              s.get(('nvme1', 2)) == 'persistent-loss' and s.get(('nvme1', 'count')) == 1
              and s.get(('nvme0', 2)) == 'optimized' and s.get(('nvme0', 'count')) == 0,
              f'{s}')

    g.vm.cmd('nvme-ana-set-state', {'id': 'subsys0', 'grpid': 2, 'state': 'non-optimized'})
    events([('nvme0', 2, 'non-optimized', 1), ('nvme1', 2, 'non-optimized', 2)],
           'QMP on subsys0 (every controller)')
    g.vm.cmd('nvme-ana-set-state', {'id': 'subsys0', 'grpid': 2, 'state': 'non-optimized'})
    events([], 'the same state again: no change, no event', timeout=0.5)

    # an empty group: no namespaces, but a state of its own that query shows
    g.vm.cmd('nvme-ana-set-state', {'id': 'nvme0', 'grpid': 32, 'state': 'inaccessible'})
    events([('nvme0', 32, 'inaccessible', 2)], 'group 32 (no namespaces)')
    s = states()
    ctx.check('query shows group 32 on nvme0 (not optimized)',
              s.get(('nvme0', 32)) == 'inaccessible' and ('nvme1', 32) not in s, f'{s}')

    out = g.hmp('nvme_ana_inject_state nvme0 32 change')
    ctx.check('HMP nvme_ana_inject_state nvme0 32 change (ANA state 0Fh)',
              hmp_lines(out) == ['nvme0: ANA state change(15) injected'], f'output {out!r}')
    events([('nvme0', 32, 'change', 3)], 'HMP change')

    # transitions run on the virtual clock: stopped (-S) until cont
    out = g.hmp('nvme_ana_inject_state nvme0 1 inaccessible 300')
    ctx.check('HMP nvme_ana_inject_state nvme0 1 inaccessible 300 (a transition)',
              hmp_lines(out) == ['nvme0: ANA state inaccessible(3) injected'], f'output {out!r}')
    g.vm.cmd('nvme-ana-set-state', {'id': 'nvme1', 'grpid': 1, 'state': 'non-optimized',
                                 'transition-ms': 1000})
    events([('nvme0', 1, 'change', 4), ('nvme1', 1, 'change', 3)], 'transitions enter change')
    s = states()
    ctx.check('stopped machine (-S): both transitions stay in change',
              s.get(('nvme0', 1)) == 'change' and s.get(('nvme1', 1)) == 'change', f'{s}')
    out = g.hmp('nvme_ana_inject_state nvme1 1 optimized')
    ctx.check('HMP sets nvme1 group 1 during its transition',
              hmp_lines(out) == ['nvme1: ANA state optimized(1) injected'], f'output {out!r}')
    events([('nvme1', 1, 'optimized', 4)], 'a later command ends the transition at once')
    g.vm.cmd('cont')
    events([('nvme0', 1, 'inaccessible', 5)], 'after cont: the 300 ms transition ends',
           timeout=10)
    events([], 'the cancelled 1000 ms transition does not fire', timeout=2.5)
    s = states()
    ctx.check('query at the end: nvme0 g1 inaccessible g2 non-optimized g32 change '
              'count 5; nvme1 g1 optimized g2 non-optimized count 4',
              s.get(('nvme0', 1)) == 'inaccessible' and s.get(('nvme0', 2)) == 'non-optimized'
              and s.get(('nvme0', 32)) == 'change' and s.get(('nvme0', 'count')) == 5
              and s.get(('nvme1', 1)) == 'optimized' and s.get(('nvme1', 2)) == 'non-optimized'
              and s.get(('nvme1', 'count')) == 4, f'{s}')
    g.kill()


if __name__ == '__main__':
    import run
    sys.exit(run.main(['ana_errors'] + sys.argv[1:]))
