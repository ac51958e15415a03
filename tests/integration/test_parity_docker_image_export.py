# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""community.docker parity of docker_image_export: ``images`` holds one inspect object per name, in
order; check mode, first export, no change for an archive that holds the images, ``force``;
``platform`` accepted (saved with C(docker save --platform) where the engine can, refused clearly
where it cannot) and checked before anything runs; a missing image fails."""

from __future__ import annotations

import tarfile

import parity_support as ps
from lifecycle_support import own_image

PREFIX = "wct5/export-"


def export(title, /, **args):
    return ps.task("docker_image_export", title, **args)


def archive_ids(path):
    import json

    with tarfile.open(path) as tar:
        return sorted({entry["Config"].rsplit("/", 1)[-1].replace(".json", "") for entry in
                       json.load(tar.extractfile("manifest.json"))})


def test_export_check_then_run_then_no_change_then_force(run_playbook, docker_client, repo, tmp_path):
    image = own_image(docker_client, repo, "1", "parity-export")
    image.tag(repo, "2")
    path = str(tmp_path / "images.tar")
    args = dict(names=[repo + ":1", repo + ":2"], path=path)
    run = run_playbook([export("check", check_mode=True, **args), export("export", **args), export("again", **args),
                        export("force", force=True, **args)]).assert_ok()
    for step, changed in (("check", True), ("export", True), ("again", False), ("force", True)):
        result = run.task(step)["result"]
        assert run.task(step)["changed"] is changed, step
        assert [found["Id"] for found in result["images"]] == [image.id, image.id], step
    assert image.id.split(":", 1)[1] in archive_ids(path)[0]


def test_platform_is_accepted_as_the_peer_takes_it(run_playbook, docker_client, engine, repo, tmp_path):
    own_image(docker_client, repo, "1", "parity-export-platform")
    path = str(tmp_path / "platform.tar")
    run = run_playbook([export("platform", names=[repo + ":1"], path=path, platform="linux/amd64", ignore_errors=True),
                        export("bad platform", names=[repo + ":1"], path=path, platform="linux/foo", ignore_errors=True)])
    if ps.engine_api_version(engine) >= (1, 48):
        assert run.task("platform")["changed"] is True and not run.task("platform")["failed"]
    else:
        assert run.task("platform")["failed"]
        assert run.task("platform")["msg"].startswith("platform: localhost: this Docker engine cannot save one platform")
    assert run.task("bad platform")["failed"]
    assert run.task("bad platform")["msg"].startswith("platform: 'linux/foo' names an unknown architecture")


def test_a_missing_image_fails(run_playbook, repo, tmp_path):
    run = run_playbook([export("missing", names=[repo + ":absent"], path=str(tmp_path / "x.tar"), ignore_errors=True)])
    assert run.task("missing")["failed"] and run.task("missing")["msg"].startswith("names: no image")
    assert not (tmp_path / "x.tar").exists()
