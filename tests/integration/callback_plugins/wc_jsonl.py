# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: one JSON line per task result, for tests/integration.

Not part of the collection. The integration harness (``wc_harness.run_playbook``) enables it
with ANSIBLE_CALLBACK_PLUGINS / ANSIBLE_CALLBACKS_ENABLED=wc_jsonl and names the output file in
``WC_RESULTS_FILE``. Each line is a JSON object:

* task results: ``{"event": "task", "status": "ok"|"failed"|"skipped"|"unreachable",
  "task", "action", "host", "changed", "failed", "skipped", "unreachable", "ignore_errors",
  "msg", "diff", "result"}``; ``result`` is the whole result dictionary as callbacks see it
  (already censored by Ansible for ``no_log`` tasks).
* the recap, last: ``{"event": "stats", "hosts": {HOST: {"ok", "changed", "failures",
  "unreachable", "skipped", "rescued", "ignored"}}}``.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: wc_jsonl
type: aggregate
short_description: write each task result as a JSON line (wincontainers.images tests only)
description:
  - Appends one JSON object per task result, then one with the play recap, to the file named
    by the environment variable C(WC_RESULTS_FILE).
requirements:
  - enabled through C(callbacks_enabled)
"""


def _get(result, public, private):
    """Read an attribute of a callback result on old (``_task``) and new (``task``) cores."""
    try:
        return getattr(result, public)
    except AttributeError:
        return getattr(result, private)


def _default(value):
    """JSON fallback for values that are not plain JSON types."""
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


class CallbackModule(CallbackBase):
    """Write task results and the recap as JSON lines."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "wc_jsonl"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("WC_RESULTS_FILE")

    def _write(self, record):
        if not self._path:
            return
        line = json.dumps(record, default=_default, sort_keys=True)
        with open(self._path, "a", encoding="utf-8") as stream:
            stream.write(line + "\n")

    def _task_record(self, result, status, ignore_errors=False):
        task = _get(result, "task", "_task")
        host = _get(result, "host", "_host")
        data = dict(_get(result, "result", "_result"))
        return {
            "event": "task",
            "status": status,
            "task": task.get_name(),
            "action": task.action,
            "host": host.get_name(),
            "changed": bool(data.get("changed", False)),
            "failed": status == "failed",
            "skipped": status == "skipped",
            "unreachable": status == "unreachable",
            "ignore_errors": bool(ignore_errors),
            "msg": data.get("msg"),
            "diff": data.get("diff"),
            "result": data,
        }

    def v2_runner_on_ok(self, result):
        self._write(self._task_record(result, "ok"))

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(self._task_record(result, "failed", ignore_errors))

    def v2_runner_on_skipped(self, result):
        self._write(self._task_record(result, "skipped"))

    def v2_runner_on_unreachable(self, result):
        self._write(self._task_record(result, "unreachable"))

    def v2_playbook_on_stats(self, stats):
        hosts = {name: stats.summarize(name) for name in sorted(stats.processed)}
        self._write({"event": "stats", "hosts": hosts})
