# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option values checked on the controller before anything runs: types, container names, paths.

* ``check_types``: ansible-core's ``ArgumentSpecValidator`` converts what a ``type: str`` option
  (or a ``elements: str`` item) receives with ``check_type_str``, which turns anything into its
  Python text: the list ``["a", "b"]`` becomes ``"['a', 'b']"``, ``true`` becomes ``"True"``, the
  YAML float ``1.10`` becomes ``"1.1"``, ``null`` becomes ``""`` (2.19+) or ``"None"`` (2.16).
  A ``type: list`` option turns a float or a boolean into a one-item list of its text the same
  way. ``check_types`` refuses all of that before the validator runs; integers may convert (their
  text is what the user wrote).
* ``check_container``: container names and IDs by Docker's grammar.
* ``absolute_path``: absolute paths by the rules of the host's dialect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import limits


class OptionError(ValueError):
    """A bad option value, found before anything runs; the message names the option."""


# --- types -------------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "the boolean %s (YAML reads unquoted yes, no, true, false, on and off as booleans)" % value
    if isinstance(value, float):
        return "the number %r (YAML reads an unquoted number with a dot as a float: 1.10 becomes 1.1)" % value
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a dict"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "a list"
    return "a %s" % type(value).__name__


def _secret_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return "a number"
    return _kind(value) if value is None or isinstance(value, (Mapping, list, tuple, set, frozenset)) else "a %s" % (
        type(value).__name__)


def _plain(value: Any) -> bool:
    """What a string option may receive: text, or an integer (not a boolean)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _refuse(option: str, value: Any, secret: bool, what: str = "") -> OptionError:
    if secret:
        return OptionError("%s: expected a string%s, got %s (the value is not shown: the option is no_log)"
                           % (option, what, _secret_kind(value)))
    shown = repr(value)
    if len(shown) > 2 * limits.PREVIEW:
        shown = shown[:2 * limits.PREVIEW] + "..."
    return OptionError("%s: expected a string%s, got %s: %s; give a string (quote the value in YAML)"
                       % (option, what, _kind(value), shown))


def _given(args: Mapping[str, Any], name: str, option: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(key, args[key]) for key in [name] + list(option.get("aliases") or []) if key in args]


def check_types(spec: Mapping[str, Any], args: Mapping[str, Any], prefix: str = "") -> None:
    """Refuse values that ansible-core would silently turn into other text (see the module doc)."""
    if not isinstance(args, Mapping):
        return
    for name, option in spec.items():
        wanted = option.get("type") or "str"
        secret = bool(option.get("no_log"))
        for key, value in _given(args, name, option):
            label = prefix + key
            if wanted in ("str", "path"):
                if value is None:
                    if option.get("required") or option.get("default") is not None:
                        raise _refuse(label, value, secret)
                elif not _plain(value):
                    raise _refuse(label, value, secret)
            elif wanted == "list":
                elements = option.get("elements")
                if isinstance(value, (bool, float)) and elements in ("str", "path", None):
                    raise _refuse(label, value, secret, " or a list of strings")
                if not isinstance(value, list):
                    continue
                for index, item in enumerate(value):
                    if elements in ("str", "path") and not _plain(item):
                        raise _refuse("%s[%d]" % (label, index), item, secret)
                    if elements == "dict" and option.get("options"):
                        check_types(option["options"], item, "%s[%d]." % (label, index))
            elif wanted == "dict" and option.get("options") and isinstance(value, Mapping):
                check_types(option["options"], value, label + ".")


def secret_texts(spec: Mapping[str, Any], args: Mapping[str, Any]) -> set[str]:
    """Every text inside the values of ``no_log`` options (also in lists and dicts), to mask."""
    found: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, str):
            if value:
                found.add(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            found.add(str(value))
        elif isinstance(value, Mapping):
            for item in value.values():
                collect(item)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                collect(item)

    if not isinstance(args, Mapping):
        return found
    for name, option in spec.items():
        for _key, value in _given(args, name, option):
            if option.get("no_log"):
                collect(value)
                if isinstance(value, (list, tuple, Mapping)):
                    found.add(str(value))  # what ansible-core's conversion would have made of it
            elif option.get("options"):
                items = value if isinstance(value, list) else [value]
                for item in items:
                    found |= secret_texts(option["options"], item) if isinstance(item, Mapping) else set()
    return found


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
