# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Long operations run detached on the host and polled with short execs (DESIGN rule 5).

A multi-GB base image pull outlives any WinRM shell, and the Docker daemon cancels a pull as
soon as its client disconnects, so the docker client must not live in the shell. ``HostJob``
starts the calls in a process of their own on the host (WMI on Windows, a new session on
POSIX), then polls the job's directory until its results are there. The rules (where jobs
live and who may touch them, when a run may attach to a job, when a job is stale, how it is
cleaned up) are in docs/architecture.md, "Detached jobs: the lifecycle in one place".
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible.utils.display import Display

from ansible_collections.wincontainers.images.plugins.plugin_utils import powershell_scripts
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import (
    Call,
    CallResult,
    ConnectionFailed,
    Host,
    HostError,
)

# How long a started job may take to write its runner's PID before it counts as failed; also
# how long a job directory without a request counts as another run's start in progress.
START_GRACE = 60.0
# A run that polls a job touches its claim at least every poll interval plus the wait on the host
# (well under 20 s); a claim untouched for this long belongs to a run that is gone (a killed
# controller). A job that does not run and that no run polled for this long is an orphan: the
# next job of that user on that host removes it. Cleanup keeps a job for another run only while
# that run's claim is younger than this.
CLAIM_AGE = 60.0
# How long a cleanup re-opens a dropped connection and tries again. A finished job whose
# directory stayed behind would only be discarded by the next run, but its locks would wait.
CLEANUP_GRACE = 30.0
# How often a run asks again while another run is starting the same job.
BUSY_WAIT = 1.0
# How often a run starts or re-attaches again when its job went away (another run discarded it).
MAX_RESTARTS = 3


class JobTimeout(HostError):
    pass


def stage_request(operation: str) -> dict[str, Any]:
    """The stage_script request that puts ``operation``'s constant script in the job root of a
    Windows host (``powershell_scripts.staged_path`` names it there); the host checks its sha256."""
    return {"name": operation, "sha256": powershell_scripts.DIGESTS[operation],
            "payload": powershell_scripts.PAYLOADS[operation]}


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


class JobLocked(HostError):
    """Another job on the host holds a path this job writes."""


def lock_key(host: Host, path: str) -> str:
    """The name of the lock on ``path`` (Windows paths compare without case, either slash)."""
    if host.is_windows:
        path = path.replace("/", "\\").lower()
    return hashlib.sha256(path.encode("utf-8")).hexdigest()


class HostJob:
    """One detached job. ``locks``: host paths no other job may write meanwhile. ``rename``:
    (partial, final): the runner puts the written file in place itself, only on success."""

    def __init__(
        self,
        host: Host,
        purpose: str,
        calls: Sequence[Call],
        parallel: int = 1,
        retries: int = 0,
        locks: Sequence[str] = (),
        rename: tuple[str, str] | None = None,
    ) -> None:
        for call in calls:
            if call.stdin is not None:
                raise ValueError("a detached job cannot feed stdin: secrets never go to the job's files")
        self.host = host
        self.purpose = purpose
        self.calls = list(calls)
        self.parallel = max(1, parallel)
        self.retries = max(0, retries)
        self.requests = [self._request(call) for call in self.calls]
        self.locks = {lock_key(host, path): path for path in locks}
        self.rename = {"from": rename[0], "to": rename[1]} if rename else None
        # This run's claim on the job: a job that another run started and finished is never ours.
        self.token = secrets.token_hex(16)
        # What the last run saw, for the task's result (see ``summary``).
        self.reattached = False
        self.started_here = False
        self.discarded: str | None = None
        self.elapsed = 0.0
        identity = {"host": host.name, "purpose": purpose, "calls": self.requests, "parallel": self.parallel,
                    "locks": sorted(self.locks), "rename": self.rename}
        self.job_id = hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()[:32]

    def _request(self, call: Call) -> dict[str, Any]:
        request = self.host.call_request(call)
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
        On a timeout the job keeps running on the host; running the task again re-attaches.
        """
        wait = min(first_poll_interval, poll_interval) if first_poll_interval else poll_interval
        started_at = time.monotonic()
        deadline = started_at + timeout
        self._start(deadline)
        restarts = 0
        while True:
            request: dict[str, Any] = {"job": self.job_id, "token": self.token}
            if wait_on_host:
                request["wait"] = round(max(0.0, min(wait, deadline - time.monotonic())), 3)
            status = self._execute("job_status", request, deadline)
            elapsed = self.elapsed = time.monotonic() - started_at
            if not status.get("exists") or not status.get("claimed"):
                # Another run discarded the job (it found it stale) and may have started it anew.
                restarts += 1
                if restarts > MAX_RESTARTS:
                    raise HostError("%s: the %s job disappeared from the host before it finished" % (self.host.name, self.purpose))
                self._start(deadline)
                continue
            outputs = status.get("outputs") or []
            if on_progress is not None:
                on_progress(JobProgress(elapsed, outputs, self.reattached))
            finished = status.get("finished")
            if finished:
                break
            if status.get("started") and not status.get("alive"):
                self._stop_and_fail("%s: the %s job stopped without results (was the host or its Docker service restarted?)"
                                    % (self.host.name, self.purpose))
            if not status.get("started") and elapsed > START_GRACE:
                self._stop_and_fail("%s: the %s job did not start within %d seconds" % (self.host.name, self.purpose, START_GRACE))
            if time.monotonic() >= deadline:
                self.release()
                raise JobTimeout(
                    "%s: %s did not finish within the timeout of %d seconds; it is still running on the host "
                    "(job %s): run the task again to re-attach to it and collect its result, or raise timeout"
                    % (self.host.name, self.purpose, timeout, self.job_id)
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

    def _start(self, deadline: float) -> None:
        """Start the job, or attach to it while it runs; wait while another run is starting it."""
        payload = {"job": self.job_id, "token": self.token, "parallel": self.parallel, "retries": self.retries,
                   "calls": self.requests, "locks": sorted(self.locks), "rename": self.rename,
                   "start_grace": START_GRACE, "claim_age": CLAIM_AGE}
        if self.host.is_windows:
            payload["runner"] = powershell_scripts.DIGESTS["job_runner"]
        # The host calls a start in progress stale after START_GRACE; ask a little longer.
        busy_until = min(deadline, time.monotonic() + START_GRACE + 10 * BUSY_WAIT)
        staged = False
        while True:
            answer = self._execute("job_start", payload, deadline)
            state = answer.get("state")
            if state == "runner_missing" and not staged:
                # The first job on this host (or of this version of the collection): the runner
                # goes to the job root once, then the start is asked again.
                self._execute("stage_script", stage_request("job_runner"), deadline)
                staged = True
                continue
            if state == "busy":
                if time.monotonic() >= busy_until:
                    raise HostError("%s: another run has been starting the %s job for over %d seconds"
                                    % (self.host.name, self.purpose, START_GRACE))
                time.sleep(BUSY_WAIT)
                continue
            if state == "locked":
                raise JobLocked(
                    "%s: another task is writing %s (job %s on the host); run this task again when it has finished"
                    % (self.host.name, self.locks.get(answer.get("lock"), answer.get("lock")), answer.get("holder"))
                )
            if state not in ("started", "attached"):
                raise HostError("%s: the %s job could not start: the host answered %r" % (self.host.name, self.purpose, state))
            if state == "started":
                self.started_here = True
                self.discarded = answer.get("discarded") or self.discarded
                if answer.get("breakaway_refused"):
                    self.host.warn(
                        "%s: the job runner runs inside the job object of the WMI provider host, whose quotas "
                        "(__ProviderHostQuotaConfiguration: memory, processes and threads per provider host) then "
                        "hold it and its docker calls; the host refused CREATE_BREAKAWAY_FROM_JOB (%s)"
                        % (self.host.name, answer["breakaway_refused"]))
            self.reattached = not self.started_here
            return

    def summary(self) -> dict[str, Any]:
        """The job's part of a task result: its ID, whether the task re-attached, how long it ran."""
        return {"id": self.job_id, "reattached": self.reattached, "elapsed": round(self.elapsed, 1)}

    def _stop_and_fail(self, message: str) -> None:
        """Stop and remove the job, then fail with ``message``: an error of the removal is added
        to it, never put in its place."""
        try:
            self.cleanup(kill=True)
        except HostError as exc:
            message += "; removing the job failed too: %s" % exc
        raise HostError(message)

    def release(self) -> None:
        """Drop this run's claim on a job that goes on without it (after a timeout); best effort:
        an unreleased claim only keeps the job's files until it is older than CLAIM_AGE."""
        try:
            self.host.execute("job_cleanup", {"job": self.job_id, "token": self.token, "kill": False, "claim_age": CLAIM_AGE})
        except HostError:
            pass

    def cleanup(self, kill: bool) -> None:
        """Drop this run's claim and remove the job when no other run polls it (``kill``: stop
        its processes and remove it whoever polls it), through dropped connections."""
        self._execute("job_cleanup", {"job": self.job_id, "token": self.token, "kill": kill, "claim_age": CLAIM_AGE},
                      time.monotonic() + CLEANUP_GRACE)

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
