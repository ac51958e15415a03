# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/image_report.yml for real: run it against this machine's engine, check the report's numbers
against the info modules' output of the same run and against the engine itself, and render the HTML in
headless Chromium (Debian's ``chromium``, installed by scripts/bootstrap.sh). The screenshot and the report
are kept under tests/output/report/ as artifacts.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

import wc_harness

ARTIFACTS = wc_harness.REPO_ROOT / "tests" / "output" / "report"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("headless Chromium is missing: install Debian's 'chromium' (scripts/bootstrap.sh does)", pytrace=False)


class ReportParser(HTMLParser):
    """Collects data-total / data-count / data-field values and the image rows of the rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.totals: dict[str, int] = {}
        self.hosts: dict[str, dict] = {}
        self._host: str | None = None
        self._capture: tuple[str, str] | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "data-host" in a:
            self._host = a["data-host"]
            self.hosts[self._host] = {"counts": {}, "fields": {}, "rows": []}
        if tag == "tr" and "data-image-id" in a and self._host:
            self.hosts[self._host]["rows"].append(
                {"id": a["data-image-id"], "kind": a["data-kind"], "status": a["data-status"]}
            )
        for key in ("data-total", "data-count", "data-field"):
            if key in a:
                self._capture, self._text = (key, a[key]), ""

    def handle_data(self, data):
        if self._capture:
            self._text += data

    def handle_endtag(self, tag):
        if self._capture and tag in ("td", "span"):
            (kind, name), text = self._capture, self._text.strip()
            if kind == "data-total":
                self.totals[name] = int(text)
            elif kind == "data-count" and self._host:
                self.hosts[self._host]["counts"][name] = int(text)
            elif kind == "data-field" and self._host:
                self.hosts[self._host]["fields"][name] = text
            self._capture = None


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


LOCALHOST = {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}


def run_report(engine, collections_path, workdir: Path, report_dir: Path, extra_vars: dict,
               hosts: dict | None = None) -> tuple[subprocess.CompletedProcess, list]:
    """ansible-playbook wincontainers.images.image_report (on localhost unless ``hosts`` says otherwise), with
    the test callback recording every task result."""
    workdir.mkdir(parents=True, exist_ok=True)
    inventory = workdir / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts or LOCALHOST}}), encoding="utf-8")
    (workdir / "ansible.cfg").write_text("[defaults]\n", encoding="utf-8")
    variables = workdir / "vars.json"
    variables.write_text(json.dumps({**extra_vars, "report_dir": str(report_dir)}), encoding="utf-8")
    results_file = workdir / "results.jsonl"
    env = dict(os.environ)
    env.update(engine.env)
    env.update(
        {
            "ANSIBLE_CONFIG": str(workdir / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": collections_path,
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_CALLBACK_PLUGINS": str(wc_harness.CALLBACK_DIR),
            "ANSIBLE_CALLBACKS_ENABLED": wc_harness.CALLBACK_NAME,
            "WC_RESULTS_FILE": str(results_file),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
            "DOCKER_CONFIG": str(workdir / "docker-config"),
            "ANSIBLE_HOST_KEY_CHECKING": "0",
        }
    )
    command = [wc_harness.ansible_playbook_executable(), "-i", str(inventory), "wincontainers.images.image_report",
               "-e", f"@{variables}"]
    proc = subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True, timeout=600, check=False)
    results = wc_harness._read_jsonl(results_file)[0]  # noqa: SLF001 - the harness' own reader
    return proc, results


@pytest.fixture
def report_images(docker_client):
    """A stand-in base image and an application image under wct6/ names; removed afterwards."""
    token = uuid.uuid4().hex[:8]
    base = f"wct6/report-{token}/servercore"
    app = f"wct6/report-{token}/app"
    docker_client.images.get("wctest/busybox:1.0").tag(base, "ltsc2022")
    docker_client.images.get("wctest/busybox:2.0").tag(app, "1.0")
    yield {"base": base, "base_ref": f"{base}:ltsc2022", "app_ref": f"{app}:1.0"}
    for ref in (f"{base}:ltsc2022", f"{app}:1.0"):
        try:
            docker_client.images.remove(ref)
        except Exception:  # noqa: BLE001 - best-effort cleanup
            pass


def test_report_numbers_and_rendering(engine, collections_path, docker_client, report_images, tmp_path):
    report_dir = ARTIFACTS
    shutil.rmtree(report_dir, ignore_errors=True)
    proc, results = run_report(
        engine, collections_path, tmp_path / "run", report_dir,
        {"base_images_list": [{"name": report_images["base"], "version": "ltsc2022"}]},
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert f"Fleet report: {report_dir}/fleet-report.html" in proc.stdout

    # the info modules' output of the same run
    by_task = {r["task"]: r["result"] for r in results}
    host_info = by_task["Read the host's Windows build, engine and compatible base images"]
    images = by_task["Inspect every image on the host (docker images)"]["images"]
    assert not host_info.get("failed") and images

    data = json.loads((report_dir / "fleet-report.json").read_text(encoding="utf-8"))
    (host,) = data["hosts"]
    assert host["host"] == "localhost" and host["error"] == ""
    # the host facts are those the module returned; the Windows fields of a Linux host are null
    assert host["os_type"] == host_info["os_type"] == "linux"
    assert host["docker_version"] == host_info["server_version"]
    assert host["product_name"] == host_info["product_name"]
    assert host["os_build"] is None and host["ubr"] is None and host_info["os_build"] is None
    # every inspected image is in the report once, with its size; base = the base_images_list name
    rows = {r["image_id"]: r for r in host["base_images"] + host["app_images"]}
    assert sorted(rows) == sorted(i["Id"] for i in images)
    for image in images:
        assert rows[image["Id"]]["size"] == image["Size"]
        assert rows[image["Id"]]["references"] == sorted(image["RepoTags"]) or not image["RepoTags"]
    base_id = docker_client.images.get(report_images["base_ref"]).id
    app_id = docker_client.images.get(report_images["app_ref"]).id
    assert rows[base_id]["kind"] == "base"
    assert report_images["base_ref"] in rows[base_id]["references"]
    expected_incompatible = sum(1 for i in images if (i.get("Os") or "linux") != host_info["os_type"])
    counts = host["counts"]
    assert counts == {
        "images": len(images),
        "base_images": len(host["base_images"]),
        "app_images": len(images) - len(host["base_images"]),
        "outdated": 0,
        "incompatible": expected_incompatible,
    }
    assert rows[app_id]["kind"] == "app" or app_id == base_id
    assert data["totals"]["hosts"] == 1 and data["totals"]["images"] == len(images)

    # the CSV: one line per image
    lines = list(csv.DictReader(io.StringIO((report_dir / "fleet-report.csv").read_text(encoding="utf-8"))))
    assert sorted(line["image_id"] for line in lines) == sorted(rows)
    assert {line["kind"] for line in lines if line["image_id"] == base_id} == {"base"}
    assert all(line["host"] == "localhost" and line["host_build"] == "" for line in lines)

    # headless Chromium: the DOM it rendered carries the same numbers; the screenshot is kept
    browser = chromium()
    profile = tmp_path / "chromium-profile"
    url = (report_dir / "fleet-report.html").as_uri()
    dom = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert dom.returncode == 0, dom.stderr[-3000:]
    parser = ReportParser()
    parser.feed(dom.stdout)
    assert parser.totals == {k: data["totals"][k] for k in parser.totals} and len(parser.totals) == 7
    page = parser.hosts["localhost"]
    assert page["counts"] == counts
    assert sorted(r["id"] for r in page["rows"]) == sorted(rows)
    assert page["fields"]["os_build"] == "n/a" and page["fields"]["compatible_tags"] == "n/a"
    assert page["fields"]["engine"] == f"linux {host_info['server_version']}"

    screenshot = report_dir / "fleet-report.png"
    shot = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1400,1000",
         f"--screenshot={screenshot}", url],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-3000:]
    picture = screenshot.read_bytes()
    assert png_size(picture) == (1400, 1000)
    # a page of tables and text, not a blank or error page (a blank 1400x1000 PNG is a few KB)
    assert len(picture) > 30_000, f"the screenshot looks empty ({len(picture)} bytes)"


def test_report_shows_unreadable_hosts(engine, collections_path, tmp_path):
    """A host that cannot be reached is listed with the reason; the report is still written."""
    report_dir = tmp_path / "report"
    hosts = {
        **LOCALHOST,
        "gone.invalid": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 9,
                         "ansible_ssh_common_args": "-o ConnectTimeout=3 -o BatchMode=yes"},
    }
    proc = run_report(engine, collections_path, tmp_path / "run", report_dir, {}, hosts=hosts)[0]
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    data = json.loads((report_dir / "fleet-report.json").read_text(encoding="utf-8"))
    hosts = {h["host"]: h for h in data["hosts"]}
    assert set(hosts) == {"localhost", "gone.invalid"}
    assert hosts["gone.invalid"]["error"] and hosts["gone.invalid"]["counts"]["images"] == 0
    assert data["totals"]["hosts_failed"] == 1
    html = (report_dir / "fleet-report.html").read_text(encoding="utf-8")
    assert 'data-host="gone.invalid"' in html and "Not fully read" in html
    csv_lines = list(csv.DictReader(io.StringIO((report_dir / "fleet-report.csv").read_text(encoding="utf-8"))))
    assert [line["status"] for line in csv_lines if line["host"] == "gone.invalid"] == ["error"]
