# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""wincontainers.images.docker_image_info against the real engine, checked with the Docker SDK."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import uuid

from lifecycle_support import (
    BASE_IMAGE,
    exec_count,
    image_or_none,
    own_image,
    path_without_docker,
    unique,
)

PREFIX = "wct2/info-"
MODULE = "wincontainers.images.docker_image_info"
WINDOWS_BUILD = "10.0.20348.2849"
NO_DOCKER_CLI = "localhost: the docker CLI was not found on the host (looked on PATH); install Docker or add it to PATH"


def info(task, name=None, **keywords):
    args = {} if name is None else {"name": name}
    return dict({"name": task, MODULE: args}, **keywords)


def _add(archive, name, data):
    entry = tarfile.TarInfo(name)
    entry.size = len(data)
    archive.addfile(entry, io.BytesIO(data))


def image_with_os_version(docker_client, reference: str, os_version: str):
    """Load (docker load) a one-layer image whose config has ``os.version``, as Windows images
    have: a Linux engine reports OsVersion only for such images."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as archive:
        _add(archive, "content.txt", uuid.uuid4().hex.encode("ascii"))
    layer = layer.getvalue()
    config = json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "os.version": os_version,
        "created": "2024-11-07T01:23:45Z",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
        "history": [{"created": "2024-11-07T01:23:45Z", "comment": "wct2 info test"}],
    }).encode("utf-8")
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    saved = io.BytesIO()
    with tarfile.open(fileobj=saved, mode="w") as archive:
        _add(archive, config_name, config)
        _add(archive, "layer/layer.tar", layer)
        _add(archive, "manifest.json", json.dumps(
            [{"Config": config_name, "RepoTags": [reference], "Layers": ["layer/layer.tar"]}]).encode("utf-8"))
    docker_client.images.load(saved.getvalue())
    return docker_client.images.get(reference)


def assert_same_image(found, image):
    """An inspect object of the module equals what the SDK says of ``image``."""
    image.reload()
    assert found["Id"] == image.id
    assert sorted(found["RepoTags"]) == sorted(image.attrs["RepoTags"])
    assert found["RepoDigests"] == image.attrs["RepoDigests"]
    assert isinstance(found["Size"], int) and found["Size"] == image.attrs["Size"] > 0
    assert found["Os"] == image.attrs["Os"] == "linux"
    assert found.get("OsVersion") == image.attrs.get("OsVersion")
    assert found["Created"] == image.attrs["Created"] and found["Architecture"] == image.attrs["Architecture"]


def test_named_images_by_reference_and_id(run_playbook, docker_client, repo):
    image = own_image(docker_client, repo, "a", "info-test")
    image.tag(repo, "b")
    windows = image_with_os_version(docker_client, repo + ":windows", WINDOWS_BUILD)
    tasks = [
        info("by reference", repo + ":a"),
        info("by full ID", image.id),
        info("by full ID without sha256", image.id.split(":", 1)[1]),
        info("by short ID", image.short_id.split(":", 1)[1]),
        info("with a Windows build", repo + ":windows"),
        info("present and missing", [repo + ":missing", repo + ":windows", "wct2/info-none:1", repo + ":b", image.id]),
        info("only missing", [repo + ":missing", PREFIX + "none"]),
    ]
    results = {}
    for check in (False, True):
        run = run_playbook(tasks, check=check, verbosity=3).assert_ok()
        for task in tasks:
            assert run.task(task["name"])["changed"] is False
            assert exec_count(run, task["name"]) == 1, task["name"]
        current = {task["name"]: run.task(task["name"])["result"]["images"] for task in tasks}
        for name in ("by reference", "by full ID", "by full ID without sha256", "by short ID"):
            assert len(current[name]) == 1, name
            assert_same_image(current[name][0], image)
            assert sorted(current[name][0]["RepoTags"]) == [repo + ":a", repo + ":b"]
        assert len(current["with a Windows build"]) == 1
        assert_same_image(current["with a Windows build"][0], windows)
        assert current["with a Windows build"][0]["OsVersion"] == WINDOWS_BUILD
        # missing names are left out; one entry per name found, in the order of the names (":b" and the ID
        # name one image: it comes twice, as docker image inspect and community.docker answer)
        assert [found["Id"] for found in current["present and missing"]] == [windows.id, image.id, image.id]
        assert current["only missing"] == []
        if results:  # check mode: the same answer
            assert current == results
        results = current


def test_every_image_when_name_is_omitted(run_playbook, docker_client, repo):
    image = own_image(docker_client, repo, "a", "info-all-test")
    windows = image_with_os_version(docker_client, repo + ":windows", WINDOWS_BUILD)
    # an intermediate image (untagged parent of a tagged one: only "docker images --all" lists it)
    parent = own_image(docker_client, repo, "parent", "info-parent-test")
    container = docker_client.containers.create(parent.id, ["true"], name=unique("wct2-info-child"), network_disabled=True)
    try:
        child = container.commit(repository=repo, tag="child")
    finally:
        container.remove(force=True)
    docker_client.images.remove(repo + ":parent")
    try:
        assert docker_client.images.get(parent.id).tags == []
        assert parent.id not in {listed.id for listed in docker_client.images.list()}
        ours = {image.id, windows.id, parent.id, child.id, docker_client.images.get(BASE_IMAGE).id}

        before = {listed.id: listed for listed in docker_client.images.list(all=True)}
        run = run_playbook([info("all"), info("all in check mode", check_mode=True)], verbosity=3).assert_ok()
        after = {listed.id: listed for listed in docker_client.images.list(all=True)}
        stable = set(before) & set(after)
        assert ours <= stable

        found = {}
        for name in ("all", "all in check mode"):
            result = run.task(name)
            assert result["changed"] is False and exec_count(run, name) == 1
            images = {listed["Id"]: listed for listed in result["result"]["images"]}
            assert len(images) == len(result["result"]["images"]), "an image was returned twice"
            # Other tests may add or remove images meanwhile: every image there before and after
            # must be listed, and one listed that the SDK saw neither before nor after must be gone.
            assert stable - set(images) == set(), "images of the engine missing from the result"
            for extra in set(images) - set(before) - set(after):
                assert image_or_none(docker_client, extra) is None, "%s is not an image of the engine" % extra
            for image_id in stable:
                listed = images[image_id]
                assert isinstance(listed["Size"], int) and listed["Size"] == after[image_id].attrs["Size"], image_id
                assert {"Os", "RepoTags", "RepoDigests", "Created", "Architecture"} <= set(listed), image_id
            assert_same_image(images[image.id], image)
            assert_same_image(images[windows.id], windows)
            assert images[windows.id]["OsVersion"] == WINDOWS_BUILD
            assert images[parent.id]["RepoTags"] == [] and images[child.id]["RepoTags"] == [repo + ":child"]
            assert images[child.id]["Parent"] == parent.id
            found[name] = {image_id: images[image_id] for image_id in ours}
        assert found["all"] == found["all in check mode"]
    finally:
        for image_id in (child.id, parent.id):
            try:
                docker_client.images.remove(image_id, force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass


def test_bad_references_fail_before_reaching_the_host(run_playbook, repo):
    long_tag = repo + ":" + "t" * 129
    bad = {
        "spaces": "Not A Reference",
        "uppercase repository": PREFIX + "Upper:1",
        "tag too long": long_tag,
        "bad ID": "sha256:xyz",
    }
    tasks = [info(task, value, ignore_errors=True) for task, value in bad.items()]
    tasks.append(info("bad one in a list", [repo + ":a", "Not A Reference"], ignore_errors=True))
    run = run_playbook(tasks, verbosity=3)
    for task, value in list(bad.items()) + [("bad one in a list", "Not A Reference")]:
        result = run.task(task)
        assert result["failed"] is True and result["changed"] is False, task
        assert result["msg"].startswith("name: %r is not a valid image reference or ID: " % value), result["msg"]
        assert exec_count(run, task) == 0, task
    assert run.task("uppercase repository")["msg"].endswith("repository names must be lowercase")
    assert "128" in run.task("tag too long")["msg"]
    assert "EXEC " not in run.stdout


def test_host_without_docker_cli_or_engine(run_playbook, tmp_path):
    tasks = [info("by name", BASE_IMAGE, ignore_errors=True), info("all", ignore_errors=True)]
    run = run_playbook(tasks, env={"PATH": path_without_docker(tmp_path / "bin")}, verbosity=3)
    for task in ("by name", "all"):
        result = run.task(task)
        assert result["failed"] is True and result["changed"] is False
        assert result["msg"] == NO_DOCKER_CLI
        assert exec_count(run, task) == 1

    socket = "unix:///nonexistent/docker.sock"
    run = run_playbook(tasks, env={"DOCKER_HOST": socket}, verbosity=3)
    for task in ("by name", "all"):
        result = run.task(task)
        assert result["failed"] is True and result["changed"] is False
        # docker 28 and 29 word it differently; the message names the socket once and says what to do
        assert result["msg"].startswith("localhost: the Docker engine is not reachable at %s (set by DOCKER_HOST or "
                                        "the current docker context)" % socket), result["msg"]
        assert result["msg"].endswith(". Start the engine (systemctl start docker) or, if it listens elsewhere, give "
                                      "its address in docker_host (or DOCKER_HOST in the task's environment)"), result["msg"]
        assert result["msg"].count(socket) == 1 and "running?" not in result["msg"]
        assert exec_count(run, task) == 1
