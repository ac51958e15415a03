# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option values checked on the controller before anything runs: container names."""

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
