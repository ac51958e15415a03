# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed docker CLI operations: the calls to make and the reading of their JSON output.

Builders return ``Call`` lists so that a module can put several reads in one exec; readers
turn ``CallResult`` lists into Python data and turn docker's errors into clear messages.
Output is only ever read from JSON (``docker image inspect``, ``--format '{{json .}}'``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, CallResult, Host, HostError
from ansible_collections.wincontainers.images.plugins.plugin_utils.limits import GLOBAL_OPTIONS_MAX
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import (
    ImageSpec,
    reference_matches,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import MAX_ARGUMENTS_LENGTH, join_arguments

# How docker says that it could not reach its engine, in every wording since Docker 20 (moby's
# client/request.go): "Cannot connect to the Docker daemon at <endpoint>. Is the docker daemon
# running?" (connection refused, and any missing socket before CLI 29); "failed to connect to the
# docker API at <endpoint>; check if the path is correct and if the daemon is running: <cause>"
# (CLI 29: missing socket or pipe); "error during connect: [this error may indicate that the docker
# daemon is not running: | in the default daemon configuration on Windows, the docker client must
# be run with elevated privileges to connect: ]Get "<url>": <cause>" (Windows, and other failures).
_ENGINE_UNREACHABLE = re.compile(
    r"Cannot connect to the Docker daemon|failed to connect to the docker API|error during connect"
    r"|pipe/docker_engine|Is the docker daemon running",
    re.IGNORECASE,
)
# Docker's own wording, and the Windows error under older clients' "error during connect": a user who
# is not an elevated administrator may not open the engine's pipe (docker/for-win issue 1732).
_PERMISSION_DENIED = re.compile(r"permission denied while trying to connect to the docker (daemon|API)"
                                r"|open //\./pipe/[^\s:]+: Access is denied", re.IGNORECASE)
_NOT_ELEVATED = re.compile(r"must be run with elevated privileges", re.IGNORECASE)
_NO_SUCH_IMAGE = re.compile(r"No such (image|object)", re.IGNORECASE)

# The endpoint docker names: "... at unix:///var/run/docker.sock. Is ...", "... at npipe:////./pipe/
# docker_engine; check ...", "... socket at tcp://10.0.0.5:2376: Get ..."; older Windows wordings
# name only the request URL and the pipe they opened.
_ENDPOINT = re.compile(r"\bat ((?:unix|npipe|tcp|ssh|fd|https?)://\S+?)[.;:,]?(?:\s|$)", re.IGNORECASE)
_PIPE = re.compile(r"open (//\./pipe/[^\s:]+)")
_SOCKET = re.compile(r"dial unix (/\S+?):")
_REQUEST_HOST = re.compile(r'"https?://([^/"%]+)/')
DEFAULT_ENDPOINTS = frozenset(("unix:///var/run/docker.sock", "npipe:////./pipe/docker_engine"))


class DockerError(HostError):
    pass


class EngineUnreachable(DockerError):
    pass


def engine_endpoint(text: str) -> str | None:
    """The endpoint docker says it tried (``unix:///var/run/docker.sock``, ``npipe:////./pipe/
    docker_engine``, ``tcp://host:2376``), read from its error message."""
    match = _ENDPOINT.search(text)
    if match:
        return match.group(1)
    match = _PIPE.search(text)
    if match:
        return "npipe://" + match.group(1)
    match = _SOCKET.search(text)
    if match:
        return "unix://" + match.group(1)
    match = _REQUEST_HOST.search(text)
    if match:
        return "tcp://" + match.group(1)
    return None


def _cause(line: str) -> str | None:
    """What went wrong underneath, from docker's line, without its own advice."""
    for marker in ("and if the daemon is running: ", '": '):
        if marker in line:
            return line.rsplit(marker, 1)[1].strip() or None
    match = _ENDPOINT.search(line)
    if match and line[match.end(1):match.end(1) + 2] == ": ":
        return line[match.end(1) + 2:].strip() or None
    return None


def _where(host: Host, endpoint: str | None) -> str:
    if endpoint is None:
        return "the endpoint docker uses (its error names none: see DOCKER_HOST and 'docker context ls' on the host)"
    if "--host" in host.engine.arguments:
        return "%s (docker_host)" % endpoint
    if "DOCKER_HOST" in host.engine.environment:
        return "%s (DOCKER_HOST of the task's environment)" % endpoint
    if endpoint in DEFAULT_ENDPOINTS:
        return "%s (docker's default endpoint)" % endpoint
    return "%s (set by DOCKER_HOST or the current docker context)" % endpoint


def engine_problem_message(host: Host, stderr: str) -> str | None:
    """The message for docker's own "cannot reach the engine" errors, None for other errors.

    Says once what is wrong, where docker looked (the endpoint its error names) and what to do.
    """
    denied = next((line.strip() for line in stderr.splitlines() if _PERMISSION_DENIED.search(line)), None)
    if denied is not None:
        where = _where(host, engine_endpoint(denied))
        if host.is_windows:
            return ("%s: the user the task runs as may not use the Docker engine's pipe %s (permission denied). Run "
                    "the task as an administrator, or as a member of the group the pipe allows (the \"group\" of the "
                    "engine's daemon.json; docker-users with Docker Desktop)" % (host.name, where))
        return ("%s: the user the task runs as may not use the Docker engine's socket %s (permission denied). Run "
                "the task with become, or add the user to the docker group (it applies from the user's next login)"
                % (host.name, where))
    line = next((line.strip() for line in stderr.splitlines() if _ENGINE_UNREACHABLE.search(line)), None)
    if line is None:
        return None
    where = _where(host, engine_endpoint(stderr))
    cause = _cause(line)
    detail = ": %s" % cause.rstrip(".") if cause else ""
    message = "%s: the Docker engine is not reachable at %s%s." % (host.name, where, detail)
    start = "Start-Service docker" if host.is_windows else "systemctl start docker"
    message += (" Start the engine (%s) or, if it listens elsewhere, give its address in docker_host (or DOCKER_HOST "
                "in the task's environment)" % start)
    if host.is_windows and _NOT_ELEVATED.search(line):
        message += ("; docker also says that it did not run elevated, and in the engine's default configuration only "
                    "administrators may use its pipe")
    return message


def raise_for_engine(host: Host, results: Iterable[CallResult]) -> None:
    """Fail clearly when docker could not reach its engine, whatever the command was."""
    for result in results:
        if result.ok:
            continue
        message = engine_problem_message(host, result.stderr)
        if message is not None:
            raise EngineUnreachable(message)


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def command_failed(host: Host, result: CallResult, what: str) -> DockerError:
    detail = result.stderr.strip() or result.stdout.strip() or "no output"
    return DockerError("%s: %s failed (docker exit code %d): %s" % (host.name, what, result.rc, detail))


def chunked(prefix: Sequence[str], values: Sequence[str]) -> list[tuple[str, ...]]:
    """Argument lists ``prefix + some values``, each short enough for a Windows command line,
    with room left for docker's global options (``limits.GLOBAL_OPTIONS_MAX``)."""
    budget = MAX_ARGUMENTS_LENGTH - GLOBAL_OPTIONS_MAX - len(join_arguments(prefix)) - 1
    chunks: list[tuple[str, ...]] = []
    current: list[str] = []
    size = 0
    for value in values:
        # Quoting can at most double a value and add two quotes.
        cost = 2 * len(value) + 3
        if current and size + cost > budget:
            chunks.append(tuple(prefix) + tuple(current))
            current, size = [], 0
        current.append(value)
        size += cost
    if current:
        chunks.append(tuple(prefix) + tuple(current))
    return chunks


def json_documents(text: str) -> list[Any]:
    """Every JSON document in ``text`` (chunked calls print one array each)."""
    decoder = json.JSONDecoder()
    documents = []
    index = 0
    text = text.strip()
    while index < len(text):
        document, end = decoder.raw_decode(text, index)
        documents.append(document)
        index = end
        while index < len(text) and text[index].isspace():
            index += 1
    return documents


# Every call puts "--" before its positional arguments (image names, container names, paths): the
# docker CLI parses its flags with spf13/pflag (cobra; Docker 1.12's mflag before it, a fork of Go's
# flag package), where "--" ends the flags, so a value starting with "-" can never be read as one.
# Values are validated before any call is built; this is the second line of defence.
END_OF_FLAGS = "--"


def inspect_calls(names: Sequence[str]) -> list[Call]:
    """``docker image inspect`` of the named images (missing ones are simply not returned)."""
    return [Call(arguments) for arguments in chunked(("image", "inspect", END_OF_FLAGS), list(dict.fromkeys(names)))]


def inspect_all_calls() -> list[Call]:
    """List every image ID, then inspect them: two calls, one exec."""
    return [
        Call(("image", "ls", "--all", "--quiet", "--no-trunc")),
        Call(("image", "inspect", END_OF_FLAGS), append_lines_of=0),
    ]


def read_inspect(host: Host, results: Sequence[CallResult]) -> list[dict[str, Any]]:
    """The inspect objects of the results, each image once, in the order docker gave them."""
    raise_for_engine(host, results)
    images: dict[str, dict[str, Any]] = {}
    for result in results:
        if result.call.arguments[:2] != ("image", "inspect"):
            if not result.ok:
                raise command_failed(host, result, "listing images")
            continue
        if not result.ok:
            unexpected = [
                line for line in result.stderr.splitlines() if line.strip() and not _NO_SUCH_IMAGE.search(line)
            ]
            if unexpected:
                raise command_failed(host, result, "docker image inspect")
        for document in json_documents(result.stdout):
            for image in document or []:
                images.setdefault(image["Id"], image)
    return list(images.values())


def find_image(images: Iterable[dict[str, Any]], spec: ImageSpec) -> dict[str, Any] | None:
    """The image ``spec`` names, resolved as docker does: by name first, then by ID prefix."""
    images = list(images)
    if spec.reference is not None:
        for image in images:
            names = (image.get("RepoTags") or []) + (image.get("RepoDigests") or [])
            if any(reference_matches(spec.reference, name) for name in names):
                return image
    if spec.is_id or spec.may_be_id:
        wanted = spec.text.split(":", 1)[-1]
        for image in images:
            if image["Id"].split(":", 1)[-1].startswith(wanted):
                return image
    return None


def tag_calls(source_id: str, targets: Iterable[str]) -> list[Call]:
    return [Call(("image", "tag", END_OF_FLAGS, source_id, target)) for target in targets]


def raise_for_failures(host: Host, results: Sequence[CallResult], what: str) -> None:
    raise_for_engine(host, results)
    for result in results:
        if not result.ok:
            raise command_failed(host, result, "%s (docker %s)" % (what, " ".join(result.call.arguments[:2])))
