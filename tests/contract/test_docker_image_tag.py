# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.docker_image_tag over winrm, psrp and ssh."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from contract_harness import INVENTORY_HOSTNAME, TRANSPORTS, ContractHost, PlayRun, recorded_image

MODULE = "wincontainers.images.docker_image_tag"
SERVERCORE = "mcr.microsoft.com/windows/servercore:ltsc2022"
NANOSERVER = "mcr.microsoft.com/windows/nanoserver:ltsc2022"
SERVERCORE_ID = recorded_image("servercore_ltsc2022.json")["Id"]
NANOSERVER_ID = recorded_image("nanoserver_ltsc2022.json")["Id"]
WEBAPP_ID = recorded_image("webapp_1.4.2.json")["Id"]
MIRROR = "registry.contoso.test/base/servercore"
TARGET = MIRROR + ":ltsc2022"
WEBAPP_LATEST = "registry.contoso.test/apps/webapp:latest"
TAG_FIRST = {"name": SERVERCORE, "repository": [MIRROR], "tag": "ltsc2022"}


@pytest.fixture(scope="module", params=TRANSPORTS)
def tag_play(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[tuple[ContractHost, PlayRun]]:
    """One play per transport; powershell.exe also writes its first-use CLIXML on stderr."""
    host = new_windows_host(request.param, powershell_stderr="first_use_progress")
    run = host.run([
        {"name": "check mode", MODULE: TAG_FIRST, "check_mode": True, "diff": True},
        {"name": "first run", MODULE: TAG_FIRST, "diff": True},
        {"name": "second run", MODULE: TAG_FIRST, "diff": True},
        {"name": "missing source", MODULE: {"name": "mcr.microsoft.com/windows/servercore:ltsc2025",
                                            "repository": [MIRROR]}, "ignore_errors": True},
        {"name": "bad reference", MODULE: {"name": SERVERCORE, "repository": ["registry.contoso.test/Bad Name"]},
         "ignore_errors": True},
        {"name": "keep", MODULE: {"name": NANOSERVER, "repository": ["registry.contoso.test/apps/webapp"],
                                  "existing_images": "keep"}},
        {"name": "overwrite", MODULE: {"name": NANOSERVER, "repository": ["registry.contoso.test/apps/webapp"],
                                       "existing_images": "overwrite"}, "diff": True},
    ])
    yield host, run
    host.close()


def target_diff(target: str, before: str | None, after: str | None) -> dict:
    """community.docker's diff of one target: name, tag, exists, and the image ID when it exists."""
    name, tag = target.rsplit(":", 1)

    def state(image_id):
        return dict({"name": name, "tag": tag, "exists": image_id is not None}, **({"id": image_id} if image_id else {}))
    return {"before": {"images": [state(before)]}, "after": {"images": [state(after)]}}


def test_check_mode_reports_the_change_and_changes_nothing(tag_play: tuple[ContractHost, PlayRun]) -> None:
    _host, run = tag_play
    checked = run.named("check mode")
    assert checked.status == "ok" and checked.changed, checked.msg
    assert checked.result["tagged_images"] == [TARGET]
    assert checked.execs == 1 and not checked.exchanges[0].state_changed
    assert checked.exchanges[0].argvs == [["image", "inspect", "--", SERVERCORE, TARGET]]
    assert checked.result["diff"] == target_diff(TARGET, None, SERVERCORE_ID)
    assert checked.result["actions"] == ["Tagged image %s as %s" % (SERVERCORE_ID, TARGET)]


def test_first_run_tags_with_two_execs(tag_play: tuple[ContractHost, PlayRun]) -> None:
    host, run = tag_play
    first = run.named("first run")
    assert first.status == "ok" and first.changed, first.msg
    assert first.execs == 2
    read, write = first.exchanges
    assert not read.state_changed and write.state_changed
    assert write.argvs == [["image", "tag", "--", SERVERCORE_ID, TARGET]]
    assert first.result["tagged_images"] == [TARGET]
    assert first.result["image"]["Id"] == SERVERCORE_ID
    assert first.result["diff"] == target_diff(TARGET, None, SERVERCORE_ID)
    assert TARGET in host.image(SERVERCORE)["RepoTags"]


def test_second_run_is_a_no_op_with_one_exec(tag_play: tuple[ContractHost, PlayRun]) -> None:
    _host, run = tag_play
    second = run.named("second run")
    assert second.status == "ok" and not second.changed, second.msg
    assert second.execs == 1 and not second.exchanges[0].state_changed
    assert second.result["tagged_images"] == []
    assert second.result["diff"] == target_diff(TARGET, SERVERCORE_ID, SERVERCORE_ID)


def test_missing_source_fails_naming_it(tag_play: tuple[ContractHost, PlayRun]) -> None:
    _host, run = tag_play
    missing = run.named("missing source")
    assert missing.failed and missing.execs == 1
    assert "mcr.microsoft.com/windows/servercore:ltsc2025" in missing.msg
    assert INVENTORY_HOSTNAME in missing.msg


def test_bad_reference_fails_without_any_exec(tag_play: tuple[ContractHost, PlayRun]) -> None:
    _host, run = tag_play
    bad = run.named("bad reference")
    assert bad.failed and bad.execs == 0
    assert bad.msg.startswith("repository:") and "Bad Name" in bad.msg, bad.msg


def test_existing_images_keep(tag_play: tuple[ContractHost, PlayRun]) -> None:
    _host, run = tag_play
    kept = run.named("keep")
    assert kept.status == "ok" and not kept.changed, kept.msg
    assert kept.execs == 1
    assert kept.result["kept_images"] == [WEBAPP_LATEST] and kept.result["tagged_images"] == []


def test_existing_images_overwrite_moves_the_tag(tag_play: tuple[ContractHost, PlayRun]) -> None:
    host, run = tag_play
    moved = run.named("overwrite")
    assert moved.status == "ok" and moved.changed, moved.msg
    assert moved.execs == 2
    assert moved.exchanges[1].argvs == [["image", "tag", "--", NANOSERVER_ID, WEBAPP_LATEST]]
    assert moved.result["diff"] == target_diff(WEBAPP_LATEST, WEBAPP_ID, NANOSERVER_ID)
    assert WEBAPP_LATEST in host.image(NANOSERVER)["RepoTags"]
    assert host.image("registry.contoso.test/apps/webapp:1.4.2")["RepoTags"] == ["registry.contoso.test/apps/webapp:1.4.2"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_check_mode_run_leaves_the_state_file_unchanged(make_windows_host: Callable[..., ContractHost], transport: str) -> None:
    host = make_windows_host(transport)
    before = host.state_bytes()
    run = host.run([{"name": "tag", MODULE: TAG_FIRST}], check=True, diff=True)
    assert run.task.status == "ok" and run.task.changed, run.output
    assert run.task.execs == 1
    assert host.state_bytes() == before
