# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every exec that the Windows suite sends, built by the collection's own Windows dialect.

Pure Python, importable and tested on any platform (``test_build_execs.py``); running the execs
is ``run_execs.py``'s job, on Windows only.

Each builder returns an ``Exec``: the command line and the stdin bytes that
``WindowsDialect.exchange`` builds for one of the constant scripts, the request it carries, and
the dialect's reader of the answer. The requests are the ones the collection itself sends:
``Host.run`` (calls), ``HostJob`` (job_start, stage_script of the runner, job_status, job_cleanup), ``lifecycle.file_info``,
``base_images.read_host`` (host_info) and the ``docker_login`` action (login_state, login, and in
check mode login_verify).

Why the request shapes are written out here instead of calling those functions: ``host.py`` and
``jobs.py`` import ansible-core (``jobs.py`` imports ``ansible.utils.display``, which imports
``fcntl`` and ``termios`` and so cannot be imported on Windows). The Windows machine therefore
needs no ansible-core at all: only this module, the collection's ``dialect.py``,
``windows_args.py`` and ``powershell_scripts.py`` (which import nothing but the standard
library), and pytest. ``test_build_execs.py`` holds every builder against the real collection
code on Linux, byte for byte: when a request of the collection changes, that test fails and
names the builder to follow it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import powershell_scripts
from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import (
    POWERSHELL_PREFIX,
    WINDOWS_COMMAND,
    WindowsDialect,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import MAX_ARGUMENTS_LENGTH

DIALECT = WindowsDialect()

# cmd.exe refuses command lines longer than 8,191 characters, and WinRS (and Windows OpenSSH's
# default shell) run the command through cmd.exe:
# https://learn.microsoft.com/en-us/troubleshoot/windows-client/shell-experience/command-line-string-limitation
CMD_EXE_LIMIT = 8191
# Characters that cmd.exe does not interpret and that need no quoting: the command line is the
# PowerShell prefix and base64.
_PLAIN_COMMAND = re.compile(r"[A-Za-z0-9 .+/=-]*")
# The executables the scripts know (Resolve-Executable's fixed table).
KNOWN_EXECUTABLES = ("docker", "tar")
# Docker's own output formats the collection reads (lifecycle.IMAGE_LS_FORMAT, base_images).
JSON_FORMAT = "{{json .}}"
IMAGE_LS_FORMAT = '{"ID":{{json .ID}},"Repository":{{json .Repository}},"Tag":{{json .Tag}}}'
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Call:
    """One program run by a script: the fields of the collection's ``host.Call``."""

    arguments: tuple[str, ...]
    exe: str = "docker"
    stdin: str | None = None
    environment: Mapping[str, str] | None = None
    append_lines_of: int | None = None


@dataclass(frozen=True)
class Exec:
    """One exec as the collection sends it: command line, stdin, and the answer's reader."""

    builder: str
    operation: str
    payload: Mapping[str, Any]
    command: str
    stdin: bytes
    read: Callable[[int, str, str], Mapping[str, Any]]


BUILDERS: dict[str, Callable[..., Exec]] = {}


def builder(function: Callable[..., Mapping[str, Any]]) -> Callable[..., Exec]:
    """Register a function that returns (operation, payload) as a builder of execs."""
    name = function.__name__

    def build(*args: Any, **kwargs: Any) -> Exec:
        operation, payload = function(*args, **kwargs)
        exchange = DIALECT.exchange(operation, payload)
        return Exec(name, operation, payload, exchange.command, exchange.stdin, exchange.read)

    build.__name__ = name
    build.__doc__ = function.__doc__
    BUILDERS[name] = build
    return build


def call_request(call: Call) -> dict[str, Any]:
    """A call's part of a ``run`` request, as ``Host.run`` builds it."""
    request = DIALECT.call_request(call.exe, list(call.arguments))
    if call.environment:
        request["env"] = dict(call.environment)
    if call.stdin is not None:
        request["stdin"] = call.stdin
    if call.append_lines_of is not None:
        request["append_lines_of"] = call.append_lines_of
    return request


def _run(calls: Sequence[Call], parallel: int = 1) -> tuple[str, dict[str, Any]]:
    return "run", {"parallel": parallel, "calls": [call_request(call) for call in calls]}


def _plain_request(call: Call) -> dict[str, Any]:
    """A call as ``HostJob`` and ``base_images.read_host`` send it: no stdin, no appended lines."""
    if call.stdin is not None or call.append_lines_of is not None:
        raise ValueError("jobs and host_info run plain calls only")
    request = DIALECT.call_request(call.exe, list(call.arguments))
    if call.environment:
        request["env"] = dict(call.environment)
    return request


# --- calls, as docker_cli, base_images, lifecycle and the actions make them --------------------


def version_call() -> Call:
    return Call(("version", "--format", JSON_FORMAT))


def info_call() -> Call:
    return Call(("info", "--format", JSON_FORMAT))


def inspect_call(names: Sequence[str]) -> Call:
    """docker_cli.inspect_calls for a handful of names (one call; no chunking needed)."""
    return Call(("image", "inspect", "--", *dict.fromkeys(names)))


def manifest_call(path: str) -> Call:
    return Call(("-xOf", path, MANIFEST), exe="tar")


def events_call(until: int) -> Call:
    """A docker call that takes a while without a container: ``docker events`` streams the
    engine's events until the given time (Unix seconds), then exits 0."""
    return Call(("events", "--until", str(until)))


# --- run ------------------------------------------------------------------------------------------


@builder
def docker_version():
    """One plain docker call."""
    return _run([version_call()])


@builder
def inspect(names: Sequence[str]):
    """``docker image inspect`` of some images (a missing one: rc 1, "No such image")."""
    return _run([inspect_call(names)])


@builder
def inspect_everything():
    """docker_cli.inspect_all_calls: list every image ID, then inspect them (append_lines_of)."""
    return _run([Call(("image", "ls", "--all", "--quiet", "--no-trunc")),
                 Call(("image", "inspect", "--"), append_lines_of=0)])


@builder
def parallel_reads(image: str, missing: str):
    """Four reads at once; the results come back in call order."""
    return _run([version_call(), inspect_call([image]), inspect_call([missing]), info_call()], parallel=4)


@builder
def unknown_executable():
    """A call of an executable outside the scripts' fixed table."""
    return _run([Call(("/?",), exe="notepad")])


@builder
def build_with_label(base: str, tag: str, key: str, value: str):
    """``docker build`` of a Dockerfile given on the call's stdin (FROM and LABEL only: no
    container runs), with a label on the command line: non-ASCII text goes to docker.exe both
    as an argument and as stdin bytes. The legacy builder is asked for by name, as the CLI
    picks it for a Windows engine anyway."""
    dockerfile = 'FROM %s\nLABEL wc.dockerfile="%s"\n' % (base, value)
    return _run([Call(("build", "--label", "%s=%s" % (key, value), "--tag", tag, "-"),
                      stdin=dockerfile, environment={"DOCKER_BUILDKIT": "0"})])


@builder
def images_with_label(key: str, value: str):
    """``docker image ls`` filtered by a label (the value travels as an argument)."""
    return _run([Call(("image", "ls", "--all", "--no-trunc", "--filter", "label=%s=%s" % (key, value),
                       "--format", IMAGE_LS_FORMAT))])


@builder
def tag(source: str, target: str):
    """docker_cli.tag_calls."""
    return _run([Call(("image", "tag", "--", source, target))])


@builder
def remove(names: Sequence[str]):
    return _run([Call(("image", "rm", "--", *names))])


@builder
def login(registry: str, username: str, password: str, config_dir: str):
    """The docker_login action's call with a config_path of its own: the password only on the
    call's stdin, DOCKER_CONFIG set, and PATH emptied so that docker cannot pick wincred."""
    return _run([Call(("login", "--username", username, "--password-stdin", "--", registry), stdin=password,
                      environment={"DOCKER_CONFIG": config_dir, "PATH": ""})])


# --- the other scripts -----------------------------------------------------------------------------


def credential_digest(salt: bytes, username: str, password: str) -> str:
    """registry.credential_digest: HMAC-SHA256 of user:password keyed by the salt, base64."""
    digest = hmac.new(salt, ("%s:%s" % (username, password)).encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@builder
def login_state(config_dir: str, registry: str, username: str, password: str, salt: bytes):
    """The docker_login action's first exec: user names, and whether the stored credential for the
    registry is username:password, compared on the host with this salted HMAC."""
    return "login_state", {"config_dir": config_dir, "hosts": [registry], "server": registry,
                           "salt": base64.b64encode(salt).decode("ascii"),
                           "digest": credential_digest(salt, username, password)}


@builder
def login_verify(registry: str, username: str, password: str, config_dir: str):
    """docker_login's check mode: docker login in a private temporary configuration, removed afterwards."""
    call = Call(("login", "--username", username, "--password-stdin", "--", registry), stdin=password,
                environment={"DOCKER_CONFIG": config_dir, "PATH": ""})
    request = DIALECT.call_request(call.exe, list(call.arguments))
    request["env"] = dict(call.environment)
    request["stdin"] = call.stdin
    return "login_verify", {"call": request}


@builder
def host_info():
    """base_images.read_host with the docker version and info calls and the OS images."""
    return "host_info", {"calls": [_plain_request(version_call()), _plain_request(info_call())], "os_images": True}


@builder
def file_info(
    files: Sequence[tuple[str, bool]] = (),
    calls: Sequence[tuple[Call, int | None]] = (),
    rename: Sequence[tuple[str, str]] = (),
    remove: Sequence[str] = (),
):
    """lifecycle.file_info: remove, rename, report files, run calls (each maybe only if a file exists)."""
    requests = []
    for call, if_exists in calls:
        request = DIALECT.call_request(call.exe, list(call.arguments))
        if if_exists is not None:
            request["if_exists"] = if_exists
        requests.append(request)
    return "file_info", {
        "remove": list(remove),
        "rename": [{"from": source, "to": target} for source, target in rename],
        "files": [{"path": path, "hash": bool(want_hash)} for path, want_hash in files],
        "calls": requests,
    }


# --- detached jobs (HostJob) ----------------------------------------------------------------------

# jobs.START_GRACE and jobs.CLAIM_AGE (test_build_execs.py checks them).
START_GRACE = 60.0
CLAIM_AGE = 60.0


@builder
def job_start(job: str, token: str, calls: Sequence[Call], parallel: int = 1, retries: int = 0):
    """HostJob._start: start the job, or attach to it."""
    payload: dict[str, Any] = {
        "job": job, "token": token, "parallel": max(1, parallel), "retries": max(0, retries),
        "calls": [_plain_request(call) for call in calls], "locks": [], "rename": None,
        "start_grace": START_GRACE, "claim_age": CLAIM_AGE, "runner": powershell_scripts.DIGESTS["job_runner"],
    }
    return "job_start", payload


@builder
def stage_runner():
    """HostJob._start when job_start answers that the runner is missing: the runner, to the job root."""
    return "stage_script", {"name": "job_runner", "sha256": powershell_scripts.DIGESTS["job_runner"],
                            "payload": powershell_scripts.PAYLOADS["job_runner"]}


@builder
def job_status(job: str, token: str, wait: float | None = None):
    """HostJob.run's poll; with ``wait``, the exec waits on the host for the job to end."""
    payload: dict[str, Any] = {"job": job, "token": token}
    if wait is not None:
        payload["wait"] = round(wait, 3)
    return "job_status", payload


@builder
def job_cleanup(job: str, token: str, kill: bool):
    """HostJob.cleanup: drop this run's claim and remove the job (``kill``: stop it first)."""
    return "job_cleanup", {"job": job, "token": token, "kill": kill, "claim_age": CLAIM_AGE}


# --- what every exec must be ----------------------------------------------------------------------


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units: how Windows counts command-line characters."""
    return len(text.encode("utf-16-le")) // 2


def exec_problems(ex: Exec) -> list[str]:
    """Why ``ex`` is not an exec the collection could send (an empty list: it is one).

    The command line is the one constant bootstrap command, short and plain enough for cmd.exe;
    stdin is ASCII: the base64 of the operation's constant script on the first line, and one
    line of ASCII JSON (the request) on the second; every program call names a known
    executable and fits CreateProcess's command-line limit.
    """
    problems = []
    if ex.command != WINDOWS_COMMAND:
        problems.append("the command line is not the constant bootstrap command")
    if not ex.command.startswith(POWERSHELL_PREFIX):
        problems.append("the command line does not start with %r" % POWERSHELL_PREFIX)
    if utf16_length(ex.command) > CMD_EXE_LIMIT:
        problems.append("the command line has %d characters, over cmd.exe's %d" % (utf16_length(ex.command), CMD_EXE_LIMIT))
    if not _PLAIN_COMMAND.fullmatch(ex.command):
        problems.append("the command line holds characters that cmd.exe interprets")
    try:
        bootstrap = base64.b64decode(ex.command[len(POWERSHELL_PREFIX):], validate=True).decode("utf-16-le")
    except (binascii.Error, UnicodeDecodeError):
        bootstrap = None
    if bootstrap != powershell_scripts.BOOTSTRAP:
        problems.append("-EncodedCommand does not decode to powershell_scripts.BOOTSTRAP")
    try:
        text = ex.stdin.decode("ascii")
    except UnicodeDecodeError as exc:
        return problems + ["stdin holds a non-ASCII byte at %d" % exc.start]
    lines = text.split("\n")
    if len(lines) != 3 or lines[2] != "":
        return problems + ["stdin is not exactly two lines ending in a newline (%d parts)" % len(lines)]
    script = inflate_payload(lines[0])
    if script not in powershell_scripts.SCRIPTS.values():
        problems.append("the first stdin line does not inflate to one of powershell_scripts.SCRIPTS")
    elif script != powershell_scripts.SCRIPTS.get(ex.operation):
        problems.append("the first stdin line is not the script of %r" % ex.operation)
    try:
        request = json.loads(lines[1])
    except ValueError:
        return problems + ["the second stdin line is not JSON"]
    if request != json.loads(json.dumps(ex.payload)):
        problems.append("the request line is not the exec's payload")
    calls = (request.get("calls") or []) if isinstance(request, dict) else []
    for call in calls:
        if ex.builder != "unknown_executable" and call.get("exe") not in KNOWN_EXECUTABLES:
            problems.append("a call names %r, not one of %s" % (call.get("exe"), KNOWN_EXECUTABLES))
        if len(str(call.get("cmdline", ""))) > MAX_ARGUMENTS_LENGTH:
            problems.append("a call's command line is over %d characters" % MAX_ARGUMENTS_LENGTH)
    return problems


def inflate_payload(line: str) -> str | None:
    """The script that BOOTSTRAP runs for this first stdin line (base64 of raw DEFLATE), or None."""
    try:
        inflater = zlib.decompressobj(-15)
        text = (inflater.decompress(base64.b64decode(line, validate=True)) + inflater.flush()).decode("utf-8")
    except (binascii.Error, zlib.error, UnicodeDecodeError):
        return None
    return text if inflater.eof else None


def check_exec(ex: Exec) -> Exec:
    """``ex`` when it is an exec the collection could send; AssertionError otherwise."""
    if ex.builder not in BUILDERS:
        raise AssertionError("%r is not one of the suite's builders" % ex.builder)
    problems = exec_problems(ex)
    if problems:
        raise AssertionError("%s (%s): %s" % (ex.builder, ex.operation, "; ".join(problems)))
    return ex


# --- one example of every exec (what test_build_execs.py checks on any platform) -----------------

EXAMPLE_IMAGE = "mcr.microsoft.com/windows/nanoserver:ltsc2022"
EXAMPLE_JOB = "0123456789abcdef" * 2
EXAMPLE_TOKEN = "fedcba9876543210" * 2
EXAMPLE_DIR = "C:\\Users\\runneradmin\\AppData\\Local\\Temp\\pytest-of-runneradmin\\pytest-0\\test0"
EXAMPLE_LABEL = "caf\u00e9 \u6f22\u5b57 \U0001f433"
EXAMPLE_PASSWORD = "\u00e9t\u00e9-\u6f22\u5b57-P@ss'\"w0rd \\ end"
EXAMPLE_SALT = bytes(range(32))

EXAMPLE_MISSING = "wctest/windows-suite:does-not-exist"
EXAMPLE_FILES = [(EXAMPLE_DIR + "\\export.tar", True), (EXAMPLE_DIR, False),
                 (EXAMPLE_DIR + "\\caf\u00e9-\u6f22\u5b57.txt", True), (EXAMPLE_DIR + "\\missing.tar", False)]

# Builder name -> (positional, keyword) arguments of one example exec.
EXAMPLES: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "docker_version": ((), {}),
    "inspect": (([EXAMPLE_IMAGE, EXAMPLE_MISSING],), {}),
    "inspect_everything": ((), {}),
    "parallel_reads": ((EXAMPLE_IMAGE, EXAMPLE_MISSING), {}),
    "unknown_executable": ((), {}),
    "build_with_label": ((EXAMPLE_IMAGE, "wctest/windows-suite:labelled", "wc.note", EXAMPLE_LABEL), {}),
    "images_with_label": (("wc.note", EXAMPLE_LABEL), {}),
    "tag": (("sha256:" + "a" * 64, "wctest/windows-suite:tagged"), {}),
    "remove": ((["wctest/windows-suite:tagged", "wctest/windows-suite:labelled"],), {}),
    "login": (("127.0.0.1:50000", "wc-us\u00e9r", EXAMPLE_PASSWORD, EXAMPLE_DIR + "\\docker"), {}),
    "login_state": ((EXAMPLE_DIR + "\\docker", "127.0.0.1:50000", "wc-us\u00e9r", EXAMPLE_PASSWORD, EXAMPLE_SALT), {}),
    "login_verify": (("127.0.0.1:50000", "wc-us\u00e9r", EXAMPLE_PASSWORD, EXAMPLE_DIR + "\\docker"), {}),
    "host_info": ((), {}),
    "file_info": ((), {
        "files": EXAMPLE_FILES,
        "calls": [(manifest_call(EXAMPLE_DIR + "\\export.tar"), 0), (version_call(), None)],
        "rename": [(EXAMPLE_DIR + "\\export.tar.partial-0123", EXAMPLE_DIR + "\\export.tar")],
        "remove": [EXAMPLE_DIR + "\\stale.tar"],
    }),
    "job_start": ((EXAMPLE_JOB, EXAMPLE_TOKEN, [events_call(1767225600), version_call()]), {}),
    "stage_runner": ((), {}),
    "job_status": ((EXAMPLE_JOB, EXAMPLE_TOKEN), {"wait": 2.0}),
    "job_cleanup": ((EXAMPLE_JOB, EXAMPLE_TOKEN), {"kill": False}),
}


def example(name: str) -> Exec:
    """The example exec of builder ``name``."""
    args, kwargs = EXAMPLES[name]
    return BUILDERS[name](*args, **kwargs)
