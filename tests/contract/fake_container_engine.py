# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fake Windows host's emulation of a container host's engine (win_container_engine and the
engine part of win_container_host_info).

Registered at the end of ``fake_windows_host.py`` (``register()``), after the job emulation. It adds
``engine_state``, the ``engine`` part of ``host_info`` (``Get-EngineFacts``) and
the job call ``powershell.exe -File ..\\scripts\\engine_job-<sha256>.ps1`` (the ``engine_job`` script
that ``stage_script``, emulated in ``fake_jobs``, put in the job root) with its request in the job's environment, each pinned in
``script_pins.py`` by the hash of the text emulated.

Windows and Docker behaviour emulated, with its public source:

* ``Get-WindowsFeature`` (Server editions) reports ``InstallState`` Available, Installed,
  InstallPending, Removed or UninstallPending; ``Install-WindowsFeature`` returns a result with
  ``Success``, ``RestartNeeded`` (No, Yes, Maybe) and ``ExitCode``; the Containers feature needs a
  restart on Server (learn.microsoft.com: Get-WindowsFeature, Install-WindowsFeature; Windows
  containers set-up "Install the Containers feature ... restart"). Client editions:
  ``Get-WindowsOptionalFeature`` ``State`` Enabled, Disabled, EnablePending...,
  ``Enable-WindowsOptionalFeature`` returns ``RestartNeeded`` as a bool (learn.microsoft.com, DISM
  module; DismPackageFeatureState). A restart turns pending states into installed ones.
* ``Win32_Service`` gives ``State`` (Running, Stopped), ``StartMode`` (Auto, Manual, Disabled) and
  ``PathName`` (learn.microsoft.com: Win32_Service class).
* ``dockerd --register-service [flags]`` creates the service ``docker`` with automatic start,
  stopped, whose PathName is the quoted dockerd.exe path, ``--run-service`` and the other flags;
  ``--unregister-service`` deletes it; ``dockerd --version`` prints ``Docker version X.Y.Z, build
  <commit>`` (moby ``cmd/dockerd/service_windows.go``, ``cmd/dockerd/docker.go``).
* The static binaries: ``docker-<version>.zip`` holding ``docker/docker.exe`` and
  ``docker/dockerd.exe`` (download.docker.com ``win/static/stable/x86_64/``). The fake makes real
  zip files (``zipfile``) whose ``dockerd.exe`` holds its version line, hashes them with sha256
  and extracts them with ``zipfile`` as ``ZipFile.ExtractToDirectory`` would.
* daemon.json is ``<data-root>\\config\\daemon.json`` (docs.docker.com, daemon configuration); a
  daemon.json dockerd cannot parse keeps the service from starting.

Scenario key ``container_engine`` (all optional)::

    kind: server | client
    features: {containers: Available, hyperv: Available}   # states as the cmdlets name them
    restart_needed: "Yes"          # what installing a feature answers
    engine: {version: 26.1.3, flags: [], state: Running, start_mode: Auto}   # installed, or absent
    daemon_json: '{"debug": true}' # the file's text, or absent
    releases: {27.5.1: {}, 28.0.1: {broken: true}}   # what the download URL serves; broken: its
                                   # dockerd never answers (the install must roll back)
    archives: {"\\\\files\\docker\\docker-27.5.1.zip": 27.5.1}
    index: "<html>..."             # the download index's body
    reboot_pending: false          # a servicing reboot is pending

State (``state.json``) keeps ``engine_host``. ``reboot(directory)`` models a restart.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import fake_jobs
import fake_windows_host as fwh
import script_pins
from fake_windows_host import FakeDocker, FakeHostError, FakeWindowsHost, Process, powershell_json

SCENARIO_KEY = "container_engine"
POWERSHELL_PATH = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
PROGRAM_FILES = r"C:\Program Files"
DEFAULT_DIR = PROGRAM_FILES + r"\Docker"
DEFAULT_ROOT = r"C:\ProgramData\docker"
DOWNLOAD_URL = "https://download.docker.com/win/static/stable/x86_64/"


def config(scenario: Mapping[str, Any]) -> dict[str, Any]:
    return dict(scenario.get(SCENARIO_KEY) or {})


def make_zip(version: str, broken: bool = False) -> bytes:
    """docker-<version>.zip as the static binaries are laid out."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("docker/docker.exe", (2025, 1, 22, 0, 0, 0))
        archive.writestr(info, b"MZ docker client %s" % version.encode())
        info = zipfile.ZipInfo("docker/dockerd.exe", (2025, 1, 22, 0, 0, 0))
        archive.writestr(info, json.dumps({"version": version, "broken": broken}).encode())
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def engine_host(docker: FakeDocker) -> dict[str, Any]:
    """The host's engine state, made from the scenario on first use."""
    state = docker.state
    if "engine_host" not in state:
        cfg = config(docker.scenario)
        features = {"containers": "Available", "hyperv": "Available"}
        features.update(cfg.get("features") or {})
        host: dict[str, Any] = {"kind": cfg.get("kind", "server"), "features": features, "dirs": {}, "service": None,
                                "daemon_json": {}, "files": {}, "reboot_pending": bool(cfg.get("reboot_pending")),
                                "reboots": 0, "log": []}
        engine = cfg.get("engine")
        if engine:
            host["dirs"][DEFAULT_DIR.lower()] = {"version": engine["version"], "broken": False}
            host["service"] = {"state": engine.get("state", "Running"), "start_mode": engine.get("start_mode", "Auto"),
                               "path_name": path_name(DEFAULT_DIR, engine.get("flags") or [])}
        if cfg.get("daemon_json") is not None:
            host["daemon_json"][(DEFAULT_ROOT + "\\config\\daemon.json").lower()] = cfg["daemon_json"]
        for path, version in (cfg.get("archives") or {}).items():
            data = make_zip(str(version))
            host["files"][path.lower()] = base64.b64encode(data).decode("ascii")
        state["engine_host"] = host
        docker.changed = True
    return state["engine_host"]


def path_name(install_dir: str, flags: Sequence[str]) -> str:
    from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import join_arguments

    return '"%s\\dockerd.exe" %s' % (install_dir, join_arguments(["--run-service"] + list(flags)))


def expand(path: str) -> str:
    return path.replace("%ProgramFiles%", PROGRAM_FILES).replace("%ProgramData%", r"C:\ProgramData")


def data_root(host: Mapping[str, Any], requested: Any) -> str:
    if requested:
        return expand(str(requested))
    service = host.get("service")
    if service:
        argv = fwh.split_windows_command_line(service["path_name"])
        if "--data-root" in argv:
            return argv[argv.index("--data-root") + 1]
    return DEFAULT_ROOT


def engine_answers(host: Mapping[str, Any], install_dir: str) -> str | None:
    """The server version docker version prints, or None when the engine does not answer."""
    service = host.get("service")
    installed = host["dirs"].get(install_dir.lower())
    if not service or service["state"] != "Running" or not installed or installed.get("broken"):
        return None
    config_path = (data_root(host, None) + "\\config\\daemon.json").lower()
    text = host["daemon_json"].get(config_path)
    if text is not None:
        try:
            json.loads(text)
        except ValueError:
            return None
    return installed["version"]


def facts(host: dict[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    """Get-EngineFacts."""
    install_dir = expand(str(request.get("install_dir") or DEFAULT_DIR))
    server = host["kind"] == "server"
    features = {"kind": host["kind"], "containers": host["features"]["containers"],
                "hyperv": host["features"]["hyperv"], "problem": None}
    if not server:
        client = {"Available": "Disabled", "Installed": "Enabled", "InstallPending": "EnablePending"}
        features["containers"] = client.get(features["containers"], features["containers"])
        features["hyperv"] = client.get(features["hyperv"], features["hyperv"])
    reasons = ["Component Based Servicing\\RebootPending"] if host["reboot_pending"] else []
    answer: dict[str, Any] = {"features": features, "reboot": {"pending": bool(reasons), "reasons": reasons},
                              "install_dir": install_dir, "dockerd": None, "service": {"exists": False},
                              "engine": None, "data_root": None, "daemon_json": None}
    installed = host["dirs"].get(install_dir.lower())
    if installed:
        answer["dockerd"] = "Docker version %s, build fake000\r\n" % installed["version"]
    service = host.get("service")
    if service:
        answer["service"] = {"exists": True, "state": service["state"], "start_mode": service["start_mode"],
                             "path_name": service["path_name"]}
    root = data_root(host, request.get("data_root"))
    answer["data_root"] = root
    path = root + "\\config\\daemon.json"
    text = host["daemon_json"].get(path.lower())
    answer["daemon_json"] = {"path": path, "exists": text is not None, "text": text}
    if service and service["state"] == "Running" and installed:
        version = engine_answers(host, install_dir)
        answer["engine"] = ({"rc": 0, "stdout": '"%s"\n' % version, "stderr": ""} if version else
                            {"rc": 1, "stdout": "", "stderr": fwh.ENGINE_DOWN % ("Get", "/_ping")})
    return answer


def _request(lines: Sequence[str], record: dict[str, Any]) -> dict[str, Any]:
    request = json.loads("\n".join(lines))
    record["request"] = request
    return request


def script_engine_state(self: FakeWindowsHost, lines: list[str], record: dict[str, Any], scenario: Mapping[str, Any],
                        docker: FakeDocker) -> list[str]:
    request = _request(lines, record)
    host = engine_host(docker)
    answer = facts(host, request)
    answer.update(index=None, archive=None, error=None)
    cfg = config(scenario)
    if request.get("index"):
        if request["index"] == DOWNLOAD_URL or "index" in cfg:
            answer["index"] = {"status": 200, "body": cfg.get("index", ""), "problem": None}
        else:
            answer["index"] = {"status": None, "body": None,
                               "problem": "The remote name could not be resolved: '%s'" % request["index"].split("/")[2]}
    if request.get("archive"):
        data = host["files"].get(str(request["archive"]).lower())
        answer["archive"] = {"exists": data is not None, "size": None, "sha256": None}
        if data is not None:
            raw = base64.b64decode(data)
            answer["archive"].update(size=len(raw), sha256=sha256(raw))
    return [powershell_json(answer)]


# --------------------------------------------------------------------------------------------
# the job


class _Failed(Exception):
    pass


def run_engine_job(host: dict[str, Any], scenario: Mapping[str, Any], request: Mapping[str, Any]) -> list[str]:
    """The engine_job script, step by step, on the modelled host."""
    cfg = config(scenario)
    out: list[str] = []
    answer: dict[str, Any] = {"done": [], "restart_needed": False, "features": [], "server_version": None,
                              "rolled_back": False, "error": None}
    install_dir = str(request["install_dir"])
    key = install_dir.lower()
    host["log"].append(sorted(name for name in ("features", "fetch", "install", "register", "config", "start", "remove")
                              if request.get(name)))
    try:
        if request.get("features"):
            for name in request["features"]:
                feature = "containers" if name == "Containers" else "hyperv"
                needed = str(cfg.get("restart_needed", "Yes"))
                if not request.get("server"):
                    needed = "True" if needed in ("Yes", "Maybe") else "False"
                host["features"][feature] = "InstallPending" if needed in ("Yes", "Maybe", "True") else "Installed"
                answer["features"].append({"name": name, "restart_needed": needed})
                if needed in ("Yes", "Maybe", "True"):
                    answer["restart_needed"] = True
            answer["done"].append("features")
            if answer["restart_needed"]:
                return out + [powershell_json(answer)]
        zip_path = str(request.get("zip") or "")
        if request.get("fetch"):
            existing = host["files"].get(zip_path.lower())
            if not (existing and sha256(base64.b64decode(existing)) == request.get("sha256")):
                url = str(request["url"])
                version = url.rsplit("/docker-", 1)[-1][:-len(".zip")]
                release = (cfg.get("releases") or {}).get(version)
                if not url.startswith(DOWNLOAD_URL) or release is None:
                    raise _Failed('Exception calling "GetResponse" with "0" argument(s): "The remote server returned an '
                                  'error: (404) Not Found."')
                data = make_zip(version, bool(release.get("broken")))
                out.append("progress %d %d" % (len(data), len(data)))
                if request.get("sha256") and sha256(data) != request["sha256"]:
                    raise _Failed("the download of %s has sha256 %s, not %s; nothing was replaced"
                                  % (url, sha256(data), request["sha256"]))
                host["files"][zip_path.lower()] = base64.b64encode(data).decode("ascii")
                answer["done"].append("fetch")
        saved_dirs = copy.deepcopy(host["dirs"])
        saved_json = copy.deepcopy(host["daemon_json"])
        touched = False
        try:
            if request.get("install"):
                data = host["files"].get(zip_path.lower())
                if data is None:
                    raise _Failed("Exception calling \"GetFileHash\": Cannot find path '%s' because it does not exist." % zip_path)
                raw = base64.b64decode(data)
                if request.get("sha256") and sha256(raw) != request["sha256"]:
                    raise _Failed("%s has sha256 %s, not %s; nothing was replaced" % (zip_path, sha256(raw), request["sha256"]))
                with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                    names = set(archive.namelist())
                    if not {"docker/docker.exe", "docker/dockerd.exe"} <= names:
                        raise _Failed("%s does not hold docker\\docker.exe and docker\\dockerd.exe; nothing was replaced" % zip_path)
                    daemon = json.loads(archive.read("docker/dockerd.exe"))
                if daemon["version"] != request.get("version"):
                    raise _Failed("%s holds Docker version %s, build fake000, not %s; nothing was replaced"
                                  % (zip_path, daemon["version"], request.get("version")))
                if host.get("service"):
                    host["service"]["state"] = "Stopped"
                touched = True
                host["dirs"][key] = {"version": daemon["version"], "broken": bool(daemon["broken"])}
                answer["done"].append("install")
            if request.get("register"):
                if key not in host["dirs"]:
                    raise _Failed("The term '%s\\dockerd.exe' is not recognized" % install_dir)
                argv = fwh.split_windows_command_line("dockerd.exe " + str(request["register_arguments"]))[1:]
                if argv[:1] != ["--register-service"]:
                    raise FakeHostError("register_arguments do not start with --register-service: %r" % argv)
                host["service"] = {"state": "Stopped", "start_mode": "Auto", "path_name": path_name(install_dir, argv[1:])}
                answer["done"].append("register")
            if request.get("config") is not None:
                host["daemon_json"][str(request["config"]["path"]).lower()] = str(request["config"]["text"])
                touched = True
                answer["done"].append("config")
            if request.get("start"):
                if not host.get("service"):
                    raise _Failed("Cannot find any service with service name 'docker'.")
                if host["features"]["containers"] != "Installed":
                    raise _Failed("Service 'Docker Engine (docker)' cannot be started: the Containers feature is not active")
                host["service"].update(state="Running", start_mode="Auto")
                version = engine_answers(host, install_dir)
                if version is None:
                    raise _Failed("the engine did not answer docker version within %s s: %s"
                                  % (request.get("wait"), fwh.ENGINE_DOWN % ("Get", "/_ping")))
                answer["server_version"] = version
                if request.get("version") and version != request["version"]:
                    raise _Failed("the engine answers as %s, not %s" % (version, request["version"]))
                answer["done"].append("start")
        except _Failed:
            if touched:
                host["dirs"] = saved_dirs
                host["daemon_json"] = saved_json
                if host.get("service"):
                    host["service"]["state"] = "Running"
                    answer["server_version"] = engine_answers(host, install_dir)
                answer["rolled_back"] = True
            raise
        if request.get("remove"):
            host["service"] = None
            host["dirs"].pop(key, None)
            answer["done"].append("remove")
    except _Failed as exc:
        answer["error"] = {"kind": "exception", "message": str(exc)}
    return out + [powershell_json(answer)]


def _job_call(original: Any) -> Any:
    def run_call(self: fake_jobs.Jobs, job: str, call: Mapping[str, Any]) -> Process:
        if call.get("path") != POWERSHELL_PATH:
            return original(self, job, call)
        scripts = fwh._powershell_scripts()
        full = fwh.dotnet_command_line(POWERSHELL_PATH, str(call.get("cmdline") or ""))
        argv = fwh.split_windows_command_line(full)[1:]
        expected = ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Unrestricted", "-File"]
        if argv[:5] != expected or len(argv) != 7:
            raise FakeHostError("the job's powershell.exe call is not %s <script> <request>: %r" % (" ".join(expected), argv))
        script = re.fullmatch(r"\.\.\\scripts\\(engine_job-[0-9a-f]{32})\.ps1", argv[5])
        data = re.fullmatch(r"\.\.\\scripts\\(data-[0-9a-f]{32})\.json", argv[6])
        if script is None or data is None:
            raise FakeHostError("the job's powershell.exe -File is not a staged engine_job and request: %r" % argv[5:])
        staged_scripts = self.docker.state.get("staged_scripts", {})
        if script.group(1) not in staged_scripts:
            # powershell.exe 5.1 -File of a missing file: the console host's message and exit code
            # 0xFFFD0000 (-196608), as public reports of Windows PowerShell 5.1 show.
            return Process(-196608, "", "The argument '%s' to the -File parameter does not exist. Provide the path to an "
                                        "existing '.ps1' file as an argument to the -File parameter.\r\n" % argv[5])
        _check("engine_job", staged_scripts[script.group(1)], scripts.SCRIPTS["engine_job"])
        request = json.loads(staged_scripts[data.group(1)])
        self.record["processes"].append({"exe": "powershell", "argv": argv[:5], "job": job, "engine_request": request,
                                         "command_line_length": fwh.utf16_length(full)})
        lines = run_engine_job(engine_host(self.docker), self.docker.scenario, request)
        self.docker.changed = True
        return Process(0, "\r\n".join(lines) + "\r\n", "")

    return run_call


def _check(name: str, text: str, constant: str) -> None:
    if text != constant:
        raise FakeHostError("the job's %s is not the collection's constant text" % name)
    digest = fwh.script_sha256(text)
    if script_pins.POWERSHELL.get(name) != digest:
        raise FakeHostError("%s changed (sha256 %s, emulated %s): read its diff, make tests/contract/"
                            "fake_container_engine.py behave like it, then rewrite the pins "
                            "(python tests/contract/script_pins.py --write)" % (name, digest, script_pins.POWERSHELL.get(name)))


def reboot(directory: str | Path) -> None:
    """A restart of the host: pending feature installs finish, the automatic service starts."""
    state_path = Path(directory) / fwh.STATE_FILE
    state = json.loads(state_path.read_text(encoding="utf-8"))
    host = state.get("engine_host")
    if host:
        for name, value in host["features"].items():
            host["features"][name] = {"InstallPending": "Installed", "UninstallPending": "Available"}.get(value, value)
        host["reboot_pending"] = False
        host["reboots"] += 1
        if host.get("service") and host["service"]["start_mode"] == "Auto":
            host["service"]["state"] = "Running"
    state_path.write_text(json.dumps(state, indent=2), encoding="utf-8")


def read_state(directory: str | Path) -> dict[str, Any]:
    return json.loads((Path(directory) / fwh.STATE_FILE).read_text(encoding="utf-8")).get("engine_host") or {}


# --------------------------------------------------------------------------------------------
# registration


def register() -> None:
    fwh.KNOWN_EXECUTABLES["powershell"] = POWERSHELL_PATH
    setattr(FakeWindowsHost, "_script_engine_state", script_engine_state)
    fake_jobs.Jobs.run_call = _job_call(fake_jobs.Jobs.run_call)  # type: ignore[method-assign]

    core_host_info = FakeWindowsHost._script_host_info  # type: ignore[attr-defined]

    def host_info(self: FakeWindowsHost, lines: list[str], record: dict[str, Any], scenario: Mapping[str, Any],
                  docker: FakeDocker) -> list[str]:
        output = core_host_info(self, lines, record, scenario, docker)
        request = record.get("request") or {}
        if not request.get("engine"):
            return output
        answer = json.loads(output[-1])
        answer["engine"] = facts(engine_host(docker), request["engine"])
        return output[:-1] + [powershell_json(answer)]

    setattr(FakeWindowsHost, "_script_host_info", host_info)

    fwh.allow_scenario_key(SCENARIO_KEY)
