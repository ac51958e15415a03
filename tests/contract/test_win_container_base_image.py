# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.win_container_base_image on recorded Windows hosts.

* Windows Server 2022, every transport: version auto, S6 tag, check mode, state latest (registry
  digest in check mode, detached pull job otherwise), an incompatible version refused before any
  pull, a tag the repository does not publish, Hyper-V isolation of an older image, absent.
* version auto per host build: 2019 (and its retired Nano Server 1809), Windows 11, 2025.
* An engine in Linux containers mode.
* Windows Server 2016 TP5 with Docker 1.12: the ContainerImage provider (S3) and a .wim (S7),
  each followed by the restart of the docker service that makes the engine list them (S5),
  and their removal (S8).
* Windows Server 2016 with a current Docker: the restart does not help (clear failure), no
  restart when restart_docker is false, no compatible provider image, the provider's service gone.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator

import pytest

from contract_harness import INVENTORY_HOSTNAME, TRANSPORTS, ContractHost, PlayRun, recorded_image
from fake_windows_host import CMD_EXE_LIMIT, load_recorded

MODULE = "wincontainers.images.win_container_base_image"
SERVERCORE = "mcr.microsoft.com/windows/servercore"
NANOSERVER = "mcr.microsoft.com/windows/nanoserver"


def base_image(name: str) -> dict:
    return load_recorded("base_images/images/" + name)[0]


CURRENT_ID = recorded_image("servercore_ltsc2022.json")["Id"]
NEXT = base_image("servercore_ltsc2022_next.json")
NEXT_DIGEST = NEXT["RepoDigests"][0].split("@", 1)[1]
LTSC2019 = base_image("servercore_ltsc2019.json")
LTSC2025 = base_image("servercore_ltsc2025.json")
NANO_TP5 = base_image("nanoserver_tp5.json")


def nanoserver_1809() -> dict:
    image = copy.deepcopy(LTSC2019)
    image["Id"] = "sha256:" + "18" * 32
    image["RepoTags"] = [NANOSERVER + ":1809"]
    image["RepoDigests"] = [NANOSERVER + "@sha256:" + "09" * 32]
    image["Size"] = 259301337
    return image


def servercore_tp5() -> dict:
    image = copy.deepcopy(NANO_TP5)
    image["Id"] = "sha256:" + "c0" * 32
    image["RepoTags"] = ["windowsservercore:10.0.14300.1000"]
    image["OsVersion"] = "10.0.14300.1000"
    return image


def task(title: str, check: bool | None = None, ignore: bool = False, **options) -> dict:
    entry = {"name": title, MODULE: options}
    if check is not None:
        entry["check_mode"] = check
    if ignore:
        entry["ignore_errors"] = True
    return entry


def scripts(task_run) -> list[str]:
    return [exchange.script_name for exchange in task_run.exchanges]


# --- Windows Server 2022, every transport ------------------------------------------------------------

WS2022 = {
    "host": "ws2022",
    "pulls": {SERVERCORE + ":ltsc2022": "servercore_ltsc2022_next.json",
              SERVERCORE + ":ltsc2019": "servercore_ltsc2019.json"},
    "registry": {SERVERCORE: {"tags": "mcr_servercore_tags.json", "digests": {"ltsc2022": NEXT_DIGEST}}},
}


# ssh-powershell is covered by the Windows 11 and Windows Server 2016 plays below.
@pytest.fixture(scope="module", params=[t for t in TRANSPORTS if t != "ssh-powershell"])
def ws2022(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[tuple[ContractHost, PlayRun]]:
    host = new_windows_host(request.param, "ltsc2022", base_images=WS2022)
    run = host.run([
        task("check auto", check=True, name="WindowsServerCore"),
        task("auto", name="WindowsServerCore"),
        task("auto again", name="windowsservercore"),
        task("check latest", check=True, name="WindowsServerCore", state="latest"),
        task("latest", name="WindowsServerCore", state="latest"),
        task("latest again", name="WindowsServerCore", state="latest"),
        task("check latest again", check=True, name="WindowsServerCore", state="latest"),
        task("incompatible", ignore=True, name="WindowsServerCore", version="ltsc2025"),
        task("not published", ignore=True, name="NanoServer", version="ltsc2016"),
        task("older with hyperv", name="WindowsServerCore", version="ltsc2019", isolation="hyperv", tag_latest=False),
        task("check absent", check=True, name="WindowsServerCore", version="ltsc2019", state="absent"),
        task("absent", name="WindowsServerCore", version="ltsc2019", state="absent"),
        task("absent again", name="WindowsServerCore", version="ltsc2019", state="absent"),
    ], diff=True)
    yield host, run
    host.close()


def test_every_exec_is_a_constant_script_with_a_short_command_line(ws2022) -> None:
    host, run = ws2022
    allowed = {"host_info", "run", "job_start", "stage_script", "job_status", "job_cleanup"}
    for exchange in run.exchanges:
        assert exchange.script_name in allowed
        if host.transport != "psrp":
            # ours is short; what an older transport wraps around it still fits cmd.exe
            assert len(exchange.raw["collection_command"]) < CMD_EXE_LIMIT // 4
            assert exchange.command_length <= CMD_EXE_LIMIT


def test_auto_tags_the_installed_image_in_check_mode_first(ws2022) -> None:
    run = ws2022[1]
    check = run.tasks[0]
    assert check.status == "ok" and check.changed, check.msg
    assert scripts(check) == ["host_info"]
    assert check.result["version"] == "ltsc2022" and check.result["reference"] == SERVERCORE + ":ltsc2022"
    assert check.result["actions"] == ["tagged %s:ltsc2022 as windowsservercore:latest" % SERVERCORE]
    assert check.result["diff"]["before"] == {SERVERCORE + ":ltsc2022": CURRENT_ID, "windowsservercore:latest": None}
    # The first exec asked for the build (registry) and every channel tag of Server Core at once.
    (listing,) = [argv for argv in check.exchanges[0].argvs if argv[:2] == ["image", "inspect"]]
    assert SERVERCORE + ":ltsc2016" in listing and SERVERCORE + ":ltsc2025" in listing
    assert "windowsservercore:latest" in listing


def test_auto_then_no_change(ws2022) -> None:
    host, run = ws2022
    first, again = run.tasks[1], run.tasks[2]
    assert first.changed and scripts(first) == ["host_info", "run"]
    assert first.exchanges[1].argvs == [["image", "tag", "--", CURRENT_ID, "windowsservercore:latest"]]
    assert first.result["host_build"] == 20348 and first.result["build"] == 20348
    assert first.result["os_version"] == "10.0.20348.2849"
    assert not again.changed and scripts(again) == ["host_info"]


def test_state_latest_in_check_mode_reads_the_registry_digest(ws2022) -> None:
    run = ws2022[1]
    check = run.tasks[3]
    assert check.changed and scripts(check) == ["host_info", "host_info"]
    assert check.exchanges[1].request["registry"] == {
        "bases": ["https://mcr.microsoft.com"], "tags_path": None,
        "manifests": [{"tag": "ltsc2022", "path": "/v2/windows/servercore/manifests/ltsc2022"}]}
    assert check.exchanges[1].processes == []
    after = run.tasks[6]
    assert not after.changed and scripts(after) == ["host_info", "host_info"]


def test_state_latest_pulls_in_a_detached_job_and_moves_the_local_name(ws2022) -> None:
    host, run = ws2022
    latest = run.tasks[4]
    assert latest.changed, latest.msg
    # The host's first job stages the runner; the next one (again) finds it.
    assert scripts(latest) == ["host_info", "job_start", "stage_script", "job_start", "job_status", "job_cleanup", "run"]
    assert latest.job_argvs == [["image", "pull", "--", SERVERCORE + ":ltsc2022"],
                                ["image", "inspect", "--", SERVERCORE + ":ltsc2022"]]
    assert latest.result["image_id"] == NEXT["Id"] and latest.result["os_version"] == "10.0.20348.2966"
    assert latest.result["actions"] == ["pulled %s:ltsc2022" % SERVERCORE,
                                        "tagged %s:ltsc2022 as windowsservercore:latest" % SERVERCORE]
    assert latest.result["job"]["reattached"] is False
    assert latest.result["diff"]["before"]["windowsservercore:latest"] == CURRENT_ID
    assert latest.result["diff"]["after"]["windowsservercore:latest"] == NEXT["Id"]
    assert host.image("windowsservercore:latest")["Id"] == NEXT["Id"]

    again = run.tasks[5]
    assert not again.changed, again.msg
    assert scripts(again) == ["host_info", "job_start", "job_status", "job_cleanup"]


def test_incompatible_version_fails_before_pulling(ws2022) -> None:
    run = ws2022[1]
    failed = run.tasks[7]
    assert failed.failed and scripts(failed) == ["host_info"]
    assert failed.msg == (
        "version: %s:ltsc2025 is a build 26100 (Windows Server 2025) image, and %s runs build 20348 (Windows Server "
        "2022): process isolation never runs images newer than the host. Nothing was pulled. What works on this "
        "host: process isolation: ltsc2022; Hyper-V isolation: ltsc2022, 20H2, 2004, 1909, 1903, ltsc2019, 1809, "
        "ltsc2016" % (SERVERCORE, INVENTORY_HOSTNAME))


def test_a_tag_the_repository_does_not_publish_is_refused(ws2022) -> None:
    run = ws2022[1]
    failed = run.tasks[8]
    assert failed.failed and scripts(failed) == ["host_info"]
    assert failed.msg.startswith("version: %s publishes no ltsc2016 image (its channel tags: ltsc2025, ltsc2022, "
                                 "20H2" % NANOSERVER)


def test_an_older_image_for_hyperv_isolation(ws2022) -> None:
    host, run = ws2022
    older = run.tasks[9]
    assert older.changed and older.status == "ok", older.msg
    assert older.result["image_id"] == LTSC2019["Id"] and older.result["build"] == 17763
    assert older.result["latest_name"] is None and older.result["actions"] == ["pulled %s:ltsc2019" % SERVERCORE]
    assert any("has no Hyper-V" in warning for warning in older.result["warnings"])
    assert host.image("windowsservercore:latest")["Id"] == NEXT["Id"]


def test_absent(ws2022) -> None:
    host, run = ws2022
    check, absent, again = run.tasks[10:13]
    assert check.changed and scripts(check) == ["host_info"]
    assert check.result["removed"] == [SERVERCORE + ":ltsc2019"]
    assert absent.changed and scripts(absent) == ["host_info", "run"]
    assert absent.exchanges[1].argvs == [["image", "rm", "--", SERVERCORE + ":ltsc2019"]]
    assert absent.result["diff"] == {"before": {SERVERCORE + ":ltsc2019": LTSC2019["Id"]},
                                     "after": {SERVERCORE + ":ltsc2019": None}}
    assert not again.changed and scripts(again) == ["host_info"]
    assert host.image(SERVERCORE + ":ltsc2019") is None
    assert host.image(SERVERCORE + ":ltsc2022")["Id"] == NEXT["Id"]


# --- version auto per host build ---------------------------------------------------------------------


def other_host(host: str, pulls: dict, **extra) -> dict:
    scenario = {"description": "base images on %s" % host, "images": [], "base_images": {"host": host, "pulls": pulls}}
    scenario.update(extra)
    return scenario


def test_auto_on_windows_server_2019(make_windows_host) -> None:
    host = make_windows_host("psrp", other_host("ws2019", {SERVERCORE + ":ltsc2019": "servercore_ltsc2019.json",
                                                           NANOSERVER + ":1809": nanoserver_1809()}))
    run = host.run([task("servercore", name="WindowsServerCore"), task("nanoserver", name="NanoServer")])
    servercore, nanoserver = run.tasks
    assert servercore.changed and servercore.result["version"] == "ltsc2019", servercore.msg
    assert servercore.job_argvs[0] == ["image", "pull", "--", SERVERCORE + ":ltsc2019"]
    assert host.image("windowsservercore:latest")["Id"] == LTSC2019["Id"]
    assert nanoserver.changed and nanoserver.result["version"] == "1809", nanoserver.msg
    assert any("support has ended" in warning for warning in nanoserver.result["warnings"])
    assert host.image("nanoserver:latest")["Id"] == "sha256:" + "18" * 32


def test_auto_on_windows_11(make_windows_host) -> None:
    host = make_windows_host("ssh-powershell", other_host("win11", {SERVERCORE + ":ltsc2022": "servercore_ltsc2022.json",
                                                                    SERVERCORE + ":ltsc2019": "servercore_ltsc2019.json"}))
    run = host.run([
        task("auto", name="WindowsServerCore"),
        task("2019 with process isolation", ignore=True, name="WindowsServerCore", version="ltsc2019", tag_latest=False),
        task("2019 with hyperv", name="WindowsServerCore", version="ltsc2019", isolation="hyperv", tag_latest=False),
    ])
    auto, refused, hyperv = run.tasks
    assert auto.changed and auto.result["version"] == "ltsc2022" and auto.result["host_build"] == 22621, auto.msg
    assert refused.failed and scripts(refused) == ["host_info"]
    assert "runs build 22621 (Windows 11 22H2): process isolation on this host runs images of builds 20348 to 22621 " \
           "only" in refused.msg
    assert hyperv.changed and hyperv.result["image_id"] == LTSC2019["Id"], hyperv.msg
    assert "warnings" not in hyperv.result  # Windows 11 has Hyper-V


def test_auto_on_windows_server_2025_and_its_2022_images(make_windows_host) -> None:
    host = make_windows_host("ssh-cmd", other_host("ws2025", {SERVERCORE + ":ltsc2025": "servercore_ltsc2025.json",
                                                              SERVERCORE + ":ltsc2022": "servercore_ltsc2022.json"}))
    run = host.run([
        task("auto", name="WindowsServerCore"),
        task("2022 with process isolation", name="WindowsServerCore", version="ltsc2022", tag_latest=False),
    ])
    auto, ltsc2022 = run.tasks
    assert auto.changed and auto.result["version"] == "ltsc2025", auto.msg
    assert host.image("windowsservercore:latest")["Id"] == LTSC2025["Id"]
    assert ltsc2022.changed and ltsc2022.status == "ok", ltsc2022.msg
    assert ltsc2022.result["image_id"] == CURRENT_ID


def test_engine_in_linux_containers_mode(make_windows_host) -> None:
    info = load_recorded("base_images/hosts/win11.json")["docker_info"]
    info["OSType"] = "linux"
    answer = {"argv": ["info", "--format", "{{json .}}"], "rc": 0, "stdout": json.dumps(info) + "\n"}
    scenario = other_host("win11", {}, answers=[answer])
    run = make_windows_host("winrm", scenario).run([task("auto", name="NanoServer")])
    assert run.task.failed and scripts(run.task) == ["host_info"]
    assert "the Docker engine runs linux containers (OSType linux)" in run.task.msg


# --- the legacy provider and WIM files with Docker 1.12 (the S5 restart helps) -------------------------

TP5 = {
    "host": "ws2016_tp5",
    "engine_imports_os_images": True,
    "providers": "provider/get_packageprovider_listavailable.json",
    "os_image_files": {"CN=Microsoft_NanoServer_10.0.14300.1010": "nanoserver_tp5.json",
                       "CN=Microsoft_WindowsServerCore_10.0.14300.1000": servercore_tp5()},
    "wims": {"C:\\container-image\\WindowsServerCore.wim": {"name": "WindowsServerCore", "version": "10.0.14300.1000"}},
}


@pytest.fixture(scope="module")
def tp5(new_windows_host: Callable[..., ContractHost]) -> Iterator[tuple[ContractHost, PlayRun]]:
    scenario = {"description": "TP5 with the ContainerImage provider", "images": [], "base_images": dict(TP5)}
    scenario["base_images"]["providers"] = [
        dict(p) for p in load_recorded("base_images/provider/get_packageprovider_listavailable.json")
    ] + [load_recorded("base_images/provider/get_packageprovider_containerimage.json")]
    host = new_windows_host("winrm", scenario)
    wim = {"name": "WindowsServerCore", "version": "10.0.14300.1000", "source": "archive",
           "path": "C:\\container-image\\WindowsServerCore.wim"}
    run = host.run([
        task("check provider", check=True, name="NanoServer", source="provider"),
        task("provider", name="NanoServer", source="provider"),
        task("provider again", name="NanoServer", source="provider"),
        task("incompatible provider version", ignore=True, name="NanoServer", source="provider", version="10.0.14393.0"),
        task("wim", **wim),
        task("wim again", **wim),
        task("check absent", check=True, name="NanoServer", source="provider", state="absent"),
        task("absent", name="NanoServer", source="provider", state="absent"),
        task("absent again", name="NanoServer", source="provider", state="absent"),
    ], diff=True)
    yield host, run
    host.close()


def test_provider_install_restarts_docker_once_and_tags(tp5) -> None:
    host, run = tp5
    check, install, again = run.tasks[:3]
    assert check.changed and scripts(check) == ["host_info"]
    assert check.exchanges[0].request["find"] == {"name": "NanoServer", "all_versions": True}
    assert check.exchanges[0].request["os_images"] is True
    assert install.changed and install.status == "ok", install.msg
    assert scripts(install) == ["host_info", "container_image"]
    request = install.exchanges[1].request
    assert (request["action"], request["name"], request["version"], request["restart"]) == (
        "install", "NanoServer", "10.0.14300.1010", True)
    assert install.exchanges[1].argvs == [
        ["inspect", "--type", "image", "--", "nanoserver:10.0.14300.1010"],
        ["tag", "--", "nanoserver:10.0.14300.1010", "nanoserver:latest"],
        ["inspect", "--type", "image", "--", "nanoserver:10.0.14300.1010"],
        ["tag", "--", "nanoserver:10.0.14300.1010", "nanoserver:latest"]]
    result = install.result
    assert result["restarted_docker"] is True
    assert result["os_image"] == "CN=Microsoft_NanoServer_10.0.14300.1010"
    assert result["image_id"] == NANO_TP5["Id"] and result["build"] == 14300
    assert result["actions"] == [
        "restarted the docker service so that it lists nanoserver:10.0.14300.1010 (S5)",
        "installed CN=Microsoft_NanoServer_10.0.14300.1010 from the ContainerImage provider",
        "tagged nanoserver:10.0.14300.1010 as nanoserver:latest"]
    assert install.result["diff"]["after"]["nanoserver:latest"] == NANO_TP5["Id"]
    assert not again.changed and scripts(again) == ["host_info"], again.msg
    assert host.state["restarts"] == 2  # the provider install and the WIM install


def test_incompatible_provider_version_fails_before_installing(tp5) -> None:
    run = tp5[1]
    failed = run.tasks[3]
    assert failed.failed and scripts(failed) == ["host_info"]
    assert "NanoServer 10.0.14393.0 is a build 14393 (Windows Server 2016) image" in failed.msg
    assert "runs build 14300 (Windows Server 2016 Technical Preview 5)" in failed.msg
    assert failed.msg.endswith("Nothing was installed")


def test_wim_install(tp5) -> None:
    host, run = tp5
    wim, again = run.tasks[4:6]
    assert wim.changed and wim.status == "ok", wim.msg
    request = wim.exchanges[1].request
    assert (request["action"], request["path"]) == ("install_wim", "C:\\container-image\\WindowsServerCore.wim")
    assert wim.result["restarted_docker"] is True
    assert wim.result["os_image"] == "CN=Microsoft_WindowsServerCore_10.0.14300.1000"
    assert host.image("windowsservercore:latest")["Id"] == "sha256:" + "c0" * 32
    assert not again.changed and scripts(again) == ["host_info"]
    assert "CN=Microsoft_WindowsServerCore_10.0.14300.1000" in host.state["os_images"]


def test_provider_absent_uninstalls_and_untags(tp5) -> None:
    host, run = tp5
    check, absent, again = run.tasks[6:9]
    assert check.changed and scripts(check) == ["host_info"]
    assert check.result["removed"] == ["CN=Microsoft_NanoServer_10.0.14300.1010", "nanoserver:latest",
                                       "nanoserver:10.0.14300.1010"]
    assert absent.changed and scripts(absent) == ["host_info", "container_image"], absent.msg
    request = absent.exchanges[1].request
    assert (request["action"], request["full_names"]) == ("uninstall", ["CN=Microsoft_NanoServer_10.0.14300.1010"])
    assert absent.exchanges[1].argvs == [["rmi", "--", "nanoserver:latest", "nanoserver:10.0.14300.1010"]]
    assert not again.changed and scripts(again) == ["host_info"]
    assert "CN=Microsoft_NanoServer_10.0.14300.1010" not in host.state["os_images"]
    assert host.image("nanoserver:latest") is None


# --- Windows Server 2016 with a current Docker (the S5 restart cannot help) ----------------------------


def ws2016_scenario(**extra) -> dict:
    providers = [dict(p) for p in load_recorded("base_images/provider/get_packageprovider_listavailable.json")]
    providers.append(load_recorded("base_images/provider/get_packageprovider_containerimage.json"))
    offered = load_recorded("base_images/provider/find_containerimage.json")
    rtm = dict(offered[0], Version="10.0.14393.0", FastPackageReference="NanoServer|#|10.0.14393.0|#|ContainerImageGallery")
    config = {"host": "ws2016", "providers": providers, "provider_images": offered + [rtm]}
    config.update(extra)
    return {"description": "WS2016 with Docker 20.10", "images": [], "base_images": config}


def test_restart_does_not_make_current_docker_list_the_image(make_windows_host) -> None:
    host = make_windows_host("ssh-powershell", ws2016_scenario())
    run = host.run([
        task("provider", ignore=True, name="NanoServer", source="provider"),
        task("no restart", ignore=True, name="NanoServer", source="provider", restart_docker=False),
        task("no compatible image", ignore=True, name="WindowsServerCore", source="provider"),
    ])
    provider, no_restart, none = run.tasks
    assert provider.failed and scripts(provider) == ["host_info", "container_image"]
    assert provider.result["restarted_docker"] is True
    assert provider.msg == (
        "%s: installed CN=Microsoft_NanoServer_10.0.14393.0, but the Docker engine does not list it as "
        "nanoserver:10.0.14393.0 even after the docker service was restarted. Docker 1.13 and later no longer import OS "
        "images installed with Install-ContainerOSImage; use source: registry, or a docker save archive with source: "
        "archive" % INVENTORY_HOSTNAME)
    # Installed but not listed: the next run does not install again; without restart_docker it
    # does not restart either, and fails the same way.
    assert no_restart.failed and no_restart.exchanges[1].request["action"] == "check"
    assert no_restart.exchanges[1].request["restart"] is False
    assert "CN=Microsoft_NanoServer_10.0.14393.0 is installed, but" in no_restart.msg
    assert "and restart_docker is false" in no_restart.msg
    assert host.state["restarts"] == 1
    assert none.failed and scripts(none) == ["host_info"]
    assert ("the ContainerImage provider offers no WindowsServerCore image that runs on %s, build 14393 (Windows Server "
            "2016 / Windows 10 1607), with process isolation (it offers: 10.0.14300.1000)" % INVENTORY_HOSTNAME) in none.msg


def test_provider_service_gone(make_windows_host) -> None:
    error = ("Unable to connect to the remote server")
    host = make_windows_host("psrp", ws2016_scenario(provider_error=error))
    run = host.run([
        task("auto", ignore=True, name="NanoServer", source="provider"),
        task("explicit", ignore=True, name="NanoServer", source="provider", version="10.0.14393.0"),
    ])
    auto, explicit = run.tasks
    assert auto.failed and scripts(auto) == ["host_info"]
    assert "the ContainerImage provider could not list the NanoServer images: Unable to connect to the remote " \
           "server (the provider and its download service are retired" in auto.msg
    assert explicit.failed and scripts(explicit) == ["host_info", "container_image"]
    assert explicit.msg == "%s: Unable to connect to the remote server" % INVENTORY_HOSTNAME
    assert "os_images" not in host.state or host.state["os_images"] == []


# What Start-BitsTransfer answers a network logon (ERROR_NOT_LOGGED_ON), as public reports quote it
# (e.g. potatoqualitee/kbupdate#1, dataplat/dbatools#9065); learn.microsoft.com, "Using Windows
# PowerShell to Create BITS Transfer Jobs": BITS needs the user to be logged on interactively.
BITS_NETWORK_LOGON = ("The operation being requested was not performed because the user has not logged on to the network. "
                      "The specified service does not exist. (Exception from HRESULT: 0x800704DD)")


@pytest.mark.parametrize("transport", ["winrm", "psrp", "ssh-powershell"])
def test_provider_install_over_a_network_logon_points_to_the_alternatives(make_windows_host, transport) -> None:
    host = make_windows_host(transport, ws2016_scenario(provider_error=BITS_NETWORK_LOGON))
    run = host.run([
        task("auto", ignore=True, name="NanoServer", source="provider"),
        task("explicit", ignore=True, name="NanoServer", source="provider", version="10.0.14393.0"),
    ])
    for failed in run.tasks:
        assert failed.failed
        assert BITS_NETWORK_LOGON in failed.msg
        assert "refuses network logons, and WinRM, PSRP and SSH sessions are network logons (0x800704DD)" in failed.msg
        assert "use source: registry" in failed.msg and "source: archive" in failed.msg
    assert scripts(run.tasks[1]) == ["host_info", "container_image"]
    assert "os_images" not in host.state or host.state["os_images"] == []
