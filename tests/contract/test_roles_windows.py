# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles and the fleet report on a recorded Windows Server 2022 host, over the real winrm and psrp
connection plugins (the wire replaced by the fake host of this directory).

* site.yml's roles (base_images, app_images) twice: the first run tags the base images' local latest names
  and adds the application tag; the second run changes nothing and costs one exec per module task.
* offline_images on a Windows host: with transfer controller, an archive the engine lacks is copied from the
  controller over the connection (ansible-core's put_file) and loaded, one the engine has is neither copied nor
  loaded, and a second run changes nothing; with a share (transfer none) and a manifest whose image IDs the
  engine already has, nothing is loaded (one exec).
* The fleet report built from this host's real-shaped win_container_host_info / docker_image_info results:
  Windows build and revision, base images and their revisions, application images, an outdated build;
  rendered with the playbook's template (the HTML is kept under tests/output/report/).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contract_harness import ContractHost, PlayRun, recorded_image

SERVERCORE = "mcr.microsoft.com/windows/servercore"
WEBAPP = "registry.contoso.test/apps/webapp:1.4.2"
SERVERCORE_ID = recorded_image("servercore_ltsc2022.json")["Id"]
NANOSERVER_ID = recorded_image("nanoserver_ltsc2022.json")["Id"]
WEBAPP_ID = recorded_image("webapp_1.4.2.json")["Id"]
PREVIOUS_ID = recorded_image("servercore_ltsc2022_previous.json")["Id"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "output" / "report"

BASE_IMAGES = [{"name": "WindowsServerCore"}, {"name": "NanoServer", "version": "ltsc2022"}]
SITE_VARS = {
    "base_images_list": BASE_IMAGES,
    "app_images_registry_from_env": False,
    "app_images_list": [WEBAPP],
    "app_images_tags": [{"name": WEBAPP, "repository": ["webapp:current"]}],
}


def include(role: str, **variables) -> dict:
    return {"name": f"role {role}", "ansible.builtin.include_role": {"name": f"wincontainers.images.{role}"},
            "vars": variables}


def module_tasks(run: PlayRun) -> list:
    """The task runs of the collection's modules (the role's asserts and facts never reach the host)."""
    return [t for t in run.tasks if t.exchanges or "wincontainers.images." in json.dumps(t.result.get("invocation", ""))]


def named(run: PlayRun, suffix: str):
    found = [t for t in run.tasks if t.name == suffix or t.name.endswith(" : " + suffix)]
    assert len(found) == 1, f"{suffix!r}: {[t.name for t in run.tasks]}\n{run.output}"
    return found[0]


@pytest.fixture(scope="module", params=["winrm", "psrp"])
def site_runs(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[tuple[ContractHost, PlayRun, PlayRun]]:
    host = new_windows_host(request.param, "ltsc2022", base_images={"host": "ws2022"})
    tasks = [include("base_images"), include("app_images")]
    first = host.run(tasks, extra_vars=SITE_VARS)
    second = host.run(tasks, extra_vars=SITE_VARS)
    yield host, first, second
    host.close()


def test_first_run_tags_base_images_and_the_application(site_runs) -> None:
    host, first, _second = site_runs
    assert first.rc == 0, first.output
    install = named(first, "Install, update or remove the base OS images (S3, S6, S7, S8)")
    assert install.changed
    results = {r["item"]["name"]: r for r in install.result["results"]}
    assert results["WindowsServerCore"]["image_id"] == SERVERCORE_ID
    assert results["WindowsServerCore"]["latest_name"] == "windowsservercore:latest"
    assert results["NanoServer"]["image_id"] == NANOSERVER_ID
    assert host.image("windowsservercore:latest")["Id"] == SERVERCORE_ID
    assert host.image("nanoserver:latest")["Id"] == NANOSERVER_ID
    assert host.image("webapp:current")["Id"] == WEBAPP_ID
    # S4: the role checked the installed images with one inspect of both IDs
    visible = named(first, "List the installed base images as the engine sees them (S4, docker images)")
    assert visible.execs == 1 and sorted(i["Id"] for i in visible.result["images"]) == sorted([SERVERCORE_ID, NANOSERVER_ID])
    pull = named(first, "Pull the application images in one task (S14)")
    assert not pull.changed and pull.execs == 1  # present already: one inspect


def test_second_run_changes_nothing_and_costs_one_exec_per_module_task(site_runs) -> None:
    _host, _first, second = site_runs
    assert second.rc == 0, second.output
    assert not [t.name for t in second.tasks if t.changed], second.output
    install = named(second, "Install, update or remove the base OS images (S3, S6, S7, S8)")
    assert install.execs == 2  # one per base image (a loop of two items)
    for name in ("List the installed base images as the engine sees them (S4, docker images)",
                 "Pull the application images in one task (S14)", "Tag the application images (S6)"):
        assert named(second, name).execs == 1, name
    # the argument validation, the asserts and set_fact never reach the host
    for task in second.tasks:
        if task.name.endswith(("Validating arguments against arg spec 'main'",)) or "Check that" in task.name:
            assert task.execs == 0, task.name


@pytest.mark.parametrize("transport", ["winrm", "psrp"])
def test_offline_import_on_windows(make_windows_host, tmp_path, transport) -> None:
    from test_docker_image_load_copy import TAG, docker_archive

    host = make_windows_host(transport, "ltsc2022", lifecycle={"directories": ["C:\\ProgramData"]})
    controller = tmp_path / "controller"
    controller.mkdir()
    manifest = {"file": "servercore-ltsc2022.tar", "sha256": "ab" * 32, "size": 1, "images": [f"{SERVERCORE}:ltsc2022"],
                "image_ids": [SERVERCORE_ID]}
    (controller / "servercore-ltsc2022.tar.json").write_text(json.dumps(manifest), encoding="utf-8")
    app = docker_archive(controller / "app.tar", "1")
    (controller / "app.tar.json").write_text(json.dumps({
        "file": "app.tar", "sha256": app["sha256"], "size": (controller / "app.tar").stat().st_size, "images": [TAG],
        "image_ids": [app["id"]]}), encoding="utf-8")
    archives = [{"file": "servercore-ltsc2022.tar"}, {"file": "app.tar"}]
    copy = include("offline_images", offline_images_mode="import", offline_images_transfer="controller",
                   offline_images_controller_dir=str(controller), offline_images_archives=archives)
    run = host.run([copy])
    assert run.rc == 0, run.output
    asks = [t for t in run.tasks if "Ask the engine which images of the archive it already has" in t.name]
    assert [t.execs for t in asks] == [1, 1], run.output
    loads = [t for t in run.tasks if "Copy the archive when the host's file differs, and load it (S7)" in t.name]
    assert [t.status for t in loads] == ["skipped", "ok"], run.output  # servercore: the engine has its image ID
    copied = loads[1]
    assert copied.changed and copied.result["copied"] and copied.result["loaded"] == [TAG], run.output
    puts = [e.raw["put_file"] for e in copied.exchanges if e.raw.get("put_file")]
    assert [p["path"].rsplit(".wcpart-", 1)[0] for p in puts] == ["C:\\ProgramData\\app.tar"]
    assert host.state["files"]["C:\\ProgramData\\app.tar"]["blob"] == app["sha256"]
    assert host.image(TAG)["Id"] == app["id"]

    again = host.run([copy])
    assert again.rc == 0 and not [t.name for t in again.tasks if t.changed], again.output
    assert not [e for e in again.exchanges if e.raw.get("put_file")]
    assert len(again.exchanges) == 2  # one round trip per archive: the engine has both

    share = host.run([include("offline_images", offline_images_mode="import",
                              offline_images_host_dir="\\\\fileserver\\images\\",
                              offline_images_controller_dir=str(controller), offline_images_archives=archives[:1])])
    assert share.rc == 0, share.output
    assert len(share.exchanges) == 1  # the whole role: one round trip


def test_fleet_report_of_a_windows_host(make_windows_host, collections_root, tmp_path) -> None:
    host = make_windows_host("psrp", "ltsc2022", base_images={"host": "ws2022"})
    template = collections_root / "ansible_collections" / "wincontainers" / "images" / "playbooks" / "templates" / "fleet_report.html.j2"
    out = tmp_path / "report"
    out.mkdir()
    hosts_data = ("{{ [{'host': inventory_hostname, 'host_info': info, 'images': images, "
                  "'base_images': [{'name': 'WindowsServerCore'}, {'name': 'NanoServer'}]}] }}")
    run = host.run([
        {"name": "host info", "wincontainers.images.win_container_host_info": {}, "register": "info"},
        {"name": "images", "wincontainers.images.docker_image_info": {}, "register": "images"},
        {"name": "report data", "ansible.builtin.set_fact": {
            "image_report": "{{ report_hosts | wincontainers.images.fleet_report }}",
            "image_report_generated": "2024-11-12 10:00:00 UTC"}, "vars": {"report_hosts": hosts_data}},
        {"name": "html", "ansible.builtin.template": {"src": str(template), "dest": str(out / "fleet-report.html"), "mode": "0644"},
         "delegate_to": "localhost"},
        {"name": "csv", "delegate_to": "localhost", "ansible.builtin.copy": {
            "content": "{{ image_report | wincontainers.images.fleet_report_csv }}",
            "dest": str(out / "fleet-report.csv"), "mode": "0644"}},
        {"name": "data", "ansible.builtin.debug": {"var": "image_report"}},
    ])
    assert run.rc == 0, run.output
    assert named(run, "host info").execs == 1 and named(run, "images").execs == 1
    assert named(run, "html").execs == 0  # written on the controller
    report = named(run, "data").result["image_report"]
    (entry,) = report["hosts"]
    assert (entry["os_type"], entry["os_build"], entry["ubr"]) == ("windows", 20348, 2849)
    assert entry["compatible_tags"] and "ltsc2022" in entry["compatible_tags"]
    base = {r["image_id"]: r for r in entry["base_images"]}
    app = {r["image_id"]: r for r in entry["app_images"]}
    assert set(base) == {SERVERCORE_ID, NANOSERVER_ID, PREVIOUS_ID} - ({PREVIOUS_ID} if PREVIOUS_ID in app else set())
    assert (base[SERVERCORE_ID]["build"], base[SERVERCORE_ID]["revision"]) == (20348, 2849)
    assert base[SERVERCORE_ID]["status"] == "ok"
    assert app[WEBAPP_ID]["status"] == "ok" and app[WEBAPP_ID]["kind"] == "app"
    # the untagged previous Server Core build (revision 2762) is older than the host's base image
    previous = base.get(PREVIOUS_ID) or app[PREVIOUS_ID]
    assert previous["revision"] == 2762 and previous["status"] == "outdated", previous
    html = (out / "fleet-report.html").read_text(encoding="utf-8")
    assert "20348.2849" in html and "Windows Server 2022" in html and "outdated" in html
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(out / "fleet-report.html", ARTIFACTS / "fleet-report-windows.html")
    shutil.copy(out / "fleet-report.csv", ARTIFACTS / "fleet-report-windows.csv")
