# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot a Linux guest under QEMU with an NVMe test script, and talk to it.

The guest is Debian's kernel (build/guest/vmlinux, booted through its PVH entry) with an
initramfs made of layers from scripts/guest-image.sh (base: busybox, nvme-cli, the NVMe
modules, /init; fio) plus a per-test layer holding /test.sh (the test's script, from
tests/guest/guest/), /test.env (its parameters) and /guestlib.sh. /init loads the modules,
runs /test.sh, prints "GUEST-DONE rc=N" and powers off.

QEMU is run by QEMU's own Python package (python/qemu in the QEMU source tree that
scripts/setup.sh fetches, build/qemu-src/python): qemu.machine.QEMUMachine starts and
stops it, qemu.qmp talks QMP.

Host <-> guest:
  - ttyS0 (console) -> QEMUMachine's console socket, read by a thread, written to the
    console log; lines "PASS: x", "FAIL: x: why", "RESULT key value" are picked out of it;
  - ttyS1 -> a unix socket we listen on: the guest writes "SYNC name text" lines
    (hostsync in guestlib.sh) and waits for one line back (Guest.reply);
  - QMP -> QEMUMachine's monitor socket (Guest.vm.cmd(...), Guest.hmp(...),
    Guest.event_wait(...), Guest.events(...)).

Environment: QEMU_BIN (default build/qemu/qemu-system-x86_64), GUEST_KERNEL (default
build/guest/vmlinux; build/guest/bzImage also works, slower), GUEST_ACCEL (kvm|tcg;
default: probed once and cached in build/guest/accel), GUEST_FIRMWARE (':'-separated
-L directories; default /usr/share/seabios:/usr/share/qemu), NVME_DEVICE (the -device type
the tests use, default nvme).
"""

import json
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOP = HERE.parent.parent
BUILD = TOP / 'build'
GUEST_DIR = BUILD / 'guest'
LOG_DIR = GUEST_DIR / 'logs'
SCRIPT_DIR = HERE / 'guest'         # the guest-side test scripts
MiB = 1024 * 1024
GiB = 1024 * MiB

# QEMU's Python package (qemu.qmp, qemu.machine) from the QEMU source tree, as
# scripts/lib.sh's "$QEMU_SRC/python": used in place, nothing to install.
QEMU_PYTHON = BUILD / 'qemu-src' / 'python'
if not (QEMU_PYTHON / 'qemu' / 'qmp' / 'legacy.py').is_file() or \
        not (QEMU_PYTHON / 'qemu' / 'machine' / 'machine.py').is_file():
    raise ImportError(f"QEMU's Python package (qemu.qmp, qemu.machine) is not in "
                      f"{QEMU_PYTHON}: run scripts/setup.sh (it fetches QEMU's source)")
if str(QEMU_PYTHON) not in sys.path:
    sys.path.insert(0, str(QEMU_PYTHON))

# pylint: disable=wrong-import-position
from qemu.machine import QEMUMachine  # noqa: E402
from qemu.machine.machine import AbnormalShutdown, QEMUMachineError  # noqa: E402
from qemu.qmp import ExecuteError, QMPError  # noqa: E402,F401 (for the tests)

FIRMWARE_DIRS = ['/usr/share/seabios', '/usr/share/qemu']
FIRMWARE_FILES = ['bios-256k.bin', 'pvh.bin', 'linuxboot_dma.bin']
APPEND = 'console=ttyS0 quiet panic=-1'


class SetupError(Exception):
    """Something the tests need is missing (QEMU, firmware, guest images)."""


class GuestError(Exception):
    """The guest or QEMU did not do what was expected (timeout, crash, panic)."""


# ---------------------------------------------------------------------------------------
# environment

def qemu_bin():
    path = os.environ.get('QEMU_BIN') or str(BUILD / 'qemu' / 'qemu-system-x86_64')
    if not os.access(path, os.X_OK):
        raise SetupError(f'no QEMU at {path}: build it, or set QEMU_BIN '
                         f'(e.g. QEMU_BIN=/usr/bin/qemu-system-x86_64 for Debian\'s)')
    return path


def firmware_dirs():
    dirs = [d for d in os.environ.get('GUEST_FIRMWARE', ':'.join(FIRMWARE_DIRS)).split(':')
            if d and os.path.isdir(d)]
    for f in FIRMWARE_FILES:
        if not any(os.path.exists(os.path.join(d, f)) for d in dirs):
            raise SetupError(f'{f} not found in {dirs}: install seabios and qemu-system-data')
    return dirs


def nvme_device():
    """The QEMU device type the tests instantiate (env NVME_DEVICE, default nvme)."""
    return os.environ.get('NVME_DEVICE', 'nvme')


def kernel():
    k = os.environ.get('GUEST_KERNEL') or str(GUEST_DIR / 'vmlinux')
    if not os.path.exists(k):
        raise SetupError(f'no guest kernel {k}: run scripts/guest-image.sh')
    return k


def layer(name):
    """Path of an image layer built by scripts/guest-image.sh (name.cpio or .cpio.gz)."""
    for suffix in ('.cpio', '.cpio.gz'):
        p = GUEST_DIR / (name + suffix)
        if p.exists():
            return p
    raise SetupError(f'no layer {name}.cpio[.gz] in {GUEST_DIR}: run scripts/guest-image.sh')


def accel():
    """'kvm' or 'tcg': GUEST_ACCEL, else the cached probe, else probe now and cache."""
    forced = os.environ.get('GUEST_ACCEL')
    if forced:
        return forced
    cache = GUEST_DIR / 'accel'
    try:
        return cache.read_text().split()[0]
    except (OSError, IndexError):
        pass
    choice, why = probe_accel()
    GUEST_DIR.mkdir(parents=True, exist_ok=True)
    cache.write_text(f'{choice}\n# {why}\n# delete this file to probe again\n')
    return choice


def probe_accel(timeout=8.0):
    """Boot a trivial guest with KVM; use KVM only if it works and beats TCG (a TCG
    boot takes about 2.5 s, so a KVM boot slower than `timeout` is of no use)."""
    try:
        fd = os.open('/dev/kvm', os.O_RDWR)
        os.close(fd)
    except OSError as e:
        return 'tcg', f'/dev/kvm: {e.strerror}'
    times = {}
    for acc in ('kvm', 'tcg'):
        with tempfile.TemporaryDirectory(prefix='guest-probe-') as tmp:
            g = Guest('accel-probe-' + acc, 'exit 0', tmp, layers=('base',), accel=acc,
                      log_dir=tmp)
            t0 = time.monotonic()
            try:
                g.start()
                rc = g.wait_done(timeout=timeout)
                if rc == 0:
                    times[acc] = time.monotonic() - t0
            except (GuestError, SetupError) as e:
                if acc == 'kvm':
                    why = str(e).splitlines()[0]
                    return 'tcg', f'KVM boot failed: {why}'
            finally:
                g.close()
    if 'kvm' in times and times['kvm'] < times.get('tcg', 1e9):
        return 'kvm', f'KVM boot {times["kvm"]:.1f} s, TCG {times.get("tcg", 0):.1f} s'
    return 'tcg', f'KVM boot {times.get("kvm", 0):.1f} s, TCG {times.get("tcg", 0):.1f} s'


# ---------------------------------------------------------------------------------------
# initramfs

def cpio_newc(entries):
    """An uncompressed newc cpio archive of entries (name, mode, data) (name without a
    leading '/'; directories with mode 0o040xxx and data b'')."""
    out = bytearray()

    def pad4():
        out.extend(b'\0' * (-len(out) % 4))

    ino = 1000
    for name, mode, data in list(entries) + [('TRAILER!!!', 0, b'')]:
        ino += 1
        nb = name.encode() + b'\0'
        fields = [ino, mode, 0, 0, 2 if mode & 0o040000 else 1, 0, len(data), 0, 0, 0, 0,
                  len(nb), 0]
        out.extend(b'070701' + b''.join(b'%08X' % f for f in fields))
        out.extend(nb)
        pad4()
        out.extend(data)
        pad4()
    return bytes(out)


def result_json(g, key):
    """The guest's RESULT `key` as parsed JSON (an object), {} if it is absent or is
    not JSON."""
    raw = g.results.get(key) or ''
    if isinstance(raw, dict):
        return raw
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return {}


def guest_script(name):
    """The guest-side script tests/guest/guest/NAME.sh (a Path, for Guest's script)."""
    path = SCRIPT_DIR / f'{name}.sh'
    if not path.is_file():
        raise SetupError(f'no guest script {path}')
    return path


def env_file(env):
    """/test.env: a KEY='value' line per parameter, quoted for the shell (guestlib.sh
    sources it, so a test script sees its parameters as shell variables)."""
    lines = []
    for key, value in (env or {}).items():
        if not re.fullmatch(r'[A-Z][A-Z0-9_]*', key):
            raise ValueError(f'guest parameter {key!r}: use upper case, digits and _')
        lines.append(f'{key}={shlex.quote(str(value))}\n')
    return ''.join(lines)


def test_layer(script, files=None, env=None):
    """cpio with /test.sh (script: a Path to a shell script file, or the text of one;
    made a shell script if it has no #!), /test.env (the parameters env {KEY: value}),
    /guestlib.sh, and files {path: bytes|str} (parent directories are added)."""
    if isinstance(script, Path):
        script = script.read_text()
    if not script.startswith('#!'):
        script = '#!/bin/sh\n' + script
    entries = [('test.sh', 0o100755, script.encode()),
               ('test.env', 0o100644, env_file(env).encode()),
               ('guestlib.sh', 0o100644, (HERE / 'guestlib.sh').read_bytes())]
    dirs = set()
    for path, data in sorted((files or {}).items()):
        path = path.lstrip('/')
        parts = path.split('/')[:-1]
        for i in range(1, len(parts) + 1):
            d = '/'.join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                entries.append((d, 0o040755, b''))
        if isinstance(data, str):
            data = data.encode()
        mode = 0o100755 if data.startswith(b'#!') else 0o100644
        entries.append((path, mode, data))
    return cpio_newc(entries)


def build_initrd(dest, layer_paths, extra):
    """Concatenate layer files and the bytes `extra` into dest; each piece starts at a
    4-byte boundary (the kernel looks for the next archive's magic there)."""
    with open(dest, 'wb') as out:
        for p in layer_paths:
            with open(p, 'rb') as f:
                while True:
                    chunk = f.read(4 * MiB)
                    if not chunk:
                        break
                    out.write(chunk)
            out.write(b'\0' * (-out.tell() % 4))
        out.write(extra)


# ---------------------------------------------------------------------------------------
# the guest

LINE_RE = re.compile(r'^(PASS|FAIL): (.*)$')
RESULT_RE = re.compile(r'^RESULT (\S+) ?(.*)$')
DONE_RE = re.compile(r'GUEST-DONE rc=(\d+)')
PANIC_RE = re.compile(r'Kernel panic - not syncing|BUG: kernel NULL pointer|'
                      r'Oops: |general protection fault')


class Machine(QEMUMachine):
    """QEMU's QEMUMachine with what the tests need on top: its log (QEMU's stdout and
    stderr, log_dir/NAME.log) starts with the command line ("# ..."); launch() gives up
    after `launch_timeout` s without a QMP greeting (QEMU is killed) and every QMP
    command after `qmp_timeout` s (TimeoutError)."""

    def __init__(self, binary, args=(), launch_timeout=30.0, qmp_timeout=30.0, **kw):
        super().__init__(binary, args, **kw)
        self.launch_timeout = launch_timeout
        self.qmp_timeout = qmp_timeout
        self.launch_overdue = False

    def _pre_launch(self):
        super()._pre_launch()
        self._qemu_log_file.write(f'# {shlex.join(self._qemu_full_args)}\n'.encode())
        self._qemu_log_file.flush()

    def _post_launch(self):
        # QEMU is running; the QMP connection is made here (its greeting awaited with
        # no timeout of its own)
        timer = threading.Timer(self.launch_timeout, self._overdue)
        timer.start()
        try:
            super()._post_launch()
        finally:
            timer.cancel()
        self._qmp.settimeout(self.qmp_timeout)

    def _overdue(self):
        self.launch_overdue = True
        try:
            os.kill(self._subp.pid, signal.SIGKILL)
        except (ProcessLookupError, QEMUMachineError):
            pass

    @property
    def full_args(self):
        """The command line of the last launch."""
        return list(self._qemu_full_args)


class Guest:
    """One QEMU process running one guest test script.

    name      used for log file names
    script    the guest's /test.sh (busybox sh): a Path (guest_script(NAME) gives
              tests/guest/guest/NAME.sh), or the text of a one-liner; `. /guestlib.sh`
              is up to the script
    env       the script's parameters {KEY: value}, shell variables once it has sourced
              /guestlib.sh (which sources /test.env)
    tmpdir    where the initrd and sockets go (the caller removes it)
    args      extra QEMU arguments (-drive, -device, ...)
    layers    image layers besides the test layer, in order ('base' is always first)
    files     extra files for the test layer {path: bytes|str}
    reboot    allow guest reboots (drops -no-reboot; a panic then reboots: the console
              watcher turns it into an error)
    smp, mem, machine, append, accel: as on QEMU's command line
    on_line   callable(line) for every console line (e.g. to print PASS/FAIL live)

    Once started, vm is its qemu.machine.QEMUMachine (vm.cmd(name, **args) runs a QMP
    command and raises qemu.qmp.ExecuteError on an error answer); hmp(), event_wait()
    and events() add HMP and events with timeouts.
    """

    def __init__(self, name, script, tmpdir, args=(), layers=('base', 'fio'), files=None,
                 env=None, reboot=False, smp=1, mem='1G', machine='q35', append='',
                 accel=None, on_line=None, log_dir=None, echo=False):
        self.name = name
        self.script = script
        self.env = dict(env or {})
        self.tmpdir = Path(tmpdir)
        self.args = [str(a) for a in args]
        self.layers = ['base'] + [l for l in layers if l != 'base']
        self.files = files
        self.reboot = reboot
        self.smp, self.mem, self.machine = smp, mem, machine
        self.append = append
        self.accel_name = accel
        self.on_line = on_line
        self.echo = echo
        self.log_dir = Path(log_dir) if log_dir else LOG_DIR
        self.safe_name = re.sub(r'[^A-Za-z0-9_.-]', '_', name)
        self.console_log = self.log_dir / f'{self.safe_name}.console.log'
        self.qemu_log = self.log_dir / f'{self.safe_name}.qemu.log'
        self.vm = None
        self.final_events = None    # the events left when QEMU ended (wait_done)
        self.lines = []             # console lines (CR/LF stripped)
        self.checks = []            # (ok, name, detail) from the guest's PASS:/FAIL: lines
        self.results = {}           # RESULT key -> text (json.loads(text) if it parses)
        self.done_rc = None
        self.panic = None
        self.test_starts = []       # host time (s since start) of each GUEST-TEST-START
        self.t0 = None
        self.t_done = None
        self._cond = threading.Condition()
        self._sync_q = queue.Queue()
        self._sync_line = 0         # console lines before this one were matched to a SYNC
        self._threads = []
        self._sync_sock = None
        self._console_sock = None
        self._listeners = []

    @property
    def qmp(self):
        """The QEMUMachine (the name scripts/bench/bench.py uses: g.qmp.cmd(...))."""
        return self.vm

    # -- start/stop ---------------------------------------------------------------------

    def command(self, initrd, sync_path):
        """QEMU's arguments besides QEMUMachine's own (-display none -vga none, the QMP
        monitor, the console: ttyS0)."""
        acc = self.accel_name or accel()
        cmd = ['-name', self.name, '-machine', self.machine, '-accel', acc,
               '-m', str(self.mem), '-smp', str(self.smp), '-nodefaults']
        if not self.reboot:
            cmd.append('-no-reboot')
        for d in firmware_dirs():
            cmd += ['-L', d]
        cmd += ['-kernel', kernel(), '-initrd', str(initrd),
                '-append', f'{APPEND} {self.append}'.strip(),
                '-chardev', f'socket,id=sync,path={sync_path},server=off',
                '-serial', 'chardev:sync']
        return cmd + self.args

    def start(self, timeout=30.0):
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        initrd = self.tmpdir / 'initrd'
        build_initrd(initrd, [layer(l) for l in self.layers],
                     test_layer(self.script, self.files, self.env))
        sync_path = self.tmpdir / 'sync.sock'
        if sync_path.exists():
            sync_path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(sync_path))
        listener.listen(1)
        self._listeners.append(listener)
        self._console = open(self.console_log, 'wb')
        # the log QEMUMachine writes is log_dir/NAME.log: <name>.qemu.log
        self.vm = Machine(qemu_bin(), self.command(initrd, sync_path),
                          name=f'{self.safe_name}.qemu', log_dir=str(self.log_dir),
                          base_temp_dir=str(self.tmpdir), launch_timeout=timeout)
        self.vm.set_console()           # a socket; the first serial port, ttyS0
        self.t0 = time.monotonic()
        try:
            self.vm.launch()
        except QEMUMachineError as e:
            # VMLaunchFailure: the cause, then the command line and output (in the tail)
            why = f'no QMP greeting in {timeout:.0f} s' if self.vm.launch_overdue else \
                (str(e).strip() or type(e).__name__).splitlines()[0]
            raise GuestError(f'QEMU did not start: {why}\n{self.tail()}') from None
        self.cmdline = shlex.join(self.vm.full_args)
        # our own descriptor of the console socket: QEMUMachine closes its one on
        # shutdown, the reader thread reads ours until QEMU's end closes
        self._console_sock = socket.socket(fileno=os.dup(self.vm.console_socket.fileno()))
        self._spawn(self._read_console)
        try:
            # QEMU connected the sync socket while it started (server=off)
            self._sync_sock = self._accept(listener, timeout)
        except GuestError as e:
            raise GuestError(f'QEMU did not start: {e}\n{self.tail()}') from None
        self._spawn(self._read_sync)
        return self

    def _accept(self, listener, timeout):
        deadline = time.monotonic() + timeout
        listener.settimeout(0.1)
        while True:
            try:
                s, _ = listener.accept()
                s.settimeout(None)
                return s
            except socket.timeout:
                if not self.alive():
                    raise GuestError(f'QEMU exited with {self.vm.exitcode()}')
                if time.monotonic() > deadline:
                    raise GuestError('QEMU did not connect to the sync socket')

    def _spawn(self, fn):
        t = threading.Thread(target=fn, daemon=True)
        t.start()
        self._threads.append(t)

    def alive(self):
        return self.vm is not None and self.vm.is_running()

    def exitcode(self):
        """QEMU's exit status once it has ended (negative: killed by that signal)."""
        return self.vm.exitcode() if self.vm is not None else None

    def kill(self):
        """Kill QEMU (SIGKILL) if it runs; QEMUMachine then closes QMP."""
        if self.vm is not None:
            self.vm.kill()

    def close(self):
        """Kill QEMU if it still runs; close sockets and logs."""
        self.kill()
        for s in self._listeners + [x for x in (self._sync_sock, self._console_sock) if x]:
            try:
                s.close()
            except OSError:
                pass
        for t in self._threads:
            t.join(2)
        f = getattr(self, '_console', None)
        if f:
            f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the monitor ----------------------------------------------------------------------

    def hmp(self, cmdline):
        """Run a human monitor command line (through QMP human-monitor-command); return
        its text output."""
        return self.vm.cmd('human-monitor-command', command_line=cmdline)

    def event_wait(self, name, timeout=30.0, match=None):
        """Wait for the QMP event `name` (matching `match`, a sub-dict as QEMUMachine's
        event_match takes it, e.g. {'data': {'device': 'nvme1'}}), reading the socket;
        return it. Raises TimeoutError when none came in `timeout` s (QEMUMachine's
        wait: it starts again after each other event, which it keeps for later)."""
        # a float: QEMUMonitorProtocol.pull_event takes an int as "wait forever"
        return self.vm.event_wait(name, timeout=float(timeout), match=match)

    def events(self, name=None, wait=0.0):
        """Remove and return every event QEMU has sent up to now (only those called
        `name` if given; the others are dropped), and those it sends within `wait` s.
        "Up to now" is exact: QEMU answers a command after every event it emitted
        before, so a query-status answer means those have been read. After wait_done,
        the events QEMU sent up to its SHUTDOWN (its last)."""
        if self.final_events is not None:
            got, self.final_events = self.final_events, []
        else:
            got = []
            deadline = time.monotonic() + wait
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    got.append(self.vm.get_qmp_event(wait=float(left)))
                except TimeoutError:
                    break
            self.vm.cmd('query-status')
            got += self._take_events()
        return [e for e in got if name is None or e['event'] == name]

    def _take_events(self):
        """The events read so far, oldest first (QEMUMachine keeps those event_wait
        passed over; get_qmp_event hands them out first)."""
        got = []
        while True:
            e = self.vm.get_qmp_event(wait=False)
            if e is None:
                return got
            got.append(e)

    # -- readers ------------------------------------------------------------------------

    def _read_console(self):
        partial = b''
        while True:
            try:
                data = self._console_sock.recv(65536)
            except OSError:
                data = b''
            if not data:
                break
            self._console.write(data)
            self._console.flush()
            partial += data
            *complete, partial = partial.split(b'\n')
            for raw in complete:
                self._line(raw.decode('utf-8', 'replace').rstrip('\r'))
        if partial:
            self._line(partial.decode('utf-8', 'replace').rstrip('\r'))
        with self._cond:
            self._cond.notify_all()

    def _line(self, line):
        if self.echo:
            print(f'  | {line}', flush=True)
        with self._cond:
            self.lines.append(line)
            m = LINE_RE.match(line)
            if m:
                ok = m.group(1) == 'PASS'
                name, _, detail = m.group(2).partition(': ') if not ok else (m.group(2), '', '')
                self.checks.append((ok, name.strip(), detail))
            m = RESULT_RE.match(line)
            if m:
                self.results[m.group(1)] = _value(m.group(2))
            if 'GUEST-TEST-START' in line:
                self.test_starts.append(time.monotonic() - self.t0)
            m = DONE_RE.search(line)
            if m:
                self.done_rc = int(m.group(1))
                self.t_done = time.monotonic() - self.t0
            if PANIC_RE.search(line) and self.panic is None:
                self.panic = line
            self._cond.notify_all()
        if self.on_line:
            self.on_line(line)

    def _read_sync(self):
        buf = b''
        while True:
            try:
                data = self._sync_sock.recv(4096)
            except OSError:
                data = b''
            if not data:
                break
            buf += data
            *complete, buf = buf.split(b'\n')
            for raw in complete:
                line = raw.decode('utf-8', 'replace').strip('\r\0 ')
                if line:
                    self._sync_q.put(line)
        self._sync_q.put(None)

    # -- waiting ------------------------------------------------------------------------

    def _trouble(self):
        """A reason to stop waiting, or None."""
        if self.panic:
            return f'guest kernel trouble: {self.panic}'
        if not self.alive() and self.vm is not None:
            return f'QEMU exited (status {self.exitcode()})'
        return None

    def fail(self, msg):
        """Kill QEMU and raise GuestError(msg + console tail)."""
        self.kill()
        raise GuestError(f'{self.name}: {msg}\n{self.tail()}')

    def wait_sync(self, name=None, timeout=120.0):
        """Wait for the guest's next "SYNC name text" line; return text. With a name,
        another name is an error."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._sync_q.get(timeout=0.2)
            except queue.Empty:
                trouble = self._trouble()
                if trouble is None and self.done_rc is not None:
                    trouble = f'the guest script ended (rc={self.done_rc})'
                if trouble:
                    self.fail(f'waiting for SYNC {name or ""}: {trouble}')
                if time.monotonic() > deadline:
                    self.fail(f'no SYNC {name or ""} from the guest in {timeout:.0f} s')
                continue
            if line is None:
                time.sleep(0.2)     # let the console reader see the last lines
                why = self._trouble() or 'sync channel closed'
                if self.done_rc is not None:
                    why = f'the guest script ended (rc={self.done_rc})'
                self.fail(f'waiting for SYNC {name or ""}: {why}')
            if not line.startswith('SYNC '):
                continue
            got, _, text = line[5:].partition(' ')
            if name is not None and got != name:
                self.fail(f'expected SYNC {name}, the guest sent SYNC {got} {text}')
            self._console_caught_up(got)
            return text

    def _console_caught_up(self, name, timeout=5.0):
        """The console and the sync channel are read by different threads: before a SYNC
        is handed over, wait until the console shows the "HOSTSYNC name" line hostsync
        prints first, so that every RESULT/PASS/FAIL line the guest printed before its
        hostsync has been seen. Gives up quietly after `timeout` s."""
        want = f'HOSTSYNC {name}'
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(self._sync_line, len(self.lines)):
                    if self.lines[i].endswith(want):
                        self._sync_line = i + 1
                        return True
                left = deadline - time.monotonic()
                if left <= 0 or self._trouble():
                    return False
                self._cond.wait(min(left, 0.1))

    def reply(self, text='GO'):
        """Answer the guest's pending hostsync."""
        self._sync_sock.sendall(text.encode() + b'\n')

    def mark(self):
        """The number of console lines so far: pass it as wait_line(since=) to look only
        at later lines."""
        with self._cond:
            return len(self.lines)

    def wait_line(self, pattern, timeout=60.0, since=0, fatal=True):
        """Wait for a console line matching the regex (among lines number `since` on, see
        mark()); return the match. On a timeout with fatal=False, return None (QEMU's
        exit or a guest panic still fail)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = since
        with self._cond:
            while True:
                for line in self.lines[seen:]:
                    m = rx.search(line)
                    if m:
                        return m
                seen = len(self.lines)
                trouble = self._trouble()
                if trouble:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    if not fatal:
                        return None
                    trouble = f'no console line /{pattern}/ in {timeout:.0f} s'
                    break
                self._cond.wait(min(left, 0.2))
        self.fail(trouble)

    def wait_done(self, timeout=120.0, exit_timeout=15.0):
        """Wait for "GUEST-DONE rc=N" and for QEMU to exit after the guest's power-off;
        return N."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.done_rc is None:
                trouble = self._trouble()
                left = deadline - time.monotonic()
                if trouble or left <= 0:
                    break
                self._cond.wait(min(left, 0.2))
        if self.done_rc is None:
            self.fail(self._trouble() or f'the guest did not finish in {timeout:.0f} s')
        # SHUTDOWN is the last event QEMU sends: once it is read, so is every other one,
        # kept for events() (QEMUMachine closes QMP when QEMU has exited)
        deadline = time.monotonic() + exit_timeout
        try:
            self.event_wait('SHUTDOWN', timeout=exit_timeout)
        except (TimeoutError, QMPError):
            pass                            # QEMU ended without it, or still runs: below
        self.final_events = self._take_events()
        try:
            # QEMUMachine: QEMU is killed if it still runs then
            self.vm.wait(max(1.0, deadline - time.monotonic()))
        except AbnormalShutdown:
            self.fail(f'QEMU still ran {exit_timeout:.0f} s after the guest powered off')
        for t in self._threads:
            t.join(2)
        if self.exitcode() != 0:
            raise GuestError(f'{self.name}: QEMU exited with status {self.exitcode()}'
                             f' after the guest powered off\n{self.tail()}')
        return self.done_rc

    # -- output -------------------------------------------------------------------------

    def tail(self, n=25):
        with self._cond:
            lines = self.lines[-n:]
        out = [f'--- console tail ({self.console_log}):'] + [f'  | {l}' for l in lines]
        try:
            err = [l for l in self.qemu_log.read_text(errors='replace').splitlines()
                   if not l.startswith('# ')]
        except OSError:
            err = []
        if err:
            out += [f'--- QEMU stderr ({self.qemu_log}):'] + [f'  ! {l}' for l in err[-10:]]
        return '\n'.join(out)

    def result(self, key, default=None):
        return self.results.get(key, default)


def _value(text):
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        return text


# ---------------------------------------------------------------------------------------
# checks

class Checker:
    """Counts and prints checks: "PASS: name" or "FAIL: name: detail"."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []
        self.lock = threading.Lock()

    def check(self, name, ok, detail=''):
        with self.lock:
            if ok:
                self.passed += 1
                print(f'PASS: {name}', flush=True)
            else:
                self.failed += 1
                self.failures.append(name)
                print(f'FAIL: {name}: {detail}', flush=True)
        return bool(ok)

    def info(self, text):
        with self.lock:
            print(f'  {text}', flush=True)


class Context:
    """What a test's run(ctx) gets: check(), guest(), tmp, and guest PASS/FAIL counting."""

    def __init__(self, test, checker, keep=False, echo=False):
        self.test = test
        self.checker = checker
        self.keep = keep
        self.echo = echo
        self.tmp = Path(tempfile.mkdtemp(prefix=f'guest-{test}-'))
        self.guests = []

    def check(self, name, ok, detail=''):
        return self.checker.check(f'{self.test}: {name}', ok, detail)

    def info(self, text):
        self.checker.info(f'{self.test}: {text}')

    def guest(self, script, name=None, **kw):
        """A Guest for this test (not started). Its PASS:/FAIL: lines count as checks as
        they arrive."""
        if name is None:
            name = f'{self.test}-{len(self.guests)}' if self.guests else self.test
        gdir = self.tmp / f'g{len(self.guests)}'

        def on_line(line, prefix=f'{self.test}: guest: '):
            m = LINE_RE.match(line)
            if m:
                if m.group(1) == 'PASS':
                    self.checker.check(prefix + m.group(2), True)
                else:
                    n, _, d = m.group(2).partition(': ')
                    self.checker.check(prefix + n, False, d)

        g = Guest(name, script, gdir, on_line=on_line, echo=self.echo, **kw)
        self.guests.append(g)
        return g

    def expect_guest_checks(self, g, names):
        """FAIL for each name the guest never reported as PASS or FAIL."""
        seen = {n for _, n, _ in g.checks}
        for n in names:
            if n not in seen:
                self.check(f'guest: {n}', False, 'not reported by the guest')

    def image(self, name, size):
        """A sparse raw image file of `size` bytes in the test's temp dir."""
        p = self.tmp / name
        with open(p, 'wb') as f:
            f.truncate(size)
        return p

    def close(self):
        for g in self.guests:
            g.close()
        if not self.keep:
            import shutil
            shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# interactive use: a shell in the guest

def shell(extra_args):
    """Boot the guest with no /test.sh (init starts a shell on the console), console on
    this terminal (Ctrl-A X quits), QMP on build/guest/qmp.sock."""
    with tempfile.TemporaryDirectory(prefix='guest-shell-') as tmp:
        initrd = Path(tmp) / 'initrd'
        build_initrd(initrd, [layer('base'), layer('fio')], b'')
        cmd = [qemu_bin(), '-machine', 'q35', '-accel', accel(), '-m', '1G', '-smp', '2',
               '-nodefaults', '-nographic', '-no-reboot']
        for d in firmware_dirs():
            cmd += ['-L', d]
        cmd += ['-kernel', kernel(), '-initrd', str(initrd), '-append', APPEND,
                '-serial', 'mon:stdio',
                '-qmp', f'unix:{GUEST_DIR / "qmp.sock"},server=on,wait=off'] + extra_args
        print(' '.join(shlex.quote(c) for c in cmd), file=sys.stderr)
        return subprocess.call(cmd)


if __name__ == '__main__':
    if len(sys.argv) >= 2 and sys.argv[1] == 'shell':
        sys.exit(shell(sys.argv[2:]))
    print('usage: guestlib.py shell [extra QEMU args]   (tests: run.py)', file=sys.stderr)
    sys.exit(2)


def io_per_path(v):
    """A guest's 'nvme0c0n1:123 nvme0c2n1:456 ' -> {path: completed I/Os}"""
    out = {}
    for x in str(v or '').split():
        p, _, n = x.partition(':')
        if n.isdigit():
            out[p] = int(n)
    return out


def fio_json(v):
    """fio --output-format=json output as a dict (fio may print notes before the JSON)."""
    if isinstance(v, dict):
        return v
    if isinstance(v, str) and '{' in v:
        try:
            return json.loads(v[v.index('{'):])
        except ValueError:
            return None
    return None
