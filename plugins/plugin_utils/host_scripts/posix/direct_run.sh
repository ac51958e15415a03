# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# shellcheck shell=sh
# One plain docker call (no stdin, no environment, no appended lines) needs no Python: xargs
# turns the NUL-terminated arguments on stdin into docker's argument vector, and this constant
# sh script frames docker's output with marker lines: a start line on stdout and on stderr
# (whatever a noisy login shell printed before is not docker's), and docker's exit code after
# it (xargs itself would fold it into 123); or it says that docker is missing. "$0" is the
# marker that the dialect names after the script; the first argument is the number of
# arguments, itself included, so that an xargs which split a long line into several commands
# (BusyBox and GNU xargs both may, -x or not) runs nothing. Starting Python and importing json
# and subprocess costs more than the docker call, so this makes a no-op task (one docker image
# inspect) about twice as fast.
# One line: the comment lines above are not sent.
[ "$1" = "$#" ] || { printf "%ssplit\n" "$0"; exit 0; }; shift; command -v docker >/dev/null 2>&1 || { printf "%snot_found\n" "$0"; exit 0; }; printf "%sstart\n" "$0"; printf "%sstart\n" "$0" >&2; docker "$@" </dev/null; printf "%src=%d\n" "$0" "$?"
