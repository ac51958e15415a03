# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Docker engine of a Windows container host: the Containers feature, the static binaries,
the ``docker`` service and daemon.json (``win_container_engine``, ``win_container_host_info``).

Everything that decides is here, in Python, and unit tested: which release ``latest`` is (from
the download index), whether the installed engine is the one asked for, what daemon.json becomes
after a merge and whether that is a change, whether the service is registered with the flags we
want, and what the Windows feature states mean. The host only reads (``engine_state``) and, in a
detached job, does the steps the controller chose (``engine_job``: feature, fetch, install,
config, start, remove).

Windows and Docker facts used (sources named where they are used):

* Docker CE static binaries: ``<url>/docker-<version>.zip`` holding ``docker/docker.exe`` and
  ``docker/dockerd.exe``; the directory listing is the index (download.docker.com
  ``win/static/stable/x86_64/``; Microsoft's ``install-docker-ce.ps1`` reads the same place).
* ``dockerd --register-service`` registers the service ``docker`` (``--service-name``) to run
  ``"<path of dockerd.exe>" --run-service <the other flags given>``, automatic start;
  ``--unregister-service`` removes it (moby ``cmd/dockerd/service_windows.go``).
* daemon.json is ``<data-root>\\config\\daemon.json``, by default
  ``%ProgramData%\\docker\\config\\daemon.json``; an option given both as a flag and in the file
  stops the daemon from starting (docs.docker.com "Docker daemon configuration overview"; the
  keys below are those of the dockerd reference's full Windows example, docker/cli
  ``docs/reference/dockerd.md``).
* ``Get-WindowsFeature``'s ``InstallState``: Available, Installed, InstallPending, Removed,
  UninstallPending; ``Install-WindowsFeature``'s ``RestartNeeded``: No, Yes, Maybe
  (learn.microsoft.com, ServerManager module). ``Get-WindowsOptionalFeature``'s ``State``
  (DISM ``DismPackageFeatureState``): Enabled, Disabled, EnablePending, DisablePending,
  DisabledWithPayloadRemoved; ``Enable-WindowsOptionalFeature`` answers ``RestartNeeded``
  (true/false) (learn.microsoft.com, DISM module).
"""

from __future__ import annotations

import hashlib
import json
import ntpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import join_arguments

DEFAULT_URL = "https://download.docker.com/win/static/stable/x86_64/"
SERVICE = "docker"
LATEST = "latest"
VERSION_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
INDEX_ENTRY_RE = re.compile(r"""href\s*=\s*["']?(?:[^"'>\s]*/)?docker-([0-9]+\.[0-9]+\.[0-9]+)\.zip["'>\s]""", re.I)
DOCKERD_VERSION_RE = re.compile(r"Docker version ([0-9]+\.[0-9]+\.[0-9]+)")
SHA256_RE = re.compile(r"^(?:sha256:)?([0-9a-fA-F]{64})$")

# The keys of the dockerd reference's full Windows daemon.json example (docker/cli
# docs/reference/dockerd.md, "On Windows"), plus "proxies" (same page, "Proxy configuration").
DAEMON_KEYS = frozenset((
    "allow-nondistributable-artifacts", "authorization-plugins", "bridge", "containerd", "containerd-namespace",
    "containerd-plugins-namespace", "data-root", "debug", "default-network-opts", "default-runtime",
    "default-ulimits", "dns", "dns-opts", "dns-search", "exec-opts", "experimental", "features", "fixed-cidr",
    "group", "host-gateway-ip", "hosts", "insecure-registries", "labels", "log-driver", "log-format", "log-level",
    "max-concurrent-downloads", "max-concurrent-uploads", "max-download-attempts", "mtu", "pidfile", "proxies",
    "raw-logs", "registry-mirrors", "shutdown-timeout", "storage-driver", "storage-opts",
    "swarm-default-advertise-addr", "tlscacert", "tlscert", "tlskey", "tlsverify",
))

# Feature states, normalised: Server (Get-WindowsFeature InstallState) and client editions
# (Get-WindowsOptionalFeature State).
INSTALLED, PENDING, MISSING, REMOVING, UNKNOWN = "installed", "pending_reboot", "missing", "pending_removal", "unknown"
FEATURE_STATES = {
    "installed": INSTALLED, "enabled": INSTALLED,
    "installpending": PENDING, "enablepending": PENDING,
    "available": MISSING, "removed": MISSING, "disabled": MISSING, "disabledwithpayloadremoved": MISSING,
    "uninstallpending": REMOVING, "disablepending": REMOVING,
}
# The feature names per edition kind (the engine_state script reads these).
FEATURE_NAMES = {"server": {"containers": "Containers", "hyperv": "Hyper-V"},
                 "client": {"containers": "Containers", "hyperv": "Microsoft-Hyper-V"}}


class EngineError(Exception):
    """A value or a host state the module refuses; the message names the option or the file."""


# --- versions ---------------------------------------------------------------------------------


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def check_version(value: Any) -> str:
    """``latest`` or a release such as ``27.5.1``."""
    text = str(value).strip()
    if text.lower() == LATEST:
        return LATEST
    if not VERSION_RE.match(text):
        raise EngineError("version: %r is not a Docker CE release (MAJOR.MINOR.PATCH, for example 27.5.1) nor latest" % value)
    return text


def latest_from_index(body: str) -> str | None:
    """The newest ``docker-X.Y.Z.zip`` a directory listing links to."""
    versions = {match.group(1) for match in INDEX_ENTRY_RE.finditer(body or "")}
    return max(versions, key=version_key) if versions else None


def installed_version(dockerd_output: str | None) -> str | None:
    """The release of ``dockerd --version`` output (``Docker version 27.5.1, build 4c9b3b0``)."""
    match = DOCKERD_VERSION_RE.search(dockerd_output or "")
    return match.group(1) if match else None


def check_checksum(value: Any) -> str | None:
    if value is None:
        return None
    match = SHA256_RE.match(str(value).strip())
    if not match:
        raise EngineError("checksum: %r is not a sha256 (64 hexadecimal digits, optionally after sha256:)" % value)
    return match.group(1).lower()


def check_url(value: Any) -> str:
    text = str(value).strip()
    if not re.match(r"^https?://[^\s/]+(/[^\s]*)?$", text):
        raise EngineError("url: %r is not an http(s) URL of a directory that holds docker-<version>.zip" % value)
    return text if text.endswith("/") else text + "/"


def zip_name(version: str) -> str:
    return "docker-%s.zip" % version


def version_of_archive(path: str) -> str | None:
    match = re.match(r"^docker-([0-9]+\.[0-9]+\.[0-9]+)\.zip$", ntpath.basename(path), re.I)
    return match.group(1) if match else None


# --- Windows features -------------------------------------------------------------------------


def feature_state(raw: Any) -> str:
    if raw is None:
        return UNKNOWN
    return FEATURE_STATES.get(str(raw).replace(" ", "").lower(), UNKNOWN)


def restart_needed(raw: Any) -> bool:
    """Install-WindowsFeature's RestartNeeded (No, Yes, Maybe) or Enable-WindowsOptionalFeature's (a bool)."""
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() in ("yes", "maybe", "true")


# --- the service --------------------------------------------------------------------------------


def split_command_line(text: str) -> list[str]:
    """A service's PathName split as CommandLineToArgvW does (2n backslashes before a quote give
    n and the quote toggles; 2n+1 give n and a literal quote; other backslashes are literal)."""
    arguments: list[str] = []
    index, length = 0, len(text)
    while index < length:
        while index < length and text[index] in " \t":
            index += 1
        if index >= length:
            break
        current: list[str] = []
        quoted = False
        while index < length and (quoted or text[index] not in " \t"):
            slashes = 0
            while index < length and text[index] == "\\":
                slashes += 1
                index += 1
            if index < length and text[index] == '"':
                current.append("\\" * (slashes // 2))
                if slashes % 2:
                    current.append('"')
                else:
                    quoted = not quoted
                index += 1
                continue
            current.append("\\" * slashes)
            if index < length and (quoted or text[index] not in " \t"):
                current.append(text[index])
                index += 1
        arguments.append("".join(current))
    return arguments


def service_flags(flags_data_root: str | None) -> list[str]:
    """The flags the service is registered with (besides --run-service)."""
    return ["--data-root", flags_data_root] if flags_data_root else []


def registration_matches(path_name: str | None, install_dir: str, flags: Sequence[str]) -> bool:
    """Whether the registered service runs our dockerd.exe with exactly these flags."""
    if not path_name:
        return False
    argv = split_command_line(path_name)
    if len(argv) < 2 or argv[1] != "--run-service":
        return False
    if ntpath.normcase(ntpath.normpath(argv[0])) != ntpath.normcase(ntpath.join(install_dir, "dockerd.exe")):
        return False
    return argv[2:] == list(flags)


def register_arguments(flags: Sequence[str]) -> str:
    return join_arguments(["--register-service"] + list(flags))


# --- daemon.json ----------------------------------------------------------------------------------


def daemon_json_path(data_root: str) -> str:
    return ntpath.join(data_root, "config", "daemon.json")


def parse_daemon_json(text: str | None, path: str) -> dict[str, Any] | None:
    """The host's daemon.json as an object (None when it does not exist)."""
    if text is None:
        return None
    stripped = text.lstrip("\ufeff").strip()
    if not stripped:
        return {}
    try:
        value = json.loads(stripped)
    except ValueError as exc:
        raise EngineError("%s on the host is not valid JSON (%s); fix or remove it first: the docker service would not "
                          "start with it, and nothing was changed" % (path, exc)) from None
    if not isinstance(value, dict):
        raise EngineError("%s on the host holds a JSON %s, not an object; nothing was changed" % (path, type(value).__name__))
    return value


def check_daemon_config(config: Any, flags: Sequence[str]) -> dict[str, Any]:
    """``daemon_config`` checked: an object of known keys, none also given as a service flag."""
    if not isinstance(config, Mapping):
        raise EngineError("daemon_config: must be a dictionary of daemon.json keys, got %s" % type(config).__name__)
    unknown = sorted(str(key) for key in config if key not in DAEMON_KEYS)
    if unknown:
        raise EngineError("daemon_config: unknown daemon.json key%s %s (dockerd on Windows accepts: %s); nothing was "
                          "changed" % ("s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(sorted(DAEMON_KEYS))))
    flagged = sorted(key for key in config if "--" + key in flags and config[key] is not None)
    if flagged:
        raise EngineError("daemon_config: %s is also given as a flag of the service (data_root); dockerd refuses to start "
                          "when an option is set both ways" % ", ".join(flagged))
    try:
        json.dumps(dict(config))
    except (TypeError, ValueError) as exc:
        raise EngineError("daemon_config: not representable as JSON: %s" % exc) from None
    return dict(config)


def merge_daemon_config(current: Mapping[str, Any] | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level keys of ``changes`` replace the file's; a key set to null is removed."""
    merged = dict(current or {})
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def render_daemon_json(config: Mapping[str, Any]) -> str:
    return json.dumps(dict(config), indent=2, sort_keys=True, ensure_ascii=True) + "\n"


# --- what the host reported ---------------------------------------------------------------------


@dataclass(frozen=True)
class EngineFacts:
    """The engine_state answer, read."""

    kind: str  # server, client or unknown
    containers: str
    hyperv: str
    reboot_pending: bool
    reboot_reasons: tuple[str, ...]
    install_dir: str
    dockerd_found: bool
    version: str | None
    service_exists: bool
    service_state: str | None
    start_mode: str | None
    path_name: str | None
    engine_answers: bool
    server_version: str | None
    engine_error: str | None
    data_root: str
    daemon_json_path: str
    daemon_json_text: str | None

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any]) -> EngineFacts:
        features = answer.get("features") or {}
        reboot = answer.get("reboot") or {}
        service = answer.get("service") or {}
        engine = answer.get("engine") or {}
        daemon = answer.get("daemon_json") or {}
        server_version = None
        engine_error = None
        if engine.get("rc") == 0:
            try:
                server_version = json.loads((engine.get("stdout") or "").strip() or "null")
            except ValueError:
                server_version = None
        elif engine:
            engine_error = (engine.get("stderr") or engine.get("stdout") or "").strip() or None
        return cls(
            kind=str(features.get("kind") or "unknown"),
            containers=feature_state(features.get("containers")),
            hyperv=feature_state(features.get("hyperv")),
            reboot_pending=bool(reboot.get("pending")),
            reboot_reasons=tuple(str(r) for r in reboot.get("reasons") or []),
            install_dir=str(answer.get("install_dir") or ""),
            dockerd_found=bool(answer.get("dockerd")),
            version=installed_version(answer.get("dockerd")),
            service_exists=bool(service.get("exists")),
            service_state=service.get("state") or None,
            start_mode=service.get("start_mode") or None,
            path_name=service.get("path_name") or None,
            engine_answers=isinstance(server_version, str) and bool(server_version),
            server_version=server_version if isinstance(server_version, str) else None,
            engine_error=engine_error,
            data_root=str(answer.get("data_root") or ""),
            daemon_json_path=str(daemon.get("path") or ""),
            daemon_json_text=daemon.get("text") if daemon.get("exists") else None,
        )

    @property
    def running(self) -> bool:
        return (self.service_state or "").lower() == "running"

    @property
    def automatic(self) -> bool:
        return (self.start_mode or "").lower() == "auto"

    def public(self) -> dict[str, Any]:
        """What win_container_host_info returns as ``engine``."""
        return {
            "edition_kind": self.kind,
            "containers_feature": self.containers,
            "hyperv_feature": self.hyperv,
            "reboot_pending": self.reboot_pending or PENDING in (self.containers, self.hyperv),
            "reboot_reasons": list(self.reboot_reasons),
            "install_dir": self.install_dir or None,
            "installed": self.dockerd_found,
            "version": self.version,
            "service": {"exists": self.service_exists, "state": self.service_state, "start_mode": self.start_mode,
                        "path_name": self.path_name},
            "answers": self.engine_answers,
            "daemon_json_path": self.daemon_json_path or None,
            "daemon_config": _quiet_json(self.daemon_json_text),
        }


def _quiet_json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text.lstrip("\ufeff") or "{}")
    except ValueError:
        return None


def state_request(install_dir: str | None = None, data_root: str | None = None, index: str | None = None,
                  archive: str | None = None) -> dict[str, Any]:
    """The ``engine`` part of an engine_state or host_info request."""
    request: dict[str, Any] = {"install_dir": install_dir, "data_root": data_root}
    if index:
        request["index"] = index
    if archive:
        request["archive"] = archive
    return request


# --- the task -------------------------------------------------------------------------------------

PRESENT, ABSENT = "present", "absent"
DOWNLOAD, ARCHIVE = "download", "archive"
ENGINE_WAIT = 120  # seconds the job waits for a started engine to answer docker version


@dataclass(frozen=True)
class EngineRequest:
    """win_container_engine's options, checked before any exec."""

    state: str
    version: str | None  # a release, "latest", or None (absent)
    source: str
    url: str
    archive_path: str | None
    checksum: str | None
    install_dir: str | None
    data_root: str | None
    daemon_config: dict[str, Any] | None
    hyperv: bool
    timeout: int

    @property
    def flags(self) -> list[str]:
        return service_flags(self.data_root)


def check_request(args: Mapping[str, Any], windows: bool, host_name: str) -> EngineRequest:
    from ansible_collections.wincontainers.images.plugins.plugin_utils import options

    if not windows:
        raise EngineError("%s is reached through a POSIX shell: win_container_engine installs the Docker engine of Windows "
                          "hosts only (on Linux, installing the engine is the distribution's job: its packages or "
                          "Docker's repositories)" % host_name)

    def path(option: str, example: str) -> str | None:
        if args.get(option) is None:
            return None
        try:
            return options.absolute_path(args[option], option, True, example)
        except options.OptionError as exc:
            raise EngineError(str(exc)) from None

    state, source = args["state"], args["source"]
    archive_path = path("archive_path", "\\\\fileserver\\docker\\docker-27.5.1.zip")
    if archive_path is not None and source != ARCHIVE:
        raise EngineError("archive_path: only used with source: archive (source is %s)" % source)
    if source == ARCHIVE and archive_path is None and state == PRESENT:
        raise EngineError("archive_path: source: archive needs the path of docker-<version>.zip on the host or a share")
    version = None
    if args.get("version") is not None:
        version = check_version(args["version"])
    elif state == PRESENT and archive_path is not None:
        version = version_of_archive(archive_path)
    if state == PRESENT and version is None:
        raise EngineError("version: give the Docker CE release to install (for example 27.5.1)%s"
                          % (" or latest" if source == DOWNLOAD else "; the archive's name does not say it"))
    if version == LATEST and source == ARCHIVE:
        raise EngineError("version: latest is resolved from the download index; with source: archive give the release "
                          "the archive holds")
    if args["timeout"] <= 0:
        raise EngineError("timeout: %r must be a positive number of seconds" % args["timeout"])
    data_root = path("data_root", "D:\\docker")
    config = args.get("daemon_config")
    return EngineRequest(
        state=state, version=version, source=source, url=check_url(args["url"]), archive_path=archive_path,
        checksum=check_checksum(args.get("checksum")), install_dir=path("install_dir", "C:\\Program Files\\Docker"),
        data_root=data_root, daemon_config=None if config is None else check_daemon_config(config, service_flags(data_root)),
        hyperv=bool(args["hyperv"]), timeout=args["timeout"],
    )


@dataclass
class Plan:
    """What the job does; decided from the facts."""

    features: list[str]
    fetch: bool = False
    install: bool = False
    register: bool = False
    config: dict[str, Any] | None = None  # {"path", "text"} to write
    start: bool = False
    remove: bool = False

    @property
    def engine_steps(self) -> bool:
        return self.fetch or self.install or self.register or self.config is not None or self.start or self.remove


class EngineTask:
    def __init__(self, action: Any, host: Any, request: EngineRequest) -> None:
        self.action = action
        self.host = host
        self.request = request
        self.check_mode = bool(action.check_mode)
        self.actions: list[str] = []
        self.warnings: list[str] = []

    # the one read -------------------------------------------------------------------------------

    def read(self) -> tuple[EngineFacts, Mapping[str, Any]]:
        request = self.request
        index = request.url if request.state == PRESENT and request.version == LATEST else None
        archive = request.archive_path if request.state == PRESENT and request.source == ARCHIVE else None
        answer = self.host.execute("engine_state", state_request(request.install_dir, request.data_root, index, archive))
        return EngineFacts.from_answer(answer), answer

    def run(self) -> dict[str, Any]:
        facts, answer = self.read()
        if self.request.state == ABSENT:
            return self.absent(facts)
        version = self.resolve_version(answer)
        zip_path = self.archive(version, answer)
        result = self.base_result(facts, version)
        names = FEATURE_NAMES.get(facts.kind, FEATURE_NAMES["server"])
        missing = [names["containers"]] if facts.containers == MISSING else []
        if self.request.hyperv and facts.hyperv == MISSING:
            missing.append(names["hyperv"])
        checked = [(facts.containers, "Containers")] + ([(facts.hyperv, "Hyper-V")] if self.request.hyperv else [])
        for state, what in checked:
            if state in (UNKNOWN, REMOVING):
                raise EngineError("%s: the %s feature is %s; nothing was changed" % (
                    self.host.name, what, "being removed (pending a reboot)" if state == REMOVING
                    else "unknown to this edition of Windows, or its state could not be read"))
        pending = PENDING in (facts.containers, facts.hyperv if self.request.hyperv else None)
        changed = False
        if missing:
            self.actions.extend("installed the %s feature" % name for name in missing)
            changed = True
            if self.check_mode:
                result.update(changed=True, reboot_required=True, actions=self.actions,
                              features=self.features_after(facts, missing, PENDING))
                return self.finish(result, facts, None)
            outcome = self.run_job(Plan(features=missing), facts, version, zip_path, "installing the %s feature" % ", ".join(missing))
            pending = pending or bool(outcome.get("restart_needed"))
            result["features"] = self.features_after(facts, missing, PENDING if outcome.get("restart_needed") else INSTALLED)
        if pending:
            self.warnings.append("%s must restart to finish installing the Windows features; run the task again after the "
                                 "reboot to install the engine (the container_host role does both)" % self.host.name)
            result.update(changed=changed, reboot_required=True, actions=self.actions)
            return self.finish(result, facts, None)

        plan = self.plan(facts, version, zip_path)
        new_config = plan.config
        if plan.engine_steps:
            if not self.check_mode:
                outcome = self.run_job(plan, facts, version, zip_path, "installing Docker %s" % version
                                       if plan.install else "configuring the Docker engine")
                result["server_version"] = outcome.get("server_version")
            changed = True
        result.update(changed=changed, actions=self.actions, version=version)
        if new_config is not None:
            result["daemon_config"] = json.loads(new_config["text"])
        return self.finish(result, facts, new_config)

    # decisions -------------------------------------------------------------------------------------

    def resolve_version(self, answer: Mapping[str, Any]) -> str:
        version = self.request.version
        if version != LATEST:
            return str(version)
        index = answer.get("index") or {}
        if index.get("problem") or index.get("status") != 200:
            raise EngineError("%s: the download index %s could not be read: %s" % (
                self.host.name, self.request.url, index.get("problem") or "HTTP %s" % index.get("status")))
        latest = latest_from_index(index.get("body") or "")
        if latest is None:
            raise EngineError("%s: the download index %s links to no docker-<version>.zip" % (self.host.name, self.request.url))
        return latest

    def archive(self, version: str, answer: Mapping[str, Any]) -> str:
        """The zip the install reads: the archive (checked here already), or where the download goes."""
        request = self.request
        if request.source == DOWNLOAD:
            install_dir = str(answer.get("install_dir") or "")
            return "%s-%s.zip" % (install_dir.rstrip("\\"), version)
        archive = answer.get("archive") or {}
        if not archive.get("exists"):
            raise EngineError("archive_path: %s does not exist on %s (or cannot be read from its session: a share needs "
                              "credentials that reach it, see the second hop in docs/troubleshooting.md)"
                              % (request.archive_path, self.host.name))
        if request.checksum and archive.get("sha256") != request.checksum:
            raise EngineError("checksum: %s has sha256 %s, not %s; nothing was changed"
                              % (request.archive_path, archive.get("sha256"), request.checksum))
        return str(request.archive_path)

    def plan(self, facts: EngineFacts, version: str, zip_path: str) -> Plan:
        request = self.request
        plan = Plan(features=[])
        if facts.version != version:
            plan.install = True
            plan.fetch = request.source == DOWNLOAD
            self.actions.append("installed Docker %s%s" % (version, " (was %s)" % facts.version if facts.version else ""))
        if not facts.service_exists or not registration_matches(facts.path_name, facts.install_dir, request.flags):
            plan.register = True
            self.actions.append("registered the docker service (dockerd --register-service%s)"
                                % ("".join(" " + flag for flag in request.flags)))
        if request.daemon_config is not None:
            path = daemon_json_path(facts.data_root) if request.data_root is None else daemon_json_path(request.data_root)
            current = parse_daemon_json(facts.daemon_json_text, path)
            desired = merge_daemon_config(current, request.daemon_config)
            if desired != (current or {}) or (current is None and desired):
                plan.config = {"path": path, "text": render_daemon_json(desired)}
                self.actions.append("wrote %s" % path)
        if plan.install or plan.register or plan.config is not None or not facts.running or not facts.automatic \
                or not facts.engine_answers:
            plan.start = True
            self.actions.append("restarted the docker service" if facts.running and (plan.install or plan.register or plan.config)
                                else "started the docker service")
        return plan

    # the job -----------------------------------------------------------------------------------------

    def run_job(self, plan: Plan, facts: EngineFacts, version: str, zip_path: str, purpose: str) -> Mapping[str, Any]:
        from ansible_collections.wincontainers.images.plugins.plugin_utils import powershell_scripts
        from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call
        from ansible_collections.wincontainers.images.plugins.plugin_utils.jobs import HostJob, stage_request

        request = self.request
        payload: dict[str, Any] = {
            "install_dir": facts.install_dir, "server": facts.kind != "client", "features": plan.features,
            "fetch": plan.fetch, "url": request.url + zip_name(version), "zip": zip_path, "sha256": request.checksum,
            "install": plan.install, "version": version if (plan.install or plan.start) else None,
            "register": plan.register, "register_arguments": register_arguments(request.flags),
            "config": plan.config, "start": plan.start, "remove": plan.remove, "wait": ENGINE_WAIT,
        }
        # The script and its request go to the job root in an exec of their own (stage_script), so
        # that job_start stays within the wire budget; the job runs them from there (its directory
        # is <root>\\<job>).
        data = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        data_digest = hashlib.sha256(data.encode("utf-8")).hexdigest()
        staged = self.host.execute("stage_script", {"name": "engine_job", "sha256": powershell_scripts.DIGESTS["engine_job"],
                                                    "data_sha256": data_digest, "data": data})
        if staged.get("missing"):  # the first change on this host: the script itself, in an exec of its own
            self.host.execute("stage_script", stage_request("engine_job"))
        call = Call(("-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Unrestricted", "-File",
                     powershell_scripts.staged_path("engine_job"), "..\\scripts\\data-%s.json" % data_digest[:32]),
                    exe="powershell")
        job = HostJob(self.host, purpose, [call], locks=[facts.install_dir])
        results = job.run(request.timeout, poll_interval=3.0, first_poll_interval=0.5, wait_on_host=True,
                          on_progress=self.progress(purpose))
        self.job = job.summary()
        outcome = last_answer(results[0].stdout)
        if outcome is None:
            raise EngineError("%s: %s ended without an answer (rc %s): %s" % (
                self.host.name, purpose, results[0].rc, (results[0].stderr or results[0].stdout).strip()[-2000:]))
        error = outcome.get("error")
        if error:
            rolled = bool(outcome.get("rolled_back"))
            from ansible_collections.wincontainers.images.plugins.plugin_utils.action import TaskFailed

            raise TaskFailed("%s: %s failed: %s%s" % (
                self.host.name, purpose, error.get("message"),
                "; the previous engine and daemon.json were put back and answer again" if rolled else ""),
                rolled_back=rolled, changed=rolled, server_version=outcome.get("server_version"), job=self.job)
        return outcome

    def progress(self, purpose: str) -> Any:
        from ansible.utils.display import Display

        display = Display()
        shown = {"lines": 0}

        def show(update: Any) -> None:
            lines = [line for line in ((update.outputs or [{}])[0].get("stdout") or "").splitlines()
                     if line.startswith("progress ")]
            for line in lines[shown["lines"]:]:
                parts = line.split()
                got, total = int(parts[1]), int(parts[2]) if len(parts) > 2 and parts[2].lstrip("-").isdigit() else -1
                done = " (%d%%)" % (100 * got // total) if total > 0 else ""
                display.display("%s: %s: %d MB downloaded%s" % (self.host.name, purpose, got // 1048576, done))
            shown["lines"] = len(lines)

        return show

    # absent ------------------------------------------------------------------------------------------

    def absent(self, facts: EngineFacts) -> dict[str, Any]:
        present = facts.dockerd_found or facts.service_exists
        result = self.base_result(facts, None)
        if present:
            self.actions.append("removed the docker service and %s (the data root %s is kept)" % (facts.install_dir, facts.data_root))
            if not self.check_mode:
                self.run_job(Plan(features=[], remove=True), facts, "", "", "removing the Docker engine")
        result.update(changed=present, actions=self.actions, version=None, service=None if present else result["service"])
        if self.action.diff_mode:
            result["diff"] = {"before": {"version": facts.version, "service": facts.service_state},
                              "after": {"version": None, "service": None}}
        return result

    # the result --------------------------------------------------------------------------------------

    def base_result(self, facts: EngineFacts, version: str | None) -> dict[str, Any]:
        self.job: dict[str, Any] | None = None
        return {
            "changed": False,
            "state": self.request.state,
            "version": version,
            "previous_version": facts.version,
            "server_version": facts.server_version,
            "install_dir": facts.install_dir,
            "features": {"containers": facts.containers, "hyperv": facts.hyperv},
            "reboot_required": False,
            "reboot_pending": facts.reboot_pending,
            "service": {"state": facts.service_state, "start_mode": facts.start_mode},
            "daemon_json_path": daemon_json_path(self.request.data_root) if self.request.data_root else facts.daemon_json_path,
            "daemon_config": _quiet_json(facts.daemon_json_text),
            "rolled_back": False,
            "actions": self.actions,
        }

    @staticmethod
    def features_after(facts: EngineFacts, installed: Sequence[str], state: str) -> dict[str, str]:
        after = {"containers": facts.containers, "hyperv": facts.hyperv}
        for name in installed:
            after["containers" if name == "Containers" else "hyperv"] = state
        return after

    def finish(self, result: dict[str, Any], facts: EngineFacts, config: Mapping[str, Any] | None) -> dict[str, Any]:
        if result.get("changed") and not result.get("reboot_required"):
            result["service"] = {"state": "Running", "start_mode": "Auto"}
            if not self.check_mode:
                result["server_version"] = result.get("server_version") or result.get("version")
        if self.job is not None:
            result["job"] = self.job
        if self.warnings:
            result["warnings"] = self.warnings
        if self.action.diff_mode:
            before = facts.daemon_json_text if facts.daemon_json_text is not None else ""
            result["diff"] = [
                {"before_header": "engine", "after_header": "engine",
                 "before": "version: %s\nservice: %s\n" % (facts.version, facts.service_state),
                 "after": "version: %s\nservice: %s\n" % (
                     facts.version if result.get("reboot_required") else result.get("version"),
                     result["service"]["state"])},
            ]
            if config is not None:
                result["diff"].append({"before_header": result["daemon_json_path"], "after_header": result["daemon_json_path"],
                                       "before": before, "after": config["text"]})
        return result


def last_answer(stdout: str) -> dict[str, Any] | None:
    """The job's answer: its last JSON line (the progress lines come before it)."""
    from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import _last_json_line

    answer = _last_json_line(stdout or "")
    return dict(answer) if answer is not None else None
