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
    "container_image": "0815210c443e694eab0fdae79cd1b7340442c89f401642f198a6141717513836",
    "engine_job": "9e53833d425dd3e8354241313f35e8e408dc0dab1f7f0bd0aba12515dc7746bc",
    "engine_state": "91fd4fd98482a54e49c7b9154cb00a71ca1f6f2149bb5d18c0b026e6efe8e7eb",
    "file_info": "464d32cb9438b5b278ec801b82bcba6df8cf392623492d539d0332d409e80d33",
    "host_info": "a223eac4bf5e2cebc4fff007bb10bd358ddc7eb8bc3e9baa3b91442a189fea17",
    "job_cleanup": "aa8232c658726b3ebd66b148e2b54c36c77cda5cac0134f6a1cdb80834363eda",
    "job_runner": "10d5d19d78885658b284f9d25fd09bad5f307bdd0f4f315a7a002f3e664a6c2d",
    "job_start": "83ea541470124f9a7e83d9eb99c2e036bb39b0d99f196924661a67047c2310e3",
    "job_status": "323129e2c01aa6105940464d168f5d39258bcd5a716826d7695c0e41cdcaf74a",
    "join_parts": "6eaeece93601fef0921ed540c1b6a7557b0af702d6f78c0c4a6fb4248a6ae08b",
    "login_state": "142e41d77e72f9625bd6aa020023168c32c5bc95071102bd156db782566555f1",
    "login_verify": "ac202d746655db5859d091bbcafefd2042e07492c459d0395ca1a533ce19ed9c",
    "package_provider": "d963249ba1774345434141494fad6031198c53e861b9cda97a3a81cf5e8dfb69",
    "run": "6233a595bcec9324acbe5ab566f510d8ec2135621350abfd5007b2e3d5a7f420",
    "stage_script": "d7b70bf9d3a92ebdacc607eca04dd3f3901ec9b063599ee95ba39e930dc050f9",
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
