# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Long operations run detached on the host and polled with short execs (DESIGN rule 5).

A multi-GB base image pull outlives any WinRM shell, and the Docker daemon cancels a pull as
soon as its client disconnects, so the docker client must not live in the shell. ``HostJob``
starts the calls in a process of their own on the host (WMI on Windows, a new session on
POSIX), then polls the job's directory until its results are there. The job ID is derived from
the host and the calls, so running the same task again after a dropped connection or a killed
controller re-attaches to the job that is still running instead of starting a second one.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible.utils.display import Display

from ansible_collections.wincontainers.images.plugins.plugin_utils.host import (
    Call,
    CallResult,
    ConnectionFailed,
    Host,
    HostError,
)

# How long a started job may take to write its runner's PID before it counts as failed.
RUNNER_START_GRACE = 60.0
# How long a cleanup re-opens a dropped connection and tries again. A finished job whose
# directory stayed behind would hand its old results to the next identical task.
CLEANUP_GRACE = 30.0


class JobTimeout(HostError):
    pass


def verbose_progress(host: Host, what: str) -> Callable[[JobProgress], None]:
    """A progress callback that shows at -vvv how long ``what`` has been running."""
    display = Display()

    def show(update: JobProgress) -> None:
        display.vvv("%s: %s running for %ds%s"
                    % (host.name, what, update.elapsed, " (re-attached)" if update.reattached else ""))

    return show


@dataclass(frozen=True)
class JobProgress:
    """What a poll saw: the output of each call so far."""

    elapsed: float
    outputs: Sequence[Mapping[str, str]]
    reattached: bool


class HostJob:
    def __init__(self, host: Host, purpose: str, calls: Sequence[Call], parallel: int = 1, retries: int = 0) -> None:
        for call in calls:
            if call.stdin is not None:
                raise ValueError("a detached job cannot feed stdin: secrets never go to the job's files")
        self.host = host
        self.purpose = purpose
        self.calls = list(calls)
        self.parallel = max(1, parallel)
        self.retries = max(0, retries)
        self.requests = [self._request(call) for call in self.calls]
        # What the last run saw, for the task's result (see ``summary``).
        self.reattached = False
        self.elapsed = 0.0
        identity = {"host": host.name, "purpose": purpose, "calls": self.requests, "parallel": self.parallel}
        self.job_id = hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()[:32]

    def _request(self, call: Call) -> dict[str, Any]:
        request = self.host.dialect.call_request(call.exe, list(call.arguments))
        if call.environment:
            request["env"] = dict(call.environment)
        return request

    def run(
        self,
        timeout: float,
        poll_interval: float = 2.0,
        on_progress: Callable[[JobProgress], None] | None = None,
        first_poll_interval: float | None = None,
        wait_on_host: bool = False,
    ) -> list[CallResult]:
        """Start (or re-attach to) the job and wait for its results, at most ``timeout`` seconds.

        With ``first_poll_interval``, the wait between polls starts there and grows by half at
        each poll up to ``poll_interval`` (short jobs finish without waiting a whole interval).
        With ``wait_on_host``, each status exec itself waits on the host for that long, and
        answers as soon as the job has finished: fewer execs, and no latency at the end.
        """
        wait = min(first_poll_interval, poll_interval) if first_poll_interval else poll_interval
        started_at = time.monotonic()
        deadline = started_at + timeout
        payload = {"job": self.job_id, "parallel": self.parallel, "retries": self.retries, "calls": self.requests}
        payload.update(self.host.dialect.job_runner())
        self.reattached = not self._execute("job_start", payload, deadline).get("started")
        while True:
            request: dict[str, Any] = {"job": self.job_id}
            if wait_on_host:
                request["wait"] = round(max(0.0, min(wait, deadline - time.monotonic())), 3)
            status = self._execute("job_status", request, deadline)
            elapsed = self.elapsed = time.monotonic() - started_at
            if not status.get("exists"):
                raise HostError("%s: the %s job disappeared from the host before it finished" % (self.host.name, self.purpose))
            outputs = status.get("outputs") or []
            if on_progress is not None:
                on_progress(JobProgress(elapsed, outputs, self.reattached))
            finished = status.get("finished")
            if finished:
                break
            if status.get("started") and not status.get("alive"):
                self.cleanup(kill=True)
                raise HostError(
                    "%s: the %s job stopped without results (was the host or its Docker service restarted?)"
                    % (self.host.name, self.purpose)
                )
            if not status.get("started") and elapsed > RUNNER_START_GRACE:
                self.cleanup(kill=True)
                raise HostError("%s: the %s job did not start within %d seconds" % (self.host.name, self.purpose, RUNNER_START_GRACE))
            if time.monotonic() >= deadline:
                self.cleanup(kill=True)
                raise JobTimeout(
                    "%s: %s did not finish within the timeout of %d seconds; the job was stopped"
                    % (self.host.name, self.purpose, timeout)
                )
            if not wait_on_host:
                time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
            wait = min(poll_interval, wait * 1.5)
        self.cleanup(kill=False)
        if finished.get("error"):
            raise HostError("%s: the %s job failed: %s" % (self.host.name, self.purpose, finished["error"].get("message")))
        results = finished.get("results") or []
        if len(results) != len(self.calls) or len(outputs) != len(self.calls):
            raise HostError("%s: the %s job returned %d results for %d calls" % (self.host.name, self.purpose, len(results), len(self.calls)))
        return [
            CallResult(call, int(result["rc"]), output.get("stdout") or "", output.get("stderr") or "")
            for call, result, output in zip(self.calls, results, outputs)
        ]

    def summary(self) -> dict[str, Any]:
        """The job's part of a task result: its ID, whether the task re-attached, how long it ran."""
        return {"id": self.job_id, "reattached": self.reattached, "elapsed": round(self.elapsed, 1)}

    def cleanup(self, kill: bool) -> None:
        """Remove the job's directory (``kill``: stop its processes first), through dropped connections."""
        self._execute("job_cleanup", {"job": self.job_id, "kill": kill}, time.monotonic() + CLEANUP_GRACE)

    def _execute(self, operation: str, payload: Mapping[str, Any], deadline: float) -> Mapping[str, Any]:
        """One exec; a dropped connection is re-opened and the exec retried until the deadline."""
        while True:
            try:
                return self.host.execute(operation, payload)
            except ConnectionFailed:
                if time.monotonic() >= deadline:
                    raise
                self.host.reconnect()
                time.sleep(1.0)
