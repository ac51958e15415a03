# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the base image module tests (prefix ``wct5/``).

Test images are made offline with ``docker import`` of a one-file tarball whose content is
unique per call (so each has an image ID of its own), pushed to the anonymous registry, and
their local copies removed, so that a task really pulls them.
"""

from __future__ import annotations

import io
import tarfile
import uuid

PREFIX = "wct5"


def make_image(docker_client, repository: str, tag: str, content: str | None = None) -> str:
    """Import a tiny image as ``repository:tag``; return its ID."""
    data = (content or "%s:%s %s\n" % (repository, tag, uuid.uuid4().hex)).encode("utf-8")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("content.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    docker_client.api.import_image_from_data(buffer.getvalue(), repository=repository, tag=tag)
    return docker_client.images.get("%s:%s" % (repository, tag)).id


def publish(docker_client, repository: str, tag: str) -> str:
    """Make ``repository:tag`` (a full registry reference), push it, remove the local copy; return its ID."""
    image_id = make_image(docker_client, repository, tag)
    for line in docker_client.images.push(repository, tag=tag, stream=True, decode=True):
        if "error" in line:
            raise AssertionError("push of %s:%s failed: %s" % (repository, tag, line["error"]))
    remove(docker_client, image_id)
    return image_id


def remove(docker_client, image_id: str) -> None:
    """Remove an image of this file's tests with every tag it has (best effort)."""
    try:
        docker_client.images.remove(image_id, force=True)
    except Exception:  # noqa: BLE001 - already gone
        pass


def image_id(docker_client, name: str) -> str | None:
    try:
        return docker_client.images.get(name).id
    except Exception:  # noqa: BLE001 - docker.errors.ImageNotFound
        return None
