# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration-test harness: the engine started by scripts/engine.sh, and real ansible-playbook runs.

Used through the fixtures in ``conftest.py`` (``engine``, ``docker_client``, ``run_playbook``);
importable directly as ``wc_harness`` for helpers such as :func:`assert_recap`.

Environment:

* ``WC_ENGINE_DIR`` (default ``/tmp/wincontainers-engine``): its ``env`` file (written by
  ``scripts/engine.sh start``) gives DOCKER_HOST and the registries. Variables already set in
  the environment win over the file.
* ``WC_COLLECTIONS_PATH``: where the test command installed the built collection (the
  directory that holds ``ansible_collections/``); becomes ANSIBLE_COLLECTIONS_PATH.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
CALLBACK_DIR = HERE / "callback_plugins"
CALLBACK_NAME = "wc_jsonl"
DEFAULT_ENGINE_DIR = "/tmp/wincontainers-engine"

ENGINE_VARS = (
    "WC_ENGINE_DIR",
    "DOCKER_HOST",
    "WC_REGISTRY_ANON",
    "WC_REGISTRY_AUTH",
    "WC_REGISTRY_TLS",
    "WC_REGISTRY_USER",
    "WC_REGISTRY_PASSWORD_FILE",
    "WC_REGISTRY_CA",
)


class HarnessError(RuntimeError):
    """The test environment is not usable (engine down, collection not installed, ...)."""


# --------------------------------------------------------------------------------------------
# engine


@dataclasses.dataclass(frozen=True)
class Engine:
    """The Docker engine and registries of scripts/engine.sh."""

    engine_dir: Path
    docker_host: str
    registry_anon: str  # host:port, anonymous, plain HTTP
    registry_auth: str  # host:port, TLS + basic auth (127.0.0.1: dockerd does not verify TLS)
    registry_tls: str | None  # same registry under a name dockerd verifies TLS for, or None
    registry_user: str
    registry_password_file: Path
    registry_ca: Path

    @property
    def registry_password(self) -> str:
        """The password of ``registry_user`` (random, generated at engine start)."""
        return self.registry_password_file.read_text(encoding="utf-8").strip()

    @property
    def env(self) -> dict[str, str]:
        """The engine's variables, as scripts/engine.sh env exports them."""
        env = {
            "WC_ENGINE_DIR": str(self.engine_dir),
            "DOCKER_HOST": self.docker_host,
            "WC_REGISTRY_ANON": self.registry_anon,
            "WC_REGISTRY_AUTH": self.registry_auth,
            "WC_REGISTRY_USER": self.registry_user,
            "WC_REGISTRY_PASSWORD_FILE": str(self.registry_password_file),
            "WC_REGISTRY_CA": str(self.registry_ca),
        }
        if self.registry_tls:
            env["WC_REGISTRY_TLS"] = self.registry_tls
        return env


def parse_env_file(path: Path) -> dict[str, str]:
    """Parse the ``export NAME=VALUE`` / ``unset NAME`` lines written by scripts/engine.sh."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, value = words[1].split("=", 1)
            values[name] = value
        elif len(words) >= 2 and words[0] == "unset":
            for name in words[1:]:
                values.pop(name, None)
    return values


def load_engine(check: bool = True) -> Engine:
    """Read the engine's settings; with ``check``, make sure the engine answers."""
    engine_dir = Path(os.environ.get("WC_ENGINE_DIR") or DEFAULT_ENGINE_DIR)
    env_file = engine_dir / "env"
    values: dict[str, str] = {}
    if env_file.is_file():
        values.update(parse_env_file(env_file))
    values.update({k: os.environ[k] for k in ENGINE_VARS if os.environ.get(k)})
    missing = [k for k in ("DOCKER_HOST", "WC_REGISTRY_ANON", "WC_REGISTRY_AUTH") if not values.get(k)]
    if missing:
        raise HarnessError(
            f"the test engine is not configured ({', '.join(missing)} unknown and no {env_file}): "
            "start it with 'bash scripts/engine.sh start' (or run 'make test')"
        )
    engine = Engine(
        engine_dir=engine_dir,
        docker_host=values["DOCKER_HOST"],
        registry_anon=values["WC_REGISTRY_ANON"],
        registry_auth=values["WC_REGISTRY_AUTH"],
        registry_tls=values.get("WC_REGISTRY_TLS") or None,
        registry_user=values.get("WC_REGISTRY_USER", "wctest"),
        registry_password_file=Path(values.get("WC_REGISTRY_PASSWORD_FILE", engine_dir / "registry-b.password")),
        registry_ca=Path(values.get("WC_REGISTRY_CA", engine_dir / "tls" / "ca.crt")),
    )
    if check:
        import docker  # the Docker SDK for Python

        try:
            client = docker.DockerClient(base_url=engine.docker_host, timeout=20)
            try:
                client.ping()
            finally:
                client.close()
        except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
            raise HarnessError(
                f"the Docker engine at DOCKER_HOST={engine.docker_host} does not answer ({exc}); "
                "start it with 'bash scripts/engine.sh start'"
            ) from exc
    return engine


# --------------------------------------------------------------------------------------------
# collection


def collections_path() -> str:
    """ANSIBLE_COLLECTIONS_PATH for the runs: WC_COLLECTIONS_PATH, checked."""
    value = os.environ.get("WC_COLLECTIONS_PATH")
    if not value:
        raise HarnessError(
            "WC_COLLECTIONS_PATH is not set: it must name where the built collection was installed "
            "(the directory holding ansible_collections/). 'make test' sets it; by hand: "
            "eval \"$(bash scripts/build-collection.sh)\""
        )
    for entry in value.split(os.pathsep):
        root = Path(entry)
        if root.name != "ansible_collections":
            root = root / "ansible_collections"
        if (root / "wincontainers" / "images" / "MANIFEST.json").is_file() or (
            root / "wincontainers" / "images" / "galaxy.yml"
        ).is_file():
            return value
    raise HarnessError(f"WC_COLLECTIONS_PATH={value} holds no installed wincontainers.images collection")


# --------------------------------------------------------------------------------------------
# playbook runs


@dataclasses.dataclass
class PlaybookRun:
    """Outcome of one ansible-playbook run."""

    rc: int
    stdout: str
    stderr: str
    results: list[dict[str, Any]]  # one dict per task result, see callback_plugins/wc_jsonl.py
    stats: dict[str, dict[str, int]]  # host -> ok/changed/failures/unreachable/skipped/rescued/ignored
    playbook: Path
    command: list[str]
    workdir: Path
    docker_config: Path
    duration: float

    # -- access ---------------------------------------------------------------------------

    def tasks(self, name: str, host: str | None = None) -> list[dict[str, Any]]:
        """All results of the task(s) called ``name`` (optionally for one host)."""
        return [r for r in self.results if r["task"] == name and (host is None or r["host"] == host)]

    def task(self, name: str, host: str | None = None) -> dict[str, Any]:
        """The single result of task ``name``; fails when there is not exactly one."""
        found = self.tasks(name, host)
        if len(found) != 1:
            names = [r["task"] for r in self.results]
            raise AssertionError(f"expected one result for task {name!r}, got {len(found)}; tasks: {names}\n{self}")
        return found[0]

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.results[index]

    @property
    def changed(self) -> bool:
        """Whether any task reported a change."""
        return any(r["changed"] for r in self.results)

    @property
    def failed(self) -> bool:
        """Whether the run failed (non-zero rc or a failed, not ignored task)."""
        return self.rc != 0 or any(r["failed"] and not r["ignore_errors"] for r in self.results)

    # -- assertions -------------------------------------------------------------------------

    def assert_ok(self) -> PlaybookRun:
        """The run succeeded (rc 0, nothing failed or unreachable)."""
        if self.failed or any(r["unreachable"] for r in self.results):
            raise AssertionError(f"playbook run failed\n{self}")
        return self

    def assert_recap(self, host: str = "localhost", **expected: int) -> PlaybookRun:
        """Compare the play recap of ``host``; see :func:`assert_recap`."""
        assert_recap(self, host=host, **expected)
        return self

    def __str__(self) -> str:
        lines = [f"$ {shlex.join(self.command)}  (rc={self.rc}, {self.duration:.1f}s, in {self.workdir})"]
        lines.append("--- playbook ---")
        lines.append(self.playbook.read_text(encoding="utf-8").rstrip())
        for label, text in (("stdout", self.stdout), ("stderr", self.stderr)):
            text = text.rstrip()
            if len(text) > 8000:
                text = "...\n" + text[-8000:]
            lines.append(f"--- {label} ---")
            lines.append(text)
        return "\n".join(lines)


_RECAP_ALIASES = {"failed": "failures", "failure": "failures"}


def assert_recap(run: PlaybookRun, host: str = "localhost", **expected: int) -> None:
    """Assert recap counters of ``host``: ``ok``, ``changed``, ``failed`` (or ``failures``),
    ``unreachable``, ``skipped``, ``rescued``, ``ignored``. Only the given counters are compared.

    Example: ``assert_recap(run, changed=1, failed=0)``.
    """
    if host not in run.stats:
        raise AssertionError(f"no recap for host {host!r} (hosts: {sorted(run.stats)})\n{run}")
    actual = run.stats[host]
    wrong = {}
    for key, value in expected.items():
        key = _RECAP_ALIASES.get(key, key)
        if key not in actual:
            raise AssertionError(f"unknown recap counter {key!r}; known: {sorted(actual)}")
        if actual[key] != value:
            wrong[key] = (actual[key], value)
    if wrong:
        detail = ", ".join(f"{k}={a} (expected {e})" for k, (a, e) in sorted(wrong.items()))
        raise AssertionError(f"recap of {host}: {detail}; full recap {actual}\n{run}")


def ansible_playbook_executable() -> str:
    """ansible-playbook next to the running Python (the venv), else the one on PATH."""
    candidate = Path(sys.executable).parent / "ansible-playbook"
    if candidate.is_file():
        return str(candidate)
    from shutil import which

    found = which("ansible-playbook")
    if not found:
        raise HarnessError("ansible-playbook not found (run scripts/bootstrap.sh and use .venv/bin/python -m pytest)")
    return found


def _read_jsonl(path: Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    results: list[dict[str, Any]] = []
    stats: dict[str, dict[str, int]] = {}
    if not path.is_file():
        return results, stats
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if record.get("event") == "stats":
            stats = record["hosts"]
        elif record.get("event") == "task":
            results.append(record)
    return results, stats


def run_playbook(
    tasks: list[dict[str, Any]],
    check: bool = False,
    diff: bool = False,
    extra_vars: Mapping[str, Any] | None = None,
    hosts: str = "localhost",
    connection: str = "local",
    *,
    workdir: Path,
    engine: Engine,
    collections: str,
    docker_config: Path | None = None,
    inventory: Mapping[str, Any] | None = None,
    play: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    extra_args: Iterable[str] = (),
    verbosity: int = 0,
    timeout: float = 900,
) -> PlaybookRun:
    """Run ``tasks`` as one play with the real ansible-playbook and return a :class:`PlaybookRun`.

    ``extra_vars`` travel in a file (``-e @file``), never on the command line. ``inventory``
    replaces the default one (``localhost`` with the local connection and the venv Python).
    ``play`` adds keys to the play (e.g. ``vars``, ``environment``, ``become``). ``env`` adds
    environment variables for ansible-playbook. Each call writes its files to a fresh
    directory under ``workdir``.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    index = len([p for p in workdir.iterdir() if p.name.startswith("run-")]) + 1
    rundir = workdir / f"run-{index:02d}"
    rundir.mkdir()
    if docker_config is None:
        docker_config = workdir / "docker-config"
    docker_config.mkdir(parents=True, exist_ok=True)
    os.chmod(docker_config, 0o700)

    play_doc: dict[str, Any] = {
        "name": "wincontainers.images integration test",
        "hosts": hosts,
        "gather_facts": False,
        "connection": connection,
    }
    play_doc.update(play or {})
    play_doc["tasks"] = tasks
    playbook = rundir / "playbook.yml"
    playbook.write_text(yaml.safe_dump([play_doc], sort_keys=False), encoding="utf-8")

    if inventory is None:
        inventory = {
            "all": {
                "hosts": {
                    "localhost": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": sys.executable,
                    }
                }
            }
        }
    inventory_file = rundir / "inventory.yml"
    inventory_file.write_text(yaml.safe_dump(dict(inventory), sort_keys=False), encoding="utf-8")

    results_file = rundir / "results.jsonl"
    config_file = rundir / "ansible.cfg"
    config_file.write_text("[defaults]\n", encoding="utf-8")  # ignore any ansible.cfg around

    command = [ansible_playbook_executable(), "-i", str(inventory_file), str(playbook)]
    if extra_vars:
        vars_file = rundir / "extra-vars.json"
        vars_file.write_text(json.dumps(dict(extra_vars)), encoding="utf-8")
        os.chmod(vars_file, 0o600)
        command += ["-e", f"@{vars_file}"]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if verbosity:
        command.append("-" + "v" * verbosity)
    command += list(extra_args)

    run_env = dict(os.environ)
    for name in ("ANSIBLE_CONFIG", "ANSIBLE_INVENTORY", "ANSIBLE_STDOUT_CALLBACK", "ANSIBLE_CALLBACKS_ENABLED"):
        run_env.pop(name, None)
    run_env.update(engine.env)
    run_env.update(
        {
            "ANSIBLE_CONFIG": str(config_file),
            "ANSIBLE_COLLECTIONS_PATH": collections,
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
            "ANSIBLE_CALLBACKS_ENABLED": CALLBACK_NAME,
            "WC_RESULTS_FILE": str(results_file),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_HOST_KEY_CHECKING": "0",
            "ANSIBLE_LOCAL_TEMP": str(rundir / "tmp-local"),
            "ANSIBLE_REMOTE_TMP": str(rundir / "tmp-remote"),
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "DOCKER_CONFIG": str(docker_config),
            "PYTHONUNBUFFERED": "1",
            # the venv's tools (ansible-galaxy, ...) first, as for an activated venv
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]),
        }
    )
    run_env.update(env or {})

    started = time.monotonic()
    try:
        proc = subprocess.run(
            command,
            cwd=rundir,
            env=run_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        raise AssertionError(f"ansible-playbook timed out after {timeout}s: {shlex.join(command)}\n{out[-8000:]}") from exc
    duration = time.monotonic() - started
    (rundir / "stdout.txt").write_text(proc.stdout, encoding="utf-8")
    (rundir / "stderr.txt").write_text(proc.stderr, encoding="utf-8")
    results, stats = _read_jsonl(results_file)
    return PlaybookRun(
        rc=proc.returncode,
        stdout=proc.stdout,
        stderr=proc.stderr,
        results=results,
        stats=stats,
        playbook=playbook,
        command=command,
        workdir=rundir,
        docker_config=docker_config,
        duration=duration,
    )
