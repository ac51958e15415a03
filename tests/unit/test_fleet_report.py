# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report's decisions (plugins/filter/fleet_report.py) on Windows fleets: base or application
image, outdated (an older revision than the fleet's newest of the same build), incompatible (the host's
build and isolation cannot run it), hosts that could not be read, and the CSV."""

from __future__ import annotations

import csv
import io

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wincontainers.images.plugins.filter.fleet_report import (
    FilterModule,
    fleet_report,
    fleet_report_csv,
)


def image(image_id, tags, os_version=None, os="windows", size=1000):
    return {"Id": "sha256:" + image_id * 8, "RepoTags": tags, "Os": os, "OsVersion": os_version, "Size": size,
            "Created": "2024-11-07T01:23:45.6789012Z"}


def host_info(build, ubr, isolation="process", os_type="windows"):
    """The shape win_container_host_info returns (the fields the report reads)."""
    return {
        "changed": False, "is_windows": True, "os_build": build, "ubr": ubr, "os_version": f"10.0.{build}.{ubr}",
        "display_version": "21H2", "product_name": "Windows Server 2022 Datacenter", "os_name": "Windows Server 2022",
        "edition": "ServerDatacenter", "installation_type": "Server Core", "hyperv_available": False,
        "server_version": "27.3.1", "os_type": os_type, "isolation": isolation,
        "compatible_base_images": {"servercore": {"repository": "mcr.microsoft.com/windows/servercore",
                                                  "process": ["ltsc2022"], "hyperv": ["ltsc2022", "ltsc2019"]}},
    }


SC = "mcr.microsoft.com/windows/servercore"


def fleet():
    return [
        {
            "host": "web01",
            "host_info": host_info(20348, 2849),
            "images": {"images": [
                image("a1", [f"{SC}:ltsc2022", "windowsservercore:latest"], "10.0.20348.2849"),
                image("b2", ["registry.example.com/shop/web:3"], "10.0.20348.2700"),   # built on an older base
                image("c3", [f"{SC}:ltsc2019"], "10.0.17763.6414"),                    # 2019 on a 2022 host
                image("d4", ["registry.example.com/tools/linux:1"], None, os="linux"),  # wrong OS
            ]},
        },
        {
            "host": "web02",
            "host_info": host_info(20348, 2700),
            "images": {"images": [
                image("e5", [f"{SC}:ltsc2022"], "10.0.20348.2700"),                    # older than web01's
                image("b2", ["registry.example.com/shop/web:3"], "10.0.20348.2700"),
            ]},
        },
        {"host": "offline01", "host_info": {"unreachable": True, "msg": "Failed to connect to the host via winrm"},
         "images": {"unreachable": True, "msg": "Failed to connect"}},
    ]


def rows(report, host):
    found = next(h for h in report["hosts"] if h["host"] == host)
    return {r["short_id"][:2]: r for r in found["base_images"] + found["app_images"]}, found


def test_statuses_on_a_windows_fleet():
    report = fleet_report(fleet())
    web01, h1 = rows(report, "web01")
    assert web01["a1"]["kind"] == "base" and web01["a1"]["status"] == "ok"
    assert (web01["a1"]["build"], web01["a1"]["revision"]) == (20348, 2849)
    assert web01["b2"]["kind"] == "app" and web01["b2"]["status"] == "outdated"
    assert "2849" in web01["b2"]["detail"]
    assert web01["c3"]["status"] == "incompatible" and "17763" in web01["c3"]["detail"]
    assert web01["d4"]["status"] == "incompatible" and "linux image on a windows engine" in web01["d4"]["detail"]
    assert h1["counts"] == {"images": 4, "base_images": 2, "app_images": 2, "outdated": 1, "incompatible": 2}
    assert h1["os_build"] == 20348 and h1["ubr"] == 2849 and h1["compatible_tags"] == ["ltsc2022"]

    web02, h2 = rows(report, "web02")
    assert web02["e5"]["status"] == "outdated" and "10.0.20348.2849" in web02["e5"]["detail"]
    assert web02["b2"]["status"] == "ok"  # the host's own base is at 2700 too
    assert h2["counts"]["outdated"] == 1

    off = rows(report, "offline01")[1]
    assert off["error"] == "Failed to connect to the host via winrm" and off["counts"]["images"] == 0
    assert report["totals"] == {"hosts": 3, "hosts_failed": 1, "images": 6, "base_images": 3, "app_images": 3,
                                "outdated": 2, "incompatible": 2}


def test_hyperv_isolation_runs_older_builds():
    hosts = [{"host": "client", "host_info": host_info(26100, 100, isolation="hyperv"),
              "images": [image("c3", [f"{SC}:ltsc2019"], "10.0.17763.6414")]}]
    found = rows(fleet_report(hosts), "client")[0]
    assert found["c3"]["status"] == "ok"


def test_process_isolation_on_2025_runs_2022_images():
    hosts = [{"host": "new", "host_info": host_info(26100, 100),
              "images": [image("a1", [f"{SC}:ltsc2022"], "10.0.20348.2849"), image("c3", [f"{SC}:ltsc2019"], "10.0.17763.1")]}]
    found = rows(fleet_report(hosts), "new")[0]
    assert found["a1"]["status"] == "ok" and found["c3"]["status"] == "incompatible"


def test_linux_host_has_null_windows_fields():
    info = {"is_windows": False, "os_build": None, "ubr": None, "display_version": None, "server_version": "20.10",
            "os_type": "linux", "isolation": None, "compatible_base_images": {}, "product_name": "Debian"}
    hosts = [{"host": "lin", "host_info": info, "images": [image("a1", ["busybox:1"], None, os="linux")],
              "base_images": [{"name": "wct6/base/servercore"}]}]
    report = fleet_report(hosts)
    found, h = rows(report, "lin")
    assert found["a1"]["status"] == "ok" and found["a1"]["build"] is None
    assert h["os_build"] is None and h["compatible_tags"] is None and h["os_name"] is None
    text = fleet_report_csv(report)
    (line,) = list(csv.DictReader(io.StringIO(text)))
    assert line["host_build"] == "" and line["build"] == "" and line["status"] == "ok"


def test_base_images_list_names_mark_base_images():
    hosts = [{"host": "h", "host_info": {"os_type": "linux"},
              "images": [image("a1", ["wct6/base/servercore:ltsc2022"], os="linux"),
                         image("b2", ["nanoserver:latest"], os="linux"),
                         image("c3", ["app:1"], os="linux")],
              "base_images": [{"name": "wct6/base/servercore"}, {"name": "NanoServer"}]}]
    found = rows(fleet_report(hosts), "h")[0]
    assert [found[k]["kind"] for k in ("a1", "b2", "c3")] == ["base", "base", "app"]
    # and the extra repositories argument
    found = rows(fleet_report(hosts, ["app"]), "h")[0]
    assert found["c3"]["kind"] == "base"


def test_csv_has_a_line_per_image_and_per_unread_host():
    report = fleet_report(fleet())
    lines = list(csv.DictReader(io.StringIO(fleet_report_csv(report))))
    assert len(lines) == 6 + 1
    assert [line["status"] for line in lines if line["host"] == "offline01"] == ["error"]
    web01 = [line for line in lines if line["host"] == "web01"]
    assert {line["status"] for line in web01} == {"ok", "outdated", "incompatible"}
    assert all(line["host_build"] == "20348" for line in web01)


def test_bad_input_fails_clearly():
    with pytest.raises(AnsibleFilterError, match="expected a list of hosts"):
        fleet_report({"host": "x"})
    with pytest.raises(AnsibleFilterError, match="needs a 'host' name"):
        fleet_report([{"images": []}])
    with pytest.raises(AnsibleFilterError, match="expected the result"):
        fleet_report_csv([])


def test_filters_are_registered():
    """One filter a file, each file documenting its own (DOCUMENTATION beside the code)."""
    import yaml

    from ansible_collections.wincontainers.images.plugins.filter import fleet_report as report_file
    from ansible_collections.wincontainers.images.plugins.filter import fleet_report_csv as csv_file

    assert FilterModule().filters() == {"fleet_report": fleet_report}
    assert csv_file.FilterModule().filters() == {"fleet_report_csv": fleet_report_csv}
    for module, name in ((report_file, "fleet_report"), (csv_file, "fleet_report_csv")):
        assert yaml.safe_load(module.DOCUMENTATION)["name"] == name
        assert yaml.safe_load(module.EXAMPLES) and yaml.safe_load(module.RETURN)["_value"]
