#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the guest used by tests/guest/ into $GUEST (build/guest/):
#   vmlinux        uncompressed kernel of Debian bookworm's linux-image-amd64 (booted via PVH)
#   bzImage        the same kernel as packaged (fallback: GUEST_KERNEL=build/guest/bzImage)
#   base.cpio      busybox, nvme-cli + libraries, the NVMe kernel modules and /init
#   fio.cpio       fio + libraries (a separate layer, ~80 MB)
# (base.cpio.gz / fio.cpio.gz instead with BASE_COMPRESS=gzip / FIO_COMPRESS=gzip)
# Layers are concatenated into one -initrd by tests/guest/guestlib.py, which also adds
# a per-test layer holding /test.sh. /init is tests/guest/guest/init.sh.
#
# Idempotent: each output carries a stamp of its inputs and is rebuilt only when they
# change, so a second run takes well under a second.
# Needs (scripts/setup.sh installs them): busybox-static nvme-cli fio cpio xz-utils zstd.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

# Measured under TCG (tests/guest/README.md): the kernel unpacks an uncompressed layer
# faster than it gunzips one (boot to /test.sh: base 2.37 s vs 2.60 s with gzip -6;
# base + fio 2.42 s vs 3.73 s with gzip -1 or -6), so "none" is the default for both;
# the files then have no .gz suffix.
BASE_COMPRESS=${BASE_COMPRESS:-none}    # none | gzip
FIO_COMPRESS=${FIO_COMPRESS:-none}      # none | gzip
# resolved recursively through their depends=; virtio-blk for the benchmark's comparison
MODULES_WANTED="nvme-core nvme virtio_pci virtio_blk"

for tool in busybox cpio gzip xz dpkg-deb apt-get apt-cache ldd; do
    command -v "$tool" >/dev/null || die "$tool is missing: run scripts/setup.sh"
done
[ -x /usr/sbin/nvme ] || die "/usr/sbin/nvme is missing (nvme-cli): run scripts/setup.sh"
[ -x /usr/bin/fio ] || die "/usr/bin/fio is missing (fio): run scripts/setup.sh"

self_sum=$(sha256sum "$0" | cut -c1-16)
mkdir -p "$GUEST"
exec 9> "$GUEST/.lock"
flock 9     # one build at a time (test runners call this script)
export LC_ALL=C

# ---------------------------------------------------------------------------------------
# helpers

# Read a little-endian unsigned integer of $3 bytes at offset $2 of file $1.
le_uint() { od -An -t "u$3" -j "$2" -N "$3" "$1" | tr -d ' \n'; }

# Hex of $3 bytes at offset $2 of file $1.
hex_at() { od -An -t x1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }

# Decompress stream from stdin to stdout according to a magic (hex string) given as $1.
# Returns 2 when the magic is not one we know.
decompress_by_magic() {
    case "$1" in
        fd377a585a00*) xz -dc --single-stream ;;
        28b52ffd*)     zstd -dcq ;;
        1f8b*)         gzip -dc ;;
        5d0000*)       xz -dc --format=lzma ;;
        425a68*)       bzip2 -dc ;;
        *) return 2 ;;
    esac
}

# Extract the ELF vmlinux that a bzImage carries compressed.
# The x86 boot header (boot protocol >= 2.08) gives the payload's place: it starts
# payload_offset (u32 at 0x248) bytes after the protected-mode code, which begins at
# (setup_sects + 1) * 512 (setup_sects: u8 at 0x1f1, 0 meaning 4); payload_length is at
# 0x24c. The kernel build appends the uncompressed size (u32) to the compressed data.
# If the header looks wrong, fall back to scanning for a known compression magic.
extract_vmlinux() {
    local img=$1 out=$2 setup_sects poff plen start magic size off
    [ "$(hex_at "$img" $((0x202)) 4)" = 48647253 ] || die "$img: no 'HdrS' boot header"
    setup_sects=$(le_uint "$img" $((0x1f1)) 1)
    [ "$setup_sects" -ne 0 ] || setup_sects=4
    poff=$(le_uint "$img" $((0x248)) 4)
    plen=$(le_uint "$img" $((0x24c)) 4)
    start=$(( (setup_sects + 1) * 512 + poff ))
    magic=$(hex_at "$img" "$start" 6)
    size=$(le_uint "$img" $((start + plen - 4)) 4)
    if dd if="$img" bs=1M iflag=skip_bytes,count_bytes skip="$start" count=$((plen - 4)) \
            status=none | decompress_by_magic "$magic" > "$out.tmp" 2>/dev/null &&
       [ "$(hex_at "$out.tmp" 0 4)" = 7f454c46 ] &&
       [ "$(stat -c %s "$out.tmp")" = "$size" ]; then
        mv "$out.tmp" "$out"
        log "vmlinux: payload at $start, $plen bytes, magic $magic, $size bytes uncompressed"
        return 0
    fi
    log "boot header did not lead to a payload; scanning $img for compression magics"
    for pat in '\xfd\x37\x7a\x58\x5a\x00' '\x28\xb5\x2f\xfd' '\x1f\x8b\x08' '\x5d\x00\x00'; do
        # shellcheck disable=SC2013 # byte offsets, a word each
        for off in $(grep -obUaP "$pat" "$img" | cut -d: -f1); do
            magic=$(hex_at "$img" "$off" 6)
            tail -c +$((off + 1)) "$img" | decompress_by_magic "$magic" > "$out.tmp" 2>/dev/null || true
            if [ -s "$out.tmp" ] && [ "$(hex_at "$out.tmp" 0 4)" = 7f454c46 ]; then
                mv "$out.tmp" "$out"
                log "vmlinux: found a $magic stream at offset $off"
                return 0
            fi
        done
    done
    rm -f "$out.tmp"
    die "could not find the compressed vmlinux inside $img"
}

# depends= field of a kernel module (modinfo when kmod is installed, else .modinfo itself).
mod_depends() {
    if command -v modinfo >/dev/null; then
        modinfo -F depends "$1"
    else
        tr '\0' '\n' < "$1" | sed -n 's/^depends=//p' | head -n 1
    fi
}

# Copy host file $2 into staging dir $1 at its real path; when $2 is reached through a
# symlink with another name (a library's soname), add that link next to it as well.
stage_file() {
    local stage=$1 path=$2 real dir
    real=$(readlink -f "$path")
    [ -e "$stage$real" ] || install -D -m "$(stat -c %a "$real")" "$real" "$stage$real"
    dir=$(readlink -f "$(dirname "$path")")
    if [ "$dir/$(basename "$path")" != "$real" ] && [ ! -e "$stage$dir/$(basename "$path")" ]; then
        mkdir -p "$stage$dir"
        ln -s "$real" "$stage$dir/$(basename "$path")"
    fi
}

# The shared libraries (with the dynamic loader) that ldd lists for a program.
libs_of() {
    ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' || true
}

# Files (real paths) a set of programs needs: the programs and their libraries.
closure() {
    local p
    for p in "$@"; do readlink -f "$p"; libs_of "$p" | xargs -r readlink -f; done | sort -u
}

# Mirror the host's top-level merged-/usr symlinks (bin -> usr/bin ...) into a stage.
stage_toplinks() {
    local d
    for d in bin sbin lib lib64; do
        if [ -L "/$d" ]; then ln -sfn "$(readlink "/$d")" "$1/$d"; mkdir -p "$1/$(readlink -f "/$d")"; fi
    done
}

# newc cpio of a staging dir, owned by root, stable timestamps; compressed per $3.
make_cpio() {
    local stage=$1 out=$2 comp=$3
    (cd "$stage" && find . -mindepth 1 -printf '%P\n' | sort | cpio -o -H newc --quiet --owner=0:0 --reproducible) |
        case "$comp" in
            gzip) gzip -n -6 ;;
            none) cat ;;
            *) die "unknown compression $comp" ;;
        esac > "$out.tmp"
    mv "$out.tmp" "$out"
}

# Fingerprint of host files: path, size, mtime.
files_sum() { stat -L -c '%n %s %Y' "$@" | sha256sum | cut -c1-16; }

# Output name of layer $1 compressed per $2; removes the other variant and its stamp.
layer_name() {
    case "$2" in
        none) rm -f "$GUEST/$1.cpio.gz" "$GUEST/$1.cpio.gz.stamp"; echo "$GUEST/$1.cpio" ;;
        gzip) rm -f "$GUEST/$1.cpio" "$GUEST/$1.cpio.stamp"; echo "$GUEST/$1.cpio.gz" ;;
        *) die "compression for the $1 layer must be none or gzip, not $2" ;;
    esac
}

stamp_ok() { [ -f "$1" ] && [ -f "$1.stamp" ] && [ "$(cat "$1.stamp")" = "$2" ]; }

# ---------------------------------------------------------------------------------------
# kernel: vmlinux, bzImage and the NVMe modules

# apt-cache takes about a second here: remember its answer until the apt lists change.
lists_sum=$(stat -c '%n %s %Y' /var/lib/apt/lists/* 2>/dev/null | sha256sum | cut -c1-16)
if [ -f "$GUEST/kernel.lookup" ] && [ "$(head -n 1 "$GUEST/kernel.lookup")" = "$lists_sum" ]; then
    kpkg=$(sed -n 2p "$GUEST/kernel.lookup")
else
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
           awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    [ -z "$kpkg" ] || printf '%s\n%s\n' "$lists_sum" "$kpkg" > "$GUEST/kernel.lookup"
fi
if [ -z "$kpkg" ]; then
    if [ -f "$GUEST/kernel.stamp" ]; then
        kpkg=$(head -n 1 "$GUEST/kernel.stamp")
        log "apt-cache knows no linux-image-amd64 (run apt-get update); keeping $kpkg"
    else
        die "apt-cache depends linux-image-amd64 found nothing: run apt-get update"
    fi
fi

# the stamp: the kernel package, then the modules wanted
if [ -f "$GUEST/kernel.stamp" ] &&
   [ "$(cat "$GUEST/kernel.stamp")" = "$(printf '%s\n%s' "$kpkg" "$MODULES_WANTED")" ] &&
   [ -f "$GUEST/vmlinux" ] && [ -f "$GUEST/bzImage" ] && [ -f "$GUEST/modules/order" ]; then
    :
else
    log "kernel: $kpkg"
    mkdir -p "$GUEST/dl"
    # shellcheck disable=SC2012 # Debian package file names, no odd characters
    deb=$(ls "$GUEST/dl/${kpkg}_"*.deb 2>/dev/null | head -n 1 || true)
    if [ -z "$deb" ]; then
        rm -f "$GUEST/dl/"*.deb
        # apt drops privileges to _apt for downloads when it can write the directory
        if id _apt >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then chown _apt "$GUEST/dl"; fi
        if ! (cd "$GUEST/dl" && apt-get download -qq "$kpkg"); then
            [ "$(id -u)" = 0 ] || die "apt-get download $kpkg failed"
            log "apt-get download failed; refreshing apt lists and trying again"
            apt-get update -qq
            (cd "$GUEST/dl" && apt-get download -qq "$kpkg") || die "apt-get download $kpkg failed"
        fi
        # shellcheck disable=SC2012
        deb=$(ls "$GUEST/dl/${kpkg}_"*.deb | head -n 1)
    fi
    x="$GUEST/kernel.tmp"
    rm -rf "$x"; mkdir -p "$x"
    dpkg-deb -x "$deb" "$x"
    # shellcheck disable=SC2012
    vmlinuz=$(ls "$x"/boot/vmlinuz-* | head -n 1)
    kver=${vmlinuz##*/vmlinuz-}
    cp "$vmlinuz" "$GUEST/bzImage"
    extract_vmlinux "$GUEST/bzImage" "$GUEST/vmlinux"

    # Resolve the modules we want with their dependencies, deepest first.
    mdir=
    for d in "$x/lib/modules/$kver" "$x/usr/lib/modules/$kver"; do [ -d "$d" ] && mdir=$d; done
    [ -n "$mdir" ] || die "no /lib/modules/$kver in $kpkg"
    declare -A kopath=()
    while read -r ko; do
        n=$(basename "$ko"); n=${n%%.ko*}; kopath[${n//-/_}]=$ko
    done < <(find "$mdir" -name '*.ko*')
    declare -A seen=()
    order=()
    visit() {
        local n=${1//-/_} d
        [ -z "${seen[$n]:-}" ] || return 0
        seen[$n]=1
        [ -n "${kopath[$n]:-}" ] || die "module $1 not found in $kpkg"
        case "${kopath[$n]}" in *.ko) ;; *) die "module $1 is compressed: ${kopath[$n]}" ;; esac
        for d in $(mod_depends "${kopath[$n]}" | tr ',' ' '); do visit "$d"; done
        order+=("$n")
    }
    for m in $MODULES_WANTED; do visit "$m"; done
    rm -rf "$GUEST/modules"; mkdir -p "$GUEST/modules"
    for n in "${order[@]}"; do
        cp "${kopath[$n]}" "$GUEST/modules/"
        basename "${kopath[$n]}"
    done > "$GUEST/modules/order"
    echo "$kver" > "$GUEST/modules/kver"
    log "modules (load order): $(tr '\n' ' ' < "$GUEST/modules/order")"
    rm -rf "$x"
    printf '%s\n%s\n' "$kpkg" "$MODULES_WANTED" > "$GUEST/kernel.stamp"
fi
kver=$(cat "$GUEST/modules/kver")

# ---------------------------------------------------------------------------------------
# base layer

# The guest's /init: runs /test.sh (the per-test layer's) and powers off
INIT="$top/tests/guest/guest/init.sh"
write_init() {
    cp "$INIT" "$1"
    chmod 755 "$1"
}

# shellcheck disable=SC2046 # one word per file
base_inputs=$(files_sum $(closure /bin/busybox /usr/sbin/nvme) "$GUEST/modules/"*)
base_sum="$self_sum $(files_sum "$INIT") $BASE_COMPRESS $base_inputs $kver"
base_out=$(layer_name base "$BASE_COMPRESS")
if ! stamp_ok "$base_out" "$base_sum"; then
    log "building $(basename "$base_out")"
    s="$GUEST/stage-base"
    rm -rf "$s"; mkdir -p "$s"
    stage_toplinks "$s"
    mkdir -p "$s"/{dev,proc,sys,tmp,root,etc,usr/bin,usr/sbin}
    stage_file "$s" /bin/busybox
    stage_file "$s" /usr/sbin/nvme
    for l in $(libs_of /usr/sbin/nvme); do stage_file "$s" "$l"; done
    bb=$(readlink -f /bin/busybox)
    for a in $(busybox --list-full); do
        [ -e "$s/$a" ] || [ -L "$s/$a" ] || { mkdir -p "$s/$(dirname "$a")"; ln -s "$bb" "$s/$a"; }
    done
    mkdir -p "$s/lib/modules"
    cp "$GUEST/modules/"*.ko "$GUEST/modules/order" "$s/lib/modules/"
    echo "root:x:0:0:root:/root:/bin/sh" > "$s/etc/passwd"
    echo "root:x:0:" > "$s/etc/group"
    echo guest > "$s/etc/hostname"
    write_init "$s/init"
    make_cpio "$s" "$base_out" "$BASE_COMPRESS"
    rm -rf "$s"
    echo "$base_sum" > "$base_out.stamp"
fi

# ---------------------------------------------------------------------------------------
# fio layer: fio and whatever libraries it needs beyond the base layer's

fio_out=$(layer_name fio "$FIO_COMPRESS")
fio_files=$(closure /usr/bin/fio)
# shellcheck disable=SC2086 # one word per file
fio_sum="$self_sum $FIO_COMPRESS $(files_sum $fio_files) $base_inputs"
if ! stamp_ok "$fio_out" "$fio_sum"; then
    log "building $(basename "$fio_out")"
    s="$GUEST/stage-fio"
    base_files=" $(closure /bin/busybox /usr/sbin/nvme | tr '\n' ' ') "
    rm -rf "$s"; mkdir -p "$s"
    stage_file "$s" /usr/bin/fio
    for l in $(libs_of /usr/bin/fio); do
        case "$base_files" in *" $(readlink -f "$l") "*) continue ;; esac
        stage_file "$s" "$l"
    done
    # Only real directories under usr/ may be in this layer: an entry named like one of the
    # base layer's top-level symlinks (lib, bin) would replace that symlink when unpacked.
    for d in "$s"/*; do
        [ "$(basename "$d")" = usr ] || die "fio layer has a top-level $(basename "$d")"
    done
    make_cpio "$s" "$fio_out" "$FIO_COMPRESS"
    rm -rf "$s"
    echo "$fio_sum" > "$fio_out.stamp"
fi

for f in vmlinux "$(basename "$base_out")" "$(basename "$fio_out")"; do
    printf '%-14s %s\n' "$f" "$(du -h --apparent-size "$GUEST/$f" | cut -f1)"
done | while read -r line; do log "$line"; done
