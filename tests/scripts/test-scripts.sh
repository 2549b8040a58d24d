#!/usr/bin/env bash
# Tests of scripts/: build.sh, setup.sh, overlay.sh, test.sh's counting (tally.sh) and
# checkpatch.sh, each run on a scratch copy with fakes: no QEMU build, no apt, no network,
# seconds (QEMU's own checkpatch.pl is run too when build/qemu-src holds it).
# Prints TAP. SCRIPTS=dir tests the scripts in dir instead (e.g. older versions, to
# see the checks fail).
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2016 # the single-quoted code is evaluated later, on purpose
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
scripts=${SCRIPTS:-$top/scripts}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "1..23"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds; shows $tmp/out if not.
check() {
    local what=$1
    shift
    n=$((n + 1))
    if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; sed 's/^/#   /' "$tmp/out" 2>/dev/null; fi
}
# run COMMAND...: its output goes to $tmp/out, its exit status to $rc.
run() { "$@" > "$tmp/out" 2>&1; rc=$?; }
has() { grep -qF -- "$1" "$tmp/out"; }
lacks() { ! grep -qF -- "$1" "$tmp/out"; }
fake() { mkdir -p "$(dirname "$1")"; printf '#!/bin/sh\n%s\n' "$2" > "$1"; chmod +x "$1"; }
# A scratch project holding lib.sh and the scripts named, the others stubbed out.
project() {
    local p=$1 s
    shift
    mkdir -p "$p/scripts"
    cp "$scripts/lib.sh" "$p/scripts/"
    for s in setup overlay build; do fake "$p/scripts/$s.sh" 'exit 0'; done
    for s; do cp "$scripts/$s" "$p/scripts/$s"; done
}
# Every path under $1 with its type, link target, size and modification time.
snap() { find "$1" -mindepth 1 -printf '%P %y %l %s %T@\n' | sort; }

# --- build.sh: a failed ninja fails it, whatever binaries exist ---------------------------
p=$tmp/b
project "$p" build.sh
mkdir -p "$p/tests/qtest" "$p/build/qemu"
echo nvme-test > "$p/tests/qtest/nvme-qtests.list"
touch "$p/build/qemu/build.ninja"
fake "$p/build/qemu/qemu-system-x86_64" 'exit 0'     # a binary from an older build
fake "$p/bin/ninja" 'echo "ninja: Entering directory \`$2'"'"'"
i=1; while [ $i -le 40 ]; do echo "[$i/40] Compiling C object x$i.o"; i=$((i + 1)); done
[ -z "$FAIL" ] && exit 0
echo "FAILED: libblock.a.p/hw_block_nvme.c.o"
echo "../hw/block/nvme.c:12:5: error: boom undeclared"
echo "ninja: build stopped: subcommand failed." >&2; exit 1'
FAIL=1 PATH="$p/bin:$PATH" run "$p/scripts/build.sh"
check "build.sh fails when ninja fails, with an older binary present" [ $rc != 0 ]
check "build.sh shows the compiler's error in full" has "nvme.c:12:5: error: boom undeclared"
FAIL='' PATH="$p/bin:$PATH" run "$p/scripts/build.sh"
check "build.sh succeeds with ninja, logs progress every 10 % (not every step)" \
    eval '[ $rc = 0 ] && [ "$(grep -c "^\[build.sh\] *[0-9]*% ([0-9]*/40)$" "$tmp/out")" = 10 ] && lacks Compiling'
FAIL='' PATH="$p/bin:$PATH" run script -qec "$p/scripts/build.sh" /dev/null
check "build.sh shows one updating progress line on a terminal" \
    has $'\r\e[K[build.sh] 40/40 100% Compiling C object x40.o\r'

# --- setup.sh: root only when it must install ---------------------------------------------
p=$tmp/s
project "$p" setup.sh
mkdir -p "$p/build/qemu-src" "$p/build/qemu-orig"
echo 10.0.13 > "$p/build/qemu-src/VERSION"
echo 10.0.13 > "$p/build/qemu-orig/VERSION"
fake "$p/bin/id" 'echo 1000'
fake "$p/bin/apt-get" "echo \"apt-get \$*\" >> $p/apt-calls"
fake "$p/bin/dpkg-query" 'case "$2" in *Version*) echo 1.7.0-1~bpo12+1; exit 0 ;; esac
shift 2; for pkg; do [ "$pkg" = "$MISSING" ] || echo "ii  $pkg"; done'
MISSING='' PATH="$p/bin:$PATH" run "$p/scripts/setup.sh"
check "setup.sh as non-root succeeds when everything is installed" \
    eval '[ $rc = 0 ] && [ ! -e "$p/apt-calls" ]'
MISSING=fio PATH="$p/bin:$PATH" run "$p/scripts/setup.sh"
check "setup.sh as non-root with fio missing asks for root, runs no apt-get" \
    eval '[ $rc != 0 ] && has "run as root" && has fio && [ ! -e "$p/apt-calls" ]'

# --- overlay.sh: dry-run first, sha256 stamp, a changed patch replaces the old ------------
p=$tmp/o
project "$p" overlay.sh
q=$p/build/qemu-src
mkdir -p "$q/hw/nvme" "$q/hw/block" "$q/include/block" "$q/tests/qtest" "$p/hw/block" "$p/include/block"
echo 10.0.13 > "$q/VERSION"
for f in hw/nvme/ctrl.c hw/nvme/Kconfig include/block/nvme.h tests/qtest/nvme-test.c; do echo "upstream $f" > "$q/$f"; done
echo "upstream_event" > "$q/hw/block/trace-events"
printf "subdir('block')\nsubdir('nvme')\n" > "$q/hw/meson.build"
printf 'project(1)\nline 2\nline 3\n' > "$q/meson.build"
echo "our_event" > "$p/hw/block/trace-events"
echo "our header" > "$p/include/block/nvme.h"
git -C "$p" init -q
# A patch from a scratch copy of the mini tree, changed by the sed scripts given.
mkpatch() {
    rm -rf "$tmp/a" "$tmp/b"; mkdir -p "$tmp/a/hw" "$tmp/b"
    cp "$q/meson.build" "$tmp/a/"; cp "$q/hw/meson.build" "$tmp/a/hw/"; cp -r "$tmp/a/." "$tmp/b"
    sed -i "$1" "$tmp/b/hw/meson.build"; sed -i "$2" "$tmp/b/meson.build"
    (cd "$tmp" && diff -ruN a b)
}
mkpatch "/nvme/d" "s/line 2/line 2 one/" > "$tmp/p1"
mkpatch "/nvme/d" "s/line 2/line 2 two/" > "$tmp/p2"
sed 's/^-line 2$/-no such line/' "$tmp/p2" > "$tmp/bad"   # hw/meson.build applies, meson.build not
overlay() { cp "$tmp/$1" "$p/scripts/qemu-glue.patch"; run "$p/scripts/overlay.sh"; }
unchanged() { [ "$(snap "$p/build")" = "$before" ]; }
stamped() { [ "$(cat "$q/.nvme-overlay-applied")" = "$(sha256sum < "$tmp/$1" | cut -d' ' -f1)" ]; }

before=$(snap "$p/build")
overlay bad
check "overlay.sh: a patch that does not apply fails and leaves the tree untouched" \
    eval '[ $rc != 0 ] && unchanged && has "nothing was changed"'
overlay p1
check "overlay.sh applies the patch, moves upstream's files out, stamps the patch's sha256" \
    eval '[ $rc = 0 ] && grep -qx "line 2 one" "$q/meson.build" && ! grep -q nvme "$q/hw/meson.build" \
          && [ -f "$p/build/upstream-nvme/hw/nvme/ctrl.c" ] && [ ! -e "$q/hw/nvme/ctrl.c" ] \
          && [ -f "$q/include/block/nvme-upstream.h" ] \
          && [ "$(readlink "$q/include/block/nvme.h")" = "$p/include/block/nvme.h" ] && stamped p1'
sleep 0.05
before=$(snap "$p/build")
overlay p1
check "overlay.sh run again with the same patch touches nothing" eval '[ $rc = 0 ] && unchanged'
touch -d '2001-01-01' "$q/hw/meson.build"       # same under p1 and p2: must keep its time
# shellcheck disable=SC2034 # used in the eval below
hwtime=$(stat -c %Y "$q/hw/meson.build")
overlay p2
check "overlay.sh notices a changed patch, says so, swaps it in, rewrites only what differs" \
    eval '[ $rc = 0 ] && has "qemu-glue.patch changed" && grep -qx "line 2 two" "$q/meson.build" \
          && [ "$(stat -c %Y "$q/hw/meson.build")" = "$hwtime" ] && stamped p2'
before=$(snap "$p/build")
overlay bad
check "overlay.sh: a changed patch that does not apply fails, tree and stamp untouched" \
    eval '[ $rc != 0 ] && unchanged && has "nothing was changed" && has "Fix the patch"'
sed -i 's/line 2 two/line 2 mine/' "$q/meson.build"             # edited by hand
before=$(snap "$p/build")
overlay p1
check "overlay.sh: a tree no longer holding its patch fails, untouched, says how to start over" \
    eval '[ $rc != 0 ] && unchanged && has "To start over: delete build/qemu-src"'
sed -i 's/line 2 mine/line 2 two/' "$q/meson.build"
rm -f "$q/.nvme-glue.patch"; : > "$q/.nvme-overlay-applied"   # as an older overlay.sh left it
before=$(snap "$q" | grep -v '^\.nvme')
overlay p2
check "overlay.sh adopts an older overlay's empty stamp when the tree holds today's patch" \
    eval '[ $rc = 0 ] && stamped p2 && [ "$(snap "$q" | grep -v "^\.nvme")" = "$before" ]'

# --- test.sh's counting (tally.sh) --------------------------------------------------------
# tally FUNCTION ARGS...: run a tally.sh counter on fresh counts; $tmp/out gets its
# report and "counted: passed failed skipped".
tally() {
    # shellcheck source=SCRIPTDIR/../../scripts/tally.sh
    ( . "$scripts/tally.sh"; "$@"; echo "counted: $passed $failed $skipped" ) > "$tmp/out" 2>&1
}
fake "$tmp/died" 'echo 1..10; for i in 1 2 3; do echo "ok $i /nvme/t$i"; done; kill -ABRT $$'
{ "$tmp/died" > "$tmp/died.log" 2>&1; } 2> /dev/null    # no "Aborted" from bash
tally tap_count died "$tmp/died.log" $?
check "a qtest binary that died after 3 of 10 tests: 3 passed, 7 failed" has "counted: 3 7 0"
fake "$tmp/skips" 'printf "1..3\nok 1 /a\nok 2 /b # SKIP no KVM\nok 3 /c\n"'
"$tmp/skips" > "$tmp/skips.log" 2>&1
tally tap_count skips "$tmp/skips.log" $?
check "a test with the SKIP directive counts as a skip, not a pass" has "counted: 2 0 1"
printf '== one\nPASS: a\nPASS: b\n  one: 3.0 s\n== two\nPASS: c\n' > "$tmp/guest.log"
tally guest_count "$tmp/guest.log" 137 one two three
check "a guest run that died: no summary and the 2 tests that never finished fail" has "counted: 3 3 0"
printf '== one\nPASS: a\nFAIL: b: no\n  one: 3.0 s\n2 passed, 0 failed\n' > "$tmp/guest.log"
tally guest_count "$tmp/guest.log" 1 one
check "a guest summary that does not match its PASS/FAIL lines fails" has "counted: 1 2 0"

# --- checkpatch.sh: every file of ours a QEMU series carries; any finding fails -----------
p=$tmp/c
project "$p" checkpatch.sh
for f in hw/block/nvme.c hw/block/nvme-io.h include/block/nvme.h tests/qtest/nvme-test.c \
         qapi/nvme.json hw/block/other.c tests/qtest/other-test.c docs/nvme.md; do
    mkdir -p "$(dirname "$p/$f")"; echo "int ok;" > "$p/$f"
done
git -C "$p" init -q && git -C "$p" add hw include tests qapi docs
# A stand-in checkpatch.pl: a WARNING for each line over 80 characters, an ERROR for
# "FAKE-ERROR: text", a crash without a finding for FAKE-CRASH; otherwise exit status 0,
# findings or not (they alone must fail a file).
mkdir -p "$p/build/qemu-src/scripts"
cat > "$p/build/qemu-src/scripts/checkpatch.pl" <<'EOF'
my $f = $ARGV[-1];
open(my $in, '<', $f) or die "$f: $!";
while (<$in>) {
    chomp;
    print "$f:$.: WARNING: line over 80 characters\n" if length > 80;
    print "$f:$.: ERROR: $1\n" if /FAKE-ERROR: (.*)/;
    if (/FAKE-CRASH/) { print STDERR "Undefined subroutine called\n"; exit 2; }
}
exit 0;
EOF
run env -C "$tmp" "$p/scripts/checkpatch.sh"
check "checkpatch.sh checks our files (git ls-files, from the top), no other; clean: exit 0" \
    eval '[ $rc = 0 ] && has "1..5" && has "ok 1 - checkpatch: hw/block/nvme-io.h" \
          && has "ok 2 - checkpatch: hw/block/nvme.c" && has "ok 3 - checkpatch: include/block/nvme.h" \
          && has "ok 4 - checkpatch: qapi/nvme.json" && has "ok 5 - checkpatch: tests/qtest/nvme-test.c" \
          && lacks other && lacks docs'
printf 'int x;\nint %080d;\n' 0 >> "$p/hw/block/nvme.c"
run "$p/scripts/checkpatch.sh"
check "checkpatch.sh: a line over 80 characters fails its file, shows the finding, exits non-zero" \
    eval '[ $rc != 0 ] && has "not ok 2 - checkpatch: hw/block/nvme.c" \
          && has "#   hw/block/nvme.c:3: WARNING: line over 80 characters" \
          && has "ok 1 - checkpatch: hw/block/nvme-io.h" && has "ok 5 - checkpatch: tests/qtest/nvme-test.c"'
echo "/* FAKE-ERROR: trailing whitespace */" > "$tmp/err.c"
echo "FAKE-CRASH" > "$tmp/crash.c"
run "$p/scripts/checkpatch.sh" "$tmp/err.c" "$tmp/crash.c" "$tmp/none.c" "$p/qapi/nvme.json"
check "checkpatch.sh FILE...: an ERROR, a checkpatch.pl that fails, a missing file each fail" \
    eval '[ $rc != 0 ] && has "1..4" && has "not ok 1 - checkpatch: $tmp/err.c" \
          && has "$tmp/err.c:1: ERROR: trailing whitespace" && has "not ok 2 - checkpatch: $tmp/crash.c" \
          && has "exit status 2): Undefined subroutine" && has "not ok 3 - checkpatch: $tmp/none.c" \
          && has "ok 4 - checkpatch: $p/qapi/nvme.json"'
real=$top/build/qemu-src/scripts/checkpatch.pl
if [ -f "$real" ]; then
    printf '/* a comment\n * on two lines */\nint %077d;\n' 0 > "$tmp/style.c"   # 82 characters
    CHECKPATCH=$real run "$p/scripts/checkpatch.sh" "$tmp/style.c"
    check "QEMU's checkpatch.pl: a line of 82 characters and a /* */ on text lines fail (warnings)" \
        eval '[ $rc != 0 ] && has "not ok 1 - checkpatch: $tmp/style.c" \
              && has "style.c:3: WARNING: line over 80 characters" \
              && has "style.c:1: WARNING: Block comments use a leading /* on a separate line"'
    printf '/*\n * a comment\n * on two lines\n */\nint %075d;\n' 0 > "$tmp/style.c"   # 80
    CHECKPATCH=$real run "$p/scripts/checkpatch.sh" "$tmp/style.c"
    check "QEMU's checkpatch.pl: the same in QEMU's style (80 characters) passes" \
        eval '[ $rc = 0 ] && has "ok 1 - checkpatch: $tmp/style.c"'
else
    ok "QEMU's checkpatch.pl fails a long line # SKIP no QEMU source in build/qemu-src"
    ok "QEMU's checkpatch.pl passes QEMU's style # SKIP no QEMU source in build/qemu-src"
fi

# --- shellcheck ------------------------------------------------------------------------------
if command -v shellcheck > /dev/null; then
    (cd "$top" && shellcheck -x scripts/build.sh scripts/setup.sh scripts/overlay.sh scripts/test.sh \
        scripts/tally.sh scripts/lib.sh scripts/demo.sh scripts/checkpatch.sh \
        tests/scripts/test-scripts.sh) > "$tmp/out" 2>&1
    check "shellcheck: the scripts above are clean" [ $? = 0 ]
else
    ok "shellcheck # SKIP shellcheck is not installed"
fi
