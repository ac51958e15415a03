# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one table of pins: the SHA-256 of every constant host script as a host receives it.

* ``POWERSHELL``: ``BOOTSTRAP`` (the command line's script), ``JOB_RUNNER_BOOTSTRAP`` and each of
  ``powershell_scripts.SCRIPTS`` as the bootstrap inflates and compiles it;
* ``POSIX``: ``DIRECT_RUN``, ``STUB`` and each of ``posix_scripts.SCRIPTS`` as ``python3`` runs it.

The unit tests (tests/unit/test_script_pins.py) fail while any script differs from its pin, and
the fake Windows host of the contract tests runs a script only when it is its pinned text (its
emulations were written against these texts). A script changed on purpose: read the diff of its
files, make the emulation in tests/contract/fake_*.py behave like it, then rewrite the pins with

    .venv/bin/python tests/contract/script_pins.py --write

(without ``--write`` it only prints what differs) and review that diff too.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from typing import Any

POWERSHELL = {
    "BOOTSTRAP": "e835e4ad214125beb624ca83af2dea2585dc2b712a6d73ca73fa71d2fee8b387",
    "JOB_RUNNER_BOOTSTRAP": "4f05a56a19f6375fc56b9e4e6d20f6ca6e5e656fb1ac8e986b89840dd573e56d",
    "container_image": "2efcc8835d0b1be9146f16038f6bdf8e28b4f82ecf0a54ed295a3b4f8f749b4a",
    "file_info": "6188e22f13245175995a2bf00f7b9f019b1b8ab0b5d07a0d0c7eaf97d6a71bd6",
    "host_info": "ac7306483640eac791ec0bd36347423ca346b20ec9c34c5d6720484deab82df8",
    "job_cleanup": "210409d8d29ee6e6a615c12ef2f4f6005d03639ee15369e2333ab4cfe4327b88",
    "job_runner": "39d9b98f3361d3da365b30e3539fb73d1aeb90df5cbe0b6f70d5c00296b98aeb",
    "job_start": "c09721830bd1b564da174d596b247fa5d6b687bda11732ae325f71005e49cafa",
    "job_status": "f18937830058dd21cae6d5b5ab6913a28cdf205d7958d8892399eb083733573e",
    "join_parts": "33dd3156a23445c2149d211f36a7590f566b9437fd08b313ec732e10fc40e5b4",
    "login_state": "cf7d52d0681a21d46738145ebfbf595888088e628ff325f1ef3937a4e21c8673",
    "login_verify": "8a635e7ffe8c1c07d3cd0c6398b7d9bd7683566ed7ab582a1a5f5a56ab12aecb",
    "package_provider": "c42ba8dcc505ddd4ad38d5a5d7a83ebcb7688c1442e033019d3e9af66dbb0ad0",
    "run": "d91e333228e03f9a668bbe2d4e0272d57c2db7fd151a14be20d256634aa1defb",
}

POSIX = {
    "DIRECT_RUN": "aa46096c25560ffebc211b4cf0f13ceeb86bb37531cf6cf7103c419d584eeb7a",
    "STUB": "20ffca9547760f9722b55b07255fcf78fef0745daa4a03473d4b8f4b64ff2c65",
    "container_image": "ce9ef18077f4a5764129d9949a52c6fc7eee9ce05e2ef5af65735d97f79b8d0f",
    "file_info": "15ea1753e19cf04451afa064a5a10f3863d4d07b0c6cf03840b2a50295fcb3ec",
    "host_info": "381df989f7d550686e8989301b4148c78dac655bacbc840a97705247ef05054e",
    "job_cleanup": "2f53c34bef516b2077c9cdef21a277ad60ee2244f9ea90b7bfab95ea81ebe512",
    "job_runner": "86a2f0adea04d1ebba3a3456e9535d09fff55f299d04ed9f26c827048f11dd78",
    "job_start": "2ec68cd1665f0a861e5b9b66a208935a1bbee0449e19966fedaf98e01569a7ea",
    "job_status": "b54673527068505c66d6f15b5905e3c617d3dc44d4396b688038a83d8039f509",
    "join_parts": "a3229dccaad89b9549a2714edf0e3bde1b561fa20a8dc2ef5cda4c168ced0332",
    "login_state": "b6650656c2b241d7d32763c9953df9ecd68de92cbe99f9cb3359240c891bc44b",
    "login_verify": "818d38db39150421220cf51b4c64cc7f3555af8a44984f0acf662d0a86c5d73f",
    "package_provider": "ce9ef18077f4a5764129d9949a52c6fc7eee9ce05e2ef5af65735d97f79b8d0f",
    "run": "a5951f6e875140fd1ef84ff6dcde82fd0144e4aa1cf320379f14404cf318bedb",
}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def current(powershell_scripts: Any, posix_scripts: Any) -> dict[str, dict[str, str]]:
    """The pins the collection's scripts have now (the modules imported from the tree under test)."""
    powershell = {"BOOTSTRAP": sha256(powershell_scripts.BOOTSTRAP),
                  "JOB_RUNNER_BOOTSTRAP": sha256(powershell_scripts.JOB_RUNNER_BOOTSTRAP)}
    powershell.update((name, sha256(text)) for name, text in sorted(powershell_scripts.SCRIPTS.items()))
    posix = {"DIRECT_RUN": sha256(posix_scripts.DIRECT_RUN), "STUB": sha256(posix_scripts.STUB)}
    posix.update((name, sha256(text)) for name, text in sorted(posix_scripts.SCRIPTS.items()))
    return {"POWERSHELL": powershell, "POSIX": posix}


def differences(powershell_scripts: Any, posix_scripts: Any) -> list[str]:
    now = current(powershell_scripts, posix_scripts)
    pinned = {"POWERSHELL": POWERSHELL, "POSIX": POSIX}
    lines = []
    for table, pins in now.items():
        for name in sorted(set(pins) | set(pinned[table])):
            if pins.get(name) != pinned[table].get(name):
                lines.append("%s[%r]: pinned %s, now %s" % (table, name, pinned[table].get(name), pins.get(name)))
    return lines


def _rewrite(path: Path, tables: dict[str, dict[str, str]]) -> None:
    text = path.read_text(encoding="utf-8")
    for table, pins in tables.items():
        body = "".join('    "%s": "%s",\n' % item for item in pins.items())
        text = re.sub(r"(?ms)^%s = \{\n.*?^\}\n" % table, lambda _match: "%s = {\n%s}\n" % (table, body), text, count=1)
    path.write_text(text, encoding="utf-8")


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve()
    repo = here.parents[2]
    links = repo / "tests" / "output" / "pins-collections"
    namespace = links / "ansible_collections" / "wincontainers"
    namespace.mkdir(parents=True, exist_ok=True)
    if not (namespace / "images").exists():
        (namespace / "images").symlink_to(repo, target_is_directory=True)
    sys.path.insert(0, str(links))
    from ansible_collections.wincontainers.images.plugins.plugin_utils import posix_scripts, powershell_scripts

    lines = differences(powershell_scripts, posix_scripts)
    print("\n".join(lines) or "every pin matches")
    if lines and "--write" in argv:
        _rewrite(here, current(powershell_scripts, posix_scripts))
        print("rewrote %s" % here)
    return 0 if not lines or "--write" in argv else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
