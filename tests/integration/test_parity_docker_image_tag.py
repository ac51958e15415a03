# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""community.docker parity of docker_image_tag: ``image``, ``tagged_images``, one ``actions`` line per
target, and the diff ``before.images``/``after.images`` (one entry per target: ``name``, ``tag``,
``exists``, ``id``), returned also without --diff; check mode predicts exactly; ``existing_images``
keep/overwrite; failures for a missing source and a target with a digest."""

from __future__ import annotations

import parity_support as ps
from lifecycle_support import image_or_none, own_image

PREFIX = "wct5/tag-"


def tag(title, /, **args):
    return ps.task("docker_image_tag", title, **args)


def test_tag_check_then_run_then_idempotent(run_playbook, docker_client, repo):
    source = own_image(docker_client, repo, "src", "parity-tag")
    targets = [repo + "-a:1", repo + "-b"]
    args = dict(name=repo + ":src", repository=targets)
    run = run_playbook([tag("check", check_mode=True, **args), tag("tag", **args), tag("again", **args),
                        tag("more", name=repo + ":src", repository=targets + [repo + "-c:x"])]).assert_ok()
    check, first, again, more = (run.task(step)["result"] for step in ("check", "tag", "again", "more"))

    assert run.task("check")["changed"] is True and check["tagged_images"] == [repo + "-a:1", repo + "-b:latest"]
    assert check["image"]["Id"] == source.id and len(check["actions"]) == 2
    assert check["diff"]["before"]["images"] == [{"name": repo + "-a", "tag": "1", "exists": False},
                                                 {"name": repo + "-b", "tag": "latest", "exists": False}]
    assert [entry["id"] for entry in check["diff"]["after"]["images"]] == [source.id, source.id]
    assert first["diff"] == check["diff"] and run.task("tag")["changed"] is True
    assert all(action.startswith("Tagged image %s as " % source.id) for action in first["actions"])

    assert run.task("again")["changed"] is False and again["tagged_images"] == []
    assert again["diff"]["before"] == again["diff"]["after"] == check["diff"]["after"]
    assert all(action.startswith("Not tagged image") for action in again["actions"])

    assert run.task("more")["changed"] is True and more["tagged_images"] == [repo + "-c:x"]
    assert more["diff"]["before"]["images"][:2] == more["diff"]["after"]["images"][:2]
    assert more["diff"]["before"]["images"][2] == {"name": repo + "-c", "tag": "x", "exists": False}
    for name in targets[:1] + [repo + "-b:latest", repo + "-c:x"]:
        assert docker_client.images.get(name).id == source.id


def test_existing_images_keep_and_overwrite(run_playbook, docker_client, repo):
    source = own_image(docker_client, repo, "src", "parity-tag-source")
    other = own_image(docker_client, repo, "taken", "parity-tag-other")
    run = run_playbook([
        tag("keep", name=repo + ":src", repository=[repo + ":taken"], existing_images="keep"),
        tag("overwrite, check", name=repo + ":src", repository=[repo + ":taken"], check_mode=True),
        tag("overwrite", name=repo + ":src", repository=[repo + ":taken"]),
    ]).assert_ok()
    assert run.task("keep")["changed"] is False and run.task("keep")["result"]["tagged_images"] == []
    kept = run.task("keep")["result"]["diff"]
    assert kept["before"] == kept["after"] == {"images": [{"name": repo, "tag": "taken", "exists": True, "id": other.id}]}
    assert run.task("overwrite, check")["changed"] is True
    overwrite = run.task("overwrite")["result"]
    assert run.task("overwrite")["changed"] is True and overwrite["tagged_images"] == [repo + ":taken"]
    assert overwrite["diff"]["before"]["images"][0]["id"] == other.id
    assert overwrite["diff"]["after"]["images"][0]["id"] == source.id == docker_client.images.get(repo + ":taken").id


def test_tag_by_image_id_and_the_tag_option(run_playbook, docker_client, repo):
    source = own_image(docker_client, repo, "v2", "parity-tag-id")
    run = run_playbook([tag("by id", name=source.id, repository=[repo + "-id"]),
                        tag("tag option", name=repo, tag="v2", repository=[repo + "-opt"])]).assert_ok()
    assert run.task("by id")["result"]["tagged_images"] == [repo + "-id:latest"]
    # the tag option names the source and every target without a tag, as the peer documents
    assert run.task("tag option")["result"]["tagged_images"] == [repo + "-opt:v2"]
    assert docker_client.images.get(repo + "-opt:v2").id == source.id


def test_failures(run_playbook, docker_client, repo):
    own_image(docker_client, repo, "src", "parity-tag-failures")
    run = run_playbook([
        tag("missing source", name=repo + ":absent", repository=[repo + ":x"], ignore_errors=True),
        tag("digest target", name=repo + ":src", repository=[repo + "@sha256:" + "a" * 64], ignore_errors=True),
        tag("bad tag", name=repo + ":src", repository=[repo + ":bad tag"], ignore_errors=True),
    ])
    assert run.task("missing source")["failed"] and "was not found" in run.task("missing source")["msg"]
    assert run.task("digest target")["failed"] and run.task("digest target")["msg"].startswith("repository: ")
    assert run.task("bad tag")["failed"] and run.task("bad tag")["msg"].startswith("repository: ")
    assert image_or_none(docker_client, repo + ":x") is None
