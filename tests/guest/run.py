#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run the guest tests: every tests/guest/test_*.py, each exposing run(ctx).

    python3 tests/guest/run.py                 # all tests
    python3 tests/guest/run.py basic           # tests whose name contains 'basic'
    python3 tests/guest/run.py -l              # list the tests
    python3 tests/guest/run.py -v basic        # also echo the guest console
    python3 tests/guest/run.py -k basic        # keep temp dirs (images, initrd)

Prints PASS:/FAIL: for every check and ends with the line "N passed, N failed"; exit 1
if any check failed. Console logs: build/guest/logs/<test>.console.log (and .qemu.log).
Before running, scripts/guest-image.sh brings the guest images up to date (fast when
nothing changed; --no-image skips it).
"""

import argparse
import importlib
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True      # no __pycache__ in the source tree

try:
    # it puts QEMU's Python package (build/qemu-src/python) on sys.path, or says why not
    import guestlib  # noqa: E402
    IMPORT_ERROR = None
except ImportError as e:
    guestlib = None
    IMPORT_ERROR = str(e)


def discover():
    return sorted(p.stem[len('test_'):] for p in HERE.glob('test_*.py'))


def main(argv=None):
    ap = argparse.ArgumentParser(description='Run the NVMe guest tests.')
    ap.add_argument('names', nargs='*', help='run the tests whose name contains one of these')
    ap.add_argument('-l', '--list', action='store_true', help='list the tests and exit')
    ap.add_argument('-v', '--verbose', action='store_true', help='echo the guest console')
    ap.add_argument('-k', '--keep', action='store_true', help='keep the temp dirs')
    ap.add_argument('--no-image', action='store_true',
                    help='do not run scripts/guest-image.sh first')
    opts = ap.parse_args(argv)

    tests = discover()
    if opts.names:
        tests = [t for t in tests if any(n.removeprefix('test_') in t for n in opts.names)]
    if opts.list:
        print('\n'.join(tests))
        return 0

    if guestlib is None:
        print(f'FAIL: setup: {IMPORT_ERROR}\n0 passed, 1 failed', flush=True)
        return 1
    checker = guestlib.Checker()
    if not tests:
        checker.check('select tests', False, f'no test matches {opts.names}')
        return finish(checker)

    try:
        if not opts.no_image:
            img = subprocess.run([str(guestlib.TOP / 'scripts' / 'guest-image.sh')],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if img.returncode != 0:
                raise guestlib.SetupError('scripts/guest-image.sh failed:\n' + img.stdout)
        qemu = guestlib.qemu_bin()
        guestlib.firmware_dirs()
        guestlib.kernel()
        acc = guestlib.accel()
        print(f'QEMU {qemu}, accel {acc}, kernel {guestlib.kernel()}', flush=True)
    except guestlib.SetupError as e:
        checker.check('setup', False, str(e))
        return finish(checker)

    t_all = time.monotonic()
    for name in tests:
        print(f'== {name}', flush=True)
        ctx = guestlib.Context(name, checker, keep=opts.keep, echo=opts.verbose)
        t0 = time.monotonic()
        try:
            mod = importlib.import_module(f'test_{name}')
            mod.run(ctx)
        except (guestlib.GuestError, guestlib.SetupError) as e:
            checker.check(f'{name}: ran to the end', False, str(e))
        except Exception:
            checker.check(f'{name}: ran to the end', False, traceback.format_exc())
        finally:
            ctx.close()
            if opts.keep:
                print(f'  {name}: kept {ctx.tmp}')
        print(f'  {name}: {time.monotonic() - t0:.1f} s', flush=True)
    print(f'total {time.monotonic() - t_all:.1f} s', flush=True)
    return finish(checker)


def finish(checker):
    if checker.failures:
        print('failed: ' + '; '.join(checker.failures))
    print(f'{checker.passed} passed, {checker.failed} failed', flush=True)
    return 1 if checker.failed else 0


if __name__ == '__main__':
    sys.exit(main())
