# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.win_container_image_provider (S1) on a recorded
Windows Server 2016 host: Get-PackageProvider -ListAvailable, Install-PackageProvider, removal."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from contract_harness import INVENTORY_HOSTNAME, ContractHost, PlayRun
from fake_windows_host import load_recorded

MODULE = "wincontainers.images.win_container_image_provider"
CONTAINER_IMAGE_PATH = r"C:\Program Files\WindowsPowerShell\Modules\ContainerImage\0.6.4.0\ContainerImage.psm1"


def scenario(**config) -> dict:
    config.setdefault("host", "ws2016")
    config.setdefault("gallery", {"ContainerImage": "provider/get_packageprovider_containerimage.json"})
    return {"description": "PackageManagement providers", "images": [], "base_images": config}


def task(title: str, check: bool | None = None, ignore: bool = False, **options) -> dict:
    entry = {"name": title, MODULE: options}
    if check is not None:
        entry["check_mode"] = check
    if ignore:
        entry["ignore_errors"] = True
    return entry


@pytest.fixture(scope="module", params=["psrp"])
def provider_play(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[tuple[ContractHost, PlayRun]]:
    host = new_windows_host(request.param, scenario())
    run = host.run([
        task("check install", check=True),
        task("install"),
        task("install again"),
        task("pinned version", version="0.6.4.0"),
        task("check remove", check=True, state="absent"),
        task("remove", state="absent"),
        task("remove again", state="absent"),
        task("built-in", ignore=True, name="msi", state="absent"),
        task("not from the gallery", ignore=True, name="Programs", state="absent", version="3.0.0.0"),
    ], diff=True)
    yield host, run
    host.close()


def test_install_is_idempotent_and_warns(provider_play) -> None:
    run = provider_play[1]
    check, install, again, pinned = run.tasks[:4]
    assert check.changed and check.execs == 1 and check.exchanges[0].request == {"action": "list", "name": "ContainerImage"}
    assert check.result["provider"] is None
    assert any("archived" in warning for warning in check.result["warnings"])
    assert install.changed and install.execs == 2, install.msg
    assert [e.request["action"] for e in install.exchanges] == ["list", "install"]
    assert install.result["provider"] == {"name": "ContainerImage", "version": "0.6.4.0", "path": CONTAINER_IMAGE_PATH}
    assert install.result["diff"] == {"before": {"versions": []}, "after": {"versions": ["0.6.4.0"]}}
    assert not again.changed and again.execs == 1
    assert not pinned.changed and pinned.execs == 1
    for exchange in run.exchanges:
        assert exchange.script_name == "package_provider" and exchange.processes == []


def test_remove(provider_play) -> None:
    host, run = provider_play
    check, remove, again = run.tasks[4:7]
    assert check.changed and check.execs == 1
    assert remove.changed and remove.execs == 2
    assert remove.result["removed_paths"] == [r"C:\Program Files\WindowsPowerShell\Modules\ContainerImage\0.6.4.0"]
    assert "ContainerImage" not in [p["name"] for p in remove.result["providers"]]
    assert not again.changed and again.execs == 1
    assert "ContainerImage" not in [p["name"] for p in host.state["providers"]]


def test_built_in_providers_are_never_removed(provider_play) -> None:
    run = provider_play[1]
    built_in, programs = run.tasks[7:9]
    assert built_in.failed and built_in.execs == 0
    assert built_in.msg == "name: msi is a provider that ships with Windows PowerShell; it is not removed"
    assert programs.failed and programs.execs == 0


def test_removal_deletes_gallery_folders_only(make_windows_host) -> None:
    providers = load_recorded("base_images/provider/get_packageprovider_listavailable.json")
    inbox = dict(providers[0], Name="ContosoInbox", ProviderName="ContosoInbox",
                 ProviderPath=r"C:\Windows\system32\WindowsPowerShell\v1.0\Modules\ContosoInbox\ContosoInbox.psm1")
    host = make_windows_host("ssh-powershell", scenario(providers=providers + [inbox]))
    run = host.run([
        task("nuget", name="NuGet", state="absent"),
        task("under windows", ignore=True, name="ContosoInbox", state="absent"),
    ])
    nuget, inbox_task = run.tasks
    # NuGet lives in ProviderAssemblies under Program Files: Install-PackageProvider put it there.
    assert nuget.changed and nuget.result["removed_paths"] == [
        r"C:\Program Files\PackageManagement\ProviderAssemblies\nuget\2.8.5.208"], nuget.msg
    assert inbox_task.failed and inbox_task.execs == 2
    assert "was not installed by Install-PackageProvider; it is not removed" in inbox_task.msg
    assert "ContosoInbox" in [p["name"] for p in host.state["providers"]]


def test_gallery_unreachable(make_windows_host) -> None:
    error = ("Unable to download from URI 'https://go.microsoft.com/fwlink/?LinkID=627338&clcid=0x409' to ''.")
    host = make_windows_host("ssh-cmd", scenario(gallery_error=error))
    run = host.run([task("install", ignore=True)])
    assert run.task.failed and run.task.execs == 2
    assert run.task.msg.startswith("%s: %s (The ContainerImage provider is archived" % (INVENTORY_HOSTNAME, error))
    assert run.task.msg.endswith("the NuGet provider it needs cannot be bootstrapped: its download endpoint "
                                 "(go.microsoft.com/fwlink/?LinkID=627338) is not reachable from the host or fails its "
                                 "certificate check (OneGet issue 553); use source: registry (docker pull from "
                                 "mcr.microsoft.com or a mirror), or source: archive with an image saved by docker save "
                                 "(docker_image_load can copy it from the controller)")
    assert any("archived" in warning for warning in run.task.result["warnings"])


def test_unknown_provider(make_windows_host) -> None:
    host = make_windows_host("winrm", scenario())
    run = host.run([task("install", ignore=True, name="NoSuchProvider")])
    assert run.task.failed
    assert "No match was found for the specified search criteria for the provider 'NoSuchProvider'" in run.task.msg
