#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Drive an NVMe controller through QEMU's qtest protocol, as a host driver would, with
no guest: enable it, make one I/O queue pair, then submit batches of commands and wait
for their completions by interrupt (INTx, intercepted at the I/O APIC), so that the
number of qtest commands per batch does not depend on timing. Used by scripts/bench.sh
to count instructions per command with valgrind's callgrind, for our device and for
QEMU's own (both accept this stream).

    qtest_stream.py QEMU [--valgrind ARGS] [--batches KIND=N ...] [-- EXTRA QEMU ARGS]

KIND is read4k, write4k or read128k; each batch is 32 commands on the queue pair.
Prints one line per KIND with the wall time it took.
"""

import argparse
import base64
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

BAR0 = 0xe0000000
ASQ, ACQ = 0x100000, 0x101000
IOCQ, IOSQ = 0x110000, 0x120000
PRPLIST = 0x130000                  # one PRP list page per slot
DATA = 0x400000                     # 128 KiB per slot
QSIZE = 64
BATCH = 32
GSI = 20                            # slot 4, INTA (q35 default routing)


class Qtest:
    def __init__(self, qemu, qemu_args, prefix):
        self.dir = tempfile.mkdtemp(prefix='nvme-bench-')
        path = os.path.join(self.dir, 'qtest.sock')
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        cmd = prefix + [qemu, '-qtest', f'unix:{path}', '-qtest-log', 'none', '-accel', 'qtest', '-display', 'none', '-audio', 'none'] + qemu_args
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        srv.settimeout(600)
        self.sock, _ = srv.accept()
        srv.close()
        self.buf = b''
        self.irq = False

    def _line(self):
        while b'\n' not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError('QEMU closed the qtest socket')
            self.buf += data
        line, self.buf = self.buf.split(b'\n', 1)
        return line.decode()

    def _event(self, words):
        if words[0] == 'IRQ' and int(words[2]) == GSI:
            self.irq = words[1] == 'raise'
            return True
        return words[0] == 'IRQ'

    def cmd(self, text):
        self.sock.sendall(text.encode() + b'\n')
        while True:
            words = self._line().split()
            if self._event(words):
                continue
            if words[0] != 'OK':
                raise RuntimeError(f'{text!r}: {words}')
            return words[1] if len(words) > 1 else None

    def wait_irq(self):
        while not self.irq:
            self._event(self._line().split())

    def writel(self, addr, val):
        self.cmd(f'writel {addr:#x} {val:#x}')

    def readl(self, addr):
        return int(self.cmd(f'readl {addr:#x}'), 16)

    def write(self, addr, data):
        self.cmd(f'b64write {addr:#x} {len(data):#x} {base64.b64encode(data).decode()}')

    def read(self, addr, size):
        return base64.b64decode(self.cmd(f'b64read {addr:#x} {size:#x}'))

    def cfg_addr(self, dev, reg):
        self.cmd(f'outl 0xcf8 {0x80000000 | dev << 11 | reg:#x}')

    def cfg_readl(self, dev, reg):
        self.cfg_addr(dev, reg)
        return int(self.cmd('inl 0xcfc'), 16)

    def cfg_writel(self, dev, reg, val):
        self.cfg_addr(dev, reg)
        self.cmd(f'outl 0xcfc {val:#x}')

    def close(self):
        try:
            self.sock.close()
        finally:
            self.proc.wait(timeout=600)


def sqe(opcode, cid, nsid=0, prp1=0, prp2=0, cdw10=0, cdw11=0, cdw12=0):
    return struct.pack('<BBHIQQQQIIIIII', opcode, 0, cid, nsid, 0, 0, prp1, prp2,
                       cdw10, cdw11, cdw12, 0, 0, 0)


class Nvme:
    def __init__(self, q, slot=4):
        self.q = q
        vid = q.cfg_readl(slot, 0)
        assert vid == 0x00101b36, f'no NVMe controller in slot {slot}: {vid:#x}'
        q.cfg_writel(slot, 0x10, BAR0)          # 64-bit BAR0
        q.cfg_writel(slot, 0x14, 0)
        q.cfg_writel(slot, 0x04, 0x6)           # memory space, bus master
        q.writel(BAR0 + 0x24, (QSIZE - 1) << 16 | (QSIZE - 1))
        q.writel(BAR0 + 0x28, ASQ)
        q.writel(BAR0 + 0x2c, 0)
        q.writel(BAR0 + 0x30, ACQ)
        q.writel(BAR0 + 0x34, 0)
        q.write(ACQ, bytes(16 * QSIZE))
        q.writel(BAR0 + 0x14, 0x460001)
        for _ in range(1000):
            if q.readl(BAR0 + 0x1c) & 1:
                break
            q.cmd('clock_step 1000000')
        else:
            raise RuntimeError('CSTS.RDY stays 0')
        self.sq = {0: [ASQ, 0]}
        self.cq = {0: [ACQ, 0, 1]}
        self.cid = 1
        q.write(IOCQ, bytes(16 * QSIZE))
        self.admin(sqe(0x05, 0, prp1=IOCQ, cdw10=(QSIZE - 1) << 16 | 1, cdw11=0x3))
        self.admin(sqe(0x01, 0, prp1=IOSQ, cdw10=(QSIZE - 1) << 16 | 1, cdw11=1 << 16 | 1))
        self.sq[1] = [IOSQ, 0]
        self.cq[1] = [IOCQ, 0, 1]
        # the PRP lists of the 128 KiB reads, made once
        lists = b''
        for i in range(BATCH):
            buf = DATA + i * 128 * 1024
            prps = struct.pack('<31Q', *[buf + (j + 1) * 4096 for j in range(31)])
            lists += prps + bytes(4096 - len(prps))
        q.write(PRPLIST, lists)

    def submit(self, qid, cmds):
        """One memory write per contiguous run of SQEs, one doorbell."""
        base, tail = self.sq[qid]
        while cmds:
            n = min(len(cmds), QSIZE - tail)
            self.q.write(base + tail * 64, b''.join(cmds[:n]))
            cmds = cmds[n:]
            tail = (tail + n) % QSIZE
        self.sq[qid][1] = tail
        self.q.writel(BAR0 + 0x1000 + 8 * qid, tail)

    def reap(self, qid, want, use_irq):
        base, head, phase = self.cq[qid]
        done = 0
        while done < want:
            if use_irq:
                self.q.wait_irq()
            # only the entries still expected, and not past the ring's end
            n_read = min(want - done, QSIZE - head)
            raw = self.q.read(base + head * 16, 16 * n_read)
            n = 0
            while n < n_read:
                status = struct.unpack_from('<H', raw, n * 16 + 14)[0]
                if status & 1 != phase:
                    break
                if status >> 1:
                    raise RuntimeError(f'command failed: status {status >> 1:#x}')
                n += 1
            head = (head + n) % QSIZE
            phase ^= n and head == 0
            done += n
            if n:
                self.cq[qid][1:] = [head, phase]
                self.q.writel(BAR0 + 0x1000 + 8 * qid + 4, head)
            elif not use_irq:
                self.q.cmd('clock_step 100000')

    def admin(self, cmd):
        self.submit(0, [cmd])
        self.reap(0, 1, False)

    def commands(self, kind, first_cid):
        """The commands of one batch, each on its own buffer."""
        cmds = []
        for i in range(BATCH):
            buf = DATA + i * 128 * 1024
            cid = first_cid + i
            if kind == 'read128k':
                cmds.append(sqe(0x02, cid, 1, buf, PRPLIST + i * 4096, i * 256, 0, 255))
            else:
                cmds.append(sqe(0x02 if kind == 'read4k' else 0x01, cid, 1, buf,
                                0, i * 8, 0, 7))
        return cmds

    def prepare(self, kind):
        """Fill the whole SQ ring with @kind commands once: a batch is then only a
        doorbell, and the protocol's cost per command stays small (the ring holds
        two batches; a CID is reused only after its command completed)."""
        base, tail = self.sq[1]
        assert QSIZE % BATCH == 0 and tail % BATCH == 0
        ring = b''.join(c for b in range(QSIZE // BATCH)
                        for c in self.commands(kind, 1 + b * BATCH))
        self.q.write(base, ring)

    def batch(self):
        base, tail = self.sq[1]
        tail = (tail + BATCH) % QSIZE
        self.sq[1][1] = tail
        self.q.writel(BAR0 + 0x1000 + 8, tail)
        self.reap(1, BATCH, True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('qemu')
    ap.add_argument('--valgrind', default='', help='valgrind arguments (callgrind)')
    ap.add_argument('--batches', nargs='*', default=['read4k=10'])
    argv = sys.argv[1:]
    extra = argv[argv.index('--') + 1:] if '--' in argv else []
    opts = ap.parse_args(argv[:argv.index('--')] if '--' in argv else argv)
    prefix = ['valgrind'] + opts.valgrind.split() if opts.valgrind else []
    q = Qtest(opts.qemu, extra, prefix)
    try:
        q.cmd('irq_intercept_in ioapic')
        dev = Nvme(q)
        for spec in opts.batches:
            kind, n = spec.split('=')
            dev.prepare(kind)
            t = time.monotonic()
            for _ in range(int(n)):
                dev.batch()
            print(f'{kind}: {n} batches of {BATCH} in {time.monotonic() - t:.2f} s',
                  flush=True)
    finally:
        q.sock.close()
        q.proc.terminate()         # callgrind writes its profile on SIGTERM
        q.proc.wait(timeout=600)


if __name__ == '__main__':
    sys.exit(main())
