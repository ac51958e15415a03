# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.docker_image_info over winrm, psrp and ssh."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import pytest

from contract_harness import INVENTORY_HOSTNAME, TRANSPORTS, ContractHost, PlayRun, recorded_image
from fake_windows_host import CMD_EXE_LIMIT, CREATE_PROCESS_LIMIT, POWERSHELL_PREFIX, known_scripts

MODULE = "wincontainers.images.docker_image_info"
SERVERCORE = "mcr.microsoft.com/windows/servercore:ltsc2022"
WEBAPP = "registry.contoso.test/apps/webapp:1.4.2"
SERVERCORE_ID = recorded_image("servercore_ltsc2022.json")["Id"]
PREVIOUS_ID = recorded_image("servercore_ltsc2022_previous.json")["Id"]
NANOSERVER_ID = recorded_image("nanoserver_ltsc2022.json")["Id"]
WEBAPP_ID = recorded_image("webapp_1.4.2.json")["Id"]
ALL_IDS = {SERVERCORE_ID, PREVIOUS_ID, NANOSERVER_ID, WEBAPP_ID}

NAMED = [SERVERCORE, WEBAPP, "mcr.microsoft.com/windows/servercore:ltsc2025", "contoso/missing"]
BY_ID = [NANOSERVER_ID.split(":", 1)[1][:12], PREVIOUS_ID]
# Valid references with every character class the grammar allows: IPv6 brackets, ports,
# separators, upper-case tags, digests. None needs quoting; they must arrive unchanged.
EDGE = [
    "[fd00:c0de::1]:5000/team/app:v1.0-rc.1",
    "localhost:5000/a/b@sha256:" + "0123456789abcdef" * 4,
    "registry.contoso.test:443/a__b/c-d.e:TAG_x.y-z",
]
MANY = ["registry.contoso.test/team%03d/service-%03d:1.0.%d" % (i, i, i) for i in range(500)]
MANY.insert(250, SERVERCORE)


def ids(task_result: dict) -> list[str]:
    return [image["Id"] for image in task_result.get("images", [])]


@pytest.fixture(scope="module", params=TRANSPORTS)
def info_play(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[tuple[ContractHost, PlayRun]]:
    """One play per transport: named, all, by ID, edge names, 500 names."""
    host = new_windows_host(request.param)
    run = host.run([
        {"name": "named", MODULE: {"name": NAMED}},
        {"name": "all", MODULE: {}},
        {"name": "by id", MODULE: {"name": BY_ID}},
        {"name": "edge names", MODULE: {"name": EDGE}},
        {"name": "500 names", MODULE: {"name": MANY}},
    ])
    yield host, run
    host.close()


def test_every_task_succeeds_with_one_exec(info_play: tuple[ContractHost, PlayRun]) -> None:
    _host, run = info_play
    assert [t.name for t in run.tasks] == ["named", "all", "by id", "edge names", "500 names"], run.output
    for task in run.tasks:
        assert task.status == "ok", (task.name, task.msg, run.output)
        assert not task.changed
        assert task.execs == 1, (task.name, task.execs)


# DESIGN rule 1: an exec sends a few KB (command line + stdin), not the ~180 KB of a native
# PowerShell module over WinRM. Today: ~1.1 KB of command line, ~11 KB of stdin (the base64 of
# the RUN script and the request).
EXEC_BUDGET = 20_000


def test_small_execs(info_play: tuple[ContractHost, PlayRun]) -> None:
    host, run = info_play
    for task in run.tasks[:4]:
        (exchange,) = task.exchanges
        # psrp sends the decoded script (in CREATE_PIPELINE) instead of the command line.
        sent = exchange.script_chars if host.transport == "psrp" else exchange.command_length
        size = sent + exchange.input_chars
        assert size < EXEC_BUDGET, (task.name, size)


def test_missing_names_are_left_out(info_play: tuple[ContractHost, PlayRun]) -> None:
    _host, run = info_play
    task = run.tasks[0]
    assert sorted(ids(task.result)) == sorted([SERVERCORE_ID, WEBAPP_ID])
    assert task.exchanges[0].argvs == [["image", "inspect", "--"] + NAMED]
    servercore = next(i for i in task.result["images"] if i["Id"] == SERVERCORE_ID)
    assert servercore["Os"] == "windows" and servercore["OsVersion"] == "10.0.20348.2849"
    assert servercore["RepoTags"] == [SERVERCORE]


def test_omitted_name_lists_all_images_in_one_exec(info_play: tuple[ContractHost, PlayRun]) -> None:
    host, run = info_play
    task = run.tasks[1]
    assert set(ids(task.result)) == ALL_IDS == {i["Id"] for i in host.state["images"]}
    assert len(task.result["images"]) == len(ALL_IDS)
    (exchange,) = task.exchanges
    listing, inspect = exchange.argvs
    assert listing == ["image", "ls", "--all", "--quiet", "--no-trunc"]
    # webapp has two tags, so `image ls` lists its ID twice; the host passes each ID once.
    assert inspect[:3] == ["image", "inspect", "--"] and sorted(inspect[3:]) == sorted(ALL_IDS)


def test_images_by_id(info_play: tuple[ContractHost, PlayRun]) -> None:
    _host, run = info_play
    task = run.tasks[2]
    assert sorted(ids(task.result)) == sorted([NANOSERVER_ID, PREVIOUS_ID])
    assert task.exchanges[0].argvs == [["image", "inspect", "--"] + BY_ID]


def test_reference_characters_arrive_unchanged(info_play: tuple[ContractHost, PlayRun]) -> None:
    _host, run = info_play
    task = run.tasks[3]
    assert task.result["images"] == []
    assert task.exchanges[0].argvs == [["image", "inspect", "--"] + EDGE]


def test_500_names_constant_command_line_and_chunked_calls(info_play: tuple[ContractHost, PlayRun]) -> None:
    host, run = info_play
    task = run.tasks[4]
    assert ids(task.result) == [SERVERCORE_ID]
    (exchange,) = task.exchanges
    # The docker calls are split so that each process's command line fits CreateProcess...
    assert len(exchange.processes) >= 2
    for process in exchange.processes:
        assert process["argv"][:3] == ["image", "inspect", "--"]
        assert process["command_line_length"] < CREATE_PROCESS_LIMIT
    assert [name for argv in exchange.argvs for name in argv[3:]] == MANY
    # ... while the command line of the exec does not grow with the input.
    commands = {e.raw["command"] for e in run.exchanges}
    scripts = {e.script_name for e in run.exchanges}
    assert scripts == {"run"}
    if host.transport == "psrp":
        assert commands == {None}  # psrp runs the decoded script in its runspace: no command line
    else:
        (command,) = commands
        assert len(command) == exchange.command_length < CMD_EXE_LIMIT
        assert exchange.stdin_bytes > len(" ".join(MANY)) > 20000  # the 500 names travel on stdin


def test_decoded_script_is_a_constant_script(info_play: tuple[ContractHost, PlayRun]) -> None:
    host, run = info_play
    scripts = known_scripts()
    for exchange in run.exchanges:
        assert scripts[exchange.script_name]  # the fake host matched it exactly
        if host.transport == "psrp":
            continue
        command = exchange.raw["collection_command"]
        assert command.startswith(POWERSHELL_PREFIX)
        decoded = base64.b64decode(command[len(POWERSHELL_PREFIX):]).decode("utf-16-le")
        assert decoded in scripts.values()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_docker_cli_missing(make_windows_host: Callable[..., ContractHost], transport: str) -> None:
    host = make_windows_host(transport, docker="missing")
    run = host.run([{"name": "info", MODULE: {"name": [SERVERCORE]}}])
    task = run.task
    assert task.failed and task.execs == 1
    assert task.msg.startswith(INVENTORY_HOSTNAME + ": the docker CLI was not found on the host"), task.msg
    assert "%ProgramFiles%\\Docker" in task.msg


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_engine_stopped(make_windows_host: Callable[..., ContractHost], transport: str) -> None:
    host = make_windows_host(transport, engine="stopped")
    run = host.run([
        {"name": "named", MODULE: {"name": [SERVERCORE]}, "ignore_errors": True},
        {"name": "all", MODULE: {}, "ignore_errors": True},
    ])
    for task in run.tasks:
        assert task.failed and task.execs == 1, (task.name, task.status, task.msg)
        assert task.msg.startswith(INVENTORY_HOSTNAME + ": the Docker engine is not reachable at "
                                   "npipe:////./pipe/docker_engine (docker's default endpoint)"), task.msg
        assert task.msg.endswith("Start the engine (Start-Service docker) or, if it listens elsewhere, give its address "
                                 "in docker_host (or DOCKER_HOST in the task's environment)"), task.msg


@pytest.mark.parametrize("transport", ["winrm"])
def test_engine_stopped_docker_cli_29_wording(make_windows_host: Callable[..., ContractHost], transport: str) -> None:
    host = make_windows_host(transport, engine="stopped", docker_cli="29")
    task = host.run([{"name": "named", MODULE: {"name": [SERVERCORE]}}]).task
    assert task.failed and task.execs == 1
    # docker's cause, without its own advice ("check if the path is correct and if the daemon is running")
    assert task.msg.startswith(INVENTORY_HOSTNAME + ": the Docker engine is not reachable at npipe:////./pipe/"
                               "docker_engine (docker's default endpoint): open //./pipe/docker_engine: The system "
                               "cannot find the file specified. Start the engine (Start-Service docker)"), task.msg
    assert "check if" not in task.msg and "running" not in task.msg
