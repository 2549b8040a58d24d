# SPDX-License-Identifier: GPL-2.0-or-later
# Guest-side helpers, put into every test layer as /guestlib.sh; a test's /test.sh
# starts with `. /guestlib.sh`. busybox ash.
#
#   hostsync NAME [TEXT]  write "SYNC NAME TEXT" to the host (/dev/ttyS1), wait for its
#                         one-line answer and print it (e.g. GO); exit status 1 on timeout
#   pass NAME / fail NAME DETAIL       print PASS:/FAIL: lines the host counts
#   check NAME CMD...     run CMD; PASS if it exits 0, else FAIL with its last output
#   result KEY TEXT...    print "RESULT KEY TEXT" (one line) for the host to parse
#   resultcmd KEY CMD...  run CMD and print its output as one RESULT line (newlines
#                         removed: fine for JSON); the exit code goes to RESULT KEY.rc
#   waitfor PATH [SECS]   wait until PATH exists (default 10 s); status 1 on timeout
#   ctrl_by_serial SN     print the nvmeN whose /sys/class/nvme/nvmeN/serial is SN

SYNC_TTY=${SYNC_TTY:-/dev/ttyS1}
SYNC_TIMEOUT=${SYNC_TIMEOUT:-300}
if [ -e "$SYNC_TTY" ]; then
    stty -F "$SYNC_TTY" raw -echo 2>/dev/null
    exec 3<>"$SYNC_TTY"
fi

hostsync() {
    printf 'SYNC %s\n' "$*" >&3
    _reply=
    if ! IFS= read -r -t "$SYNC_TIMEOUT" _reply <&3; then
        echo "FAIL: sync $1: no answer from the host in ${SYNC_TIMEOUT}s"
        return 1
    fi
    printf '%s\n' "$_reply"
}

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }

check() {
    _name=$1
    shift
    _out=$("$@" 2>&1)
    _rc=$?
    if [ $_rc = 0 ]; then
        pass "$_name"
    else
        fail "$_name" "exit $_rc: $(printf '%s\n' "$_out" | tail -n 4 | tr '\n' ' ')"
    fi
    return $_rc
}

result() {
    _key=$1
    shift
    echo "RESULT $_key $*"
}

resultcmd() {
    _key=$1
    shift
    _out=$("$@" 2>&1)
    _rc=$?
    echo "RESULT $_key $(printf '%s' "$_out" | tr '\n' ' ')"
    echo "RESULT $_key.rc $_rc"
    return $_rc
}

waitfor() {
    _i=0
    while [ ! -e "$1" ]; do
        [ $_i -ge $((${2:-10} * 20)) ] && return 1
        usleep 50000
        _i=$((_i + 1))
    done
}

ctrl_by_serial() {
    for _c in /sys/class/nvme/nvme*; do
        [ -e "$_c/serial" ] || continue
        read -r _sn < "$_c/serial"
        [ "$_sn" = "$1" ] && { basename "$_c"; return 0; }
    done
    return 1
}
