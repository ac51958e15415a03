# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.win_container_engine on the fake host's model of a
container host (fake_container_engine.py): a bare Windows Server through the feature, a reboot and
the install, then up to date; upgrade, failed upgrade rolled back, daemon.json, absent, offline
archives, check mode, and the host_info engine facts."""

from __future__ import annotations

import hashlib
import json

import fake_container_engine as fce
from contract_harness import ContractHost
from fake_windows_host import CMD_EXE_LIMIT, WIRE_BUDGET

MODULE = "wincontainers.images.win_container_engine"
INFO = "wincontainers.images.win_container_host_info"
RELEASES = {"26.1.3": {}, "27.5.1": {}, "28.0.1": {"broken": True}}
INDEX = '<a href="docker-26.1.3.zip">x</a>\n<a href="docker-27.5.1.zip">x</a>\n<a href="docker-28.0.1.zip">x</a>\n'
SHA_27 = hashlib.sha256(fce.make_zip("27.5.1")).hexdigest()


def engine_scenario(**engine):
    base = {"description": "a Windows Server 2022 container host", "images": [], "base_images": {"host": "ws2022"},
            "container_engine": {"releases": RELEASES, "index": INDEX}}
    base["container_engine"].update(engine)
    return base


def installed(version="26.1.3", **extra):
    return engine_scenario(features={"containers": "Installed"}, engine={"version": version}, **extra)


def job_requests(task):
    return [p["engine_request"] for e in task.exchanges for p in e.processes if p.get("exe") == "powershell"]


def test_bare_host_to_running_engine_over_every_transport(make_windows_host, transport):
    host: ContractHost = make_windows_host(transport, engine_scenario())
    first = host.run([{"name": "prepare", MODULE: {"version": "27.5.1", "checksum": SHA_27}, "register": "engine"}])
    task = first.tasks[0]
    assert task.status == "ok" and task.changed, task.msg
    assert task.result["reboot_required"] is True
    assert task.result["features"]["containers"] == "pending_reboot"
    assert task.exchanges[0].script_name == "engine_state"
    (request,) = job_requests(task)
    assert request["features"] == ["Containers"] and request["server"] is True and not request["install"]
    assert fce.read_state(host.directory)["features"]["containers"] == "InstallPending"
    assert "restart" in task.result["warnings"][0]
    for exchange in task.exchanges:
        if exchange.raw["command"] is not None:
            assert len(exchange.raw["command"]) <= CMD_EXE_LIMIT
    # The engine_job script and its request go to the job root first, never in job_start's request:
    # the request, then (the host lacks it) the script in an exec of its own.
    assert [e.script_name for e in task.exchanges][:4] == ["engine_state", "stage_script", "stage_script", "job_start"]
    assert all(e.raw["wire_bytes"] <= WIRE_BUDGET for e in task.exchanges), [
        (e.script_name, e.raw["wire_bytes"]) for e in task.exchanges]

    fce.reboot(host.directory)
    second = host.run([
        {"name": "install", MODULE: {"version": "27.5.1", "checksum": SHA_27}},
        {"name": "again", MODULE: {"version": "27.5.1", "checksum": SHA_27}},
        {"name": "facts", INFO: {}},
    ])
    install, again, facts = second.tasks
    assert install.status == "ok" and install.changed, install.msg
    (request,) = job_requests(install)
    assert (request["fetch"], request["install"], request["register"], request["start"]) == (True, True, True, True)
    assert request["url"] == fce.DOWNLOAD_URL + "docker-27.5.1.zip" and request["sha256"] == SHA_27
    assert install.result["version"] == "27.5.1" and install.result["server_version"] == "27.5.1"
    assert install.result["service"] == {"state": "Running", "start_mode": "Auto"}
    assert install.result["job"]["id"]
    assert all(e.raw["wire_bytes"] <= WIRE_BUDGET for e in install.exchanges)
    assert [e.script_name for e in install.exchanges].count("stage_script") == 1
    staged = json.loads((host.directory / fce.fwh.STATE_FILE).read_text(encoding="utf-8"))["staged_scripts"]
    script = "engine_job-" + hashlib.sha256(fce.fwh._powershell_scripts().SCRIPTS["engine_job"].encode()).hexdigest()[:32]
    assert script in staged and len([key for key in staged if key.startswith("data-")]) == 2
    state = fce.read_state(host.directory)
    assert state["service"]["path_name"] == '"C:\\Program Files\\Docker\\dockerd.exe" --run-service'
    assert not again.changed and again.execs == 1 and again.exchanges[0].script_name == "engine_state"
    engine = facts.result["engine"]
    assert engine["version"] == "27.5.1" and engine["answers"] is True
    assert engine["containers_feature"] == "installed" and engine["reboot_pending"] is False
    assert engine["service"]["start_mode"] == "Auto" and engine["daemon_config"] is None


def test_up_to_date_is_one_exec(make_windows_host):
    host = make_windows_host("winrm", installed("27.5.1"))
    run = host.run([{"name": "ok", MODULE: {"version": "27.5.1"}}])
    task = run.tasks[0]
    assert task.status == "ok" and not task.changed and task.execs == 1, task.msg
    assert task.result["previous_version"] == "27.5.1" and task.result["server_version"] == "27.5.1"
    assert len(task.exchanges[0].request) <= 3  # install_dir, data_root (no index, no archive)


def test_latest_from_the_index_then_up_to_date(make_windows_host):
    host = make_windows_host("psrp", installed("26.1.3", releases={"26.1.3": {}, "27.5.1": {}},
                                               index=INDEX.replace("docker-28.0.1", "docker-27.0.0")))
    run = host.run([{"name": "latest", MODULE: {"version": "latest"}},
                    {"name": "again", MODULE: {"version": "latest"}}])
    upgrade, again = run.tasks
    assert upgrade.changed and upgrade.result["version"] == "27.5.1", upgrade.msg
    assert upgrade.result["previous_version"] == "26.1.3"
    assert upgrade.exchanges[0].request["index"] == fce.DOWNLOAD_URL
    assert not again.changed and again.execs == 1


def test_upgrade_keeps_the_registration_and_restarts(make_windows_host):
    host = make_windows_host("ssh-powershell", installed("26.1.3"))
    run = host.run([{"name": "upgrade", MODULE: {"version": "27.5.1"}}], diff=True)
    task = run.tasks[0]
    assert task.changed, task.msg
    (request,) = job_requests(task)
    assert request["install"] and not request["register"] and request["start"]
    assert "installed Docker 27.5.1 (was 26.1.3)" in task.result["actions"]
    assert task.result["diff"][0]["before"].startswith("version: 26.1.3")


def test_failed_upgrade_is_rolled_back(make_windows_host):
    host = make_windows_host("winrm", installed("26.1.3"))
    run = host.run([{"name": "upgrade", MODULE: {"version": "28.0.1"}, "ignore_errors": True},
                    {"name": "still", INFO: {}}])
    failed, info = run.tasks
    assert failed.failed and failed.result["rolled_back"] is True
    assert "did not answer docker version" in failed.msg and "put back" in failed.msg
    assert info.result["engine"]["version"] == "26.1.3" and info.result["engine"]["answers"] is True


def test_checksum_mismatch_of_a_download_replaces_nothing(make_windows_host):
    host = make_windows_host("winrm", installed("26.1.3"))
    run = host.run([{"name": "bad", MODULE: {"version": "27.5.1", "checksum": "0" * 64}, "ignore_errors": True}])
    task = run.tasks[0]
    assert task.failed and "sha256" in task.msg and "nothing was replaced" in task.msg
    assert fce.read_state(host.directory)["dirs"]["c:\\program files\\docker"]["version"] == "26.1.3"


def test_daemon_json_merge_restart_and_diff(make_windows_host):
    host = make_windows_host("psrp", installed("27.5.1", daemon_json='{"debug": true, "group": "docker-users"}'))
    config = {"registry-mirrors": ["https://mirror.example.com"], "group": None}
    run = host.run([{"name": "config", MODULE: {"version": "27.5.1", "daemon_config": config}},
                    {"name": "again", MODULE: {"version": "27.5.1", "daemon_config": config}}], diff=True)
    change, again = run.tasks
    assert change.changed, change.msg
    (request,) = job_requests(change)
    assert not request["install"] and not request["register"] and request["start"]
    assert json.loads(request["config"]["text"]) == {"debug": True, "registry-mirrors": ["https://mirror.example.com"]}
    assert change.result["daemon_config"] == {"debug": True, "registry-mirrors": ["https://mirror.example.com"]}
    assert change.result["diff"][1]["before"] == '{"debug": true, "group": "docker-users"}'
    assert not again.changed and again.execs == 1
    # The values travel in the request (stdin or the job's environment), never in a script.
    for exchange in change.exchanges:
        assert "mirror.example.com" not in exchange.raw["command"] if exchange.raw["command"] else True


def test_invalid_daemon_json_or_unknown_keys_fail_before_the_service_is_touched(make_windows_host):
    host = make_windows_host("winrm", installed("27.5.1", daemon_json='{"debug": true,'))
    run = host.run([
        {"name": "invalid", MODULE: {"version": "27.5.1", "daemon_config": {"debug": False}}, "ignore_errors": True},
        {"name": "unknown", MODULE: {"version": "27.5.1", "daemon_config": {"registry-mirror": []}}, "ignore_errors": True},
    ])
    invalid, unknown = run.tasks
    assert invalid.failed and "is not valid JSON" in invalid.msg and invalid.execs == 1
    assert unknown.failed and "unknown daemon.json key registry-mirror" in unknown.msg and unknown.execs == 0


def test_check_mode_changes_nothing(make_windows_host):
    host = make_windows_host("ssh-cmd", installed("26.1.3"))
    run = host.run([{"name": "check", MODULE: {"version": "27.5.1"}}], check=True)
    task = run.tasks[0]
    assert task.changed and task.execs == 1, task.msg
    assert "installed Docker 27.5.1 (was 26.1.3)" in task.result["actions"]
    assert fce.read_state(host.directory)["dirs"] == {"c:\\program files\\docker": {"version": "26.1.3", "broken": False}}


def test_offline_archive_from_a_share(make_windows_host):
    share = "\\\\files\\docker\\docker-27.5.1.zip"
    host = make_windows_host("winrm", engine_scenario(features={"containers": "Installed"}, archives={share: "27.5.1"}))
    run = host.run([
        {"name": "wrong sum", MODULE: {"source": "archive", "archive_path": share, "checksum": "1" * 64},
         "ignore_errors": True},
        {"name": "offline", MODULE: {"source": "archive", "archive_path": share, "checksum": SHA_27}},
        {"name": "again", MODULE: {"source": "archive", "archive_path": share, "checksum": SHA_27}},
    ])
    wrong, offline, again = run.tasks
    assert wrong.failed and wrong.execs == 1 and "nothing was changed" in wrong.msg
    assert offline.changed and offline.result["version"] == "27.5.1", offline.msg
    (request,) = job_requests(offline)
    assert request["zip"] == share and not request["fetch"]
    assert not again.changed and again.execs == 1


def test_absent(make_windows_host):
    host = make_windows_host("winrm", installed("27.5.1"))
    run = host.run([{"name": "absent", MODULE: {"state": "absent"}}, {"name": "again", MODULE: {"state": "absent"}}])
    absent, again = run.tasks
    assert absent.changed and job_requests(absent)[0]["remove"], absent.msg
    assert fce.read_state(host.directory)["service"] is None
    assert not again.changed and again.execs == 1


def test_options_refused_before_any_exec(make_windows_host):
    host = make_windows_host("winrm", engine_scenario())
    run = host.run([
        {"name": "no version", MODULE: {}, "ignore_errors": True},
        {"name": "latest archive", MODULE: {"source": "archive", "archive_path": "C:\\x\\engine.zip", "version": "latest"},
         "ignore_errors": True},
        {"name": "relative", MODULE: {"version": "27.5.1", "install_dir": "Docker"}, "ignore_errors": True},
    ])
    for task in run.tasks:
        assert task.failed and task.execs == 0, task.name
    assert run.tasks[0].msg.startswith("version: ")
    assert "latest is resolved from the download index" in run.tasks[1].msg
    assert run.tasks[2].msg.startswith("install_dir: ")
