# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""community.docker parity of docker_image_push: ``image`` (the local inspect object) and ``actions``
(C(Pushed image <name>)); a push that uploads changes, one the registry already holds does not;
``tag`` applies to a name without one; failures for a missing image, an ID and a digest. (The peer
has no check mode for push; ours predicts from the registry, docs/compat.md.)"""

from __future__ import annotations

import uuid

import parity_support as ps
import pytest
import registry_support as rs

PREFIX = ps.PREFIX


@pytest.fixture
def local(engine):
    repository = ps.unique_repository("push")
    name = "%s/%s" % (engine.registry_anon, repository)
    image_id = rs.build_image(engine, name + ":1", 64 * 1024, "parity push %s" % uuid.uuid4().hex)
    yield name, image_id
    rs.remove_image(engine, image_id)


def push(title, /, **args):
    return ps.task("docker_image_push", title, **args)


def test_push_then_nothing_to_do(run_playbook, engine, local):
    name, image_id = local
    run = run_playbook([push("check", name=name, tag="1", check_mode=True), push("push", name=name, tag="1"),
                        push("again", name=name + ":1")]).assert_ok()
    for step in ("check", "push"):
        result = run.task(step)["result"]
        assert run.task(step)["changed"] is True and result["actions"] == ["Pushed image %s:1" % name], step
        assert result["image"]["Id"] == image_id and result["image"]["RepoTags"] == [name + ":1"]
    again = run.task("again")["result"]
    assert run.task("again")["changed"] is False and again["actions"] == [] and again["image"]["Id"] == image_id
    repository = name.split("/", 1)[1]
    assert rs.registry_manifest(engine.registry_anon, repository, "1")["config"]["digest"] == image_id


def test_failures(run_playbook, engine, local):
    name, image_id = local
    run = run_playbook([
        push("missing", name=name + ":absent", ignore_errors=True),
        push("by id", name=image_id, ignore_errors=True),
        push("digest", name=name + "@sha256:" + "a" * 64, ignore_errors=True),
        push("bad tag", name=name, tag="foo/bar", ignore_errors=True),
    ])
    assert run.task("missing")["failed"] and "there is no local image" in run.task("missing")["msg"]
    for step in ("by id", "digest", "bad tag"):
        assert run.task(step)["failed"], step
    assert run.task("digest")["msg"].startswith("name: ") and run.task("bad tag")["msg"].startswith("tag: ")
