# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake ``ssh`` executable: the Windows OpenSSH server at the other end, for contract tests.

ansible-core's real ``ssh`` connection plugin runs it (through ``ansible_ssh_executable``; the
harness writes a small wrapper script that starts this file with the test's Python) exactly as
it would run OpenSSH's client: ``ssh [options...] HOST COMMAND`` with the exec's ``in_data`` on
stdin. On a Windows host sshd hands COMMAND to the default shell (cmd.exe, or powershell.exe
when the host is set up so; the harness runs both ``ansible_shell_type`` values), so COMMAND is
the full ``PowerShell ... -EncodedCommand ...`` line. This program gives it and stdin to the
fake host named by ``WC_FAKE_WINDOWS_HOST`` and writes the answer back with the exit code.

Exit code 255 means "ssh itself failed" to ansible; it is used when the harness is broken (no
host directory, a crash), which also lands in the host's ``errors.jsonl`` when possible, and while the
host restarts (``fake_reboot.py``: nothing listens on port 22, OpenSSH's "Connection refused").
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_windows_host import FakeWindowsHost  # noqa: E402 - after the path is set

import fake_put_file  # noqa: E402,I001 - after fake_windows_host, whose emulations it extends
import fake_reboot  # noqa: E402


def main(argv: list[str]) -> int:
    directory = os.environ.get("WC_FAKE_WINDOWS_HOST")
    if not directory:
        sys.stderr.write("fake ssh: WC_FAKE_WINDOWS_HOST is not set\n")
        return 255
    if len(argv) < 2:
        sys.stderr.write("fake ssh: usage: ssh [options] host command\n")
        return 255
    if "-O" in argv[:-1]:
        # A multiplexing control command (ansible's reset() sends "-O check" first, e.g. when win_reboot
        # reconnects). The harness's hosts run with "-o ControlPath=none", and OpenSSH's client then stops
        # with this message and exit code 255 (ssh.c: a "-O" command needs a ControlPath).
        if "ControlPath=none" not in argv:
            sys.stderr.write("fake ssh: -O without ControlPath=none is not emulated\n")
            return 255
        sys.stderr.write('No ControlPath specified for "-O" command\r\n')
        return 255
    if fake_put_file.is_sftp(argv):  # the harness makes this program the sftp executable too
        return fake_put_file.sftp_main(argv, sys.stdin.buffer.read())
    command = argv[-1]
    # ansible.windows.win_reboot runs its commands with no input, and ansible's ssh plugin then leaves
    # ssh's stdin open (it closes it only after sending input); the remote powershell.exe answers without
    # reading it, since those scripts never read their input (fake_reboot.py).
    stdin = b"" if fake_reboot.is_win_reboot_command(command) else sys.stdin.buffer.read()
    try:
        host = FakeWindowsHost(directory)
        down, _boots = fake_reboot.status(directory)
    except Exception as exc:  # noqa: BLE001 - the harness must fail loudly
        sys.stderr.write("fake ssh: %s\n" % exc)
        return 255
    if down:  # the host is restarting (fake_reboot.py): nothing listens on port 22
        sys.stderr.write(fake_reboot.refused_ssh_message(argv))
        return 255
    try:
        answer = host.exchange("ssh", command=command, stdin=stdin)
    except Exception as exc:  # noqa: BLE001
        host.record_error("ssh", "%s: %s" % (type(exc).__name__, exc), traceback.format_exc())
        sys.stderr.write("fake ssh crashed: %s\n" % exc)
        return 255
    sys.stdout.buffer.write(answer.stdout.encode("utf-8"))
    sys.stderr.buffer.write(answer.stderr.encode("utf-8"))
    sys.stdout.flush()
    sys.stderr.flush()
    return answer.rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
