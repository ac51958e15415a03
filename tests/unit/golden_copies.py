# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Golden copies of the constant scripts in ``tests/unit/golden``: a changed script fails its test
until its golden copy is rewritten (``WC_UPDATE_GOLDEN=1``) and the diff is reviewed."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE_ENV = "WC_UPDATE_GOLDEN"


class GoldenCopies:
    """The golden files of one test module: ``texts`` maps a file name to the text it pins, and
    every file in the golden directory ending in one of ``suffixes`` belongs to this module."""

    def __init__(self, texts: Mapping[str, str], suffixes: Sequence[str], test_file: str) -> None:
        self.texts = texts
        self.suffixes = tuple(suffixes)
        self.regenerate = "%s=1 .venv/bin/python -m pytest tests/unit/%s" % (UPDATE_ENV, test_file)

    @staticmethod
    def updating() -> bool:
        return os.environ.get(UPDATE_ENV) == "1"

    def check(self, file_name: str) -> None:
        path, text = GOLDEN_DIR / file_name, self.texts[file_name]
        if self.updating():
            GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            return
        if not path.exists():
            pytest.fail("golden file %s is missing; write it with: %s" % (path, self.regenerate))
        with open(path, encoding="utf-8", newline="") as handle:
            golden = handle.read()
        if golden != text:
            diff = "".join(difflib.unified_diff(
                golden.splitlines(True), text.splitlines(True), str(path), "%s (current)" % file_name))
            pytest.fail("%s differs from its golden copy; if the change is intended: %s\n%s"
                        % (file_name, self.regenerate, diff))

    def check_none_stale(self) -> None:
        def stale() -> list[Path]:
            return sorted(path for path in GOLDEN_DIR.iterdir()
                          if path.name.endswith(self.suffixes) and path.name not in self.texts)

        if self.updating():
            for path in stale():
                path.unlink()
        assert [path.name for path in stale()] == [], (
            "golden files of scripts that no longer exist (remove them or run %s)" % self.regenerate)
