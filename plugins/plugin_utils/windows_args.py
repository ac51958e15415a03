# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows command lines built by the MSVC argument rules.

A Windows process receives one command-line string and splits it itself; docker.exe (Go) and
every MSVC program split it by the rules CommandLineToArgvW documents. The collection builds
that string here, in Python, so the PowerShell side never quotes anything: it hands the
string to System.Diagnostics.Process unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

# CreateProcess refuses command lines longer than 32,767 characters; keep a margin for the
# executable path that .NET puts in front of the arguments.
MAX_ARGUMENTS_LENGTH = 30000

_NEEDS_QUOTES = frozenset(' \t\n\v"')


def quote_argument(argument: str) -> str:
    """Quote one argument so that CommandLineToArgvW gives it back unchanged."""
    if "\x00" in argument:
        raise ValueError("a Windows command-line argument cannot contain a NUL character: %r" % argument)
    if argument and not _NEEDS_QUOTES.intersection(argument):
        return argument
    quoted = ['"']
    backslashes = 0
    for char in argument:
        if char == "\\":
            backslashes += 1
            continue
        if char == '"':
            # Backslashes before a quote are escapes: double them, then escape the quote.
            quoted.append("\\" * (2 * backslashes + 1) + '"')
        else:
            quoted.append("\\" * backslashes + char)
        backslashes = 0
    # Backslashes before the closing quote would escape it: double them.
    quoted.append("\\" * (2 * backslashes) + '"')
    return "".join(quoted)


def join_arguments(arguments: Iterable[str]) -> str:
    """The argument part of a Windows command line (without the program name)."""
    return " ".join(quote_argument(argument) for argument in arguments)
