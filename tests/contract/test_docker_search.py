# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.docker_search over winrm, psrp and ssh, from recorded
``docker search --format '{{json .}}'`` output (Docker Hub is not reachable from the tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from contract_harness import TRANSPORTS, ContractHost, PlayRun

MODULE = "wincontainers.images.docker_search"


@pytest.fixture(scope="module", params=TRANSPORTS)
def search_play(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[PlayRun]:
    host = new_windows_host(request.param, "registry")
    run = host.run([
        {"name": "windows", MODULE: {"term": "windows"}},
        {"name": "official busybox", MODULE: {"term": "busybox", "limit": 5,
                                              "filters": {"is-official": True, "stars": 100}}},
        {"name": "offline", MODULE: {"term": "offline"}, "ignore_errors": True},
        {"name": "bad limit", MODULE: {"term": "windows", "limit": 0}, "ignore_errors": True},
    ], check=True)
    yield run
    host.close()


def test_results_are_typed_data(search_play: PlayRun) -> None:
    found = search_play.named("windows")
    assert found.status == "ok" and not found.changed and found.execs == 1
    assert found.result["results"] == [
        {"name": "microsoft/windows-servercore", "stars": 783, "official": False,
         "description": "The official Windows base images, now on the Microsoft Container Registry"},
        {"name": "microsoft/nanoserver", "stars": 611, "official": False,
         "description": "Official images of Microsoft Windows Nano Server"},
        {"name": "contoso/iis-servercore", "stars": 3, "official": False,
         "description": "Windows Server Core based image with IIS \u00e9t\u00e9 <preview>"},
    ]


def test_filters_and_the_old_output_format(search_play: PlayRun) -> None:
    found = search_play.named("official busybox")
    assert found.status == "ok" and found.execs == 1
    assert found.exchanges[0].argvs == [["search", "--format", "{{json .}}", "--no-trunc", "--limit", "5", "--filter",
                                         "is-official=true", "--filter", "stars=100", "--", "busybox"]]
    assert found.result["results"] == [{"name": "busybox", "description": "Busybox base image.", "stars": 3331,
                                        "official": True}]


def test_no_docker_hub_is_a_clear_failure(search_play: PlayRun) -> None:
    offline = search_play.named("offline")
    assert offline.failed and not offline.changed and offline.execs == 1
    assert "asks Docker Hub" in offline.msg and "no such host" in offline.msg


def test_bad_input_runs_nothing(search_play: PlayRun) -> None:
    bad = search_play.named("bad limit")
    assert bad.failed and bad.execs == 0 and bad.msg.startswith("limit: 0 ")
