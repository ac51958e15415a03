# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback of the transport contract tests (tests/contract), not part of the collection.

Writes one JSON line per task result to the file named by ``WC_CONTRACT_RESULTS``, and a
``task_start`` marker line into the fake host's exchange log named by ``WC_CONTRACT_EXCHANGES``
when a task starts, so the harness can tell which execs belong to which task (the harness runs
with one fork and one host, so the execs of a task come between its marker and the next).
"""

from __future__ import annotations

import fcntl
import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: wc_contract_results
type: aggregate
short_description: task results and task markers as JSON lines (wincontainers.images contract tests only)
description:
  - Appends one JSON object per task result to the file named by C(WC_CONTRACT_RESULTS) and a
    task marker to the file named by C(WC_CONTRACT_EXCHANGES).
requirements:
  - enabled through C(callbacks_enabled)
"""


def _get(result, public, private):
    try:
        return getattr(result, public)
    except AttributeError:
        return getattr(result, private)


def _default(value):
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _append(path, record):
    if not path:
        return
    line = json.dumps(record, default=_default, sort_keys=True) + "\n"
    with open(path, "a", encoding="utf-8") as stream:
        fcntl.flock(stream, fcntl.LOCK_EX)
        stream.write(line)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "wc_contract_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._results = os.environ.get("WC_CONTRACT_RESULTS")
        self._exchanges = os.environ.get("WC_CONTRACT_EXCHANGES")
        self._index = -1

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._index += 1
        _append(self._exchanges, {"event": "task_start", "index": self._index, "task": task.get_name()})

    def _record(self, result, status):
        task = _get(result, "task", "_task")
        host = _get(result, "host", "_host")
        _append(self._results, {
            "index": self._index,
            "status": status,
            "task": task.get_name(),
            "action": task.action,
            "host": host.get_name(),
            "result": dict(_get(result, "result", "_result")),
        })

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result, **kwargs):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._record(result, "unreachable")
