# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""community.docker parity of docker_image_load: ``images`` holds the inspect objects of the archive's
images and ``image_names`` their names; a load changes; a missing archive fails. (The peer loads
again on every run and reports a change; ours loads only what the engine lacks, docs/compat.md.)"""

from __future__ import annotations

import parity_support as ps
from lifecycle_support import image_or_none, own_image

PREFIX = "wct5/load-"


def load(title, /, **args):
    return ps.task("docker_image_load", title, **args)


def test_load_returns_the_inspect_objects(run_playbook, docker_client, repo, tmp_path):
    image = own_image(docker_client, repo, "1", "parity-load")
    path = tmp_path / "image.tar"
    with open(path, "wb") as archive:
        for chunk in image.save(named=True):
            archive.write(chunk)
    docker_client.images.remove(image.id, force=True)
    run = run_playbook([load("check", path=str(path), check_mode=True), load("load", path=str(path)),
                        load("again", path=str(path))]).assert_ok()
    assert run.task("check")["changed"] is True and run.task("check")["result"]["images"] == []
    loaded = run.task("load")["result"]
    assert run.task("load")["changed"] is True and loaded["image_names"] == [repo + ":1"]
    assert [found["Id"] for found in loaded["images"]] == [image.id] and loaded["images"][0]["RepoTags"] == [repo + ":1"]
    assert "Loaded image: %s:1" % repo in loaded["stdout"]
    again = run.task("again")["result"]
    assert run.task("again")["changed"] is False and again["images"] == loaded["images"]
    assert image_or_none(docker_client, repo + ":1").id == image.id


def test_a_missing_archive_fails(run_playbook, tmp_path):
    run = run_playbook([load("missing", path=str(tmp_path / "none.tar"), ignore_errors=True)])
    assert run.task("missing")["failed"] and "does not exist" in run.task("missing")["msg"]
