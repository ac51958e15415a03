# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the registry module tests (docker_login, docker_image_pull, docker_image_push).

* test images made offline (``docker import`` of random data: each has a layer of its own, so a
  pull really downloads and removing the image really removes its layer), pushed to the
  anonymous registry under the ``wct4/`` prefix;
* ``SlowProxy``: a TCP proxy in front of a registry whose download rate the test sets, so that a
  pull lasts as long as the test needs (a dropped connection or a killed controller in the
  middle of it) without a multi-GB image;
* the detached job directories of the POSIX dialect, to check that a job was cleaned up;
* ``start_playbook``: ansible-playbook in a process group of its own, for tests that SIGKILL the
  controller (the harness's ``run_playbook`` waits for the run to end).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

import wc_harness

PREFIX = "wct4"
CONNECTION_PLUGINS = Path(__file__).resolve().parent / "connection_plugins"


def docker(engine, *arguments: str, check: bool = True, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(engine.env)
    env.pop("DOCKER_CONFIG", None)
    return subprocess.run(["docker", *arguments], env=env, input=stdin, capture_output=True, check=check, timeout=600)


SINGLE = "application/vnd.docker.distribution.manifest.v2+json"
LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def registry_manifest(registry: str, repository: str, tag: str, accept: str = SINGLE) -> dict[str, Any] | None:
    """The manifest of an anonymous plain-HTTP registry's tag (None when it has none)."""
    request = urllib.request.Request(
        "http://%s/v2/%s/manifests/%s" % (registry, repository, tag), headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            document = json.loads(response.read())
            document["_digest"] = response.headers.get("Docker-Content-Digest")
            return document
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def build_image(engine, reference: str, size: int, seed: str) -> str:
    """``docker import`` a layer of ``size`` random bytes (plus ``seed``) as ``reference``; its ID."""
    with tempfile.TemporaryDirectory(prefix="wct4-image-") as work:
        archive = Path(work) / "layer.tar"
        with tarfile.open(archive, "w") as tar:
            for name, data in (("seed.txt", seed.encode()), ("random.bin", os.urandom(size))):
                path = Path(work) / name
                path.write_bytes(data)
                tar.add(path, arcname=name)
        docker(engine, "import", "--change", "LABEL org.wincontainers.test=wct4", str(archive), reference)
    return docker(engine, "image", "inspect", "--format", "{{.Id}}", reference).stdout.decode().strip()


def published_image(engine, repository: str, tag: str, size: int, seed: str | None = None) -> str:
    """An image in the anonymous registry (built and pushed once, kept there); its image ID.

    The local copy is removed, so a pull downloads it.
    """
    manifest = registry_manifest(engine.registry_anon, repository, tag)
    if manifest is not None:
        return manifest["config"]["digest"]
    reference = "%s/%s:%s" % (engine.registry_anon, repository, tag)
    image_id = build_image(engine, reference, size, seed or "%s:%s" % (repository, tag))
    docker(engine, "push", reference)
    remove_image(engine, image_id)
    return image_id


def push_new_content(engine, repository: str, tag: str, size: int) -> str:
    """Push a new image (new ID) to the anonymous registry's tag; its ID (the local copy is removed)."""
    reference = "%s/%s:%s" % (engine.registry_anon, repository, tag)
    image_id = build_image(engine, reference, size, "%s %s" % (reference, time.time()))
    docker(engine, "push", reference)
    remove_image(engine, image_id)
    return image_id


def publish_authenticated(engine, registry: str, repository: str, tag: str, size: int) -> str:
    """An image of its own in the authenticated registry (pushed with a throwaway login); its ID.

    The local copy is removed.
    """
    reference = "%s/%s:%s" % (registry, repository, tag)
    image_id = build_image(engine, reference, size, "%s %s" % (reference, time.time()))
    with tempfile.TemporaryDirectory(prefix="wct4-login-") as config:
        env = dict(os.environ)
        env.update(engine.env)
        env["DOCKER_CONFIG"] = config
        subprocess.run(["docker", "login", "--username", engine.registry_user, "--password-stdin", registry],
                       input=engine.registry_password.encode(), env=env, capture_output=True, check=True, timeout=60)
        subprocess.run(["docker", "push", reference], env=env, capture_output=True, check=True, timeout=600)
    remove_image(engine, image_id)
    return image_id


def remove_image(engine, image_id: str) -> None:
    """Remove an image of these tests by ID, whatever names it has (the IDs are of our own images)."""
    docker(engine, "image", "rm", "--force", image_id, check=False)


def local_image(docker_client, name: str):
    import docker as docker_sdk

    try:
        return docker_client.images.get(name)
    except docker_sdk.errors.ImageNotFound:
        return None


# --- a registry proxy with a download rate -----------------------------------------------------

class SlowProxy:
    """Forwards 127.0.0.1:<port> to a registry; responses flow at ``rate`` bytes a second (None: at once)."""

    CHUNK = 16384

    def __init__(self, upstream: str, rate: float | None = None) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.rate = rate
        self.transferred = 0
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(32)
        self.port = self._server.getsockname()[1]
        self.address = "127.0.0.1:%d" % self.port
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _address = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=30)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, slow: bool) -> None:
        try:
            while True:
                data = source.recv(self.CHUNK)
                if not data:
                    break
                target.sendall(data)
                if slow:
                    with self._lock:
                        self.transferred += len(data)
                    rate = self.rate
                    if rate:
                        time.sleep(len(data) / rate)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._closed.set()
        self._server.close()
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass


# --- detached jobs ----------------------------------------------------------------------------

def jobs_root() -> Path:
    """Where the POSIX dialect keeps this user's jobs (docs/architecture.md)."""
    return Path(os.path.expanduser("~")) / ".ansible" / "wincontainers.images-jobs"


def runner_pid(job: Path) -> int:
    """The runner's PID from a job's ``runner.pid`` ("PID START")."""
    return int(job.joinpath("runner.pid").read_text(encoding="utf-8").split()[0])


def job_directories(marker: str) -> list[Path]:
    """Job directories of the POSIX dialect whose request mentions ``marker``."""
    found = []
    for request in jobs_root().glob("*/request.json"):
        try:
            if marker in request.read_text(encoding="utf-8"):
                found.append(request.parent)
        except OSError:
            continue
    return found


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as handle:
            return handle.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return False


def wait_for(condition, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


# --- ansible-playbook in a process group of its own ----------------------------------------------

def start_playbook(tasks: list[dict[str, Any]], workdir: Path, engine, collections: str,
                   docker_config: Path) -> subprocess.Popen:
    """Start ansible-playbook (local connection, the harness's settings) in a new session."""
    workdir.mkdir(parents=True, exist_ok=True)
    play = [{"name": "wct4 background run", "hosts": "localhost", "gather_facts": False, "connection": "local",
             "tasks": tasks}]
    (workdir / "playbook.yml").write_text(yaml.safe_dump(play, sort_keys=False), encoding="utf-8")
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                                 "ansible_python_interpreter": sys.executable}}}}
    (workdir / "inventory.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    (workdir / "ansible.cfg").write_text("[defaults]\n", encoding="utf-8")
    env = dict(os.environ)
    env.update(engine.env)
    env.update({
        "ANSIBLE_CONFIG": str(workdir / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": collections,
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp-local"),
        "DOCKER_CONFIG": str(docker_config),
        "PYTHONUNBUFFERED": "1",
    })
    command = [wc_harness.ansible_playbook_executable(), "-i", str(workdir / "inventory.yml"),
               str(workdir / "playbook.yml")]
    with open(workdir / "output.txt", "wb") as output:
        return subprocess.Popen(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                stderr=subprocess.STDOUT, start_new_session=True)
