#!/usr/bin/env python3
"""Seed inputs for QEMU's generic-fuzz target on our NVMe controller.

Without seeds the fuzzer spends its first hours finding how to enable a controller. Each
seed here is a short host driver session in generic-fuzz's input format (operations
separated by b"FUZZ"; see tests/qtest/fuzz/generic_fuzz.c): it enables the controller
through BAR0 (the first fuzzed MMIO region), and every command it submits is a DMA pattern,
so the submission queue entry the device fetches is the pattern's bytes. The fuzzer then
mutates from a controller that runs commands, creates I/O queues and has I/O in flight.
    scripts/fuzz-seeds.py DIR     writes DIR/seed-*
SPDX-License-Identifier: GPL-2.0-or-later
"""
import struct
import sys
from pathlib import Path

SEP = b"FUZZ"
OP_READ, OP_WRITE, OP_PCI_WRITE = 2, 3, 5
OP_ADD_DMA_PATTERN, OP_CLEAR_DMA_PATTERNS, OP_CLOCK_STEP = 7, 8, 9
BAR0 = 0xe0000000  # where the fuzzer maps the first controller's BAR0
ASQ, ACQ, IOSQ, IOCQ, DATA, PRPL = 0x10000, 0x20000, 0x30000, 0x40000, 0x50000, 0x60000


def write(off, val, size=2, region=0):  # size: 0 byte, 1 word, 2 long, 3 quad
    """An MMIO write; region 0 is BAR0, region 1 the MSI-X table."""
    return struct.pack("<BBxxIQ", size, region, off, val)


def read(off, size=2):
    return struct.pack("<BBxxI", size, 0, off)


def op(code, payload=b""):
    return bytes([code]) + payload


def sqe(opc, cid=0, nsid=0, prp1=0, prp2=0, cdw10=0, cdw11=0, cdw12=0, psdt=0):
    return struct.pack("<BBHIQQQQIIIIII", opc, psdt << 6, cid, nsid, 0, 0, prp1, prp2,
                       cdw10, cdw11, cdw12, 0, 0, 0)


def submit(cmd, db_off, tail, *more, step=True):
    """Clear the patterns, make the fetched SQEs these commands (in turn), ring a doorbell,
    and step the clock (which lets throttled I/O complete)."""
    return ([op(OP_CLEAR_DMA_PATTERNS)]
            + [op(OP_ADD_DMA_PATTERN, bytes([2, 1]) + c) for c in (cmd,) + more]
            + [op(OP_WRITE, write(db_off, tail))] + ([op(OP_CLOCK_STEP)] if step else []))


def enable():
    return [op(OP_WRITE, write(0x24, 0x000f000f)), op(OP_WRITE, write(0x28, ASQ, 3)),
            op(OP_WRITE, write(0x30, ACQ, 3)), op(OP_WRITE, write(0x14, 0x00460001)),
            op(OP_READ, read(0x1c))]


def io_queues():
    return (submit(sqe(0x05, 1, prp1=IOCQ, cdw10=1 | 15 << 16, cdw11=3), 0x1000, 1)
            + submit(sqe(0x01, 2, prp1=IOSQ, cdw10=1 | 15 << 16, cdw11=1 | 1 << 16), 0x1000, 2))


def seeds():
    identify = enable() + submit(sqe(0x06, 1, prp1=DATA, cdw10=1), 0x1000, 1)
    rw = enable() + io_queues()
    read4 = rw + submit(sqe(0x02, 3, nsid=1, prp1=DATA, prp2=PRPL, cdw12=15), 0x1008, 4)
    write1 = rw + submit(sqe(0x01, 4, nsid=1, prp1=DATA, cdw12=0), 0x1008, 1)
    sgl = rw + submit(sqe(0x02, 5, nsid=1, prp1=DATA, prp2=0x200 | 0x00 << 56, psdt=1), 0x1008, 1)
    # The shape of issue 7, item 2: [Identify, Delete SQ 1, Delete SQ 1] on one admin
    # doorbell while reads are in flight (throttled) on SQ 1.
    delete_twice = (rw + submit(sqe(0x02, 3, nsid=1, prp1=DATA), 0x1008, 4, step=False)
                    + submit(sqe(0x06, 11, prp1=DATA, cdw10=1), 0x1000, 5,
                             sqe(0x00, 12, cdw10=1), sqe(0x00, 13, cdw10=1)))
    # Shadow doorbells (Doorbell Buffer Config), which attach the ioeventfds where the
    # controller has ioeventfd=on (c0 in the subsys configuration).
    dbbuf = (rw + submit(sqe(0x7c, 14, prp1=0x70000, prp2=0x71000), 0x1000, 3)
             + submit(sqe(0x02, 3, nsid=1, prp1=DATA), 0x1008, 2))
    # The shape of issue 7, item 4: MSI-X enabled, vector 0 aimed at the controller's own
    # CC register with data 0, shadow doorbells, then commands. A completion posted from a
    # doorbell's MMIO write is stopped by QEMU's re-entrancy guard ("Blocked re-entrant IO
    # on MemoryRegion: nvme at addr: 0x14"); the issue's path is a doorbell taken by an
    # ioeventfd, which needs ioeventfd=on (c0 in subsys) and mutations from here.
    msix_to_cc = ([op(OP_PCI_WRITE, struct.pack("<BBBxI", 2, 0, 0x40, 0x80408011)),
                   op(OP_WRITE, write(0x0, BAR0 + 0x14, region=1)),
                   op(OP_WRITE, write(0x4, 0, region=1)), op(OP_WRITE, write(0x8, 0, region=1)),
                   op(OP_WRITE, write(0xc, 0, region=1))]
                  + dbbuf + submit(sqe(0x06, 15, prp1=DATA, cdw10=1), 0x1000, 4))
    # Namespace Management (a pool: the pool configuration) and Namespace Attachment: the
    # second pattern is the command's data (Identify Namespace layout: NSZE, NCAP, FLBAS,
    # NMIC, ANAGRPID; a controller list of CNTLID 1 and 2).
    ns_data = struct.pack("<QQ10xBxxxB61xI", 0x1000, 0x1000, 0, 1, 1)
    ctrl_list = struct.pack("<HHH", 2, 1, 2)
    ns_mgmt = (enable() + submit(sqe(0x0d, 16, prp1=DATA, cdw10=0), 0x1000, 1, ns_data)
               + submit(sqe(0x15, 17, nsid=2, prp1=DATA, cdw10=0), 0x1000, 2, ctrl_list)
               + submit(sqe(0x06, 18, nsid=2, prp1=DATA, cdw10=0), 0x1000, 3))
    ns_delete = ns_mgmt + submit(sqe(0x0d, 19, nsid=0xffffffff, cdw10=1), 0x1000, 4)
    # Reservations: Set Features Host Identifier (81h), Register, Acquire (Write Exclusive),
    # Report, Release; the keys are the data.
    keys = struct.pack("<QQ", 0, 0x1234)
    resv = (enable() + submit(sqe(0x09, 20, prp1=DATA, cdw10=0x81), 0x1000, 1, b"hostid01")
            + io_queues()
            + submit(sqe(0x0d, 21, nsid=1, prp1=DATA, cdw10=0), 0x1008, 1, keys)
            + submit(sqe(0x11, 22, nsid=1, prp1=DATA, cdw10=1 << 8), 0x1008, 2,
                     struct.pack("<QQ", 0x1234, 0))
            + submit(sqe(0x0e, 23, nsid=1, prp1=DATA, cdw10=127, cdw11=1), 0x1008, 3)
            + submit(sqe(0x15, 24, nsid=1, prp1=DATA, cdw10=1 << 8), 0x1008, 4,
                     struct.pack("<Q", 0x1234)))
    return {
        "ns-mgmt": ns_mgmt,
        "ns-delete": ns_delete,
        "resv": resv,
        "delete-sq-twice": delete_twice,
        "dbbuf": dbbuf,
        "msix-to-cc": msix_to_cc,
        "identify": identify,
        "get-log-ana": enable() + submit(sqe(0x02, 1, prp1=DATA, cdw10=0x0c | 0xff << 16), 0x1000, 1),
        "read": read4,
        "write": write1,
        "sgl-read": sgl,
        "read-then-reset": read4 + [op(OP_WRITE, write(0x14, 0))] + enable(),
        "read-then-delete-sq": read4 + submit(sqe(0x00, 6, cdw10=1), 0x1000, 3),
        "read-then-shutdown": read4 + [op(OP_WRITE, write(0x14, 0x00464001))],
        "flush-format": rw + submit(sqe(0x00, 7, nsid=0xffffffff), 0x1008, 1)
                        + submit(sqe(0x80, 8, nsid=1), 0x1000, 3),
        "dsm-verify": rw + submit(sqe(0x09, 9, nsid=1, prp1=DATA, cdw10=3, cdw11=4), 0x1008, 1)
                      + submit(sqe(0x0c, 10, nsid=1, cdw12=0xffff), 0x1008, 2),
    }


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    for name, ops in seeds().items():
        data = SEP.join(ops)
        assert data.count(SEP) == len(ops) - 1, name  # no operand may contain b"FUZZ"
        (out / f"seed-{name}").write_bytes(data)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
