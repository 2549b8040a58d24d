# shellcheck shell=bash disable=SC2034 # the scripts that source this use the variables
# Shared helpers for our scripts (sourced, not run).
# SPDX-License-Identifier: GPL-2.0-or-later
top=${top:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD="$top/build"
QEMU_ORIG="$BUILD/qemu-orig"     # Debian's QEMU source as fetched, never modified
QEMU_SRC="$BUILD/qemu-src"       # a copy of it with our files laid over it
QEMU_BUILD="$BUILD/qemu"         # QEMU's (meson/ninja) build directory
QEMU_BIN="$QEMU_BUILD/qemu-system-x86_64"
GUEST="$BUILD/guest"             # kernel and initramfs layers for guest tests

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }
ver_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }

# QEMU's configure as this project builds it, source $1 into build directory $2
# (log in $2.configure.log): a headless test VM's feature set, KVM and TCG, Linux
# AIO and io_uring for the block layer, user-mode networking, and the tools.
qemu_configure() {
    local src=$1 dir=$2
    log "configuring QEMU in $dir"
    mkdir -p "$dir"
    (cd "$dir" && "$src/configure" \
        --python=/usr/bin/python3 \
        --target-list=x86_64-softmmu \
        --without-default-features \
        --enable-kvm --enable-tcg \
        --enable-linux-aio --enable-linux-io-uring \
        --enable-slirp --enable-fdt=system --enable-tools \
        --disable-install-blobs --disable-download \
        "${@:3}" > "$dir.configure.log" 2>&1) \
        || { tail -n 30 "$dir.configure.log"; die "configure failed (log: $dir.configure.log)"; }
}

# ninja's "[done/total] what" lines become progress: one updating line on a terminal,
# a line every 10 % in a log. Every other line (a failed command, the compiler's
# errors) is shown as it is; a ninja failure fails this script, whatever binaries exist.
ninja_progress() {
    local line n t pct last=0 next=10 tty=0 open=0 me
    me=$(basename "$0")
    [ -t 1 ] && tty=1
    while IFS= read -r line; do
        if [[ $line =~ ^\[([0-9]+)/([0-9]+)\]\ (.*) ]]; then
            n=${BASH_REMATCH[1]} t=${BASH_REMATCH[2]}
            pct=$((t > 0 ? n * 100 / t : 100))
            [ "$n" -ge "$last" ] || next=10     # ninja starts again after regenerating
            last=$n
            if [ "$tty" = 1 ]; then
                printf '\r\033[K[%s] %s/%s %3d%% %.50s' "$me" "$n" "$t" "$pct" "${BASH_REMATCH[3]}"
                open=1
            elif [ "$pct" -ge "$next" ]; then
                printf '[%s] %3d%% (%s/%s)\n' "$me" "$pct" "$n" "$t"
                next=$((pct / 10 * 10 + 10))
            fi
        elif [[ $line != "ninja: Entering directory"* ]]; then
            [ "$open" = 0 ] || { printf '\n'; open=0; }
            printf '%s\n' "$line"
        fi
    done
    [ "$open" = 0 ] || printf '\n'
}
