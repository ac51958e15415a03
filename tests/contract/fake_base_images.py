# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fake Windows host's emulation of the base image scripts (win_container_* modules).

Registered at the end of ``fake_windows_host.py`` (``register()``), this module adds to ``FakeWindowsHost``:

* ``host_info``: the registry values of ``HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion``,
  Hyper-V, the request's docker calls, the OS images under ``%ProgramData%\\Microsoft\\Windows\\Images``,
  ``Find-ContainerImage`` and a registry's tag list / manifest digests;
* ``container_image``: ``Install-ContainerImage``, ``Install-ContainerOSImage -WimPath``,
  ``Uninstall-ContainerOSImage``, then docker checks with one ``Restart-Service docker`` (S5);
* ``package_provider``: ``Get-PackageProvider -ListAvailable``, ``Install-PackageProvider``, removal;

each pinned, like every script, in ``script_pins.py``;

and to ``FakeDocker`` the docker commands these modules send that the core emulation does not
know: ``version``/``info --format {{json .}}``, ``image ls``/``images`` of one repository as JSON
rows, ``inspect --type image``, the classic ``tag``/``rmi``, ``image rm``, ``image pull`` and
``image load`` (what a pull brings and what an archive holds come from the scenario).

Scenario key ``base_images`` (all optional)::

    host: ws2022                  # recorded/base_images/hosts/<host>.json: registry values,
                                  # Hyper-V, docker version / info of that host
    engine_imports_os_images: false   # Docker 1.12: OS images appear after a restart (S5)
    os_images: [CN=Microsoft_NanoServer_10.0.14300.1010]   # installed OS images
    provider_images: provider/find_containerimage.json     # what Find-ContainerImage offers
    provider_error: "..."         # Find-ContainerImage / Install-ContainerImage fail with this
    providers: provider/get_packageprovider_listavailable.json   # Get-PackageProvider -ListAvailable
    gallery: {ContainerImage: provider/get_packageprovider_containerimage.json}
    gallery_error: "..."          # Install-PackageProvider fails with this
    wims: {"C:\\images\\NanoServer.wim": {name: NanoServer, version: 10.0.14300.1010}}
    os_image_files: {"CN=Microsoft_NanoServer_10.0.14300.1010": nanoserver_tp5.json}
    registry: {"mcr.microsoft.com/windows/servercore": {tags: registry/mcr_servercore_tags.json,
               digests: {ltsc2022: sha256:...}}}
    pulls: {"mcr.microsoft.com/windows/servercore:ltsc2022": images/servercore_ltsc2022.json}
    archives: {"C:\\images\\servercore.tar": images/servercore_ltsc2022.json}

State (``state.json``) keeps ``os_images``, ``providers``, ``pending_os_images`` and ``restarts``
next to ``images``. Formats and their sources: recorded/README.md.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import fake_windows_host as fwh
from fake_windows_host import (
    DOCKER_PATH,
    FakeDocker,
    FakeHostError,
    FakeWindowsHost,
    Process,
    dotnet_command_line,
    docker_json,
    load_recorded,
    parse_ref,
    powershell_json,
    split_windows_command_line,
    utf16_length,
)

SCENARIO_KEY = "base_images"
DEFAULT_HOST = "ws2022"
ENGINE_DOWN_VERSION = fwh.ENGINE_DOWN % ("Get", fwh.CLI_API_PREFIX + "/version")
# The template the OS image path gives `docker images` (Docker 1.12 has no {{json .}} there).
LEGACY_ROW_FORMAT = '{"ID":"{{.ID}}","Repository":"{{.Repository}}","Tag":"{{.Tag}}"}'


def recorded(name: str) -> Any:
    return load_recorded("base_images/" + name)


def config(scenario: Mapping[str, Any]) -> dict[str, Any]:
    return dict(scenario.get(SCENARIO_KEY) or {})


def host_data(scenario: Mapping[str, Any]) -> dict[str, Any]:
    return recorded("hosts/%s.json" % config(scenario).get("host", DEFAULT_HOST))


def image_objects(entry: Any) -> list[dict[str, Any]]:
    """Images of a recorded file name (``images/...`` of this area or the core ``images``) or objects."""
    if isinstance(entry, str):
        try:
            loaded = recorded(entry if entry.startswith("images/") else "images/" + entry)
        except FileNotFoundError:
            loaded = load_recorded("images/" + entry)
        return copy.deepcopy(loaded if isinstance(loaded, list) else [loaded])
    return [copy.deepcopy(entry)]


def answer_lines(value: Mapping[str, Any]) -> list[str]:
    return [powershell_json(value)]


def exception(message: str) -> list[str]:
    return answer_lines({"error": {"kind": "exception", "message": message}})


def request_of(lines: Sequence[str], record: dict[str, Any]) -> Any:
    text = "\n".join(lines)
    if not text.strip():
        raise _Thrown("the request line on stdin is empty")
    try:
        request = json.loads(text)
    except ValueError as exc:
        raise _Thrown("Invalid JSON primitive: %s" % exc) from None
    record["request"] = request
    return request


class _Thrown(Exception):
    """A PowerShell exception the script's catch turns into its error answer."""


def provider_entry(raw: Mapping[str, Any]) -> dict[str, str]:
    """What the package_provider script projects from a PackageProvider object."""
    version = raw.get("Version")
    if isinstance(version, Mapping):
        version = "%d.%d.%d.%d" % (version["Major"], version["Minor"], version["Build"], version["Revision"])
    return {"name": str(raw.get("Name")), "version": str(version), "path": str(raw.get("ProviderPath") or "")}


# --------------------------------------------------------------------------------------------
# docker commands


def run_docker(docker: FakeDocker, record: dict[str, Any], command_line: str, env: Any = None) -> dict[str, Any]:
    """Start-Call/Complete-Call of the scripts: docker.exe with a .NET command line."""
    full = dotnet_command_line(DOCKER_PATH, command_line)
    argv = split_windows_command_line(full)[1:]
    process: dict[str, Any] = {"exe": "docker", "cmdline": command_line, "argv": argv,
                               "command_line_length": utf16_length(full)}
    if env:
        process["env"] = env
    record["processes"].append(process)
    result = docker.run(argv, None, env)
    process["rc"] = result.rc
    return {"rc": result.rc, "stdout": result.stdout, "stderr": result.stderr}


def _rows(docker: FakeDocker, repository: str, legacy: bool = False) -> str:
    wanted = parse_ref(repository).name
    rows = []
    for image in docker.images:
        for tag in image.get("RepoTags") or []:
            ref = parse_ref(tag)
            if ref.name == wanted and legacy:
                rows.append({"ID": image["Id"], "Repository": ref.familiar_name, "Tag": ref.tag})
            elif ref.name == wanted:
                rows.append({"Containers": "N/A", "CreatedAt": "2024-11-07 22:49:13 +0000 UTC",
                             "CreatedSince": "2 weeks ago", "Digest": "\u003cnone\u003e", "ID": image["Id"],
                             "Repository": ref.familiar_name, "SharedSize": "N/A",
                             "Size": "%.3gGB" % (image.get("Size", 0) / 1e9), "Tag": ref.tag, "UniqueSize": "N/A"})
    return "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows)


def _remove(docker: FakeDocker, names: Sequence[str]) -> Process:
    out, errors = [], []
    for name in names:
        image = docker.find(name)
        if image is None:
            errors.append(docker._no_such_image(name))
            continue
        tags = image.get("RepoTags") or []
        ref = parse_ref(name)
        if ref.name and tags:
            wanted = fwh.Ref(ref.name, ref.tag or "latest")
            remaining = [t for t in tags if not FakeDocker._same(parse_ref(t), wanted)]
            out.append("Untagged: %s" % wanted.familiar())
            image["RepoTags"] = remaining
            docker.changed = True
            if remaining:
                continue
        for digest in image.get("RepoDigests") or []:
            out.append("Untagged: %s" % digest)
        out.append("Deleted: %s" % image["Id"])
        docker.images.remove(image)
        docker.changed = True
    return Process(1 if errors else 0, "".join(line + "\n" for line in out), "".join(e + "\n" for e in errors))


def _add_image(docker: FakeDocker, new: dict[str, Any], name: str) -> bool:
    """Put ``new`` in the store under ``name``; the tag leaves the image that had it. Changed?"""
    existing = next((i for i in docker.images if i["Id"] == new["Id"]), None)
    target = fwh.Ref(parse_ref(name).name, parse_ref(name).tag or "latest").familiar()
    if existing is not None and target in (existing.get("RepoTags") or []):
        return False
    for other in docker.images:
        if other is not existing and target in (other.get("RepoTags") or []):
            other["RepoTags"] = [t for t in other["RepoTags"] if t != target]
    if existing is None:
        new = copy.deepcopy(new)
        new["RepoTags"] = [target]
        docker.images.append(new)
    else:
        existing["RepoTags"] = (existing.get("RepoTags") or []) + [target]
    docker.changed = True
    return True


def _pull(docker: FakeDocker, name: str) -> Process:
    pulls = config(docker.scenario).get("pulls") or {}
    ref = parse_ref(name)
    if name not in pulls:
        return Process(1, "", "Error response from daemon: manifest for %s not found: manifest unknown: manifest tagged "
                              "by \"%s\" is not found\n" % (name, ref.tag))
    entry = pulls[name]
    if isinstance(entry, Mapping) and "error" in entry:
        return Process(1, "", entry["error"] + "\n")
    (image,) = image_objects(entry)
    changed = _add_image(docker, image, name)
    layer = image["RootFS"]["Layers"][-1][7:19]
    digest = (image.get("RepoDigests") or ["x@sha256:" + "0" * 64])[0].split("@", 1)[1]
    lines = ["%s: Pulling from %s" % (ref.tag, ref.name.split("/", 1)[1])]
    if changed:
        lines += ["%s: Pulling fs layer" % layer, "%s: Verifying Checksum" % layer, "%s: Download complete" % layer,
                  "%s: Pull complete" % layer, "Digest: %s" % digest,
                  "Status: Downloaded newer image for %s" % name]
    else:
        lines += ["Digest: %s" % digest, "Status: Image is up to date for %s" % name]
    lines.append(name)
    return Process(0, "".join(line + "\n" for line in lines))


def _load(docker: FakeDocker, path: str) -> Process:
    archives = config(docker.scenario).get("archives") or {}
    if path not in archives:
        return Process(1, "", "open %s: The system cannot find the file specified.\n" % path)
    out = []
    for image in image_objects(archives[path]):
        tags = image.get("RepoTags") or []
        image["RepoDigests"] = []  # docker load loses them
        for tag in tags:
            _add_image(docker, image, tag)
            out.append("Loaded image: %s" % tag)
    return Process(0, "".join(line + "\n" for line in out))


def docker_extension(docker: FakeDocker, argv: Sequence[str]) -> Process | None:
    """The commands of this area; None for anything else."""
    argv = list(argv)
    data = host_data(docker.scenario)
    stopped = docker.scenario.get("engine") == "stopped"
    if argv == ["version", "--format", "{{json .}}"]:
        version = copy.deepcopy(data["docker_version"])
        if stopped:
            version["Server"] = None
            return Process(1, json.dumps(version, separators=(",", ":")) + "\n", ENGINE_DOWN_VERSION + "\n")
        return Process(0, json.dumps(version, separators=(",", ":")) + "\n")
    if argv == ["version"]:
        return Process(1, "", ENGINE_DOWN_VERSION + "\n") if stopped else Process(0, "Client:\n Version: x\n")
    if argv == ["info", "--format", "{{json .}}"]:
        if "docker_info_stderr" in data:
            return Process(125, "", data["docker_info_stderr"])
        if stopped:
            return Process(1, "", fwh.ENGINE_DOWN % ("Get", fwh.CLI_API_PREFIX + "/info") + "\n")
        info = copy.deepcopy(data["docker_info"])
        info["Images"] = len(docker.images)
        return Process(0, json.dumps(info, separators=(",", ":")) + "\n")
    if stopped:
        return None  # the core's engine-down answers
    args = fwh.parse_docker(argv)  # docker.exe's pflag parsing ("--" ends the flags)
    if args is None:
        return None
    command, names = args.command, list(args.positionals)
    if command in (("image", "ls"), ("images",)) and len(names) == 1 and args.flag_names == {"--no-trunc", "--format"}:
        if command == ("image", "ls") and args.value("--format") == "{{json .}}":
            return Process(0, _rows(docker, names[0]))
        if command == ("images",) and args.value("--format") == LEGACY_ROW_FORMAT:
            return Process(0, _rows(docker, names[0], legacy=True))
    if command == ("inspect",) and args.flags == (("--type", "image"),) and len(names) == 1:
        image = docker.find(names[0])
        if image is None:
            return Process(1, "[]\n", "Error: No such image: %s\n" % names[0])
        return Process(0, docker_json([image]))
    if command == ("tag",) and not args.flags and len(names) == 2:
        return docker._tag(names[0], names[1])
    if command in (("rmi",), ("image", "rm")) and not args.flags and names:
        return _remove(docker, names)
    if command == ("image", "pull") and not args.flags and len(names) == 1:
        return _pull(docker, names[0])
    if command == ("image", "load") and args.flag_names == {"--input"} and not names:
        return _load(docker, args.value("--input") or "")
    return None


def _extended_run(core_run: Any) -> Any:
    """``FakeDocker.run`` around ``core_run``: the core's commands, then this module's."""

    def run(self: FakeDocker, argv: Sequence[str], stdin: str | None, env: Mapping[str, str] | None) -> Process:
        recorded_answer = self._recorded(argv, stdin)
        if recorded_answer is not None:
            return recorded_answer
        if list(argv[:1]) in (["version"], ["info"]):
            # Commands the core does not know even with the engine stopped (docker version still
            # prints its client part then).
            result = docker_extension(self, argv)
            if result is not None:
                return result
        try:
            return core_run(self, argv, stdin, env)
        except FakeHostError:
            result = docker_extension(self, argv)
            if result is None:
                raise
            return result

    return run


# --------------------------------------------------------------------------------------------
# host_info


def _registry_answer(scenario: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    registries = config(scenario).get("registry") or {}
    result: dict[str, Any] = {"base": None, "status": None, "tags": None, "digests": {}, "problem": None}
    bases = list(request.get("bases") or [])
    known = {name.split("/", 1)[0] for name in registries}
    for base in bases:
        host = base.split("://", 1)[1]
        if host in known or host == "registry-1.docker.io":
            result["base"] = base
            break
    if result["base"] is None:
        result["problem"] = "the registry did not answer: " + "; ".join(
            "%s: Unable to connect to the remote server" % base for base in bases)
        return result
    domain = result["base"].split("://", 1)[1]
    tags_path = request.get("tags_path")
    if tags_path:
        match = re.fullmatch(r"/v2/(.+)/tags/list", tags_path)
        entry = registries.get("%s/%s" % (domain, match.group(1))) if match else None
        if entry is None:
            result["status"] = 404
            result["problem"] = ('listing the tags answered HTTP 404: {"errors":[{"code":"NAME_UNKNOWN","message":'
                                 '"repository name not known to registry"}]}')
        else:
            listing = entry["tags"]
            result["status"] = 200
            result["tags"] = list((recorded("registry/" + listing) if isinstance(listing, str) else listing)["tags"])
    for manifest in request.get("manifests") or []:
        match = re.fullmatch(r"/v2/(.+)/manifests/(.+)", manifest["path"])
        entry = registries.get("%s/%s" % (domain, match.group(1))) or {}
        digest = (entry.get("digests") or {}).get(match.group(2))
        result["digests"][manifest["tag"]] = {"status": 200 if digest else 404, "digest": digest or ""}
    return result


def _find_answer(scenario: Mapping[str, Any], state: Mapping[str, Any], find: Mapping[str, Any]) -> dict[str, Any]:
    cfg = config(scenario)
    if not any(p["name"].lower() == "containerimage" for p in _providers(scenario, state)):
        return {"images": [], "problem": "provider_missing",
                "message": "Find-ContainerImage is not available: the ContainerImage provider is not installed"}
    if cfg.get("provider_error"):
        return {"images": [], "problem": "failed", "message": cfg["provider_error"]}
    name = find.get("name")
    images = [{"name": i["Name"], "version": i["Version"], "source": i["Source"], "summary": i["Summary"]}
              for i in _offered(cfg) if not name or i["Name"].lower() == str(name).lower()]
    return {"images": images, "problem": None, "message": None}


def _offered(cfg: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The SoftwareIdentity objects Find-ContainerImage -AllVersions returns."""
    offered = cfg.get("provider_images", "provider/find_containerimage.json")
    return list(recorded(offered) if isinstance(offered, str) else offered)


def _providers(scenario: Mapping[str, Any], state: Mapping[str, Any]) -> list[dict[str, str]]:
    if "providers" in state:
        return state["providers"]
    listed = config(scenario).get("providers", "provider/get_packageprovider_listavailable.json")
    raw = recorded(listed) if isinstance(listed, str) else listed
    return [provider_entry(item) for item in raw]


def _os_images(scenario: Mapping[str, Any], state: Mapping[str, Any]) -> list[str]:
    if "os_images" in state:
        return state["os_images"]
    return list(config(scenario).get("os_images") or [])


def script_host_info(self: FakeWindowsHost, lines: list[str], record: dict[str, Any], scenario: Mapping[str, Any],
                     docker: FakeDocker) -> list[str]:
    try:
        request = request_of(lines, record)
        data = host_data(scenario)
        answer: dict[str, Any] = {"os": data["currentversion"], "hyperv": data["hyperv"], "docker_found": False,
                                  "results": [], "os_images": None, "find": None, "registry": None, "error": None}
        calls = request.get("calls") or []
        if calls and scenario.get("docker", "present") != "missing":
            answer["docker_found"] = True
            answer["results"] = [run_docker(docker, record, str(call.get("cmdline") or ""), call.get("env"))
                                 for call in calls]
        if request.get("os_images"):
            answer["os_images"] = _os_images(scenario, docker.state)
        if request.get("find"):
            answer["find"] = _find_answer(scenario, docker.state, request["find"])
        if request.get("registry"):
            answer["registry"] = _registry_answer(scenario, request["registry"])
        return answer_lines(answer)
    except _Thrown as exc:
        return exception(str(exc))


# --------------------------------------------------------------------------------------------
# container_image


def script_container_image(self: FakeWindowsHost, lines: list[str], record: dict[str, Any],
                           scenario: Mapping[str, Any], docker: FakeDocker) -> list[str]:
    cfg = config(scenario)
    state = docker.state
    try:
        request = request_of(lines, record)
        answer: dict[str, Any] = {"output": [], "checks": None, "restarted": False, "rechecks": None, "error": None}
        action = str(request.get("action"))
        installed = list(_os_images(scenario, state))
        added = None
        if action == "install":
            if not any(p["name"].lower() == "containerimage" for p in _providers(scenario, state)):
                raise _Thrown("Install-ContainerImage is not available on this host: the ContainerImage provider is "
                              "not installed")
            if cfg.get("provider_error"):
                raise _Thrown(cfg["provider_error"])
            name = str(request["name"])
            offered = [i for i in _offered(cfg) if i["Name"].lower() == name.lower()]
            version = request.get("version") or max((i["Version"] for i in offered),
                                                    key=lambda v: [int(p) for p in v.split(".")])
            if not any(i["Version"] == version for i in offered):
                raise _Thrown("No match was found for the specified search criteria and package name '%s'." % name)
            added = "CN=Microsoft_%s_%s" % (name, version)
        elif action == "install_wim":
            path = str(request.get("path"))
            wim = (cfg.get("wims") or {}).get(path)
            if wim is None:
                raise _Thrown("the WIM file '%s' does not exist on this host" % path)
            added = "CN=Microsoft_%s_%s" % (wim["name"], wim["version"])
        elif action == "uninstall":
            for full_name in request.get("full_names") or []:
                if not re.fullmatch(r"CN=Microsoft_[A-Za-z0-9]+_[0-9]+(\.[0-9]+){1,3}", str(full_name)):
                    raise _Thrown("refusing to uninstall '%s'" % full_name)
                if full_name not in installed:
                    raise _Thrown("The container OS image '%s' was not found." % full_name)
                installed.remove(full_name)
                state.setdefault("pending_os_images", [])
                state["pending_os_images"] = [n for n in state["pending_os_images"] if n != full_name]
            state["os_images"] = installed
            docker.changed = True
        elif action != "check":
            raise _Thrown("unknown action '%s'" % action)
        if added is not None:
            if added not in installed:
                installed.append(added)
            state["os_images"] = installed
            state.setdefault("pending_os_images", []).append(added)
            answer["output"] = ["Installed %s" % added]
            docker.changed = True
        calls = request.get("calls") or []
        if calls:
            answer["checks"] = [run_docker(docker, record, str(c.get("cmdline") or ""), c.get("env")) for c in calls]
            if request.get("restart") and any(r["rc"] != 0 for r in answer["checks"]):
                state["restarts"] = int(state.get("restarts") or 0) + 1
                docker.changed = True
                answer["restarted"] = True
                if cfg.get("engine_imports_os_images"):
                    for full_name in state.pop("pending_os_images", []):
                        files = cfg.get("os_image_files") or {}
                        if full_name in files:
                            for image in image_objects(files[full_name]):
                                _add_image(docker, image, image["RepoTags"][0])
                answer["rechecks"] = [run_docker(docker, record, str(c.get("cmdline") or ""), c.get("env"))
                                      for c in calls]
        return answer_lines(answer)
    except _Thrown as exc:
        return exception(str(exc))


# --------------------------------------------------------------------------------------------
# package_provider


def _removable(path: str, name: str) -> str | None:
    parts = path.split("\\")
    if path.lower().startswith("c:\\windows\\"):
        return None
    for index in range(len(parts) - 1, 0, -1):
        if parts[index - 1] in ("Modules", "ProviderAssemblies"):
            if index == len(parts) - 1 or parts[index].lower() != name.lower():
                return None
            return "\\".join(parts[:-1])
    return None


def script_package_provider(self: FakeWindowsHost, lines: list[str], record: dict[str, Any],
                            scenario: Mapping[str, Any], docker: FakeDocker) -> list[str]:
    cfg = config(scenario)
    state = docker.state
    try:
        request = request_of(lines, record)
        name = str(request.get("name"))
        action = str(request.get("action"))
        before = [dict(p) for p in _providers(scenario, state)]
        answer: dict[str, Any] = {"before": before, "providers": None, "output": [], "removed": [], "error": None}
        after = [dict(p) for p in before]
        if action == "install":
            if cfg.get("gallery_error"):
                raise _Thrown(cfg["gallery_error"])
            entry = (cfg.get("gallery") or {}).get(name)
            if entry is None:
                raise _Thrown("No match was found for the specified search criteria for the provider '%s'. The package "
                              "provider requires 'PackageManagement' and 'Provider' tags. Please check if the specified "
                              "package has the tags." % name)
            provider = provider_entry(recorded(entry) if isinstance(entry, str) else entry)
            if request.get("version") and provider["version"] != request["version"]:
                raise _Thrown("No match was found for the specified search criteria for the provider '%s'." % name)
            after = [p for p in after if not (p["name"].lower() == name.lower() and p["version"] == provider["version"])]
            after.append(provider)
            answer["output"] = ["%s %s" % (provider["name"], provider["version"])]
        elif action == "remove":
            for provider in before:
                if provider["name"].lower() != name.lower():
                    continue
                if request.get("version") and provider["version"] != request["version"]:
                    continue
                folder = _removable(provider["path"], name)
                if folder is None:
                    raise _Thrown("the provider '%s' at '%s' was not installed by Install-PackageProvider; it is not "
                                  "removed" % (name, provider["path"]))
                answer["removed"].append(folder)
                after.remove(provider)
        elif action != "list":
            raise _Thrown("unknown action '%s'" % action)
        if action != "list":
            state["providers"] = after
            docker.changed = True
        answer["providers"] = after
        return answer_lines(answer)
    except _Thrown as exc:
        return exception(str(exc))


# --------------------------------------------------------------------------------------------
# registration


def register() -> None:
    """Add this module's emulations to the classes of ``fake_windows_host`` (called once, there)."""
    FakeDocker.run = _extended_run(FakeDocker.run)  # type: ignore[method-assign]
    for name, handler in (("host_info", script_host_info), ("container_image", script_container_image),
                          ("package_provider", script_package_provider)):
        setattr(FakeWindowsHost, "_script_" + name, handler)

    fwh.allow_scenario_key(SCENARIO_KEY)
