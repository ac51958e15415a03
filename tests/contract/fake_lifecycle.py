# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fake Windows host's emulation of the image lifecycle modules (docker_commit,
docker_image_remove, docker_image_history, docker_image_export, docker_image_load).

Registered at the end of ``fake_windows_host.py`` (``register()``), this module adds to ``FakeWindowsHost`` the
``file_info`` script (files of the host: existence, size, sha256, renames and removals; then
program calls, tar.exe among them), and to ``FakeDocker`` the commands of these modules:

* ``container inspect --size``, ``container diff`` (refused for a running Windows container, as
  the engine does), ``container stop``, ``container commit`` (refused for a running Windows
  container), ``container ls --all --no-trunc --filter ancestor=... --format ...``;
* ``image rm [--force] [--no-prune] NAME`` with the engine's untag-or-delete rules and its
  conflicts with containers;
* ``image ls --all --no-trunc --format ...`` (the rows docker_image_load reads);
* ``image save --output PATH NAMES...`` and ``image load --input PATH`` on the files of the
  host, and ``tar.exe -xOf PATH manifest.json`` (bsdtar) on them.

Scenario key ``lifecycle`` (all optional)::

    containers: [lifecycle/container_iis_build.json]   # docker container inspect objects (or files)
    diffs: {<container ID>: "C /Files\\n..."}          # docker container diff output
    size_rw: {<container ID>: 1234}                    # SizeRw with --size
    directories: ["C:\\images"]                        # directories that exist
    files: {"C:\\images\\a.tar": {images: [{id: sha256:..., tags: [...]}]}   # a docker save archive
            "C:\\images\\b.tar": {corrupt: truncated}                   # not readable by tar
            "C:\\images\\c.tar": {foreign: true}}                       # a tar without manifest.json

State (``state.json``) keeps ``containers``, ``files`` and ``directories`` next to ``images``,
taken from the scenario until the first change is saved.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

import fake_windows_host as fwh
from fake_windows_host import (
    KNOWN_EXECUTABLES,
    DockerArgs,
    FakeDocker,
    FakeHostError,
    FlagError,
    FakeWindowsHost,
    Process,
    docker_json,
    dotnet_command_line,
    go_time_now,
    load_recorded,
    parse_docker,
    parse_ref,
    powershell_json,
    split_windows_command_line,
    utf16_length,
)

SCENARIO_KEY = "lifecycle"
PS_FORMAT = '{"ID":{{json .ID}},"Names":{{json .Names}},"Image":{{json .Image}},"Status":{{json .Status}}}'
IMAGE_LS_FORMAT = '{"ID":{{json .ID}},"Repository":{{json .Repository}},"Tag":{{json .Tag}}}'
BSDTAR_TRUNCATED = "tar.exe: Truncated tar archive detected while reading data\r\ntar.exe: Error exit delayed from previous errors.\r\n"
BSDTAR_NOT_FOUND = "tar.exe: manifest.json: Not found in archive\r\ntar.exe: Error exit delayed from previous errors.\r\n"
BSDTAR_CANNOT_OPEN = "tar.exe: Error opening archive: Failed to open '%s'\r\n"


# --------------------------------------------------------------------------------------------
# state


def config(scenario: Mapping[str, Any]) -> dict[str, Any]:
    return dict(scenario.get(SCENARIO_KEY) or {})


def _objects(entries: Sequence[Any]) -> list[dict[str, Any]]:
    found = []
    for entry in entries or []:
        if isinstance(entry, str):
            loaded = load_recorded(entry)
            found.extend(loaded if isinstance(loaded, list) else [loaded])
        else:
            found.append(copy.deepcopy(entry))
    return found


def ready(docker: FakeDocker) -> dict[str, Any]:
    """The host's lifecycle state, taken from the scenario until a change is saved with it."""
    state = docker.state
    if "containers" not in state:
        settings = config(docker.scenario)
        state["containers"] = _objects(settings.get("containers") or [])
        state["files"] = copy.deepcopy(settings.get("files") or {})
        state["directories"] = list(settings.get("directories") or [])
    return state


def find_container(docker: FakeDocker, text: str) -> dict[str, Any] | None:
    for container in ready(docker)["containers"]:
        if container["Name"].lstrip("/") == text or container["Id"] == text:
            return container
    matches = [c for c in ready(docker)["containers"] if c["Id"].startswith(text)]
    return matches[0] if len(matches) == 1 else None


def running(container: Mapping[str, Any]) -> bool:
    return bool(container["State"].get("Running"))


def is_windows(container: Mapping[str, Any]) -> bool:
    return container.get("Platform") == "windows"


def no_such_container(text: str) -> Process:
    return Process(1, "[]\n", "Error: No such container: %s\n" % text)


def _ref_name(text: str) -> str:
    ref = parse_ref(text)
    return fwh.Ref(ref.name, ref.tag or "latest").familiar()


# --------------------------------------------------------------------------------------------
# docker commands


def _inspect_container(docker: FakeDocker, name: str, size: bool) -> Process:
    container = find_container(docker, name)
    if container is None:
        return no_such_container(name)
    shown = copy.deepcopy(container)
    if size:
        shown["SizeRw"] = int((config(docker.scenario).get("size_rw") or {}).get(container["Id"], 4096))
        shown["SizeRootFs"] = shown["SizeRw"] + 5_000_000_000
    return Process(0, docker_json([shown]))


def _diff(docker: FakeDocker, name: str) -> Process:
    container = find_container(docker, name)
    if container is None:
        return Process(1, "", "Error response from daemon: No such container: %s\n" % name)
    if is_windows(container) and running(container):
        return Process(1, "", "Error response from daemon: Windows does not support diff of a running container\n")
    return Process(0, (config(docker.scenario).get("diffs") or {}).get(container["Id"], ""))


def _stop(docker: FakeDocker, name: str) -> Process:
    container = find_container(docker, name)
    if container is None:
        return Process(1, "", "Error response from daemon: No such container: %s\n" % name)
    if running(container):
        container["State"].update(Running=False, Status="exited", ExitCode=1067, FinishedAt=go_time_now())
        docker.changed = True
    return Process(0, name + "\n")


def _labels_of(change: str) -> dict[str, str]:
    """The key=value pairs of a LABEL instruction (quotes as the Dockerfile parser reads them)."""
    labels = {}
    for word in shlex.split(change.split(None, 1)[1]):
        key, _sep, value = word.partition("=")
        labels[key] = value
    return labels


def _commit(docker: FakeDocker, argv: Sequence[str], args: DockerArgs) -> Process:
    options: dict[str, Any] = {"changes": args.values("--change")}
    for flag, key in (("--message", "m"), ("--author", "a")):
        if args.value(flag) is not None:
            options[key] = args.value(flag)
    positional = list(args.positionals)
    if len(positional) != 2:
        raise FakeHostError("docker container commit takes CONTAINER and REPOSITORY here, got %r" % positional)
    container = find_container(docker, positional[0])
    if container is None:
        return Process(1, "", "Error response from daemon: No such container: %s\n" % positional[0])
    if is_windows(container) and running(container):
        return Process(1, "", "Error response from daemon: windows does not support commit of a running container\n")
    base = next((i for i in docker.images if i["Id"] == container["Image"]), None)
    if base is None:
        raise FakeHostError("the container's image %s is not in the fake host's state" % container["Image"])
    seed = json.dumps([len(docker.images), argv, container["Id"]], sort_keys=True)
    image = copy.deepcopy(base)
    image.update(Id="sha256:" + hashlib.sha256(seed.encode("utf-8")).hexdigest(), RepoTags=[], RepoDigests=[],
                 Parent=base["Id"], Comment=options.get("m", ""), Author=options.get("a", ""), Created=go_time_now())
    image_config = copy.deepcopy(container["Config"])
    image_config["Labels"] = dict(image_config.get("Labels") or {})
    for change in options["changes"]:
        keyword = change.split(None, 1)[0].upper()
        if keyword == "LABEL":
            image_config["Labels"].update(_labels_of(change))
        elif keyword == "CMD":
            value = change.split(None, 1)[1]
            image_config["Cmd"] = json.loads(value) if value.lstrip().startswith("[") else ["cmd", "/S", "/C", value]
    image["Config"] = image_config
    image["RootFS"] = {"Type": "layers", "Layers": list(base["RootFS"]["Layers"]) + [
        "sha256:" + hashlib.sha256(("layer" + seed).encode("utf-8")).hexdigest()]}
    image["Metadata"] = {"LastTagTime": go_time_now()}
    docker.images.append(image)
    docker.changed = True
    tagged = docker._tag(image["Id"], positional[1])
    if tagged.rc != 0:
        return tagged
    return Process(0, image["Id"] + "\n")


def _ancestors(docker: FakeDocker, text: str) -> Process:
    image = docker.find(text)
    rows = []
    if image is not None:
        for container in ready(docker)["containers"]:
            if container["Image"] == image["Id"]:
                status = "Up 2 hours" if running(container) else "Exited (1067) 5 minutes ago"
                rows.append({"ID": container["Id"], "Names": container["Name"].lstrip("/"),
                             "Image": container["Config"].get("Image") or container["Image"], "Status": status})
    return Process(0, "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows))


def _remove(docker: FakeDocker, argv: Sequence[str], args: DockerArgs) -> Process:
    names = list(args.positionals)
    if len(names) != 1:
        raise FakeHostError("docker image rm: the fake host removes one image at a time, not %r" % list(argv))
    force = args.has("--force")
    name = names[0]
    image = docker.find(name)
    if image is None:
        return Process(1, "", docker._no_such_image(name) + "\n")
    users = [c for c in ready(docker)["containers"] if c["Image"] == image["Id"]]
    live = [c for c in users if running(c)]
    tags = list(image.get("RepoTags") or [])
    out = []
    by_reference = bool(parse_ref(name).name) and any(_ref_name(t) == _ref_name(name) for t in tags)
    if by_reference:
        if len(tags) == 1 and users and not force:
            return Process(1, "", "Error response from daemon: conflict: unable to remove repository reference \"%s\" "
                                  "(must force) - container %s is using its referenced image %s\n"
                                  % (name, users[0]["Id"][:12], image["Id"][7:19]))
        image["RepoTags"] = [t for t in tags if _ref_name(t) != _ref_name(name)]
        out.append("Untagged: %s" % _ref_name(name))
        docker.changed = True
        if image["RepoTags"] or live or (users and not force):
            return Process(0, "".join(line + "\n" for line in out))
    else:
        if live:
            return Process(1, "", "Error response from daemon: conflict: unable to delete %s (cannot be forced) - image "
                                  "is being used by running container %s\n" % (image["Id"][7:19], live[0]["Id"][:12]))
        if (len(tags) > 1 or users) and not force:
            return Process(1, "", "Error response from daemon: conflict: unable to delete %s (must be forced)\n"
                                  % image["Id"][7:19])
        out += ["Untagged: %s" % t for t in tags]
    out += ["Untagged: %s" % d for d in image.get("RepoDigests") or []]
    out.append("Deleted: %s" % image["Id"])
    docker.images.remove(image)
    docker.changed = True
    return Process(0, "".join(line + "\n" for line in out))


def _image_rows(docker: FakeDocker) -> Process:
    rows = []
    for image in docker.images:
        for tag in image.get("RepoTags") or ["<none>:<none>"]:
            repository, _sep, name = tag.rpartition(":")
            rows.append({"ID": image["Id"], "Repository": repository, "Tag": name})
    return Process(0, "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows))


def _save(docker: FakeDocker, path: str, names: list[str]) -> Process:
    entries = []
    for name in names:
        image = docker.find(name)
        if image is None:
            return Process(1, "", docker._no_such_image(name) + "\n")
        entry = next((e for e in entries if e["id"] == image["Id"]), None)
        if entry is None:
            entry = {"id": image["Id"], "tags": [], "image": copy.deepcopy(image)}
            entries.append(entry)
        if parse_ref(name).name:
            entry["tags"].append(_ref_name(name))
    if not _directory_exists(ready(docker), path.rsplit("\\", 1)[0]):
        return Process(1, "", "open %s: The system cannot find the path specified.\n" % path)
    ready(docker)["files"][path] = {"images": entries}
    docker.changed = True
    return Process(0)


def _load(docker: FakeDocker, path: str) -> Process | None:
    archive = ready(docker)["files"].get(path)
    if archive is None:
        return None
    if "images" not in archive:
        return Process(1, "", "Error response from daemon: unexpected EOF\n")
    out = []
    for entry in archive["images"]:
        image = next((i for i in docker.images if i["Id"] == entry["id"]), None)
        if image is None:
            image = copy.deepcopy(entry["image"])
            image.update(RepoTags=[], RepoDigests=[])
            docker.images.append(image)
        for tag in entry["tags"]:
            for other in docker.images:
                if other is not image and tag in (other.get("RepoTags") or []):
                    other["RepoTags"].remove(tag)
            if tag not in (image.get("RepoTags") or []):
                image["RepoTags"] = (image.get("RepoTags") or []) + [tag]
            out.append("Loaded image: %s" % tag)
        if not entry["tags"]:
            out.append("Loaded image ID: %s" % entry["id"])
    docker.changed = True
    return Process(0, "".join(line + "\n" for line in out))


def lifecycle_docker(docker: FakeDocker, argv: Sequence[str]) -> Process | None:
    """The commands of this area; None for anything else. Arguments are read the way docker.exe's
    pflag reads them (``fake_windows_host.parse_docker``: "--" ends the flags)."""
    try:
        args = parse_docker(argv)
    except FlagError:
        return None  # the core answers as docker does
    if args is None or args.has("--help"):
        return None
    command, flags, names = args.command, args.flag_names, list(args.positionals)
    if command == ("container", "inspect") and flags == {"--size"} and len(names) == 1:
        return _inspect_container(docker, names[0], size=True)
    if command == ("container", "diff") and not flags and len(names) == 1:
        return _diff(docker, names[0])
    if command == ("container", "stop") and not flags and len(names) == 1:
        return _stop(docker, names[0])
    if command == ("container", "commit"):
        return _commit(docker, argv, args)
    ancestor = args.value("--filter") or ""
    if (command == ("container", "ls") and flags == {"--all", "--no-trunc", "--filter", "--format"} and not names
            and ancestor.startswith("ancestor=") and args.value("--format") == PS_FORMAT):
        return _ancestors(docker, ancestor.split("=", 1)[1])
    if command == ("image", "rm"):
        return _remove(docker, argv, args)
    if (command == ("image", "ls") and flags == {"--all", "--no-trunc", "--format"} and not names
            and args.value("--format") == IMAGE_LS_FORMAT):
        return _image_rows(docker)
    if command == ("image", "save") and flags == {"--output"} and names:
        return _save(docker, args.value("--output") or "", names)
    if command == ("image", "load") and flags == {"--input"} and not names:
        return _load(docker, args.value("--input") or "")
    return None


def _extended_run(previous_run: Any) -> Any:
    """``FakeDocker.run`` around ``previous_run``: this module's commands, then the others."""

    def run(self: FakeDocker, argv: Sequence[str], stdin: str | None, env: Mapping[str, str] | None) -> Process:
        recorded_answer = self._recorded(argv, stdin)
        if recorded_answer is not None:
            return recorded_answer
        if self.scenario.get("engine") != "stopped":
            result = lifecycle_docker(self, argv)
            if result is not None:
                return result
        return previous_run(self, argv, stdin, env)

    return run


# --------------------------------------------------------------------------------------------
# tar.exe (bsdtar 3.x, Windows 10 1803 / Windows Server 2019 and later)


def manifest_text(archive: Mapping[str, Any]) -> str:
    """manifest.json of a legacy-format docker save archive (what Docker 27 on Windows writes)."""
    manifest = [{"Config": entry["id"][7:] + ".json", "RepoTags": entry["tags"] or None,
                 "Layers": [layer[7:] + "/layer.tar" for layer in entry["image"]["RootFS"]["Layers"]]}
                for entry in archive["images"]]
    return json.dumps(manifest, separators=(",", ":"))


def run_tar(state: Mapping[str, Any], argv: Sequence[str]) -> Process:
    if len(argv) != 3 or argv[0] != "-xOf" or argv[2] != "manifest.json":
        raise FakeHostError("the fake host only emulates tar.exe -xOf ARCHIVE manifest.json, not %r" % list(argv))
    archive = state["files"].get(argv[1])
    if archive is None:
        return Process(1, "", BSDTAR_CANNOT_OPEN % argv[1])
    if archive.get("corrupt"):
        return Process(1, "", BSDTAR_TRUNCATED)
    if archive.get("foreign"):
        return Process(1, "", BSDTAR_NOT_FOUND)
    return Process(0, manifest_text(archive))


# --------------------------------------------------------------------------------------------
# the file_info script


def _directory_exists(state: Mapping[str, Any], path: str) -> bool:
    wanted = path.rstrip("\\").lower()
    return any(d.rstrip("\\").lower() == wanted for d in state["directories"])


def file_bytes(archive: Mapping[str, Any]) -> bytes:
    """Stand-in bytes of an archive, for its size and hash."""
    return json.dumps(archive, sort_keys=True).encode("utf-8")


def script_file_info(self: FakeWindowsHost, lines: list[str], record: dict[str, Any], scenario: Mapping[str, Any],
                     docker: FakeDocker) -> list[str]:
    """powershell_scripts.FILE_INFO."""
    del self

    def answer(value: Mapping[str, Any]) -> list[str]:
        return [powershell_json(value)]

    def failure(message: str) -> list[str]:
        return answer({"files": [], "results": [], "error": {"kind": "exception", "message": message}})

    text = "\n".join(lines)
    if not text.strip():
        return failure("the request line on stdin is empty")
    request = json.loads(text)
    record["request"] = request
    state = ready(docker)
    files = state["files"]
    for path in request.get("remove") or []:
        if path in files:
            del files[path]
            docker.changed = True
    for move in request.get("rename") or []:
        if move["from"] not in files:
            return failure('Exception calling "Move" with "2" argument(s): "Could not find file \'%s\'."' % move["from"])
        files[move["to"]] = files.pop(move["from"])
        docker.changed = True
    states = []
    for item in request.get("files") or []:
        path = item["path"]
        state_of: dict[str, Any] = {"path": path, "exists": False, "kind": None, "size": None, "sha256": None}
        if _directory_exists(state, path):
            state_of.update(exists=True, kind="directory")
        elif path in files:
            data = file_bytes(files[path])
            state_of.update(exists=True, kind="file", size=len(data))
            if item.get("hash"):
                state_of["sha256"] = hashlib.sha256(data).hexdigest()
        states.append(state_of)
    results = []
    for call in request.get("calls") or []:
        if call.get("if_exists") is not None and states[int(call["if_exists"])]["kind"] != "file":
            results.append({"rc": 0, "stdout": "", "stderr": "", "skipped": True})
            continue
        exe = str(call["exe"])
        if exe not in KNOWN_EXECUTABLES:
            return failure("unknown executable '%s'" % exe)
        if scenario.get(exe, "present") == "missing":
            results.append({"rc": -1, "stdout": "", "stderr": "", "skipped": True, "not_found": True})
            continue
        full = dotnet_command_line(KNOWN_EXECUTABLES[exe], str(call.get("cmdline") or ""))
        argv = split_windows_command_line(full)[1:]
        process = {"exe": exe, "cmdline": call.get("cmdline"), "argv": argv, "command_line_length": utf16_length(full)}
        record["processes"].append(process)
        result = run_tar(state, argv) if exe == "tar" else docker.run(argv, None, call.get("env"))
        process["rc"] = result.rc
        results.append({"rc": result.rc, "stdout": result.stdout, "stderr": result.stderr})
    return answer({"files": states, "results": results, "error": None})


# --------------------------------------------------------------------------------------------
# registration

def register() -> None:
    """Add this module's emulations to the classes of ``fake_windows_host`` (called once, there)."""
    FakeDocker.run = _extended_run(FakeDocker.run)  # type: ignore[method-assign]
    FakeWindowsHost._script_file_info = script_file_info  # type: ignore[attr-defined]

    fwh.allow_scenario_key(SCENARIO_KEY)
