# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argument vectors no module accepts reach docker.exe unchanged over every transport.

The test-only ``wc_contract_probe`` action sends them through the collection's real host layer
(Windows dialect quoting, constant scripts, one exec); the fake host rebuilds each process's
command line as .NET does and splits it with the rules docker.exe (Go) uses. A recorded answer
exists only for the exact expected argv, so any change in transit is a harness error.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from contract_harness import TRANSPORTS, ContractHost, assert_secret_only_on_stdin

NASTY = [
    "plain",
    "with space",
    "",
    'quote"inside',
    '"wrapped in quotes"',
    "back\\slash",
    "trailing backslash\\",
    "C:\\Program Files\\Docker\\",
    '\\\\server\\share\\"quoted"\\',
    "\\\\\\\"",
    "tab\there",
    "new\nline and\r\ncrlf",
    "{{json .}}",
    'CMD ["app.exe", "--flag"]',
    "[brackets] (parens) {braces} <angle> |pipe| & ^caret %PATH% !bang!",
    "$env:USERPROFILE `backtick` @splat $(Get-Date) ; exit 1",
    "\u2018\u2019\u201a\u201b single-quote lookalikes ' ''",
    "\u201c\u201d\u201e double-quote lookalikes",
    "\u00dcn\u00efc\u00f6d\u00e9 \u2713 \U0001f600 \u4e2d\u6587",
    "--format={{.Id}}",
    "-",
    "x" * 2000,
]
SECRET = "s3cr\u00eat-P@ss \"word\" '\u2019"
OUTPUT = "Login Succeeded \u2713 \u00dcn\u00efc\u00f6d\u00e9 \U0001f600 <&>'\n"
LOGIN = ["login", "--username", "svc-ansible", "--password-stdin", "registry.contoso.test"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_arguments_and_stdin_arrive_unchanged(make_windows_host: Callable[..., ContractHost], transport: str) -> None:
    answers = [{"argv": ["probe", str(index), argument], "stdout": "ok %d\n" % index} for index, argument in enumerate(NASTY)]
    answers.append({"argv": LOGIN, "stdin": SECRET, "stdout": OUTPUT})
    host = make_windows_host(transport, answers=answers)
    calls = [{"argv": ["probe", str(index), argument]} for index, argument in enumerate(NASTY)]
    calls.append({"argv": LOGIN, "stdin": SECRET})
    calls_file = host.workdir / "calls.json"
    calls_file.write_text(json.dumps(calls), encoding="utf-8")
    run = host.run([{"name": "probe", "wc_contract_probe": {"calls_file": str(calls_file)}}])

    task = run.task
    assert task.status == "ok", (task.msg, run.output)
    assert task.execs == 1
    (exchange,) = task.exchanges
    assert exchange.argvs == [call["argv"] for call in calls]
    assert [r["stdout"] for r in task.result["results"]] == ["ok %d\n" % i for i in range(len(NASTY))] + [OUTPUT]
    assert exchange.processes[-1]["stdin"] == SECRET
    assert_secret_only_on_stdin(task.exchanges, SECRET)
