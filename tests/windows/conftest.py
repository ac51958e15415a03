# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Windows suite: the collection's execs run on this machine (see docs/testing-on-windows.md).

Makes ``ansible_collections.wincontainers.images`` importable the way the plugins import it,
without ansible-core and without the right to create symbolic links (by default only
Administrators hold it, see "Create symbolic links" on learn.microsoft.com:
https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/
threat-protection/security-policy-settings/create-symbolic-links), in this order:

1. ``WC_COLLECTIONS_PATH`` (as in tests/unit): a directory holding
   ``ansible_collections/wincontainers/images``; set but without the collection, the run stops;
2. a work tree that already sits at ``.../ansible_collections/wincontainers/images``;
3. otherwise a throwaway ``ansible_collections/wincontainers/images`` in a pytest temporary
   directory: a symlink to the work tree, or where symlinks are refused, a copy of its
   ``plugins`` directory.

The pytest header says which one is in use.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

ENV_VAR = "WC_COLLECTIONS_PATH"
_source: dict[str, str] = {}


def _installed_root() -> Path | None:
    for entry in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if not entry:
            continue
        base = Path(entry).expanduser().resolve()
        for root in (base, base.parent) if base.name == "ansible_collections" else (base,):
            if (root / "ansible_collections" / "wincontainers" / "images" / "plugins").is_dir():
                return root
    return None


def _throwaway_root(config: pytest.Config) -> tuple[Path, str]:
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None:
        root = factory.mktemp("collections")
    else:
        root = Path(tempfile.mkdtemp(prefix="wc-collections-"))
        config.add_cleanup(lambda: shutil.rmtree(root, ignore_errors=True))
    namespace = root / "ansible_collections" / "wincontainers"
    namespace.mkdir(parents=True)
    try:
        (namespace / "images").symlink_to(REPO_ROOT, target_is_directory=True)
        return root, "work tree, through a symlink"
    except OSError:
        shutil.copytree(REPO_ROOT / "plugins", namespace / "images" / "plugins",
                        ignore=shutil.ignore_patterns("__pycache__"))
        return root, "a copy of the work tree's plugins"


@pytest.hookimpl(trylast=True)  # after the tmp_path plugin has set up its factory
def pytest_configure(config: pytest.Config) -> None:
    if _source:
        return
    root = _installed_root()
    if root is not None:
        kind = "installed, from %s" % ENV_VAR
    elif os.environ.get(ENV_VAR):
        raise pytest.UsageError("%s=%r holds no ansible_collections/wincontainers/images" % (ENV_VAR, os.environ[ENV_VAR]))
    elif REPO_ROOT.parts[-3:] == ("ansible_collections", "wincontainers", "images"):
        root, kind = REPO_ROOT.parents[2], "work tree"
    else:
        root, kind = _throwaway_root(config)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    _source["root"] = str(root / "ansible_collections" / "wincontainers" / "images")
    _source["kind"] = kind


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _source:
        return None
    return "wincontainers.images under test (tests/windows): %s (%s)" % (_source["root"], _source["kind"])
