# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.win_container_base_image_info: the registry's tag
list read from a Windows Server 2022 host and classified against its build; Find-ContainerImage
on Windows Server 2016 TP5; the errors of both."""

from __future__ import annotations

from contract_harness import INVENTORY_HOSTNAME
from fake_windows_host import load_recorded

MODULE = "wincontainers.images.win_container_base_image_info"
SERVERCORE_TAGS = load_recorded("base_images/registry/mcr_servercore_tags.json")["tags"]


def scenario(host: str, **config) -> dict:
    config["host"] = host
    return {"description": "base image info on %s" % host, "images": [], "base_images": config}


def test_registry_tags_classified_for_a_2022_host(make_windows_host) -> None:
    host = make_windows_host("ssh-cmd", scenario("ws2022", registry={
        "mcr.microsoft.com/windows/servercore": {"tags": "mcr_servercore_tags.json"}}))
    run = host.run([
        {"name": "all", MODULE: {"name": "WindowsServerCore"}},
        {"name": "process", MODULE: {"name": "WindowsServerCore", "compatible_only": True}, "check_mode": True},
        {"name": "hyperv", MODULE: {"name": "WindowsServerCore", "isolation": "hyperv", "compatible_only": True}},
        {"name": "unknown repository", MODULE: {"name": "mcr.microsoft.com/windows/unknown"}, "ignore_errors": True},
        {"name": "registry down", MODULE: {"name": "NanoServer", "registry": "mirror.contoso.test"},
         "ignore_errors": True},
    ])
    everything, process, hyperv, unknown, down = run.tasks
    for task in run.tasks:
        assert task.execs == 1 and not task.changed and task.exchanges[0].script_name == "host_info"
        assert task.exchanges[0].processes == []  # no docker call: the host's own HTTP client
    request = everything.exchanges[0].request["registry"]
    assert request == {"bases": ["https://mcr.microsoft.com"], "tags_path": "/v2/windows/servercore/tags/list",
                       "manifests": []}

    result = everything.result
    assert result["repository"] == "mcr.microsoft.com/windows/servercore"
    assert result["registry_url"] == "https://mcr.microsoft.com"
    assert result["host_build"] == 20348 and result["recommended"] == "ltsc2022"
    assert sorted(t["tag"] for t in result["tags"]) == sorted(SERVERCORE_TAGS)
    by_tag = {t["tag"]: t for t in result["tags"]}
    assert by_tag["10.0.20348.2849"] == {"tag": "10.0.20348.2849", "build": 20348, "revision": 2849, "channel": None,
                                         "process": True, "hyperv": True, "compatible": True}
    assert by_tag["ltsc2025-KB5046617"]["build"] == 26100 and by_tag["ltsc2025-KB5046617"]["hyperv"] is False
    assert by_tag["ltsc2019"]["process"] is False and by_tag["ltsc2019"]["hyperv"] is True
    assert [t["tag"] for t in result["tags"][:3]] == ["10.0.26100.2314", "ltsc2025", "ltsc2025-KB5046617"]

    assert [t["tag"] for t in process.result["tags"]] == [
        "10.0.20348.2849", "10.0.20348.2762", "ltsc2022", "ltsc2022-KB5046616", "ltsc2022-amd64"]
    assert "10.0.17763.6414" in [t["tag"] for t in hyperv.result["tags"]]
    assert not any(t["build"] == 26100 for t in hyperv.result["tags"])

    assert unknown.failed
    assert unknown.msg.startswith("%s: registry mcr.microsoft.com, repository windows/unknown: listing the tags "
                                  "answered HTTP 404" % INVENTORY_HOSTNAME)
    assert down.failed and "the registry did not answer: https://mirror.contoso.test: Unable to connect" in down.msg


def test_windows_11_recommends_2022(make_windows_host) -> None:
    host = make_windows_host("psrp", scenario("win11", registry={
        "mcr.microsoft.com/windows/nanoserver": {"tags": "mcr_nanoserver_tags.json"}}))
    run = host.run([{"name": "tags", MODULE: {"name": "nanoserver", "compatible_only": True}}])
    assert run.task.result["recommended"] == "ltsc2022"
    assert [t["tag"] for t in run.task.result["tags"]] == ["10.0.20348.2849", "ltsc2022"]


def test_provider_images(make_windows_host) -> None:
    providers = load_recorded("base_images/provider/get_packageprovider_listavailable.json")
    providers.append(load_recorded("base_images/provider/get_packageprovider_containerimage.json"))
    host = make_windows_host("winrm", scenario("ws2016_tp5", providers=providers))
    run = host.run([
        {"name": "all", MODULE: {"source": "provider"}},
        {"name": "nano", MODULE: {"source": "provider", "name": "NanoServer", "compatible_only": True}},
    ])
    everything, nano = run.tasks
    assert everything.exchanges[0].request["find"] == {"all_versions": True}
    assert nano.exchanges[0].request["find"] == {"all_versions": True, "name": "NanoServer"}
    assert everything.result["host_build"] == 14300
    assert everything.result["images"] == [
        {"name": "NanoServer", "version": "10.0.14300.1010", "source": "ContainerImageGallery",
         "summary": "Container OS Image of Windows Server 2016 Technical Preview 5 : Nano Server Installation",
         "build": 14300, "process": True, "hyperv": True, "compatible": True},
        {"name": "NanoServer", "version": "10.0.14300.1003", "source": "ContainerImageGallery",
         "summary": "Container OS Image of Windows Server 2016 Technical Preview 5 : Nano Server Installation",
         "build": 14300, "process": True, "hyperv": True, "compatible": True},
        {"name": "WindowsServerCore", "version": "10.0.14300.1000", "source": "ContainerImageGallery",
         "summary": "Container OS Image of Windows Server 2016 Technical Preview 5 : Windows Server Core Installation",
         "build": 14300, "process": True, "hyperv": True, "compatible": True},
    ]
    assert [i["version"] for i in nano.result["images"]] == ["10.0.14300.1010", "10.0.14300.1003"]


def test_provider_missing_or_gone(make_windows_host) -> None:
    host = make_windows_host("ssh-powershell", scenario("ws2016"))
    run = host.run([{"name": "find", MODULE: {"source": "provider"}, "ignore_errors": True}])
    assert run.task.failed and run.task.execs == 1
    assert run.task.msg.startswith("%s: Find-ContainerImage failed: Find-ContainerImage is not available: the "
                                   "ContainerImage provider is not installed" % INVENTORY_HOSTNAME)
    assert "retired" in run.task.msg
