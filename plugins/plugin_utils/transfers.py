# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pulls and pushes as detached host jobs, with their progress shown on the controller.

``docker pull`` and ``docker push`` print one ``<layer>: <status>`` line per layer event when
their output is not a terminal (the job's log files). Those lines only feed the progress
message (layers done / seen, images done, elapsed time); every decision (changed, digest)
is taken from ``docker image inspect`` and ``docker manifest inspect`` JSON.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils.jobs import JobProgress
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import ImageReference
from ansible_collections.wincontainers.images.plugins.plugin_utils.registry import repo_digests

_LAYER_LINE = re.compile(r"^([0-9a-f]{12}): (.+?)\s*$")
PULL_DONE = ("Pull complete", "Already exists")
PUSH_DONE = ("Pushed", "Layer already exists", "Mounted from")
PULL_FINISHED = re.compile(r"^Status: ", re.MULTILINE)
PUSH_FINISHED = re.compile(r": digest: sha256:[0-9a-f]{64}", re.MULTILINE)

# Each poll waits on the host (HostJob wait_on_host) and answers as soon as the job is done, so
# waits can be long without adding latency; every poll is an exec, which over WinRM costs far
# more than the wait. The first answers come quickly (progress shows early), then one every 3 s.
FIRST_POLL_INTERVAL = 0.5
POLL_INTERVAL = 3.0


def layer_states(text: str) -> dict[str, str]:
    """The last status of every layer named in the output."""
    states: dict[str, str] = {}
    for line in text.splitlines():
        match = _LAYER_LINE.match(line.strip())
        if match:
            states[match.group(1)] = match.group(2)
    return states


@dataclass(frozen=True)
class ProgressSummary:
    layers_done: int
    layers_seen: int
    items_done: int
    items: int

    def text(self) -> str:
        return "%d/%d layers, %d/%d images" % (self.layers_done, self.layers_seen, self.items_done, self.items)


def summarise(outputs: Sequence[Mapping[str, str]], done: Sequence[str], finished: re.Pattern[str]) -> ProgressSummary:
    layers_done = layers_seen = items_done = 0
    for output in outputs:
        stdout = output.get("stdout") or ""
        states = layer_states(stdout)
        layers_seen += len(states)
        layers_done += sum(1 for status in states.values() if status.startswith(tuple(done)))
        if finished.search(stdout):
            items_done += 1
    return ProgressSummary(layers_done, layers_seen, items_done, len(outputs))


class ProgressReporter:
    """Called with each poll of a job; prints a line when the progress changed (at most once a
    second) and at least every ``heartbeat`` seconds, so a long pull never looks stuck. Only the
    first ``items`` calls of the job are transfers (when given)."""

    def __init__(
        self,
        emit: Callable[[str], None],
        prefix: str,
        done: Sequence[str],
        finished: re.Pattern[str],
        min_interval: float = 1.0,
        heartbeat: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        items: int | None = None,
    ) -> None:
        self.emit = emit
        self.items = items
        self.prefix = prefix
        self.done = done
        self.finished = finished
        self.min_interval = min_interval
        self.heartbeat = heartbeat
        self.clock = clock
        self.last_summary: ProgressSummary | None = None
        self.last_time: float | None = None
        self.reattached = False
        self.lines: list[str] = []

    def __call__(self, progress: JobProgress) -> None:
        outputs = progress.outputs if self.items is None else progress.outputs[:self.items]
        summary = summarise(outputs, self.done, self.finished)
        now = self.clock()
        if progress.reattached and not self.reattached:
            self.reattached = True
            self._emit("re-attached to the job already running on the host", progress.elapsed, summary)
            return
        if self.last_time is None:
            self._emit("started", progress.elapsed, summary)
            return
        since = now - self.last_time
        if (summary != self.last_summary and since >= self.min_interval) or since >= self.heartbeat:
            self._emit(None, progress.elapsed, summary)

    def _emit(self, note: str | None, elapsed: float, summary: ProgressSummary) -> None:
        line = "%s: %s, %ds elapsed%s" % (self.prefix, summary.text(), int(elapsed), " (%s)" % note if note else "")
        self.lines.append(line)
        self.last_summary = summary
        self.last_time = self.clock()
        self.emit(line)


def display_emitter() -> Callable[[str], None]:
    """Print on the controller (worker processes forward this to the main process)."""
    from ansible.utils.display import Display

    display = Display()
    return display.display


def last_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " / ".join(lines[-count:])


def failure_detail(result: Any) -> str:
    """The useful part of a failed docker pull/push: its error lines, not its progress lines."""
    detail = last_lines(result.stderr) or last_lines(
        "\n".join(line for line in result.stdout.splitlines() if not _LAYER_LINE.match(line.strip())))
    return detail or "exit code %d" % result.rc


def downloaded(result: Any) -> bool:
    """Whether a finished ``docker pull`` said it downloaded a newer image (not "up to date")."""
    return result.ok and "Status: Downloaded newer image" in result.stdout


def digest_from_output(text: str) -> str | None:
    """The digest docker printed (``Digest: sha256:...`` / ``<tag>: digest: sha256:...``)."""
    match = re.search(r"[Dd]igest: (sha256:[0-9a-f]{64})", text)
    return match.group(1) if match else None


def pick_digest(image: Mapping[str, Any] | None, reference: ImageReference, output: Any) -> str | None:
    """The image's digest in the reference's repository (the one just pulled when docker said)."""
    if image is None:
        return None
    digests = repo_digests(image, reference)
    printed = digest_from_output(output.stdout) if output is not None else None
    for wanted in (printed, reference.digest):
        if wanted and wanted in digests:
            return wanted
    return digests[0] if digests else None
