# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The wire budget (issue 11): every exec sends at most 8 KiB, command line + stdin, over every
transport, for the typical tasks of the modules.

"On the wire" is what the collection hands to the connection plugin: the command line (for psrp,
which receives the decoded script, the command line that encodes it) and stdin (the script line
and the request). The transports' own framing (SOAP envelopes, ssh packets, ansible-core 2.16's
outer powershell.exe wrapper) is theirs. The fake host holds every exchange of every contract
test to the part the collection controls (fake_windows_host.WIRE_BUDGET, less REQUEST_ALLOWANCE
for the request); this test runs one play that reaches every script an ordinary task sends
(reads, a detached pull, an export and a load, host facts, a login) and holds each whole exec,
request included, to the budget. It prints the sizes (pytest -s, or the report's captured output).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from contract_harness import TRANSPORTS, ContractHost
from fake_windows_host import REQUEST_ALLOWANCE, WIRE_BUDGET

SERVERCORE = "mcr.microsoft.com/windows/servercore:ltsc2022"
LTSC2019 = "mcr.microsoft.com/windows/servercore:ltsc2019"
ARCHIVE = "C:\\images\\servercore-ltsc2022.tar"
PASSWORD = "Reg1stry-P@ss'\"w0rd-\u00e9"  # what recorded/scenarios/registry.yml expects (test_docker_login.py)
M = "wincontainers.images."
TASKS = [
    {"name": "info", M + "docker_image_info": {"name": [SERVERCORE]}},
    {"name": "tag", M + "docker_image_tag": {"name": SERVERCORE, "repository": ["servercore:current"]}},
    {"name": "pull", M + "docker_image_pull": {"name": [SERVERCORE, LTSC2019]}},
    {"name": "export", M + "docker_image_export": {"names": [SERVERCORE], "path": ARCHIVE}},
    {"name": "load", M + "docker_image_load": {"path": ARCHIVE}},
    {"name": "host facts", M + "win_container_host_info": {}},
    {"name": "login", M + "docker_login": {
        "registry_url": "registry2.contoso.test", "username": "deploy", "password": "{{ registry_password }}",
        "config_path": "C:\\ProgramData\\ansible\\docker"}},
]
# Scripts an ordinary task sends that this play reaches (container_image, package_provider,
# join_parts and login_verify are held to the constant part by their own tests' exchanges).
# stage_script is reached by the first job, which stages the runner.
REACHED = {"run", "job_start", "stage_script", "job_status", "job_cleanup", "file_info", "host_info", "login_state"}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_exec_of_the_typical_tasks_fits_the_wire_budget(
        transport: str, make_windows_host: Callable[..., ContractHost]) -> None:
    host = make_windows_host(transport, "registry", base_images={"pulls": {LTSC2019: "servercore_ltsc2019.json"}},
                             lifecycle={"directories": ["C:\\images"]})
    run = host.run(TASKS, extra_vars={"registry_password": PASSWORD})
    assert run.rc == 0, run.output
    rows = []
    for task in run.tasks:
        for exchange in task.exchanges:
            raw = exchange.raw
            rows.append((task.name, raw["script_name"], raw["constant_bytes"], raw["wire_bytes"] - raw["constant_bytes"],
                         raw["wire_bytes"]))
    print("\n%s: exec sizes in bytes (budget %d, constant part at most %d)" % (transport, WIRE_BUDGET, WIRE_BUDGET - REQUEST_ALLOWANCE))
    print("%-12s %-14s %9s %8s %6s" % ("task", "script", "constant", "request", "total"))
    for row in rows:
        print("%-12s %-14s %9d %8d %6d" % row)
    assert REACHED <= {row[1] for row in rows}
    over = [row for row in rows if row[4] > WIRE_BUDGET]
    assert over == [], over
