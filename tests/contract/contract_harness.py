# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract harness: real ``ansible-playbook`` against a fake Windows host.

``ContractHost`` is one fake Windows Docker host reached over one transport:

* ``winrm``: ansible-core's ``winrm`` plugin + pywinrm, Basic auth over HTTP, to the fake
  WS-Management endpoint (``fake_wsman.py``) on a loopback port; default shell (``cmd`` in
  ansible-core 2.21).
* ``psrp``: ansible-core's ``psrp`` plugin + pypsrp, Basic auth over HTTP, same endpoint.
* ``ssh-powershell`` / ``ssh-cmd``: ansible-core's ``ssh`` plugin with ``ansible_shell_type``
  ``powershell`` / ``cmd`` and ``ansible_ssh_executable`` set to the fake ``ssh`` (``fake_ssh.py``).

Nothing in the ansible-playbook process is patched. The host's scenario (recorded answers and
initial images) comes from ``recorded/scenarios/`` or a dict; its state, exchange log and
harness errors are files in the host directory (see ``fake_windows_host.py``).

``ContractHost.run(tasks)`` runs a play and returns a ``PlayRun``: per task its result and the
execs (``Exchange``) the fake host saw while the task ran. Any harness error (a script that is
not one of the constant scripts, a docker argv without an answer, a malformed SOAP request)
raises ``FakeHostFailure``, whatever the task's own outcome.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import yaml

from fake_windows_host import (
    ERRORS_FILE,
    EXCHANGES_FILE,
    SCENARIO_FILE,
    STATE_FILE,
    FakeWindowsHost,
    load_recorded,
    prepare_host_directory,
    resolve_scenario,
)

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
TRANSPORTS = ("winrm", "psrp", "ssh-powershell", "ssh-cmd")
INVENTORY_HOSTNAME = "win2022-docker01"
USER = "ansible-svc"
PASSWORD = "Fake-Passw0rd!"  # the fake endpoint's Basic credentials; no real secret
PLAYBOOK_TIMEOUT = 300


class FakeHostFailure(AssertionError):
    """The fake host or its transport saw something a real Windows host would reject."""

    def __init__(self, message: str, run: "PlayRun | None" = None, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.run = run
        self.errors = errors or []


def ansible_playbook() -> list[str]:
    script = Path(sys.executable).with_name("ansible-playbook")
    if script.exists():
        return [str(script)]
    found = shutil.which("ansible-playbook")
    if not found:
        raise RuntimeError("ansible-playbook not found next to %s or on PATH" % sys.executable)
    return [found]


def find_collections_root(variable: str = "WC_COLLECTIONS_PATH") -> Path | None:
    """The directory holding ``ansible_collections/wincontainers/images`` named by ``variable``
    (an installed collection), or None when the variable names none."""
    for entry in os.environ.get(variable, "").split(os.pathsep):
        if not entry:
            continue
        base = Path(entry).expanduser().resolve()
        for root in (base, base.parent) if base.name == "ansible_collections" else (base,):
            if (root / "ansible_collections" / "wincontainers" / "images" / "plugins").is_dir():
                return root
    return None


def link_collections_root(directory: Path) -> Path:
    """A collections root for the work tree: the tree itself when it already lies at
    ``ansible_collections/wincontainers/images``, otherwise ``directory`` with a symlink there."""
    if REPO_ROOT.parts[-3:] == ("ansible_collections", "wincontainers", "images"):
        return REPO_ROOT.parents[2]
    namespace = Path(directory) / "ansible_collections" / "wincontainers"
    namespace.mkdir(parents=True, exist_ok=True)
    link = namespace / "images"
    if not link.is_symlink():
        link.symlink_to(REPO_ROOT, target_is_directory=True)
    return Path(directory)


def wsman_hostvars(transport: str, port: int) -> dict[str, Any]:
    """Inventory variables that point ``winrm`` or ``psrp`` at a fake WS-Management endpoint on
    ``127.0.0.1:port`` (Basic authentication over HTTP, the endpoint's credentials)."""
    hostvars: dict[str, Any] = {"ansible_user": USER, "ansible_host": "127.0.0.1", "ansible_port": port,
                                "ansible_password": PASSWORD}
    if transport == "winrm":
        hostvars.update(
            ansible_connection="winrm",
            ansible_winrm_transport="basic",
            ansible_winrm_scheme="http",
            ansible_winrm_server_cert_validation="ignore",
        )
    elif transport == "psrp":
        hostvars.update(
            ansible_connection="psrp",
            ansible_psrp_protocol="http",
            ansible_psrp_auth="basic",
            ansible_psrp_message_encryption="never",
            ansible_psrp_cert_validation="ignore",
        )
    else:
        raise ValueError("%r does not use WS-Management" % transport)
    return hostvars


def dependency_collections() -> Path:
    """The collections the content depends on (ansible.windows), as scripts/bootstrap.sh installs them:
    ``<venv>/collections`` of the Python running the tests."""
    return Path(sys.prefix) / "collections"


def ansible_environment(collections_root: Path, home: Path) -> dict[str, str]:
    """The environment of an ansible-playbook run against fake hosts: this process's, without its
    ``ANSIBLE_*``, ``WC_FAKE_*`` and proxy variables, with the collection under test and the
    collections it depends on (``dependency_collections()``, when installed) only, and a private
    ``ANSIBLE_HOME``."""
    paths = [str(collections_root)]
    if (dependency_collections() / "ansible_collections").is_dir():
        paths.append(str(dependency_collections()))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ANSIBLE_", "WC_FAKE_")) and key.lower() not in (
            "http_proxy", "https_proxy", "all_proxy", "no_proxy")
    }
    env.update(
        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(paths),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(Path(home) / "tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_HOST_KEY_CHECKING="0",
        ANSIBLE_TIMEOUT="30",
        NO_PROXY="*",
        WC_FAKE_COLLECTIONS_ROOT=str(collections_root),
    )
    return env


@dataclass
class Exchange:
    """One exec as the fake host saw it."""

    raw: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.raw[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def processes(self) -> list[dict[str, Any]]:
        return self.raw.get("processes") or []

    @property
    def argvs(self) -> list[list[str]]:
        """The argument vector (without the program) of each process the exec started."""
        return [p["argv"] for p in self.processes if "job" not in p]

    @property
    def job_argvs(self) -> list[list[str]]:
        """The argument vectors of the processes a detached job's runner ran, seen by this exec
        (the fake host runs a job's calls when the runner's time is up: see fake_jobs.py)."""
        return [p["argv"] for p in self.processes if "job" in p]

    @property
    def job_events(self) -> list[dict[str, Any]]:
        """What happened to detached jobs during this exec (fake_jobs.py)."""
        return self.raw.get("job_events") or []

    @property
    def request(self) -> dict[str, Any]:
        return self.raw.get("request") or {}


@dataclass
class TaskRun:
    index: int
    name: str
    status: str
    result: dict[str, Any]
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.result.get("changed"))

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "unreachable")

    @property
    def msg(self) -> str:
        return str(self.result.get("msg", ""))

    @property
    def execs(self) -> int:
        return len(self.exchanges)

    @property
    def job_argvs(self) -> list[list[str]]:
        """The argument vectors the task's detached jobs ran, in order."""
        return [argv for exchange in self.exchanges for argv in exchange.job_argvs]


@dataclass
class PlayRun:
    rc: int
    stdout: str
    stderr: str
    tasks: list[TaskRun]
    exchanges: list[Exchange]
    harness_errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def task(self) -> TaskRun:
        """The result of a one-task play."""
        if len(self.tasks) != 1:
            raise AssertionError("expected one task result, got %d\n%s" % (len(self.tasks), self.output))
        return self.tasks[0]

    @property
    def output(self) -> str:
        return "--- ansible-playbook rc=%d\n--- stdout\n%s\n--- stderr\n%s" % (self.rc, self.stdout, self.stderr)

    def named(self, name: str) -> TaskRun:
        """The result of the play's one task called ``name``."""
        found = [task for task in self.tasks if task.name == name]
        if len(found) != 1:
            raise AssertionError("expected one task named %r, got %d\n%s" % (name, len(found), self.output))
        return found[0]


def load_scenario(scenario: str | Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """A scenario from ``recorded/scenarios/NAME.yml`` (or a dict), with top-level overrides."""
    data = load_recorded("scenarios/%s.yml" % scenario) if isinstance(scenario, str) else copy.deepcopy(dict(scenario))
    data.update(overrides)
    return data


def _read_jsonl(path: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    if not path.exists():
        return [], offset
    with open(path, "rb") as stream:
        stream.seek(offset)
        data = stream.read()
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()], offset + len(data)


def kill_tree(pid: int) -> None:
    """SIGKILL to ``pid`` and all its descendants (from /proc). They are stopped first, until no
    new one appears: a stopped process cannot fork, and its children stay its children."""
    stopped: set[int] = set()
    while True:
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rpartition(")")[2].split()[1])
            except OSError:
                continue  # ended meanwhile
            children.setdefault(parent, []).append(int(stat.parent.name))
        tree, pending = set(), [pid]
        while pending:
            current = pending.pop()
            tree.add(current)
            pending.extend(children.get(current, []))
        if tree <= stopped:
            break
        for member in tree - stopped:
            try:
                os.kill(member, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        stopped |= tree
    for member in stopped:
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass


class ContractHost:
    """A fake Windows Docker host reached over ``transport`` by real ansible-playbook runs."""

    def __init__(
        self,
        workdir: Path,
        transport: str,
        collections_root: Path,
        scenario: str | Mapping[str, Any] = "ltsc2022",
        **overrides: Any,
    ) -> None:
        if transport not in TRANSPORTS:
            raise ValueError("unknown transport %r" % transport)
        self.workdir = Path(workdir)
        self.transport = transport
        self.collections_root = Path(collections_root)
        self.directory = self.workdir / "host"
        self.runs = 0
        self.use_scenario(scenario, **overrides)
        self.fake = FakeWindowsHost(self.directory)
        self.server = None
        if transport in ("winrm", "psrp"):
            from fake_wsman import FakeWSManServer

            self.server = FakeWSManServer(self.fake, USER, PASSWORD).start()
        self.ssh_wrapper = self.workdir / "fake-ssh"
        self.ssh_wrapper.write_text(
            "#!/bin/sh\nexec '%s' '%s' \"$@\"\n" % (sys.executable, HERE / "fake_ssh.py"), encoding="utf-8"
        )
        self.ssh_wrapper.chmod(0o755)

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    # scenario and state ------------------------------------------------------------------

    def use_scenario(self, scenario: str | Mapping[str, Any], **overrides: Any) -> None:
        """Start the host over with a scenario (its state is reset to the scenario's images)."""
        prepare_host_directory(self.directory, load_scenario(scenario, **overrides))

    def update_scenario(self, **changes: Any) -> None:
        """Change the scenario (e.g. ``engine="stopped"``) and keep the host's current state."""
        path = self.directory / SCENARIO_FILE
        scenario = json.loads(path.read_text(encoding="utf-8"))
        scenario.update(changes)
        path.write_text(json.dumps(resolve_scenario(scenario), indent=2), encoding="utf-8")

    @property
    def scenario(self) -> dict[str, Any]:
        return json.loads((self.directory / SCENARIO_FILE).read_text(encoding="utf-8"))

    @property
    def state(self) -> dict[str, Any]:
        return json.loads((self.directory / STATE_FILE).read_text(encoding="utf-8"))

    def state_bytes(self) -> bytes:
        return (self.directory / STATE_FILE).read_bytes()

    def image(self, reference: str) -> dict[str, Any] | None:
        """The image of the current state that has ``reference`` among its RepoTags."""
        return next((i for i in self.state["images"] if reference in (i.get("RepoTags") or [])), None)

    @property
    def exchanges(self) -> list[Exchange]:
        records, _offset = _read_jsonl(self.directory / EXCHANGES_FILE)
        return [Exchange(r) for r in records if r.get("event") == "exchange"]

    # running plays -------------------------------------------------------------------------

    def inventory(self) -> dict[str, Any]:
        if self.transport in ("winrm", "psrp"):
            hostvars = wsman_hostvars(self.transport, self.server.port)
        else:
            hostvars = dict(
                ansible_user=USER,
                ansible_connection="ssh",
                ansible_host="%s.contoso.test" % INVENTORY_HOSTNAME,
                ansible_shell_type=self.transport.split("-", 1)[1],
                ansible_ssh_executable=str(self.ssh_wrapper),
                # put_file: the fake ssh is the sftp client too (fake_put_file.py)
                ansible_sftp_executable=str(self.ssh_wrapper),
                ansible_ssh_transfer_method="sftp",
                ansible_ssh_args="-o ControlMaster=no -o ControlPath=none",
                ansible_ssh_pipelining=True,
                ansible_ssh_retries=0,
            )
        return {"all": {"children": {"windows": {"hosts": {INVENTORY_HOSTNAME: hostvars}}}}}

    def environment(self, results: Path) -> dict[str, str]:
        env = ansible_environment(self.collections_root, self.workdir / "ansible-home")
        env.update(
            ANSIBLE_CALLBACK_PLUGINS=str(HERE / "callback_plugins"),
            ANSIBLE_CALLBACKS_ENABLED="wc_contract_results",
            ANSIBLE_ACTION_PLUGINS=str(HERE / "action_plugins"),
            WC_CONTRACT_RESULTS=str(results),
            WC_CONTRACT_EXCHANGES=str(self.directory / EXCHANGES_FILE),
            WC_FAKE_WINDOWS_HOST=str(self.directory),
            WC_FAKE_TRANSPORT_VARIANT=self.transport,
        )
        return env

    def run(
        self,
        tasks: Sequence[Mapping[str, Any]],
        *,
        check: bool = False,
        diff: bool = False,
        extra_vars: Mapping[str, Any] | None = None,
        verbosity: int = 0,
        allow_harness_errors: bool = False,
        playbook: str | None = None,
    ) -> PlayRun:
        """Run ``tasks`` in one play against this host (or, with ``playbook``, that playbook of the
        collection, e.g. ``wincontainers.images.site``, imported); return the results and execs."""
        command, rundir, results_path = self._prepare(tasks, check, diff, extra_vars, verbosity, playbook)
        exchanges_offset = self._size(EXCHANGES_FILE)
        errors_offset = self._size(ERRORS_FILE)
        process = subprocess.run(
            command, cwd=rundir, env=self.environment(results_path), capture_output=True, text=True,
            timeout=PLAYBOOK_TIMEOUT, check=False,
        )
        records, _offset = _read_jsonl(self.directory / EXCHANGES_FILE, exchanges_offset)
        errors, _offset = _read_jsonl(self.directory / ERRORS_FILE, errors_offset)
        results, _offset = _read_jsonl(results_path)

        tasks_run: list[TaskRun] = []
        by_index = {r["index"]: r for r in results}
        current: list[Exchange] | None = None
        all_exchanges: list[Exchange] = []
        per_task: dict[int, list[Exchange]] = {}
        for record in records:
            if record.get("event") == "task_start":
                current = per_task.setdefault(record["index"], [])
            elif record.get("event") == "exchange":
                exchange = Exchange(record)
                all_exchanges.append(exchange)
                if current is None:
                    raise FakeHostFailure("an exec happened before any task started: %s" % record)
                current.append(exchange)
        for index in sorted(set(by_index) | set(per_task)):
            record = by_index.get(index, {"task": "?", "status": "no result", "result": {}})
            tasks_run.append(TaskRun(index, record["task"], record["status"], record["result"], per_task.get(index, [])))
        run = PlayRun(process.returncode, process.stdout, process.stderr, tasks_run, all_exchanges)
        return self._checked(run, errors, results, allow_harness_errors)

    def run_killed(self, tasks: Sequence[Mapping[str, Any]], when: Callable[[list[Exchange]], bool]) -> list[Exchange]:
        """Run a play and kill the controller as soon as ``when`` holds for its execs so far:
        SIGKILL to ansible-playbook and every process under it (its workers run in sessions of
        their own, so a process group is not enough), as when the machine or the AWX pod running
        it dies. Returns the execs the fake host saw until then."""
        exchanges_offset = self._size(EXCHANGES_FILE)
        command, rundir, results_path = self._prepare(tasks, False, False, None, 0)
        process = subprocess.Popen(command, cwd=rundir, env=self.environment(results_path), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + PLAYBOOK_TIMEOUT
        try:
            while process.poll() is None:
                records, _offset = _read_jsonl(self.directory / EXCHANGES_FILE, exchanges_offset)
                if when([Exchange(r) for r in records if r.get("event") == "exchange"]):
                    break
                if time.monotonic() > deadline:
                    raise FakeHostFailure("the play did not reach the point to kill it within %d seconds" % PLAYBOOK_TIMEOUT)
                time.sleep(0.1)
            else:
                raise FakeHostFailure("ansible-playbook ended (rc %s) before the point to kill it" % process.returncode)
        finally:
            kill_tree(process.pid)
            process.wait()
        records, _offset = _read_jsonl(self.directory / EXCHANGES_FILE, exchanges_offset)
        return [Exchange(r) for r in records if r.get("event") == "exchange"]

    def run_together(
        self,
        plays: Sequence[Sequence[Mapping[str, Any]]],
        *,
        when: Callable[[list[Exchange]], bool] | None = None,
        then: Callable[[], None] | None = None,
    ) -> list[PlayRun]:
        """Run several plays at the same time (one ansible-playbook each) against this host.

        Their execs interleave, so they are not given to tasks: each ``PlayRun`` has its tasks'
        results, and ``exchanges`` all the execs of all the plays. ``then`` is called once, as
        soon as ``when`` holds for the execs so far (e.g. release held jobs once both started).
        """
        exchanges_offset = self._size(EXCHANGES_FILE)
        errors_offset = self._size(ERRORS_FILE)
        started = []
        for tasks in plays:
            command, rundir, results_path = self._prepare(tasks, False, False, None, 0)
            process = subprocess.Popen(command, cwd=rundir, env=self.environment(results_path), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
            started.append((process, results_path))
        deadline = time.monotonic() + PLAYBOOK_TIMEOUT
        waiting = then is not None
        try:
            while any(process.poll() is None for process, _path in started):
                if time.monotonic() > deadline:
                    raise FakeHostFailure("the plays did not end within %d seconds" % PLAYBOOK_TIMEOUT)
                if waiting:
                    records, _offset = _read_jsonl(self.directory / EXCHANGES_FILE, exchanges_offset)
                    if when is None or when([Exchange(r) for r in records if r.get("event") == "exchange"]):
                        then()
                        waiting = False
                time.sleep(0.1)
        finally:
            for process, _path in started:
                if process.poll() is None:
                    process.kill()
        records, _offset = _read_jsonl(self.directory / EXCHANGES_FILE, exchanges_offset)
        errors, _offset = _read_jsonl(self.directory / ERRORS_FILE, errors_offset)
        exchanges = [Exchange(r) for r in records if r.get("event") == "exchange"]
        runs = []
        for process, results_path in started:
            stdout, stderr = process.communicate()
            results, _offset = _read_jsonl(results_path)
            tasks_run = [TaskRun(r["index"], r["task"], r["status"], r["result"]) for r in results]
            runs.append(self._checked(PlayRun(process.returncode, stdout, stderr, tasks_run, exchanges), errors, results,
                                      False))
        return runs

    def _prepare(
        self,
        tasks: Sequence[Mapping[str, Any]],
        check: bool,
        diff: bool,
        extra_vars: Mapping[str, Any] | None,
        verbosity: int,
        imported: str | None = None,
    ) -> tuple[list[str], Path, Path]:
        """The run directory of the next play (playbook, inventory) and its command."""
        self.runs += 1
        rundir = self.workdir / ("run%02d" % self.runs)
        rundir.mkdir()
        playbook = rundir / "play.yml"
        plays: list[dict[str, Any]] = [{"name": "contract", "hosts": "windows", "gather_facts": False,
                                        "tasks": list(tasks)}]
        if imported:
            if tasks:
                raise ValueError("a run imports a playbook or runs tasks, not both")
            plays = [{"ansible.builtin.import_playbook": imported}]
        playbook.write_text(yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
        inventory = rundir / "inventory.yml"
        inventory.write_text(yaml.safe_dump(self.inventory(), sort_keys=False), encoding="utf-8")
        command = ansible_playbook() + ["-i", str(inventory), str(playbook), "--forks", "1"]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if extra_vars:
            extra = rundir / "extra_vars.json"
            extra.write_text(json.dumps(extra_vars), encoding="utf-8")
            command += ["-e", "@%s" % extra]
        if verbosity:
            command.append("-" + "v" * verbosity)
        return command, rundir, rundir / "results.jsonl"

    def _checked(self, run: PlayRun, errors: list[dict[str, Any]], results: list[dict[str, Any]],
                 allow_harness_errors: bool) -> PlayRun:
        run.harness_errors = errors
        if errors and not allow_harness_errors:
            raise FakeHostFailure(
                "the fake Windows host (%s) reported %d harness error(s):\n%s\n%s"
                % (self.transport, len(errors),
                   "\n".join("- %s" % e["message"] for e in errors), run.output),
                run, errors,
            )
        if not results:
            raise FakeHostFailure("ansible-playbook did not run the play\n%s" % run.output, run, errors)
        return run

    def _size(self, name: str) -> int:
        path = self.directory / name
        return path.stat().st_size if path.exists() else 0

    def harness_errors(self) -> list[dict[str, Any]]:
        records, _offset = _read_jsonl(self.directory / ERRORS_FILE)
        return records


def recorded_image(name: str) -> dict[str, Any]:
    """The (first) image object of ``recorded/images/NAME``."""
    loaded = load_recorded("images/" + name)
    return loaded[0] if isinstance(loaded, list) else loaded


def assert_secret_only_on_stdin(exchanges: Sequence[Exchange], secret: str) -> None:
    """``secret`` may travel only as a call's ``stdin``: not in a command line, script or argv."""
    for exchange in exchanges:
        assert secret not in (exchange.raw.get("command") or ""), "secret in the command line"
        for process in exchange.processes:
            assert secret not in process["cmdline"], "secret in a docker command line"
            assert all(secret not in a for a in process["argv"]), "secret in a docker argument"
        request = copy.deepcopy(exchange.request)
        single = [request["call"]] if isinstance(request.get("call"), dict) else []  # login_verify's one call
        for call in list(request.get("calls") or []) + single:
            if isinstance(call, dict):
                call.pop("stdin", None)
        assert secret not in json.dumps(request, ensure_ascii=False), "secret in the request outside stdin"
