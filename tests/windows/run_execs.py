# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs the execs of ``build_execs`` on this Windows machine, as a Windows transport runs them.

WinRS runs a command as a cmd.exe command line ("any string that can be executed as a command
in the cmd.exe shell": https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/winrs)
with the exec's stdin as its standard input. ``execute`` does the same with ``subprocess``: the
exact command line the dialect built (``via="cmd"``: after ``cmd.exe /c``, optionally behind
``chcp.com 65001`` as ansible-core 2.16's ssh plugin puts it, chcp setting the console's code
page: https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/chcp;
``via="powershell"``: powershell.exe started directly with the bootstrap's arguments), the exact
stdin bytes, and a kill-on-close job object, closed when the exec has ended, so that nothing the
exec started as its own child outlives it, as when a WinRM shell is deleted. The answer is read
by the dialect's own reader (``Exchange.read``), so "the answer parses" means what it means for
the collection.

Only ``execute`` and ``KillOnCloseJob`` need Windows; the rest is pure and tested on Linux too.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import AnswerError

from build_execs import Exec, check_exec

SKIP_REASON = "needs Windows PowerShell 5.1 and docker.exe: run on a Windows host, see docs/testing-on-windows.md"
IS_WINDOWS = os.name == "nt"

# Process creation flag: the console process gets a console of its own without a window, so a
# code page that an exec sets with chcp.com stays in that console and never reaches the test
# process's. https://learn.microsoft.com/en-us/windows/win32/procthread/process-creation-flags
CREATE_NO_WINDOW = 0x08000000
# What ansible-core 2.16's ssh plugin puts in front of a command for the cmd shell.
CHCP_UTF8 = "chcp.com 65001 >nul 2>&1 && "


def system_root(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    for name in ("SystemRoot", "SYSTEMROOT", "windir", "WINDIR"):
        if environ.get(name):
            return environ[name]
    return "C:\\Windows"


def powershell_exe(environ: Mapping[str, str] | None = None) -> str:
    """Windows PowerShell 5.1's powershell.exe, at its fixed place under System32.
    https://learn.microsoft.com/en-us/powershell/scripting/windows-powershell/starting-windows-powershell"""
    return system_root(environ) + "\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"


def cmd_exe(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get("ComSpec") or environ.get("COMSPEC") or system_root(environ) + "\\System32\\cmd.exe"


def process_arguments(ex: Exec, via: str = "cmd", chcp_utf8: bool = False,
                      environ: Mapping[str, str] | None = None) -> str | list[str]:
    """What ``subprocess.Popen`` gets for ``ex``.

    ``cmd``: one command-line string (on Windows, Popen passes a string to CreateProcess
    unchanged): ``cmd.exe /c`` and the exec's command line, which holds no character cmd.exe
    interprets (build_execs checks it). ``powershell``: powershell.exe's full path and the
    bootstrap command's own arguments, none of which needs quoting.
    """
    if via == "cmd":
        return '"%s" /c %s%s' % (cmd_exe(environ), CHCP_UTF8 if chcp_utf8 else "", ex.command)
    if via == "powershell":
        if chcp_utf8:
            raise ValueError("chcp.com runs only in front of cmd.exe's command line")
        program, *arguments = ex.command.split(" ")
        if program != "PowerShell":
            raise ValueError("not a PowerShell command line: %r" % ex.command[:80])
        return [powershell_exe(environ), *arguments]
    raise ValueError("via must be 'cmd' or 'powershell', not %r" % via)


@dataclass
class Outcome:
    rc: int
    stdout: str
    stderr: str
    answer: Mapping[str, Any]
    in_job_object: bool

    def describe(self) -> str:
        return "rc=%s\nstdout: %s\nstderr: %s" % (self.rc, self.stdout[-3000:], self.stderr[-3000:])


# --- a kill-on-close job object, as WinRS puts a shell's processes in one -------------------------
#
# JOBOBJECT_EXTENDED_LIMIT_INFORMATION with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: "all processes
# associated with the job" end "when the last handle to the job is closed".
# https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-jobobject_basic_limit_information
# https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-jobobject_extended_limit_information
# https://learn.microsoft.com/en-us/windows/win32/api/jobapi2/nf-jobapi2-assignprocesstojobobject
# (the process handle needs PROCESS_SET_QUOTA and PROCESS_TERMINATE; nested jobs since Windows 8).
# A process it starts later is in the job too, unless it breaks away; Win32_Process.Create's
# processes are started by the WMI provider host, outside the caller's job.

_DWORD = ctypes.c_uint32
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
PROCESS_SET_QUOTA = 0x0100
PROCESS_TERMINATE = 0x0001


class IO_COUNTERS(ctypes.Structure):  # noqa: N801 - the Windows name
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
        "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]


class JOBOBJECT_BASIC_LIMIT_INFORMATION(ctypes.Structure):  # noqa: N801
    _fields_ = [
        ("PerProcessUserTimeLimit", ctypes.c_int64),
        ("PerJobUserTimeLimit", ctypes.c_int64),
        ("LimitFlags", _DWORD),
        ("MinimumWorkingSetSize", ctypes.c_size_t),
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", _DWORD),
        ("Affinity", ctypes.c_size_t),
        ("PriorityClass", _DWORD),
        ("SchedulingClass", _DWORD),
    ]


class JOBOBJECT_EXTENDED_LIMIT_INFORMATION(ctypes.Structure):  # noqa: N801
    _fields_ = [
        ("BasicLimitInformation", JOBOBJECT_BASIC_LIMIT_INFORMATION),
        ("IoInfo", IO_COUNTERS),
        ("ProcessMemoryLimit", ctypes.c_size_t),
        ("JobMemoryLimit", ctypes.c_size_t),
        ("PeakProcessMemoryUsed", ctypes.c_size_t),
        ("PeakJobMemoryUsed", ctypes.c_size_t),
    ]


class KillOnCloseJob:
    """A job object whose processes end when it is closed (``with``)."""

    def __init__(self) -> None:
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        kernel32.CreateJobObjectW.restype = ctypes.c_void_p
        kernel32.CreateJobObjectW.argtypes = [ctypes.c_void_p, ctypes.c_wchar_p]
        kernel32.SetInformationJobObject.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, _DWORD]
        kernel32.OpenProcess.restype = ctypes.c_void_p
        kernel32.OpenProcess.argtypes = [_DWORD, ctypes.c_int, _DWORD]
        kernel32.AssignProcessToJobObject.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        kernel32.CloseHandle.argtypes = [ctypes.c_void_p]
        self._kernel32 = kernel32
        self.handle = kernel32.CreateJobObjectW(None, None)
        if not self.handle:
            raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
        info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION()
        info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        if not kernel32.SetInformationJobObject(self.handle, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
                                                ctypes.byref(info), ctypes.sizeof(info)):
            error = ctypes.get_last_error()  # type: ignore[attr-defined]
            self.close()
            raise ctypes.WinError(error)  # type: ignore[attr-defined]

    def assign(self, pid: int) -> bool:
        process = self._kernel32.OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, 0, pid)
        if not process:
            return False
        try:
            return bool(self._kernel32.AssignProcessToJobObject(self.handle, process))
        finally:
            self._kernel32.CloseHandle(process)

    def close(self) -> None:
        if self.handle:
            self._kernel32.CloseHandle(self.handle)
            self.handle = None

    def __enter__(self) -> KillOnCloseJob:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def execute(ex: Exec, via: str = "cmd", chcp_utf8: bool = False, env: Mapping[str, str] | None = None,
            timeout: float = 300.0) -> Outcome:
    """Run ``ex`` once; its answer as the dialect reads it (AssertionError when there is none)."""
    if not IS_WINDOWS:
        raise RuntimeError(SKIP_REASON)
    check_exec(ex)
    arguments = process_arguments(ex, via, chcp_utf8)
    with KillOnCloseJob() as job:
        process = subprocess.Popen(arguments, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=None if env is None else dict(env),
                                   creationflags=CREATE_NO_WINDOW)
        in_job = job.assign(process.pid)
        try:
            stdout, stderr = process.communicate(ex.stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            raise AssertionError("%s did not end within %d s\nstdout: %s\nstderr: %s" % (
                ex.builder, timeout, stdout.decode("utf-8", "replace")[-3000:],
                stderr.decode("utf-8", "replace")[-3000:])) from None
    text, errors = stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")
    try:
        answer = ex.read(process.returncode, text, errors)
    except AnswerError as exc:
        raise AssertionError("%s: no answer of the %s script: %s" % (ex.builder, ex.operation, exc)) from None
    return Outcome(process.returncode, text, errors, answer, in_job)


def windows_build() -> int:
    """This machine's build number (sys.getwindowsversion)."""
    return int(sys.getwindowsversion().build)  # type: ignore[attr-defined]
