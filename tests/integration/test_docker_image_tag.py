# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""wincontainers.images.docker_image_tag against the real engine, checked with the Docker SDK."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile

from lifecycle_support import (
    BASE_IMAGE,
    exec_count,
    image_or_none,
    own_image,
    path_without_docker,
)

PREFIX = "wct2/tag-"
MODULE = "wincontainers.images.docker_image_tag"
NO_DOCKER_CLI = "localhost: the docker CLI was not found on the host (looked on PATH); install Docker or add it to PATH"


def tag(task, name, repository, **extra):
    keywords = {key: extra.pop(key) for key in ("ignore_errors", "check_mode") if key in extra}
    args = {"name": name, "repository": repository}
    args.update(extra)
    return dict({"name": task, MODULE: args}, **keywords)


def tags_under(docker_client, prefix):
    """Every tag of the engine that starts with ``prefix``, with the image it names."""
    return {name: image.id for image in docker_client.images.list() for name in image.tags if name.startswith(prefix)}


def test_check_mode_then_tag_then_nothing_to_do(run_playbook, docker_client, repo):
    source = own_image(docker_client, repo, "latest", "tag-test")
    # no tag in name: the source is repo:latest; a target without tag gets "latest", the other keeps its own
    targets = [repo + "-a", repo + "-b:v1"]
    tagged = [repo + "-a:latest", repo + "-b:v1"]
    args = {"name": repo, "repository": targets}

    run = run_playbook([tag("check", **args)], check=True, diff=True, verbosity=3).assert_ok()
    checked = run.task("check")
    assert checked["changed"] is True and exec_count(run, "check") == 1
    assert checked["result"]["image"]["Id"] == source.id
    assert checked["result"]["tagged_images"] == tagged and checked["result"]["kept_images"] == []
    assert checked["diff"] == {
        "before": {"images": [{"name": repo + "-a", "tag": "latest", "exists": False},
                              {"name": repo + "-b", "tag": "v1", "exists": False}]},
        "after": {"images": [{"name": repo + "-a", "tag": "latest", "exists": True, "id": source.id},
                             {"name": repo + "-b", "tag": "v1", "exists": True, "id": source.id}]}}
    assert image_or_none(docker_client, tagged[0]) is None and image_or_none(docker_client, tagged[1]) is None
    assert docker_client.images.get(source.id).tags == [repo + ":latest"]

    run = run_playbook([tag("first", **args), tag("second", **args)], diff=True, verbosity=3).assert_ok()
    first, second = run.task("first"), run.task("second")
    assert first["changed"] is True and exec_count(run, "first") == 2
    assert first["result"]["image"]["Id"] == source.id
    assert first["result"]["tagged_images"] == tagged and first["result"]["kept_images"] == []
    assert first["diff"] == checked["diff"]
    assert second["changed"] is False and exec_count(run, "second") == 1
    assert second["result"]["tagged_images"] == [] and second["result"]["kept_images"] == []
    assert second["diff"] == {"before": checked["diff"]["after"], "after": checked["diff"]["after"]}
    assert docker_client.images.get(tagged[0]).id == source.id
    assert docker_client.images.get(tagged[1]).id == source.id
    assert sorted(docker_client.images.get(source.id).tags) == sorted([repo + ":latest"] + tagged)
    run.assert_recap(changed=1, failed=0)


def test_source_by_id_and_targets_naming_another_image(run_playbook, docker_client, repo):
    source = own_image(docker_client, repo, "source", "tag-source")
    other = own_image(docker_client, repo, "other", "tag-other")
    other.tag(repo, "moved")
    other.tag(repo, "kept")
    keep = {"repository": [repo + ":kept", repo + ":new"], "existing_images": "keep"}
    run = run_playbook([
        tag("overwrite", source.short_id.split(":", 1)[1], [repo + ":moved"]),
        tag("keep", source.id, **keep),
        tag("keep again", source.id, **keep),
        # the tag option names the source (name has no tag) and every target without one
        tag("tag option", repo, [repo + "-c", repo + "-d:fixed"], tag="other"),
    ], diff=True, verbosity=3).assert_ok()

    moved = run.task("overwrite")
    assert moved["changed"] is True and exec_count(run, "overwrite") == 2
    assert moved["result"]["image"]["Id"] == source.id
    assert moved["result"]["tagged_images"] == [repo + ":moved"] and moved["result"]["kept_images"] == []
    assert moved["diff"] == {"before": {"images": [{"name": repo, "tag": "moved", "exists": True, "id": other.id}]},
                             "after": {"images": [{"name": repo, "tag": "moved", "exists": True, "id": source.id}]}}

    kept = run.task("keep")
    assert kept["changed"] is True and exec_count(run, "keep") == 2
    assert kept["result"]["image"]["Id"] == source.id
    assert kept["result"]["tagged_images"] == [repo + ":new"]
    assert kept["result"]["kept_images"] == [repo + ":kept"]
    assert kept["diff"] == {"before": {"images": [{"name": repo, "tag": "kept", "exists": True, "id": other.id},
                                                  {"name": repo, "tag": "new", "exists": False}]},
                            "after": {"images": [{"name": repo, "tag": "kept", "exists": True, "id": other.id},
                                                 {"name": repo, "tag": "new", "exists": True, "id": source.id}]}}
    again = run.task("keep again")
    assert again["changed"] is False and exec_count(run, "keep again") == 1
    assert again["result"]["tagged_images"] == [] and again["result"]["kept_images"] == [repo + ":kept"]

    option = run.task("tag option")
    assert option["changed"] is True and exec_count(run, "tag option") == 2
    assert option["result"]["image"]["Id"] == other.id
    assert option["result"]["tagged_images"] == [repo + "-c:other", repo + "-d:fixed"]

    assert tags_under(docker_client, repo) == {
        repo + ":source": source.id,
        repo + ":moved": source.id,
        repo + ":new": source.id,
        repo + ":other": other.id,
        repo + ":kept": other.id,
        repo + "-c:other": other.id,
        repo + "-d:fixed": other.id,
    }
    run.assert_recap(changed=3, failed=0)


def test_missing_source_and_bad_input(run_playbook, docker_client, repo):
    digest = repo + "@sha256:" + "a" * 64
    long_tag = repo + ":" + "t" * 129
    failing = [
        tag("missing source", repo + ":absent", [repo + ":never"]),
        tag("missing source by default tag", repo, [repo + ":never"]),
        tag("missing source by ID", "sha256:" + "0" * 64, [repo + ":never"]),
        tag("digest target", BASE_IMAGE, [repo + ":never", digest]),
        tag("uppercase target", BASE_IMAGE, [PREFIX + "Upper"]),
        tag("bad target tag", BASE_IMAGE, [long_tag]),
        tag("bad tag", BASE_IMAGE, [repo + "-x"], tag="bad tag"),
        tag("no target", BASE_IMAGE, []),
        tag("bad source", "Not A Reference", [repo + ":never"]),
        tag("bad choice", BASE_IMAGE, [repo + ":never"], existing_images="replace"),
    ]
    run = run_playbook([dict(task, ignore_errors=True) for task in failing], verbosity=3)
    results = {task["name"]: run.task(task["name"]) for task in failing}
    for name, result in results.items():
        assert result["failed"] is True and result["changed"] is False, name

    not_found = "name: the source image %r was not found on localhost"
    assert results["missing source"]["msg"] == not_found % (repo + ":absent")
    assert results["missing source by default tag"]["msg"] == not_found % (repo + ":latest")
    assert results["missing source by ID"]["msg"] == not_found % ("sha256:" + "0" * 64)
    for name in ("missing source", "missing source by default tag", "missing source by ID"):
        assert exec_count(run, name) == 1, name  # the read only: nothing tagged

    assert results["digest target"]["msg"] == "repository: %r has a digest; a tag target cannot" % digest
    assert results["uppercase target"]["msg"] == (
        "repository: %r is not a valid image reference: repository names must be lowercase" % (PREFIX + "Upper"))
    assert results["bad target tag"]["msg"].startswith("repository: %r is not a valid image reference: " % long_tag)
    assert "128" in results["bad target tag"]["msg"]
    assert results["bad tag"]["msg"].startswith("tag: 'bad tag' is not a valid tag: ")
    assert results["no target"]["msg"] == "repository: at least one target reference is required"
    assert results["bad source"]["msg"].startswith("name: 'Not A Reference' is not a valid image reference or ID: ")
    assert "existing_images" in results["bad choice"]["msg"] and "replace" in results["bad choice"]["msg"]
    for name in results:
        if not name.startswith("missing source"):
            assert exec_count(run, name) == 0, name
    assert tags_under(docker_client, repo) == {}


def test_host_without_docker_cli_or_engine(run_playbook, docker_client, repo, tmp_path):
    tasks = [tag("tag", BASE_IMAGE, [repo + ":never"], ignore_errors=True)]
    run = run_playbook(tasks, env={"PATH": path_without_docker(tmp_path / "bin")}, verbosity=3)
    result = run.task("tag")
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == NO_DOCKER_CLI and exec_count(run, "tag") == 1

    # an engine that stopped: its socket file is there, nobody listens on it
    directory = tempfile.mkdtemp(prefix="wct2-")  # short: a socket path has at most 107 characters
    try:
        path = os.path.join(directory, "docker.sock")
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(path)
        stale.close()
        run = run_playbook(tasks, env={"DOCKER_HOST": "unix://" + path}, verbosity=3)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    result = run.task("tag")
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == ("localhost: the Docker engine is not reachable at unix://%s (set by DOCKER_HOST or the "
                             "current docker context). Start the engine (systemctl start docker) or, if it listens "
                             "elsewhere, give its address in docker_host (or DOCKER_HOST in the task's environment)" % path), result["msg"]
    assert exec_count(run, "tag") == 1
    assert tags_under(docker_client, repo) == {}
