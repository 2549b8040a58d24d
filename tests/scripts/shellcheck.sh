#!/usr/bin/env bash
# Runs shellcheck on our shell scripts: scripts/*.sh (bash) and the guest's tests/guest/**/*.sh
# (busybox ash: `# shellcheck shell=sh` or #!/bin/sh, POSIX sh), with their sourced files
# followed (-x) from the top of the tree. Prints TAP ("ok - shellcheck FILE", or "not ok"
# and the findings); exits non-zero if a file has findings. Without shellcheck (Debian
# package shellcheck) every file is a skip.
# SPDX-License-Identifier: GPL-2.0-or-later
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

shopt -s globstar nullglob
files=(scripts/*.sh tests/guest/**/*.sh tests/scripts/shellcheck.sh)
echo "1..${#files[@]}"
if ! command -v shellcheck > /dev/null; then
    for f in "${files[@]}"; do echo "ok - shellcheck $f # SKIP shellcheck is not installed"; done
    exit 0
fi
rc=0
for f in "${files[@]}"; do
    if out=$(shellcheck -x "$f" 2>&1); then
        echo "ok - shellcheck $f"
    else
        echo "not ok - shellcheck $f"
        printf '%s\n' "$out" | sed 's/^/#   /'
        rc=1
    fi
done
exit $rc
