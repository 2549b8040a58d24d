#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The demo: build what is missing (QEMU with our device, the guest image), then boot a
# Linux guest on the seeds' topology (three controllers sharing a namespace with ANA,
# private namespaces, a second subsystem) and show, step by step, what Linux and
# nvme-cli see: nvme list -v, nvme list-subsys, Identify Controller, fio over the paths
# of the shared namespace; then the ANA seed's HMP injection (nvme_ana_inject_state nvme0
# 1 inaccessible), the failover (no I/O on that path), and the recovery through the change
# state. The guest console is echoed; it powers off at the end.
#   scripts/demo.sh             the demo
#   scripts/demo.sh --shell     a guest shell on the same topology (Ctrl-A X quits)
#   scripts/demo.sh --no-build  use the QEMU and guest image already in build/
#   scripts/demo.sh --list      the steps
#   QEMU_BIN=... scripts/demo.sh --no-build    another QEMU (the default: build/qemu)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
qemu_env=${QEMU_BIN:-}          # lib.sh sets QEMU_BIN; a QEMU_BIN from outside wins
. "$top/scripts/lib.sh"
if [ -n "$qemu_env" ]; then export QEMU_BIN=$qemu_env; else unset QEMU_BIN; fi

build=1
args=()
for a in "$@"; do
    case "$a" in
        --no-build) build=0 ;;
        --list) build=0; args+=("$a") ;;
        -h|--help) sed -n '3,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) args+=("$a") ;;
    esac
done

if [ "$build" = 1 ]; then
    log "building what is missing (scripts/build.sh, scripts/guest-image.sh)"
    "$top/scripts/build.sh" >&2 || die "build failed"
    "$top/scripts/guest-image.sh" || die "building the guest image failed"
fi
exec /usr/bin/python3 "$top/tests/guest/demo.py" "${args[@]}"
