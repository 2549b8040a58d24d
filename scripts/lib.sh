# shellcheck shell=bash disable=SC2034 # the scripts that source this use the variables
# Shared helpers for our scripts (sourced, not run).
# SPDX-License-Identifier: GPL-2.0-or-later
top=${top:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD="$top/build"
QEMU_SRC="$BUILD/qemu-src"       # Debian's QEMU source with our files laid over it
QEMU_BUILD="$BUILD/qemu"         # QEMU's (meson/ninja) build directory
QEMU_BIN="$QEMU_BUILD/qemu-system-x86_64"
GUEST="$BUILD/guest"             # kernel and initramfs layers for guest tests

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }
ver_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }
