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
* ``$WC_ENGINE_DIR/sshd/env`` (written by ``scripts/sshd.sh start``) or ``WC_SSH_HOST``,
  ``WC_SSH_PORT``, ``WC_SSH_USER``, ``WC_SSH_KEY``, ``WC_SSH_KNOWN_HOSTS``: the loopback sshd
  whose logins reach the same engine, for runs over a real ``ssh`` connection (:class:`Target`).

Playbooks run in the foreground (:func:`run_playbook`) or in the background
(:func:`start_playbook`, a :class:`BackgroundPlaybook` that a test can SIGKILL mid-task, as a
dying controller, and then wait for).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
import shlex
import signal
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
SSH_VARS = ("WC_SSH_HOST", "WC_SSH_PORT", "WC_SSH_USER", "WC_SSH_KEY", "WC_SSH_KNOWN_HOSTS")
JOBS_DIRECTORY = (".ansible", "wincontainers.images-jobs")  # the jobs root, under the login's home


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
# where the tasks run: local, or ssh to the loopback sshd


@dataclasses.dataclass(frozen=True)
class SshLogin:
    """The sshd of scripts/sshd.sh: a login whose ``docker`` reaches the test engine."""

    host: str
    port: int
    user: str
    key: Path
    known_hosts: Path


def load_ssh(engine: Engine) -> SshLogin | None:
    """The loopback sshd's settings (``$WC_ENGINE_DIR/sshd/env``, WC_SSH_* win), or None."""
    values: dict[str, str] = {}
    env_file = engine.engine_dir / "sshd" / "env"
    if env_file.is_file():
        values.update(parse_env_file(env_file))
    values.update({k: os.environ[k] for k in SSH_VARS if os.environ.get(k)})
    if not all(values.get(k) for k in SSH_VARS):
        return None
    return SshLogin(
        host=values["WC_SSH_HOST"],
        port=int(values["WC_SSH_PORT"]),
        user=values["WC_SSH_USER"],
        key=Path(values["WC_SSH_KEY"]),
        known_hosts=Path(values["WC_SSH_KNOWN_HOSTS"]),
    )


def check_ssh(login: SshLogin, timeout: float = 20) -> None:
    """Raise HarnessError unless a login runs ``docker version`` against the engine."""
    command = ["ssh", *ssh_client_options(login), "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-p",
               str(login.port), "%s@%s" % (login.user, login.host), 'docker version --format "{{.Server.Version}}"']
    try:
        proc = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HarnessError("ssh to %s@%s:%d failed (%s); start it with 'bash scripts/sshd.sh start'"
                           % (login.user, login.host, login.port, exc)) from exc
    if proc.returncode != 0:
        raise HarnessError("ssh to %s@%s:%d does not reach the engine (rc=%d: %s); start it with "
                           "'bash scripts/sshd.sh start'" % (login.user, login.host, login.port, proc.returncode,
                                                             (proc.stderr or proc.stdout).strip()[-500:]))


def ssh_client_options(login: SshLogin) -> list[str]:
    """ssh options of every connection to the test sshd: its key only, its known_hosts only
    (nothing is read from or written to ~/.ssh)."""
    return ["-o", "IdentitiesOnly=yes", "-o", "IdentityFile=%s" % login.key,
            "-o", "UserKnownHostsFile=%s" % login.known_hosts, "-o", "GlobalKnownHostsFile=/dev/null"]


@dataclasses.dataclass(frozen=True)
class Target:
    """Where the tasks of a playbook run: ``local``, or ``ssh`` to the loopback sshd (the same
    machine and engine, reached through a real ssh connection and login).

    ``run_playbook(tasks, target=target)`` / ``start_playbook(tasks, target=target)`` use its
    inventory (one host, :attr:`host`) and connection; ``host_vars`` adds variables to that host
    (``ansible_python_interpreter``, ...).
    """

    name: str  # "local" or "ssh"
    host: str  # the inventory host name (module messages say "<host>: ...")
    connection: str
    host_vars: Mapping[str, Any]
    home: Path  # the login's home on the host: the jobs root is under it

    @property
    def jobs_root(self) -> Path:
        """The collection's detached-job root on the host for this login."""
        return self.home.joinpath(*JOBS_DIRECTORY)

    def inventory(self, host_vars: Mapping[str, Any] | None = None) -> dict[str, Any]:
        variables = dict(self.host_vars)
        variables.update(host_vars or {})
        return {"all": {"hosts": {self.host: variables}}}


def local_target(home: Path | None = None) -> Target:
    """The local connection (the default of :func:`run_playbook`). ``home``: the HOME that
    ansible-playbook runs with (pass the same as ``env={"HOME": ...}``), default this process's."""
    if home is None:
        home = Path(os.environ.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir)
    return Target(name="local", host="localhost", connection="local",
                  host_vars={"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
                  home=home)


def ssh_target(login: SshLogin, control_path_dir: Path) -> Target:
    """The ssh connection to the loopback sshd, as host ``ssh-loopback``.

    Host key checking is off for this throwaway host key (the runs set
    ANSIBLE_HOST_KEY_CHECKING=0), and ssh reads and writes only the sshd's own known_hosts
    file, never ~/.ssh. ``control_path_dir`` holds the ControlPersist sockets (a short path:
    a UNIX socket path has at most 107 bytes); :func:`stop_ssh_masters` ends them.
    The login's Python is the system's /usr/bin/python3 when there is one (a Docker host's
    usual interpreter), else whatever ``python3`` the login's PATH finds.
    """
    host_vars: dict[str, Any] = {
        "ansible_connection": "ssh",
        "ansible_host": login.host,
        "ansible_port": login.port,
        "ansible_user": login.user,
        "ansible_ssh_private_key_file": str(login.key),
        "ansible_ssh_common_args": " ".join(shlex.quote(option) for option in ssh_client_options(login)),
        "ansible_control_path_dir": str(control_path_dir),
    }
    if os.path.isfile("/usr/bin/python3"):
        host_vars["ansible_python_interpreter"] = "/usr/bin/python3"
    return Target(name="ssh", host="ssh-loopback", connection="ssh", host_vars=host_vars,
                  home=Path(pwd.getpwnam(login.user).pw_dir))


def stop_ssh_masters(control_path_dir: Path) -> None:
    """Ask every ssh ControlPersist master with a socket in ``control_path_dir`` to exit."""
    if not control_path_dir.is_dir():
        return
    for socket_path in control_path_dir.iterdir():
        if socket_path.is_socket():
            subprocess.run(["ssh", "-o", "ControlPath=%s" % socket_path, "-O", "exit", "wc-ssh-master"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=20, check=False)


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


@dataclasses.dataclass
class _Prepared:
    command: list[str]
    env: dict[str, str]
    rundir: Path
    playbook: Path
    results_file: Path
    docker_config: Path


def _prepare(
    tasks: list[dict[str, Any]],
    check: bool,
    diff: bool,
    extra_vars: Mapping[str, Any] | None,
    hosts: str,
    connection: str,
    *,
    workdir: Path,
    engine: Engine,
    collections: str,
    docker_config: Path | None,
    inventory: Mapping[str, Any] | None,
    play: Mapping[str, Any] | None,
    env: Mapping[str, str] | None,
    extra_args: Iterable[str],
    verbosity: int,
    target: Target | None,
    host_vars: Mapping[str, Any] | None,
) -> _Prepared:
    """Write a run's files (playbook, inventory, ansible.cfg, extra vars) and build its command line
    and environment."""
    workdir.mkdir(parents=True, exist_ok=True)
    index = len([p for p in workdir.iterdir() if p.name.startswith("run-")]) + 1
    rundir = workdir / f"run-{index:02d}"
    rundir.mkdir()
    if docker_config is None:
        docker_config = workdir / "docker-config"
    docker_config.mkdir(parents=True, exist_ok=True)
    os.chmod(docker_config, 0o700)

    if target is not None:
        hosts, connection = target.host, target.connection
        if inventory is None:
            inventory = target.inventory(host_vars)
    elif host_vars:
        raise ValueError("host_vars needs a target")

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
        inventory = local_target().inventory()
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
    return _Prepared(command, run_env, rundir, playbook, results_file, docker_config)


def _outcome(prepared: _Prepared, rc: int, stdout: str, stderr: str, duration: float) -> PlaybookRun:
    (prepared.rundir / "stdout.txt").write_text(stdout, encoding="utf-8")
    (prepared.rundir / "stderr.txt").write_text(stderr, encoding="utf-8")
    results, stats = _read_jsonl(prepared.results_file)
    return PlaybookRun(
        rc=rc,
        stdout=stdout,
        stderr=stderr,
        results=results,
        stats=stats,
        playbook=prepared.playbook,
        command=prepared.command,
        workdir=prepared.rundir,
        docker_config=prepared.docker_config,
        duration=duration,
    )


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
    target: Target | None = None,
    host_vars: Mapping[str, Any] | None = None,
) -> PlaybookRun:
    """Run ``tasks`` as one play with the real ansible-playbook and return a :class:`PlaybookRun`.

    ``extra_vars`` travel in a file (``-e @file``), never on the command line. ``inventory``
    replaces the default one (``localhost`` with the local connection and the venv Python).
    ``target`` (a :class:`Target`: local, or ssh to the loopback sshd) sets the play's host,
    connection and inventory; ``host_vars`` adds variables to its host. ``play`` adds keys to
    the play (e.g. ``vars``, ``environment``, ``become``). ``env`` adds environment variables
    for ansible-playbook. Each call writes its files to a fresh directory under ``workdir``.
    """
    prepared = _prepare(tasks, check, diff, extra_vars, hosts, connection, workdir=workdir, engine=engine,
                        collections=collections, docker_config=docker_config, inventory=inventory, play=play,
                        env=env, extra_args=extra_args, verbosity=verbosity, target=target, host_vars=host_vars)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            prepared.command,
            cwd=prepared.rundir,
            env=prepared.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        raise AssertionError(
            f"ansible-playbook timed out after {timeout}s: {shlex.join(prepared.command)}\n{out[-8000:]}") from exc
    return _outcome(prepared, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


# --------------------------------------------------------------------------------------------
# playbook runs in the background


def _children() -> dict[int, list[int]]:
    """parent PID -> child PIDs, of every process of this machine."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                parent = int(handle.read().rsplit(") ", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    return children


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie has finished: not alive)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            return handle.read().rsplit(") ", 1)[1][:1] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, ...)."""
    tree = _children()
    found: list[int] = []
    pending = list(tree.get(pid, []))
    while pending:
        child = pending.pop()
        found.append(child)
        pending.extend(tree.get(child, []))
    return found


class BackgroundPlaybook:
    """An ansible-playbook run started by :func:`start_playbook`, in a session of its own.

    ``kill()`` ends it as a dying controller would: SIGKILL to its process group and to the
    process group of every process below it (ansible-core runs each task worker in a new
    session, and the ssh connection may start ssh in one), so nothing of it polls or cleans
    up on the host any more. A ControlPersist ssh master has left the tree by then (it
    daemonises) and is not killed: it exits on its own, or by :func:`stop_ssh_masters`.
    ``wait()`` returns the :class:`PlaybookRun` (of a killed run: the results it wrote).
    """

    def __init__(self, prepared: _Prepared, timeout: float) -> None:
        self._prepared = prepared
        self.timeout = timeout
        self.workdir = prepared.rundir
        self.stdout_file = prepared.rundir / "stdout.txt"
        self.stderr_file = prepared.rundir / "stderr.txt"
        self.killed = False
        self.started = time.monotonic()
        with open(self.stdout_file, "wb") as out, open(self.stderr_file, "wb") as err:
            self.process = subprocess.Popen(prepared.command, cwd=prepared.rundir, env=prepared.env,
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                            start_new_session=True)
        self.pid = self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        """What the run printed on stdout so far."""
        return self.stdout_file.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL the controller: ansible-playbook and everything below it."""
        self.killed = True
        if not self.running:
            return
        groups = {self.pid}
        tree = {self.pid}
        for _round in range(3):  # processes may start while we look
            for pid in descendants(self.pid):
                tree.add(pid)
                try:
                    groups.add(os.getpgid(pid))
                except ProcessLookupError:
                    pass
            for group in groups:
                try:
                    os.killpg(group, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        self.process.wait(timeout=30)
        # orphans are reaped by init a moment later: return when none of them runs any more
        deadline = time.monotonic() + 30
        while any(process_alive(pid) for pid in tree) and time.monotonic() < deadline:
            time.sleep(0.05)

    def wait(self, timeout: float | None = None) -> PlaybookRun:
        """Wait for the run to end (at most ``timeout`` seconds, default the run's timeout;
        then it is killed and the test fails)."""
        if timeout is None:
            timeout = max(1.0, self.started + self.timeout - time.monotonic())
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"ansible-playbook did not finish within {timeout:.0f}s: "
                                 f"{shlex.join(self._prepared.command)}\n{self.output()[-8000:]}") from None
        stdout = self.output()
        stderr = self.stderr_file.read_text(encoding="utf-8", errors="replace")
        return _outcome(self._prepared, self.process.returncode, stdout, stderr, time.monotonic() - self.started)

    def __enter__(self) -> BackgroundPlaybook:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.running:
            self.kill()


def start_playbook(
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
    target: Target | None = None,
    host_vars: Mapping[str, Any] | None = None,
) -> BackgroundPlaybook:
    """Start ``tasks`` like :func:`run_playbook`, but return at once with a
    :class:`BackgroundPlaybook` (use it as a context manager: a run still going at the end of
    the block is killed)."""
    prepared = _prepare(tasks, check, diff, extra_vars, hosts, connection, workdir=workdir, engine=engine,
                        collections=collections, docker_config=docker_config, inventory=inventory, play=play,
                        env=env, extra_args=extra_args, verbosity=verbosity, target=target, host_vars=host_vars)
    return BackgroundPlaybook(prepared, timeout)
