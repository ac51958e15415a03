# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docker_image_pull against the real engine and registries: check mode, first run, second run,
pull=always, authenticated pulls, bad input, and pulls that outlive the connection (a dropped
connection, a killed controller) or their timeout."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import uuid

import pytest

import registry_support as rs

PULL = "wincontainers.images.docker_image_pull"
LOGIN = "wincontainers.images.docker_login"
SMALL = 256 * 1024
LARGE = 48 * 1024 * 1024


@pytest.fixture(scope="module")
def small_images(engine):
    """Two small images in the anonymous registry: {reference: image ID}."""
    images = {}
    for number in (1, 2):
        repository = "%s/pull-small-%d" % (rs.PREFIX, number)
        images["%s/%s:1" % (engine.registry_anon, repository)] = rs.published_image(engine, repository, "1", SMALL)
    return images


@pytest.fixture(scope="module")
def large_image(engine):
    """(repository path, image ID) of a 48 MB image in the anonymous registry."""
    repository = "%s/pull-large" % rs.PREFIX
    return repository, rs.published_image(engine, repository, "1", LARGE)


@pytest.fixture
def clean(engine):
    """Image IDs registered here are removed before the test's end (they are this file's images)."""
    ids: list[str] = []
    yield ids
    for image_id in ids:
        rs.remove_image(engine, image_id)


def pull_task(names, name="pull", **options):
    return {"name": name, PULL: dict({"name": names}, **options), "register": "pulled"}


def test_check_first_and_second_run(run_playbook, docker_client, engine, small_images, clean):
    names = list(small_images)
    clean.extend(small_images.values())
    for image_id in small_images.values():
        rs.remove_image(engine, image_id)

    check = run_playbook([pull_task(names)], check=True, diff=True).assert_ok()
    result = check.task("pull")["result"]
    assert result["changed"] is True and result["missing"] == names
    assert all(rs.local_image(docker_client, name) is None for name in names), "check mode pulled something"

    run = run_playbook([
        pull_task(names, name="first"),
        pull_task(names, name="second"),
        pull_task(names, name="always", pull="always"),
        dict(pull_task(names, name="always, check mode", pull="always"), check_mode=True),
    ], diff=True).assert_ok().assert_recap(changed=1)
    result = run.task("first")["result"]
    assert result["changed"] is True
    for item, name in zip(result["images"], names):
        assert item["reference"] == name and item["changed"] is True and item["pulled"] is True
        assert item["id"] == small_images[name] == rs.local_image(docker_client, name).id
        repository, tag = name.split("/", 1)[1].rsplit(":", 1)
        assert item["digest"] == rs.registry_manifest(engine.registry_anon, repository, tag)["_digest"]
    assert result["diff"]["before"] == {"images": {name: {"exists": False} for name in names}}
    assert result["diff"]["after"] == {"images": {name: {"exists": True, "id": image_id} for name, image_id in small_images.items()}}
    assert "docker_image_pull on localhost:" in run.stdout  # progress shown on the controller

    assert run.task("second")["changed"] is False
    assert [item["pulled"] for item in run.task("second")["result"]["images"]] == [False, False]
    assert run.task("always")["changed"] is False
    assert [item["pulled"] for item in run.task("always")["result"]["images"]] == [True, True]
    assert run.task("always, check mode")["changed"] is False


def test_pull_always_picks_up_a_new_image_for_the_tag(run_playbook, docker_client, engine, clean):
    repository = "%s/pull-moving-%s" % (rs.PREFIX, uuid.uuid4().hex[:8])
    name = "%s/%s:1" % (engine.registry_anon, repository)
    first_id = rs.push_new_content(engine, repository, "1", SMALL)
    clean.append(first_id)
    run_playbook([pull_task([name])]).assert_ok().assert_recap(changed=1)
    assert rs.local_image(docker_client, name).id == first_id

    second_id = rs.push_new_content(engine, repository, "1", SMALL)
    clean.append(second_id)
    assert second_id != first_id
    rs.docker(engine, "tag", first_id, name)  # building the new image took the name locally

    run = run_playbook([
        pull_task([name], name="missing"),
        dict(pull_task([name], name="predict", pull="always"), check_mode=True),
        pull_task([name], name="always", pull="always"),
    ], diff=True).assert_ok().assert_recap(changed=2)
    assert run.task("missing")["changed"] is False
    assert run.task("missing")["result"]["images"][0]["id"] == first_id
    assert run.task("predict")["changed"] is True
    assert run.task("predict")["result"]["images"][0]["id"] == first_id
    item = run.task("always")["result"]["images"][0]
    assert item["changed"] is True and item["id"] == second_id == rs.local_image(docker_client, name).id
    assert run.task("always")["result"]["diff"] == {
        "before": {"exists": True, "id": first_id, "images": {name: {"exists": True, "id": first_id}}},
        "after": {"exists": True, "id": second_id, "images": {name: {"exists": True, "id": second_id}}}}


def test_bad_input_and_unknown_tags_fail_clearly(run_playbook, engine, small_images):
    missing = "%s/%s/pull-small-1:no-such-tag" % (engine.registry_anon, rs.PREFIX)
    run = run_playbook([
        dict(pull_task(["Not A Reference"], name="bad name"), ignore_errors=True),
        dict(pull_task(["x/y"], name="bad parallel", parallel=0), ignore_errors=True),
        dict(pull_task([missing], name="unknown tag", retries=0), ignore_errors=True),
    ])
    assert run.task("bad name")["msg"].startswith("name: 'Not A Reference' is not a valid image reference")
    assert run.task("bad parallel")["msg"] == "parallel: 0 must be between 1 and 32"
    task = run.task("unknown tag")
    assert task["failed"] and task["changed"] is False
    assert "1 of 1 pulls failed" in task["msg"] and "no-such-tag" in task["msg"] and "not found" in task["msg"]
    assert task["result"]["failed_images"] == [missing]
    assert rs.job_directories(missing) == []


def test_pull_from_the_authenticated_registry_with_config_path(run_playbook, engine, docker_client, clean, tmp_path):
    """From the TLS + basic auth registry (under the name whose certificate dockerd verifies, when there is one)."""
    registry = engine.registry_tls or engine.registry_auth
    repository = "%s/pull-auth" % rs.PREFIX
    name = "%s/%s:1" % (registry, repository)
    image_id = rs.publish_authenticated(engine, registry, repository, "1", SMALL)
    clean.append(image_id)
    config = str(tmp_path / "login-config")
    login = {"name": "login", LOGIN: {"registry_url": registry, "username": engine.registry_user,
                                      "password": "{{ registry_password }}", "config_path": config}}
    run = run_playbook([
        dict(pull_task([name], name="denied", config_path=config, retries=0), ignore_errors=True),
        login,
        pull_task([name], name="first", config_path=config),
        pull_task([name], name="second", config_path=config),
    ], extra_vars={"registry_password": engine.registry_password})
    denied = run.task("denied")
    assert denied["failed"] and "pulls failed" in denied["msg"] and "auth" in denied["msg"].lower()
    item = run.task("first")["result"]["images"][0]
    assert item["changed"] is True and item["id"] == image_id == rs.local_image(docker_client, name).id
    assert run.task("second")["changed"] is False


# --- long pulls: dropped connection, killed controller, timeout ---------------------------------

@pytest.fixture
def slow_registry(engine):
    proxy = rs.SlowProxy(engine.registry_anon)
    yield proxy
    proxy.close()


def test_dropped_connections_during_a_pull(run_playbook, docker_client, engine, large_image, slow_registry, clean,
                                           tmp_path):
    repository, image_id = large_image
    clean.append(image_id)
    rs.remove_image(engine, image_id)
    name = "%s/%s:1" % (slow_registry.address, repository)
    slow_registry.rate = 12 * 1024 * 1024  # about 4 s for the layer: several polls
    log = tmp_path / "flaky.log"
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "wc_flaky",
                                                 "ansible_python_interpreter": sys.executable}}}}
    run = run_playbook([pull_task([name])], connection="wc_flaky", inventory=inventory,
                       env={"ANSIBLE_CONNECTION_PLUGINS": str(rs.CONNECTION_PLUGINS), "WC_FLAKY_LOG": str(log),
                            "WC_FLAKY_FAIL": "2,3"}).assert_ok().assert_recap(changed=1)
    assert log.read_text().splitlines().count("dropped") == 2, "the connection was not dropped twice"
    item = run.task("pull")["result"]["images"][0]
    assert item["changed"] is True and item["id"] == image_id == rs.local_image(docker_client, name).id
    assert rs.job_directories(name) == []


def test_a_killed_controller_reattaches_to_the_running_pull(run_playbook, docker_client, engine, collections_path,
                                                            large_image, slow_registry, clean, tmp_path):
    repository, image_id = large_image
    clean.append(image_id)
    rs.remove_image(engine, image_id)
    name = "%s/%s:1" % (slow_registry.address, repository)
    slow_registry.rate = 512 * 1024  # far too slow to finish before the kill
    process = rs.start_playbook([pull_task([name])], tmp_path / "killed", engine, collections_path,
                                tmp_path / "docker-config")
    try:
        [job] = rs.wait_for(lambda: rs.job_directories(name), 60, what="the pull job to start")
        rs.wait_for(lambda: slow_registry.transferred > 1024 * 1024, 60, what="the download to start")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
    runner = rs.runner_pid(job)
    killed_claims = sorted(p.name for p in job.glob("claim-*"))
    time.sleep(1)
    assert rs.pid_alive(runner), "the job died with the controller"
    assert rs.local_image(docker_client, name) is None, "the pull finished before the controller was killed"

    # Run the task again; once it polls the job (it re-attached), let the download go at full speed.
    log = tmp_path / "polls.log"
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "wc_flaky",
                                                 "ansible_python_interpreter": sys.executable}}}}
    outcome = {}
    rerun = threading.Thread(target=lambda: outcome.update(run=run_playbook(
        [pull_task([name])], connection="wc_flaky", inventory=inventory,
        env={"ANSIBLE_CONNECTION_PLUGINS": str(rs.CONNECTION_PLUGINS), "WC_FLAKY_LOG": str(log)})))
    rerun.start()
    try:
        rs.wait_for(lambda: log.exists() and "poll" in log.read_text(), 120, what="the re-run to poll the job")
        assert rs.local_image(docker_client, name) is None
    finally:
        slow_registry.rate = None
        rerun.join(300)
    run = outcome["run"].assert_ok().assert_recap(changed=1)
    result = run.task("pull")["result"]
    assert result["job"]["reattached"] is True
    assert "re-attached" in run.stdout
    assert result["images"][0]["id"] == image_id == rs.local_image(docker_client, name).id
    assert not rs.pid_alive(runner)
    # The re-run dropped its claim; the killed run's claim may keep the files for CLAIM_AGE.
    assert not job.exists() or sorted(p.name for p in job.glob("claim-*")) == killed_claims


def test_a_timeout_leaves_the_pull_running_and_a_rerun_collects_it(run_playbook, docker_client, engine, large_image,
                                                                   slow_registry, clean, tmp_path):
    repository, image_id = large_image
    clean.append(image_id)
    rs.remove_image(engine, image_id)
    name = "%s/%s:1" % (slow_registry.address, repository)
    slow_registry.rate = 256 * 1024
    run = run_playbook([pull_task([name], timeout=3)])
    task = run.task("pull")
    assert task["failed"] and task["changed"] is False
    assert "did not finish within the timeout of 3 seconds" in task["msg"]
    assert "still running on the host" in task["msg"] and "run the task again to re-attach" in task["msg"]
    assert task["result"]["images"][0] == {"reference": name, "id": None, "digest": None, "changed": False,
                                           "pulled": False}
    [job] = rs.job_directories(name)
    runner = rs.runner_pid(job)
    assert rs.pid_alive(runner), "the job must go on after the timeout"

    # The same task again re-attaches; once it polls, the download may go at full speed.
    log = tmp_path / "polls.log"
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "wc_flaky",
                                                 "ansible_python_interpreter": sys.executable}}}}
    outcome = {}
    rerun = threading.Thread(target=lambda: outcome.update(run=run_playbook(
        [pull_task([name])], connection="wc_flaky", inventory=inventory,
        env={"ANSIBLE_CONNECTION_PLUGINS": str(rs.CONNECTION_PLUGINS), "WC_FLAKY_LOG": str(log)})))
    rerun.start()
    try:
        rs.wait_for(lambda: log.exists() and "poll" in log.read_text(), 120, what="the re-run to poll the job")
    finally:
        slow_registry.rate = None
        rerun.join(300)
    result = outcome["run"].assert_ok().assert_recap(changed=1).task("pull")["result"]
    assert result["job"]["reattached"] is True
    assert result["images"][0]["id"] == image_id == rs.local_image(docker_client, name).id
    assert rs.job_directories(name) == [] and not rs.pid_alive(runner)


def process_args() -> list[str]:
    """Command lines of the processes of this machine that run 'docker ... pull'."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                words = handle.read().split(b"\0")
        except OSError:
            continue
        if len(words) > 2 and words[0].endswith(b"docker") and b"pull" in words:
            found.append(b" ".join(words).decode("utf-8", "replace"))
    return found
