# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.win_container_host_info: recorded registry values,
Hyper-V and docker answers of Windows Server 2022 (every transport), 2019, 2025, Windows 11,
Windows Server 2016 TP5 with Docker 1.12, a stopped engine and a host without docker."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from contract_harness import TRANSPORTS, ContractHost, PlayRun
from fake_windows_host import CMD_EXE_LIMIT

MODULE = "wincontainers.images.win_container_host_info"


def scenario(host: str, **extra):
    base = {"description": "base images: %s" % host, "images": [], "base_images": {"host": host}}
    base.update(extra)
    return base


@pytest.fixture(scope="module", params=TRANSPORTS)
def ws2022(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[PlayRun]:
    host = new_windows_host(request.param, "ltsc2022", base_images={"host": "ws2022"})
    run = host.run([
        {"name": "facts", MODULE: {}},
        {"name": "facts of a mirror", MODULE: {"registry": "mirror.contoso.test/mcr"}, "check_mode": True},
    ])
    yield run
    host.close()


def test_one_exec_of_the_host_info_script(ws2022: PlayRun) -> None:
    for task in ws2022.tasks:
        assert task.status == "ok" and not task.changed, (task.name, task.msg)
        (exchange,) = task.exchanges
        assert exchange.script_name == "host_info"
        assert exchange.argvs == [["version", "--format", "{{json .}}"], ["info", "--format", "{{json .}}"]]
        if exchange.raw["command"] is not None:  # psrp sends the decoded script, no command line
            assert len(exchange.raw["collection_command"]) < CMD_EXE_LIMIT // 4
            assert len(exchange.raw["command"]) <= CMD_EXE_LIMIT


def test_windows_server_2022_facts(ws2022: PlayRun) -> None:
    result = ws2022.tasks[0].result
    assert result["is_windows"] is True
    assert (result["os_build"], result["ubr"], result["os_version"]) == (20348, 2849, "10.0.20348.2849")
    assert result["display_version"] == "21H2"
    assert result["product_name"] == "Windows Server 2022 Datacenter"
    assert result["os_name"] == "Windows Server 2022"
    assert result["installation_type"] == "Server Core"
    assert result["edition"] == "ServerDatacenter"
    assert result["hyperv_available"] is False
    assert result["hyperv"] == {"vmms": None, "hypervisor_present": True, "problem": None}
    assert result["docker_available"] is True and result["docker_error"] is None
    assert (result["client_version"], result["server_version"], result["api_version"]) == ("27.3.1", "27.3.1", "1.47")
    assert (result["os_type"], result["isolation"]) == ("windows", "process")
    assert result["engine_os"] == "Microsoft Windows Server Version 21H2 (OS Build 20348.2849)"
    assert result["storage_driver"] == "windowsfilter"
    assert result["docker_root_dir"] == "C:\\ProgramData\\docker"
    images = result["compatible_base_images"]
    assert images["servercore"]["repository"] == "mcr.microsoft.com/windows/servercore"
    assert images["servercore"]["process"] == ["ltsc2022"]
    assert images["servercore"]["hyperv"] == ["ltsc2022", "20H2", "2004", "1909", "1903", "ltsc2019", "1809", "ltsc2016"]
    assert images["nanoserver"]["process"] == ["ltsc2022"]
    assert images["server"]["process"] == ["ltsc2022"]
    assert images["windows"]["process"] == []


def test_registry_names_the_repositories(ws2022: PlayRun) -> None:
    images = ws2022.tasks[1].result["compatible_base_images"]
    assert images["nanoserver"]["repository"] == "mirror.contoso.test/mcr/windows/nanoserver"


@pytest.mark.parametrize(
    "host,transport,expected",
    [
        ("ws2019", "psrp", {"os_build": 17763, "ubr": 6414, "display_version": "1809", "os_name": "Windows Server 2019",
                            "hyperv_available": True, "isolation": "process",
                            "servercore_process": ["ltsc2019", "1809"], "nanoserver_process": ["1809"]}),
        ("win11", "ssh-powershell", {"os_build": 22621, "ubr": 4317, "display_version": "22H2",
                                     "os_name": "Windows 11 22H2", "hyperv_available": True, "isolation": "hyperv",
                                     "servercore_process": ["ltsc2022"], "nanoserver_process": ["ltsc2022"]}),
        ("ws2025", "ssh-cmd", {"os_build": 26100, "ubr": 2314, "display_version": "24H2",
                               "os_name": "Windows Server 2025", "hyperv_available": True, "isolation": "process",
                               "servercore_process": ["ltsc2025", "ltsc2022"],
                               "nanoserver_process": ["ltsc2025", "ltsc2022"]}),
    ],
)
def test_other_windows_builds(make_windows_host, host, transport, expected) -> None:
    run = make_windows_host(transport, scenario(host)).run([{"name": "facts", MODULE: {}}])
    result = run.task.result
    assert run.task.status == "ok" and run.task.execs == 1, run.output
    got = {key: result[key] for key in ("os_build", "ubr", "display_version", "os_name", "hyperv_available", "isolation")}
    got["servercore_process"] = result["compatible_base_images"]["servercore"]["process"]
    got["nanoserver_process"] = result["compatible_base_images"]["nanoserver"]["process"]
    assert got == expected
    if host == "win11":
        assert result["product_name"] == "Windows 10 Pro"  # what the registry really says
        assert result["installation_type"] == "Client"


def test_docker_1_12_has_no_info_format(make_windows_host) -> None:
    run = make_windows_host("winrm", scenario("ws2016_tp5")).run([{"name": "facts", MODULE: {}}])
    result = run.task.result
    assert run.task.status == "ok", run.output
    assert result["os_build"] == 14300 and result["os_name"] == "Windows Server 2016 Technical Preview 5"
    assert result["client_version"] == "1.12.0"
    assert result["docker_available"] is False
    assert "docker info failed" in result["docker_error"] and "unknown flag: --format" in result["docker_error"]
    assert result["compatible_base_images"]["servercore"]["process"] == []


def test_engine_stopped_is_reported_not_fatal(make_windows_host) -> None:
    run = make_windows_host("ssh-cmd", scenario("ws2022", engine="stopped")).run([{"name": "facts", MODULE: {}}])
    result = run.task.result
    assert run.task.status == "ok" and run.task.execs == 1, run.output
    assert result["os_build"] == 20348
    assert result["docker_available"] is False
    assert "the Docker engine is not reachable" in result["docker_error"]
    assert "Start-Service docker" in result["docker_error"]
    assert result["client_version"] == "27.3.1" and result["server_version"] is None


def test_docker_missing_is_reported_not_fatal(make_windows_host) -> None:
    run = make_windows_host("winrm", scenario("ws2022", docker="missing")).run([{"name": "facts", MODULE: {}}])
    result = run.task.result
    assert run.task.status == "ok", run.output
    assert result["os_build"] == 20348 and result["compatible_base_images"]["servercore"]["process"] == ["ltsc2022"]
    assert result["docker_available"] is False
    assert result["docker_error"].endswith("the docker CLI was not found on the host")
    assert run.task.exchanges[0].processes == []
