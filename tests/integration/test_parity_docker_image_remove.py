# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""community.docker parity of docker_image_remove: ``image`` (``{}`` when absent), ``actions``
(C(Removed image <name>)), ``deleted``/``untagged``, and with --diff ``before``/``after`` of
``exists``, ``id``, ``tags``, ``digests`` (sorted); check mode predicts exactly; an ID with several
tags needs ``force``."""

from __future__ import annotations

import parity_support as ps
from lifecycle_support import image_or_none, own_image

PREFIX = "wct5/rm-"


def remove(title, /, **args):
    return ps.task("docker_image_remove", title, **args)


def test_absent_image_is_no_change(run_playbook, repo):
    run = run_playbook([remove("absent", name=repo + ":absent"),
                        remove("absent, check", name=repo, tag="absent", check_mode=True)], diff=True).assert_ok()
    for step in ("absent", "absent, check"):
        result = run.task(step)["result"]
        assert run.task(step)["changed"] is False
        assert result["image"] == {} and result["actions"] == [] and result["deleted"] == [] and result["untagged"] == []
        assert result["diff"] == {"before": {"exists": False}, "after": {"exists": False}}


def test_one_tag_then_the_image(run_playbook, docker_client, repo):
    image = own_image(docker_client, repo, "a", "parity-remove")
    image.tag(repo, "b")
    both = sorted([repo + ":a", repo + ":b"])
    run = run_playbook([remove("tag, check", name=repo + ":a", check_mode=True), remove("tag", name=repo, tag="a"),
                        remove("tag again", name=repo + ":a")], diff=True).assert_ok()
    for step in ("tag, check", "tag"):
        result = run.task(step)["result"]
        assert run.task(step)["changed"] is True and result["actions"] == ["Removed image %s:a" % repo]
        assert result["image"]["Id"] == image.id and result["untagged"] == [repo + ":a"] and result["deleted"] == []
        assert result["diff"]["before"] == {"exists": True, "id": image.id, "tags": both, "digests": []}
        assert result["diff"]["after"] == {"exists": True, "id": image.id, "tags": [repo + ":b"], "digests": []}
    assert run.task("tag again")["changed"] is False and run.task("tag again")["result"]["image"] == {}

    run = run_playbook([remove("last, check", name=repo + ":b", check_mode=True), remove("last", name=repo + ":b")],
                       diff=True).assert_ok()
    for step in ("last, check", "last"):
        result = run.task(step)["result"]
        assert run.task(step)["changed"] is True and result["deleted"] == [image.id]
        assert result["untagged"] == [repo + ":b"] and result["diff"]["after"] == {"exists": False}
    assert image_or_none(docker_client, image.id) is None


def test_by_id_with_several_tags_needs_force(run_playbook, docker_client, repo):
    image = own_image(docker_client, repo, "a", "parity-remove-id")
    image.tag(repo, "b")
    run = run_playbook([remove("by id", name=image.id, ignore_errors=True), remove("by id, forced", name=image.id, force=True)])
    assert run.task("by id")["failed"] and "force" in run.task("by id")["msg"]
    forced = run.task("by id, forced")["result"]
    assert run.task("by id, forced")["changed"] is True and forced["deleted"] == [image.id]
    assert sorted(forced["untagged"]) == sorted([repo + ":a", repo + ":b"])
    assert forced["actions"] == ["Removed image %s" % image.id]
    assert image_or_none(docker_client, image.id) is None


def test_bad_input_fails_clearly(run_playbook):
    run = run_playbook([remove("bad", name="Not A Reference", ignore_errors=True),
                        remove("bad tag", name="wct5/x", tag="a b", ignore_errors=True)])
    assert run.task("bad")["failed"] and run.task("bad")["msg"].startswith("name: ")
    assert run.task("bad tag")["failed"] and run.task("bad tag")["msg"].startswith("tag: ")
