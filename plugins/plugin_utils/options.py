# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option values checked on the controller before anything runs.

* ``check_container``: container names and IDs by Docker's grammar.
* ``absolute_path``: absolute paths by the rules of the host's dialect.
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import limits


class OptionError(ValueError):
    """A bad option value, found before anything runs; the message names the option."""


# --- containers --------------------------------------------------------------------------------

# moby's RestrictedNamePattern (daemon/names): what "docker create --name" accepts. An ID is its
# hex digits, or a unique prefix of them.
_CONTAINER_NAME = re.compile(r"/?[a-zA-Z0-9][a-zA-Z0-9_.-]+")
_CONTAINER_ID = re.compile(r"[0-9a-f]{1,64}")


def check_container(value: Any, option: str = "container") -> str:
    """A container name (``web-1``, ``/web-1``) or ID (full or a prefix), as Docker allows them."""
    if not isinstance(value, str) or not value:
        raise OptionError("%s: a container name or ID is required" % option)
    text = str(value)
    if _CONTAINER_ID.fullmatch(text) or _CONTAINER_NAME.fullmatch(text):
        return text
    raise OptionError(
        "%s: %s is not a container name or ID (a name starts with a letter or digit, then has at least one more "
        "letter, digit, '_', '.' or '-', as Docker allows them; an ID is lowercase hex digits)"
        % (option, limits.preview(text)))


# --- paths -------------------------------------------------------------------------------------

_WINDOWS_ABSOLUTE = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\[^\\/]+[\\/][^\\/]+)")


def absolute_path(value: Any, option: str, windows: bool, example: str) -> str:
    """An absolute path for the host's dialect: ``C:\\...`` or ``\\\\server\\share\\...`` on Windows,
    ``/...`` on POSIX; no control characters, no longer than the host's file system allows."""
    if not isinstance(value, str) or not value.strip():
        raise OptionError("%s: %r is not a path" % (option, value))
    path = str(value)
    if any(ord(char) < 32 or ord(char) == 127 for char in path):
        raise OptionError("%s: %s contains a line break or another control character" % (option, limits.preview(path)))
    if windows:
        if not _WINDOWS_ABSOLUTE.match(path):
            raise OptionError(
                "%s: %s is not an absolute Windows path: give a drive path (e.g. %s) or a UNC path "
                "(\\\\server\\share\\...); a relative path would be resolved in the directory the remote shell "
                "happens to start in" % (option, limits.preview(path), example))
        if re.search(r'[<>"|?*]', path[2:]):
            raise OptionError("%s: %s contains a character that Windows paths cannot hold (<>\"|?*)"
                              % (option, limits.preview(path)))
    elif not path.startswith("/"):
        raise OptionError(
            "%s: %s is not an absolute path: give one that starts with '/' (e.g. %s); a relative path would be "
            "resolved in the directory the remote shell happens to start in" % (option, limits.preview(path), example))
    limits.check_path_length(windows, path, option)
    return path
