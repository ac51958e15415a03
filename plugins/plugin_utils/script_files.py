# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The constant host scripts, read from their files once, at import, and assembled.

Every script lives in a file of its own language under ``host_scripts/`` next to this module:
``powershell/*.ps1`` for Windows PowerShell 5.1, ``posix/*.py`` (and the sh one-liner
``posix/direct_run.sh``) for Linux hosts. A script sent to a host is made of parts (a prelude,
then the operation's own part), declared in one small table per dialect
(``powershell_scripts.PARTS``, ``posix_scripts.PARTS``); this module only reads and joins them.
The files are package data found through this module's ``__file__``, which is a real path under
ansible-core's collection loader and in an installed collection.

What a part file holds besides the text that is sent:

* ``.ps1``: its leading comment lines (licence, what the part does) are for readers; the
  assembled script drops every comment line (see ``minify_powershell``).
* ``.py``: everything above the line ``MARK`` is for linters and readers only (licence,
  docstring, the imports of what earlier parts define, so that ``ansible-test sanity`` sees
  real Python); the program text is what follows that line.
"""

from __future__ import annotations

import base64
import os
import re
import zlib
from collections.abc import Mapping, Sequence
from typing import NamedTuple

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "host_scripts")
MARK = "# wincontainers.images: program text below\n"
_SIBLING_IMPORT = re.compile(r"^from \.(\w+) import ", re.MULTILINE)


class ScriptFileError(Exception):
    """A script file is missing or not shaped as this module expects: a packaging error."""


class Embed(NamedTuple):
    """A whole script placed inside another as a constant: ``name`` (a variable of the
    embedding script) holds the text of the script ``script`` (POSIX's job_start carries its runner,
    Windows' job_start the command line that starts its runner)."""

    name: str
    script: str


def read(dialect: str, file_name: str) -> str:
    """The file's text with LF line ends, whatever the checkout made of them (a Windows checkout
    with core.autocrlf writes CRLF): the pins are of the LF text."""
    path = os.path.join(ROOT, dialect, file_name)
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise ScriptFileError("cannot read the host script %s: %s" % (path, exc)) from exc


def powershell_part(name: str) -> str:
    """The text of ``powershell/<name>.ps1`` without its leading comment lines."""
    lines = read("powershell", name + ".ps1").splitlines(True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines)


def minify_powershell(text: str) -> str:
    """The script as it is sent: every line stripped of its indentation, and comment lines and
    empty lines left out. Safe for our scripts only because none holds a multi-line string, a
    block comment or a here-string whose lines would change (the unit tests compare the token
    streams of both texts); an embedded script (``Embed``) is minified before it is embedded."""
    kept = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            kept.append(line)
    return "\n".join(kept) + "\n"


def posix_part(name: str, earlier: Sequence[str]) -> str:
    """The program text of ``posix/<name>.py``: what follows its ``MARK`` line. Its header may
    import names only from parts that come before it in the script (``earlier``)."""
    text = read("posix", name + ".py")
    header, mark, program = text.partition(MARK)
    if not mark:
        raise ScriptFileError("posix/%s.py has no line %r" % (name, MARK.strip()))
    for sibling in _SIBLING_IMPORT.findall(header):
        if sibling not in earlier:
            raise ScriptFileError("posix/%s.py imports from %s, which is not one of its earlier parts %s"
                                  % (name, sibling, list(earlier)))
    return program


def powershell_embed(embed: Embed, scripts: Mapping[str, str]) -> str:
    """A single-quoted here-string: nothing in it is expanded; it ends at a line that starts
    with ``'@``, which the embedded text therefore must not contain."""
    text = scripts[embed.script].rstrip("\n")
    if re.search(r"^'@", text, re.MULTILINE):
        raise ScriptFileError("%s cannot be embedded: a line of it starts with '@" % embed.script)
    return "$%s = @'\n%s\n'@\n" % (embed.name, text)


def posix_embed(embed: Embed, scripts: Mapping[str, str]) -> str:
    """A raw triple-quoted string: the text as it is, so that the compressed program refers back
    to the copy of the prelude it shares with the embedding program (``repr`` would escape every
    line end). It must therefore not contain three single quotes or end in a backslash."""
    text = scripts[embed.script]
    if "'''" in text or text.endswith("\\"):
        raise ScriptFileError("%s cannot be embedded as a raw string" % embed.script)
    return "%s = r'''%s'''\n" % (embed.name, text)


def deflate_base64(text: str) -> str:
    """The base64 of the raw DEFLATE stream (RFC 1951, no zlib header) of ``text`` in UTF-8:
    what .NET Framework's ``System.IO.Compression.DeflateStream`` inflates."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    return base64.b64encode(compressor.compress(text.encode("utf-8")) + compressor.flush()).decode("ascii")


def zlib_base64(text: str) -> str:
    """The base64 of the zlib stream (RFC 1950) of ``text`` in UTF-8: what Python's
    ``zlib.decompress`` inflates."""
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")
