# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark-only callback of ``benchmarks/fleet.py``: task starts and results as JSON lines.

Writes to the file named by ``WC_FLEET_TASKS``:

- ``{"event": "task_start", "index": I, "task": NAME, "action": ACTION, "time": T}`` when a task
  starts (``T`` is ``time.monotonic()``, the system-wide monotonic clock the fake hosts also
  stamp their execs with, so the benchmark can tell which task each exec belongs to);
- ``{"event": "result", "index": I, "host": HOST, "status": S, "changed": C, "items": N}`` per
  host result (``items``: the number of loop items, or null for a task without a loop);
- ``{"event": "stats", "main_cpu": S}`` at the end: the CPU seconds (user + system) of the
  ansible-playbook process itself, without its workers.

Kept small: it runs in the controller whose CPU time the benchmark measures. Not part of the
collection.
"""

from __future__ import annotations

import json
import os
import resource
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: wc_fleet_tasks
type: aggregate
short_description: task starts and results as JSON lines (wincontainers.images fleet benchmark only)
description:
  - Appends one JSON line per task start and per host result to the file named by E(WC_FLEET_TASKS).
requirements:
  - enabled through C(callbacks_enabled)
"""


def _get(result, public, private):
    try:
        return getattr(result, public)
    except AttributeError:
        return getattr(result, private)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "wc_fleet_tasks"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        path = os.environ.get("WC_FLEET_TASKS")
        self._stream = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115 - open for the run
        self._index = -1
        self._indexes = {}

    def _write(self, record):
        if self._stream is not None:
            self._stream.write(json.dumps(record) + "\n")
            self._stream.flush()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._index += 1
        self._indexes[task._uuid] = self._index
        self._write({"event": "task_start", "index": self._index, "task": task.get_name(),
                     "action": task.action, "time": time.monotonic()})

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def _record(self, result, status):
        task = _get(result, "task", "_task")
        values = _get(result, "result", "_result")
        items = values.get("results")
        self._write({"event": "result", "index": self._indexes.get(task._uuid), "host": _get(result, "host", "_host").get_name(),
                     "status": status, "changed": bool(values.get("changed")),
                     "items": len(items) if isinstance(items, list) else None})

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result, **kwargs):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self._write({"event": "stats", "main_cpu": usage.ru_utime + usage.ru_stime})
        if self._stream is not None:
            self._stream.close()
            self._stream = None
