# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The harness itself: its parser and encoders, and that it fails loudly on what a host rejects."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fake_windows_host as fwh
from contract_harness import TRANSPORTS, ContractHost, FakeHostFailure, load_scenario
from fake_windows_host import FakeWindowsHost, known_scripts, powershell_json, split_windows_command_line


def encode(script: str) -> str:
    return fwh.POWERSHELL_PREFIX + base64.b64encode(script.encode("utf-16-le")).decode("ascii")


# -- the command-line parser ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("command_line", "argv"),
    [
        # Microsoft's "Parsing C++ command-line arguments" table, program name prepended.
        ('p "a b c" d e', ["p", "a b c", "d", "e"]),
        ('p "ab\\"c" "\\\\" d', ["p", 'ab"c', "\\", "d"]),
        ('p a\\\\\\b d"e f"g h', ["p", "a\\\\\\b", "de fg", "h"]),
        ('p a\\\\\\"b c d', ["p", 'a\\"b', "c", "d"]),
        ('p a\\\\\\\\"b c" d e', ["p", "a\\\\b c", "d", "e"]),
        # "" inside quotes: a literal quote that closes the quoted part (Go, CommandLineToArgvW).
        ('p a"b"" c d', ["p", 'ab"', "c", "d"]),
        ('"C:\\Program Files\\Docker\\docker.exe" image inspect ""', ["C:\\Program Files\\Docker\\docker.exe", "image", "inspect", ""]),
        ("p \t a  \t", ["p", "a"]),
    ],
)
def test_split_windows_command_line(command_line: str, argv: list[str]) -> None:
    assert split_windows_command_line(command_line) == argv


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))), max_size=6))
def test_parser_inverts_the_collections_quoting(collections_root: Path, arguments: list[str]) -> None:
    from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import join_arguments

    full = fwh.dotnet_command_line(fwh.DOCKER_PATH, join_arguments(arguments))
    assert split_windows_command_line(full)[1:] == arguments


def test_powershell_json_escapes_like_windows_powershell() -> None:
    text = powershell_json({"s": "<a & 'b'> \u00e9 \U0001f600"})
    assert text == '{"s":"\\u003ca \\u0026 \\u0027b\\u0027\\u003e \\u00e9 \\ud83d\\ude00"}'
    assert json.loads(text) == {"s": "<a & 'b'> \u00e9 \U0001f600"}
    assert text.isascii()


def test_split_lines_into_arguments_emulation() -> None:
    ids = "sha256:aa\nsha256:AA\r\nsha256:bb\n\nsha256:aa\n"
    assert fwh.split_lines_into_arguments(ids, 100) == ["sha256:aa sha256:bb"]
    assert fwh.split_lines_into_arguments(ids, 12) == ["sha256:aa", "sha256:bb"]
    for bad in ("not a token", "--format={{.Id}}"):
        with pytest.raises(fwh._ScriptException, match="refusing to pass"):
            fwh.split_lines_into_arguments(bad + "\n", 100)


# -- the fake host refuses what a Windows host would, in process ------------------------------

@pytest.fixture
def host(tmp_path: Path, collections_root: Path) -> FakeWindowsHost:
    del collections_root  # makes the collection's scripts importable
    fwh.prepare_host_directory(tmp_path, load_scenario("ltsc2022"))
    return FakeWindowsHost(tmp_path)


def request_lines(scripts: dict[str, str], *argvs: list[str]) -> bytes:
    from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import join_arguments

    request = {"parallel": 1, "calls": [{"exe": "docker", "cmdline": join_arguments(a)} for a in argvs]}
    lines = [json.dumps(request)]
    if "BOOTSTRAP" in scripts:
        lines.insert(0, fwh.bootstrap_payload(scripts["run"]))
    return ("\n".join(lines) + "\n").encode("ascii")


def entry_script(scripts: dict[str, str]) -> str:
    return scripts.get("BOOTSTRAP", scripts["run"])


def errors(host: FakeWindowsHost) -> list[str]:
    if not host.errors_path.exists():
        return []
    return [json.loads(line)["message"] for line in host.errors_path.read_text().splitlines()]


def test_answers_a_good_exchange(host: FakeWindowsHost) -> None:
    scripts = known_scripts()
    answer = host.exchange("winrm", command=encode(entry_script(scripts)),
                           stdin=request_lines(scripts, ["image", "inspect", "mcr.microsoft.com/windows/nanoserver:ltsc2022"]))
    assert errors(host) == []
    (line,) = answer.output
    assert json.loads(line)["results"][0]["rc"] == 0


@pytest.mark.parametrize("tamper", ["script", "inner script", "long", "metacharacters", "argv", "fingerprint", "non-ascii"])
def test_refuses_and_records(host: FakeWindowsHost, tamper: str, monkeypatch: pytest.MonkeyPatch) -> None:
    scripts = known_scripts()
    command = encode(entry_script(scripts))
    stdin = request_lines(scripts, ["image", "inspect", "x"])
    expected = {
        "script": "not exactly one of the collection's constant scripts",
        "inner script": "not exactly one of the collection's constant scripts",
        "long": "cmd.exe refuses",
        "metacharacters": "characters that cmd.exe interprets",
        "argv": "no recorded answer for docker",
        "fingerprint": "is not the text the fake host emulates",
        "non-ascii": "non-ASCII",
    }[tamper]
    if tamper == "script":
        command = encode(entry_script(scripts) + " ")
    elif tamper == "inner script":
        if "BOOTSTRAP" not in scripts:
            pytest.skip("the scripts are not sent on stdin")
        lines = stdin.decode().splitlines()
        lines[0] = fwh.bootstrap_payload(scripts["run"].replace("'Stop'", "'Continue'"))
        stdin = ("\n".join(lines) + "\n").encode()
    elif tamper == "long":
        command = command + " " + "A" * 8191
    elif tamper == "metacharacters":
        command = command + " & whoami"
    elif tamper == "argv":
        stdin = request_lines(scripts, ["image", "frobnicate"])
    elif tamper == "fingerprint":
        monkeypatch.setitem(fwh.EMULATED_SCRIPTS, "run", "0" * 64)
    elif tamper == "non-ascii":
        stdin = stdin.replace(b"inspect x", "inspect \u00e9".encode("utf-8"))
        assert not stdin.isascii()
    answer = host.exchange("winrm", command=command, stdin=stdin)
    assert answer.rc == 1 and answer.output == [] and "FAKE WINDOWS HOST" in answer.stderr
    assert len(errors(host)) == 1 and expected in errors(host)[0], errors(host)


@pytest.mark.parametrize("first_line, method", [
    ("not base64!", "FromBase64String"),
    (base64.b64encode(b"\xff\xfe not a deflate stream").decode("ascii"), "ReadToEnd"),
])
def test_a_bad_first_line_gets_the_bootstraps_json_error(host: FakeWindowsHost, first_line: str, method: str) -> None:
    # Not a harness error: the real bootstrap answers it (bootstrap.ps1's catch), in the JSON form
    # the dialect reads, and exits 1.
    scripts = known_scripts()
    lines = request_lines(scripts, ["image", "inspect", "x"]).decode("ascii").splitlines()
    lines[0] = first_line
    answer = host.exchange("winrm", command=encode(scripts["BOOTSTRAP"]), stdin=("\n".join(lines) + "\n").encode("ascii"))
    assert errors(host) == []
    assert answer.rc == 1 and len(answer.output) == 1, answer
    error = json.loads(answer.output[0])
    assert set(error) == {"error"} and error["error"]["kind"] == "exception"
    assert error["error"]["message"].startswith("bootstrap: Exception calling ?%s? with " % method), error


# -- through the real connection plugins --------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_harness_errors_fail_the_run(make_windows_host: Callable[..., ContractHost], transport: str) -> None:
    host = make_windows_host(transport)
    foreign = encode("Write-Output '{\"results\":[],\"error\":null}'")
    with pytest.raises(FakeHostFailure) as caught:
        host.run([
            {"name": "unknown argv", "wc_contract_probe": {"calls": [{"argv": ["image", "frobnicate"]}]},
             "ignore_errors": True},
            {"name": "foreign script", "wc_contract_probe": {"raw_command": foreign, "raw_stdin": "{}\n"},
             "ignore_errors": True},
        ])
    run = caught.value.run
    messages = [e["message"] for e in caught.value.errors]
    assert len(messages) == 2, messages
    assert "no recorded answer for docker" in messages[0]
    assert "not exactly one of the collection's constant scripts" in messages[1]
    assert run.tasks[0].failed and "FAKE WINDOWS HOST" in run.tasks[0].msg
    # The foreign script "succeeds" as far as ansible knows; only the harness stops it.
    assert "FAKE WINDOWS HOST" in (run.tasks[1].result.get("stderr", "") + run.tasks[1].result.get("stdout", ""))
