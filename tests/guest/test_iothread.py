# SPDX-License-Identifier: GPL-2.0-or-later
"""iothread=: the seed's topology with both controllers in one iothread, through the
whole ana_flips scenario (fio with verification on the multipath device of ns1 while the
host flips ANA group 1 through QMP: every state, transitions, no path at all), and the
same checks as there. So the queues, their AIO, the ANA state and the monitor's changes
all meet in the iothread while the vCPUs write registers and doorbells.

It checks as well that the iothread did the work: its thread (query-iothreads gives the
thread id) used CPU time (a device left in the main loop would leave it idle)."""

import sys

from test_ana_flips import run as run_flips

IOTHREAD = 'io0'
# CPU time the iothread must have used, in clock ticks (1/100 s on Linux): fio moves
# tens of MiB through it; an idle iothread uses none
MIN_TICKS = 5


def thread_ticks(pid, tid):
    """utime + stime of thread @tid of process @pid, in clock ticks."""
    with open(f'/proc/{pid}/task/{tid}/stat', encoding='ascii') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return int(fields[11]) + int(fields[12])


def run(ctx):
    seen = {}

    def iothread_cpu(g):
        threads = g.vm.cmd('query-iothreads')
        tid = next((t['thread-id'] for t in threads if t['id'] == IOTHREAD), None)
        ctx.check(f'query-iothreads lists {IOTHREAD}', tid is not None, f'{threads}')
        if tid is not None:
            seen['ticks'] = thread_ticks(g.vm.get_pid(), tid)

    run_flips(ctx, iothread=IOTHREAD, during=iothread_cpu)
    ticks = seen.get('ticks')
    ctx.info(f'the iothread used {ticks} ticks of CPU time')
    ctx.check(f'the iothread ran the I/O ({MIN_TICKS} or more ticks of CPU time)',
              ticks is not None and ticks >= MIN_TICKS, f'{ticks} ticks')


if __name__ == '__main__':
    import run as runner
    sys.exit(runner.main(['iothread'] + sys.argv[1:]))
