# SPDX-License-Identifier: GPL-2.0-or-later
"""A small QMP (QEMU Machine Protocol) client over a unix socket.

    q = QMP.connect('/path/qmp.sock')          # QEMU listens (-qmp unix:...,server=on)
    q = QMP.accept(listener, alive=proc_alive)  # we listen, QEMU connects (server=off)
    q.cmd('query-status')                       # -> the 'return' value
    q.cmd('device_del', id='nvme1')             # arguments as keywords ...
    q.cmd('human-monitor-command', {'command-line': 'info pci'})   # ... or as a dict
    q.hmp('info pci')                           # HMP through human-monitor-command
    q.wait_event('DEVICE_DELETED', timeout=10)  # events are collected while waiting
"""

import json
import select
import socket
import time


class QMPError(Exception):
    """QEMU answered a command with an error."""

    def __init__(self, command, error):
        self.command = command
        self.error_class = error.get('class', '?')
        self.desc = error.get('desc', str(error))
        super().__init__(f'{command}: {self.desc}')


class QMPTimeout(Exception):
    """No (complete) message arrived in time."""


class QMPClosed(Exception):
    """QEMU closed the connection."""


class QMP:
    def __init__(self, sock, timeout=30.0):
        self.sock = sock
        self.timeout = timeout
        self.buf = b''
        self.events = []
        self.next_id = 1
        greeting = self._recv(time.monotonic() + timeout)
        if 'QMP' not in greeting:
            raise QMPClosed(f'not a QMP greeting: {greeting!r}')
        self.greeting = greeting['QMP']
        self.cmd('qmp_capabilities')

    # -- opening ------------------------------------------------------------------------

    @classmethod
    def connect(cls, path, timeout=30.0):
        """Connect to a QMP socket QEMU listens on, retrying until it exists."""
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(str(path))
                return cls(s, timeout)
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if time.monotonic() > deadline:
                    raise QMPTimeout(f'cannot connect to {path}')
                time.sleep(0.05)

    @classmethod
    def accept(cls, listener, timeout=30.0, alive=None):
        """Accept QEMU's connection on a listening socket (QEMU started with server=off).
        alive(): optional callable; stop waiting when it returns False."""
        deadline = time.monotonic() + timeout
        listener.settimeout(0.1)
        while True:
            try:
                s, _ = listener.accept()
                s.settimeout(None)
                return cls(s, timeout)
            except socket.timeout:
                if alive is not None and not alive():
                    raise QMPClosed('QEMU exited before connecting to QMP')
                if time.monotonic() > deadline:
                    raise QMPTimeout('QEMU did not connect to the QMP socket')

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- messages -----------------------------------------------------------------------

    def _recv(self, deadline):
        """Next message (a dict) from QEMU; raises QMPTimeout after deadline."""
        while b'\n' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QMPTimeout('no QMP message in time')
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise QMPTimeout('no QMP message in time') from None
            except OSError as e:
                raise QMPClosed(f'QMP connection: {e}') from None
            if not data:
                raise QMPClosed('QEMU closed the QMP connection')
            self.buf += data
        line, self.buf = self.buf.split(b'\n', 1)
        line = line.strip()
        if not line:
            return self._recv(deadline)
        return json.loads(line)

    def _send(self, msg):
        try:
            self.sock.sendall(json.dumps(msg).encode() + b'\n')
        except OSError as e:
            raise QMPClosed(f'QMP connection: {e}') from None

    def cmd(self, name, args=None, timeout=None, **kwargs):
        """Run command `name`; return its 'return' value, raise QMPError on 'error'.
        Arguments come from the dict `args` and/or keywords (for names with '-' use the
        dict)."""
        arguments = dict(args or {})
        arguments.update(kwargs)
        msg_id = self.next_id
        self.next_id += 1
        msg = {'execute': name, 'id': msg_id}
        if arguments:
            msg['arguments'] = arguments
        self._send(msg)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            resp = self._recv(deadline)
            if 'event' in resp:
                self.events.append(resp)
                continue
            if resp.get('id') != msg_id:
                continue
            if 'error' in resp:
                raise QMPError(name, resp['error'])
            return resp.get('return')

    def hmp(self, cmdline, timeout=None):
        """Run a human monitor command line; return its text output."""
        return self.cmd('human-monitor-command', {'command-line': cmdline}, timeout=timeout)

    # -- events -------------------------------------------------------------------------

    def _read_ready(self):
        """Add what the socket holds now to the buffer, without waiting. False once QEMU
        has closed the connection (what it sent before is still buffered)."""
        self.sock.settimeout(0.0)
        try:
            while True:
                try:
                    data = self.sock.recv(65536)
                except (BlockingIOError, InterruptedError, socket.timeout):
                    return True
                except OSError:
                    return False
                if not data:
                    return False
                self.buf += data
        finally:
            self.sock.settimeout(None)

    def poll_events(self, timeout=0.0):
        """Read into self.events what QEMU has sent (from the socket, not only what is
        buffered), and what else comes within `timeout` seconds. A closed connection
        ends the wait; the events QEMU sent before closing it are kept."""
        deadline = time.monotonic() + timeout
        while True:
            open_ = self._read_ready()
            while b'\n' in self.buf:
                line, self.buf = self.buf.split(b'\n', 1)
                if line.strip():
                    msg = json.loads(line)
                    if 'event' in msg:
                        self.events.append(msg)
            left = deadline - time.monotonic()
            if not open_ or left <= 0:
                return
            select.select([self.sock], [], [], left)

    def take_events(self, name=None):
        """Remove and return the collected events (only those called `name` if given),
        after reading every event QEMU has sent so far."""
        self.poll_events(0)
        if name is None:
            got, self.events = self.events, []
            return got
        got = [e for e in self.events if e['event'] == name]
        self.events = [e for e in self.events if e['event'] != name]
        return got

    def wait_event(self, name, timeout=30.0, match=None):
        """Wait for an event called `name` (and for which match(event) is true); remove it
        from the collected events and return it."""
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e['event'] == name and (match is None or match(e)):
                    return self.events.pop(i)
            msg = self._recv(deadline)  # raises QMPTimeout at the deadline
            if 'event' in msg:
                self.events.append(msg)
