# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the image integration tests (docker_image_info, docker_image_tag and the image
lifecycle modules: docker_commit, docker_image_remove, docker_image_history, docker_image_export,
docker_image_load).

Everything these tests create is named ``wct2/...``, ``wct3/...`` (images) or ``wct3-...`` (containers) with
a random part, and removed afterwards; images of others (``wctest/busybox:1.0``) are only read
or used as a parent.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
BASE_IMAGE = "wctest/busybox:1.0"
_EXEC_LINE = re.compile(r"^<[^>]+> EXEC ", re.MULTILINE)


def unique(prefix: str) -> str:
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def ensure_base_image(docker_client, engine) -> None:
    """wctest/busybox:1.0 exists (scripts/test-images.sh builds it offline when it does not)."""
    try:
        docker_client.images.get(BASE_IMAGE)
        return
    except Exception:  # noqa: BLE001 - docker.errors.ImageNotFound
        pass
    env = dict(os.environ)
    env.update(engine.env)
    subprocess.run(["bash", str(REPO_ROOT / "scripts" / "test-images.sh"), "--no-push"], check=True, env=env,
                   timeout=600, capture_output=True)


def run_container(docker_client, name: str, script: str, wait_for: str | None = None):
    """A container of the base image running ``script``; waits until ``wait_for`` shows in its diff."""
    container = docker_client.containers.run(BASE_IMAGE, ["sh", "-c", script], name=name, detach=True,
                                             network_disabled=True)
    if wait_for:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(change["Path"] == wait_for for change in container.diff() or []):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the container never created %s" % wait_for)
    return container


def own_image(docker_client, repository: str, tag: str, content: str):
    """A new image of our own (a child of the base image with one file), so removing it by ID
    or loading it back never touches an image of someone else."""
    name = unique("wct3-build")
    container = docker_client.containers.create(BASE_IMAGE, ["sh", "-c", "echo %s > /wct3-content" % content],
                                                name=name, network_disabled=True)
    try:
        container.start()
        container.wait(timeout=60)
        return container.commit(repository=repository, tag=tag)
    finally:
        container.remove(force=True)


def large_image(docker_client, repository: str, megabytes: int):
    """An imported image with ``megabytes`` of random data (long enough saves for job tests)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        data = os.urandom(megabytes * 1024 * 1024)
        info = tarfile.TarInfo("data/random.bin")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    docker_client.api.import_image_from_data(buffer.getvalue(), repository=repository, tag="1")
    return docker_client.images.get("%s:1" % repository)


def remove_images(docker_client, prefix: str) -> None:
    """Remove every image with a tag under ``prefix`` (ours only), containers first."""
    for container in docker_client.containers.list(all=True):
        if container.name.startswith(prefix.replace("/", "-")):
            try:
                container.remove(force=True)
            except Exception:  # noqa: BLE001 - best-effort cleanup
                pass
    for image in docker_client.images.list():
        for tag in image.tags:
            if tag.startswith(prefix):
                try:
                    docker_client.images.remove(tag, force=True)
                except Exception:  # noqa: BLE001 - best-effort cleanup
                    pass


def exec_count(run, task: str | None = None) -> int:
    """The execs the run (or its task named ``task``) sent to the host, from ansible's -vvv output."""
    if task is None:
        return len(_EXEC_LINE.findall(run.stdout))
    sections = re.split(r"^TASK \[", run.stdout, flags=re.MULTILINE)
    found = [section for section in sections[1:] if section.startswith(task + "]")]
    if len(found) != 1:
        raise AssertionError("expected one section of task %r in the output, got %d" % (task, len(found)))
    return len(_EXEC_LINE.findall(found[0]))


def image_or_none(docker_client, name: str):
    try:
        return docker_client.images.get(name)
    except Exception:  # noqa: BLE001 - docker.errors.ImageNotFound
        return None


def path_without_docker(directory: Path) -> str:
    """A PATH of one directory holding the standard tools (and python3) but no docker."""
    directory.mkdir()
    for source in ("/usr/local/bin", "/usr/bin", "/bin"):
        if not os.path.isdir(source):
            continue
        for name in os.listdir(source):
            if not name.startswith("docker") and not os.path.lexists(directory / name):
                (directory / name).symlink_to(os.path.join(source, name))
    (directory / "python3").unlink(missing_ok=True)
    (directory / "python3").symlink_to(sys.executable)
    assert shutil.which("docker", path=str(directory)) is None and shutil.which("sleep", path=str(directory))
    return str(directory)
