# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Guest-side helpers, put into every test layer as /guestlib.sh; a test's /test.sh
# starts with `. /guestlib.sh`. busybox ash. It sources /test.env, the test's parameters
# (KEY='value' lines written by guestlib.py from Guest's env).
#
#   hostsync NAME [TEXT]  write "SYNC NAME TEXT" to the host (/dev/ttyS1), wait for its
#                         one-line answer and print it (e.g. GO); exit status 1 on timeout.
#                         It prints "HOSTSYNC NAME" on stderr (the console) first: the
#                         host waits for that line, so it has every earlier RESULT line.
#   pass NAME / fail NAME DETAIL       print PASS:/FAIL: lines the host counts
#   check NAME CMD...     run CMD; PASS if it exits 0, else FAIL with its last output
#   result KEY TEXT...    print "RESULT KEY TEXT" (one line) for the host to parse
#   resultcmd KEY CMD...  run CMD and print its output as one RESULT line (newlines
#                         removed: fine for JSON); the exit code goes to RESULT KEY.rc
#   waitfor PATH [SECS]   wait until PATH exists (default 10 s); status 1 on timeout
#   waituntil SECS CMD... run CMD every 0.1 s until it exits 0 (status 0) or SECS pass
#                         (status 1)
#   ctrl_by_serial SN     print the nvmeN whose /sys/class/nvme/nvmeN/serial is SN (Linux
#                         shows the subsystem's serial there: with several controllers in
#                         one subsystem, all show the first one's; use ctrl_by_sn then)
#   ctrl_by_sn SN         print the nvmeN whose Identify Controller SN is SN
#   ns_path CTRL NSID     print the hidden path device (nvmeXcYnZ) of namespace NSID
#                         through controller CTRL (nvmeY)
#   ns_head CTRL NSID     print the multipath device (nvmeXnZ) of namespace NSID in
#                         CTRL's subsystem
#   waitval FILE VALUE [SECS]  wait until FILE's first line is VALUE (default 10 s);
#                         status 1 on timeout
#   ctrl_sn CTRL          the Serial Number in CTRL's Identify Controller data
#   subsys_by_nqn NQN     print the nvme-subsysN whose subsysnqn is NQN
#   subsys_ctrls SUBSYS   the controllers (nvmeN) of nvme-subsysN, one a line
#   ns_dev NSID [SUBSYS]  print the visible block device (nvmeXnY: a multipath head or a
#                         private namespace) with that NSID (in nvme-subsysN if given)
#   ns_paths DEV          the hidden path devices (nvmeXcYnZ) of multipath head DEV
#   path_ctrl DEV         the controller (nvmeN) a path device or private namespace is
#                         under (for a head: its nvme-subsysN)
#   ns_nodes              the namespace block devices in /dev (nvmeXnY), one a line

if [ -r /test.env ]; then
    # shellcheck source=/dev/null # written per test by guestlib.py
    . /test.env
fi

SYNC_TTY=${SYNC_TTY:-/dev/ttyS1}
SYNC_TIMEOUT=${SYNC_TIMEOUT:-300}
if [ -e "$SYNC_TTY" ]; then
    stty -F "$SYNC_TTY" raw -echo 2>/dev/null
    exec 3<>"$SYNC_TTY"
fi

hostsync() {
    # on the console first: the host reads every line before it, then the SYNC
    echo "HOSTSYNC $1" >&2
    printf 'SYNC %s\n' "$*" >&3
    _reply=
    # shellcheck disable=SC3045 # busybox ash's read has -t
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

waituntil() {
    _t=$(($1 * 10))
    shift
    _i=0
    until "$@"; do
        [ $_i -ge $_t ] && return 1
        usleep 100000
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

ctrl_by_sn() {
    for _c in /sys/class/nvme/nvme*; do
        [ -e "$_c/dev" ] || continue
        _sn=$(nvme id-ctrl "/dev/${_c##*/}" 2>/dev/null | sed -n 's/^sn *: *//p')
        _sn=${_sn%"${_sn##*[! ]}"}
        [ "$_sn" = "$1" ] && { basename "$_c"; return 0; }
    done
    return 1
}

# ctrl_at ADDR: the controller at PCI address ADDR, if any
ctrl_at() {
    for _c in /sys/class/nvme/nvme*; do
        [ "$(cat "$_c/address" 2>/dev/null)" = "$1" ] && { echo "${_c##*/}"; return 0; }
    done
    return 1
}

ns_path() {
    for _p in /sys/class/nvme/"$1"/nvme*c*n*; do
        [ -e "$_p/nsid" ] || continue
        read -r _n < "$_p/nsid"
        [ "$_n" = "$2" ] && { basename "$_p"; return 0; }
    done
    return 1
}

ns_head() {
    for _s in /sys/class/nvme-subsystem/nvme-subsys*; do
        [ -e "$_s/$1" ] || continue
        for _h in "$_s"/nvme*n*; do
            [ -e "$_h/nsid" ] || continue
            read -r _n < "$_h/nsid"
            [ "$_n" = "$2" ] && { basename "$_h"; return 0; }
        done
    done
    return 1
}

waitval() {
    _i=0
    while :; do
        _v=
        read -r _v < "$1" 2>/dev/null
        [ "$_v" = "$2" ] && return 0
        [ $_i -ge $((${3:-10} * 20)) ] && return 1
        usleep 50000
        _i=$((_i + 1))
    done
}

ctrl_sn() {
    nvme id-ctrl "/dev/$1" -o json 2>/dev/null |
        sed -n 's/^ *"sn" *: *"\(.*\)",*$/\1/p' | sed 's/ *$//'
}

subsys_by_nqn() {
    for _s in /sys/class/nvme-subsystem/nvme-subsys*; do
        [ -e "$_s/subsysnqn" ] || continue
        read -r _q < "$_s/subsysnqn"
        [ "$_q" = "$1" ] && { echo "${_s##*/}"; return 0; }
    done
    return 1
}

subsys_ctrls() {
    _found=1
    for _c in "/sys/class/nvme-subsystem/$1"/nvme*; do
        _c=${_c##*/}
        case "${_c#nvme}" in '' | *[!0-9]*) continue ;; esac
        echo "$_c"
        _found=0
    done
    return $_found
}

ns_dev() {
    for _b in /sys/block/nvme*n*; do
        [ -e "$_b/nsid" ] || continue
        case "${_b##*/}" in *c*) continue ;; esac
        read -r _n < "$_b/nsid"
        [ "$_n" = "$1" ] || continue
        if [ -n "$2" ]; then
            # a head is in /sys/class/nvme-subsystem/SUBSYS; a private namespace under
            # one of SUBSYS's controllers
            [ -e "/sys/class/nvme-subsystem/$2/${_b##*/}" ] ||
                subsys_ctrls "$2" | grep -qx "$(path_ctrl "${_b##*/}")" || continue
        fi
        echo "${_b##*/}"
        return 0
    done
    return 1
}

ns_paths() {
    _h=$1
    _p=${_h%n*}
    _found=1
    for _d in /sys/block/"${_p}"c*n"${_h##*n}"; do
        _d=${_d##*/}
        _c=${_d#"${_p}"c}
        case "${_c%n"${_h##*n}"}" in '' | *[!0-9]*) continue ;; esac
        echo "$_d"
        _found=0
    done
    return $_found
}

path_ctrl() {
    _d=$(dirname "$(readlink -f "/sys/block/$1")")
    echo "${_d##*/}"
}

ns_nodes() {
    for _d in /dev/nvme*n*; do
        _n=${_d#/dev/nvme}
        case "${_n%%n*}:${_n#*n}" in :* | *: | *[!0-9:]*) continue ;; esac
        echo "${_d#/dev/}"
    done
}
