# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.docker_image_remove over winrm, psrp and ssh."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from contract_harness import TRANSPORTS, ContractHost, PlayRun, recorded_image
from fake_windows_host import load_recorded

MODULE = "wincontainers.images.docker_image_remove"
IIS = load_recorded("lifecycle/container_iis_build.json")[0]
WEB = load_recorded("lifecycle/container_web_live.json")[0]
WEBAPP_ID = recorded_image("webapp_1.4.2.json")["Id"]
NANOSERVER_ID = recorded_image("nanoserver_ltsc2022.json")["Id"]
PREVIOUS_ID = recorded_image("servercore_ltsc2022_previous.json")["Id"]
SCENARIO = {"lifecycle": {"containers": ["lifecycle/container_iis_build.json", "lifecycle/container_web_live.json"]}}
PS_FORMAT = '{"ID":{{json .ID}},"Names":{{json .Names}},"Image":{{json .Image}},"Status":{{json .Status}}}'


@pytest.fixture(scope="module", params=TRANSPORTS)
def remove_play(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[tuple[ContractHost, PlayRun]]:
    host = new_windows_host(request.param, **SCENARIO)
    run = host.run([
        {"name": "one tag", MODULE: {"name": "registry.contoso.test/apps/webapp"}, "diff": True},
        {"name": "one tag again", MODULE: {"name": "registry.contoso.test/apps/webapp", "tag": "latest"}},
        {"name": "used by a stopped container", MODULE: {"name": "mcr.microsoft.com/windows/servercore:ltsc2022"},
         "ignore_errors": True},
        {"name": "by ID while running", MODULE: {"name": WEBAPP_ID[7:19], "force": True}, "ignore_errors": True},
        {"name": "no prune", MODULE: {"name": "mcr.microsoft.com/windows/nanoserver", "tag": "ltsc2022", "prune": False},
         "diff": True},
        {"name": "untagged by ID", MODULE: {"name": PREVIOUS_ID}},
        {"name": "bad name", MODULE: {"name": "mcr.microsoft.com/windows/ServerCore"}, "ignore_errors": True},
    ])
    yield host, run
    host.close()


def test_one_tag_of_two_is_untagged_only(remove_play) -> None:
    host, run = remove_play
    first = run.named("one tag")
    assert first.status == "ok" and first.changed, first.msg
    assert first.execs == 2
    assert first.exchanges[0].argvs == [
        ["image", "inspect", "--", "registry.contoso.test/apps/webapp:latest"],
        ["container", "ls", "--all", "--no-trunc", "--filter", "ancestor=registry.contoso.test/apps/webapp:latest",
         "--format", PS_FORMAT],
    ]
    assert first.exchanges[1].argvs == [["image", "rm", "--", "registry.contoso.test/apps/webapp:latest"],
                                        ["image", "inspect", "--", WEBAPP_ID]]
    assert first.result["untagged"] == ["registry.contoso.test/apps/webapp:latest"] and first.result["deleted"] == []
    digests = sorted(first.result["image"].get("RepoDigests") or [])
    assert first.result["diff"] == {
        "before": {"exists": True, "id": WEBAPP_ID, "tags": ["registry.contoso.test/apps/webapp:1.4.2",
                                                             "registry.contoso.test/apps/webapp:latest"],
                   "digests": digests},
        "after": {"exists": True, "id": WEBAPP_ID, "tags": ["registry.contoso.test/apps/webapp:1.4.2"],
                  "digests": sorted(host.image("registry.contoso.test/apps/webapp:1.4.2").get("RepoDigests") or [])},
    }
    assert first.result["actions"] == ["Removed image registry.contoso.test/apps/webapp:latest"]
    assert host.image("registry.contoso.test/apps/webapp:1.4.2")["RepoTags"] == ["registry.contoso.test/apps/webapp:1.4.2"]
    again = run.named("one tag again")
    assert again.status == "ok" and not again.changed and again.execs == 1, again.msg


def test_containers_that_depend_on_the_image_are_listed(remove_play) -> None:
    host, run = remove_play
    refused = run.named("used by a stopped container")
    assert refused.failed and refused.execs == 1
    assert "used by 1 container(s), running or stopped: iis-build (ID %s, Exited (1067) 5 minutes ago)" % IIS["Id"][:12] \
        in refused.msg, refused.msg
    assert refused.result["containers"][0]["ID"] == IIS["Id"]
    assert host.image("mcr.microsoft.com/windows/servercore:ltsc2022") is not None
    running = run.named("by ID while running")
    assert running.failed and running.execs == 1
    assert "web-live (ID %s, Up 2 hours)" % WEB["Id"][:12] in running.msg
    assert "refuses to remove it by ID even with force" in running.msg


def test_no_prune_and_the_diff_of_a_deleted_image(remove_play) -> None:
    host, run = remove_play
    removed = run.named("no prune")
    assert removed.status == "ok" and removed.changed and removed.execs == 2, removed.msg
    assert removed.exchanges[1].argvs[0] == ["image", "rm", "--no-prune", "--", "mcr.microsoft.com/windows/nanoserver:ltsc2022"]
    assert removed.result["deleted"] == [NANOSERVER_ID]
    assert removed.result["diff"]["after"] == {"exists": False}
    assert host.image("mcr.microsoft.com/windows/nanoserver:ltsc2022") is None


def test_an_untagged_image_by_id(remove_play) -> None:
    host, run = remove_play
    removed = run.named("untagged by ID")
    assert removed.status == "ok" and removed.changed and removed.execs == 2, removed.msg
    assert removed.exchanges[1].argvs[0] == ["image", "rm", "--", PREVIOUS_ID]
    assert removed.result["deleted"] == [PREVIOUS_ID]
    assert all(image["Id"] != PREVIOUS_ID for image in host.state["images"])


def test_bad_name_never_reaches_the_host(remove_play) -> None:
    run = remove_play[1]
    bad = run.named("bad name")
    assert bad.failed and bad.execs == 0
    assert bad.msg.startswith("name: 'mcr.microsoft.com/windows/ServerCore' is not a valid"), bad.msg
