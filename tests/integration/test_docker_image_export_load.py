# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""wincontainers.images.docker_image_export and docker_image_load against the real engine.

Also proves, on the POSIX dialect, that the detached job behind them survives what a WinRM
connection does to long operations: execs dropped mid-job (a test-only connection plugin that
wraps ``local``), and the controller killed mid-job (the re-run re-attaches to the job).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest
import yaml

from registry_support import job_directories, jobs_root, runner_pid
from lifecycle_support import (
    BASE_IMAGE,
    exec_count,
    image_or_none,
    large_image,
    own_image,
    remove_images,
    unique,
)

HERE = Path(__file__).resolve().parent
PREFIX = "wct3/archive-"
LARGE_MB = 200


@pytest.fixture(scope="module")
def large(docker_client):
    """An image of our own with LARGE_MB of random data: its save takes seconds."""
    name = "wct3/large-" + unique("x")[2:]
    image = large_image(docker_client, name, LARGE_MB)
    yield name + ":1", image
    remove_images(docker_client, name)


@pytest.fixture
def archives(tmp_path):
    """A directory of archives of one test (tmp_path also holds the harness's files)."""
    directory = tmp_path / "archives"
    directory.mkdir()
    return directory


def manifest_of(path: Path) -> list[dict]:
    with tarfile.open(path) as archive:
        return json.load(archive.extractfile("manifest.json"))


def manifest_ids(path: Path) -> list[str]:
    return sorted("sha256:" + entry["Config"].rsplit("/", 1)[-1].removesuffix(".json") for entry in manifest_of(path))


def export(names, path, task="export", **extra):
    args = {"names": names, "path": str(path)}
    args.update(extra)
    return {"name": task, "wincontainers.images.docker_image_export": args}


def load(path, task="load", **extra):
    args = {"path": str(path)}
    args.update(extra)
    return {"name": task, "wincontainers.images.docker_image_load": args}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_export_then_load(run_playbook, docker_client, repo, archives):
    image = own_image(docker_client, repo, "1", "archive-test")
    archive = archives / "naïve archive.tar"

    checked = run_playbook([export([repo + ":1"], archive, "check")], check=True, diff=True).assert_ok().task("check")
    assert checked["changed"] is True and checked["result"]["sha256"] is None
    assert checked["result"]["diff"] == {"before": {"path": str(archive), "image_ids": None},
                                         "after": {"path": str(archive), "image_ids": [image.id]}}
    assert list(archives.iterdir()) == []

    run = run_playbook([export([repo + ":1"], archive, "first"), export([repo], archive, "second", tag="1")],
                       verbosity=3).assert_ok()
    first, second = run.task("first")["result"], run.task("second")["result"]
    assert first["changed"] is True and first["job"]["reattached"] is False
    assert first["sha256"] == sha256(archive) and first["size"] == archive.stat().st_size
    assert first["image_ids"] == [image.id] and first["images"][0]["Id"] == image.id
    assert manifest_ids(archive) == [image.id] and manifest_of(archive)[0]["RepoTags"] == [repo + ":1"]
    assert second["changed"] is False and exec_count(run, "second") == 1
    assert second["sha256"] == first["sha256"] and second["size"] == first["size"]
    assert sorted(p.name for p in archives.iterdir()) == [archive.name]  # no partial file left

    # more images: written again, through the partial file
    run = run_playbook([export([repo + ":1", BASE_IMAGE], archive, "more")], diff=True).assert_ok()
    more = run.task("more")["result"]
    assert more["changed"] is True and more["diff"]["before"]["image_ids"] == [image.id]
    assert manifest_ids(archive) == sorted([image.id, docker_client.images.get(BASE_IMAGE).id])
    assert more["sha256"] == sha256(archive) and more["sha256"] != first["sha256"]
    run = run_playbook([export([repo + ":1"], archive, "back")]).assert_ok()
    assert run.task("back")["changed"] is True and manifest_ids(archive) == [image.id]

    # load: remove our image, then load it back from the archive
    docker_client.images.remove(image.id, force=True)
    checked = run_playbook([load(archive, "check")], check=True).assert_ok().task("check")
    assert checked["changed"] is True and image_or_none(docker_client, image.id) is None
    run = run_playbook([load(archive, "first"), load(archive, "second")], diff=True, verbosity=3).assert_ok()
    first, second = run.task("first")["result"], run.task("second")["result"]
    assert first["changed"] is True and first["loaded"] == [repo + ":1"]
    assert first["archive_images"] == [{"id": image.id, "tags": [repo + ":1"]}] and first["image_names"] == [repo + ":1"]
    assert [loaded["Id"] for loaded in first["images"]] == [image.id] and first["images"][0]["RepoTags"] == [repo + ":1"]
    assert first["diff"]["before"] == {"images": {image.id: None}}
    assert first["diff"]["after"] == {"images": {image.id: [repo + ":1"]}}
    assert docker_client.images.get(repo + ":1").id == image.id
    # two execs: the archive's image IDs come from the first, their inspect objects from the second
    assert second["changed"] is False and second["loaded"] == [] and exec_count(run, "second") == 2
    assert second["images"] == first["images"]

    # a tag the archive has but the engine lost: loaded again
    docker_client.images.get(image.id).tag(repo, "keep")
    docker_client.images.remove(repo + ":1")
    run = run_playbook([load(archive, "retag")]).assert_ok()
    assert run.task("retag")["changed"] is True
    assert sorted(docker_client.images.get(image.id).tags) == sorted([repo + ":1", repo + ":keep"])


def test_load_of_a_missing_truncated_or_foreign_archive_fails_and_changes_nothing(
        run_playbook, docker_client, repo, archives):
    image = own_image(docker_client, repo, "1", "corrupt-test")
    good = archives / "good.tar"
    docker_client_archive = b"".join(docker_client.api.get_image(repo + ":1"))
    good.write_bytes(docker_client_archive)
    truncated = archives / "truncated.tar"
    truncated.write_bytes(docker_client_archive[: len(docker_client_archive) // 2])
    foreign = archives / "foreign.tar"
    (archives / "readme.txt").write_text("not an image", encoding="utf-8")
    with tarfile.open(foreign, "w") as archive:
        archive.add(archives / "readme.txt", arcname="readme.txt")
    docker_client.images.remove(image.id, force=True)

    run = run_playbook([
        dict(load(archives / "missing.tar", "missing"), ignore_errors=True),
        dict(load(truncated, "truncated"), ignore_errors=True),
        dict(load(foreign, "foreign"), ignore_errors=True),
        dict(load(archives, "directory"), ignore_errors=True),
        dict(load("relative.tar", "relative"), ignore_errors=True),
    ], verbosity=3)
    assert run.task("missing")["msg"] == "path: the archive %s does not exist on localhost" % (archives / "missing.tar")
    assert run.task("truncated")["msg"].startswith("path: %s is not a readable image archive (tar exit code" % truncated)
    assert "nothing was loaded" in run.task("truncated")["msg"]
    assert run.task("foreign")["msg"].startswith("path: %s is not a readable image archive" % foreign)
    assert run.task("directory")["msg"] == "path: %s is a directory, not an image archive" % archives
    assert run.task("relative")["msg"].startswith("path: 'relative.tar' is not an absolute path: give one that starts "
                                                  "with '/'")
    for name in ("missing", "truncated", "foreign", "directory"):
        assert run.task(name)["failed"] is True and exec_count(run, name) == 1
    assert exec_count(run, "relative") == 0
    # nothing of the archive was loaded (other tests change the engine meanwhile: look at ours only)
    assert image_or_none(docker_client, image.id) is None
    assert not [tag for i in docker_client.images.list() for tag in i.tags if tag.startswith(repo)]


def test_export_bad_input_fails_clearly(run_playbook, repo, archives):
    run = run_playbook([
        dict(export([repo + ":none"], archives / "a.tar", "missing-image"), ignore_errors=True),
        dict(export([BASE_IMAGE], archives / "no" / "a.tar", "missing-directory"), ignore_errors=True),
        dict(export([BASE_IMAGE], "a.tar", "relative"), ignore_errors=True),
        dict(export(["Bad Name"], archives / "a.tar", "bad-name"), ignore_errors=True),
    ])
    assert run.task("missing-image")["msg"] == "names: no image '%s:none' on localhost" % repo
    assert run.task("missing-directory")["msg"] == "path: the directory %s does not exist on localhost" % (archives / "no")
    assert run.task("relative")["msg"].startswith("path: 'a.tar' is not an absolute path: give one that starts with '/'")
    assert run.task("bad-name")["msg"].startswith("names: 'Bad Name' is not a valid image reference or ID")
    assert list(archives.iterdir()) == []


# --- the detached job, on the POSIX dialect -----------------------------------------------------------------

def flaky_inventory() -> dict:
    return {"all": {"hosts": {"localhost": {"ansible_connection": "wc_flaky_local",
                                            "ansible_python_interpreter": sys.executable}}}}


def test_export_survives_execs_dropped_mid_job(run_playbook, docker_client, large, archives):
    name, image = large
    archive = archives / "large.tar"
    state = archives / "flaky-state"
    env = {
        "ANSIBLE_CONNECTION_PLUGINS": str(HERE / "connection_plugins"),
        "WC_FLAKY_STATE": str(state),
        # exec 2 (job_start) runs, then its answer is lost; execs 4 and 5 (polls) never arrive
        "WC_FLAKY_FAIL_AFTER": "2",
        "WC_FLAKY_FAIL": "4,5",
    }
    run = run_playbook([export([name], archive)], connection="wc_flaky_local", inventory=flaky_inventory(), env=env)
    result = run.assert_ok().task("export")["result"]
    log = state.read_text(encoding="utf-8").splitlines()
    assert log[:5] == ["1 file_info", "2 job_start dropped-after", "3 job_start", "4 job_status dropped",
                       "5 job_status dropped"], log
    assert log[5:] and all(line.split()[1] == "job_status" for line in log[5:-2]), log
    assert [line.split(" ", 1)[1] for line in log[-2:]] == ["job_cleanup", "file_info"], log
    assert result["changed"] is True and result["job"]["reattached"] is True
    assert manifest_ids(archive) == [image.id] and result["sha256"] == sha256(archive)
    assert sorted(p.name for p in archives.iterdir()) == sorted([archive.name, state.name])
    assert not (jobs_root() / result["job"]["id"]).exists()


def find_job(partial_prefix: str, deadline: float) -> Path:
    while time.monotonic() < deadline:
        for directory in job_directories(partial_prefix):
            try:
                if (directory / "runner.pid").read_text(encoding="utf-8").strip():
                    return directory
            except OSError:
                continue  # the runner has not written its PID yet
        time.sleep(0.05)
    raise AssertionError("the export job did not start")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text(encoding="utf-8")
            except OSError:
                continue
            if int(stat.rsplit(") ", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def kill_controller(process: subprocess.Popen) -> None:
    """Kill ansible-playbook and its task workers (each in its own process group), as a dying
    controller would: nothing of it may go on polling or cleaning up the job."""
    for worker in children(process.pid):
        try:
            os.killpg(worker, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            os.kill(worker, signal.SIGKILL)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as handle:
            return handle.read().split(") ", 1)[1][:1] != "Z"  # a zombie has finished
    except FileNotFoundError:
        return False


def test_export_reattaches_after_the_controller_was_killed(
        run_playbook, engine, collections_path, docker_client, large, archives):
    name, image = large
    archive = archives / "large.tar"
    task = export([name], archive)
    # the first run: ansible-playbook started by hand, so that it can be killed mid-job
    rundir = archives / "killed"
    rundir.mkdir()
    play = {"hosts": "localhost", "gather_facts": False, "tasks": [task]}
    (rundir / "playbook.yml").write_text(yaml.safe_dump([play]), encoding="utf-8")
    (rundir / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}), encoding="utf-8")
    (rundir / "ansible.cfg").write_text("[defaults]\n", encoding="utf-8")
    env = dict(os.environ)
    env.update(engine.env)
    env.update({"ANSIBLE_CONFIG": str(rundir / "ansible.cfg"), "ANSIBLE_COLLECTIONS_PATH": collections_path,
                "ANSIBLE_LOCAL_TEMP": str(rundir / "tmp"), "ANSIBLE_NOCOLOR": "1"})
    playbook = Path(sys.executable).with_name("ansible-playbook")
    process = subprocess.Popen([str(playbook), "-i", "inventory.yml", "playbook.yml"], cwd=rundir, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        job = find_job(str(archive) + ".partial-", time.monotonic() + 120)
        runner = runner_pid(job)
        kill_controller(process)
    finally:
        if process.poll() is None:
            kill_controller(process)
    output = process.stdout.read().decode("utf-8", "replace")
    assert "PLAY RECAP" not in output, output
    assert alive(runner), "the job must outlive the controller"
    assert not archive.exists()

    # The runner is held (SIGSTOP) until the re-run has attached: it re-attaches only to a job that
    # still runs (one that finished meanwhile would be discarded and done again).
    os.kill(runner, signal.SIGSTOP)
    killed_claims = sorted(p.name for p in job.glob("claim-*"))
    outcome = {}
    rerun = threading.Thread(target=lambda: outcome.update(run=run_playbook([task])))
    rerun.start()
    try:
        deadline = time.monotonic() + 120
        while len(list(job.glob("claim-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.kill(runner, signal.SIGCONT)
        rerun.join(300)
    result = outcome["run"].assert_ok().task("export")["result"]
    assert result["changed"] is True and result["job"]["reattached"] is True
    assert result["job"]["id"] == job.name
    assert manifest_ids(archive) == [image.id] and result["sha256"] == sha256(archive)
    assert not alive(runner)
    # The re-run dropped its claim; the killed run's claim may keep the files for CLAIM_AGE.
    assert not job.exists() or sorted(p.name for p in job.glob("claim-*")) == killed_claims
    assert sorted(p.name for p in archives.iterdir()) == sorted([archive.name, rundir.name])
