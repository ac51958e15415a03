# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the transport contract tests (see README.md in this directory).

* ``collections_root``: the directory holding ``ansible_collections/wincontainers/images``
  that ansible-playbook runs against: ``WC_COLLECTIONS_PATH`` when the test command installed
  the built collection there (then it must hold the collection), otherwise a throwaway symlink
  to the work tree. The same tree is importable in the test process, where the fake host reads
  the collection's constant scripts.
* ``transport``: parametrises a test over ``winrm``, ``psrp``, ``ssh-powershell``, ``ssh-cmd``.
* ``windows_host``: a ``ContractHost`` (fake Windows Docker host, scenario ``ltsc2022``) over
  ``transport``; ``windows_host.use_scenario(...)`` switches the scenario.
* ``make_windows_host(transport, scenario, **overrides)``: more hosts, or other transports.
* ``new_windows_host(...)``: the same for module-scoped fixtures (the caller closes the host).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from contract_harness import TRANSPORTS, ContractHost, find_collections_root, link_collections_root  # noqa: E402

ENV_VAR = "WC_COLLECTIONS_PATH"


@pytest.fixture(scope="session")
def collections_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = find_collections_root(ENV_VAR)
    if root is None:
        if os.environ.get(ENV_VAR):
            raise pytest.UsageError("%s=%r holds no ansible_collections/wincontainers/images"
                                    % (ENV_VAR, os.environ[ENV_VAR]))
        root = link_collections_root(tmp_path_factory.mktemp("collections"))
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return root


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def new_windows_host(tmp_path_factory: pytest.TempPathFactory, collections_root: Path) -> Callable[..., ContractHost]:
    """Factory for hosts that outlive one test (module-scoped fixtures); call ``close()`` on them."""

    def make(transport: str, scenario: Any = "ltsc2022", **overrides: Any) -> ContractHost:
        workdir = tmp_path_factory.mktemp("winhost-%s-" % transport)
        return ContractHost(workdir, transport, collections_root, scenario, **overrides)

    return make


@pytest.fixture
def make_windows_host(new_windows_host: Callable[..., ContractHost]) -> Iterator[Callable[..., ContractHost]]:
    """Factory for hosts closed at the end of the test."""
    hosts: list[ContractHost] = []

    def make(transport: str, scenario: Any = "ltsc2022", **overrides: Any) -> ContractHost:
        host = new_windows_host(transport, scenario, **overrides)
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        host.close()


@pytest.fixture
def windows_host(make_windows_host: Callable[..., ContractHost], transport: str) -> ContractHost:
    return make_windows_host(transport)


def pytest_report_header(config: pytest.Config) -> str:
    del config
    return "contract transports: %s" % ", ".join(TRANSPORTS)
