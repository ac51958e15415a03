# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only action plugin of the transport contract tests, not part of the collection.

Sends arbitrary program calls through the collection's real host layer (``Host.run``: the
Windows dialect's quoting, the constant scripts, ``_low_level_execute_command``) so that the
harness can push argument vectors no module accepts (quotes, spaces, non-ASCII, ...) through
every real connection plugin and check what the fake host's command-line parser gets.

Arguments: ``calls``, a list of ``{argv: [str...], exe: docker, stdin: str, env: {}}``, or
``calls_file``, a JSON file holding that list (not templated);
``parallel`` (default 1). Returns ``results`` (rc, stdout, stderr, skipped per call) and
``execs``. With ``raw_command`` (and ``raw_stdin``) it sends that command line as it is instead,
through ``_low_level_execute_command``, and returns rc, stdout and stderr.
"""

from __future__ import annotations

import json

from ansible.plugins.action import ActionBase

from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, Host, HostError


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        raw = self._task.args.get("raw_command")
        if raw is not None:
            # Send a command line of the test's choosing (to check that the fake host rejects it).
            stdin = self._task.args.get("raw_stdin")
            output = self._low_level_execute_command(raw, in_data=None if stdin is None else stdin.encode("utf-8"))
            result.update(rc=output["rc"], stdout=output["stdout"], stderr=output["stderr"], changed=False)
            return result
        host = Host(self, task_vars)
        specs = self._task.args.get("calls", [])
        if self._task.args.get("calls_file"):
            # A JSON file keeps values such as "{{json .}}" away from templating.
            with open(self._task.args["calls_file"], encoding="utf-8") as stream:
                specs = json.load(stream)
        calls = [
            Call(
                tuple(str(a) for a in call["argv"]),
                exe=call.get("exe", "docker"),
                stdin=call.get("stdin"),
                environment=call.get("env"),
                append_lines_of=call.get("append_lines_of"),
            )
            for call in specs
        ]
        try:
            answers = host.run(calls, parallel=int(self._task.args.get("parallel", 1)))
        except HostError as exc:
            result.update(failed=True, msg=str(exc), execs=host.execs)
            return result
        result["results"] = [
            {"rc": a.rc, "stdout": a.stdout, "stderr": a.stderr, "skipped": a.skipped} for a in answers
        ]
        result["execs"] = host.execs
        result["changed"] = False
        return result
