# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.docker_image_load with ``src``: the archive goes
from the controller to the host through ansible-core's own ``put_file`` of the ``winrm``,
``psrp`` and ``ssh`` plugins (emulated as those plugins send it: fake_put_file.py), is joined
and checked on the host with ``join_parts``, then loaded.

First run: one read, the copy, the join, the load. Second run: one read, nothing copied, nothing
loaded. A host holding another file gets the new one. Check mode copies nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contract_harness import TRANSPORTS, ContractHost, PlayRun, recorded_image

LOAD = "wincontainers.images.docker_image_load"
SMALL_CHUNKS = "wc_contract_load_small_chunks"  # the same action with 4 KiB chunks (action_plugins/)
INFO = "wincontainers.images.docker_image_info"
TAG = "contoso.test/offline/app:1"
# a space and the quotes ansible-core 2.16's ShellModule._escape doubles: the path travels in
# 2.16's winrm put_file script text
TARGET = "C:\\images\\offline \u2018app\u2019.tar"
OTHER = "C:\\images\\chunked.tar"
SCENARIO = {"lifecycle": {"directories": ["C:\\images"]}}


def docker_archive(path: Path, version: str, layer_bytes: int = 20000) -> dict[str, str]:
    """A docker save archive (legacy layout) of one Windows image tagged TAG; its ID is the
    sha256 of its config, as Docker computes it."""
    base = recorded_image("nanoserver_ltsc2022.json")
    layer = (("layer of %s\n" % version).encode() * (layer_bytes // 10 + 1))[:layer_bytes]
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": base["Architecture"], "os": base["Os"], "os.version": base["OsVersion"],
        "created": "2025-01-14T10:00:00Z", "config": dict(base["Config"], Labels={"version": version}),
        "rootfs": {"type": "layers", "diff_ids": base["RootFS"]["Layers"] + [diff_id]},
    }, sort_keys=True).encode()
    image_id = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": image_id + ".json", "RepoTags": [TAG], "Layers": [diff_id[7:] + "/layer.tar"]}])
    with tarfile.open(path, "w") as archive:
        for name, data in ((diff_id[7:] + "/layer.tar", layer), (image_id + ".json", config),
                           ("manifest.json", manifest.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return {"id": "sha256:" + image_id, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "path": str(path)}


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    directory = tmp_path_factory.mktemp("controller-archives")
    return {"v1": docker_archive(directory / "app-v1.tar", "1"), "v2": docker_archive(directory / "app-v2.tar", "2")}


@pytest.fixture(scope="module", params=TRANSPORTS)
def copy_play(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost],
              archives) -> Iterator[tuple[ContractHost, PlayRun]]:
    host = new_windows_host(request.param, **SCENARIO)
    v1, v2 = archives["v1"]["path"], archives["v2"]["path"]
    run = host.run([
        {"name": "copy check", LOAD: {"src": v1, "path": TARGET}, "check_mode": True, "diff": True},
        {"name": "copy", LOAD: {"src": v1, "path": TARGET}, "diff": True},
        {"name": "copy again", LOAD: {"src": v1, "path": TARGET}},
        {"name": "new archive check", LOAD: {"src": v2, "path": TARGET}, "check_mode": True},
        {"name": "new archive", LOAD: {"src": v2, "path": TARGET}},
        {"name": "image", INFO: {"name": [TAG]}},
        {"name": "chunks", SMALL_CHUNKS: {"src": v1, "path": OTHER}},
        {"name": "chunks again", SMALL_CHUNKS: {"src": v1, "path": OTHER}},
        {"name": "no directory", LOAD: {"src": v1, "path": "D:\\nowhere\\a.tar"}, "ignore_errors": True},
        {"name": "no source", LOAD: {"src": v1 + ".missing", "path": TARGET}, "ignore_errors": True},
    ])
    yield host, run
    host.close()


def operations(task_run) -> list[str]:
    return [exchange.script_name for exchange in task_run.exchanges]


def puts(task_run) -> list[dict]:
    return [exchange.raw["put_file"] for exchange in task_run.exchanges if exchange.raw.get("put_file")]


def test_check_mode_copies_nothing_and_reports_both_changes(copy_play, archives) -> None:
    host, run = copy_play
    checked = run.named("copy check")
    assert checked.status == "ok" and checked.changed and checked.result["copied"], checked.msg
    assert operations(checked) == ["file_info"] and not checked.exchanges[0].state_changed
    assert checked.result["diff"]["before"]["archive"] is None
    assert checked.result["diff"]["after"]["archive"]["sha256"] == archives["v1"]["sha256"]
    assert checked.result["diff"]["before"]["images"] == {archives["v1"]["id"]: None}
    new = run.named("new archive check")
    assert new.changed and new.result["copied"] and operations(new) == ["file_info"] and puts(new) == []


def test_first_run_copies_joins_and_loads(copy_play, archives) -> None:
    host, run = copy_play
    first = run.named("copy")
    assert first.status == "ok" and first.changed and first.result["copied"], first.msg
    assert first.result["loaded"] == [TAG] and first.result["sha256"] == archives["v1"]["sha256"]
    assert operations(first) == ["file_info", "put_file", "join_parts", "job_start", "stage_script", "job_start",
                                 "job_status", "job_cleanup", "run"]
    [put] = puts(first)
    assert put["path"].startswith(TARGET + ".wcpart-") and put["sha256"] == archives["v1"]["sha256"]
    assert "error" not in put
    transport = host.transport.split("-")[0]
    assert put["form"].startswith(transport), put["form"]
    # the read asks for the target's sha256, its directory and the chunk file in one exec
    files = first.exchanges[0].request["files"]
    assert files[:2] == [{"path": TARGET, "hash": True}, {"path": "C:\\images", "hash": False}]
    join = first.exchanges[2].request
    assert join["target"] == TARGET and join["sha256"] == archives["v1"]["sha256"] and len(join["parts"]) == 1
    assert first.result["transfer"]["chunks_sent"] == 1


def test_second_run_copies_nothing_and_loads_nothing(copy_play) -> None:
    host, run = copy_play
    again = run.named("copy again")
    assert again.status == "ok" and not again.changed and not again.result["copied"], again.msg
    assert operations(again) == ["file_info"] and again.result["loaded"] == []


def test_a_host_holding_another_archive_gets_the_new_one(copy_play, archives) -> None:
    host, run = copy_play
    new = run.named("new archive")
    assert new.status == "ok" and new.changed and new.result["copied"] and new.result["loaded"] == [TAG], new.msg
    assert [p["sha256"] for p in puts(new)] == [archives["v2"]["sha256"]]
    image = run.named("image").result["images"][0]
    assert image["Id"] == archives["v2"]["id"] and TAG in image["RepoTags"]
    state = host.state["files"]
    assert state[TARGET]["blob"] == archives["v2"]["sha256"]
    # no chunk file or temporary file is left on the host
    assert not [name for name in state if ".wcpart-" in name or ".wcjoin-" in name]


def test_a_copy_in_chunks_is_joined_in_order(copy_play, archives) -> None:
    host, run = copy_play
    chunked = run.named("chunks")
    size = Path(archives["v1"]["path"]).stat().st_size
    count = -(-size // 4096)
    assert chunked.status == "ok" and chunked.result["copied"] and count > 3, chunked.msg
    assert [p["path"].rsplit("-", 1)[1] for p in puts(chunked)] == [str(i) for i in range(count)]
    assert sum(p["bytes"] for p in puts(chunked)) == size
    assert host.state["files"][OTHER]["blob"] == archives["v1"]["sha256"]
    assert not run.named("chunks again").changed and puts(run.named("chunks again")) == []


def test_bad_targets_and_sources_fail_before_any_copy(copy_play) -> None:
    host, run = copy_play
    missing_dir = run.named("no directory")
    assert missing_dir.failed and "the directory D:\\nowhere does not exist" in missing_dir.msg
    assert operations(missing_dir) == ["file_info"]
    no_source = run.named("no source")
    assert no_source.failed and "was not found on the controller" in no_source.msg and no_source.execs == 0
