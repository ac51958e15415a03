# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark-only callback: how long each task took, from its start to its result.

Writes ``{"task": NAME, "seconds": S}`` lines to the file named by ``WC_TASK_TIMES``. A looped
task counts once, from its start to its final result (all items). Not part of the collection.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: wc_task_timer
type: aggregate
short_description: per-task wall-clock time (wincontainers.images benchmarks only)
description:
  - Appends one JSON line per task result to the file named by E(WC_TASK_TIMES).
requirements:
  - enabled through C(callbacks_enabled)
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "wc_task_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._started = {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started[task._uuid] = time.perf_counter()

    def _record(self, result):
        task = result._task
        started = self._started.get(task._uuid)
        path = os.environ.get("WC_TASK_TIMES")
        if started is None or not path:
            return
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"task": task.get_name(), "seconds": time.perf_counter() - started}) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result)
