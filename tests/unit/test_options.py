# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option values checked on the controller before anything runs: container names, absolute paths."""

from __future__ import annotations

import pytest

from ansible_collections.wincontainers.images.plugins.plugin_utils import options
from ansible_collections.wincontainers.images.plugins.plugin_utils.options import OptionError


# --- containers -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["iis-build", "/iis-build", "web_1.2", "a1", "IIS", "0", "abc", "c" * 64, "3f2a",
                                   "a" * 200])
def test_container_names_and_ids_pass(value):
    assert options.check_container(value) == value


@pytest.mark.parametrize("value", ["--help", "--format=json", "-s", "-", "x", "Z", "web 1", "web/1", "/", "//web",
                                   "_web", ".web", "-web", "web\n", "w\u00e9b", "", None, 5, "web:1"])
def test_container_values_docker_would_misread_are_refused(value):
    with pytest.raises(OptionError, match=r"^container: "):
        options.check_container(value)


# --- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("windows", "path"), [
    (True, "C:\\images\\a.tar"), (True, "d:/images/a.tar"), (True, "\\\\server\\share\\a.tar"),
    (False, "/srv/a.tar"), (False, "/"),
])
def test_absolute_paths_pass(windows, path):
    assert options.absolute_path(path, "path", windows, "e.g.") == path


@pytest.mark.parametrize(("windows", "path", "reason"), [
    (True, "images\\a.tar", "is not an absolute Windows path"),
    (True, "\\images\\a.tar", "is not an absolute Windows path"),  # the current drive's root
    (True, "C:images\\a.tar", "is not an absolute Windows path"),  # relative to C:'s current directory
    (True, "/srv/a.tar", "is not an absolute Windows path"),
    (True, "\\\\server", "is not an absolute Windows path"),
    (True, "C:\\a|b.tar", "cannot hold"),
    (False, "srv/a.tar", "is not an absolute path"),
    (False, "./a.tar", "is not an absolute path"),
    (False, "~/a.tar", "is not an absolute path"),
    (False, "C:\\a.tar", "is not an absolute path"),
    (False, "/a\nb", "control character"),
    (False, "/a\x7fb", "control character"),
    (False, "  ", "is not a path"),
])
def test_relative_and_foreign_paths_are_refused(windows, path, reason):
    with pytest.raises(OptionError, match=r"^config_path: .*" + reason):
        options.absolute_path(path, "config_path", windows, "e.g.")
