# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How long the arguments of a program call can be on the host, computed on the controller.

Every length check of the collection is here, so that an option too long for the host is refused
before any exec with a message naming it, instead of failing on the host with ``Argument list
too long`` or an error about something else:

* **Windows**: a process gets one command line, at most 32,767 UTF-16 code units with its
  terminating NUL (``CreateProcess``'s ``lpCommandLine``). The scripts start docker.exe with
  ``"<path of docker.exe>" <arguments>``; the arguments, quoted by the MSVC rules
  (``windows_args``), may take ``windows_args.MAX_ARGUMENTS_LENGTH`` (30,000) of them, which
  leaves 2,767 for the quoted path of the executable.
* **Linux**: ``execve`` refuses a single argument longer than ``MAX_ARG_STRLEN`` (32 pages,
  131,072 bytes with its NUL) and an argument vector plus environment larger than ``ARG_MAX``,
  which is a quarter of the stack limit and at least 128 KiB (execve(2)); with the usual 8 MiB
  stack that is 2 MiB. The collection keeps a call's arguments within 256 KiB: an eighth of
  that, room for any single argument twice, and the rest for the environment.
* **Docker's Dockerfile parser** (``docker commit --change``) reads each instruction as one
  line with Go's ``bufio.Scanner``, whose default maximum token is 64 KiB: the engine refuses a
  line of more than 65,535 bytes ("dockerfile line greater than max allowed size of 65535"; a
  first line that long gives "file with no instructions").
* **Paths**: Linux refuses a path of ``PATH_MAX`` (4,096) bytes or more; Windows paths are at
  most 32,767 characters (the extended-length limit).

``check_options`` checks a task's option values up front (each one alone, then together);
``check_arguments`` is the last line of defence that every call request passes
(``Dialect.call_request``); ``CommandTooLong.message_for`` names the option responsible.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import (
    MAX_ARGUMENTS_LENGTH,
    quote_argument,
)

WINDOWS_COMMAND_LINE_MAX = 32767  # CreateProcess: lpCommandLine, terminating NUL included
WINDOWS_ARGUMENTS_MAX = MAX_ARGUMENTS_LENGTH  # what the arguments may take of it (windows_args)
LINUX_ARGUMENT_MAX = 131072  # MAX_ARG_STRLEN: one argument, terminating NUL included
POSIX_ARGUMENTS_BUDGET = 262144  # the whole argument vector of one call (see above)
DOCKERFILE_LINE_MAX = 65535  # bytes of one instruction docker's Dockerfile parser reads
LINUX_PATH_MAX = 4096  # PATH_MAX, terminating NUL included
WINDOWS_PATH_MAX = 32767  # extended-length paths
# What docker's own words take beside the option values of one call: subcommand, flags, full
# IDs, the provenance label of a commit (about 200 characters), separators.
RESERVE = 1024
# Flags such as "--change" that precede a value, and the separator.
PER_VALUE_OVERHEAD = 16
# What the docker CLI's global options of the connection options (engine.settings: --host, the
# TLS flags and files) may take of every command line, quoted, separators included;
# docker_cli.chunked keeps this much free in each chunk.
GLOBAL_OPTIONS_MAX = 4096
PREVIEW = 40
# The docker commands and subcommands the collection runs: what an error may show of a call.
COMMAND_WORDS = frozenset((
    "commit", "container", "diff", "history", "image", "images", "info", "inspect", "load", "login", "logout", "ls",
    "manifest", "pull", "push", "rm", "rmi", "save", "search", "stop", "tag", "version",
))


class LimitError(ValueError):
    """A length the host cannot take, found on the controller. Not a ``HostError``: code that
    carries on after a failed host call must not swallow it (``DockerActionBase`` reports it)."""


class TooLong(LimitError):
    """An option value (or several together) longer than the host can take."""


class CommandTooLong(LimitError):
    """A program call whose arguments the host cannot take; raised before anything is sent."""

    def __init__(self, arguments: Sequence[str], windows: bool, size: int, limit: int, argument: str | None,
                 exe: str = "docker") -> None:
        self.arguments = tuple(arguments)
        self.exe = exe
        self.windows = windows
        self.size = size
        self.limit = limit
        self.argument = argument  # the single argument that is too long, if that is the problem
        super().__init__(self._describe())

    def _describe(self) -> str:
        # Only the command's own words: an argument may be a long value, or one not to show.
        words = []
        for argument in self.arguments[:2]:
            if argument not in COMMAND_WORDS:
                break
            words.append(argument)
        what = " ".join([self.exe] + words)
        if self.argument is not None:
            return "%s: one argument is %s long; %s" % (what, _size(self.windows, self.size), _argument_limit(self.windows))
        return "%s: the arguments would take %s; %s" % (what, _size(self.windows, self.size), _total_limit(self.windows))

    def message_for(self, host_name: str, values: Iterable[tuple[str, str, bool]]) -> str:
        """The message, naming the option whose value makes the call too long (when one does).

        ``values``: (option, text, secret) of the task's option values.
        """
        blamed = None
        best = 0
        for option, text, secret in values:
            if not text:
                continue
            share = sum(_contribution(self.windows, text, argument) for argument in self.arguments)
            if self.argument is not None and text not in self.argument:
                share = 0
            if share > best:
                blamed, best = (option, text, secret), share
        if blamed is None:
            return "%s: %s" % (host_name, self)
        option, text, secret = blamed
        return "%s: the value%s is %s long, too long for a command line on %s: %s" % (
            option, "" if secret else " " + preview(text), _size(self.windows, length(self.windows, text)),
            host_name, self)


def length(windows: bool, text: str) -> int:
    """UTF-16 code units on Windows (how Windows counts), UTF-8 bytes on Linux."""
    if windows:
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    return len(text.encode("utf-8", "surrogateescape"))


def argument_cost(windows: bool, text: str) -> int:
    """What one argument takes of a command line: quoted plus a space on Windows, its bytes
    plus the NUL on Linux."""
    if windows:
        return length(True, quote_argument(text)) + 1
    return length(False, text) + 1


def _contribution(windows: bool, text: str, argument: str) -> int:
    return length(windows, text) * argument.count(text) if text in argument else 0


def _size(windows: bool, size: int) -> str:
    return "{:,} {}".format(size, "characters" if windows else "bytes")


def _argument_limit(windows: bool) -> str:
    if windows:
        return ("a Windows command line holds at most {:,} characters (CreateProcess), of which docker's arguments "
                "may take {:,}".format(WINDOWS_COMMAND_LINE_MAX, WINDOWS_ARGUMENTS_MAX))
    return "Linux passes at most {:,} bytes in one program argument (MAX_ARG_STRLEN)".format(LINUX_ARGUMENT_MAX - 1)


def _total_limit(windows: bool) -> str:
    if windows:
        return _argument_limit(True)
    return ("the collection keeps the arguments of one call within {:,} bytes, well under Linux's ARG_MAX "
            "(execve(2))".format(POSIX_ARGUMENTS_BUDGET))


def preview(text: str) -> str:
    """A value as messages show it: quoted, and cut after a few characters when it is long."""
    if len(text) <= PREVIEW:
        return repr(text)
    shown = repr(text[:PREVIEW])
    return shown[:-1] + "..." + shown[-1]


# --- the last line of defence: every call request -----------------------------------------------


def check_arguments(windows: bool, arguments: Sequence[str], exe: str = "docker") -> None:
    """Raise ``CommandTooLong`` when the host cannot start ``exe`` with these arguments."""
    if windows:
        size = sum(argument_cost(True, argument) for argument in arguments) - (1 if arguments else 0)
        if size > WINDOWS_ARGUMENTS_MAX:
            longest = max(arguments, key=lambda a: argument_cost(True, a))
            alone = argument_cost(True, longest) - 1 > WINDOWS_ARGUMENTS_MAX
            raise CommandTooLong(arguments, True, length(True, longest) if alone else size, WINDOWS_ARGUMENTS_MAX,
                                 longest if alone else None, exe)
        return
    for argument in arguments:
        if argument_cost(False, argument) > LINUX_ARGUMENT_MAX:
            raise CommandTooLong(arguments, False, length(False, argument), LINUX_ARGUMENT_MAX - 1, argument, exe)
    size = sum(argument_cost(False, argument) for argument in arguments)
    if size > POSIX_ARGUMENTS_BUDGET:
        raise CommandTooLong(arguments, False, size, POSIX_ARGUMENTS_BUDGET, None, exe)


def check_call(windows: bool, host_name: str, arguments: Sequence[str], values: Iterable[tuple[str, str, bool]]) -> None:
    """``check_arguments`` for a call a plugin will make later, with the message naming the
    option responsible (``values``: option, text, no_log)."""
    try:
        check_arguments(windows, arguments)
    except CommandTooLong as exc:
        raise TooLong(exc.message_for(host_name, values)) from None


# --- the option values of a task, up front ------------------------------------------------------


def option_texts(spec: Mapping[str, Any], args: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str, bool]]:
    """(option, text, no_log) of every string in the validated arguments: string options,
    string elements of lists, and the same inside dict options with sub-options."""
    for name, option in spec.items():
        value = args.get(name)
        secret = bool(option.get("no_log"))
        label = prefix + name
        if isinstance(value, str):
            yield label, value, secret
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    yield label, item, secret
                elif isinstance(item, Mapping) and option.get("options"):
                    yield from option_texts(option["options"], item, label + ".")
        elif isinstance(value, Mapping) and option.get("options"):
            yield from option_texts(option["options"], value, label + ".")


def check_options(windows: bool, spec: Mapping[str, Any], args: Mapping[str, Any], chunked: Iterable[str] = ()) -> None:
    """Refuse option values that no docker call on the host could carry, before any exec.

    Each value must fit as one argument beside docker's own (``RESERVE``); then the values of
    all options except ``chunked`` ones (lists the collection splits over several calls) must
    fit in one call together. ``no_log`` options travel on stdin and are not counted.
    """
    chunked = set(chunked)
    values = [(option, text) for option, text, secret in option_texts(spec, args) if not secret]
    limit = WINDOWS_ARGUMENTS_MAX - RESERVE if windows else LINUX_ARGUMENT_MAX - 1
    for option, text in values:
        cost = argument_cost(windows, text) - 1
        if cost > limit:
            raise TooLong("%s: the value %s is %s long; %s, so docker could never receive it"
                          % (option, preview(text), _size(windows, length(windows, text)), _argument_limit(windows)))
    budget = (WINDOWS_ARGUMENTS_MAX if windows else POSIX_ARGUMENTS_BUDGET) - RESERVE
    shares: dict[str, int] = {}
    for option, text in values:
        if option.split(".", 1)[0] in chunked:
            continue
        shares[option] = shares.get(option, 0) + argument_cost(windows, text) + PER_VALUE_OVERHEAD
    total = sum(shares.values())
    if total > budget:
        option = max(shares, key=lambda name: shares[name])
        parts = ["%s takes %s" % (option, _size(windows, shares[option]))]
        parts += ["%s {:,}".format(share) % name for name, share in sorted(shares.items(), key=lambda item: -item[1])
                  if name != option]
        raise TooLong("%s: the values are too long together for one docker command line on the host: %s, docker's own "
                      "arguments about {:,} ({:,} in all); %s".format(RESERVE, total + RESERVE)
                      % (option, ", ".join(parts), _total_limit(windows)))


def check_dockerfile_line(text: str, option: str) -> None:
    """A ``docker commit --change`` instruction the engine's Dockerfile parser can read."""
    size = len(text.encode("utf-8", "surrogateescape"))
    if size > DOCKERFILE_LINE_MAX:
        raise TooLong(
            "{}: the instruction {} is {:,} bytes long; docker reads each instruction as one line of at most {:,} "
            "bytes (Go's bufio.Scanner) and would fail with \"file with no instructions\" or \"dockerfile line "
            "greater than max allowed size\"".format(option, preview(text), size, DOCKERFILE_LINE_MAX))


def check_path_length(windows: bool, path: str, option: str) -> None:
    """A path the host's file system API accepts."""
    if windows:
        size, limit, name = length(True, path), WINDOWS_PATH_MAX - 1, "a Windows path holds at most %s (extended-length)"
    else:
        size, limit, name = length(False, path), LINUX_PATH_MAX - 1, "a Linux path holds at most %s (PATH_MAX)"
    if size > limit:
        raise TooLong("%s: the path %s is %s long; %s" % (option, preview(path), _size(windows, size),
                                                          name % _size(windows, limit)))
