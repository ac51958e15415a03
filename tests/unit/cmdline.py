# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A CommandLineToArgvW-style parser, written from the documented MSVC rules.

It is the reference the tests hold ``windows_args.join_arguments`` against, so it is written
from the rules themselves (Microsoft's "Parsing C++ command-line arguments"), not from the
encoder:

* Arguments are separated by spaces and tabs outside a quoted region; runs of them count once.
* ``"`` starts or ends a quoted region (it is not part of the argument); inside one, spaces and
  tabs are ordinary characters.
* ``2n`` backslashes followed by ``"`` give ``n`` backslashes, and the ``"`` toggles quoting.
* ``2n + 1`` backslashes followed by ``"`` give ``n`` backslashes and a literal ``"``.
* Backslashes not followed by ``"`` are literal.
* ``""`` inside a quoted region gives one literal ``"`` and the region stays open (the rule of
  msvcrt since 2008). Older runtimes, and Go's ``os`` package that docker.exe uses, close the
  region there: ``parse(..., doubled_quote_closes=True)`` follows that rule. An encoder must give
  the same arguments under both, since it cannot know which the program uses.
* Any other character, newlines included, is part of the current argument.

This parses the argument part of a command line (what .NET's ``ProcessStartInfo.Arguments``
holds), not the program name, which Windows splits by simpler rules.
"""

from __future__ import annotations

SEPARATORS = " \t"


def parse(command_line: str, doubled_quote_closes: bool = False) -> list[str]:
    """The argument vector that an MSVC program (or, with ``doubled_quote_closes``, a Go program
    such as docker.exe) gets from ``command_line``."""
    arguments: list[str] = []
    length = len(command_line)
    index = 0
    while True:
        while index < length and command_line[index] in SEPARATORS:
            index += 1
        if index >= length:
            return arguments
        current: list[str] = []
        quoted = False
        while index < length:
            char = command_line[index]
            if char == "\\":
                end = index
                while end < length and command_line[end] == "\\":
                    end += 1
                count = end - index
                if end < length and command_line[end] == '"':
                    current.append("\\" * (count // 2))
                    if count % 2:
                        current.append('"')  # escaped: a literal quote
                        index = end + 1
                    else:
                        index = end  # the quote is a delimiter: handled below
                else:
                    current.append("\\" * count)
                    index = end
                continue
            if char == '"':
                if quoted and index + 1 < length and command_line[index + 1] == '"':
                    current.append('"')  # "" inside quotes: a literal quote
                    index += 2
                    quoted = not doubled_quote_closes
                    continue
                quoted = not quoted
                index += 1
                continue
            if char in SEPARATORS and not quoted:
                break
            current.append(char)
            index += 1
        arguments.append("".join(current))


def parse_like_docker(command_line: str) -> list[str]:
    """The argument vector docker.exe (Go's pre-2008 rule for ``""``) gets."""
    return parse(command_line, doubled_quote_closes=True)


# The flags of the docker commands the collection runs that take a value (the same long names
# in every command that has them).
DOCKER_VALUE_FLAGS = frozenset((
    "--author", "--change", "--filter", "--format", "--input", "--limit", "--message", "--output", "--password",
    "--platform", "--signal", "--time", "--type", "--username",
))


def pflag_split(arguments: list[str], value_flags: frozenset[str] = DOCKER_VALUE_FLAGS) -> tuple[list[str], list[str]]:
    """(flags, positional arguments) of a docker command's arguments, as Go's spf13/pflag splits
    them (the docker CLI's cobra commands parse their flags with it): ``--`` ends the flags and
    everything after it is positional; flags and positional arguments may otherwise be mixed; a
    flag that takes a value and has no ``=`` takes the next argument, whatever it is. Flags come
    back as ``--name`` or ``--name=value``."""
    flags: list[str] = []
    positionals: list[str] = []
    rest = list(arguments)
    while rest:
        word = rest.pop(0)
        if word == "--":
            positionals.extend(rest)
            break
        if len(word) < 2 or not word.startswith("-"):
            positionals.append(word)
        elif "=" not in word and word in value_flags:
            if not rest:
                raise ValueError("flag needs an argument: %s" % word)
            flags.append("%s=%s" % (word, rest.pop(0)))
        else:
            flags.append(word)
    return flags, positionals
