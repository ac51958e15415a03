# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.docker_image_export and docker_image_load over
winrm, psrp and ssh: the read exec (files, tar.exe, docker in one exec), the detached job, the
rename of the partial archive, idempotence, and Windows Server 2016 without tar.exe."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from contract_harness import TRANSPORTS, ContractHost, PlayRun, recorded_image
from fake_windows_host import split_windows_command_line

EXPORT = "wincontainers.images.docker_image_export"
LOAD = "wincontainers.images.docker_image_load"
REMOVE = "wincontainers.images.docker_image_remove"
SERVERCORE = "mcr.microsoft.com/windows/servercore:ltsc2022"
NANOSERVER = "mcr.microsoft.com/windows/nanoserver:ltsc2022"
SERVERCORE_ID = recorded_image("servercore_ltsc2022.json")["Id"]
NANOSERVER_ID = recorded_image("nanoserver_ltsc2022.json")["Id"]
ARCHIVE = "C:\\images\\base images \u2018ltsc2022\u2019.tar"
SCENARIO = {"lifecycle": {"directories": ["C:\\images"], "files": {
    "C:\\images\\truncated.tar": {"corrupt": "truncated"},
    "C:\\images\\foreign.tar": {"foreign": True},
}}}
SAVE = {"names": [SERVERCORE, "mcr.microsoft.com/windows/nanoserver"], "tag": "ltsc2022", "path": ARCHIVE}


@pytest.fixture(scope="module", params=TRANSPORTS)
def archive_play(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[tuple[ContractHost, PlayRun]]:
    host = new_windows_host(request.param, **SCENARIO)
    run = host.run([
        {"name": "export check", EXPORT: SAVE, "check_mode": True},
        {"name": "export", EXPORT: SAVE, "diff": True},
        {"name": "export again", EXPORT: SAVE},
        {"name": "remove nanoserver", REMOVE: {"name": NANOSERVER}},
        {"name": "load check", LOAD: {"path": ARCHIVE}, "check_mode": True},
        {"name": "load", LOAD: {"path": ARCHIVE}, "diff": True},
        {"name": "load again", LOAD: {"path": ARCHIVE}},
        {"name": "load truncated", LOAD: {"path": "C:\\images\\truncated.tar"}, "ignore_errors": True},
        {"name": "load foreign", LOAD: {"path": "C:\\images\\foreign.tar"}, "ignore_errors": True},
        {"name": "load missing", LOAD: {"path": "C:\\images\\missing.tar"}, "ignore_errors": True},
        {"name": "export relative", EXPORT: {"names": [SERVERCORE], "path": "images\\a.tar"}, "ignore_errors": True},
        {"name": "export no directory", EXPORT: {"names": [SERVERCORE], "path": "D:\\nowhere\\a.tar"},
         "ignore_errors": True},
    ])
    yield host, run
    host.close()


def operations(task_run) -> list[str]:
    return [exchange.script_name for exchange in task_run.exchanges]


def test_export_check_mode_is_one_read(archive_play) -> None:
    host, run = archive_play
    checked = run.named("export check")
    assert checked.status == "ok" and checked.changed, checked.msg
    assert operations(checked) == ["file_info"] and not checked.exchanges[0].state_changed
    request = checked.exchanges[0].request
    assert request["files"] == [{"path": ARCHIVE, "hash": True}, {"path": "C:\\images", "hash": False}]
    # docker inspect and tar.exe in the same exec; tar only runs when the archive exists
    assert [split_windows_command_line("x " + call["cmdline"])[1:] for call in request["calls"]] == [
        ["image", "inspect", "--", SERVERCORE, NANOSERVER], ["-xOf", ARCHIVE, "manifest.json"]]
    assert request["calls"][1]["exe"] == "tar" and request["calls"][1]["if_exists"] == 0
    assert checked.exchanges[0].argvs == [["image", "inspect", "--", SERVERCORE, NANOSERVER]]


def test_export_writes_a_partial_archive_through_a_job_then_renames_it(archive_play) -> None:
    host, run = archive_play
    first = run.named("export")
    assert first.status == "ok" and first.changed, first.msg
    # The host's first job: job_start finds no runner, stage_script brings it, job_start again.
    assert operations(first) == ["file_info", "job_start", "stage_script", "job_start", "job_status", "job_cleanup",
                                 "file_info"]
    (save,) = first.job_argvs
    assert save[:3] == ["image", "save", "--output"] and save[4:] == ["--", SERVERCORE, NANOSERVER]
    partial = save[3]
    assert re.fullmatch(re.escape(ARCHIVE) + r"\.partial-[0-9a-f]{16}", partial)
    # The runner renamed the partial archive; the last exec reads the archive back.
    assert first.exchanges[1].request["rename"] == {"from": partial, "to": ARCHIVE}
    assert first.exchanges[3].request == first.exchanges[1].request
    final = first.exchanges[-1].request
    assert not final.get("rename") and final["files"] == [{"path": ARCHIVE, "hash": True}]
    assert first.exchanges[-1].argvs == [["-xOf", ARCHIVE, "manifest.json"]]
    assert list(host.state["files"]).count(ARCHIVE) == 1 and partial not in host.state["files"]
    assert first.result["sha256"] and re.fullmatch(r"[0-9a-f]{64}", first.result["sha256"])
    assert first.result["size"] > 0 and first.result["job"]["reattached"] is False
    assert first.result["image_ids"] == [SERVERCORE_ID, NANOSERVER_ID]
    assert first.result["diff"] == {"before": {"path": ARCHIVE, "image_ids": None},
                                    "after": {"path": ARCHIVE, "image_ids": sorted([SERVERCORE_ID, NANOSERVER_ID])}}


def test_export_again_compares_the_manifest_in_one_exec(archive_play) -> None:
    run = archive_play[1]
    again = run.named("export again")
    assert again.status == "ok" and not again.changed, again.msg
    assert operations(again) == ["file_info"]
    assert again.exchanges[0].argvs == [["image", "inspect", "--", SERVERCORE, NANOSERVER],
                                        ["-xOf", ARCHIVE, "manifest.json"]]
    assert again.result["sha256"] == run.named("export").result["sha256"]


def test_load_brings_back_what_is_missing_then_is_two_execs(archive_play) -> None:
    host, run = archive_play
    assert run.named("remove nanoserver").changed
    checked = run.named("load check")
    # the second exec reads the inspect objects of the archive's images (IDs known from the first)
    assert checked.status == "ok" and checked.changed and operations(checked) == ["file_info", "run"], checked.msg
    assert checked.exchanges[1].argvs == [["image", "inspect", "--", SERVERCORE_ID, NANOSERVER_ID]]
    assert [image["Id"] for image in checked.result["images"]] == [SERVERCORE_ID]  # nanoserver: not loaded yet
    assert checked.exchanges[0].argvs == [["-xOf", ARCHIVE, "manifest.json"],
                                          ["image", "ls", "--all", "--no-trunc", "--format",
                                           '{"ID":{{json .ID}},"Repository":{{json .Repository}},"Tag":{{json .Tag}}}']]
    loaded = run.named("load")
    assert loaded.status == "ok" and loaded.changed, loaded.msg
    assert operations(loaded) == ["file_info", "job_start", "job_status", "job_cleanup", "run"]
    assert loaded.job_argvs == [["image", "load", "--input", ARCHIVE]]
    assert loaded.result["loaded"] == [SERVERCORE, NANOSERVER]
    assert loaded.result["archive_images"] == [{"id": SERVERCORE_ID, "tags": [SERVERCORE]},
                                               {"id": NANOSERVER_ID, "tags": [NANOSERVER]}]
    assert [image["Id"] for image in loaded.result["images"]] == [SERVERCORE_ID, NANOSERVER_ID]
    assert loaded.result["diff"]["before"] == {"images": {SERVERCORE_ID: [SERVERCORE], NANOSERVER_ID: None}}
    assert host.image(NANOSERVER)["Id"] == NANOSERVER_ID
    again = run.named("load again")
    assert again.status == "ok" and not again.changed and operations(again) == ["file_info", "run"], again.msg
    assert [image["Id"] for image in again.result["images"]] == [SERVERCORE_ID, NANOSERVER_ID]


def test_unreadable_archives_fail_clearly_and_load_nothing(archive_play) -> None:
    run = archive_play[1]
    truncated = run.named("load truncated")
    assert truncated.failed and operations(truncated) == ["file_info"]
    assert truncated.msg == ("path: C:\\images\\truncated.tar is not a readable image archive (tar exit code 1: "
                             "tar.exe: Truncated tar archive detected while reading data); nothing was loaded")
    foreign = run.named("load foreign")
    assert foreign.failed and "manifest.json: Not found in archive" in foreign.msg
    missing = run.named("load missing")
    assert missing.failed and missing.msg == "path: the archive C:\\images\\missing.tar does not exist on win2022-docker01"
    assert missing.exchanges[0].argvs[0][:2] == ["image", "ls"]  # tar.exe is not started for a missing file
    relative = run.named("export relative")
    assert relative.failed and relative.execs == 0 and relative.msg.startswith("path: 'images\\\\a.tar' is not an absolute")
    nowhere = run.named("export no directory")
    assert nowhere.failed and nowhere.msg == "path: the directory D:\\nowhere does not exist on win2022-docker01"


@pytest.mark.parametrize("transport", ["winrm", "ssh-powershell"])
def test_windows_server_2016_without_tar(make_windows_host, transport: str) -> None:
    host = make_windows_host(transport, tar="missing", lifecycle={"directories": ["C:\\images"]})
    run = host.run([
        {"name": "export", EXPORT: {"names": [NANOSERVER], "path": "C:\\images\\nano.tar"}},
        {"name": "export again", EXPORT: {"names": [NANOSERVER], "path": "C:\\images\\nano.tar"}, "ignore_errors": True},
        {"name": "export forced", EXPORT: {"names": [NANOSERVER], "path": "C:\\images\\nano.tar", "force": True}},
        {"name": "load", LOAD: {"path": "C:\\images\\nano.tar"}, "ignore_errors": True},
    ])
    export, again, forced, load = run.tasks
    assert export.status == "ok" and export.changed, export.msg  # no archive yet: tar.exe is not needed
    assert again.failed and again.execs == 1
    assert "tar.exe was not found" in again.msg and "Windows Server 2016 has none" in again.msg
    assert "force: true" in again.msg
    assert forced.status == "ok" and forced.changed, forced.msg
    assert all(call["exe"] == "docker" for call in forced.exchanges[0].request["calls"])
    assert load.failed and load.execs == 1 and "Windows Server 2016 has none" in load.msg
