# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""community.docker parity of docker_image_pull: a peer playbook's tasks, with only the collection
name changed, against the real engine and the anonymous registry.

The peer documents: ``pull`` V(always) / V(not_present); ``platform`` (an architecture alone is
accepted); ``actions`` (C(Pulled image <name>) per pull), ``image`` (the inspect object, ``{}``
when absent) and a diff ``before``/``after`` of ``exists``/``id`` (``id`` V(unknown) after, in
check mode). Where ours differs on purpose (pull=always in check mode asks the registry and can
predict "no change") the test says so and docs/compat.md lists it.
"""

from __future__ import annotations

import pytest

import parity_support as ps
import registry_support as rs

PREFIX = ps.PREFIX


@pytest.fixture
def multi(engine):
    """A fresh tag that is a manifest list of a linux/amd64 and a linux/arm64 image: (name, {arch: ID})."""
    repository = ps.unique_repository("pull")
    ids = ps.publish_multi_platform(engine, repository)
    yield "%s/%s:1" % (engine.registry_anon, repository), ids
    ps.remove_images(engine, *ids.values())


def pull(title, image, /, **args):
    return ps.task("docker_image_pull", title, name=image, **args)


def test_platform_changes_as_the_peer_documents(run_playbook, docker_client, multi):
    """The peer's basic sequence: amd64, amd64 again (always), arm64 (always), arm64 (not_present), amd64 (not_present)."""
    name, ids = multi
    steps = [
        ("absent, check", dict(platform="amd64", check_mode=True)),
        ("absent", dict(platform="amd64")),
        ("always same, check", dict(platform="amd64", pull="always", check_mode=True)),
        ("always same", dict(platform="amd64", pull="always")),
        ("always other, check", dict(platform="arm64", pull="always", check_mode=True)),
        ("always other", dict(platform="arm64", pull="always")),
        ("not_present same, check", dict(platform="arm64", pull="not_present", check_mode=True)),
        ("not_present same", dict(platform="arm64", pull="not_present")),
        ("not_present other, check", dict(platform="amd64", pull="not_present", check_mode=True)),
        ("not_present other", dict(platform="amd64", pull="not_present")),
    ]
    run = run_playbook([pull(step, name, **args) for step, args in steps]).assert_ok()
    result = {step: run.task(step)["result"] for step, _args in steps}
    changed = {step: run.task(step)["changed"] for step, _args in steps}
    action = ["Pulled image %s" % name]

    assert changed["absent, check"] and result["absent, check"]["actions"] == action
    assert result["absent, check"]["diff"]["before"]["exists"] is False
    assert result["absent, check"]["diff"]["after"]["id"] == "unknown"
    assert result["absent, check"]["image"] == {}

    assert changed["absent"] and result["absent"]["actions"] == action
    assert result["absent"]["diff"]["before"]["exists"] is False
    assert result["absent"]["diff"]["after"]["id"] == ids["amd64"] == result["absent"]["image"]["Id"]
    assert result["absent"]["image"]["Architecture"] == "amd64"

    # Ours asks the registry in check mode: the tag still is this image, so no change (the peer
    # always predicts a change here; docs/compat.md).
    assert not changed["always same, check"] and result["always same, check"]["actions"] == action
    assert result["always same, check"]["diff"]["before"]["id"] == ids["amd64"]
    assert result["always same, check"]["diff"]["after"]["id"] == ids["amd64"]
    assert not changed["always same"] and result["always same"]["actions"] == action
    assert result["always same"]["diff"]["before"] == result["always same"]["diff"]["after"]

    # Defect 2: check mode with pull=always saw no change for another platform.
    assert changed["always other, check"] and result["always other, check"]["actions"] == action
    assert result["always other, check"]["diff"]["after"]["id"] == "unknown"
    assert changed["always other"] and result["always other"]["diff"]["before"]["id"] == ids["amd64"]
    assert result["always other"]["diff"]["after"]["id"] == ids["arm64"]
    assert result["always other"]["image"]["Architecture"] == "arm64"

    # Defect 1: an architecture alone was read as an OS, so the image never counted as present.
    for step in ("not_present same, check", "not_present same"):
        assert not changed[step] and result[step]["actions"] == [], step
        assert result[step]["diff"]["before"] == result[step]["diff"]["after"] == {
            "exists": True, "id": ids["arm64"], "images": {name: {"exists": True, "id": ids["arm64"]}}}
    assert result["not_present same"]["images"][0]["pulled"] is False

    assert changed["not_present other, check"] and result["not_present other, check"]["actions"] == action
    assert result["not_present other, check"]["diff"]["after"]["id"] == "unknown"
    assert changed["not_present other"] and result["not_present other"]["diff"]["before"]["id"] == ids["arm64"]
    assert result["not_present other"]["diff"]["after"]["id"] == ids["amd64"] == rs.local_image(docker_client, name).id


@pytest.mark.parametrize("platform", ["amd64", "x86_64", "linux", "linux/amd64", "linux/x86-64", "linux/amd64/v1"])
def test_defect_1_the_engines_platform_counts_as_present(run_playbook, docker_client, multi, platform):
    """With pull: missing, a platform that is the image's (however Docker spells it) pulls nothing, and
    check mode predicts what the run does."""
    name, ids = multi
    run_playbook([pull("first", name, platform="linux/amd64")]).assert_ok().assert_recap(changed=1)
    run = run_playbook([pull("check", name, platform=platform, pull="missing", check_mode=True),
                        pull("run", name, platform=platform, pull="missing")]).assert_ok().assert_recap(changed=0)
    for step in ("check", "run"):
        result = run.task(step)["result"]
        assert result["actions"] == [] and result["images"][0]["pulled"] is False, step
        assert result["image"]["Id"] == ids["amd64"]
    assert rs.job_directories(name) == []  # no pull job ran
    assert rs.local_image(docker_client, name).id == ids["amd64"]


def test_defect_2_check_mode_with_pull_always_sees_another_platform(run_playbook, docker_client, multi):
    """The registry's tag holds the local amd64 image, but the task asks for arm64: check mode predicts
    the change that the run then makes."""
    name, ids = multi
    run_playbook([pull("first", name, platform="linux/amd64")]).assert_ok()
    run = run_playbook([pull("check", name, platform="linux/arm64", pull="always", check_mode=True),
                        pull("run", name, platform="linux/arm64", pull="always")]).assert_ok()
    assert run.task("check")["changed"] is True and run.task("check")["result"]["images"][0]["changed"] is True
    assert run.task("run")["changed"] is True
    assert rs.local_image(docker_client, name).id == ids["arm64"]


def test_default_tag_and_module_defaults_group(run_playbook, docker_client, multi):
    """``tag`` applies to a name without one; the options can come from ``module_defaults`` of the action group."""
    name, ids = multi
    repository = name.rsplit(":", 1)[0]
    play_task = {"name": "grouped", "wincontainers.images.docker_image_pull": {"name": repository},
                 "module_defaults": {"group/wincontainers.images.docker": {"tag": "1", "platform": "linux/amd64"}}}
    run = run_playbook([play_task]).assert_ok()
    result = run.task("grouped")["result"]
    assert run.task("grouped")["changed"] is True and result["actions"] == ["Pulled image %s" % name]
    assert result["image"]["Id"] == ids["amd64"]


def test_failures_are_clear_and_pull_nothing(run_playbook, engine, multi):
    name, ids = multi
    run = run_playbook([
        pull("by ID", ids["amd64"], ignore_errors=True),
        pull("bad tag", name.rsplit(":", 1)[0], tag="foo/bar", ignore_errors=True),
        pull("bad platform", name, platform="foo", ignore_errors=True),
        pull("bad pull", name, pull="sometimes", ignore_errors=True),
        pull("unknown tag", name.rsplit(":", 1)[0] + ":no-such-tag", retries=0, ignore_errors=True),
    ])
    assert run.task("by ID")["failed"] and run.task("by ID")["msg"].startswith("name: ")
    assert run.task("bad tag")["failed"] and run.task("bad tag")["msg"].startswith("tag: 'foo/bar'")
    assert run.task("bad platform")["failed"]
    assert run.task("bad platform")["msg"].startswith("platform: 'foo' is neither a known operating system nor a known architecture")
    assert run.task("bad pull")["failed"] and "always, missing, not_present" in run.task("bad pull")["msg"]
    failed = run.task("unknown tag")
    assert failed["failed"] and failed["changed"] is False and "no-such-tag" in failed["msg"]
    assert failed["result"]["actions"] == ["Pulled image %s" % (name.rsplit(":", 1)[0] + ":no-such-tag")]
