# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host a task runs on, reached through the task's own connection.

``Host.run`` sends any number of program calls to the host in one exec (one round trip) and
returns their results; ``Host.execute`` runs any constant script with a JSON payload. Each exec
is one constant command line plus one line of JSON on stdin (on Windows preceded by the
base64 of the constant script, which the constant bootstrap command runs; on POSIX, a single
plain docker call sends its arguments NUL-terminated instead, see ``Dialect.exchange``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible.errors import AnsibleConnectionFailure, AnsibleError

from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import (
    AnswerError,
    Dialect,
    dialect_for,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils.engine import Settings


class HostError(Exception):
    """A failure the task reports as its message."""


class ConnectionFailed(HostError):
    pass


class ExecutableNotFound(HostError):
    pass


@dataclass(frozen=True)
class Call:
    """One program run on the host: ``docker`` unless said otherwise."""

    arguments: tuple[str, ...]
    exe: str = "docker"
    stdin: str | None = field(default=None, repr=False)
    environment: Mapping[str, str] | None = None
    append_lines_of: int | None = None


@dataclass(frozen=True)
class CallResult:
    call: Call
    rc: int
    stdout: str
    stderr: str
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.rc == 0


class Host:
    def __init__(self, action: Any, task_vars: Mapping[str, Any] | None = None) -> None:
        task_vars = task_vars or {}
        self._action = action
        self.name = str(task_vars.get("inventory_hostname") or getattr(action._play_context, "remote_addr", None) or "host")
        self.dialect: Dialect = dialect_for(action._connection._shell, task_vars.get("ansible_python_interpreter"))
        self.execs = 0
        self.puts = 0
        # The docker CLI's global options and the environment of every call (engine.settings).
        self.engine = Settings()
        # What the host layer saw that the task's result must tell (DockerActionBase adds them).
        self.warnings: list[str] = []

    @property
    def is_windows(self) -> bool:
        return self.dialect.name == "windows"

    def warn(self, message: str) -> None:
        """A warning for the task's result, once however often it is seen."""
        if message not in self.warnings:
            self.warnings.append(message)

    def run(self, calls: Sequence[Call], parallel: int = 1) -> list[CallResult]:
        """Run the calls in one exec, at most ``parallel`` at a time; results in call order."""
        if not calls:
            return []
        requests = []
        for call in calls:
            request = self.call_request(call)
            if call.stdin is not None:
                request["stdin"] = call.stdin
            if call.append_lines_of is not None:
                request["append_lines_of"] = call.append_lines_of
            requests.append(request)
        answer = self.execute("run", {"parallel": parallel, "calls": requests})
        results = answer.get("results") or []
        if len(results) != len(calls):
            raise HostError("%s: expected %d results from the host, got %d" % (self.name, len(calls), len(results)))
        return [
            CallResult(call, int(r["rc"]), r.get("stdout") or "", r.get("stderr") or "", bool(r.get("skipped")))
            for call, r in zip(calls, results)
        ]

    def call_request(self, call: Call) -> dict[str, Any]:
        """The request of one call for any script that runs programs (``run``, jobs, ``file_info``,
        ``host_info``, ``container_image``): docker's global options before its arguments, and the
        environment (the task's ``environment:``, then the options', then the call's own). Raises
        ``limits.CommandTooLong`` when the host could not start it."""
        arguments = list(call.arguments)
        if call.exe == "docker":
            arguments = list(self.engine.arguments) + arguments
        request = self.dialect.call_request(call.exe, arguments)
        environment = self.engine.call_environment(call.environment)
        if environment:
            request["env"] = environment
        return request

    def put_file(self, local: str, remote: str) -> None:
        """Copy a controller file to the host with the connection plugin's own ``put_file``."""
        try:
            self._action._connection.put_file(local, remote)
        except AnsibleConnectionFailure as exc:
            raise ConnectionFailed("%s: connection failed while copying to %s: %s" % (self.name, remote, exc)) from exc
        except AnsibleError as exc:
            raise HostError("%s: copying to %s failed: %s" % (self.name, remote, exc)) from exc
        self.puts += 1

    def reconnect(self) -> None:
        """Drop the connection so that the next exec opens a new one."""
        try:
            self._action._connection.reset()
        except Exception:  # noqa: BLE001 - the next exec reports what is wrong
            pass

    def execute(self, operation: str, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        """Run the constant script ``operation`` with ``payload`` on stdin; return its answer."""
        exchange = self.dialect.exchange(operation, payload)
        try:
            output = self._action._low_level_execute_command(exchange.command, in_data=exchange.stdin)
        except AnsibleConnectionFailure as exc:
            raise ConnectionFailed("%s: connection failed: %s" % (self.name, exc)) from exc
        self.execs += 1
        try:
            answer = exchange.read(output["rc"], output.get("stdout", ""), output.get("stderr", ""))
        except AnswerError as exc:
            raise HostError("%s: %s" % (self.name, exc)) from exc
        error = answer.get("error")
        if error:
            if error.get("kind") == "not_found":
                raise ExecutableNotFound(
                    "%s: the %s CLI was not found on the host (looked on PATH%s); install Docker or add it to PATH"
                    % (self.name, error.get("exe"), " and in %ProgramFiles%\\Docker" if self.is_windows else "")
                )
            raise HostError("%s: %s" % (self.name, error.get("message") or error))
        return answer
