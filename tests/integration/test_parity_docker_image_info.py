# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""community.docker parity of docker_image_info: ``images`` holds one inspect object per name found,
in the order of ``name`` (two names of one image give it twice, a missing name gives nothing), a
name without tag means ``latest``, IDs work as names, and without ``name`` every image is listed;
never a change, the same in check mode."""

from __future__ import annotations

import parity_support as ps
from lifecycle_support import image_or_none, own_image

PREFIX = "wct5/info-"


def info(title, /, **args):
    return ps.task("docker_image_info", title, **args)


def test_one_entry_per_name_in_request_order(run_playbook, docker_client, repo):
    image = own_image(docker_client, repo, "latest", "parity-info")
    image.tag(repo, "second")
    other = own_image(docker_client, repo, "other", "parity-info-other")
    names = [repo + ":second", repo + ":missing", other.id, repo, image.id.split(":", 1)[1][:12]]
    for check in (False, True):
        run = run_playbook([info("named", name=names, check_mode=check)]).assert_ok()
        result = run.task("named")
        assert result["changed"] is False
        assert [found["Id"] for found in result["result"]["images"]] == [image.id, other.id, image.id, image.id]
        assert result["result"]["images"][0] == result["result"]["images"][2]
        assert sorted(result["result"]["images"][0]["RepoTags"]) == sorted([repo + ":latest", repo + ":second"])


def test_a_single_string_name_and_a_missing_image(run_playbook, docker_client, repo):
    image = own_image(docker_client, repo, "latest", "parity-info-single")
    run = run_playbook([info("string", name=repo), info("absent", name=repo + ":absent")]).assert_ok()
    assert [found["Id"] for found in run.task("string")["result"]["images"]] == [image.id]
    assert run.task("absent")["result"]["images"] == [] and run.task("absent")["changed"] is False
    assert image_or_none(docker_client, repo + ":absent") is None


def test_every_image_without_name(run_playbook, docker_client, repo):
    image = own_image(docker_client, repo, "latest", "parity-info-all")
    run = run_playbook([info("all")]).assert_ok()
    listed = run.task("all")["result"]["images"]
    assert image.id in {found["Id"] for found in listed}
    assert all({"Id", "RepoTags", "Os", "Architecture"} <= set(found) for found in listed)


def test_bad_name_fails_clearly(run_playbook):
    run = run_playbook([info("bad", name=["Not A Reference"], ignore_errors=True)])
    assert run.task("bad")["failed"] and run.task("bad")["msg"].startswith("name: 'Not A Reference'")
