# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every constant host script is the text pinned in tests/contract/script_pins.py, the table the
fake Windows host of the contract tests runs scripts by. A script changed on purpose fails here
until its pin is rewritten (python tests/contract/script_pins.py --write) and the diff reviewed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ansible_collections.wincontainers.images.plugins.plugin_utils import posix_scripts, powershell_scripts

PINS_FILE = Path(__file__).resolve().parents[1] / "contract" / "script_pins.py"


def load_pins():
    spec = importlib.util.spec_from_file_location("script_pins", PINS_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_script_is_its_pinned_text():
    pins = load_pins()
    differences = pins.differences(powershell_scripts, posix_scripts)
    assert differences == [], (
        "scripts differ from their pins; if the change is intended, make the emulations in tests/contract "
        "follow it, then run: .venv/bin/python tests/contract/script_pins.py --write\n" + "\n".join(differences))


def test_the_pins_cover_every_script_and_nothing_else():
    pins = load_pins()
    assert set(pins.POWERSHELL) == set(powershell_scripts.SCRIPTS) | {"BOOTSTRAP", "JOB_RUNNER_BOOTSTRAP"}
    assert set(pins.POSIX) == set(posix_scripts.SCRIPTS) | {"DIRECT_RUN", "STUB"}
