# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of the connection options, the task's ``environment:`` and ``become`` over
winrm, psrp and ssh: docker.exe gets the options as its root command's flags before the command,
and the environment in the request (never on a command line), in reads and in detached jobs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from contract_harness import INVENTORY_HOSTNAME, TRANSPORTS, ContractHost, recorded_image

INFO = "wincontainers.images.docker_image_info"
PULL = "wincontainers.images.docker_image_pull"
SERVERCORE = "mcr.microsoft.com/windows/servercore:ltsc2022"
LTSC2019 = "mcr.microsoft.com/windows/servercore:ltsc2019"
SERVERCORE_ID = recorded_image("servercore_ltsc2022.json")["Id"]
PIPE = "npipe:////./pipe/docker_engine"
ELSEWHERE = "npipe:////./pipe/elsewhere"
SECRET = "registry-token-\u00e9-7c1d"


def assert_secret_only_in_the_env(task, secret: str) -> None:
    """An environment value travels in the request's ``env`` of each call, nowhere else."""
    assert task.exchanges
    for exchange in task.exchanges:
        assert secret not in (exchange.raw.get("command") or "")
        for process in exchange.processes:
            assert secret not in process["cmdline"] and all(secret not in a for a in process["argv"])
            assert process["env"]["REGISTRY_TOKEN"] == secret
        calls = [dict(call) for call in exchange.request.get("calls") or []]
        for call in calls:
            assert call.pop("env")["REGISTRY_TOKEN"] == secret
        assert secret not in repr(calls) and secret not in repr({k: v for k, v in exchange.request.items() if k != "calls"})
    assert secret not in repr(task.result)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_options_and_environment_reach_docker(transport: str, make_windows_host: Callable[..., ContractHost]) -> None:
    host = make_windows_host(transport)
    environment = {"DOCKER_HOST": ELSEWHERE, "REGISTRY_TOKEN": SECRET}
    run = host.run([
        {"name": "option wins", INFO: {"name": [SERVERCORE], "docker_host": PIPE, "validate_certs": False,
                                       "api_version": "1.41"}, "environment": environment},
        {"name": "environment", INFO: {"name": [SERVERCORE]}, "environment": environment, "ignore_errors": True},
        {"name": "wrong option", INFO: {"name": [SERVERCORE], "docker_url": ELSEWHERE}, "ignore_errors": True},
        {"name": "group defaults", INFO: {"name": [SERVERCORE]}, "ignore_errors": True,
         "module_defaults": {"group/wincontainers.images.docker": {"docker_host": ELSEWHERE}}},
    ])
    wins = run.named("option wins")
    assert wins.status == "ok" and [image["Id"] for image in wins.result["images"]] == [SERVERCORE_ID], wins.msg
    assert wins.execs == 1
    [process] = wins.exchanges[0].processes
    assert process["argv"] == ["--host", PIPE, "--tlsverify=false", "image", "inspect", "--", SERVERCORE]
    assert process["env"] == dict(environment, DOCKER_API_VERSION="1.41")
    assert_secret_only_in_the_env(wins, SECRET)

    for name, chosen_by in (("environment", "DOCKER_HOST of the task's environment"), ("wrong option", "docker_host"),
                            ("group defaults", "docker_host")):
        task = run.named(name)
        assert task.failed and task.execs == 1, (name, task.status, task.msg)
        assert task.msg.startswith("%s: the Docker engine is not reachable at %s (%s): open //./pipe/elsewhere: The "
                                   "system cannot find the file specified." % (INVENTORY_HOSTNAME, ELSEWHERE, chosen_by)), \
            (name, task.msg)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_become_fails_before_anything_runs(transport: str, make_windows_host: Callable[..., ContractHost]) -> None:
    host = make_windows_host(transport)
    run = host.run([
        {"name": "become", INFO: {"name": [SERVERCORE]}, "become": True, "become_method": "runas",
         "become_user": "svc-docker", "ignore_errors": True},
        {"name": "bad option", INFO: {"name": [SERVERCORE], "docker_host": "tcp://engine:2376",
                                      "tls_hostname": "docker.contoso.test"}, "ignore_errors": True},
    ])
    become = run.named("become")
    assert become.failed and become.execs == 0
    assert become.msg.startswith("%s: become is not supported by this module on Windows hosts (the task has become: "
                                 "true, become_method: runas, become_user: svc-docker)" % INVENTORY_HOSTNAME), become.msg
    bad = run.named("bad option")
    assert bad.failed and bad.execs == 0 and bad.msg.startswith("tls_hostname: 'docker.contoso.test' cannot be honoured")


@pytest.mark.parametrize("transport", ["winrm", "ssh-cmd"])
def test_detached_jobs_get_the_options_and_the_environment(
        transport: str, make_windows_host: Callable[..., ContractHost]) -> None:
    host = make_windows_host(transport, "registry", base_images={"pulls": {LTSC2019: "servercore_ltsc2019.json"}})
    run = host.run([
        {"name": "pull", PULL: {"name": [SERVERCORE, LTSC2019], "docker_host": PIPE, "tls": False},
         "environment": {"DOCKER_HOST": ELSEWHERE, "REGISTRY_TOKEN": SECRET}},
    ])
    pulled = run.task
    assert pulled.status == "ok" and pulled.changed, pulled.msg
    assert pulled.job_argvs == [["--host", PIPE, "--tls=false", "image", "pull", "--", LTSC2019]]
    starts = [exchange.request for exchange in pulled.exchanges if exchange.script_name == "job_start"]
    assert starts and all(call["env"] == {"DOCKER_HOST": ELSEWHERE, "REGISTRY_TOKEN": SECRET}
                          for request in starts for call in request["calls"])
    assert SECRET not in repr(pulled.result)
    assert host.image(LTSC2019) is not None
