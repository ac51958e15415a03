# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared logic of the image lifecycle modules: commit, remove, history, export and load.

Everything here is decided on the controller: validation of option values before any exec,
the provenance fingerprint of a commit, the reading of ``docker history`` JSON rows and of an
image archive's ``manifest.json``, and the ``file_info`` host operation (a file's existence,
size and sha256, optional renames and removals, and program calls, all in one exec).
"""

from __future__ import annotations

import hashlib
import json
import ntpath
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli, limits, options
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import (
    Call,
    CallResult,
    Host,
    HostError,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import (
    ImageReference,
    ImageSpec,
    ReferenceError,
    parse_image,
    parse_reference,
    reference_matches,
)


class OptionError(HostError):
    """A bad option value, found before anything runs on the host."""


# --- plain text options --------------------------------------------------------------------

def check_text(value: Any, option: str, allow_newlines: bool = True) -> str:
    """A string option value that can travel as one program argument on both dialects."""
    if not isinstance(value, str):
        raise OptionError("%s: expected a string, got %s" % (option, type(value).__name__))
    if "\x00" in value:
        raise OptionError("%s: %r contains a NUL character, which no command line can carry" % (option, value))
    if not allow_newlines and ("\n" in value or "\r" in value):
        raise OptionError("%s: %r contains a line break" % (option, value))
    return str(value)


def image_specs(names: Iterable[Any], option: str, tag: str) -> list[ImageSpec]:
    """Parse image names (references or IDs); a reference without tag or digest gets ``tag``."""
    specs = []
    for name in names:
        spec = parse_image(name, option)
        if spec.reference is not None and not spec.may_be_id and spec.reference.tag is None and spec.reference.digest is None:
            spec = parse_image(str(spec.reference.with_tag(tag)), option)
        specs.append(spec)
    return specs


def host_path(host: Host, value: Any, option: str) -> str:
    """An absolute path on the host (Windows or POSIX rules), checked before any exec."""
    path = check_text(value, option, allow_newlines=False)
    example = "C:\\images\\servercore.tar" if host.is_windows else "/srv/images/servercore.tar"
    try:
        path = options.absolute_path(path, option, host.is_windows, example)
    except options.OptionError as exc:
        raise OptionError(str(exc)) from None
    if path.endswith(("/", "\\")) and len(path) > 3:
        raise OptionError("%s: %r names a directory; give the archive's file name" % (option, path))
    return path


def parent_directory(host: Host, path: str) -> str:
    return ntpath.dirname(path) if host.is_windows else (posixpath.dirname(path) or "/")


# --- docker_commit ---------------------------------------------------------------------------

COMMIT_INSTRUCTIONS = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "USER", "VOLUME", "WORKDIR")
PROVENANCE_PREFIX = "io.wincontainers.images.commit."
CONTAINER_LABEL = PROVENANCE_PREFIX + "container"
FINGERPRINT_LABEL = PROVENANCE_PREFIX + "fingerprint"
FINGERPRINT_VERSION = 1


def validate_changes(changes: Sequence[Any] | None, option: str = "changes") -> list[str]:
    """The Dockerfile instructions a commit may apply, each checked; others are refused."""
    checked = []
    for change in changes or []:
        text = check_text(change, option)
        if "\n" in text or "\r" in text:
            raise OptionError(
                "%s: %r contains a line break; give each instruction as its own list item" % (option, text))
        stripped = text.strip()
        if not stripped:
            raise OptionError("%s: an empty instruction was given" % option)
        if stripped.endswith("\\"):
            raise OptionError(
                "%s: %r ends with a line continuation ('\\'), which would join it with the next instruction"
                % (option, text))
        keyword = stripped.split(" ", 1)[0]
        keyword = keyword.split("\t", 1)[0]
        if keyword.upper() not in COMMIT_INSTRUCTIONS:
            raise OptionError(
                "%s: %r: %r cannot be applied by a commit (allowed: %s)"
                % (option, text, keyword, ", ".join(COMMIT_INSTRUCTIONS)))
        if not stripped[len(keyword):].strip():
            raise OptionError("%s: %r: the %s instruction has no value" % (option, text, keyword.upper()))
        limits.check_dockerfile_line(text, option)
        if PROVENANCE_PREFIX in stripped:
            raise OptionError(
                "%s: %r sets a label under %r, which the module reserves for the commit's provenance"
                % (option, text, PROVENANCE_PREFIX))
        checked.append(text)
    return checked


def diff_rows(text: str) -> list[str]:
    """The rows of ``docker container diff`` ("A /path", "C /path", "D /path"), sorted.

    The command has no JSON output; each row is a kind letter and a path, a stable format
    since the first Docker release, so the rows are used as they are, sorted.
    """
    return sorted(line.rstrip("\r") for line in text.split("\n") if line.strip())


def commit_fingerprint(
    container: Mapping[str, Any],
    changes_rows: Sequence[str],
    changes: Sequence[str],
    message: str | None,
    author: str | None,
) -> str:
    """sha256 of what makes a commit: the container's identity, filesystem changes and
    configuration, and what the task asks the commit to add."""
    material = {
        "v": FINGERPRINT_VERSION,
        "container": container.get("Id"),
        "image": container.get("Image"),
        "config": container.get("Config"),
        "diff": sorted(changes_rows),
        "size_rw": container.get("SizeRw"),
        "changes": list(changes),
        "message": message,
        "author": author,
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def provenance_change(container_id: str, fingerprint: str) -> str:
    return "LABEL %s=%s %s=%s" % (CONTAINER_LABEL, container_id, FINGERPRINT_LABEL, fingerprint)


def has_provenance(image: Mapping[str, Any] | None, container_id: str, fingerprint: str) -> bool:
    if not image:
        return False
    labels = (image.get("Config") or {}).get("Labels") or {}
    return labels.get(CONTAINER_LABEL) == container_id and labels.get(FINGERPRINT_LABEL) == fingerprint


def commit_call(
    container_id: str,
    repository: ImageReference,
    changes: Sequence[str],
    message: str | None,
    author: str | None,
    pause: bool,
    fingerprint: str,
) -> Call:
    arguments = ["container", "commit", "--pause=%s" % ("true" if pause else "false")]
    if message is not None:
        arguments += ["--message", message]
    if author is not None:
        arguments += ["--author", author]
    for change in changes:
        arguments += ["--change", change]
    arguments += ["--change", provenance_change(container_id, fingerprint)]
    arguments += [docker_cli.END_OF_FLAGS, container_id, str(repository)]
    return Call(tuple(arguments))


def container_calls(container: str) -> list[Call]:
    """Inspect (with the size of its writable layer) and filesystem changes of a container."""
    return [
        Call(("container", "inspect", "--size", docker_cli.END_OF_FLAGS, container)),
        Call(("container", "diff", docker_cli.END_OF_FLAGS, container)),
    ]


_NO_SUCH_CONTAINER = re.compile(r"No such (container|object)", re.IGNORECASE)
_WINDOWS_RUNNING_DIFF = re.compile(r"does not support diff of a running container", re.IGNORECASE)


@dataclass
class ContainerState:
    inspect: dict[str, Any]
    diff: list[str] | None  # None when the engine cannot list the changes (a running Windows container)

    @property
    def id(self) -> str:
        return str(self.inspect["Id"])

    @property
    def name(self) -> str:
        return str(self.inspect.get("Name") or "").lstrip("/") or self.id[:12]

    @property
    def is_windows(self) -> bool:
        return str(self.inspect.get("Platform") or self.inspect.get("Os") or "").lower() == "windows"

    @property
    def running(self) -> bool:
        state = self.inspect.get("State") or {}
        return bool(state.get("Running") or state.get("Paused") or state.get("Restarting"))


def read_container(host: Host, option: str, value: str, inspect: CallResult, diff: CallResult) -> ContainerState:
    docker_cli.raise_for_engine(host, [inspect, diff])
    if not inspect.ok:
        if _NO_SUCH_CONTAINER.search(inspect.stderr):
            raise OptionError("%s: no container %r on %s" % (option, value, host.name))
        raise docker_cli.command_failed(host, inspect, "docker container inspect")
    documents = docker_cli.json_documents(inspect.stdout)
    if not documents or not documents[0]:
        raise OptionError("%s: no container %r on %s" % (option, value, host.name))
    container = documents[0][0]
    rows: list[str] | None
    if diff.ok:
        rows = diff_rows(diff.stdout)
    elif _WINDOWS_RUNNING_DIFF.search(diff.stderr):
        rows = None
    else:
        raise docker_cli.command_failed(host, diff, "docker container diff")
    return ContainerState(container, rows)


# --- docker_image_remove -----------------------------------------------------------------------

# The columns of "docker ps" that identify a container, as one JSON object per line. Naming
# them (rather than "{{json .}}") keeps docker from computing every container's size.
PS_FORMAT = '{"ID":{{json .ID}},"Names":{{json .Names}},"Image":{{json .Image}},"Status":{{json .Status}}}'


def dependent_containers_call(image_text: str) -> Call:
    """Every container (running or not) created from the image or from an image built on it."""
    return Call(("container", "ls", "--all", "--no-trunc", "--filter", "ancestor=" + image_text, "--format", PS_FORMAT))


def read_containers(host: Host, result: CallResult) -> list[dict[str, Any]]:
    docker_cli.raise_for_engine(host, [result])
    if not result.ok:
        raise docker_cli.command_failed(host, result, "docker container ls")
    return [document for document in docker_cli.json_documents(result.stdout) if isinstance(document, dict)]


def is_running(container: Mapping[str, Any]) -> bool:
    """Whether a ``docker container ls`` row is a running (or paused, or restarting) container.

    The daemon's status text starts with "Up" for running and paused containers and with
    "Restarting" for restarting ones, in every engine version; the ``.State`` column is newer.
    """
    return str(container.get("Status") or "").startswith(("Up", "Restarting"))


def describe_containers(containers: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(
        "%s (ID %s, %s)" % (c.get("Names") or "?", str(c.get("ID") or "?")[:12], c.get("Status") or "unknown status")
        for c in containers
    )


def _repository_of(reference_text: str) -> str | None:
    try:
        return parse_reference(reference_text, "reference").normalized_repository
    except ReferenceError:
        return None


def image_references(image: Mapping[str, Any]) -> list[str]:
    return list(image.get("RepoTags") or []) + list(image.get("RepoDigests") or [])


def named_by_reference(image: Mapping[str, Any], spec: ImageSpec) -> bool:
    """Whether the engine resolves ``spec`` as one of the image's references (not as an ID)."""
    return spec.reference is not None and any(reference_matches(spec.reference, name) for name in image_references(image))


def references_after_removal(image: Mapping[str, Any], reference: ImageReference | None) -> tuple[list[str], list[str], bool]:
    """What ``docker image rm`` leaves: (tags, digests, image removed), as the engine decides.

    A reference (``reference``) removes only that reference while the image keeps others.
    Removing the last tag of a repository also drops that repository's digest references.
    An image ID (``reference`` None) removes the image with all its references (the engine
    wants ``force`` when they span several tags or repositories; the caller checks that).
    """
    if reference is None:
        return [], [], True
    tags = [tag for tag in image.get("RepoTags") or [] if not reference_matches(reference, tag)]
    digests = [digest for digest in image.get("RepoDigests") or [] if not reference_matches(reference, digest)]
    repository = reference.normalized_repository
    if reference.digest is None and not any(_repository_of(tag) == repository for tag in tags):
        digests = [digest for digest in digests if _repository_of(digest) != repository]
    if tags or digests:
        return tags, digests, False
    return [], [], True


def removal_needs_force_for_tags(image: Mapping[str, Any]) -> bool:
    """Whether removing the image by ID needs ``force`` because of its references."""
    tags = image.get("RepoTags") or []
    repositories = {_repository_of(name) for name in tags + (image.get("RepoDigests") or [])}
    return len(tags) > 1 or len(repositories) > 1


# --- docker_image_history ------------------------------------------------------------------------

HISTORY_FORMAT = "{{json .}}"
_SIZE_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4, "PB": 1000**5,
               "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "TIB": 1024**4}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")


def history_call(name: str) -> Call:
    return Call(("image", "history", "--no-trunc", "--human=false", "--format", HISTORY_FORMAT, docker_cli.END_OF_FLAGS,
                 name))


def parse_size(value: Any) -> int:
    """Bytes from docker's Size column: a plain number with --human=false, a unit otherwise."""
    if isinstance(value, (int, float)):
        return int(value)
    match = _SIZE.match(str(value))
    if not match or match.group(2).upper() not in _SIZE_UNITS:
        raise ValueError("unexpected size %r" % value)
    return int(round(float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()]))


def iso8601(value: Any) -> str | None:
    """An RFC 3339 / ISO 8601 timestamp, normalised to UTC with a 'Z' (None when absent)."""
    if value in (None, "", "<missing>"):
        return None
    text = str(value).strip()
    match = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?", text)
    if not match:
        raise ValueError("unexpected timestamp %r" % value)
    date, clock, fraction, zone = match.groups()
    zone = zone or "Z"
    offset = "+00:00" if zone == "Z" else (zone if ":" in zone else zone[:3] + ":" + zone[3:])
    parsed = datetime.fromisoformat("%sT%s%s" % (date, clock, offset)).astimezone(timezone.utc)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S") + (fraction or "") + "Z"


def parse_history(text: str) -> list[dict[str, Any]]:
    layers = []
    for row in docker_cli.json_documents(text):
        layer_id = row.get("ID") or None
        if layer_id == "<missing>":
            layer_id = None
        layers.append({
            "id": layer_id,
            "created": iso8601(row.get("CreatedAt")),
            "created_by": row.get("CreatedBy") or "",
            "size": parse_size(row.get("Size") or 0),
            "comment": row.get("Comment") or "",
        })
    return layers


# --- archives: docker_image_export and docker_image_load -------------------------------------------

MANIFEST = "manifest.json"
IMAGE_LS_FORMAT = '{"ID":{{json .ID}},"Repository":{{json .Repository}},"Tag":{{json .Tag}}}'
_ID_IN_CONFIG = re.compile(r"(?:^|/)(?:blobs/sha256/)?([0-9a-f]{64})(?:\.json)?$")
_LOADED_IMAGE = re.compile(r"^Loaded image(?: ID)?: (\S+)\s*$")


@dataclass
class FileState:
    path: str
    exists: bool
    kind: str | None
    size: int | None
    sha256: str | None


@dataclass
class FileInfo:
    files: list[FileState]
    results: list[CallResult]


def file_info(
    host: Host,
    files: Sequence[tuple[str, bool]] = (),
    calls: Sequence[tuple[Call, int | None]] = (),
    rename: Sequence[tuple[str, str]] = (),
    remove: Sequence[str] = (),
) -> FileInfo:
    """One exec: remove files, rename files, then report files (exists/kind/size/sha256 when
    asked) and run program calls (each optionally only when a reported file exists)."""
    requests = []
    for call, if_exists in calls:
        request = host.call_request(call)
        if if_exists is not None:
            request["if_exists"] = if_exists
        requests.append(request)
    payload = {
        "remove": list(remove),
        "rename": [{"from": source, "to": target} for source, target in rename],
        "files": [{"path": path, "hash": bool(want_hash)} for path, want_hash in files],
        "calls": requests,
    }
    answer = host.execute("file_info", payload)
    states = [
        FileState(str(f.get("path")), bool(f.get("exists")), f.get("kind"),
                  None if f.get("size") is None else int(f["size"]), f.get("sha256") or None)
        for f in answer.get("files") or []
    ]
    raw = answer.get("results") or []
    if len(states) != len(files) or len(raw) != len(calls):
        raise HostError("%s: file_info answered %d files and %d results for %d and %d"
                        % (host.name, len(states), len(raw), len(files), len(calls)))
    results = []
    for (call, _if_exists), result in zip(calls, raw):
        if result.get("not_found"):
            results.append(CallResult(call, -1, "", "%s not found" % call.exe, skipped=True))
        else:
            results.append(CallResult(call, int(result.get("rc") or 0), result.get("stdout") or "",
                                      result.get("stderr") or "", bool(result.get("skipped"))))
    return FileInfo(states, results)


def tar_missing(result: CallResult) -> bool:
    return result.rc == -1 and result.skipped


def tar_missing_message(host: Host, what: str) -> str:
    if host.is_windows:
        return ("%s: tar.exe was not found, and %s needs it to read the archive's manifest.json. tar.exe ships with "
                "Windows 10 1803 and Windows Server 2019 or later; Windows Server 2016 has none (install a tar.exe "
                "in %%SystemRoot%%\\System32 or on PATH)" % (host.name, what))
    return "%s: tar was not found on PATH, and %s needs it to read the archive's manifest.json" % (host.name, what)


def manifest_call(path: str) -> Call:
    return Call(("-xOf", path, MANIFEST), exe="tar")


def parse_manifest(text: str) -> list[dict[str, Any]]:
    """The entries of a ``docker save`` manifest.json: ``[{"id": "sha256:...", "tags": [...]}]``.

    The legacy format names the config ``<id>.json``, the OCI layout that Docker 25+ writes
    ``blobs/sha256/<id>``; the image ID is the config's digest in both.
    """
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        raise ValueError("manifest.json is not JSON (%s)" % exc) from None
    if not isinstance(manifest, list) or not manifest:
        raise ValueError("manifest.json lists no images")
    entries = []
    for entry in manifest:
        config = entry.get("Config") if isinstance(entry, dict) else None
        match = _ID_IN_CONFIG.search(str(config or ""))
        if not match:
            raise ValueError("manifest.json has an entry without a recognisable Config (%r)" % (config,))
        entries.append({"id": "sha256:" + match.group(1), "tags": list(entry.get("RepoTags") or [])})
    return entries


def manifest_entries(tar: CallResult) -> list[dict[str, Any]]:
    """The entries of an archive's manifest as ``tar`` printed it; none when it is not one."""
    try:
        return parse_manifest(tar.stdout)
    except ValueError:
        return []


def loaded_names(text: str) -> list[str]:
    """The names in ``docker load`` output ("Loaded image: x", "Loaded image ID: sha256:...")."""
    names = []
    for line in text.splitlines():
        match = _LOADED_IMAGE.match(line.strip())
        if match and match.group(1) not in names:
            names.append(match.group(1))
    return names


def image_ls_call() -> Call:
    return Call(("image", "ls", "--all", "--no-trunc", "--format", IMAGE_LS_FORMAT))


def read_image_ls(host: Host, result: CallResult) -> dict[str, list[str]]:
    """Image ID -> its tags (``repository:tag``), from ``docker image ls`` JSON rows."""
    docker_cli.raise_for_engine(host, [result])
    if not result.ok:
        raise docker_cli.command_failed(host, result, "docker image ls")
    present: dict[str, list[str]] = {}
    for row in docker_cli.json_documents(result.stdout):
        image_id = str(row.get("ID") or "")
        if not image_id.startswith("sha256:"):
            image_id = "sha256:" + image_id
        tags = present.setdefault(image_id, [])
        repository, tag = row.get("Repository"), row.get("Tag")
        if repository and repository != "<none>" and tag and tag != "<none>":
            tags.append("%s:%s" % (repository, tag))
    return present


def same_name(left: str, right: str) -> bool:
    try:
        reference = parse_reference(left, "reference")
    except ReferenceError:
        return left == right
    return reference_matches(reference, right)


def missing_from_engine(entries: Sequence[Mapping[str, Any]], present: Mapping[str, Sequence[str]]) -> list[str]:
    """The manifest's images and tags that the engine does not hold as the archive has them."""
    missing = []
    for entry in entries:
        tags = present.get(entry["id"])
        if tags is None:
            missing.append(entry["id"])
            continue
        for tag in entry["tags"]:
            if not any(same_name(tag, have) for have in tags):
                missing.append(tag)
    return missing


def archive_matches(entries: Sequence[Mapping[str, Any]], images: Sequence[Mapping[str, Any]], specs: Sequence[ImageSpec]) -> bool:
    """Whether an archive holds exactly the images asked for, under every name asked for."""
    if {entry["id"] for entry in entries} != {image["Id"] for image in images}:
        return False
    archived = [tag for entry in entries for tag in entry["tags"]]
    for spec in specs:
        if spec.is_id:
            continue
        if spec.reference is not None and not any(reference_matches(spec.reference, tag) for tag in archived):
            # A short hex name may have been resolved as an ID: then no tag is expected.
            if not spec.may_be_id:
                return False
    return True


def partial_path(host: Host, path: str, image_ids: Sequence[str]) -> str:
    """The temporary name an export is written to: the same for the same task, so a re-run
    after a dropped connection finds (and re-attaches to) the job that writes it."""
    token = hashlib.sha256(json.dumps([host.name, path, sorted(image_ids)]).encode("utf-8")).hexdigest()[:16]
    return "%s.partial-%s" % (path, token)


def first_error_line(result: CallResult) -> str:
    return docker_cli.first_line(result.stderr) or docker_cli.first_line(result.stdout) or "no output"
