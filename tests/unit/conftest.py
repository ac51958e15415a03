# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.wincontainers.images`` importable, the way the plugins import it.

Where the collection comes from, in order:

1. ``WC_COLLECTIONS_PATH`` (``os.pathsep``-separated, like ANSIBLE_COLLECTIONS_PATH): the test
   command installs the built collection there, and the tests then run against that install.
   Each entry may be the directory holding ``ansible_collections/`` or that directory itself.
   If the variable is set but holds no wincontainers.images, the run stops: testing the work
   tree instead would hide a packaging mistake.
2. A work tree that already sits at ``.../ansible_collections/wincontainers/images``.
3. Otherwise a throwaway ``ansible_collections/wincontainers/images`` symlink to the work tree,
   in a pytest temporary directory.

The pytest header says which one is in use.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "wincontainers"
NAME = "images"
ENV_VAR = "WC_COLLECTIONS_PATH"

_source: dict[str, str] = {}


def _installed_root() -> Path | None:
    for entry in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if not entry:
            continue
        base = Path(entry).expanduser().resolve()
        for root in (base, base.parent) if base.name == "ansible_collections" else (base,):
            if (root / "ansible_collections" / NAMESPACE / NAME / "plugins").is_dir():
                return root
    return None


def _work_tree_root() -> Path | None:
    if REPO_ROOT.parts[-3:] == ("ansible_collections", NAMESPACE, NAME):
        return REPO_ROOT.parents[2]
    return None


def _symlink_root(config: pytest.Config) -> Path:
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None:
        root = factory.mktemp("collections")
    else:  # pytest without its tmp_path plugin
        root = Path(tempfile.mkdtemp(prefix="wc-collections-"))
        config.add_cleanup(lambda: shutil.rmtree(root, ignore_errors=True))
    namespace_dir = root / "ansible_collections" / NAMESPACE
    namespace_dir.mkdir(parents=True)
    (namespace_dir / NAME).symlink_to(REPO_ROOT, target_is_directory=True)
    return root


@pytest.hookimpl(trylast=True)  # after the tmp_path plugin has set up its factory
def pytest_configure(config: pytest.Config) -> None:
    if _source:
        return
    root = _installed_root()
    if root is not None:
        kind = "installed, from %s" % ENV_VAR
    elif os.environ.get(ENV_VAR):
        raise pytest.UsageError(
            "%s=%r holds no ansible_collections/%s/%s" % (ENV_VAR, os.environ[ENV_VAR], NAMESPACE, NAME))
    else:
        root = _work_tree_root()
        if root is not None:
            kind = "work tree"
        else:
            root = _symlink_root(config)
            kind = "work tree, through a symlink"
    sys.path.insert(0, str(root))
    _source["root"] = str(root / "ansible_collections" / NAMESPACE / NAME)
    _source["kind"] = kind


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _source:
        return None
    return "wincontainers.images under test: %s (%s)" % (_source["root"], _source["kind"])
