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
* ``start_playbook`` (function): the same arguments, but ansible-playbook runs in the
  background: a :class:`wc_harness.BackgroundPlaybook` that the test can ``kill()`` (SIGKILL, as
  a dying controller) and ``wait()`` for. Same work directory and DOCKER_CONFIG as ``run_playbook``.
* ``target`` (function, parametrised ``local`` / ``ssh``): a :class:`wc_harness.Target`; pass it
  as ``run_playbook(tasks, target=target)`` to run the tasks over the local connection and over
  a real ssh connection to the loopback sshd of ``scripts/sshd.sh`` (same machine, same engine).
  ``local_target`` and ``ssh_target`` are the two alone. The ssh ones fail the test, with the
  command to run, when that sshd does not answer.
* ``unique_repo`` (function): a fresh repository name ``wctest/it-<hex>``; local images
  carrying it are removed after the test.
* ``repo`` (function): a fresh repository name under the test module's ``PREFIX``, with the
  base image present (``lifecycle_support``); its images are removed after the test.

Helpers: ``from wc_harness import assert_recap, PlaybookRun``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import wc_harness  # noqa: E402  (needs the path above)
from lifecycle_support import ensure_base_image, remove_images, unique  # noqa: E402
from wc_harness import Engine, HarnessError, PlaybookRun, Target  # noqa: E402


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
def start_playbook(engine, collections_path, tmp_path):
    """Callable starting tasks in the background; returns a BackgroundPlaybook (kill, wait)."""
    workdir = tmp_path / "playbooks"
    docker_config = tmp_path / "docker-config"
    started: list[wc_harness.BackgroundPlaybook] = []

    def _start(tasks, check=False, diff=False, extra_vars=None, hosts="localhost", connection="local", **options):
        options.setdefault("docker_config", docker_config)
        run = wc_harness.start_playbook(
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
        started.append(run)
        return run

    yield _start
    for run in started:  # a run the test left going is killed, not left polling the host
        if run.running:
            run.kill()


@pytest.fixture(scope="session")
def ssh_login(engine) -> wc_harness.SshLogin:
    """The loopback sshd of scripts/sshd.sh (fails the test when it does not answer)."""
    login = wc_harness.load_ssh(engine)
    if login is None:
        pytest.fail("the test sshd is not configured (no %s): start it with 'bash scripts/sshd.sh start' "
                    "(make test does)" % (engine.engine_dir / "sshd" / "env"), pytrace=False)
    try:
        wc_harness.check_ssh(login)
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    return login


@pytest.fixture(scope="session")
def ssh_control_dir():
    """A short directory for the ssh ControlPersist sockets; their masters are ended at the end."""
    directory = Path(tempfile.mkdtemp(prefix="wc-cp-", dir="/tmp"))
    yield directory
    wc_harness.stop_ssh_masters(directory)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def local_target() -> Target:
    """The local connection, as a Target."""
    return wc_harness.local_target()


@pytest.fixture
def ssh_target(ssh_login, ssh_control_dir) -> Target:
    """A real ssh connection (as root) to the loopback sshd, as a Target."""
    return wc_harness.ssh_target(ssh_login, ssh_control_dir)


@pytest.fixture(params=["local", "ssh"])
def target(request) -> Target:
    """The local connection and a real ssh connection to the loopback sshd, in turn."""
    if request.param == "ssh":
        return request.getfixturevalue("ssh_target")
    return wc_harness.local_target()


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
