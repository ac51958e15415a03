# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fake Windows host against the public captures it claims to model.

Each entry of ``recorded/windows_outputs.yml`` quotes what a real host printed and names the
emulation that produces it; the fake's output must equal the capture once the parts that vary
between hosts (``varies``) are replaced by placeholders in both. A changed emulation that no
longer matches its capture fails here, whatever the contract tests built on it still accept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

import fake_windows_host as fwh

RECORDED = fwh.load_recorded("windows_outputs.yml")

# What may differ between a capture and the fake's answer, and how to find it.
VARYING = {
    # the request in a connection error: "Get "http://.../v1.47/images/x/json""
    "request_url": (re.compile(r'"http://%2F%2F\.%2Fpipe%2F[^"/]+/[^"]*"'), '"<request url>"'),
    "pipe_name": (re.compile(r"(%2Fpipe%2F|//\./pipe/)[A-Za-z_]+"), r"\1<pipe>"),
    "flag_name": (re.compile(r"unknown flag: --[a-z-]+"), "unknown flag: --<flag>"),
    "command_path": (re.compile(r"See 'docker[a-z ]*--help'"), "See 'docker <command> --help'"),
}
REQUEST_URL = re.compile(r'"(http://[^"]*)"')


def normalised(text: str, varies: Sequence[str]) -> str:
    for name in varies:
        pattern, placeholder = VARYING[name]
        text = pattern.sub(placeholder, text)
    return text


def fake_docker_answer(emulation: Mapping[str, Any]) -> fwh.Process:
    scenario = fwh.resolve_scenario(emulation["scenario"])
    docker = fwh.FakeDocker(scenario, {"images": scenario["images"]})
    return docker.run(list(emulation["argv"]), None, None)


def test_every_entry_names_its_source_and_emulation() -> None:
    ids = [entry["id"] for entry in RECORDED]
    assert len(ids) == len(set(ids))
    for entry in RECORDED:
        assert entry["source"].startswith("https://"), entry["id"]
        assert entry["recorded"] and entry["emulation"], entry["id"]
        assert set(entry["varies"]) <= set(VARYING), entry["id"]


@pytest.mark.parametrize("entry", [e for e in RECORDED if "argv" in e["emulation"]], ids=lambda e: e["id"])
def test_fake_docker_prints_what_a_real_host_printed(entry: Mapping[str, Any]) -> None:
    answer = fake_docker_answer(entry["emulation"])
    recorded, varies = entry["recorded"], entry["varies"]
    if "rc" in entry:
        assert answer.rc == entry["rc"]
    if "stdout" in recorded:
        assert answer.stdout == recorded["stdout"]
    if entry.get("compare") == "request_url_only":
        [want] = REQUEST_URL.findall(recorded["stderr"])
        [got] = REQUEST_URL.findall(answer.stderr)
        assert normalised(got, varies) == normalised(want, varies)
    elif "stderr" in recorded:
        assert normalised(answer.stderr.rstrip("\n"), varies) == normalised(recorded["stderr"].rstrip("\n"), varies)
    if "stderr_head" in recorded:
        head = "\n".join(answer.stderr.splitlines()[: recorded["stderr_head"].count("\n") + 1])
        assert normalised(head, varies) == normalised(recorded["stderr_head"], varies)


def test_first_use_progress_is_the_recorded_clixml() -> None:
    [entry] = [e for e in RECORDED if e["id"] == "first_use_progress"]
    header, separator, body = getattr(fwh, entry["emulation"]["constant"]).partition("\r\n")
    assert header == "#< CLIXML" and separator
    assert body == entry["recorded"]["clixml"]


def test_a_changed_emulation_no_longer_matches() -> None:
    """The comparison itself can fail: an older wording of the engine error does not pass."""
    [entry] = [e for e in RECORDED if e["id"] == "engine_down_docker24_27"]
    old_wording = ('error during connect: Get "http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.24/images/json": open '
                   "//./pipe/docker_engine: The system cannot find the file specified. In the default daemon "
                   "configuration on Windows, the docker client must be run elevated to connect.")
    assert normalised(old_wording, entry["varies"]) != normalised(entry["recorded"]["stderr"], entry["varies"])
