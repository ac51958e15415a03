# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared logic of the Windows base OS image modules (win_container_host_info,
win_container_base_image, win_container_base_image_info, win_container_image_provider).

* ``read_host``: the ``host_info`` host operation: the Windows version from the registry,
  Hyper-V, docker calls, and optionally the installed OS images, the legacy provider's
  catalogue and a registry's tags or digests, all in one exec.
* ``HostFacts``: what that tells about the host and its engine.
* ``Target`` / ``resolve_target``: what O(name) and O(registry) name.
* ``run_docker_job``: a pull or load run detached on the host and polled (multi-GB images), with
  docker_image_pull's progress reporting (``transfers``).
* OS image names of the Windows Server 2016 Containers feature (``CN=Microsoft_<Name>_<Version>``).

Build and tag knowledge is not here: it is in ``windows_builds``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli, transfers, windows_builds
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import (
    Call,
    CallResult,
    ExecutableNotFound,
    Host,
    HostError,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils.jobs import HostJob
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import (
    ImageReference,
    ReferenceError,
    parse_reference,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_builds import Family

OPERATION = "host_info"

# Docker Hub's registry API is not served under the name references use.
_API_HOSTS = {"docker.io": "registry-1.docker.io"}

_PROVIDER_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)\.(\d+)$")
_OS_IMAGE = re.compile(r"^CN=Microsoft_([A-Za-z0-9]+)_(\d+(?:\.\d+){1,3})$")
_PROVIDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class OptionError(HostError):
    """A bad option value, found before anything runs on the host."""


# --- the host_info operation ---------------------------------------------------------------------


@dataclass
class HostState:
    facts: HostFacts
    results: list[CallResult]
    os_images: list[str] | None
    find: Mapping[str, Any] | None
    registry: Mapping[str, Any] | None
    engine: Mapping[str, Any] | None = None


def read_host(
    host: Host,
    calls: Sequence[Call] = (),
    os_images: bool = False,
    find: Mapping[str, Any] | None = None,
    registry: Mapping[str, Any] | None = None,
    require_docker: bool = True,
    engine: Mapping[str, Any] | None = None,
) -> HostState:
    """One exec: Windows facts, Hyper-V, the docker calls and whatever else is asked for."""
    for call in calls:
        if call.exe != "docker" or call.stdin is not None or call.append_lines_of is not None:
            raise ValueError("host_info runs plain docker calls only")
    payload: dict[str, Any] = {"calls": [host.call_request(call) for call in calls]}
    if os_images:
        payload["os_images"] = True
    if find is not None:
        payload["find"] = dict(find)
    if registry is not None:
        payload["registry"] = dict(registry)
    if engine is not None:
        payload["engine"] = dict(engine)
    answer = host.execute(OPERATION, payload)
    docker_found = bool(answer.get("docker_found"))
    if calls and not docker_found and require_docker:
        raise ExecutableNotFound(
            "%s: the docker CLI was not found on the host (looked on PATH%s); install Docker or add it to PATH"
            % (host.name, " and in %ProgramFiles%\\Docker" if host.is_windows else "")
        )
    raw = answer.get("results") or []
    if docker_found and len(raw) != len(calls):
        raise HostError("%s: expected %d results from the host, got %d" % (host.name, len(calls), len(raw)))
    results = [
        CallResult(call, int(r.get("rc", -1)), r.get("stdout") or "", r.get("stderr") or "")
        for call, r in zip(calls, raw)
    ]
    facts = HostFacts.from_answer(host, answer)
    return HostState(facts, results, answer.get("os_images"), answer.get("find"), answer.get("registry"),
                     answer.get("engine"))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass
class HostFacts:
    """The host's Windows version (None on other hosts) and Hyper-V, from the registry and CIM."""

    is_windows: bool
    os: Mapping[str, Any]
    build: int | None = None
    ubr: int | None = None
    display_version: str | None = None
    product_name: str | None = None
    edition: str | None = None
    installation_type: str | None = None
    hyperv: Mapping[str, Any] | None = None

    @classmethod
    def from_answer(cls, host: Host, answer: Mapping[str, Any]) -> HostFacts:
        raw = answer.get("os") or {}
        if not host.is_windows:
            return cls(is_windows=False, os=dict(raw), product_name=_text(raw.get("pretty_name")))
        build = _int(raw.get("CurrentBuildNumber"))
        if build is None:
            build = _int(raw.get("CurrentBuild"))
        return cls(
            is_windows=True,
            os=dict(raw),
            build=build,
            ubr=_int(raw.get("UBR")),
            display_version=_text(raw.get("DisplayVersion")) or _text(raw.get("ReleaseId")),
            product_name=_text(raw.get("ProductName")),
            edition=_text(raw.get("EditionID")),
            installation_type=_text(raw.get("InstallationType")),
            hyperv=dict(answer.get("hyperv") or {}),
        )

    @property
    def os_version(self) -> str | None:
        """``10.0.20348.2849``, the form image OsVersion fields have."""
        if self.build is None:
            return None
        major = _int(self.os.get("CurrentMajorVersionNumber"))
        minor = _int(self.os.get("CurrentMinorVersionNumber"))
        prefix = "%d.%d" % (major if major is not None else 10, minor if minor is not None else 0)
        return "%s.%d%s" % (prefix, self.build, "" if self.ubr is None else ".%d" % self.ubr)

    @property
    def os_name(self) -> str | None:
        """The release name for the build (Windows 11's registry ProductName still says Windows 10)."""
        known = windows_builds.WINDOWS_BUILDS.get(self.build) if self.build is not None else None
        if known is None:
            return self.product_name
        client = (self.installation_type or "").lower() == "client"
        names = [n for n in known.names if n.startswith("Windows Server") != client] or list(known.names)
        return names[0]

    @property
    def hyperv_available(self) -> bool | None:
        """Whether Hyper-V isolation can work: the Hyper-V management service exists."""
        if not self.is_windows:
            return None
        if not self.hyperv or (self.hyperv.get("problem") and self.hyperv.get("vmms") is None):
            return None
        return self.hyperv.get("vmms") is not None

    def describe(self) -> str:
        return windows_builds.host_name(self.build)


# --- docker version / info -----------------------------------------------------------------------


def version_call() -> Call:
    return Call(("version", "--format", "{{json .}}"))


def info_call() -> Call:
    return Call(("info", "--format", "{{json .}}"))


def read_json_result(result: CallResult) -> dict[str, Any] | None:
    """The first JSON object a ``--format '{{json .}}'`` call printed (also when it failed)."""
    try:
        documents = docker_cli.json_documents(result.stdout)
    except ValueError:
        return None
    for document in documents:
        if isinstance(document, dict):
            return document
    return None


def engine_problem(host: Host, result: CallResult) -> str | None:
    """Why the engine could not answer (None when it did)."""
    if result.ok:
        return None
    try:
        docker_cli.raise_for_engine(host, [result])
    except HostError as exc:
        return str(exc)
    return str(docker_cli.command_failed(host, result, "docker %s" % result.call.arguments[0]))


def require_info(host: Host, result: CallResult) -> dict[str, Any]:
    """``docker info`` as a dict, or a failure naming what is wrong with the engine."""
    docker_cli.raise_for_engine(host, [result])
    info = read_json_result(result)
    if not result.ok or info is None:
        raise docker_cli.command_failed(host, result, "docker info")
    return info


# --- names and versions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The repository O(name) designates, and the family whose tags it publishes (if known)."""

    repository: ImageReference  # without tag
    family: Family | None
    named_family: bool  # O(name) was a family name (NanoServer, ...), not a repository

    def reference(self, tag: str) -> ImageReference:
        return self.repository.with_tag(tag)


def check_registry(value: Any, option: str = "registry") -> str:
    """A registry host[:port], optionally with a path prefix (a mirror): ``mirror.example.com/mcr``."""
    if not isinstance(value, str) or not value.strip():
        raise OptionError("%s: %r is not a registry (expected host[:port], e.g. mcr.microsoft.com)" % (option, value))
    text = value.strip().rstrip("/")
    if "://" in text:
        raise OptionError("%s: %r must be host[:port][/path] without a URL scheme" % (option, value))
    try:
        reference = parse_reference(text + "/windows/servercore", option)
    except ReferenceError:
        raise OptionError("%s: %r is not a registry host[:port][/path]" % (option, value)) from None
    if reference.domain == "docker.io" and not text.startswith(("docker.io", "index.docker.io")):
        raise OptionError("%s: %r does not start with a registry host (it needs a '.' or a port, or localhost)"
                          % (option, value))
    return text


def resolve_target(name: Any, registry: str, option: str = "name") -> Target:
    """A family name (NanoServer, WindowsServerCore, Server, Windows; any case) or a repository."""
    if not isinstance(name, str) or not name.strip():
        raise OptionError("%s: %r is neither a base image name (NanoServer, WindowsServerCore, Server, Windows) "
                          "nor a repository" % (option, name))
    family = windows_builds.family_by_name(name)
    if family is not None:
        return Target(parse_reference(family.repository(registry), option), family, True)
    reference = parse_reference(name.strip(), option)
    if reference.tag is not None or reference.digest is not None:
        raise OptionError("%s: %r has a tag or digest; give the repository in %s and the tag in version"
                          % (option, name, option))
    return Target(reference, windows_builds.family_of_repository(reference.path), False)


def local_latest_name(target: Target, value: Any, option: str = "latest_name") -> str:
    """The local ``name:latest`` of workflow S6 (``windowsservercore:latest``) or O(latest_name)."""
    if value is not None:
        return str(parse_reference(value, option, default_tag="latest"))
    if target.named_family and target.family is not None:
        return "%s:latest" % target.family.local_name
    return str(target.repository.with_tag("latest"))


# Why the legacy PackageManagement providers fail where this collection runs them, recognised in
# their error text (../docs/architecture.md, "The legacy ContainerImage provider"):
# * BITS, which the ContainerImage provider downloads with, needs the user to be logged on
#   interactively (learn.microsoft.com, "Using Windows PowerShell to Create BITS Transfer Jobs");
#   WinRM, PSRP and SSH sessions are network logons, refused with ERROR_NOT_LOGGED_ON 0x800704DD,
#   "the user has not logged on to the network";
# * Install-PackageProvider bootstraps NuGet from go.microsoft.com/fwlink/?LinkID=627338, whose
#   download fails ("Unable to download from URI ...627338...") without a route to it and since its
#   certificate expired (OneGet issue 553).
_LEGACY_FAILURES = (
    (("0x800704dd", "has not logged on to the network"),
     "the provider downloads with BITS, which refuses network logons, and WinRM, PSRP and SSH sessions are "
     "network logons (0x800704DD)"),
    (("linkid=627338",),
     "the NuGet provider it needs cannot be bootstrapped: its download endpoint (go.microsoft.com/fwlink/?LinkID=627338) "
     "is not reachable from the host or fails its certificate check (OneGet issue 553)"),
)
LEGACY_ALTERNATIVES = ("use source: registry (docker pull from mcr.microsoft.com or a mirror), or source: archive with an "
                       "image saved by docker save (docker_image_load can copy it from the controller)")


def legacy_provider_failure(message: str) -> str | None:
    """What a legacy provider's error means and what to use instead, or None for another error."""
    text = message.lower()
    for markers, meaning in _LEGACY_FAILURES:
        if any(marker in text for marker in markers):
            return "%s; %s" % (meaning, LEGACY_ALTERNATIVES)
    return None


def check_provider_version(value: Any, option: str = "version") -> str:
    if not isinstance(value, str) or not _PROVIDER_VERSION.match(value.strip()):
        raise OptionError("%s: %r is not a four-part Windows image version such as 10.0.14300.1010" % (option, value))
    return value.strip()


def version_build(version: str) -> int | None:
    match = _PROVIDER_VERSION.match(version)
    return int(match.group(3)) if match else None


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def check_provider_name(value: Any, option: str = "name") -> str:
    if not isinstance(value, str) or not _PROVIDER_NAME.match(value.strip()):
        raise OptionError("%s: %r is not a PackageManagement provider name" % (option, value))
    return value.strip()


# --- OS images of the Containers feature (Install-ContainerOSImage) -------------------------------


def os_image_full_name(provider_name: str, version: str) -> str:
    """``CN=Microsoft_NanoServer_10.0.14300.1010``: what Uninstall-ContainerOSImage takes (S8)."""
    return "CN=Microsoft_%s_%s" % (provider_name, version)


def parse_os_image(full_name: str) -> tuple[str, str] | None:
    match = _OS_IMAGE.match(full_name)
    return (match.group(1), match.group(2)) if match else None


def installed_versions(os_images: Sequence[str] | None, provider_name: str) -> list[str]:
    """The versions of one image name installed as OS images, newest first."""
    versions = []
    for full_name in os_images or []:
        parsed = parse_os_image(full_name)
        if parsed and parsed[0].lower() == provider_name.lower():
            versions.append(parsed[1])
    return sorted(set(versions), key=version_key, reverse=True)


def engine_name(provider_name: str, version: str) -> str:
    """The name Docker 1.12 gave an OS image it imported at start: lower-case name, version tag."""
    return "%s:%s" % (provider_name.lower(), version)


# --- the registry's HTTP API, asked from the host ----------------------------------------------------


def registry_bases(reference: ImageReference) -> list[str]:
    """Base URLs of the registry API, in the order the engine would try them."""
    from ansible_collections.wincontainers.images.plugins.plugin_utils.registry import is_loopback

    host = _API_HOSTS.get(reference.domain, reference.domain)
    bases = ["https://%s" % host]
    if is_loopback(reference.domain):
        # The engine talks plain HTTP to loopback registries.
        bases.append("http://%s" % host)
    return bases


def registry_request(reference: ImageReference, tags: bool = False, manifests: Sequence[str] = ()) -> dict[str, Any]:
    """The ``registry`` part of a host_info request: URLs built from checked reference parts only."""
    path = reference.path
    request: dict[str, Any] = {"bases": registry_bases(reference), "tags_path": None, "manifests": []}
    if tags:
        request["tags_path"] = "/v2/%s/tags/list" % path
    for tag in manifests:
        checked = reference.with_tag(tag).tag
        request["manifests"].append({"tag": checked, "path": "/v2/%s/manifests/%s" % (path, checked)})
    return request


def registry_problem(host: Host, reference: ImageReference, answer: Mapping[str, Any] | None) -> str | None:
    if answer is None:
        return "%s: the host did not read the registry" % host.name
    problem = answer.get("problem")
    if problem:
        return "%s: registry %s, repository %s: %s" % (host.name, reference.domain, reference.path, problem)
    return None


# --- detached docker jobs (pull, load) ---------------------------------------------------------------


@dataclass
class JobReport:
    results: list[CallResult]
    summary: dict[str, Any]  # HostJob.summary(): id, reattached, elapsed
    log: list[str] = field(default_factory=list)


def run_docker_job(host: Host, purpose: str, calls: Sequence[Call], timeout: int) -> JobReport:
    """Run docker calls detached on the host (they outlive a dropped WinRM shell) and wait.

    The first call is the transfer (a pull or a load); its progress is shown on the controller
    the way docker_image_pull shows it (``transfers.ProgressReporter``).
    """
    job = HostJob(host, purpose, list(calls))
    reporter = transfers.ProgressReporter(transfers.display_emitter(), "%s on %s" % (purpose, host.name),
                                          transfers.PULL_DONE, transfers.PULL_FINISHED, items=1)
    results = job.run(timeout=timeout, poll_interval=transfers.POLL_INTERVAL, on_progress=reporter,
                      first_poll_interval=transfers.FIRST_POLL_INTERVAL, wait_on_host=True)
    return JobReport(results=results, summary=job.summary(), log=list(reporter.lines))


def pull_call(reference: ImageReference, environment: Mapping[str, str] | None = None) -> Call:
    return Call(("image", "pull", docker_cli.END_OF_FLAGS, str(reference)),
                environment=dict(environment) if environment else None)


def load_call(path: str) -> Call:
    return Call(("image", "load", "--input", path))
