#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The benchmark behind scripts/bench.sh (run that: it builds what this needs).

Three parts, each optional (--only):
  callgrind  instructions per command, valgrind's callgrind on a qtest-driven stream
             (scripts/bench/qtest_stream.py): one I/O queue pair, batches of 32 commands
             on null-co, for our nvme and QEMU's own; whole QEMU process, and the
             device's own functions (the block layer and the qtest protocol excluded).
             Instructions, not seconds: repeatable on a busy machine.
  fio        fio in a small Linux guest (TCG unless KVM works), the devices alternating
             round by round: ours, QEMU's nvme, virtio-blk, virtio-blk with an iothread.
  profile    perf (software clock) on QEMU while the guest runs fio QD32, on each of
             the four devices: the share of QEMU's CPU time in the device, the block
             layer, TCG and the rest; it shows what a cheaper device can gain.
  scale      a subsystem of 64 controllers, 1,024 shared namespaces, 128 ANA groups:
             start-up time and memory; its ANA log; failover time in a guest.
Writes docs/performance.md (--out) with every figure and the command that made it.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / 'tests' / 'guest'))
import guestlib                                  # noqa: E402

STREAM = TOP / 'scripts' / 'bench' / 'qtest_stream.py'
FIRMWARE = ['-L', '/usr/share/seabios', '-L', '/usr/share/qemu']
NULL_DRIVE = ['-drive', 'if=none,id=d0,driver=null-co,size=1G']
BATCH = 32
# QEMU's guest memory and DMA helpers: both models reach guest memory through
# them (ours maps pages itself, upstream through dma-helpers), so a device's
# cost counts them
MEMORY_FILES = ['/system/physmem.c', '/system/memory.c', '/system/dma-helpers.c']


def log(msg):
    print(f'[bench] {msg}', file=sys.stderr, flush=True)


# ---- callgrind -------------------------------------------------------------------------

def cg_total(path):
    for line in path.read_text().splitlines():
        if line.startswith('totals:'):
            return int(line.split()[1])
    raise RuntimeError(f'no totals in {path}')


def cg_self_costs(path):
    """Self cost per function, 'file:function' -> Ir."""
    out = subprocess.run(['callgrind_annotate', '--threshold=100', '--inclusive=no',
                          '--tree=none', '--auto=no', str(path)],
                         capture_output=True, text=True, check=True).stdout
    costs = {}
    for line in out.splitlines():
        m = re.match(r'\s*([\d,]+) \([ \d.]+%\)\s+(\S.*)', line)
        if m and 'PROGRAM TOTALS' not in line:
            name = m.group(2).split(' [')[0]
            costs[name] = costs.get(name, 0) + int(m.group(1).replace(',', ''))
    return costs


def cg_run(qemu, dev_args, batches, out):
    cmd = [sys.executable, str(STREAM), str(qemu),
           '--valgrind', f'--tool=callgrind --callgrind-out-file={out}',
           '--batches'] + batches + ['--', '-machine', 'q35', '-nodefaults'] + \
        FIRMWARE + NULL_DRIVE + dev_args
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def callgrind(name, qemu, dev_args, device_files, tmp, n1=10, n2=60):
    """{kind: (whole process, device functions, top device functions)} per command:
    the difference of two runs, n1 and n2 batches, so start-up cancels out."""
    res = {}
    for kind in ('read4k', 'write4k', 'read128k'):
        paths = []
        for n in (n1, n2):
            p = Path(tmp) / f'cg.{name}.{kind}.{n}'
            cg_run(qemu, dev_args, [f'{kind}={n}'], p)
            paths.append(p)
        ops = (n2 - n1) * BATCH
        whole = (cg_total(paths[1]) - cg_total(paths[0])) / ops
        a, b = cg_self_costs(paths[0]), cg_self_costs(paths[1])
        diff = {k: (b.get(k, 0) - a.get(k, 0)) / ops for k in set(a) | set(b)}
        dev = {k: v for k, v in diff.items() if any(f in k for f in device_files)}
        top = sorted(dev.items(), key=lambda kv: -kv[1])[:8]
        res[kind] = (whole, sum(dev.values()), top)
        log(f'callgrind {name} {kind}: {whole:.0f} per command, device {sum(dev.values()):.0f}')
    return res


# ---- fio in a guest ---------------------------------------------------------------------

FIO_JOBS = [
    ('randread QD1', '--rw=randread --iodepth=1 --numjobs=1'),
    ('randread QD32', '--rw=randread --iodepth=32 --numjobs=1'),
    ('randwrite QD32', '--rw=randwrite --iodepth=32 --numjobs=1'),
    ('randread 2x QD32', '--rw=randread --iodepth=32 --numjobs=2 --group_reporting'),
]

# Every guest script of the benchmark: $dev is the disk under test
GUEST_DISK = r'''
. /guestlib.sh
dev=
for d in /dev/nvme0n1 /dev/vda; do [ -b $d ] && dev=$d && break; done
'''

FIO_GUEST = GUEST_DISK + r'''
result dev "$dev"
i=0
while read -r opts; do
    resultcmd fio$i fio --name=b --filename=$dev --bs=4k --ioengine=libaio --direct=1 \
        --size=512M --time_based --runtime=RUNTIME --ramp_time=2 $opts \
        --output-format=json
    i=$((i + 1))
done <<'EOF'
JOBS
EOF
'''


def fio_devices(ours, upstream):
    return {
        'ours': (ours, NULL_DRIVE + ['-device', 'nvme,serial=bench,drive=d0']),
        'ours ioeventfd': (ours, NULL_DRIVE + ['-device', 'nvme,serial=bench,drive=d0,ioeventfd=on']),
        'ours iothread': (ours, ['-object', 'iothread,id=io0'] + NULL_DRIVE +
                          ['-device', 'nvme,serial=bench,drive=d0,iothread=io0']),
        'upstream nvme': (upstream, NULL_DRIVE + ['-device', 'nvme,serial=bench,drive=d0']),
        'virtio-blk': (ours, NULL_DRIVE + ['-device', 'virtio-blk-pci,drive=d0']),
        'virtio-blk iothread': (ours, ['-object', 'iothread,id=io0'] + NULL_DRIVE +
                                ['-device', 'virtio-blk-pci,drive=d0,iothread=io0']),
    }


# 'ours ioeventfd' only on request (--devices): it decided the property's default
DEFAULT_FIO_DEVICES = ('ours', 'upstream nvme', 'virtio-blk', 'virtio-blk iothread')


def fio_once(name, qemu, args, runtime, tmp):
    script = FIO_GUEST.replace('RUNTIME', str(runtime)).replace(
        'JOBS', '\n'.join(opts for _, opts in FIO_JOBS))
    os.environ['QEMU_BIN'] = str(qemu)
    g = guestlib.Guest(f'bench-{name.replace(" ", "-")}', script, tmp, args=args, smp=2)
    try:
        g.start()
        g.wait_done(timeout=120 + len(FIO_JOBS) * (runtime + 10) * 3)
    finally:
        g.close()
    out = {}
    for i, (job, _) in enumerate(FIO_JOBS):
        data = guestlib.fio_json(g.results.get(f'fio{i}'))
        if not data:
            raise RuntimeError(f'{name}: no fio result for {job}\n{g.tail()}')
        j = data['jobs'][0]
        side = j['read'] if 'randread' in job else j['write']
        p99 = side['clat_ns']['percentile'].get('99.000000', 0) / 1000
        out[job] = (side['iops'], p99)
    return out


def fio_bench(ours, upstream, rounds, runtime, only=None):
    devices = fio_devices(ours, upstream)
    for d in list(devices):
        if d != 'ours' and d not in (only or DEFAULT_FIO_DEVICES):
            del devices[d]
    order = list(devices)
    runs = {d: [] for d in order}
    for r in range(rounds):
        for d in order[r % len(order):] + order[:r % len(order)]:
            with tempfile.TemporaryDirectory(prefix='nvme-bench-') as tmp:
                qemu, args = devices[d]
                res = fio_once(d, qemu, args, runtime, tmp)
                runs[d].append(res)
                log(f'fio round {r + 1} {d}: ' +
                    ', '.join(f'{j} {v[0]:.0f} IOPS' for j, v in res.items()))
    med = {}
    for d in order:
        med[d] = {job: (statistics.median(run[job][0] for run in runs[d]),
                        statistics.median(run[job][1] for run in runs[d]))
                  for job, _ in FIO_JOBS}
    return med, runs


# ---- profile: where a guest's I/O spends QEMU's CPU time --------------------------------

PROFILE_GUEST = GUEST_DISK + r"""
echo PROFILE-FIO-START
resultcmd fio fio --name=b --filename=$dev --bs=4k --ioengine=libaio --direct=1 \
    --size=512M --time_based --runtime=RUNTIME --rw=randread --iodepth=32 \
    --output-format=json
"""

# Where a function's source file puts it; the first match wins.
PROFILE_PARTS = [
    ('device', ('/hw/block/nvme', '/hw/nvme/', '/hw/block/virtio-blk', '/hw/virtio/')),
    ('guest memory, DMA helpers', tuple(MEMORY_FILES)),
    ('block layer', ('/block/', '/block.c')),
    ('TCG (translation, helpers, softmmu)', ('/accel/tcg/', '/tcg/', '/target/', '/fpu/')),
    ('main loop, AIO, locks', ('/util/',)),
]

# TCG's own users of generic code (its TB hash table is a qht, its page locks a QTree)
TCG_NAMES = ('qht_', 'q_tree_', 'tb_', 'helper_', 'cpu_exec', 'tlb_')

# What perf stat counts, per I/O: the kernel's share is system calls and wake-ups
PROFILE_COUNTS = ['raw_syscalls:sys_enter', 'syscalls:sys_enter_ppoll',
                  'syscalls:sys_enter_futex', 'syscalls:sys_enter_write',
                  'syscalls:sys_enter_read', 'context-switches']
STAT_SECONDS = 5


def symbol_files(qemu, names):
    """Source file of each function name, by addr2line on its address (nm -l would read
    all of QEMU's line tables: minutes)."""
    addr = {}
    nm = subprocess.run(['nm', '--defined-only', str(qemu)], capture_output=True, text=True,
                        check=True).stdout
    for line in nm.splitlines():
        f = line.split()
        if len(f) == 3 and f[2] in names and f[2] not in addr:
            addr[f[2]] = f[0]
    order = list(addr)
    out = subprocess.run(['addr2line', '-e', str(qemu)] + [addr[n] for n in order],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    return dict(zip(order, out))


def profile_once(name, qemu, args, tmp, runtime=25, seconds=10):
    """perf (software clock) on the QEMU process while the guest runs fio randread QD32:
    {part: share of the process's samples}, the run's IOPS, the heaviest functions of
    each part, and system calls and context switches per I/O (perf stat, 5 s more)."""
    os.environ['QEMU_BIN'] = str(qemu)
    data = Path(tmp) / f'perf.{name.replace(" ", "-")}.data'
    g = guestlib.Guest(f'profile-{name.replace(" ", "-")}',
                       PROFILE_GUEST.replace('RUNTIME', str(runtime)), tmp, args=args, smp=2)
    try:
        g.start()
        g.wait_line('PROFILE-FIO-START', timeout=180)
        time.sleep(4)                   # past fio's start-up
        pid = str(g.vm.get_pid())
        subprocess.run(['perf', 'record', '-q', '-e', 'cpu-clock', '-F', '499',
                        '-p', pid, '-o', str(data), '--', 'sleep', str(seconds)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stat = subprocess.run(['perf', 'stat', '-x', ',', '-e', ','.join(PROFILE_COUNTS),
                               '-p', pid, '--', 'sleep', str(STAT_SECONDS)],
                              capture_output=True, text=True, check=True).stderr
        g.wait_done(timeout=runtime + 120)
    finally:
        g.close()
    fio = guestlib.fio_json(g.results.get('fio'))
    iops = fio['jobs'][0]['read']['iops'] if fio else 0
    counts = {}
    for line in stat.splitlines():
        f = line.split(',')
        if len(f) > 2 and f[0].strip().isdigit():
            counts[f[2]] = int(f[0]) / (iops * STAT_SECONDS or 1)
    rep = subprocess.run(['perf', 'report', '-i', str(data), '--stdio', '--sort', 'dso,sym'],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in rep.splitlines():
        m = re.match(r'\s*([\d.]+)%\s+(.+?)\s+\[[.k]\]\s+(\S+)', line)
        if m:
            rows.append((float(m.group(1)), m.group(2).strip(), m.group(3)))
    exe = Path(qemu).name
    files = symbol_files(qemu, {sym for _, dso, sym in rows if dso == exe})
    shares, tops = {}, {}
    for pct, dso, sym in rows:
        if dso == exe and sym.startswith(TCG_NAMES):
            part = 'TCG (translation, helpers, softmmu)'
        elif dso == exe:
            src = files.get(sym, '')
            part = next((p for p, keys in PROFILE_PARTS if any(k in src for k in keys)),
                        'rest of QEMU')
        elif dso.startswith('[JIT]') or dso.startswith('memfd:') or dso == '[unknown]':
            part = 'TCG (translation, helpers, softmmu)'
        elif dso.startswith('[kernel'):
            part = 'kernel (syscalls, futexes, poll)'
        else:
            part = 'libraries (libc, glib)'
        shares[part] = shares.get(part, 0) + pct
        tops.setdefault(part, []).append((pct, sym))
    total = sum(shares.values()) or 1
    shares = {k: v * 100 / total for k, v in shares.items()}
    # the three heaviest functions of each part, rows come sorted by share
    tops = {k: [(sym, pct * 100 / total) for pct, sym in v[:3]] for k, v in tops.items()}
    log(f'profile {name}: {iops:.0f} IOPS, ' +
        ', '.join(f'{k} {v:.1f} %' for k, v in sorted(shares.items(), key=lambda kv: -kv[1])))
    log(f'profile {name}: per I/O ' + ', '.join(f'{k} {v:.2f}' for k, v in counts.items()))
    return shares, iops, tops, counts


MMIO_GUEST = GUEST_DISK + r"""
echo MMIO-FIO-START
fio --name=b --filename=$dev --bs=4k --ioengine=libaio --direct=1 --size=512M \
    --io_size=40M --rw=randread --iodepth=32 --output-format=json >/tmp/fio.json
echo MMIO-FIO-END
resultcmd fio cat /tmp/fio.json
"""


def mmio_once(name, qemu, args, tmp):
    """MMIO writes per I/O while the guest reads 10,240 blocks at QD32 (QEMU's own
    memory_region_ops_write trace, the same in every build): under TCG each is an exit
    from translated code to the device, under the BQL. {region name: writes per I/O}."""
    os.environ['QEMU_BIN'] = str(qemu)
    trace = Path(tmp) / f'mmio.{name.replace(" ", "-")}.log'
    g = guestlib.Guest(f'mmio-{name.replace(" ", "-")}', MMIO_GUEST, tmp, smp=2,
                       args=args + ['-trace', 'memory_region_ops_write', '-D', str(trace)])
    try:
        g.start()
        g.wait_line('MMIO-FIO-START', timeout=180)
        start = trace.stat().st_size    # boot's writes are not counted
        g.wait_line('MMIO-FIO-END', timeout=600)
        end = trace.stat().st_size
        g.wait_done(timeout=60)
    finally:
        g.close()
    fio = guestlib.fio_json(g.results.get('fio'))
    ios = fio['jobs'][0]['read']['total_ios'] if fio else 0
    counts = {}
    with open(trace, 'rb') as f:
        f.seek(start)
        for line in f.read(end - start).decode(errors='replace').splitlines():
            m = re.search(r"name '([^']*)'", line)
            if m:
                counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    per_io = {k: v / (ios or 1) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}
    log(f'mmio {name}: {ios} I/Os, per I/O ' +
        ', '.join(f'{k} {v:.2f}' for k, v in per_io.items()))
    return per_io


def profile_bench(ours, upstream, tmp):
    devices = fio_devices(ours, upstream)
    return {d: profile_once(d, *devices[d], tmp) + (mmio_once(d, *devices[d], tmp),)
            for d in DEFAULT_FIO_DEVICES}


# ---- scale ---------------------------------------------------------------------------------

def scale_args(nctrl, nns, ngrp):
    args = ['-device', 'nvme-subsys,id=s0,ana=true']
    for i in range(nctrl):
        slot, fn = 4 + i // 8, i % 8
        mf = ',multifunction=on' if fn == 0 else ''
        args += ['-device', f'nvme,id=c{i},serial=sc{i},subsys=s0,addr={slot:x}.{fn}{mf}']
    for n in range(1, nns + 1):
        args += ['-drive', f'if=none,id=n{n},driver=null-co,size=64M',
                 '-device', f'nvme-ns,drive=n{n},nsid={n},subsys=s0,'
                            f'ana.grpid={(n - 1) % ngrp + 1}']
    return args


def rss_kib(pid):
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
    return 0


def scale_startup(qemu, nctrl, nns, ngrp, tmp):
    """Seconds from exec to the first QMP answer, and RSS then (KiB)."""
    vm = guestlib.Machine(str(qemu), ['-machine', 'q35', '-accel', 'tcg', '-nodefaults',
                                      '-S'] + FIRMWARE + scale_args(nctrl, nns, ngrp),
                          name='scale', log_dir=str(tmp), launch_timeout=120,
                          qmp_timeout=120)
    t0 = time.monotonic()
    vm.launch()
    try:
        vm.cmd('query-status')
        elapsed = time.monotonic() - t0
        rss = rss_kib(vm.get_pid())
        ana = vm.cmd('query-nvme-ana')
    finally:
        vm.shutdown()
    return elapsed, rss, ana


# ---- report ------------------------------------------------------------------------------

def machine_line():
    cpu = ''
    for line in Path('/proc/cpuinfo').read_text().splitlines():
        if line.startswith('model name'):
            cpu = line.split(':', 1)[1].strip()
            break
    mem = Path('/proc/meminfo').read_text().split()[1]
    return (f'{platform.node()}: {os.cpu_count()} CPUs ({cpu}), {int(mem) // 1024 // 1024} '
            f'GiB, Linux {platform.release()}')


def git_commit():
    try:
        return subprocess.run(['git', '-C', str(TOP), 'describe', '--always', '--dirty'],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def report(opts, cg, fio, scale, profile=None):
    L = ['# Performance', '',
         f'Written by `scripts/bench.sh {" ".join(opts.argv)}`'.rstrip() + ' on '
         f'{datetime.date.today()}, commit {git_commit()}.', '',
         f'Machine: {machine_line()}. Accelerator for guests: {guestlib.accel()}.', '',
         'Ours is this project\'s device; upstream is QEMU\'s own `nvme` and virtio-blk is '
         '`virtio-blk-pci`, from the same Debian QEMU source (upstream in a build without '
         'our overlay, build/qemu-ref). Ratios are ours / theirs.', '']
    if cg:
        L += ['## Instructions per command (callgrind)', '',
              'valgrind --tool=callgrind on QEMU driven over the qtest protocol '
              '(scripts/bench/qtest_stream.py): one I/O queue pair of 64 entries, batches of '
              f'{BATCH} commands on null-co, completions by INTx; the difference of a '
              f'{opts.cg_batches[0]}-batch and a {opts.cg_batches[1]}-batch run, per command. '
              '"Device" sums the self cost of the device model\'s functions '
              '(hw/block/nvme*.c for ours, hw/nvme/*.c for upstream) and of QEMU\'s guest '
              'memory and DMA helpers they use (system/physmem.c, memory.c, dma-helpers.c; '
              'the qtest stream\'s own memory accesses are in there too, the same for '
              'both); the rest is the block layer, the main loop and the qtest protocol.', '',
              '| command | ours, whole | upstream, whole | ratio | ours, device | '
              'upstream, device | ratio |', '|---|---:|---:|---:|---:|---:|---:|']
        for kind in cg['ours']:
            o, u = cg['ours'][kind], cg['upstream'][kind]
            L.append(f'| {kind} | {o[0]:,.0f} | {u[0]:,.0f} | {o[0] / u[0]:.2f} | '
                     f'{o[1]:,.0f} | {u[1]:,.0f} | {o[1] / u[1]:.2f} |')
        L += ['', 'Most costly device functions per command (self cost):', '']
        for who in ('ours', 'upstream'):
            for kind in cg[who]:
                top = ', '.join(f'`{k.split(":")[-1]}` {v:,.0f}' for k, v in cg[who][kind][2][:6])
                L.append(f'- {who}, {kind}: {top}')
        L.append('')
    if fio:
        med, runs = fio
        others = [d for d in med if d != 'ours']
        L += ['## fio in a Linux guest', '',
              f'Debian 6.1 kernel, 2 vCPUs, 1 GiB, {guestlib.accel()}; null-co 1 GiB drive; '
              f'4 KiB blocks, libaio, direct, {opts.runtime} s after 2 s ramp; '
              f'{opts.rounds} rounds, devices alternating; median IOPS and p99 completion '
              'latency (µs).', '',
              '| job | ' + ' | '.join(med) + ' | ' +
              ' | '.join(f'ours/{d.replace("upstream nvme", "upstream")}' for d in others) +
              ' |',
              '|---|' + '---:|' * (len(med) + len(others))]
        for job, _ in FIO_JOBS:
            cells = [f'{med[d][job][0]:,.0f} ({med[d][job][1]:,.0f})' for d in med]
            o = med['ours'][job][0]
            L.append(f'| {job} | ' + ' | '.join(cells) + ' | ' +
                     ' | '.join(f'{o / med[d][job][0]:.2f}' for d in others) + ' |')
        L += ['', 'Every round, IOPS:', '']
        for d, rs in runs.items():
            L.append(f'- {d}: ' + '; '.join(
                ', '.join(f'{r[job][0]:,.0f}' for job, _ in FIO_JOBS) for r in rs))
        L.append('')
    if profile:
        parts = [p for p, _ in PROFILE_PARTS] + ['rest of QEMU', 'TCG (translation, helpers, softmmu)',
                                                  'kernel (syscalls, futexes, poll)',
                                                  'libraries (libc, glib)']
        parts = list(dict.fromkeys(parts))
        L += ['## Where the CPU time goes (perf)', '',
              'perf record (software clock, 499 Hz, 10 s) on the QEMU process while its guest '
              f'(2 vCPUs, {guestlib.accel()}) runs fio randread QD32 on null-co; each sample '
              'counted where its function\'s source file is (addr2line). Shares of the '
              'process\'s samples, %:', '',
              '| part | ' + ' | '.join(profile) + ' |', '|---|' + '---:|' * len(profile)]
        for part in parts:
            L.append(f'| {part} | ' + ' | '.join(f'{profile[d][0].get(part, 0):.1f}'
                                                 for d in profile) + ' |')
        L.append('| IOPS of that run | ' + ' | '.join(f'{profile[d][1]:,.0f}' for d in profile)
                 + ' |')
        for c in PROFILE_COUNTS:
            label = {'raw_syscalls:sys_enter': 'system calls per I/O',
                     'context-switches': 'context switches per I/O'}.get(
                         c, c.replace('syscalls:sys_enter_', '') + ' calls per I/O')
            L.append(f'| {label} | ' + ' | '.join(f'{profile[d][3].get(c, 0):.2f}'
                                                  for d in profile) + ' |')
        L.append('| MMIO writes per I/O (another run, traced: 10,240 reads; '
                 'ioeventfd doorbells are write calls, not MMIO writes) | ' +
                 ' | '.join(f'{sum(profile[d][4].values()):.2f}' for d in profile) + ' |')
        L += ['', 'MMIO writes per I/O by memory region:', '']
        for d in profile:
            L.append(f'- {d}: ' + ', '.join(f'`{k}` {v:.2f}' for k, v in profile[d][4].items()
                                           if v >= 0.01))
        L += ['', 'Heaviest functions of each part (% of the process\'s samples):', '']
        for d in profile:
            for part in parts:
                top = profile[d][2].get(part)
                if top:
                    L.append(f'- {d}, {part}: ' +
                             ', '.join(f'`{sym}` {pct:.1f}' for sym, pct in top))
        L.append('')
    if scale:
        L += ['## Scale', '']
        for line in scale:
            L.append(f'- {line}')
        L.append('')
    return '\n'.join(L)


def main():
    ap = argparse.ArgumentParser(description='NVMe benchmark (run scripts/bench.sh)')
    ap.add_argument('--ours', required=True)
    ap.add_argument('--upstream', required=True)
    ap.add_argument('--only', nargs='*', choices=('callgrind', 'fio', 'profile', 'scale'),
                    default=['callgrind', 'fio', 'profile', 'scale'])
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--runtime', type=int, default=8, help='seconds per fio job')
    ap.add_argument('--cg-batches', type=int, nargs=2, default=[10, 60])
    ap.add_argument('--jobs', nargs='*', choices=[j for j, _ in FIO_JOBS],
                    help='fio jobs to run (default: all)')
    ap.add_argument('--devices', nargs='*', choices=list(fio_devices('', '')),
                    help='fio devices to run (default: %s)' % ', '.join(DEFAULT_FIO_DEVICES))
    ap.add_argument('--out', default=str(TOP / 'docs' / 'performance.md'))
    opts = ap.parse_args()
    if opts.jobs:
        FIO_JOBS[:] = [j for j in FIO_JOBS if j[0] in opts.jobs]
    opts.argv = [a for a in sys.argv[1:] if not a.startswith('--ours') and
                 not a.startswith('--upstream') and a not in (opts.ours, opts.upstream)]
    cg = fio = scale = profile = None
    with tempfile.TemporaryDirectory(prefix='nvme-bench-') as tmp:
        if 'callgrind' in opts.only:
            cg = {
                'ours': callgrind('ours', opts.ours, ['-device', 'nvme,addr=4.0,serial=b,drive=d0'],
                                  ['/hw/block/nvme'] + MEMORY_FILES, tmp, *opts.cg_batches),
                'upstream': callgrind('upstream', opts.upstream,
                                      ['-device', 'nvme,addr=4.0,serial=b,drive=d0'],
                                      ['/hw/nvme/'] + MEMORY_FILES, tmp, *opts.cg_batches),
            }
        if 'fio' in opts.only:
            fio = fio_bench(opts.ours, opts.upstream, opts.rounds, opts.runtime, opts.devices)
        if 'profile' in opts.only:
            profile = profile_bench(opts.ours, opts.upstream, tmp)
        if 'scale' in opts.only:
            scale = scale_bench(opts.ours, tmp)
    text = report(opts, cg, fio, scale, profile)
    Path(opts.out).write_text(text + '\n')
    print(text)


FAILOVER_GUEST = r'''
. /guestlib.sh
c0=$(ctrl_by_sn fo-a); c1=$(ctrl_by_sn fo-b)
head=$(ns_head $c0 1); p0=$(ns_path $c0 1); p1=$(ns_path $c1 1)
hostsync demote
waitval /sys/block/$p1/ana_state non-optimized 20 || echo "FAIL: p1 not non-optimized"
reads() { set -- $(cat /sys/block/$1/stat); echo $1; }
fio --name=f --filename=/dev/$head --rw=randread --bs=4k --iodepth=1 \
    --ioengine=libaio --direct=1 --time_based --runtime=120 >/dev/null 2>&1 &
sleep 3
result before "$(reads $p0) $(reads $p1)"
b=$(reads $p1)
echo WATCHING
while [ "$(reads $p1)" = "$b" ]; do :; done
echo SWITCHED
kill %1 2>/dev/null
'''


def failover_time(ours, tmp, rounds=3):
    """Seconds from the monitor's ANA change (host clock) to the console line the
    guest prints when the first I/O completed on the other path; median of @rounds."""
    times = []
    for r in range(rounds):
        d = Path(tmp) / f'fo{r}'
        img = d / 'ns.raw'
        d.mkdir()
        with open(img, 'wb') as f:
            f.truncate(256 << 20)
        os.environ['QEMU_BIN'] = str(ours)
        args = ['-drive', f'file={img},if=none,id=d0,format=raw',
                '-device', 'nvme-subsys,id=s0,ana=true',
                '-device', 'nvme,id=c0,serial=fo-a,subsys=s0',
                '-device', 'nvme,id=c1,serial=fo-b,subsys=s0',
                '-device', 'nvme-ns,drive=d0,nsid=1,subsys=s0,ana.grpid=1']
        g = guestlib.Guest(f'bench-failover{r}', FAILOVER_GUEST, d, args=args, smp=2)
        try:
            g.start()
            g.wait_sync('demote')
            g.qmp.cmd('nvme-ana-set-state', id='c1', grpid=1, state='non-optimized')
            g.reply()
            mark = g.mark()
            g.wait_line(r'^WATCHING', since=mark, timeout=60)
            t0 = time.monotonic()
            g.qmp.cmd('nvme-ana-set-state', id='c0', grpid=1, state='inaccessible')
            g.wait_line(r'^SWITCHED', since=mark, timeout=60)
            times.append(time.monotonic() - t0)
            g.wait_done(timeout=60)
        finally:
            g.close()
        log(f'failover round {r + 1}: {times[-1] * 1000:.0f} ms')
    return statistics.median(times), times


def scale_bench(ours, tmp):
    lines = []
    for nctrl, nns, ngrp in ((64, 1024, 128),):
        t, rss, ana = scale_startup(ours, nctrl, nns, ngrp, tmp)
        ctrls = ana[0]['controllers'] if ana else []
        lines.append(f'{nctrl} controllers, {nns} shared namespaces, {ngrp} ANA groups: '
                     f'QEMU answers QMP {t:.2f} s after exec (-S, no guest), RSS '
                     f'{rss / 1024:.0f} MiB; query-nvme-ana lists {len(ctrls)} controllers '
                     f'with {len(ctrls[0]["groups"]) if ctrls else 0} groups each; the ANA '
                     f'log of such a controller is {16 + ngrp * 32 + nns * 4:,} bytes '
                     f'(MDTS 512 KiB)')
        log(lines[-1])
    med, times = failover_time(ours, tmp)
    lines.append('ANA failover (2 controllers, fio QD1 through the multipath device, path '
                 'A optimized, B non-optimized; A made inaccessible on the monitor): first '
                 f'I/O completed on B after {med * 1000:.0f} ms (median of '
                 + ', '.join(f'{t * 1000:.0f}' for t in times) + ' ms; host clock, from '
                 'the QMP command to the guest\'s console line)')
    log(lines[-1])
    return lines


if __name__ == '__main__':
    sys.exit(main())
