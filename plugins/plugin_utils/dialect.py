# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a host is spoken to: the PowerShell dialect (Windows) and the POSIX dialect (Linux).

A dialect turns an operation and its request into one exec (``exchange``): the fixed command
line that runs the operation's constant script, the stdin that carries the request, and how
the output is read back as the script's answer. It also turns a docker call into the request
form its scripts expect.
"""

from __future__ import annotations

import base64
import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import limits, posix_scripts, powershell_scripts
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import join_arguments

# The command ansible-core's own PowerShell shell plugin builds, to the letter: psrp runs the
# decoded script in its runspace instead of starting a process only when the command starts
# exactly so (ansible-core 2.16 compares the text), and winrm (2.21) sends a command
# containing " -EncodedCommand " as it is. What it encodes is always the same small bootstrap.
POWERSHELL_PREFIX = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "
WINDOWS_COMMAND = POWERSHELL_PREFIX + base64.b64encode(powershell_scripts.BOOTSTRAP.encode("utf-16-le")).decode("ascii")
WINDOWS_SHELL_FAMILIES = frozenset(("powershell", "cmd"))

# The POSIX direct path (posix_scripts.DIRECT_RUN). Requests keep their arguments at half of
# the command line length xargs is told to allow, so xargs never has to split them.
DIRECT_MARKER = "wincontainers.images:"
DIRECT_START = DIRECT_MARKER + "start\n"
DIRECT_LINE_LIMIT = 65536
DIRECT_ARGUMENT_BUDGET = DIRECT_LINE_LIMIT // 2
DIRECT_COMMAND = "xargs -0 -s %d /bin/sh -c %s %s" % (
    DIRECT_LINE_LIMIT, shlex.quote(posix_scripts.DIRECT_RUN), DIRECT_MARKER)


class AnswerError(Exception):
    """The host's output is not an answer of one of our scripts."""


def _last_json_line(stdout: str) -> Mapping[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict) and "error" in value:
                return value
    return None


def _no_answer(rc: int, stdout: str, stderr: str) -> AnswerError:
    detail = (stderr or stdout or "no output").strip()
    return AnswerError("the host did not answer as expected (rc=%s): %s" % (rc, detail[-2000:]))


@dataclass(frozen=True)
class Exchange:
    """One exec: its command line, its stdin, and how its output becomes a script's answer."""

    command: str
    stdin: bytes
    read: Callable[[int, str, str], Mapping[str, Any]]


class Dialect:
    name = ""
    scripts: Mapping[str, str] = {}

    def exchange(self, operation: str, payload: Mapping[str, Any]) -> Exchange:
        return Exchange(self.command(operation), self.stdin(operation, payload), self.read_answer)

    def command(self, operation: str) -> str:
        raise NotImplementedError

    def stdin(self, operation: str, payload: Mapping[str, Any]) -> bytes:
        return encode_request(payload)

    def call_request(self, exe: str, arguments: list[str]) -> dict[str, Any]:
        """The request of one program call; raises ``limits.CommandTooLong`` when the host could
        not start the program with these arguments (nothing is sent then)."""
        raise NotImplementedError

    def read_answer(self, rc: int, stdout: str, stderr: str) -> Mapping[str, Any]:
        answer = _last_json_line(stdout)
        if answer is None:
            raise _no_answer(rc, stdout, stderr)
        return answer


class WindowsDialect(Dialect):
    name = "windows"
    scripts = powershell_scripts.SCRIPTS

    def command(self, operation: str) -> str:
        if operation not in self.scripts:
            raise KeyError(operation)
        return WINDOWS_COMMAND

    def stdin(self, operation: str, payload: Mapping[str, Any]) -> bytes:
        """The script, deflated and in base64 (``powershell_scripts.PAYLOADS``), then the request."""
        return powershell_scripts.PAYLOADS[operation].encode("ascii") + b"\n" + encode_request(payload)

    def call_request(self, exe: str, arguments: list[str]) -> dict[str, Any]:
        limits.check_arguments(True, arguments, exe)
        return {"exe": exe, "cmdline": join_arguments(arguments)}


class PosixDialect(Dialect):
    name = "posix"
    scripts = posix_scripts.SCRIPTS

    def __init__(self, interpreter: str = "python3") -> None:
        self.interpreter = interpreter

    def exchange(self, operation: str, payload: Mapping[str, Any]) -> Exchange:
        arguments = direct_arguments(payload) if operation == "run" else None
        if arguments is None:
            return super().exchange(operation, payload)
        return Exchange(DIRECT_COMMAND, arguments, read_direct_answer)

    def command(self, operation: str) -> str:
        return "%s -c %s" % (shlex.quote(self.interpreter), shlex.quote(posix_scripts.PROGRAMS[operation]))

    def call_request(self, exe: str, arguments: list[str]) -> dict[str, Any]:
        limits.check_arguments(False, arguments, exe)
        return {"exe": exe, "argv": list(arguments)}


def dialect_for(shell: Any, interpreter: Any = None) -> Dialect:
    """Windows for the ``powershell`` and ``cmd`` shell families, POSIX for the rest."""
    if getattr(shell, "_IS_WINDOWS", False) or getattr(shell, "SHELL_FAMILY", "") in WINDOWS_SHELL_FAMILIES:
        return WindowsDialect()
    if not isinstance(interpreter, str) or not interpreter or interpreter.startswith("auto"):
        interpreter = "python3"
    return PosixDialect(interpreter)


def direct_arguments(payload: Mapping[str, Any]) -> bytes | None:
    """The stdin of DIRECT_COMMAND for a ``run`` request of one plain docker call, else None."""
    calls = payload.get("calls") or []
    if len(calls) != 1 or set(calls[0]) != {"exe", "argv"} or calls[0]["exe"] != "docker":
        return None
    try:
        encoded = [str(argument).encode("utf-8") for argument in calls[0]["argv"]]
    except UnicodeEncodeError:
        return None
    if any(b"\0" in argument for argument in encoded) or sum(len(a) + 1 for a in encoded) > DIRECT_ARGUMENT_BUDGET:
        return None
    count = str(len(encoded) + 1).encode("ascii")
    return b"".join(argument + b"\0" for argument in [count] + encoded)


def read_direct_answer(rc: int, stdout: str, stderr: str) -> Mapping[str, Any]:
    """DIRECT_RUN's output as the answer ``run`` gives: docker's output between the start line
    (the first one) and the status line (the last one) of each stream."""
    head, marker, status = stdout.rpartition(DIRECT_MARKER)
    status = status.strip()
    if marker and status == "not_found":
        return {"results": [], "error": {"kind": "not_found", "exe": "docker", "message": "docker was not found on this host"}}
    if marker and status == "split":
        return {"results": [], "error": {"kind": "exception",
                                         "message": "xargs split the docker arguments into several commands; none ran"}}
    _noise, started, output = head.partition(DIRECT_START)
    if not started or not status.startswith("rc=") or not status[3:].isdigit():
        raise _no_answer(rc, stdout, stderr)
    _noise, started, errors = stderr.partition(DIRECT_START)
    return {"results": [{"rc": int(status[3:]), "stdout": output, "stderr": errors if started else stderr}], "error": None}


def encode_request(payload: Mapping[str, Any]) -> bytes:
    """One ASCII line of JSON: the only channel for values that vary."""
    return (json.dumps(payload, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")
