# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""wincontainers.images.docker_image_load with ``src`` against the real engine: the archive is
copied from the controller with the connection's own ``put_file`` (``local``, and ``ssh`` to the
loopback sshd, whose sftp really carries it), joined and checked by the real POSIX
``join_parts``, then loaded by the real ``docker load``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from lifecycle_support import image_or_none, own_image, remove_images, unique

PREFIX = "wct3/copy-"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(src, path, task, **extra):
    return dict({"name": task, "wincontainers.images.docker_image_load": {"src": str(src), "path": str(path)}}, **extra)


def test_copy_then_load_then_nothing_over_local_and_ssh(run_playbook, docker_client, engine, target, tmp_path):
    repository = PREFIX + unique("x")[2:]
    try:
        one = own_image(docker_client, repository, "1", "one")
        two = own_image(docker_client, repository, "2", "two")
        controller = tmp_path / "controller"
        controller.mkdir()
        archive_one, archive_two = controller / "one.tar", controller / "two.tar"
        for image, archive in ((one, archive_one), (two, archive_two)):
            with open(archive, "wb") as stream:
                for block in image.save(named=True):
                    stream.write(block)
        docker_client.images.remove(repository + ":1")
        docker_client.images.remove(repository + ":2")
        host_dir = tmp_path / "host"
        host_dir.mkdir()
        target_path = host_dir / "offline.tar"

        check = run_playbook([load(archive_one, target_path, "check")], check=True, target=target).assert_ok()
        checked = check.task("check")["result"]
        assert checked["changed"] and checked["copied"], check
        assert not target_path.exists() and image_or_none(docker_client, repository + ":1") is None

        first = run_playbook([load(archive_one, target_path, "copy")], diff=True, target=target).assert_ok()
        copied = first.task("copy")["result"]
        assert copied["changed"] and copied["copied"] and copied["loaded"] == [repository + ":1"], first
        assert copied["sha256"] == sha256(archive_one) == sha256(target_path)
        assert copied["transfer"]["chunks_sent"] == 1 and copied["diff"]["before"]["archive"] is None
        assert docker_client.images.get(repository + ":1").id == one.id
        assert sorted(p.name for p in host_dir.iterdir()) == ["offline.tar"]  # no chunk or temporary file left

        again = run_playbook([load(archive_one, target_path, "again")], target=target).assert_ok()
        result = again.task("again")["result"]
        assert not again.changed and not result["copied"] and result["loaded"] == []

        # the host holds another archive at that path: it is replaced, and the new image loaded
        other = run_playbook([load(archive_two, target_path, "other")], target=target).assert_ok()
        replaced = other.task("other")["result"]
        assert replaced["copied"] and replaced["loaded"] == [repository + ":2"], other
        assert sha256(target_path) == sha256(archive_two)
        assert docker_client.images.get(repository + ":2").id == two.id
    finally:
        remove_images(docker_client, repository)
