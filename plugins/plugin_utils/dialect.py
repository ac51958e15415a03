# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a host is spoken to: the PowerShell dialect (Windows) and the POSIX dialect (Linux).

A dialect turns an operation name into the fixed command line that runs its constant script,
turns a docker call into the request form the script expects, and reads the script's answer.
"""

from __future__ import annotations

import base64
import json
import shlex
from collections.abc import Mapping
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import posix_scripts, powershell_scripts
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import join_arguments

# The command ansible-core's own PowerShell shell plugin builds; the winrm connection sends a
# command containing " -EncodedCommand " as it is, and psrp runs the decoded script in its
# runspace instead of starting a process. What it encodes is always the same small bootstrap.
POWERSHELL_PREFIX = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "
WINDOWS_COMMAND = POWERSHELL_PREFIX + base64.b64encode(powershell_scripts.BOOTSTRAP.encode("utf-16-le")).decode("ascii")
WINDOWS_SHELL_FAMILIES = frozenset(("powershell", "cmd"))


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


class Dialect:
    name = ""
    scripts: Mapping[str, str] = {}

    def command(self, operation: str) -> str:
        raise NotImplementedError

    def stdin(self, operation: str, payload: Mapping[str, Any]) -> bytes:
        return encode_request(payload)

    def job_runner(self) -> dict[str, str]:
        """Request fields that give ``job_start`` the constant runner script to install."""
        raise NotImplementedError

    def call_request(self, exe: str, arguments: list[str]) -> dict[str, Any]:
        raise NotImplementedError

    def read_answer(self, rc: int, stdout: str, stderr: str) -> Mapping[str, Any]:
        answer = _last_json_line(stdout)
        if answer is None:
            detail = (stderr or stdout or "no output").strip()
            raise AnswerError("the host did not answer as expected (rc=%s): %s" % (rc, detail[-2000:]))
        return answer


class WindowsDialect(Dialect):
    name = "windows"
    scripts = powershell_scripts.SCRIPTS

    def command(self, operation: str) -> str:
        if operation not in self.scripts:
            raise KeyError(operation)
        return WINDOWS_COMMAND

    def stdin(self, operation: str, payload: Mapping[str, Any]) -> bytes:
        script = base64.b64encode(self.scripts[operation].encode("utf-8"))
        return script + b"\n" + encode_request(payload)

    def job_runner(self) -> dict[str, str]:
        return {
            "runner": base64.b64encode(self.scripts["job_runner"].encode("utf-8")).decode("ascii"),
            "runner_bootstrap": powershell_scripts.JOB_RUNNER_BOOTSTRAP,
        }

    def call_request(self, exe: str, arguments: list[str]) -> dict[str, Any]:
        return {"exe": exe, "cmdline": join_arguments(arguments)}


class PosixDialect(Dialect):
    name = "posix"
    scripts = posix_scripts.SCRIPTS

    def __init__(self, interpreter: str = "python3") -> None:
        self.interpreter = interpreter

    def command(self, operation: str) -> str:
        return "%s -c %s" % (shlex.quote(self.interpreter), shlex.quote(self.scripts[operation]))

    def call_request(self, exe: str, arguments: list[str]) -> dict[str, Any]:
        return {"exe": exe, "argv": list(arguments)}

    def job_runner(self) -> dict[str, str]:
        return {"runner": self.scripts["job_runner"]}


def dialect_for(shell: Any, interpreter: Any = None) -> Dialect:
    """Windows for the ``powershell`` and ``cmd`` shell families, POSIX for the rest."""
    if getattr(shell, "_IS_WINDOWS", False) or getattr(shell, "SHELL_FAMILY", "") in WINDOWS_SHELL_FAMILIES:
        return WindowsDialect()
    if not isinstance(interpreter, str) or not interpreter or interpreter.startswith("auto"):
        interpreter = "python3"
    return PosixDialect(interpreter)


def encode_request(payload: Mapping[str, Any]) -> bytes:
    """One ASCII line of JSON: the only channel for values that vary."""
    return (json.dumps(payload, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")
