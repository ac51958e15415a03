# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake Windows Docker host for the transport contract tests.

Every transport of the harness ends here: the fake WS-Management endpoint (``winrm`` and
``psrp``, see ``fake_wsman.py``) and the fake ``ssh`` executable (``fake_ssh.py``) hand over
what a real Windows host would receive (the command line, or for ``psrp`` the already decoded
script, and the stdin bytes or pipeline input lines) and send back what it answers.

What the fake host checks, strictly (a violation is a *harness error*: it is written to
``errors.jsonl`` and the test fails even if the task was expected to fail):

* the command line is ``PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted
  -EncodedCommand <base64 UTF-16LE>``, at most 8,191 characters (cmd.exe's limit, which WinRS
  and Windows OpenSSH's default shell impose). Older ansible-core transports wrap it as Windows
  then runs it: ``ssh`` puts ``chcp.com 65001`` in front, and ``winrm`` and ``ssh`` encode the
  whole command again as a PowerShell script, whose powershell.exe starts the inner command
  as a native process that inherits its stdin; ``collection_command`` records the inner one;
* the encoded script is exactly ``powershell_scripts.BOOTSTRAP`` (then the first input line is
  the script to run, deflated and in base64, which is inflated as the bootstrap does; a line
  that is not gets the bootstrap's JSON error) or exactly one of ``powershell_scripts.SCRIPTS``;
  the scripts are imported from the collection under test;
* the command line and the script line fit the wire budget (``WIRE_BUDGET`` less
  ``REQUEST_ALLOWANCE``);
* the script is one whose behaviour this file emulates (``EMULATED_SCRIPTS``, from
  ``script_pins.py``, pins the SHA-256 of the text each emulation was written against, so a
  changed script cannot silently keep an outdated emulation);
* stdin is ASCII (powershell.exe decodes stdin with the console code page);
* every docker argument vector has an answer: a recorded one from the scenario, or one of the
  emulated commands (``image inspect``, ``image tag``, ``image ls --all --quiet --no-trunc``).

The host's state (its images) lives in ``state.json`` next to ``scenario.json`` and is read and
written on every exchange, so a second task sees what the first one did. Each exchange appends
one JSON line to ``exchanges.jsonl`` (transport, command line and its length, script name, the
decoded request, the argv of every process started, the answer).

The behaviour emulated is that of Windows PowerShell 5.1 running the collection's scripts and of
docker.exe (Docker CLI 27, a Go program) talking to a Windows engine; the recorded outputs and
where their formats come from are described in ``recorded/README.md``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import datetime
import fcntl
import hashlib
import json
import os
import re
import sys
import time
import traceback
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RECORDED = HERE / "recorded"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import script_pins  # noqa: E402  (the pins of the scripts, next to this file)

POWERSHELL_PREFIX = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "
# What ansible-core's ssh plugin (2.16) runs first on a Windows host, per shell type.
CHCP_PREFIXES = ("chcp.com 65001 > $null ; ", "chcp.com 65001 >nul 2>&1 && ")
CMD_EXE_LIMIT = 8191  # characters cmd.exe accepts on a command line (WinRS and OpenSSH run cmd.exe)
# The wire budget of an exec (issue 11): command line + stdin at most 8 KiB for a typical request.
# What the collection controls is the constant part, the command line and the script line, which
# must leave REQUEST_ALLOWANCE bytes of the budget to the request (a one-image task's request is
# 100 to 450 bytes; one that names 500 images is what it is). Every exchange of every contract
# test is held to it.
WIRE_BUDGET = 8192
REQUEST_ALLOWANCE = 512
CREATE_PROCESS_LIMIT = 32767  # characters of lpCommandLine, terminating NUL included
DOCKER_PATH = r"C:\Program Files\Docker\docker.exe"
TAR_PATH = r"C:\Windows\system32\tar.exe"
KNOWN_EXECUTABLES = {"docker": DOCKER_PATH, "tar": TAR_PATH}

# SHA-256 of the script texts the emulations were written against: the one table of pins,
# tests/contract/script_pins.py, which the unit tests check too. When a script of the collection
# changes, read its diff, make the emulation behave like the new text, then rewrite the pins
# (python tests/contract/script_pins.py --write).
EMULATED_SCRIPTS = dict(script_pins.POWERSHELL)

# Emulations in other files add to these: functions called with (host, docker, record) before
# every script runs (the job runners that ended since the last exchange), and exceptions with
# which a script asks to be answered again after ``seconds`` (job_status's wait).
EXCHANGE_HOOKS: list[Any] = []
RETRY_EXCEPTIONS: list[type[BaseException]] = []
# Commands of other collections that the content runs through its connection (ansible.windows.win_reboot):
# functions called with (host, record, script, lines, scenario) for a script that is not one of the
# collection's; each answers only the exact commands it emulates (HostAnswer) and None for any other.
FOREIGN_COMMANDS: list[Any] = []

STATE_FILE = "state.json"
SCENARIO_FILE = "scenario.json"
EXCHANGES_FILE = "exchanges.jsonl"
ERRORS_FILE = "errors.jsonl"
LOCK_FILE = "host.lock"


class FakeHostError(Exception):
    """The plugin sent something a real host would not accept, or the harness lacks an answer."""


# --------------------------------------------------------------------------------------------
# the collection's scripts


def _powershell_scripts() -> Any:
    root = os.environ.get("WC_FAKE_COLLECTIONS_ROOT")
    if root and root not in sys.path:
        sys.path.insert(0, root)
    from ansible_collections.wincontainers.images.plugins.plugin_utils import powershell_scripts

    return powershell_scripts


def script_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def bootstrap_payload(text: str) -> str:
    """The first input line that makes BOOTSTRAP run ``text``: the base64 of its raw DEFLATE stream."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(compressor.compress(text.encode("utf-8")) + compressor.flush()).decode("ascii")


def known_scripts() -> dict[str, str]:
    """Name -> text of every constant script the plugins may send, BOOTSTRAP included."""
    module = _powershell_scripts()
    scripts = dict(module.SCRIPTS)
    bootstrap = getattr(module, "BOOTSTRAP", None)
    if bootstrap is not None:
        scripts["BOOTSTRAP"] = bootstrap
    return scripts


# --------------------------------------------------------------------------------------------
# Windows command lines


def split_windows_command_line(command_line: str) -> list[str]:
    """Split a whole command line (program name included) as a Go program on Windows does.

    docker.exe is written in Go, whose runtime splits ``GetCommandLineW()`` itself with the
    rules CommandLineToArgvW documents: arguments are separated by spaces and tabs outside
    quotes; ``2n`` backslashes before ``"`` give ``n`` backslashes and the quote opens or closes
    a quoted part; ``2n+1`` backslashes before ``"`` give ``n`` backslashes and a literal quote;
    other backslashes are literal; inside a quoted part ``""`` gives a literal quote and closes
    the part (the pre-2008 MSVC rule that Go and CommandLineToArgvW follow; msvcrt since 2008
    keeps the part open). Written from those rules for this harness.
    """
    arguments: list[str] = []
    index, length = 0, len(command_line)
    while index < length:
        if command_line[index] in " \t":
            index += 1
            continue
        current: list[str] = []
        in_quotes = False
        backslashes = 0
        while index < length:
            char = command_line[index]
            if char == "\\":
                backslashes += 1
                index += 1
                continue
            if char == '"':
                current.append("\\" * (backslashes // 2))
                if backslashes % 2:
                    current.append('"')
                else:
                    if in_quotes and index + 1 < length and command_line[index + 1] == '"':
                        current.append('"')
                        index += 1
                    in_quotes = not in_quotes
                backslashes = 0
                index += 1
                continue
            if char in " \t" and not in_quotes:
                index += 1
                break
            current.append("\\" * backslashes)
            backslashes = 0
            current.append(char)
            index += 1
        current.append("\\" * backslashes)
        arguments.append("".join(current))
    return arguments


def decode_command(command: str) -> str:
    """The script of a ``PowerShell ... -EncodedCommand`` line, which must be exactly that."""
    if not re.fullmatch(r"[A-Za-z0-9 .+/=-]*", command):
        bad = sorted(set(re.sub(r"[A-Za-z0-9 .+/=-]", "", command)))
        raise FakeHostError(
            "the command line holds characters that cmd.exe interprets or that need quoting "
            "(%s); WinRS and Windows OpenSSH run it through cmd.exe" % "".join(bad)
        )
    if not command.startswith(POWERSHELL_PREFIX):
        raise FakeHostError("the command line does not start with %r: %r" % (POWERSHELL_PREFIX, command[:200]))
    encoded = command[len(POWERSHELL_PREFIX):]
    if not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", encoded):
        raise FakeHostError("-EncodedCommand is not followed by exactly one base64 argument: %r" % encoded[:200])
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-16-le")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise FakeHostError("the -EncodedCommand argument is not base64 of UTF-16LE text: %s" % exc) from exc


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units: how Windows counts command-line characters."""
    return len(text.encode("utf-16-le")) // 2


def dotnet_command_line(path: str, arguments: str) -> str:
    """The lpCommandLine .NET Framework's Process.Start builds from FileName and Arguments."""
    quoted = path if path.startswith('"') and path.endswith('"') else '"%s"' % path
    return quoted + (" " + arguments if arguments else "")


def read_lines(data: str) -> list[str]:
    """Lines as Console.In.ReadLine gives them to ``$input`` (CR, LF or CRLF end a line)."""
    if not data:
        return []
    lines = re.split(r"\r\n|\r|\n", data)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# --------------------------------------------------------------------------------------------
# JSON as the scripts and docker.exe write it


def powershell_json(value: Any) -> str:
    """``ConvertTo-Json -Compress`` of Windows PowerShell 5.1, then the scripts' \\uXXXX pass.

    PowerShell 5.1's serializer escapes ``<``, ``>``, ``&`` and ``'``; Write-Answer then turns
    every non-ASCII UTF-16 code unit into ``\\uxxxx`` (lower-case hex).
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escape)
    out = []
    for char in text:
        if ord(char) < 0x80:
            out.append(char)
        else:
            for unit in range(0, len(char.encode("utf-16-le")), 2):
                code = int.from_bytes(char.encode("utf-16-le")[unit:unit + 2], "little")
                out.append("\\u%04x" % code)
    return "".join(out)


def docker_json(value: Any) -> str:
    """``docker image inspect`` output: Go's json.Indent with four spaces, HTML characters escaped."""
    text = json.dumps(value, ensure_ascii=False, indent=4)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text + "\n"


def go_time_now() -> str:
    """UTC now as Go's RFC3339Nano formats it (trailing zeros of the fraction dropped)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    fraction = ("%06d" % now.microsecond).rstrip("0")
    return now.strftime("%Y-%m-%dT%H:%M:%S") + ("." + fraction if fraction else "") + "Z"


# --------------------------------------------------------------------------------------------
# image references, the engine's way (written for the harness, not taken from the collection)

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class InvalidReference(ValueError):
    pass


@dataclass(frozen=True)
class Ref:
    name: str = ""  # fully qualified: docker.io/library/busybox
    tag: str | None = None
    digest: str | None = None

    @property
    def familiar_name(self) -> str:
        name = self.name
        if name.startswith("docker.io/"):
            name = name[len("docker.io/"):]
            if name.startswith("library/") and name.count("/") == 1:
                name = name[len("library/"):]
        return name

    def familiar(self, default_tag: bool = False) -> str:
        if not self.name:
            return self.digest or ""
        text = self.familiar_name
        tag = self.tag if self.tag is not None else ("latest" if default_tag and self.digest is None else None)
        if tag is not None:
            text += ":" + tag
        if self.digest is not None:
            text += "@" + self.digest
        return text


def parse_ref(text: str) -> Ref:
    """ParseAnyReference + normalisation: a full ID, or a name with optional tag and digest."""
    if _HEX64.fullmatch(text):
        return Ref(digest="sha256:" + text)
    if text.startswith("sha256:") and _HEX64.fullmatch(text[7:]):
        return Ref(digest=text)
    name, _at, digest = text.partition("@")
    if digest and not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise InvalidReference("invalid reference format")
    tag = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1:]
        if not _TAG.fullmatch(tag):
            raise InvalidReference("invalid reference format")
    if not name:
        raise InvalidReference("invalid reference format")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        domain, path = first, rest
    else:
        domain, path = "docker.io", name
        if "/" not in path:
            path = "library/" + path
    if not all(_COMPONENT.fullmatch(part) for part in path.split("/")):
        if path != path.lower():
            raise InvalidReference("invalid reference format: repository name (%s) must be lowercase" % path)
        raise InvalidReference("invalid reference format")
    return Ref("%s/%s" % (domain, path), tag, digest or None)


# --------------------------------------------------------------------------------------------
# scenario, state and logs


def load_recorded(name: str) -> Any:
    path = RECORDED / name
    if path.suffix in (".yml", ".yaml"):
        import yaml

        return yaml.safe_load(path.read_text(encoding="utf-8"))
    return json.loads(path.read_text(encoding="utf-8"))


def resolve_scenario(scenario: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario with its ``images`` entries (recorded file names or objects) made inline."""
    resolved = copy.deepcopy(dict(scenario))
    images: list[dict[str, Any]] = []
    for entry in resolved.get("images") or []:
        if isinstance(entry, str):
            loaded = load_recorded("images/" + entry)
            images.extend(loaded if isinstance(loaded, list) else [loaded])
        else:
            images.append(entry)
    resolved["images"] = images
    resolved.setdefault("docker", "present")
    resolved.setdefault("engine", "running")
    resolved.setdefault("answers", [])
    unknown = set(resolved) - {"description", "docker", "docker_cli", "engine", "images", "answers", "tar",
                               "powershell_stderr", "docker_client", "console_code_page"}
    if unknown:
        raise FakeHostError("unknown scenario keys: %s" % sorted(unknown))
    return resolved


def allow_scenario_key(key: str) -> None:
    """Let an emulation in another file keep its own scenario key: ``resolve_scenario`` then
    resolves the rest as before and passes that key through unchanged."""
    global resolve_scenario
    core_resolve = resolve_scenario

    def resolve_with_key(scenario: Mapping[str, Any]) -> dict[str, Any]:
        scenario = dict(scenario)
        extension = scenario.pop(key, None)
        resolved = core_resolve(scenario)
        if extension is not None:
            resolved[key] = extension
        return resolved

    resolve_scenario = resolve_with_key


def prepare_host_directory(directory: Path, scenario: Mapping[str, Any]) -> None:
    """Write ``scenario.json`` and the initial ``state.json`` of a fake host."""
    directory.mkdir(parents=True, exist_ok=True)
    resolved = resolve_scenario(scenario)
    (directory / SCENARIO_FILE).write_text(json.dumps(resolved, indent=2), encoding="utf-8")
    state = {"images": resolved["images"]}
    (directory / STATE_FILE).write_text(json.dumps(state, indent=2), encoding="utf-8")


def append_jsonl(path: Path, record: Mapping[str, Any]) -> None:
    line = json.dumps(record, sort_keys=True, default=str) + "\n"
    with open(path, "a", encoding="utf-8") as stream:
        fcntl.flock(stream, fcntl.LOCK_EX)
        stream.write(line)


# --------------------------------------------------------------------------------------------
# docker.exe talking to a Windows engine

# docker.exe 24 to 28 on an elevated session whose engine pipe does not exist (docker/cli wraps the
# pipe error of moby's client; recorded/windows_outputs.yml holds the public captures this is
# checked against). The URL is that of the failed request: the CLI's own API version (1.47 for
# Docker 27; since Docker 25 a failed negotiation no longer falls back to 1.24), no version for
# ``/_ping``.
ENGINE_DOWN = (
    'error during connect: this error may indicate that the docker daemon is not running: %s '
    '"http://%%2F%%2F.%%2Fpipe%%2Fdocker_engine%s": open //./pipe/docker_engine: '
    "The system cannot find the file specified."
)
CLI_API_PREFIX = "/v1.47"  # docker.exe 27's default API version
# Docker CLI 29 names the endpoint instead of the request.
ENGINE_DOWN_29 = (
    "failed to connect to the docker API at npipe:////./pipe/docker_engine; check if the path is "
    "correct and if the daemon is running: open //./pipe/docker_engine: The system cannot find the "
    "file specified."
)


@dataclass
class Process:
    rc: int
    stdout: str = ""
    stderr: str = ""


# --------------------------------------------------------------------------------------------
# docker.exe's argument parsing: cobra commands whose flags Go's spf13/pflag parses

# The flags of the docker commands the collection runs (and of their neighbours), as the docker
# CLI declares them: long name -> (shorthand, takes a value). ``--help`` (``-h``) is every cobra
# command's own. Docker 1.12's OS image commands (images, inspect, tag, rmi) are listed too: its
# CLI already used cobra for them (``docker info --format`` fails there with cobra's "unknown
# flag"), and before cobra, mflag (a fork of Go's flag package) also ends the flags at "--".
_LIST_FLAGS = {"--all": ("-a", False), "--quiet": ("-q", False), "--no-trunc": (None, False),
               "--digests": (None, False), "--filter": ("-f", True), "--format": (None, True)}
DOCKER_FLAGS: dict[tuple[str, ...], dict[str, tuple[str | None, bool]]] = {
    ("image", "inspect"): {"--format": ("-f", True), "--platform": (None, True)},
    ("image", "tag"): {},
    ("image", "ls"): _LIST_FLAGS,
    ("images",): _LIST_FLAGS,
    ("image", "rm"): {"--force": ("-f", False), "--no-prune": (None, False), "--platform": (None, True)},
    ("rmi",): {"--force": ("-f", False), "--no-prune": (None, False)},
    ("image", "pull"): {"--platform": (None, True), "--all-tags": ("-a", False), "--quiet": ("-q", False),
                        "--disable-content-trust": (None, False)},
    ("image", "push"): {"--all-tags": ("-a", False), "--quiet": ("-q", False), "--platform": (None, True),
                        "--disable-content-trust": (None, False)},
    ("image", "save"): {"--output": ("-o", True), "--platform": (None, True)},
    ("image", "load"): {"--input": ("-i", True), "--quiet": ("-q", False), "--platform": (None, True)},
    ("image", "history"): {"--no-trunc": (None, False), "--human": ("-H", False), "--format": (None, True),
                           "--quiet": ("-q", False), "--platform": (None, True)},
    ("container", "inspect"): {"--size": ("-s", False), "--format": ("-f", True)},
    ("container", "diff"): {},
    ("container", "stop"): {"--time": ("-t", True), "--signal": ("-s", True)},
    ("container", "commit"): {"--message": ("-m", True), "--author": ("-a", True), "--change": ("-c", True),
                              "--pause": ("-p", False)},
    ("container", "ls"): dict(_LIST_FLAGS, **{"--last": ("-n", True), "--latest": ("-l", False),
                                              "--size": ("-s", False)}),
    ("inspect",): {"--type": (None, True), "--format": ("-f", True), "--size": ("-s", False)},
    ("tag",): {},
    ("manifest", "inspect"): {"--verbose": ("-v", False), "--insecure": (None, False)},
    ("login",): {"--username": ("-u", True), "--password": ("-p", True), "--password-stdin": (None, False)},
    ("logout",): {},
    ("search",): {"--format": (None, True), "--no-trunc": (None, False), "--limit": (None, True),
                  "--filter": ("-f", True)},
    ("info",): {"--format": ("-f", True)},
    ("version",): {"--format": ("-f", True)},
}


class FlagError(Exception):
    """What pflag refuses; docker prints it with a pointer to --help and exits with 125."""


@dataclass(frozen=True)
class DockerArgs:
    """A docker command line as docker.exe reads it."""

    command: tuple[str, ...]
    flags: tuple[tuple[str, str | None], ...]  # long names, in order; None: a boolean given bare
    positionals: tuple[str, ...]

    def has(self, name: str) -> bool:
        return any(flag == name for flag, _value in self.flags)

    def values(self, name: str) -> list[str]:
        return [value for flag, value in self.flags if flag == name and value is not None]

    def value(self, name: str) -> str | None:
        found = self.values(name)
        return found[-1] if found else None

    @property
    def flag_names(self) -> set[str]:
        return {flag for flag, _value in self.flags}


def pflag_parse(arguments: Sequence[str], flags: Mapping[str, tuple[str | None, bool]]) -> tuple[
        list[tuple[str, str | None]], list[str]]:
    """Split a command's arguments as Go's spf13/pflag does (``FlagSet.Parse``, interspersed
    flags allowed, as cobra sets it), written from pflag's parseArgs/parseLongArg/parseShortArg:

    * an argument that is ``-`` or does not start with ``-`` is positional, wherever it is;
    * ``--`` ends the flags: every argument after it is positional, even ``--help`` or ``-x``;
    * ``--name=value`` gives the value; a flag that takes one and has no ``=`` takes the NEXT
      argument, whatever it is (even one that starts with ``-``); a boolean flag takes no
      argument (``--pause=false`` sets it explicitly);
    * ``-x`` is a shorthand; ``-xvalue`` and ``-x value`` give a shorthand its value, and
      booleans combine (``-aq``);
    * an unknown flag, or a value flag at the end without its value, is an error.
    """
    by_short = {short: name for name, (short, _takes) in flags.items() if short}
    known = dict(flags)
    known.setdefault("--help", ("-h", False))
    by_short.setdefault("-h", "--help")
    parsed: list[tuple[str, str | None]] = []
    positionals: list[str] = []
    rest = list(arguments)
    while rest:
        word = rest.pop(0)
        if len(word) < 2 or not word.startswith("-"):
            positionals.append(word)
            continue
        if word == "--":
            positionals.extend(rest)
            break
        if word.startswith("--"):
            name, equals, value = word.partition("=")
            if name not in known:
                raise FlagError("unknown flag: %s" % name)
            takes = known[name][1]
            if equals:
                parsed.append((name, value))
            elif not takes:
                parsed.append((name, None))
            elif rest:
                parsed.append((name, rest.pop(0)))
            else:
                raise FlagError("flag needs an argument: %s" % name)
            continue
        letters = word[1:]
        while letters:
            short = "-" + letters[0]
            name = by_short.get(short)
            if name is None:
                raise FlagError("unknown shorthand flag: '%s' in %s" % (letters[0], word))
            letters = letters[1:]
            if not known[name][1]:
                if letters.startswith("="):
                    parsed.append((name, letters[1:]))
                    letters = ""
                else:
                    parsed.append((name, None))
                continue
            if letters:
                parsed.append((name, letters[1:] if letters.startswith("=") else letters))
            elif rest:
                parsed.append((name, rest.pop(0)))
            else:
                raise FlagError("flag needs an argument: '%s' in %s" % (short[1], word))
            letters = ""
    return parsed, positionals


def parse_docker(argv: Sequence[str]) -> DockerArgs | None:
    """The command, flags and positional arguments of a docker command line; None for a
    command this table does not know. Raises ``FlagError`` as pflag would."""
    argv = list(argv)
    for length in (2, 1):
        command = tuple(argv[:length])
        if len(command) == length and command in DOCKER_FLAGS:
            flags, positionals = pflag_parse(argv[length:], DOCKER_FLAGS[command])
            return DockerArgs(command, tuple(flags), tuple(positionals))
    return None


# The root command's own flags (docker/cli cli/flags/options.go ``ClientOptions.InstallFlags``,
# Docker 20 to 29, and cmd/docker's ``--version``): they go before the command, because the root
# command parses its flags with interspersing off (``flags.SetInterspersed(false)``), so the first
# word that is not a flag or a flag's value is the command. ``--host`` may be given more than once;
# the CLI refuses more than one host ("Specify only one -H") and uses the last of a flag otherwise.
DOCKER_GLOBAL_FLAGS: dict[str, tuple[str | None, bool]] = {
    "--config": (None, True), "--context": ("-c", True), "--debug": ("-D", False), "--host": ("-H", True),
    "--log-level": ("-l", True), "--tls": (None, False), "--tlsverify": (None, False), "--tlscacert": (None, True),
    "--tlscert": (None, True), "--tlskey": (None, True), "--version": ("-v", False),
}
# Where docker.exe connects without --host, DOCKER_HOST or a context (docker/cli's
# opts.DefaultNamedPipe), and the pipe the fake engine listens on unless the scenario says
# otherwise (scenario key ``docker_host``).
DEFAULT_DOCKER_HOST = "npipe:////./pipe/docker_engine"


def split_global_options(argv: Sequence[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """The root command's flags before the command (pflag rules, see ``pflag_parse``, with
    interspersing off: they end at the first word that is not a flag), and the rest."""
    rest = list(argv)
    parsed: list[tuple[str, str | None]] = []
    while rest and rest[0].startswith("-") and rest[0] != "-":
        word = rest.pop(0)
        if word == "--":
            break
        try:
            flags, _positionals = pflag_parse([word], DOCKER_GLOBAL_FLAGS)
        except FlagError as exc:
            if not str(exc).startswith("flag needs an argument") or not rest:
                raise
            flags, _positionals = pflag_parse([word, rest.pop(0)], DOCKER_GLOBAL_FLAGS)
        parsed.extend(flags)
    hosts = [value for name, value in parsed if name == "--host"]
    if len(hosts) > 1:
        raise FlagError("Specify only one -H")
    return parsed, rest


def engine_address(global_flags: Sequence[tuple[str, str | None]], env: Mapping[str, str] | None) -> str:
    """The engine docker.exe talks to: --host, else DOCKER_HOST of its environment, else the default pipe."""
    hosts = [value for name, value in global_flags if name == "--host" and value]
    return hosts[-1] if hosts else (env or {}).get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def unreachable_engine(address: str) -> Process:
    """What docker.exe (27) prints when nothing listens at ``address``: a pipe that does not
    exist, or a TCP port that refuses the connection."""
    if address.startswith("npipe://"):
        pipe = address[len("npipe://"):].replace("\\", "/")
        encoded = pipe.replace("/", "%2F")
        return Process(1, "", 'error during connect: this error may indicate that the docker daemon is not running: Get '
                              '"http://%s%s/_ping": open %s: The system cannot find the file specified.\n'
                       % (encoded, CLI_API_PREFIX, pipe))
    target = address.split("://", 1)[-1]
    return Process(1, "", 'error during connect: Get "http://%s%s/_ping": dial tcp %s: connectex: No connection '
                          "could be made because the target machine actively refused it.\n" % (target, CLI_API_PREFIX, target))


def same_docker_call(argv: Sequence[str], recorded: Sequence[str]) -> bool:
    """Whether docker reads both argument vectors alike (``image inspect -- x`` and ``image
    inspect x`` are the same call); unknown commands must be equal word for word."""
    if list(argv) == list(recorded):
        return True
    try:
        mine, theirs = parse_docker(argv), parse_docker(recorded)
    except FlagError:
        return False
    return mine is not None and mine == theirs


def flag_error(argv: Sequence[str], error: FlagError) -> Process:
    """docker.exe's answer to a flag pflag refuses: the message, a pointer to --help, exit 125."""
    command = " ".join(word for word in argv[:2] if not word.startswith("-"))
    return Process(125, "", "%s\nSee 'docker %s --help'.\n" % (error, command))


def help_text(args: DockerArgs) -> Process:
    """``--help`` before any ``--``: cobra prints the command's usage on stdout and exits 0."""
    return Process(0, "\nUsage:  docker %s [OPTIONS] ...\n\nOptions:\n  -h, --help   help for %s\n"
                   % (" ".join(args.command), args.command[-1]))


class FakeDocker:
    """docker.exe on the host: recorded answers first, then the emulated image commands."""

    def __init__(self, scenario: Mapping[str, Any], state: dict[str, Any]) -> None:
        self.scenario = scenario
        self.state = state
        self.changed = False

    @property
    def images(self) -> list[dict[str, Any]]:
        return self.state.setdefault("images", [])

    def run(self, argv: Sequence[str], stdin: str | None, env: Mapping[str, str] | None) -> Process:
        del env
        recorded = self._recorded(argv, stdin)
        if recorded is not None:
            return recorded
        try:
            args = parse_docker(argv)
        except FlagError as exc:
            return flag_error(argv, exc)
        if args is not None and args.has("--help"):
            return help_text(args)
        if self.scenario.get("engine") == "stopped":
            return self._engine_down(args, argv)
        if args is not None and args.command == ("image", "inspect") and not args.flags and args.positionals:
            return self._inspect(args.positionals)
        if args is not None and args.command == ("image", "tag") and not args.flags and len(args.positionals) == 2:
            return self._tag(*args.positionals)
        if (args is not None and args.command == ("image", "ls") and not args.positionals
                and args.flags == (("--all", None), ("--quiet", None), ("--no-trunc", None))):
            return self._list_ids()
        raise FakeHostError(
            "no recorded answer for docker %s; add one to the scenario's 'answers' or emulate "
            "the command in FakeDocker" % json.dumps(list(argv))
        )

    # recorded answers --------------------------------------------------------------------

    def _recorded(self, argv: Sequence[str], stdin: str | None) -> Process | None:
        other_password = False
        for answer in self.scenario.get("answers") or []:
            if "argv" in answer:
                # docker reads "manifest inspect --verbose -- x" as it reads "manifest inspect --verbose x"
                matched = same_docker_call(argv, answer["argv"])
            else:
                prefix = list(answer["argv_prefix"])
                rest = list(argv[len(prefix):])
                if rest[:1] == ["--"] and "--" not in prefix:
                    rest = rest[1:]  # the end of the flags before the names
                matched = list(argv[: len(prefix)]) == prefix
                if matched and "names" in answer:
                    matched = sorted(rest) == sorted(answer["names"])
            if matched and "stdin" in answer and stdin != answer["stdin"]:
                other_password = other_password or list(argv[:1]) == ["login"]
                matched = False
            if matched:
                return Process(int(answer.get("rc", 0)), answer.get("stdout", ""), answer.get("stderr", ""))
        if other_password:
            # docker login --password-stdin trims only the trailing newline of what it reads
            # (docker/cli cli/command/registry/login.go): anything else, a BOM included, is part of
            # the password, which the registry refuses.
            return Process(1, "", 'Error response from daemon: Get "https://%s/v2/": unauthorized: '
                                  "incorrect username or password\n" % argv[-1])
        return None

    # engine stopped ------------------------------------------------------------------------

    def _engine_down(self, args: DockerArgs | None, argv: Sequence[str]) -> Process:
        def text(method: str, path: str) -> str:
            if str(self.scenario.get("docker_cli", "27")) == "29":
                return ENGINE_DOWN_29
            return ENGINE_DOWN % (method, CLI_API_PREFIX + path)

        command = args.command if args is not None else tuple(argv[:2])
        positionals = args.positionals if args is not None else tuple(argv[2:])
        if command == ("image", "inspect"):
            lines = [text("Get", "/images/%s/json" % name) for name in positionals]
            return Process(1, "[]\n", "\n".join(lines) + "\n")
        if command == ("image", "tag") and len(positionals) == 2:
            return Process(1, "", text("Post", "/images/%s/tag" % positionals[0]) + "\n")
        if command == ("image", "ls"):
            return Process(1, "", text("Get", "/images/json?all=1") + "\n")
        return Process(1, "", text("Get", "/_ping") + "\n")

    # the image store -----------------------------------------------------------------------

    def find(self, text: str) -> dict[str, Any] | None:
        """The image ``text`` names, looked up as the engine's GetImage does."""
        ref = parse_ref(text)
        if not ref.name:
            return next((i for i in self.images if i["Id"] == ref.digest), None)
        for image in self.images:
            if ref.digest is not None:
                names = image.get("RepoDigests") or []
                if any(self._same(parse_ref(n), Ref(ref.name, None, ref.digest)) for n in names):
                    return image
            else:
                wanted = Ref(ref.name, ref.tag or "latest")
                if any(self._same(parse_ref(n), wanted) for n in image.get("RepoTags") or []):
                    return image
        hexpart = text[7:] if text.startswith("sha256:") else text
        if ref.digest is None and re.fullmatch(r"[0-9a-f]+", hexpart):
            found = [i for i in self.images if i["Id"].split(":", 1)[1].startswith(hexpart)]
            if len(found) == 1:
                return found[0]
        return None

    @staticmethod
    def _same(a: Ref, b: Ref) -> bool:
        return a.name == b.name and a.tag == b.tag and a.digest == b.digest

    def _no_such_image(self, text: str) -> str:
        try:
            ref = parse_ref(text)
        except InvalidReference as exc:
            return "Error response from daemon: %s" % exc
        return "Error response from daemon: No such image: %s" % ref.familiar(default_tag=True)

    def _inspect(self, names: Sequence[str]) -> Process:
        found, errors = [], []
        for name in names:
            try:
                image = self.find(name)
            except InvalidReference:
                image = None
            if image is None:
                errors.append(self._no_such_image(name))
            else:
                found.append(image)
        stdout = docker_json(found) if found else "[]\n"
        return Process(1 if errors else 0, stdout, "".join(e + "\n" for e in errors))

    def _tag(self, source: str, target: str) -> Process:
        try:
            image = self.find(source)
        except InvalidReference as exc:
            return Process(1, "", "Error response from daemon: %s\n" % exc)
        if image is None:
            return Process(1, "", self._no_such_image(source) + "\n")
        try:
            ref = parse_ref(target)
        except InvalidReference as exc:
            return Process(1, "", 'Error parsing reference: "%s" is not a valid repository/tag: %s\n' % (target, exc))
        if ref.digest is not None or not ref.name:
            return Process(1, "", "Error response from daemon: refusing to create a tag with a digest reference\n")
        name = Ref(ref.name, ref.tag or "latest").familiar()
        for other in self.images:
            tags = other.get("RepoTags") or []
            if other is not image and any(self._same(parse_ref(t), parse_ref(name)) for t in tags):
                other["RepoTags"] = [t for t in tags if not self._same(parse_ref(t), parse_ref(name))]
        tags = image.get("RepoTags") or []
        if name not in tags:
            image["RepoTags"] = tags + [name]
        image.setdefault("Metadata", {})["LastTagTime"] = go_time_now()
        self.changed = True
        return Process(0)

    def _list_ids(self) -> Process:
        rows = []
        for image in sorted(self.images, key=lambda i: i.get("Created", ""), reverse=True):
            rows.extend([image["Id"]] * max(1, len(image.get("RepoTags") or [])))
        return Process(0, "".join(row + "\n" for row in rows))


# --------------------------------------------------------------------------------------------
# the host


@dataclass
class HostAnswer:
    """What the host sends back: output lines (stdout, or psrp output objects), stderr, rc."""

    rc: int
    output: list[str] = field(default_factory=list)
    stderr: str = ""

    @property
    def stdout(self) -> str:
        return "".join(line + "\r\n" for line in self.output)


# stderr of a powershell.exe whose modules are loaded for the first time in a profile: a
# progress record serialised as CLIXML (see recorded/README.md).
FIRST_USE_CLIXML = (
    '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
    '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T>'
    "<T>System.Object</T></TN><MS><I64 N=\"SourceId\">1</I64><PR N=\"Record\"><AV>Preparing modules "
    "for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD>"
    "</PR></MS></Obj></Objs>"
)


class FakeWindowsHost:
    """One fake host, kept in ``directory`` (scenario, state, logs)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        if not (self.directory / SCENARIO_FILE).is_file():
            raise FakeHostError("%s holds no %s" % (self.directory, SCENARIO_FILE))

    # paths -------------------------------------------------------------------------------

    @property
    def exchanges_path(self) -> Path:
        return self.directory / EXCHANGES_FILE

    @property
    def errors_path(self) -> Path:
        return self.directory / ERRORS_FILE

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.directory / LOCK_FILE, "a", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def record_error(self, transport: str, message: str, detail: str = "") -> None:
        append_jsonl(self.errors_path, {"transport": transport, "message": message, "detail": detail})

    # the exchange ------------------------------------------------------------------------

    def exchange(
        self,
        transport: str,
        *,
        command: str | None = None,
        script: str | None = None,
        input_lines: Sequence[str] | None = None,
        stdin: bytes | None = None,
        variant: str | None = None,
    ) -> HostAnswer:
        """Answer one exec.

        ``winrm`` and ``ssh`` give the ``command`` line and the ``stdin`` bytes; ``psrp`` gives the
        decoded ``script`` and its pipeline ``input_lines``.
        """
        record: dict[str, Any] = {
            "event": "exchange",
            "transport": transport,
            "variant": variant or os.environ.get("WC_FAKE_TRANSPORT_VARIANT") or transport,
            "command": command,
            "command_length": None if command is None else utf16_length(command),
            "collection_command": None,
            "stdin_bytes": None if stdin is None else len(stdin),
            "processes": [],
        }
        while True:
            pause = None
            with self._locked():
                record["processes"] = []
                record.pop("job_events", None)
                try:
                    answer = self._exchange(record, command, script, input_lines, stdin)
                except tuple(RETRY_EXCEPTIONS) as exc:
                    # The script sleeps (and other execs run meanwhile): nothing of this pass is
                    # kept, the exchange is answered again from the state after the pause.
                    pause = float(getattr(exc, "seconds"))
                except FakeHostError as exc:
                    record["harness_error"] = str(exc)
                    self.record_error(transport, str(exc), json.dumps(record, default=str)[:4000])
                    answer = HostAnswer(1, [], "FAKE WINDOWS HOST: %s\r\n" % exc)
                except Exception as exc:  # noqa: BLE001 - a bug in the harness must fail the test
                    record["harness_error"] = "%s: %s" % (type(exc).__name__, exc)
                    self.record_error(transport, record["harness_error"], traceback.format_exc())
                    answer = HostAnswer(1, [], "FAKE WINDOWS HOST CRASHED: %s\r\n" % record["harness_error"])
                if pause is None:
                    record["answer"] = {"rc": answer.rc, "output": answer.output, "stderr": answer.stderr}
                    append_jsonl(self.exchanges_path, record)
                    return answer
            time.sleep(pause)

    def _exchange(
        self,
        record: dict[str, Any],
        command: str | None,
        script: str | None,
        input_lines: Sequence[str] | None,
        stdin: bytes | None,
    ) -> HostAnswer:
        scenario = json.loads((self.directory / SCENARIO_FILE).read_text(encoding="utf-8"))
        if command is not None:
            if utf16_length(command) > CMD_EXE_LIMIT:
                raise FakeHostError(
                    "the command line has %d characters; cmd.exe refuses more than %d "
                    "('The command line is too long.')" % (utf16_length(command), CMD_EXE_LIMIT)
                )
            command, script = self._collection_command(command)
            record["collection_command"] = command
        if script is None:
            raise FakeHostError("the transport gave neither a command line nor a script")
        if input_lines is None:
            raw = stdin or b""
            try:
                text = raw.decode("ascii")
            except UnicodeDecodeError as exc:
                raise FakeHostError(
                    "stdin holds non-ASCII bytes (at %d); powershell.exe would decode them with the "
                    "console code page" % exc.start
                ) from exc
            input_lines = read_lines(text)
        lines = list(input_lines)
        record["input_chars"] = sum(len(line) + 1 for line in lines)
        record["script_chars"] = len(script)
        # What the collection puts on the wire (WIRE_BUDGET): its command line (for psrp, which
        # hands over the decoded script, the command line that encodes it) and its input.
        collection_command = record.get("collection_command") or (
            POWERSHELL_PREFIX + base64.b64encode(script.encode("utf-16-le")).decode("ascii"))
        record["wire_bytes"] = len(collection_command) + record["input_chars"]
        scripts = known_scripts()
        if script not in scripts.values():
            for foreign in FOREIGN_COMMANDS:
                answer = foreign(self, record, script, lines, scenario)
                if answer is not None:
                    return answer
        name = self._identify(script, scripts, "the command's script")
        record["command_script"] = name
        constant = len(collection_command)
        if name == "BOOTSTRAP":
            constant += len(re.split(r"\r?\n", "\n".join(lines))[0]) + 1
        record["constant_bytes"] = constant
        if constant > WIRE_BUDGET - REQUEST_ALLOWANCE:
            raise FakeHostError(
                "the command line and the script line of this exec are %d bytes, over the %d of the wire budget "
                "(%d, less %d for the request)" % (constant, WIRE_BUDGET - REQUEST_ALLOWANCE, WIRE_BUDGET, REQUEST_ALLOWANCE))
        if name == "BOOTSTRAP":
            inner, lines = self._bootstrap(lines, scripts)
            if isinstance(inner, HostAnswer):
                return inner
            name = inner
        record["script_name"] = name
        record["script_sha256"] = script_sha256(scripts[name])
        self._check_emulated(name, scripts[name])
        record["input_lines"] = lines
        handler = getattr(self, "_script_" + name.lower(), None)
        if handler is None:
            raise FakeHostError("the fake host does not emulate the script %r yet" % name)
        state_path = self.directory / STATE_FILE
        state = json.loads(state_path.read_text(encoding="utf-8"))
        docker = FakeDocker(scenario, state)
        for hook in EXCHANGE_HOOKS:
            hook(self, docker, record)
        output = handler(lines, record, scenario, docker)
        record["state_changed"] = docker.changed
        if docker.changed:
            state_path.write_text(json.dumps(state, indent=2), encoding="utf-8")
        stderr = FIRST_USE_CLIXML if scenario.get("powershell_stderr") == "first_use_progress" else ""
        return HostAnswer(0, output, stderr)

    @staticmethod
    def _collection_command(command: str) -> tuple[str, str]:
        """The command line the collection built, inside what the transport wrapped around it,
        and the script it encodes."""
        for prefix in CHCP_PREFIXES:
            if command.startswith(prefix):
                command = command[len(prefix):]
                break
        script = decode_command(command)
        if script.startswith(POWERSHELL_PREFIX) and "\n" not in script:
            # The outer powershell.exe's whole script is the collection's command: it runs it as a
            # native command, which inherits the outer process's stdin.
            return script, decode_command(script)
        return command, script

    @staticmethod
    def _identify(script: str, scripts: Mapping[str, str], what: str) -> str:
        for name, text in scripts.items():
            if script == text:
                return name
        close = [n for n, t in scripts.items() if len(t) == len(script) or t.strip() == script.strip()]
        raise FakeHostError(
            "%s is not exactly one of the collection's constant scripts (%d characters, sha256 %s%s)"
            % (what, len(script), script_sha256(script),
               "; same length or same stripped text as %s" % close if close else "")
        )

    @staticmethod
    def _check_emulated(name: str, text: str) -> None:
        digest = script_sha256(text)
        if EMULATED_SCRIPTS.get(name) != digest:
            raise FakeHostError(
                "the script %r (sha256 %s) is not the text the fake host emulates (%s). Read the diff "
                "of its files in plugins/plugin_utils/host_scripts/powershell, make the emulation in "
                "tests/contract/fake_*.py behave like it, then rewrite the pins: "
                "python tests/contract/script_pins.py --write" % (name, digest, EMULATED_SCRIPTS.get(name) or "none")
            )

    def _bootstrap(self, lines: list[str], scripts: Mapping[str, str]) -> tuple[str | HostAnswer, list[str]]:
        """BOOTSTRAP: inflate the script on the first line (base64 of a raw DEFLATE stream of its
        UTF-8 text), then run it on the other lines.

        The input objects are joined and split into lines again: psrp in ansible-core 2.16
        gives all of stdin as one string. What a real host does with a bad first line:
        ``[Convert]::FromBase64String`` throws a FormatException on text that is not base64
        (learn.microsoft.com, "Convert.FromBase64String(String) Method", Exceptions), and
        ``DeflateStream.Read`` (through ``StreamReader.ReadToEnd``) an InvalidDataException, "The
        data is in an invalid format" (learn.microsoft.com, "DeflateStream.Read Method",
        Exceptions); PowerShell wraps an exception of a .NET method call in a
        MethodInvocationException, 'Exception calling "NAME" with "N" argument(s): "MESSAGE"'
        (PowerShell's ExtendedTypeSystem.resx, MethodInvocationException). The bootstrap's catch
        answers its JSON error with that message, every character outside printable ASCII, and
        backslash and double quote, as '?', and exits 1. The messages here follow those forms;
        the plugins never send such a line, and the tests only read the form of the answer.
        """
        self._check_emulated("BOOTSTRAP", scripts["BOOTSTRAP"])
        lines = re.split(r"\r?\n", "\n".join(lines))

        def failed(method: str, arguments: int, message: str) -> tuple[HostAnswer, list[str]]:
            text = 'Exception calling "%s" with "%d" argument(s): "%s"' % (method, arguments, message)
            answer = '{"error":{"kind":"exception","message":"bootstrap: %s"}}' % re.sub(r'[^ -~]|[\\"]', "?", text)
            return HostAnswer(1, [answer], ""), []

        try:
            compressed = base64.b64decode(lines[0], validate=True)
        except (ValueError, binascii.Error):
            return failed("FromBase64String", 1, "The input is not a valid Base-64 string as it contains a non-base 64 "
                          "character, more than two padding characters, or an illegal character among the padding characters. ")
        inflater = zlib.decompressobj(-15)
        try:
            data = inflater.decompress(compressed) + inflater.flush()
        except zlib.error:
            return failed("ReadToEnd", 0, "The data is in an invalid format.")
        if compressed and not inflater.eof:
            raise FakeHostError("BOOTSTRAP got a truncated DEFLATE stream: a real host would compile the part it "
                                "inflated, and the fake host does not model which part that is")
        text = data.decode("utf-8", "replace")
        if not text:
            return HostAnswer(0, [], ""), []  # no input: an empty script block, which prints nothing
        return self._identify(text, scripts, "the script on the first input line"), lines[1:]

    # scripts -----------------------------------------------------------------------------

    def _script_run(
        self, lines: list[str], record: dict[str, Any], scenario: Mapping[str, Any], docker: FakeDocker
    ) -> list[str]:
        """powershell_scripts.RUN."""

        def answer(value: Mapping[str, Any]) -> list[str]:
            return [powershell_json(value)]

        def failure(message: str) -> list[str]:
            return answer({"error": {"kind": "exception", "message": message}, "results": []})

        text = "\n".join(lines)
        if not text.strip():
            return failure("the request line on stdin is empty")
        try:
            request = json.loads(text)
        except ValueError as exc:
            return failure("Invalid JSON primitive: %s" % exc)
        record["request"] = request
        calls = request.get("calls") if isinstance(request, dict) else None
        calls = calls if isinstance(calls, list) else [calls]
        paths: dict[str, str] = {}
        for call in calls:
            exe = (call or {}).get("exe")
            if exe is None:  # $paths.ContainsKey($null)
                return failure('Exception calling "ContainsKey" with "1" argument(s): "Key cannot be null.\r\n'
                               'Parameter name: key"')
            exe = str(exe)
            if exe in paths:
                continue
            if exe not in KNOWN_EXECUTABLES:
                return failure("unknown executable '%s'" % exe)
            if scenario.get(exe, "present") == "missing":
                return answer({"error": {"exe": exe, "kind": "not_found", "message": "%s.exe was not found on this host" % exe},
                               "results": []})
            paths[exe] = KNOWN_EXECUTABLES[exe]

        def start(call: Mapping[str, Any], command_line: str) -> dict[str, Any]:
            full = dotnet_command_line(paths[str(call["exe"])], command_line)
            if utf16_length(full) >= CREATE_PROCESS_LIMIT:
                raise _ScriptException(
                    'Exception calling "Start" with "1" argument(s): "The filename or extension is too long"'
                )
            argv = split_windows_command_line(full)[1:]
            stdin = call.get("stdin")
            env = call.get("env")
            process = {"exe": call["exe"], "cmdline": command_line, "argv": argv,
                       "command_line_length": utf16_length(full)}
            if stdin is not None:
                process["stdin"] = stdin
            if env:
                process["env"] = env
            record["processes"].append(process)
            if call["exe"] != "docker":
                raise FakeHostError("the fake host only emulates docker.exe, not %s.exe" % call["exe"])
            if stdin is not None and input_preamble(record, scenario, known_scripts()["run"]):
                stdin = "\ufeff" + str(stdin)
                process["stdin_preamble"] = True
            result = docker.run(argv, None if stdin is None else str(stdin), env)
            process["rc"] = result.rc
            return {"rc": result.rc, "stdout": result.stdout, "stderr": result.stderr}

        try:
            results: list[dict[str, Any] | None] = [None] * len(calls)
            for index, call in enumerate(calls):
                command_line = "" if call.get("cmdline") is None else str(call["cmdline"])
                if call.get("append_lines_of") is not None:
                    try:
                        previous = results[int(call["append_lines_of"])] or {}
                    except IndexError:  # PowerShell gives $null for an index out of range
                        previous = {}
                    chunks = split_lines_into_arguments(previous.get("stdout") or "", 30000 - len(command_line))
                    merged = {"rc": 0, "stdout": "", "stderr": "", "skipped": not chunks}
                    for chunk in chunks:
                        part = start(call, command_line + " " + chunk)
                        if merged["rc"] == 0:
                            merged["rc"] = part["rc"]
                        merged["stdout"] += part["stdout"] + "\n"
                        merged["stderr"] += part["stderr"]
                    results[index] = merged
                    continue
                results[index] = start(call, command_line)
        except _ScriptException as exc:
            return failure(str(exc))
        return answer({"error": None, "results": results})

    def _docker_client_config(
        self, lines: list[str], record: dict[str, Any], scenario: Mapping[str, Any], docker: FakeDocker
    ) -> list[str]:
        """The docker client configuration part of login_state's answer (fake_login adds the
        comparisons), on the files and credential helpers of the scenario's ``docker_client`` key:

        ``user_profile`` (%USERPROFILE%), ``docker_config_env`` (%DOCKER_CONFIG% or null),
        ``files`` (full path -> text of a config.json), ``credential_helpers`` (name of a
        docker-credential-NAME.exe on PATH -> the rc/stdout/stderr of its ``list`` command).
        """
        del docker

        def answer(value: Mapping[str, Any]) -> list[str]:
            return [powershell_json(value)]

        client = scenario.get("docker_client") or {}
        text = "\n".join(lines)
        try:
            request = json.loads(text)
        except ValueError as exc:
            return answer({"error": {"kind": "exception", "message": "Invalid JSON primitive: %s" % exc}})
        record["request"] = request
        directory = str(request.get("config_dir") or "") or str(client.get("docker_config_env") or "")
        if not directory:
            directory = str(client.get("user_profile") or "C:\\Users\\ansible-svc").rstrip("\\") + "\\.docker"
        path = directory.rstrip("\\/") + "\\config.json"  # Join-Path
        files = client.get("files") or {}
        exists = path in files
        config: Any = None
        if exists and str(files[path]).strip():
            try:
                config = json.loads(files[path])
            except ValueError:
                return answer({"error": {"kind": "exception", "message": "%s is not valid JSON" % path}})
        auths: dict[str, Any] = {}
        creds_store = None
        cred_helpers: dict[str, str] = {}
        if config:
            for key, entry in (config.get("auths") or {}).items():
                user = None
                if entry and entry.get("auth"):
                    try:
                        user = base64.b64decode(entry["auth"]).decode("utf-8").split(":", 1)[0]
                    except (ValueError, binascii.Error):
                        user = None
                auths[key] = {"user": user, "auth": bool(entry and entry.get("auth")),
                              "identity_token": bool(entry and entry.get("identitytoken"))}
            creds_store = config.get("credsStore") or None
            cred_helpers = {str(k): str(v) for k, v in (config.get("credHelpers") or {}).items()}
        on_path = client.get("credential_helpers") or {}
        helpers: dict[str, Any] = {}
        names = sorted(set(cred_helpers.values()) | ({creds_store} if creds_store else set()), key=str.lower)
        for name in names:
            if name not in ("desktop", "osxkeychain", "pass", "secretservice", "wincred"):
                helpers[name] = {"found": False, "users": None, "error": "not a known credential helper"}
                continue
            if name not in on_path:
                helpers[name] = {"found": False, "users": None,
                                 "error": "docker-credential-%s.exe was not found on PATH" % name}
                continue
            listed = on_path[name]
            record["processes"].append({"exe": "docker-credential-" + name, "cmdline": "list", "argv": ["list"],
                                        "rc": int(listed.get("rc", 0))})
            if int(listed.get("rc", 0)) != 0:
                message = (str(listed.get("stderr") or "") + str(listed.get("stdout") or "")).strip()[:500]
                helpers[name] = {"found": True, "users": None, "error": message}
                continue
            users = json.loads(listed.get("stdout") or "{}") if str(listed.get("stdout") or "").strip() else {}
            helpers[name] = {"found": True, "users": {str(k): str(v) for k, v in users.items()}, "error": None}
        return answer({
            "config_dir": directory, "config_file": path, "exists": exists, "creds_store": creds_store,
            "cred_helpers": cred_helpers, "auths": auths, "helpers": helpers,
            "default_store": "wincred" if "wincred" in on_path else None, "error": None,
        })


def console_input_code_page(record: Mapping[str, Any], scenario: Mapping[str, Any]) -> int | None:
    """The console input code page of the powershell.exe that runs the script (None: no console).

    ansible-core's winrm plugin opens its WinRS shell with WINRS_CODEPAGE 65001 (fake_wsman
    refuses any other), and its ssh plugin before 2.18 runs ``chcp.com 65001`` first; a psrp
    runspace (wsmprovhost.exe) has no console. Otherwise Windows OpenSSH's console has the
    system's OEM code page, 65001 with the "Use Unicode UTF-8" locale (scenario
    ``console_code_page``)."""
    if record.get("transport") == "psrp":
        return None
    if record.get("transport") == "winrm":
        return 65001
    if any(str(record.get("command") or "").startswith(prefix) for prefix in CHCP_PREFIXES):
        return 65001
    return int(scenario.get("console_code_page", 437))


def input_preamble(record: Mapping[str, Any], scenario: Mapping[str, Any], script: str) -> bool:
    """Whether a process the script starts with Process.Start finds a UTF-8 BOM on its stdin.

    .NET Framework's Process.Start creates StandardInput as a StreamWriter with
    Console.InputEncoding and sets AutoFlush, which writes that encoding's preamble at once (for
    code page 65001, the UTF-8 BOM) before anything the script writes (WINDOWS-FACTS, "BOM in a
    redirected stdin": microsoft/MSBuildCache PR 96, dotnet/msbuild issue 15038, ansible/ansible
    PR 22934). A script that first sets a preamble-free [Console]::InputEncoding avoids it."""
    start = script.find("function Start-Call")
    body = script[start:script.find("[System.Diagnostics.Process]::Start(", start)]
    return console_input_code_page(record, scenario) == 65001 and "[Console]::InputEncoding = $Utf8" not in body


class _ScriptException(Exception):
    """An exception the script's own try/catch turns into an ``exception`` answer."""


def split_lines_into_arguments(text: str, limit: int) -> list[str]:
    """Split-LinesIntoArguments of the RUN script (PowerShell hashtables ignore key case)."""
    seen: set[str] = set()
    chunks: list[str] = []
    chunk = ""
    for token in re.split(r"\r?\n", text):
        if not token or token.lower() in seen:
            continue
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9:._/@-]*", token):
            raise _ScriptException("refusing to pass '%s' as an argument" % token)
        seen.add(token.lower())
        if chunk and len(chunk) + len(token) + 1 > limit:
            chunks.append(chunk)
            chunk = ""
        chunk = (chunk + " " + token).strip()
    if chunk:
        chunks.append(chunk)
    return chunks


# Emulations kept in files of their own add their scripts, docker commands and scenario keys to
# the classes above when registered here. Each wraps what the one before it left (FakeDocker.run,
# resolve_scenario), so the order of the register() calls matters.
import fake_base_images  # noqa: E402  (win_container_* modules; see that file)
import fake_jobs  # noqa: E402  (the detached job scripts and their runner; see that file)
import fake_lifecycle  # noqa: E402  (docker_commit, docker_image_remove/history/export/load; see that file)

fake_base_images.register()
fake_lifecycle.register()
fake_jobs.register()

import fake_login  # noqa: E402  (docker_login's login_state and login_verify; see that file)

fake_login.register()
import fake_container_engine  # noqa: E402  (win_container_engine and host_info's engine part; see that file)

fake_container_engine.register()
import fake_reboot  # noqa: E402  (ansible.windows.win_reboot's commands and the restart; see that file)

fake_reboot.register()


def _with_global_options(previous_run: Any) -> Any:
    """``FakeDocker.run`` around every emulation: docker.exe first reads the root command's flags
    (``split_global_options``) and picks its engine (``engine_address``); the command itself is
    then answered as before, by the engine the scenario's ``docker_host`` names (the default pipe
    unless set). Another address is an engine that is not there."""

    def run(self: FakeDocker, argv: Sequence[str], stdin: str | None, env: Mapping[str, str] | None) -> Process:
        try:
            global_flags, rest = split_global_options(argv)
        except FlagError as exc:
            return flag_error(argv, exc)
        if global_flags and not rest:
            raise FakeHostError("docker %s: global options without a command" % json.dumps(list(argv)))
        address = engine_address(global_flags, env)
        if address != self.scenario.get("docker_host", DEFAULT_DOCKER_HOST):
            return unreachable_engine(address)
        return previous_run(self, rest, stdin, env)

    return run


FakeDocker.run = _with_global_options(FakeDocker.run)  # type: ignore[method-assign]
