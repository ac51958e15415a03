# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""win_container_host_info on the local Linux engine: the engine facts are real, the Windows facts
say the host is not Windows; an engine that does not answer is reported, not fatal. The Windows
answers (registry values, Hyper-V, docker info of a Windows daemon) are covered by
tests/contract/test_win_container_host_info.py."""

from __future__ import annotations

MODULE = "wincontainers.images.win_container_host_info"


def test_facts_of_a_linux_docker_host(run_playbook, docker_client):
    run = run_playbook([
        {"name": "facts", MODULE: {}, "register": "facts"},
        {"name": "facts in check mode", MODULE: {}, "check_mode": True},
    ]).assert_ok()
    run.assert_recap(changed=0)
    result = run.task("facts")["result"]
    version = docker_client.version()
    info = docker_client.info()
    assert result["is_windows"] is False
    assert result["os_build"] is None and result["ubr"] is None and result["hyperv_available"] is None
    assert result["docker_available"] is True and result["docker_error"] is None
    assert result["server_version"] == info["ServerVersion"] == version["Version"]
    assert result["api_version"] == version["ApiVersion"]
    assert result["os_type"] == "linux"
    assert result["isolation"] is None
    assert result["engine_os"] == info["OperatingSystem"]
    assert result["storage_driver"] == info["Driver"]
    assert result["compatible_base_images"] == {}
    assert result["product_name"]  # /etc/os-release's PRETTY_NAME
    assert run.task("facts in check mode")["result"]["server_version"] == result["server_version"]


def test_an_engine_that_does_not_answer_is_reported(run_playbook, tmp_path):
    run = run_playbook([{"name": "facts", MODULE: {}}],
                       env={"DOCKER_HOST": "unix://%s" % (tmp_path / "no-engine.sock")}).assert_ok()
    result = run.task("facts")["result"]
    assert result["docker_available"] is False
    assert "the Docker engine is not reachable" in result["docker_error"]
    assert result["server_version"] is None
    assert result["client_version"]  # the CLI itself answered


def test_bad_input(run_playbook):
    run = run_playbook([{"name": "facts", MODULE: {"registry": "not a registry"}, "ignore_errors": True}],
                       extra_args=["-vvv"])
    result = run.task("facts")
    assert result["failed"] is True
    assert "registry: 'not a registry' is not a registry" in result["msg"]
    assert "EXEC " not in run.stdout
