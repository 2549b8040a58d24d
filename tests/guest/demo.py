#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The demo: a Linux guest on the seeds' topology, shown step by step: the subsystem,
then an ANA injection, the failover, and the recovery.

    python3 tests/guest/demo.py            # boot, run the steps, power off (scripts/demo.sh)
    python3 tests/guest/demo.py --shell    # a guest shell on the same topology
    python3 tests/guest/demo.py --list     # the steps

The topology is the first seed cover letter's, with the second's ANA on top: nvme-subsys
subsys0 (ana=true) with controllers foo, bar and baz, shared namespace 1 (128 MiB, ANA
group 1), namespace 2 (256 MiB) private to baz, and controller qux with a subsystem of its
own and namespace 3 (256 MiB). The images are sparse files in a temporary directory.

Each step is a Step(title, guest, host): before it, the guest prints a marker and waits on
the sync port; the host prints "== N. title", runs `host(guest)` if there is one (QMP or
HMP: g.vm.cmd(...), g.hmp(...)), and lets the guest run the step's shell function
step_GUEST in guest/demo.sh (busybox sh, with the variables found at its start: $S0,
$NS1, $FOO, ...). To add a step, append one to STEPS and write its function, e.g. (with
ana=true on the subsystem):

    Step("ANA: foo's path to namespace 1 becomes inaccessible", 'paths',
         host=lambda g: say(g.hmp('nvme_ana_inject_state nvme0 1 inaccessible')))

    step_paths() {
        run nvme list-subsys "/dev/$NS1"
    }
"""

import argparse
import re
import shlex
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True      # no __pycache__ in the source tree

try:
    import guestlib  # noqa: E402 (it puts build/qemu-src/python on sys.path)
except ImportError as e:
    sys.exit(f'demo: {e}')
from guestlib import MiB, nvme_device  # noqa: E402

NQN_PREFIX = 'nqn.2019-08.org.qemu:'
DRIVES = (('drv10', 128 * MiB), ('drv11', 256 * MiB), ('drv12', 256 * MiB))
FIO_SECONDS = 5


def topology(dev=None):
    """The seed's -device options."""
    dev = dev or nvme_device()
    return ['-device', 'nvme-subsys,id=subsys0,ana=true',
            '-device', f'{dev},serial=foo,id=nvme0,subsys=subsys0',
            '-device', f'{dev},serial=bar,id=nvme1,subsys=subsys0',
            '-device', f'{dev},serial=baz,id=nvme2,subsys=subsys0',
            '-device', 'nvme-ns,id=ns1,drive=drv10,nsid=1,subsys=subsys0,ana.grpid=1',
            '-device', 'nvme-ns,id=ns2,drive=drv11,nsid=2,bus=nvme2',
            '-device', f'{dev},serial=qux,id=nvme3',
            '-device', 'nvme-ns,id=ns3,drive=drv12,nsid=3,bus=nvme3']


class Step:
    """title: the narration; guest: NAME of the shell function step_NAME in
    guest/demo.sh, run in the guest; host: an optional callable(guest) run on the host
    first (e.g. an HMP command)."""

    def __init__(self, title, guest, host=None):
        self.title = title
        self.guest = guest
        self.host = host


STEPS = [
    Step('topology: nvme list -v, the view of the seed cover letter (Linux shows the '
         'subsystem\'s serial in the SN column)', 'topology'),
    Step('subsystems: nvme list-subsys, then the paths of the shared namespace',
         'subsystems'),
    Step('Identify Controller of foo\'s controller, then the CNTLID and CMIC of each',
         'identify'),
    Step(f'I/O: {FIO_SECONDS} s of fio (4k random read/write, QD16) on the shared '
         'namespace, spread over its three paths (iopolicy round-robin)', 'io'),
    Step('ANA: every path of namespace 1 is optimized (nvme ana-log of foo\'s controller, '
         'and each path\'s ana_state)', 'ana'),
    Step('inject: foo\'s path to ANA group 1 becomes inaccessible (the HMP command of the '
         'ANA seed); Linux gets the event, reads the ANA log and fails over', 'inject',
         host=lambda g: hmp(g, 'nvme_ana_inject_state nvme0 1 inaccessible')),
    Step('recovery: foo\'s path goes through the change state back to optimized '
         '(a 2 s transition), and I/O uses it again', 'recovery',
         host=lambda g: hmp(g, 'nvme_ana_inject_state nvme0 1 optimized 2000')),
]


ANSI = re.compile(r'\x1b(\[[0-9;?]*[A-Za-z]|[()][0-9A-Za-z]|[=>c78DEHM])')


def guest_env(steps):
    """guest/demo.sh's parameters for these steps (each must have its step_ function)."""
    text = guestlib.guest_script('demo').read_text()
    missing = [s.guest for s in steps
               if not re.search(rf'^step_{re.escape(s.guest)}\(\)', text, re.M)]
    if missing:
        raise guestlib.SetupError(f'guest/demo.sh has no step_ function for {missing}')
    return {'DEMO_STEPS': ' '.join(s.guest for s in steps), 'FIO_SECONDS': FIO_SECONDS,
            'NQN_PREFIX': NQN_PREFIX}


def say(text):
    print(text, flush=True)


def hmp(g, cmdline):
    """Run an HMP command on the host and show it as a monitor session would."""
    say(f'(qemu) {cmdline}')
    out = g.hmp(cmdline).rstrip()
    if out:
        say(out)


def images(tmp):
    args = []
    for drv, size in DRIVES:
        p = Path(tmp) / f'{drv}.raw'
        with open(p, 'wb') as f:
            f.truncate(size)
        args += ['-drive', f'file={p},if=none,id={drv},format=raw']
    return args


def kernel_version():
    try:
        return (guestlib.GUEST_DIR / 'modules' / 'kver').read_text().strip()
    except OSError:
        return guestlib.kernel()


def show_topology():
    say('   ' + ' \\\n   '.join(' '.join(shlex.quote(a) for a in topology()[i:i + 2])
                              for i in range(0, len(topology()), 2)))


def demo(steps, smp=2, timeout=60.0):
    t0 = time.monotonic()
    hide = re.compile(r'^(DEMO-STEP |HOSTSYNC |GUEST-TEST-START|RESULT )')

    def on_line(line):
        line = ANSI.sub('', line).replace('\r', '')
        if not hide.match(line):
            say(line)

    with tempfile.TemporaryDirectory(prefix='nvme-demo-') as tmp:
        say(f'== 0. boot: Linux {kernel_version()} under QEMU ({guestlib.accel()}, {smp} '
            f'vCPUs), the seed\'s NVMe topology:')
        show_topology()
        g = guestlib.Guest('demo', guestlib.guest_script('demo'), tmp, env=guest_env(steps),
                           args=images(tmp) + topology(), smp=smp, on_line=on_line)
        try:
            g.start()
            for i, step in enumerate(steps, 1):
                g.wait_sync('step', timeout=timeout)
                g.wait_line(rf'^DEMO-STEP {i}$', timeout=10)
                say(f'\n== {i}. {step.title}')
                if step.host:
                    step.host(g)
                g.reply('GO')
            g.wait_sync('end', timeout=timeout)
            g.wait_line(r'^DEMO-STEP end$', timeout=10)
            say(f'\n== {len(steps) + 1}. power off')
            g.reply('GO')
            rc = g.wait_done(timeout=timeout)
        except guestlib.GuestError as e:
            say(f'\ndemo failed: {e}')
            say(f'(console log: {g.console_log}, QEMU log: {g.qemu_log})')
            return 1
        except KeyboardInterrupt:
            say('\ndemo interrupted')
            return 130
        finally:
            g.close()
    say(f'\n== done in {time.monotonic() - t0:.1f} s (guest exit status {rc}); '
        f'console log: {g.console_log}')
    return 0 if rc == 0 else 1


def shell():
    with tempfile.TemporaryDirectory(prefix='nvme-demo-') as tmp:
        say('A guest shell on the seed\'s topology (Ctrl-A X quits; QMP on '
            f'{guestlib.GUEST_DIR / "qmp.sock"}):')
        show_topology()
        return guestlib.shell(images(tmp) + topology())


def main(argv=None):
    ap = argparse.ArgumentParser(description='NVMe subsystem demo in a Linux guest.')
    ap.add_argument('--shell', action='store_true',
                    help='a guest shell on the demo topology instead of the steps')
    ap.add_argument('--list', action='store_true', help='list the steps and exit')
    ap.add_argument('--smp', type=int, default=2, help='guest vCPUs (default 2)')
    opts = ap.parse_args(argv)
    if opts.list:
        for i, step in enumerate(STEPS, 1):
            say(f'{i}. {step.title}')
        return 0
    try:
        guestlib.qemu_bin()
        guestlib.firmware_dirs()
        guestlib.kernel()
        guestlib.layer('base')
        guestlib.layer('fio')
        guest_env(STEPS)
    except guestlib.SetupError as e:
        say(f'demo: {e}')
        return 1
    if opts.shell:
        return shell()
    return demo(STEPS, smp=opts.smp)


if __name__ == '__main__':
    sys.exit(main())
