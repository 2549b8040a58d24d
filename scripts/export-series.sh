#!/usr/bin/env bash
# Write the device as a QEMU patch series: `git format-patch` files, cover letter
# included, that apply with `git am` to Debian's QEMU 10.0.x source as fetched
# (build/qemu-orig, without our overlay) and build after every patch.
#   scripts/export-series.sh [OUTDIR]     the series (default: build/series)
#   scripts/export-series.sh --check      also apply it to a pristine tree with
#                                         git am, build after each patch and run
#                                         QEMU's checkpatch.pl on each (TAP lines)
# The patches, in order (messages in scripts/series/):
#   1 block/nvme.c and qga keep upstream's definitions as include/block/nvme-upstream.h
#   2 hw/nvme (the old controller, its trace events, its qtest) is removed
#   3 include/block/nvme.h, the specification header
#   4 hw/pci/pcie.c: Data Link Layer State Changed events, and a slot's adapter that
#     leaves by surprise (pcie_cap_slot_change_presence)
#   5 hw/block/nvme*: the controller, its namespaces and subsystems, with
#     stand-ins (scripts/series/stubs/) for the parts that follow
#   6 reservations (nvme-resv.c)
#   7 the capacity pool and Namespace Management (nvme-pool.c)
#   8 ANA (nvme-ana.c) with the QAPI schema and the HMP commands of ANA and
#     subsystem reset (nvme-monitor.c)
#   9 fault injection (nvme-fault.c), its QAPI section and HMP commands
#  10 tests/qtest: the qtests, and their host driver in libqos (libqos/nvme.[ch])
#  11 docs/system/devices/nvme.rst
# Everything comes from this checkout's files; the changes to QEMU's own files are
# those of scripts/qemu-glue.patch, except that the build lists the files by name.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

SERIES_SRC="$BUILD/series-src"      # git tree the series is committed in
CHECK_SRC="$BUILD/series-check"     # pristine git tree the series is applied to
CHECK_BUILD="$BUILD/series-build"   # its build directory (kept: rebuilds are incremental)
msgs="$top/scripts/series"
glue="$top/scripts/qemu-glue.patch"
name=$(git -C "$top" config user.name || true)
email=$(git -C "$top" config user.email || true)
export GIT_AUTHOR_NAME=${name:-NVMe subsystem developers}
export GIT_AUTHOR_EMAIL=${email:-nvme-subsys@localhost}
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
# Fixed dates: the same checkout gives the same series.
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"

check=0 out="$BUILD/series"
case "${1:-}" in
    --check) check=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    "") ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) out=$1 ;;
esac
[ -f "$QEMU_ORIG/VERSION" ] || "$top/scripts/setup.sh"
version=$(cat "$QEMU_ORIG/VERSION")
if ! ver_ge "$version" 10.0.0 || ver_ge "$version" 10.1.0; then
    die "QEMU $version in $QEMU_ORIG: the series is for 10.0.x"
fi

# $1 becomes a git tree of Debian's source at tag "base", and is reset to it.
pristine_tree() {
    local dir=$1
    if [ "$(git -C "$dir" config --get nvme.base 2>/dev/null)" != "$version" ]; then
        log "copying QEMU $version's source to $dir (a git tree)"
        rm -rf "$dir"
        cp -a "$QEMU_ORIG" "$dir"
        (cd "$dir" && git init -q && git add -A -f \
            && git commit -q --no-verify -m "QEMU $version (Debian's source)" \
            && git tag base && git config nvme.base "$version")
    fi
    (cd "$dir" && { git am --abort >/dev/null 2>&1 || true; } \
        && git reset -q --hard base && git clean -q -f -d)
}

# The glue patch's hunks for the files given, applied in the current directory.
glue_apply() {
    awk -v want=" $* " '
        /^diff / { f = $NF; sub(/^b\//, "", f); keep = index(want, " " f " ") > 0 }
        keep' "$glue" | patch -p1 -s -f --no-backup-if-mismatch
}

commit() {
    git add -A
    git commit -q -s --no-verify -F "$msgs/$1"
}

# MAINTAINERS: the NVMe emulation section's F: lines ($1: sed expression).
maintainers() {
    sed -i "/^nvme\$/,/^\$/{$1}" MAINTAINERS
}

# hw/block/meson.build and trace-events as QEMU has them, plus the device's
# part that this patch has: the listed sources present in hw/block (the
# monitor's nvme-monitor.c comes with the QAPI schema), the *-stub.c files
# for a build without the device, and the trace events up to (not
# including) the section of file $1 ("" for all).
device_build() {
    local upto=$1 f srcs="" stubs=""
    while read -r f; do
        [ ! -f "hw/block/$f" ] || srcs+="  '$f',"$'\n'
    done < "$top/hw/block/nvme-sources.list"
    for f in hw/block/nvme-*-stub.c; do
        [ ! -f "$f" ] || stubs+="${stubs:+, }'${f#hw/block/}'"
    done
    git show base:hw/block/meson.build > hw/block/meson.build
    printf '\nsystem_ss.add(when: %s, if_true: files(\n%s), if_false: files(%s))\n' \
        "'CONFIG_NVME_PCI'" "$srcs" "$stubs" >> hw/block/meson.build
    git show base:hw/block/trace-events > hw/block/trace-events
    if [ -n "$upto" ]; then
        sed "/^# $upto /,\$d" "$top/hw/block/trace-events" | sed '$d'
    else
        cat "$top/hw/block/trace-events"
    fi >> hw/block/trace-events
}

# The HMP commands of fault and event injection, out of the HMP files given.
drop_fault_hmp() {
    /usr/bin/python3 - "$@" <<'PY'
import re, sys
names = ('nvme_fault_inject', 'nvme_fault_remove', 'nvme_event_inject',
         'nvme_faults')
for path in sys.argv[1:]:
    s = open(path).read()
    for n in names:
        # an .hx entry: its table block and its SRST...ERST documentation
        s = re.sub(r'\n    \{\n        \.name       = "%s",\n.*?\nERST\n' % n,
                   '\n', s, flags=re.S)
    s = re.sub(r'void hmp_(nvme_fault_inject|nvme_fault_remove|'
               r'info_nvme_faults|nvme_event_inject)\(.*\n', '', s)
    open(path, 'w').write(s)
PY
}

build_series() {
    pristine_tree "$SERIES_SRC"
    cd "$SERIES_SRC"

    # 1: the VFIO driver and qga keep the definitions they were written for
    git mv include/block/nvme.h include/block/nvme-upstream.h
    sed -i 's#"block/nvme.h"#"block/nvme-upstream.h"#' block/nvme.c qga/commands-linux.c \
        hw/nvme/nvme.h tests/qtest/nvme-test.c
    sed -i '/^NVMe Block Driver$/,/^$/s#^F: include/block/nvme.h$#F: include/block/nvme-upstream.h#' MAINTAINERS
    maintainers '\#^F: include/block/nvme.h$#d'
    commit 01-rename-header.txt

    # 2: the old controller goes (hw/nvme/Kconfig keeps CONFIG_NVME_PCI)
    git rm -q hw/nvme/*.c hw/nvme/*.h hw/nvme/meson.build hw/nvme/trace-events \
        tests/qtest/nvme-test.c
    glue_apply hw/meson.build meson.build
    sed -i "/^  'nvme-test.c',\$/d" tests/qtest/meson.build
    maintainers 's#^F: hw/nvme/\*$#F: hw/nvme/Kconfig#; \#^F: tests/qtest/nvme-test.c$#d'
    commit 02-remove-hw-nvme.txt

    # 3: the specification header
    cp "$top/include/block/nvme.h" include/block/nvme.h
    maintainers 's#^F: hw/nvme/Kconfig$#&\nF: include/block/nvme.h#'
    commit 03-spec-header.txt

    # 4: PCIe slots report a surprise removal (the device's surprise-removal fault)
    glue_apply hw/pci/pcie.c include/hw/pci/pcie.h
    commit 04-pcie-surprise.txt

    # 5-9: the device, a part at a time. Patch 5 is the controller, its
    # namespaces and subsystems; it carries the hooks of the parts that
    # follow, answered by the small stand-ins in scripts/series/stubs/ until
    # the patch of each part replaces its stand-in with the real file.
    local f
    for f in $(cd "$top" && git ls-files 'hw/block/nvme*'); do
        case "$f" in
        hw/block/nvme-sources.list|hw/block/nvme-*-stub.c|hw/block/nvme-monitor.c) ;;
        *) cp "$top/$f" "$f" ;;
        esac
    done
    for f in nvme-resv.c nvme-pool.c nvme-ana.c nvme-fault.c; do
        cp "$msgs/stubs/$f" "hw/block/$f"
    done
    device_build nvme-resv.c
    maintainers 's#^F: include/block/nvme.h$#&\nF: hw/block/nvme*#'
    commit 05-device.txt

    cp "$top/hw/block/nvme-resv.c" hw/block/
    device_build nvme-pool.c
    commit 06-resv.txt

    cp "$top/hw/block/nvme-pool.c" hw/block/
    device_build nvme-ana.c
    commit 07-pool.txt

    # ANA with the monitor commands: its QAPI types and event are one piece
    # with it. The fault injection commands wait for patch 9.
    cp "$top/hw/block/nvme-ana.c" "$top/hw/block/nvme-monitor.c" \
        "$top/hw/block/nvme-ana-stub.c" hw/block/
    sed '/^# = NVMe fault injection$/,$d' "$top/qapi/nvme.json" | sed '$d' > qapi/nvme.json
    glue_apply hmp-commands.hx hmp-commands-info.hx include/monitor/hmp.h \
        qapi/meson.build qapi/qapi-schema.json
    drop_fault_hmp hmp-commands.hx hmp-commands-info.hx include/monitor/hmp.h
    device_build nvme-fault.c
    maintainers 's#^F: hw/block/nvme\*$#&\nF: qapi/nvme.json#'
    commit 08-ana.txt

    cp "$top/hw/block/nvme-fault.c" "$top/hw/block/nvme-fault-stub.c" hw/block/
    cp "$top/qapi/nvme.json" qapi/nvme.json
    git checkout -q base -- hmp-commands.hx hmp-commands-info.hx include/monitor/hmp.h
    glue_apply hmp-commands.hx hmp-commands-info.hx include/monitor/hmp.h
    device_build ""
    commit 09-fault.txt

    # 6: the qtests, and their host driver in libqos (built into every qtest)
    for f in $(cd "$top" && git ls-files 'tests/qtest/nvme-*' 'tests/qtest/libqos/nvme.*'); do
        [ "$f" = tests/qtest/nvme-qtests.list ] || cp "$top/$f" "$f"
    done
    glue_apply tests/qtest/libqos/meson.build
    /usr/bin/python3 - "$top/tests/qtest/nvme-qtests.list" tests/qtest/meson.build <<'PY'
import sys
names = open(sys.argv[1]).read().split()
path = sys.argv[2]
s = open(path).read()
old = 'qtests_x86_64 = qtests_i386\n'
assert old in s, path + ': no qtests_x86_64 line'
items = ''.join("    '%s',\n" % n for n in names)
new = ("qtests_x86_64 = qtests_i386 + (\n"
       "  config_all_devices.has_key('CONFIG_NVME_PCI') ? [\n" + items + "  ] : [])\n")
open(path, 'w').write(s.replace(old, new, 1))
PY
    maintainers 's#^F: qapi/nvme.json$#&\nF: tests/qtest/nvme-*\nF: tests/qtest/libqos/nvme.*#'
    commit 10-qtests.txt

    # 7: the documentation
    cp "$top/docs/system/devices/nvme.rst" docs/system/devices/nvme.rst
    commit 11-docs.txt

    rm -rf "$out"
    mkdir -p "$out"
    git format-patch -q --cover-letter --subject-prefix=PATCH -o "$out" base..HEAD
    # The cover letter's subject and blurb (format-patch leaves placeholders).
    local cover=("$out"/0000-cover-letter.patch) subject blurb
    subject=$(head -n 1 "$msgs/cover.txt")
    blurb=$(tail -n +3 "$msgs/cover.txt")
    SUBJECT=$subject BLURB=$blurb /usr/bin/python3 - "${cover[0]}" <<'EOF'
import os, sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('*** SUBJECT HERE ***', os.environ['SUBJECT'])
s = s.replace('*** BLURB HERE ***', os.environ['BLURB'])
open(p, 'w').write(s)
EOF
    cd "$top"
    log "series: $(find "$out" -name '*.patch' | wc -l) files in ${out#"$top"/}"
}

# Once the device is in: QEMU starts with a controller whose drive is a
# namespace, lists it in the monitor and quits.
series_smoke() {
    printf 'info qtree\nquit\n' | timeout 60 "$CHECK_BUILD/qemu-system-x86_64" \
        -L /usr/share/seabios -L /usr/share/qemu -M q35 -accel qtest -display none \
        -nodefaults -drive if=none,id=d0,driver=null-co,size=1M \
        -device nvme,id=nvme0,serial=smoke,drive=d0 -monitor stdio \
        > "$BUILD/series-smoke.log" 2>&1 \
        && grep -q 'dev: nvme-ns' "$BUILD/series-smoke.log"
}

check_series() {
    local n=0 fails=0 p total
    total=$(find "$out" -name '0*.patch' ! -name '0000-*' | wc -l)
    pristine_tree "$CHECK_SRC"
    [ -f "$CHECK_BUILD/build.ninja" ] || qemu_configure "$CHECK_SRC" "$CHECK_BUILD"
    echo "1..$((total * 3))"
    for p in "$out"/0*.patch; do
        case "$p" in */0000-*) continue ;; esac
        n=$((n + 1))
        local what
        what=$(sed -n 's/^Subject: \[PATCH [0-9]*\/[0-9]*\] //p' "$p")
        if (cd "$CHECK_SRC" && git am -q "$p" > "$BUILD/series-am.log" 2>&1); then
            echo "ok - patch $n applies with git am: $what"
        else
            echo "not ok - patch $n applies with git am: $what"; sed 's/^/# /' "$BUILD/series-am.log"
            fails=$((fails + 1)); break
        fi
        if perl "$CHECK_SRC/scripts/checkpatch.pl" -q "$p" > "$BUILD/series-checkpatch.log" 2>&1; then
            echo "ok - patch $n: checkpatch.pl reports nothing"
        else
            echo "not ok - patch $n: checkpatch.pl"; sed 's/^/# /' "$BUILD/series-checkpatch.log" | head -n 60
            fails=$((fails + 1))
        fi
        # The tree builds: the emulator and, once they exist, our qtests.
        local targets=(qemu-system-x86_64)
        while read -r t; do
            # ours once the series lists them (upstream's nvme-test is a qos node)
            grep -q "'$t'" "$CHECK_SRC/tests/qtest/meson.build" && targets+=("tests/qtest/$t")
        done < "$top/tests/qtest/nvme-qtests.list"
        # Once the device is in, the new QEMU must also start with it.
        local starts=""
        [ -f "$CHECK_SRC/hw/block/nvme.c" ] && starts=" and starts with an nvme controller"
        if ! ninja -C "$CHECK_BUILD" "${targets[@]}" 2>&1 | ninja_progress \
                | tee "$BUILD/series-build.log" >&2; then
            echo "not ok - patch $n: builds"; grep -E 'error|FAILED' "$BUILD/series-build.log" | head -n 30 | sed 's/^/# /'
            fails=$((fails + 1))
        elif [ -n "$starts" ] && ! series_smoke; then
            echo "not ok - patch $n: builds$starts"; sed 's/^/# /' "$BUILD/series-smoke.log" | head -n 20
            fails=$((fails + 1))
        else
            echo "ok - patch $n: builds (${targets[*]})$starts"
        fi
    done
    [ "$fails" = 0 ]
}

build_series
if [ "$check" = 1 ]; then
    check_series
fi
