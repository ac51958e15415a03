# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""win_container_base_image on the local Linux engine: the steps it shares with every host run
for real (detached pull and load jobs, the registry digest check of state latest in check mode,
the S6 tag, removal), with a repository of the local registry as ``name``. The Windows-only
branches (version auto per host build, compatibility refusals, provider, WIM, the S5 restart)
are covered by tests/contract/test_win_container_base_image.py."""

from __future__ import annotations

import uuid

import pytest

import base_images_support as support

MODULE = "wincontainers.images.win_container_base_image"


@pytest.fixture
def repository(engine, docker_client):
    """A fresh repository of the anonymous registry; its local images are removed afterwards."""
    name = "%s/%s/base-%s" % (engine.registry_anon, support.PREFIX, uuid.uuid4().hex[:10])
    yield name
    for image in docker_client.images.list():
        if any(tag.startswith(name + ":") for tag in image.tags):
            support.remove(docker_client, image.id)


def task(title="base image", check=None, diff=None, ignore=False, **options):
    entry = {"name": title, MODULE: options, "register": "result"}
    if check is not None:
        entry["check_mode"] = check
    if diff is not None:
        entry["diff"] = diff
    if ignore:
        entry["ignore_errors"] = True
    return entry


def test_check_first_and_second_run(run_playbook, docker_client, repository):
    published = support.publish(docker_client, repository, "1.0")
    args = {"name": repository, "version": "1.0"}
    run = run_playbook([
        task("check", check=True, diff=True, **args),
        task("first", diff=True, **args),
        task("second", **args),
        task("check again", check=True, **args),
    ]).assert_ok()

    check = run.task("check")
    assert check["changed"] is True
    assert check["result"]["image_id"] is None
    assert check["diff"]["before"] == {repository + ":1.0": None, repository + ":latest": None}

    first = run.task("first")
    result = first["result"]
    assert first["changed"] is True
    assert result["image_id"] == published
    assert result["reference"] == repository + ":1.0"
    assert result["latest_name"] == repository + ":latest"
    assert result["actions"] == ["pulled %s:1.0" % repository, "tagged %s:1.0 as %s:latest" % (repository, repository)]
    assert result["job"]["reattached"] is False
    assert result["host_build"] is None and result["build"] is None
    assert first["diff"]["after"] == {repository + ":1.0": published, repository + ":latest": published}
    assert support.image_id(docker_client, repository + ":1.0") == published
    assert support.image_id(docker_client, repository + ":latest") == published

    second = run.task("second")
    assert second["changed"] is False
    assert second["result"]["actions"] == []
    assert "job" not in second["result"]
    assert run.task("check again")["changed"] is False


def test_check_mode_pulls_nothing(run_playbook, docker_client, repository):
    support.publish(docker_client, repository, "1.0")
    run_playbook([task("check", check=True, name=repository, version="1.0")]).assert_ok()
    assert support.image_id(docker_client, repository + ":1.0") is None, "check mode pulled"


def test_tag_latest_false_and_a_custom_local_name(run_playbook, docker_client, repository):
    published = support.publish(docker_client, repository, "2.0")
    local = repository + ":current"
    run = run_playbook([
        task("plain", name=repository, version="2.0", tag_latest=False),
        task("named", name=repository, version="2.0", latest_name=local),
        task("again", name=repository, version="2.0", latest_name=local),
    ]).assert_ok()
    plain = run.task("plain")
    assert plain["changed"] is True and plain["result"]["latest_name"] is None
    assert support.image_id(docker_client, repository + ":latest") is None
    named = run.task("named")
    assert named["changed"] is True
    assert named["result"]["actions"] == ["tagged %s:2.0 as %s" % (repository, local)]
    assert support.image_id(docker_client, local) == published
    assert run.task("again")["changed"] is False


def test_state_latest_follows_a_moving_tag(run_playbook, docker_client, repository):
    first_id = support.publish(docker_client, repository, "stable")
    args = {"name": repository, "version": "stable", "state": "latest"}
    run = run_playbook([
        task("install", **args),
        # Up to date: check mode reads the registry's digest and predicts no change; a real
        # run pulls, gets the same image and reports no change.
        task("check up to date", check=True, **args),
        task("up to date", **args),
    ]).assert_ok()
    assert run.task("install")["changed"] is True
    assert run.task("check up to date")["changed"] is False
    same = run.task("up to date")
    assert same["changed"] is False and same["result"]["image_id"] == first_id
    assert "job" in same["result"], "state latest pulls every time"

    # The tag moves to a new image in the registry; the host keeps the old one under the tag.
    support.make_image(docker_client, repository, "stable")
    docker_client.images.push(repository, tag="stable")
    second_id = support.image_id(docker_client, repository + ":stable")
    assert second_id != first_id
    support.remove(docker_client, second_id)
    docker_client.api.tag(first_id, repository, "stable")

    run = run_playbook([
        task("check newer", check=True, **args),
        task("newer", diff=True, **args),
        task("again", **args),
    ]).assert_ok()
    assert run.task("check newer")["changed"] is True
    moved = run.task("newer")
    assert moved["changed"] is True
    assert moved["result"]["image_id"] == second_id
    assert moved["diff"]["before"][repository + ":stable"] == first_id
    assert moved["diff"]["after"][repository + ":latest"] == second_id
    assert support.image_id(docker_client, repository + ":latest") == second_id
    assert run.task("again")["changed"] is False
    support.remove(docker_client, first_id)


def test_archive_source_loads_a_docker_save_tar(run_playbook, docker_client, repository, tmp_path):
    local_id = support.make_image(docker_client, repository, "offline")
    archive = tmp_path / "base.tar"
    with open(archive, "wb") as stream:
        for chunk in docker_client.images.get(local_id).save(named=True):
            stream.write(chunk)
    support.remove(docker_client, local_id)
    missing = tmp_path / "nothing.tar"
    args = {"name": repository, "version": "offline", "source": "archive", "path": str(archive)}
    run = run_playbook([
        task("check", check=True, **args),
        task("first", **args),
        task("second", **args),
        # state latest loads again and compares IDs; check mode reads the archive's manifest.json.
        task("check latest", check=True, state="latest", **args),
        task("latest", state="latest", **args),
        task("wrong version", ignore=True, **{**args, "version": "missing"}),
        task("missing archive", ignore=True, **{**args, "version": "other", "path": str(missing)}),
    ])
    assert run.task("check")["changed"] is True
    first = run.task("first")
    assert first["changed"] is True
    assert first["result"]["actions"][0] == "loaded %s:offline" % repository
    assert first["result"]["image_id"] == local_id
    assert support.image_id(docker_client, repository + ":latest") == local_id
    assert run.task("second")["changed"] is False
    assert run.task("check latest")["changed"] is False
    assert run.task("latest")["changed"] is False

    wrong = run.task("wrong version")
    assert wrong["failed"] is True
    assert "after the load of %s, the engine has no %s:missing" % (archive, repository) in wrong["msg"]
    assert "(the archive held: %s:offline)" % repository in wrong["msg"]
    gone = run.task("missing archive")
    assert gone["failed"] is True
    assert "docker load of %s failed" % missing in gone["msg"]


def test_absent(run_playbook, docker_client, repository):
    published = support.publish(docker_client, repository, "1.0")
    support.publish(docker_client, repository, "2.0")
    one = {"name": repository, "version": "1.0", "state": "absent"}
    run = run_playbook([task("one", name=repository, version="1.0"),
                        task("two", name=repository, version="2.0", tag_latest=False),
                        task("check", check=True, diff=True, **one)]).assert_ok()
    assert support.image_id(docker_client, repository + ":latest") == published
    check = run.task("check")
    assert check["changed"] is True
    assert sorted(check["result"]["removed"]) == sorted([repository + ":1.0", repository + ":latest"])
    assert support.image_id(docker_client, repository + ":1.0") == published, "check mode removed"

    run = run_playbook([
        task("remove one", **one),
        task("remove one again", **one),
        task("remove every tag", name=repository, state="absent"),
        task("remove every tag again", name=repository, state="absent"),
    ]).assert_ok()
    assert run.task("remove one")["changed"] is True
    assert run.task("remove one again")["changed"] is False
    every = run.task("remove every tag")
    assert every["changed"] is True and every["result"]["removed"] == [repository + ":2.0"]
    assert run.task("remove every tag again")["changed"] is False
    for tag in ("1.0", "2.0", "latest"):
        assert support.image_id(docker_client, "%s:%s" % (repository, tag)) is None


def test_failures_on_the_host_are_reported(run_playbook, docker_client, repository):
    run = run_playbook([
        task("never pushed", ignore=True, name=repository, version="never-pushed"),
        task("windows image", ignore=True, name="WindowsServerCore"),
    ], extra_args=["-vvv"])
    never = run.task("never pushed")
    assert never["failed"] is True
    assert "docker pull of %s:never-pushed failed" % repository in never["msg"]
    windows = run.task("windows image")
    assert windows["failed"] is True
    assert "Server Core images need a Windows Docker host" in windows["msg"]
    assert "mcr.microsoft.com/windows/servercore:" not in run.stdout.split("TASK [windows image]", 1)[1].split(
        "fatal:", 1)[0], "a pull was started"
    assert not [tag for image in docker_client.images.list() for tag in image.tags
                if tag.startswith("mcr.microsoft.com/windows/")]


BAD_INPUT = [
    ({"name": "Bad Name"}, "name: 'Bad Name' is not a valid image reference"),
    ({"name": "127.0.0.1:5551/wct5/x:1.0"}, "has a tag or digest"),
    ({"name": "127.0.0.1:5551/wct5/x", "version": "not a tag"}, "version: 'not a tag' is not a valid tag"),
    ({"name": "127.0.0.1:5551/wct5/x"}, "version: auto chooses among the channel tags"),
    ({"name": "127.0.0.1:5551/wct5/x", "version": "1", "path": "/tmp/x.tar"}, "path: '/tmp/x.tar' is only used"),
    ({"name": "127.0.0.1:5551/wct5/x", "version": "1", "source": "archive"}, "path: source: archive needs"),
    ({"name": "127.0.0.1:5551/wct5/x", "version": "1", "source": "archive", "path": "rel.tar"},
     "path: 'rel.tar' is not an absolute path"),
    ({"name": "NanoServer", "source": "provider"}, "source: provider needs a Windows host"),
    ({"name": "127.0.0.1:5551/wct5/x", "version": "1", "timeout": 0}, "timeout: 0 must be a positive"),
    ({"name": "NanoServer", "registry": "https://mcr.microsoft.com"}, "registry: 'https://mcr.microsoft.com'"),
    ({"name": "NanoServer", "tag_latest": False, "latest_name": "x"}, "latest_name: 'x' is only used"),
    ({"name": "NanoServer", "isolation": "vm"}, "isolation"),
]


def test_bad_input_fails_before_the_host_is_asked(run_playbook):
    run = run_playbook([task("bad %d" % index, ignore=True, **case[0]) for index, case in enumerate(BAD_INPUT)],
                       extra_args=["-vvv"])
    for index, case in enumerate(BAD_INPUT):
        message = case[1]
        result = run.task("bad %d" % index)
        assert result["failed"] is True, result
        assert message in result["msg"], (message, result["msg"])
    assert "EXEC " not in run.stdout, "something ran on the host"
