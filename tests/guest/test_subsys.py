# SPDX-License-Identifier: GPL-2.0-or-later
"""The seed's subsystem topology, as Linux (native NVMe multipath) and nvme-cli see it.

    -device nvme-subsys,id=subsys0
    -device nvme,serial=foo,id=nvme0,subsys=subsys0
    -device nvme,serial=bar,id=nvme1,subsys=subsys0
    -device nvme,serial=baz,id=nvme2,subsys=subsys0
    -device nvme-ns,id=ns1,drive=drv10,nsid=1,subsys=subsys0     (128 MiB, shared)
    -device nvme-ns,id=ns2,drive=drv11,nsid=2,bus=nvme2          (256 MiB, private to baz)
    -device nvme,serial=qux,id=nvme3
    -device nvme-ns,id=ns3,drive=drv12,nsid=3,bus=nvme3          (256 MiB, private to qux)

Expected: two subsystems, nqn.2019-08.org.qemu:subsys0 (controllers foo, bar, baz; CMIC
bit 1; distinct CNTLIDs) and nqn.2019-08.org.qemu:qux (controller qux, CMIC 0); namespace 1
one multipath block device with three hidden path devices, one under each subsys0
controller (NMIC bit 0); namespace 2 only under baz's controller, namespace 3 only under
qux's. Then fio with verification on the three namespaces (I/O spread over the three paths
by the round-robin policy), and a pattern on each namespace that the host finds in the
right image file after power-off.

Devices are found through sysfs and Identify data, never by name: probe order decides
nvmeN and nvme-subsysN. Linux's /sys/class/nvme/nvmeN/serial (and so nvme list's SN
column) is the subsystem's serial, copied from whichever controller probed first, so the
controllers' own serials come from Identify Controller.
"""

import hashlib
import json
import re
import sys

from guestlib import MiB, fio_json, guest_script, nvme_device

NQN_PREFIX = 'nqn.2019-08.org.qemu:'
SUBSYS_NQN = NQN_PREFIX + 'subsys0'
QUX_NQN = NQN_PREFIX + 'qux'
DRIVES = {'drv10': 128 * MiB, 'drv11': 256 * MiB, 'drv12': 256 * MiB}
NS_DRIVE = {1: 'drv10', 2: 'drv11', 3: 'drv12'}
PATTERN_OFFSET = 100 * MiB          # 1 MiB per namespace, above fio's 32 MiB
PATTERN_SIZE = 1 * MiB
# the guest's part: guest/subsys.sh (fio: two 16 MiB jobs per namespace)


def topology(dev=None):
    """The seed's -device options (dev: the controller type, default nvme_device())."""
    dev = dev or nvme_device()
    return ['-device', 'nvme-subsys,id=subsys0',
            '-device', f'{dev},serial=foo,id=nvme0,subsys=subsys0',
            '-device', f'{dev},serial=bar,id=nvme1,subsys=subsys0',
            '-device', f'{dev},serial=baz,id=nvme2,subsys=subsys0',
            '-device', 'nvme-ns,id=ns1,drive=drv10,nsid=1,subsys=subsys0',
            '-device', 'nvme-ns,id=ns2,drive=drv11,nsid=2,bus=nvme2',
            '-device', f'{dev},serial=qux,id=nvme3',
            '-device', 'nvme-ns,id=ns3,drive=drv12,nsid=3,bus=nvme3']


def run(ctx):
    args = []
    imgs = {}
    for drv, size in DRIVES.items():
        imgs[drv] = ctx.image(f'{drv}.raw', size)
        args += ['-drive', f'file={imgs[drv]},if=none,id={drv},format=raw']
    env = {'SUBSYS_NQN': SUBSYS_NQN, 'QUX_NQN': QUX_NQN,
           'PSEEK': PATTERN_OFFSET // (64 * 1024)}
    g = ctx.guest(guest_script('subsys'), env=env, smp=2, args=args + topology())
    g.start()
    rc = g.wait_done(timeout=150)
    ctx.check('guest script finished', rc == 0, f'rc={rc}')
    r = g.results
    t = Topology(r)

    # -- subsystems and controllers (sysfs, Identify) -----------------------------------
    ctx.check('two NVMe subsystems',
              sorted(t.subsys_nqn.values()) == sorted([SUBSYS_NQN, QUX_NQN]),
              f'subsystems {t.subsys_nqn}')
    s0, sq = t.subsys_by_nqn.get(SUBSYS_NQN), t.subsys_by_nqn.get(QUX_NQN)
    c0 = t.subsys_ctrls.get(s0, [])
    cq = t.subsys_ctrls.get(sq, [])
    ctx.check(f'{SUBSYS_NQN} has three controllers with Identify SN foo, bar, baz',
              sorted(t.sn.get(c) for c in c0) == ['bar', 'baz', 'foo'],
              f'{s0}: {[(c, t.sn.get(c)) for c in c0]}')
    ctx.check(f'{QUX_NQN} has one controller with Identify SN qux',
              [t.sn.get(c) for c in cq] == ['qux'], f'{sq}: {[(c, t.sn.get(c)) for c in cq]}')
    ctx.check('every controller is in exactly one subsystem',
              sorted(c0 + cq) == sorted(t.ctrls), f'controllers {t.ctrls}, {s0}: {c0}, {sq}: {cq}')
    for c in t.ctrls:
        sn = t.sn.get(c, '?')
        want = QUX_NQN if c in cq else SUBSYS_NQN
        idc = t.idctrl.get(c) or {}
        ctx.check(f'{sn}: sysfs subsysnqn and Identify SUBNQN are {want}',
                  r.get(f'ctrl.{c}.subsysnqn') == want and idc.get('subnqn') == want,
                  f'{c}: sysfs {r.get(f"ctrl.{c}.subsysnqn")!r}, Identify {idc.get("subnqn")!r}')
        ctx.check(f'{sn}: live, transport pcie, a PCI address',
                  r.get(f'ctrl.{c}.state') == 'live' and r.get(f'ctrl.{c}.transport') == 'pcie'
                  and re.fullmatch(r'[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]',
                                   str(r.get(f'ctrl.{c}.address'))),
                  f'{c}: state {r.get(f"ctrl.{c}.state")!r} transport '
                  f'{r.get(f"ctrl.{c}.transport")!r} address {r.get(f"ctrl.{c}.address")!r}')
        ctx.check(f'{sn}: sysfs cntlid is Identify CNTLID',
                  str(r.get(f'ctrl.{c}.cntlid')) == str(idc.get('cntlid')),
                  f'{c}: sysfs {r.get(f"ctrl.{c}.cntlid")!r}, Identify {idc.get("cntlid")!r}')
        cmic = idc.get('cmic')
        if c in cq:
            ctx.check(f'{sn}: Identify CMIC bit 1 (multiple controllers) clear',
                      isinstance(cmic, int) and not cmic & 2, f'{c}: cmic={cmic!r}')
        else:
            ctx.check(f'{sn}: Identify CMIC bit 1 (multiple controllers) set',
                      isinstance(cmic, int) and cmic & 2, f'{c}: cmic={cmic!r}')
    ids = [t.idctrl.get(c, {}).get('cntlid') for c in c0]
    ctx.check(f'CNTLIDs distinct in {SUBSYS_NQN}', len(set(ids)) == 3 and None not in ids,
              f'CNTLIDs {ids}')
    ctx.info(f'{SUBSYS_NQN}: ' + ', '.join(
        f'{t.sn.get(c)}={c} cntlid {t.idctrl.get(c, {}).get("cntlid")}' for c in c0)
        + f'; sysfs serial of all three: {sorted({r.get(f"ctrl.{c}.serial") for c in c0})}')

    # -- namespaces (sysfs block devices, Identify Namespace) ---------------------------
    by_sn = {t.sn.get(c): c for c in t.ctrls}
    heads = t.visible(1)
    ctx.check('namespace 1: one block device', len(heads) == 1, f'nsid 1 devices {heads}')
    h1 = heads[0] if heads else None
    ctx.check('namespace 1: a multipath head of the subsystem',
              h1 is not None and r.get(f'blk.{h1}.parent') == s0,
              f'{h1} hangs under {r.get(f"blk.{h1}.parent")!r}, not {s0}')
    paths = t.hidden(1)
    ctx.check('namespace 1: three hidden path devices, one under each subsys0 controller',
              sorted(r.get(f'blk.{p}.parent') for p in paths) == sorted(c0)
              and all(_head_of(p) == h1 for p in paths),
              f'paths {[(p, r.get(f"blk.{p}.parent")) for p in paths]}, controllers {c0}')
    for nsid in (1, 2, 3):
        devs = t.visible(nsid)
        d = devs[0] if devs else None
        want = DRIVES[NS_DRIVE[nsid]]
        ctx.check(f'namespace {nsid}: {want // MiB} MiB, 512 B blocks',
                  d and r.get(f'blk.{d}.size') == want // 512 and r.get(f'blk.{d}.lbs') == 512,
                  f'{d}: {r.get(f"blk.{d}.size")} sectors, LBA {r.get(f"blk.{d}.lbs")}')
        idns = r.get(f'blk.{d}.idns') if d else None
        nmic = idns.get('nmic') if isinstance(idns, dict) else None
        ctx.check(f'namespace {nsid}: Identify NMIC bit 0 (shared) '
                  + ('set' if nsid == 1 else 'clear'),
                  isinstance(nmic, int) and bool(nmic & 1) == (nsid == 1),
                  f'{d}: nmic={nmic!r}')
    for nsid, owner in ((2, 'baz'), (3, 'qux')):
        devs = t.visible(nsid)
        ctx.check(f'namespace {nsid}: one block device, only under {owner}\'s controller, '
                  'no path devices',
                  len(devs) == 1 and r.get(f'blk.{devs[0]}.parent') == by_sn.get(owner)
                  and not t.hidden(nsid),
                  f'devices {[(d, r.get(f"blk.{d}.parent")) for d in devs]}, '
                  f'paths {t.hidden(nsid)}, {owner} is {by_sn.get(owner)}')

    # -- nvme list -v -o json -----------------------------------------------------------
    lst = r.get('list')
    subs = {}
    if isinstance(lst, dict):
        for host in lst.get('Devices', []):
            for s in host.get('Subsystems', []):
                subs[s.get('SubsystemNQN')] = s
    ctx.check('nvme list -v: the two subsystems', sorted(subs) == sorted([SUBSYS_NQN, QUX_NQN]),
              f'{sorted(subs)} (output {str(lst)[:300]})')
    s = subs.get(SUBSYS_NQN, {})
    ctrl_names = sorted(c.get('Controller') for c in s.get('Controllers', []))
    ctx.check('nvme list -v: subsys0 lists its three controllers', ctrl_names == sorted(c0),
              f'{ctrl_names}, sysfs {c0}')
    ns = [(n.get('NameSpace'), n.get('NSID'), n.get('PhysicalSize'), n.get('SectorSize'))
          for n in s.get('Namespaces', [])]
    ctx.check('nvme list -v: subsys0\'s shared namespace: NSID 1, 134.22 MB, 512 B',
              ns == [(h1, 1, 128 * MiB, 512)], f'namespaces {ns}, head {h1}')
    for c in s.get('Controllers', []):
        name = c.get('Controller')
        sn = t.sn.get(name, name)
        p = sorted(x.get('Path') for x in c.get('Paths', []))
        ctx.check(f'nvme list -v: {sn} has one path to namespace 1',
                  len(p) == 1 and _head_of(p[0]) == h1, f'{name}: paths {p}')
        nss = [(n.get('NSID'), n.get('PhysicalSize')) for n in c.get('Namespaces', [])]
        want = [(2, 256 * MiB)] if sn == 'baz' else []
        ctx.check(f'nvme list -v: {sn}\'s private namespaces {want}', nss == want,
                  f'{name}: {nss}')
    q = subs.get(QUX_NQN, {})
    qc = q.get('Controllers', [])
    nss = [(n.get('NSID'), n.get('PhysicalSize')) for c in qc for n in c.get('Namespaces', [])]
    ctx.check('nvme list -v: qux has one controller with namespace 3 (256 MiB), no paths',
              len(qc) == 1 and qc[0].get('Controller') == by_sn.get('qux')
              and nss == [(3, 256 * MiB)] and not qc[0].get('Paths')
              and not q.get('Namespaces'),
              f'{str(q)[:400]}')

    # -- nvme list-subsys ---------------------------------------------------------------
    ls_all = _subsystems(r.get('list-subsys'))
    ctx.check('nvme list-subsys: subsys0 with its three controllers live',
              sorted(p for p, st in ls_all.get(SUBSYS_NQN, [])) == sorted(c0)
              and all(st == 'live' for _, st in ls_all.get(SUBSYS_NQN, [])),
              f'{ls_all}')
    ctx.check('nvme list-subsys: qux with its controller live',
              ls_all.get(QUX_NQN) == [(by_sn.get('qux'), 'live')], f'{ls_all}')
    if h1:
        one = _subsystems(r.get(f'list-subsys.{h1}'))
        ctx.check(f'nvme list-subsys /dev/{h1} (namespace 1): three live paths, '
                  'foo, bar and baz\'s controllers',
                  list(one) == [SUBSYS_NQN]
                  and sorted(p for p, st in one[SUBSYS_NQN]) == sorted(c0)
                  and all(st == 'live' for _, st in one[SUBSYS_NQN]), f'{one}')
    for nsid, nqn, owner in ((2, SUBSYS_NQN, 'baz'), (3, QUX_NQN, 'qux')):
        devs = t.visible(nsid)
        one = _subsystems(r.get(f'list-subsys.{devs[0]}')) if devs else {}
        # nvme-cli 2.3 lists every controller of the subsystem for a namespace that is
        # not a multipath head: only the subsystem and the owner's presence are checked
        ctx.check(f'nvme list-subsys /dev/{devs[0] if devs else "?"} (namespace {nsid}): '
                  f'{nqn}, {owner}\'s controller among the paths',
                  list(one) == [nqn] and by_sn.get(owner) in [p for p, _ in one[nqn]],
                  f'{one}')

    # -- I/O ------------------------------------------------------------------------------
    ctx.check('iopolicy round-robin set', r.get('iopolicy') == 'round-robin',
              f'iopolicy {r.get("iopolicy")!r}')
    fio = fio_json(r.get('fio'))
    jobs = fio.get('jobs', []) if fio else []
    ctx.check('fio: six jobs reported (2 per namespace)', len(jobs) == 6,
              f'fio output: {str(r.get("fio"))[:300]}')
    for j in jobs:
        w, rd = j.get('write', {}), j.get('read', {})
        ctx.check(f'fio {j.get("jobname")}: no error, 16 MiB written and verified',
                  j.get('error') == 0 and w.get('io_bytes') == 16 * MiB
                  and rd.get('io_bytes') == 16 * MiB,
                  f'error={j.get("error")} written={w.get("io_bytes")} '
                  f'verified={rd.get("io_bytes")}')
    if jobs:
        ctx.info('fio randwrite 4k QD32: ' + ', '.join(
            f'{j["jobname"]} {j["write"].get("iops", 0):.0f} IOPS' for j in jobs))
    for p in paths:
        s0_, s1_, s2_ = (_stat(r.get(f'{k}.{p}')) for k in ('stat0', 'stat1', 'stat2'))
        who = t.sn.get(r.get(f'blk.{p}.parent'), '?')
        ctx.check(f'fio: I/O went down the path through {sn_or(who)} ({p})',
                  s0_ and s1_ and s1_[4] > s0_[4] and s1_[0] > s0_[0],
                  f'stat before {s0_}, after {s1_}')
        ctx.check(f'read-back: reads went down the path through {sn_or(who)} ({p})',
                  s1_ and s2_ and s2_[0] > s1_[0], f'stat before {s1_}, after {s2_}')

    rb = [x.split() for x in str(r.get('readback', '')).split(';') if x.strip()]
    for d, nsid in ((_devs(r, 0), 1), (_devs(r, 1), 2), (_devs(r, 2), 3)):
        pat = r.get(f'pattern.{d}')
        got = [x[2] for x in rb if len(x) == 3 and x[1] == d]
        ctx.check(f'namespace {nsid}: pattern read back ({len(got)}x) through /dev/{d}',
                  pat and got and all(x == pat for x in got), f'wrote {pat!r}, read {got}')
        with open(imgs[NS_DRIVE[nsid]], 'rb') as f:
            f.seek(PATTERN_OFFSET)
            host = hashlib.md5(f.read(PATTERN_SIZE)).hexdigest()
        ctx.check(f'namespace {nsid}: the pattern is in {NS_DRIVE[nsid]}\'s image file',
                  pat and host == pat, f'md5 at {PATTERN_OFFSET} is {host}, guest wrote {pat!r}')
    ctx.expect_guest_checks(g, ['fio-verify'] + [f'pattern-write-{_devs(r, i)}'
                                                 for i in range(3)])
    if g.test_starts:
        ctx.info(f'boot to test start {g.test_starts[0]:.2f} s (2 vCPUs), whole guest '
                 f'run {g.t_done:.1f} s')


def sn_or(x):
    return x or '?'


class Topology:
    """The guest's RESULT lines sorted into subsystems, controllers and block devices."""

    def __init__(self, r):
        self.r = r
        self.subsys_nqn = {}
        self.subsys_ctrls = {}
        self.ctrls = []
        self.blks = []
        for k, v in r.items():
            m = re.fullmatch(r'subsys\.(nvme-subsys\d+)\.nqn', k)
            if m:
                self.subsys_nqn[m.group(1)] = v
                self.subsys_ctrls[m.group(1)] = sorted(
                    str(r.get(f'subsys.{m.group(1)}.ctrls', '')).split())
            m = re.fullmatch(r'ctrl\.(nvme\d+)\.id', k)
            if m:
                self.ctrls.append(m.group(1))
            m = re.fullmatch(r'blk\.(nvme\w+)\.nsid', k)
            if m:
                self.blks.append(m.group(1))
        self.ctrls.sort()
        self.subsys_by_nqn = {v: k for k, v in self.subsys_nqn.items()}
        self.idctrl = {c: r.get(f'ctrl.{c}.id') for c in self.ctrls
                       if isinstance(r.get(f'ctrl.{c}.id'), dict)}
        self.sn = {c: str(i.get('sn', '')).strip() for c, i in self.idctrl.items()}

    def visible(self, nsid):
        """Block devices with a /dev node (heads and private namespaces) for NSID."""
        return sorted(b for b in self.blks if self.r.get(f'blk.{b}.nsid') == nsid
                      and self.r.get(f'blk.{b}.node') == 'yes')

    def hidden(self, nsid):
        """Hidden multipath path devices (nvmeXcYnZ) for NSID."""
        return sorted(b for b in self.blks if self.r.get(f'blk.{b}.nsid') == nsid
                      and self.r.get(f'blk.{b}.node') == 'no'
                      and str(self.r.get(f'blk.{b}.hidden')) == '1')


def _head_of(path):
    """nvme1c2n1 -> nvme1n1 (the head a path device belongs to, by Linux's naming)."""
    return re.sub(r'^(nvme\d+)c\d+(n\d+)$', r'\1\2', path)


def _devs(r, i):
    d = str(r.get('devs', '')).split()
    return d[i] if len(d) > i else None


def _stat(v):
    try:
        return [int(x) for x in str(v).split()]
    except ValueError:
        return None


def _subsystems(v):
    """nvme list-subsys -o json -> {NQN: [(controller, state), ...]}."""
    out = {}
    hosts = v if isinstance(v, list) else [v] if isinstance(v, dict) else []
    for host in hosts:
        for s in host.get('Subsystems', []) if isinstance(host, dict) else []:
            out[s.get('NQN')] = [(p.get('Name'), p.get('State')) for p in s.get('Paths', [])]
    return out


if __name__ == '__main__':
    import run
    sys.exit(run.main(['subsys'] + sys.argv[1:]))
