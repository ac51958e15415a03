# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/site.yml with site_container_host: true on a bare Windows Server 2022 host, over every transport.

The container_host role enables the Containers feature (which asks for a restart), restarts the host with the
real ``ansible.windows.win_reboot`` (installed by scripts/bootstrap.sh; its execs and the restart are emulated in
fake_reboot.py: the connection drops while the host is down, and it comes back with a new boot time and the
feature installed), installs the engine and checks that it answers; then site.yml's base_images and app_images
roles run on the new engine. A second run changes nothing. A host that must restart but may not
(container_host_reboot: false) fails before anything restarts.

The engine's image store is the recorded one of the ltsc2022 scenario (the fake docker does not tie its images
to the engine emulation), so base_images finds its images there.
"""

from __future__ import annotations

import hashlib

import pytest

import fake_container_engine as fce
import fake_reboot
from contract_harness import ContractHost, dependency_collections
from test_roles_windows import SITE_VARS, named
from test_win_container_engine import INDEX, RELEASES

SHA_27 = hashlib.sha256(fce.make_zip("27.5.1")).hexdigest()
CONTAINER_HOST_VARS = {
    **SITE_VARS,
    "site_container_host": True,
    "container_host_version": "27.5.1",
    "container_host_checksum": SHA_27,
    # short waits for the fake host (a real restart takes minutes: the role's default is 1800 s)
    "container_host_reboot_timeout": 60,
    "container_host_timeout": 120,
}
REBOOT = "Restart the host to finish installing the Windows features"


def bare_host(make_windows_host, transport: str, **engine) -> ContractHost:
    assert (dependency_collections() / fake_reboot.REBOOT_SOURCE).is_file(), (
        "ansible.windows is not installed in %s: run scripts/bootstrap.sh" % dependency_collections())
    return make_windows_host(transport, "ltsc2022", base_images={"host": "ws2022"},
                             container_engine={"releases": RELEASES, "index": INDEX, **engine})


def test_site_takes_a_bare_host_through_the_restart_to_images(make_windows_host, transport) -> None:
    host = bare_host(make_windows_host, transport)
    first = host.run([], playbook="wincontainers.images.site", extra_vars=CONTAINER_HOST_VARS)
    assert first.rc == 0, first.output

    prepare = named(first, "Prepare the engine (the Windows features first)")
    assert prepare.changed and prepare.result["reboot_required"] is True, first.output
    assert prepare.result["features"]["containers"] == "pending_reboot"

    reboot = named(first, REBOOT)
    assert reboot.status == "ok" and reboot.changed and reboot.result["rebooted"] is True, first.output
    names = [e.raw.get("script_name") for e in reboot.exchanges]
    assert names[:2] == ["ansible.windows.win_reboot:boot_time", "ansible.windows.win_reboot:restart"], names
    assert names[-1] == "ansible.windows.win_reboot:test_command", names
    assert set(names[2:-1]) == {"ansible.windows.win_reboot:boot_time"}, names
    state = host.state
    (restart,) = state["reboot"]["restarts"]
    assert restart["timeout"] == 2 and restart["up"] is True  # win_reboot's pre_reboot_delay, shutdown /t
    assert state["reboot"]["refused"] >= 1  # the connection dropped while the host was down
    assert state["reboot"]["boot_time"] != fake_reboot.INITIAL_BOOT_TIME
    boot_times = [e.raw["answer"]["output"][0] for e in reboot.exchanges
                  if e.raw.get("script_name") == "ansible.windows.win_reboot:boot_time"]
    assert boot_times[0] != boot_times[-1] and len(set(boot_times[:-1])) == 1

    after = named(first, "Install the engine after the restart")
    assert after.changed and after.result["version"] == "27.5.1", first.output
    assert after.result["server_version"] == "27.5.1"
    engine = fce.read_state(host.directory)
    assert engine["features"]["containers"] == "Installed" and engine["reboots"] == 1
    assert engine["service"]["state"] == "Running" and engine["service"]["start_mode"] == "Auto"
    facts = named(first, "Check that the engine answers")
    assert facts.result["engine"]["answers"] is True and facts.result["engine"]["version"] == "27.5.1"
    assert named(first, "Install, update or remove the base OS images (S3, S6, S7, S8)").status == "ok"
    assert host.image("windowsservercore:latest") is not None
    assert host.image("webapp:current") is not None

    second = host.run([], playbook="wincontainers.images.site", extra_vars=CONTAINER_HOST_VARS)
    assert second.rc == 0, second.output
    assert not [t.name for t in second.tasks if t.changed], second.output
    assert named(second, "Prepare the engine (the Windows features first)").execs == 1
    assert named(second, REBOOT).status == "skipped" and named(second, REBOOT).execs == 0
    assert not [e for e in second.exchanges if str(e.raw.get("script_name")).startswith("ansible.windows.")]
    assert len(host.state["reboot"]["restarts"]) == 1


@pytest.mark.parametrize("transport", ["winrm"])
def test_a_needed_restart_that_is_not_allowed_fails_the_host(make_windows_host, transport) -> None:
    host = bare_host(make_windows_host, transport)
    run = host.run([], playbook="wincontainers.images.site",
                   extra_vars={**CONTAINER_HOST_VARS, "container_host_reboot": False})
    assert run.rc != 0
    stop = named(run, "Stop when a restart is needed and not allowed")
    assert stop.failed and "must restart" in stop.msg and "container_host_reboot is false" in stop.msg
    assert not [e for e in run.exchanges if str(e.raw.get("script_name")).startswith("ansible.windows.")]
    assert "reboot" not in host.state
    assert fce.read_state(host.directory)["features"]["containers"] == "InstallPending"


def test_offline_import_prepares_the_engine_from_the_share_beside_the_archives(make_windows_host, tmp_path) -> None:
    """offline_images (import, a share) with offline_images_engine_version: the engine from
    <share>\\docker-<version>.zip through the container_host role, then the archives; a second run changes nothing."""
    import json

    from contract_harness import recorded_image
    from test_roles_windows import include

    share = "\\\\fileserver\\images"
    zip_path = share + "\\docker-27.5.1.zip"
    host = bare_host(make_windows_host, "winrm", features={"containers": "Installed"}, archives={zip_path: "27.5.1"})
    controller = tmp_path / "controller"
    controller.mkdir()
    manifest = {"file": "servercore-ltsc2022.tar", "sha256": "ab" * 32, "size": 1,
                "images": ["mcr.microsoft.com/windows/servercore:ltsc2022"],
                "image_ids": [recorded_image("servercore_ltsc2022.json")["Id"]]}
    (controller / "servercore-ltsc2022.tar.json").write_text(json.dumps(manifest), encoding="utf-8")
    role = include("offline_images", offline_images_mode="import", offline_images_host_dir=share + "\\",
                   offline_images_controller_dir=str(controller), offline_images_archives=[{"file": manifest["file"]}],
                   offline_images_engine_version="27.5.1", offline_images_engine_checksum=SHA_27)
    first = host.run([role])
    assert first.rc == 0, first.output
    prepare = named(first, "Prepare the engine (the Windows features first)")
    assert prepare.changed and prepare.result["version"] == "27.5.1", first.output
    requests = [p["engine_request"] for e in prepare.exchanges for p in e.processes if p.get("exe") == "powershell"]
    (request,) = requests
    assert request["zip"] == zip_path and not request["fetch"] and request["install"] and request["sha256"] == SHA_27
    assert named(first, REBOOT).status == "skipped"
    assert named(first, "Check that the engine answers").result["engine"]["answers"] is True
    ask = [t for t in first.tasks if "Ask the engine which images of the archive it already has" in t.name]
    assert [t.execs for t in ask] == [1]

    second = host.run([role])
    assert second.rc == 0 and not [t.name for t in second.tasks if t.changed], second.output
    assert named(second, "Prepare the engine (the Windows features first)").execs == 1

    refused = host.run([include("offline_images", offline_images_mode="export", offline_images_engine_version="27.5.1",
                                offline_images_archives=[])])
    assert refused.rc != 0
    check = named(refused, "Check that the engine is prepared only where it can be")
    assert check.failed and "import mode only" in check.msg
