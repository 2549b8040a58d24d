# SPDX-License-Identifier: GPL-2.0-or-later
"""Bad configuration: QEMU must exit with a clear message naming the property, never
abort or crash; and the device model's help lists its properties. No guest boots here."""

import subprocess

from guestlib import Machine, MiB, QEMUMachineError, QMPError, firmware_dirs, qemu_bin

NS = '-device nvme-ns,drive={d},nsid={n},{where}'

# (what, extra arguments, words the error message must contain)
CASES = [
    ('controller without serial',
     ['-device', 'nvme,id=c0'], ["'serial'", 'required']),
    ('serial longer than 20 characters',
     ['-device', 'nvme,id=c0,serial=' + 'x' * 21], ["'serial'", '20']),
    ('max_ioqpairs 0',
     ['-device', 'nvme,id=c0,serial=a,max_ioqpairs=0'], ["'max_ioqpairs'"]),
    ('mdts over 20',
     ['-device', 'nvme,id=c0,serial=a,mdts=21'], ["'mdts'"]),
    ('shared and private namespace with one nsid',
     ['-device', 'nvme-subsys,id=s0', '-device', 'nvme,id=c0,serial=a,subsys=s0',
      '-device', 'nvme-ns,drive=d0,nsid=1,subsys=s0',
      '-device', 'nvme-ns,drive=d1,nsid=1,bus=c0'],
     ["'nsid' 1", 'already used', 'choose another nsid']),
    ('two shared namespaces with one nsid',
     ['-device', 'nvme-subsys,id=s0', '-device', 'nvme,id=c0,serial=a,subsys=s0',
      '-device', 'nvme-ns,drive=d0,nsid=1,subsys=s0',
      '-device', 'nvme-ns,drive=d1,nsid=1,subsys=s0'],
     ["'nsid' 1", 'already used']),
    ('nsid 0',
     ['-device', 'nvme,id=c0,serial=a', '-device', 'nvme-ns,drive=d0,nsid=0,bus=c0'],
     ["'nsid' 0", '1 to 1024']),
    ('nsid over the maximum',
     ['-device', 'nvme,id=c0,serial=a', '-device', 'nvme-ns,drive=d0,nsid=1025,bus=c0'],
     ["'nsid' 1025", 'maximum']),
    ('subsys naming a controller',
     ['-device', 'nvme,id=c0,serial=a', '-device', 'nvme,id=c1,serial=b,subsys=c0'],
     ["'subsys'", 'nvme-subsys']),
    ('namespace subsys naming a controller',
     ['-device', 'nvme,id=c0,serial=a', '-device', 'nvme-ns,drive=d0,subsys=c0'],
     ["'subsys'", 'nvme-subsys']),
    ('nvme-subsys without id or nqn',
     ['-device', 'nvme-subsys'], ["'id'", "'nqn'"]),
    ('65 controllers in one subsystem',
     ['-device', 'nvme-subsys,id=s0'] +
     # eight functions a slot: the machine has fewer than 65 free slots
     [a for i in range(65) for a in (
         '-device', f'nvme,serial=s{i},subsys=s0,addr={3 + i // 8}.{i % 8}'
                    + (',multifunction=on' if i % 8 == 0 else ''))],
     ['64 controllers', 'maximum']),
    ('different models in one subsystem',
     ['-device', 'nvme-subsys,id=s0', '-device', 'nvme,serial=a,subsys=s0,model=A',
      '-device', 'nvme,serial=b,subsys=s0,model=B'], ["'model'"]),
    ('namespace without drive',
     ['-device', 'nvme,id=c0,serial=a', '-device', 'nvme-ns,nsid=1,bus=c0'],
     ["'drive'", 'required']),
    ('logical_block_size 2048',
     ['-device', 'nvme,id=c0,serial=a',
      '-device', 'nvme-ns,drive=d0,nsid=1,bus=c0,logical_block_size=2048,'
                 'physical_block_size=2048'],
     ["'logical_block_size'", '512 or 4096']),
    ('nguid not 32 hex digits',
     ['-device', 'nvme,id=c0,serial=a', '-device', 'nvme-ns,drive=d0,nsid=1,bus=c0,nguid=12zz'],
     ["'nguid'", '32 hexadecimal']),
    ('ana.grpid without ana=true',
     ['-device', 'nvme-subsys,id=s0', '-device', 'nvme,serial=a,subsys=s0',
      '-device', 'nvme-ns,drive=d0,nsid=1,subsys=s0,ana.grpid=1'],
     ["'ana.grpid'", 'ana=true']),
    ('ana.grpid 129',
     ['-device', 'nvme-subsys,id=s0,ana=true', '-device', 'nvme,serial=a,subsys=s0',
      '-device', 'nvme-ns,drive=d0,nsid=1,subsys=s0,ana.grpid=129'],
     ["'ana.grpid' 129", '1 to 128']),
    ('pool smaller than 2 MiB',
     ['-drive', 'if=none,id=p0,driver=null-co,size=1M',
      '-device', 'nvme-subsys,id=s0,pool=p0'], ["pool drive 'p0'", 'too small']),
    ('read-only pool',
     ['-drive', 'if=none,id=p0,driver=null-co,size=64M,read-only=on',
      '-device', 'nvme-subsys,id=s0,pool=p0'], ["pool drive 'p0'", 'writable']),
    ('pool drive that holds other data',
     ['-drive', 'if=none,id=p0,driver=null-co,size=64M',
      '-device', 'nvme-subsys,id=s0,pool=d1'], ["drive 'd1'", 'not an NVMe pool']),
    ('iothread with ioeventfd=on',
     ['-object', 'iothread,id=io0',
      '-device', 'nvme,serial=a,iothread=io0,ioeventfd=on'],
     ["'ioeventfd'", "'iothread'"]),
    ('iothread that does not exist',
     # QEMU's link property says it: "Device 'nope' not found"
     ['-device', 'nvme,serial=a,iothread=nope'], ["'nope'", 'not found']),
    ('controllers of one subsystem in different threads',
     ['-object', 'iothread,id=io0', '-device', 'nvme-subsys,id=s0',
      '-device', 'nvme,serial=a,subsys=s0,iothread=io0',
      '-device', 'nvme,serial=b,subsys=s0'],
     ['subsystem', 'same iothread']),
    ('iothread on a subsystem with a pool',
     ['-object', 'iothread,id=io0',
      '-drive', 'if=none,id=p0,driver=null-co,size=64M',
      '-device', 'nvme-subsys,id=s0,pool=p0',
      '-device', 'nvme,serial=a,subsys=s0,iothread=io0'],
     ['pool', 'iothread']),
]


def qemu_args(tmp, args):
    """QEMU's arguments for a configuration (no guest: -S, no firmware run)."""
    cmd = ['-machine', 'q35', '-nodefaults', '-display', 'none', '-S',
           '-monitor', 'none', '-serial', 'none']
    for d in firmware_dirs():
        cmd += ['-L', d]
    for i in range(2):
        cmd += ['-drive', f'file={tmp}/c{i}.raw,if=none,id=d{i},format=raw']
    return cmd + args


def qemu(tmp, args, timeout=20):
    cmd = [qemu_bin()] + qemu_args(tmp, args)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, ''
    return p.returncode, p.stderr


def qemu_runs(tmp, args, timeout=20):
    """Start QEMU with `args` (a QEMUMachine: QMP on its monitor socket), ask
    query-nvme-ana, then quit. Returns (query-nvme-ana's answer or None, exit status or
    None if QEMU did not end, what went wrong and QEMU's output)."""
    vm = Machine(qemu_bin(), qemu_args(tmp, args), name='good-config', log_dir=str(tmp),
                 base_temp_dir=str(tmp), launch_timeout=timeout, qmp_timeout=timeout)
    ana, why, rc = None, '', None
    try:
        vm.launch()
        ana = vm.cmd('query-nvme-ana')
        vm.shutdown(timeout=timeout)    # quit; QEMU killed (AbnormalShutdown) if it stays
        rc = vm.exitcode()
    except (OSError, QEMUMachineError, QMPError, TimeoutError) as e:
        why = f'{type(e).__name__}: {(str(e).strip() or "?").splitlines()[0]}'
        rc = vm.exitcode()
        if vm.is_running():
            rc = None
    finally:
        vm.shutdown(hard=True)          # nothing left to do if it has ended
    output = vm.get_log() or ''        # QEMU's stdout and stderr, after the command line
    output = '\n'.join(l for l in output.splitlines() if not l.startswith('# '))
    return ana, rc, f'{why} output {output.strip()[:300]!r}'


def run(ctx):
    for i in range(2):
        ctx.image(f'c{i}.raw', 16 * MiB)
    # c1.raw (drive d1) holds data where a pool keeps its table
    with open(ctx.tmp / 'c1.raw', 'r+b') as f:
        f.write(b'not a pool' * 100)
    for what, args, words in CASES:
        rc, err = qemu(ctx.tmp, args)
        msg = err.strip().splitlines()[-1] if err.strip() else ''
        ctx.check(f'{what}: QEMU exits with status 1', rc == 1,
                  f'exit status {rc} (None: it kept running), stderr {err.strip()[:300]!r}')
        ctx.check(f'{what}: the message names the property',
                  all(w in msg for w in words), f'message {msg!r} lacks one of {words}')

    # a good configuration starts: its monitor answers (a hang or an exit does not), its
    # devices are there, and it quits cleanly when asked. bus= beside subsys= is allowed
    # (subsys= places the namespace; QEMU picks some bus anyway when bus= is absent).
    ana, rc, why = qemu_runs(ctx.tmp, ['-device', 'nvme-subsys,id=s0,ana=true',
                                       '-device', 'nvme,id=c0,serial=a,subsys=s0',
                                       '-device', 'nvme-ns,drive=d0,nsid=1,subsys=s0,'
                                                  'bus=c0,ana.grpid=2',
                                       '-device', 'nvme-ns,drive=d1,bus=c0'])
    ctrls = [(sub.get('id'), c.get('id'), {g['grpid']: g.get('nsids') for g in c['groups']})
             for sub in ana or [] for c in sub.get('controllers', [])]
    ctx.check('a good configuration starts: QMP answers, query-nvme-ana shows s0 with c0 '
              'and nsid 1 in ANA group 2',
              len(ctrls) == 1 and ctrls[0][:2] == ('s0', 'c0') and ctrls[0][2].get(2) == [1],
              f'query-nvme-ana {ana!r}; {why}')
    ctx.check('a good configuration starts: quit ends QEMU with status 0', rc == 0,
              f'exit status {rc}; {why}')

    out = subprocess.run([qemu_bin(), '-device', 'nvme,help'], capture_output=True,
                         text=True, timeout=20).stdout
    for prop in ('serial', 'drive', 'subsys', 'max_ioqpairs', 'msix_qsize', 'mdts',
                 'ioeventfd', 'sgl', 'smart-temperature'):
        line = next((l for l in out.splitlines() if l.strip().startswith(prop + '=')), '')
        ctx.check(f'-device nvme,help describes {prop}', ' - ' in line, f'line {line!r}')
    out = subprocess.run([qemu_bin(), '-device', 'nvme-ns,help'], capture_output=True,
                         text=True, timeout=20).stdout
    for prop in ('nsid', 'uuid', 'eui64', 'nguid', 'subsys', 'detached', 'ana.grpid'):
        line = next((l for l in out.splitlines() if l.strip().startswith(prop + '=')), '')
        ctx.check(f'-device nvme-ns,help describes {prop}', ' - ' in line, f'line {line!r}')
