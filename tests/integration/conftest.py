# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for tests/integration: a real Docker engine, real registries, real ansible-playbook.

Fixtures:

* ``engine`` (session): :class:`wc_harness.Engine` read from ``$WC_ENGINE_DIR/env`` (written by
  ``scripts/engine.sh start``); the test fails, with the command to run, if the engine does
  not answer.
* ``docker_client`` (session): a Docker SDK client on the same engine, for independent checks.
* ``run_playbook`` (function): ``run_playbook(tasks, check=False, diff=False, extra_vars=None,
  hosts="localhost", connection="local", **options) -> PlaybookRun``; see
  :func:`wc_harness.run_playbook`. All runs of one test share one DOCKER_CONFIG directory
  (so a login persists between them, and never touches ~/.docker).
* ``unique_repo`` (function): a fresh repository name ``wctest/it-<hex>``; local images
  carrying it are removed after the test.
* ``repo`` (function): a fresh repository name under the test module's ``PREFIX``, with the
  base image present (``lifecycle_support``); its images are removed after the test.

Helpers: ``from wc_harness import assert_recap, PlaybookRun``.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import wc_harness  # noqa: E402  (needs the path above)
from lifecycle_support import ensure_base_image, remove_images, unique  # noqa: E402
from wc_harness import Engine, HarnessError, PlaybookRun  # noqa: E402


def pytest_report_header(config):
    """Say which engine and collection the run uses."""
    try:
        engine = wc_harness.load_engine(check=False)
        where = f"engine: DOCKER_HOST={engine.docker_host}, registries {engine.registry_anon} {engine.registry_auth}"
        if engine.registry_tls:
            where += f" {engine.registry_tls}"
    except HarnessError as exc:
        where = f"engine: not configured ({exc})"
    try:
        coll = f"collection: WC_COLLECTIONS_PATH={wc_harness.collections_path()}"
    except HarnessError as exc:
        coll = f"collection: {exc}"
    return [where, coll]


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine and registries of scripts/engine.sh (fails the test when not running)."""
    try:
        return wc_harness.load_engine(check=True)
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def collections_path() -> str:
    """ANSIBLE_COLLECTIONS_PATH holding the installed wincontainers.images (WC_COLLECTIONS_PATH)."""
    try:
        return wc_harness.collections_path()
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def docker_client(engine):
    """Docker SDK client on the test engine."""
    import docker

    client = docker.DockerClient(base_url=engine.docker_host, timeout=300)
    yield client
    client.close()


@pytest.fixture
def run_playbook(engine, collections_path, tmp_path):
    """Callable running tasks through the real ansible-playbook; returns a PlaybookRun."""
    workdir = tmp_path / "playbooks"
    docker_config = tmp_path / "docker-config"

    def _run(tasks, check=False, diff=False, extra_vars=None, hosts="localhost", connection="local", **options) -> PlaybookRun:
        options.setdefault("docker_config", docker_config)
        return wc_harness.run_playbook(
            tasks,
            check=check,
            diff=diff,
            extra_vars=extra_vars,
            hosts=hosts,
            connection=connection,
            workdir=workdir,
            engine=engine,
            collections=collections_path,
            **options,
        )

    return _run


@pytest.fixture
def repo(request, docker_client, engine):
    """A fresh repository name under the test module's ``PREFIX``, with the base image present;
    its local images are removed afterwards."""
    ensure_base_image(docker_client, engine)
    name = request.module.PREFIX + unique("x")[2:]
    yield name
    remove_images(docker_client, name)


@pytest.fixture
def unique_repo(docker_client):
    """A repository name no other test uses; its local images are removed afterwards."""
    name = f"wctest/it-{uuid.uuid4().hex[:12]}"
    yield name
    for image in docker_client.images.list():
        for tag in image.tags:
            repo = tag.rsplit(":", 1)[0] if ":" in tag.rsplit("/", 1)[-1] else tag
            if repo == name or repo.endswith("/" + name):
                try:
                    docker_client.images.remove(tag, force=True)
                except Exception:  # noqa: BLE001 - best-effort cleanup
                    pass
