# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Nothing unchecked reaches docker.exe, over winrm, psrp and ssh: each task below is refused on
the controller, by the rules of a Windows host, before any exec, with a message naming the option
(and, unless it is no_log, its value):

* a container name docker.exe would read as its own flag (``--help`` prints the usage and exits 0);
* a relative ``config_path`` (it would put credentials in the remote shell's working directory),
  and a POSIX path given for a Windows host;
* a list, a float or a boolean where the option is a string (ansible-core would pass on their
  Python text: ``['a', 'b']``, ``1.1`` for ``1.10``);
* values longer than a Windows command line (32,767 characters for CreateProcess) and a commit
  instruction longer than docker's Dockerfile parser reads (65,535 bytes);

and the engine-unreachable message says once what is wrong, where docker.exe looked, and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from contract_harness import INVENTORY_HOSTNAME, TRANSPORTS, ContractHost, PlayRun

PASSWORD = "Reg1stry-P@ss'\"w0rd-\u00e9"
LONG_MESSAGE = "m" * 40000
LONG_PATH = "C:\\exports\\" + "a" * 100000 + ".tar"
EURO_LABEL = "LABEL euro=" + "\u20ac" * 25000  # 25,011 characters (fits a command line), 75,011 bytes
MANY_NAMES = ["registry.contoso.test/apps/%s-%03d:1.0" % ("x" * 180, index) for index in range(200)]

COMMIT = "wincontainers.images.docker_commit"
LOGIN = "wincontainers.images.docker_login"
PULL = "wincontainers.images.docker_image_pull"
PUSH = "wincontainers.images.docker_image_push"
TAG = "wincontainers.images.docker_image_tag"
EXPORT = "wincontainers.images.docker_image_export"
BASE = "wincontainers.images.win_container_base_image"

TASKS = [
    ("container --help", COMMIT, {"container": "--help", "repository": "wct/x"}),
    ("container --format=json", COMMIT, {"container": "--format=json", "repository": "wct/x"}),
    ("relative config_path login", LOGIN, {"registry_url": "registry.contoso.test", "username": "deploy",
                                           "password": PASSWORD, "config_path": "docker-config"}),
    ("posix config_path login", LOGIN, {"registry_url": "registry.contoso.test", "username": "deploy",
                                        "password": PASSWORD, "config_path": "/etc/docker-config"}),
    ("relative config_path pull", PULL, {"name": ["mcr.microsoft.com/windows/servercore:ltsc2022"],
                                         "config_path": "ansible\\docker"}),
    ("relative config_path push", PUSH, {"name": "registry.contoso.test/apps/webapp:1.4.2", "config_path": "docker"}),
    ("relative config_path base image", BASE, {"name": "WindowsServerCore", "config_path": "\\ProgramData\\docker"}),
    ("message list", COMMIT, {"container": "iis-build", "repository": "wct/x", "message": ["a", "b"]}),
    # from a variable, as secrets come: ansible-core shows the playbook lines around a failed task
    ("password list", LOGIN, {"registry_url": "registry.contoso.test", "username": "deploy",
                              "password": "{{ registry_passwords }}"}),
    ("tag float", TAG, {"name": "mcr.microsoft.com/windows/servercore:ltsc2022", "repository": ["wct/x"], "tag": 1.10}),
    ("long message", COMMIT, {"container": "iis-build", "repository": "wct/x", "message": LONG_MESSAGE}),
    ("long label", COMMIT, {"container": "iis-build", "repository": "wct/x", "changes": [EURO_LABEL]}),
    ("long path", EXPORT, {"names": ["mcr.microsoft.com/windows/servercore:ltsc2022"], "path": LONG_PATH}),
    ("many names", EXPORT, {"names": MANY_NAMES, "path": "C:\\exports\\all.tar"}),
]

EXPECTED = {
    "container --help": "container: '--help' is not a container name or ID",
    "container --format=json": "container: '--format=json' is not a container name or ID",
    "relative config_path login": "config_path: 'docker-config' is not an absolute Windows path",
    "posix config_path login": "config_path: '/etc/docker-config' is not an absolute Windows path",
    "relative config_path pull": "config_path: 'ansible\\\\docker' is not an absolute Windows path",
    "relative config_path push": "config_path: 'docker' is not an absolute Windows path",
    "relative config_path base image": "config_path: '\\\\ProgramData\\\\docker' is not an absolute Windows path",
    "message list": "message: expected a string, got a list: ['a', 'b']",
    "password list": "password: expected a string, got a list (the value is not shown: the option is no_log)",
    "tag float": "tag: expected a string, got the number 1.1 ",
    "long message": "message: the value 'mmmm",
    "long label": "changes: the instruction 'LABEL euro=",
    "long path": "path: the value 'C:\\\\exports\\\\aaa",
    "many names": "names: the values are too long together for one docker command line on the host: names takes ",
}


@pytest.fixture(scope="module", params=TRANSPORTS)
def refused(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[PlayRun]:
    host = new_windows_host(request.param, "registry")
    run = host.run([{"name": name, module: args, "ignore_errors": True} for name, module, args in TASKS],
                   extra_vars={"registry_passwords": [PASSWORD, "second-secret"]})
    yield run
    host.close()


@pytest.mark.parametrize("name", [name for name, _module, _args in TASKS])
def test_refused_before_any_exec_naming_the_option(refused: PlayRun, name: str) -> None:
    task = refused.named(name)
    assert task.failed and not task.changed, (task.status, task.msg)
    assert task.execs == 0, [exchange.argvs for exchange in task.exchanges]
    assert task.msg.startswith(EXPECTED[name]), task.msg
    assert len(task.msg) < 1000  # long values are shown cut short


def test_no_exec_at_all(refused: PlayRun) -> None:
    assert refused.exchanges == []


def test_lengths_are_counted_as_windows_counts_them(refused: PlayRun) -> None:
    assert refused.named("long message").msg.startswith(
        "message: the value '%s...' is 40,000 characters long; a Windows command line holds at most 32,767 characters "
        "(CreateProcess), of which docker's arguments may take 30,000" % ("m" * 40))
    assert "is 100,015 characters long" in refused.named("long path").msg
    assert "is 75,011 bytes long; docker reads each instruction as one line of at most 65,535 bytes" in (
        refused.named("long label").msg)
    many = refused.named("many names").msg
    assert ", path 35, tag 23, docker's own arguments about 1,024" in many and "30,000" in many


def test_a_no_log_value_is_never_shown(refused: PlayRun) -> None:
    for secret in (PASSWORD, "second-secret"):
        assert secret not in refused.stdout and secret not in refused.stderr
        assert secret not in json.dumps([task.result for task in refused.tasks], ensure_ascii=False)


@pytest.mark.parametrize("docker_cli", ["27", "29"])
def test_engine_stopped_names_the_pipe_and_what_to_do(make_windows_host: Callable[..., ContractHost], docker_cli: str) -> None:
    host = make_windows_host("winrm", engine="stopped", docker_cli=docker_cli)
    task = host.run([{"name": "info", "wincontainers.images.docker_image_info": {"name": ["busybox"]}}]).task
    assert task.failed and task.execs == 1
    assert task.msg == (
        "%s: the Docker engine is not reachable at npipe:////./pipe/docker_engine (docker's default endpoint): "
        "open //./pipe/docker_engine: The system cannot find the file specified. Start the engine (Start-Service "
        "docker) or, if it listens elsewhere, give its address in docker_host (or DOCKER_HOST in the task's environment)" % INVENTORY_HOSTNAME)
