# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.docker_login over winrm, psrp and ssh: one exec to
read the configuration (user names only), one more to log in; the password travels only on the
stdin of docker login; the wincred trap of remote sessions and its config_path fix."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from contract_harness import TRANSPORTS, ContractHost, PlayRun, assert_secret_only_on_stdin

MODULE = "wincontainers.images.docker_login"
PASSWORD = "Reg1stry-P@ss'\"w0rd-\u00e9"  # what recorded/scenarios/registry.yml expects on stdin
STORED_SECRET = "Old-Stored-Secret"  # the password part of an auth stored in the host's config.json
OWN = "C:\\ProgramData\\ansible\\docker"
READY = "C:\\ProgramData\\ansible\\ready"


def login(registry, **options):
    return dict({"registry_url": registry, "username": "deploy", "password": "{{ registry_password }}"}, **options)


@pytest.fixture(scope="module", params=TRANSPORTS)
def login_play(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[PlayRun]:
    host = new_windows_host(request.param, "registry")
    run = host.run([
        {"name": "wincred trap", MODULE: login("registry.contoso.test"), "ignore_errors": True},
        {"name": "own configuration", MODULE: login("registry2.contoso.test", config_path=OWN), "diff": True},
        {"name": "already logged in", MODULE: login("https://registry.contoso.test/v2/",
                                                    config_path=READY + "\\config.json")},
        {"name": "check mode", MODULE: login("registry2.contoso.test", config_path=OWN), "check_mode": True},
        {"name": "logout", MODULE: {"registry_url": "registry.contoso.test", "state": "absent", "config_path": READY}},
        {"name": "bad registry", MODULE: login("ftp://registry.contoso.test"), "ignore_errors": True},
    ], extra_vars={"registry_password": PASSWORD}, verbosity=3)
    yield run
    host.close()


def test_the_password_travels_only_on_stdin(login_play: PlayRun) -> None:
    assert_secret_only_on_stdin(login_play.exchanges, PASSWORD)
    logins = [p for e in login_play.exchanges for p in e.processes if p["argv"][:1] == ["login"]]
    assert len(logins) == 2 and all(p["stdin"] == PASSWORD for p in logins)
    for secret in (PASSWORD, STORED_SECRET):
        assert secret not in login_play.stdout and secret not in login_play.stderr
        assert secret not in json.dumps([t.result for t in login_play.tasks], ensure_ascii=False)
    for exchange in login_play.exchanges:
        if exchange.script_name == "docker_config":
            assert STORED_SECRET not in json.dumps(exchange.answer), "the host answered a stored password"


def test_the_wincred_trap_fails_with_the_fix(login_play: PlayRun) -> None:
    trapped = login_play.named("wincred trap")
    assert trapped.failed and not trapped.changed and trapped.execs == 2
    assert [e.script_name for e in trapped.exchanges] == ["docker_config", "run"]
    assert "logon session does not exist" in trapped.msg and "set config_path" in trapped.msg
    [process] = trapped.exchanges[1].processes
    assert "env" not in process  # the host's own configuration, as the user asked


def test_own_configuration_logs_in_without_the_helper(login_play: PlayRun) -> None:
    own = login_play.named("own configuration")
    assert own.status == "ok" and own.changed and own.execs == 2
    read, write = own.exchanges
    assert read.request == {"config_dir": OWN}
    [process] = write.processes
    assert process["argv"] == ["login", "--username", "deploy", "--password-stdin", "--", "registry2.contoso.test"]
    assert process["env"] == {"DOCKER_CONFIG": OWN, "PATH": ""}
    assert own.result["config_file"] == OWN + "\\config.json" and own.result["credentials_store"] == "file"
    assert own.result["diff"] == {"before": {"logged_in": False, "username": None},
                                  "after": {"logged_in": True, "username": "deploy"}}


def test_already_logged_in_is_one_exec(login_play: PlayRun) -> None:
    ready = login_play.named("already logged in")
    assert ready.status == "ok" and not ready.changed and ready.execs == 1
    assert ready.exchanges[0].script_name == "docker_config" and ready.exchanges[0].processes == []
    assert ready.result["registry"] == "registry.contoso.test"


def test_check_mode_reads_only(login_play: PlayRun) -> None:
    checked = login_play.named("check mode")
    assert checked.status == "ok" and checked.changed and checked.execs == 1


def test_logout(login_play: PlayRun) -> None:
    logout = login_play.named("logout")
    assert logout.status == "ok" and logout.changed and logout.execs == 2
    assert logout.exchanges[1].argvs == [["logout", "--", "registry.contoso.test"]]
    assert logout.exchanges[1].processes[0]["env"] == {"DOCKER_CONFIG": READY}


def test_bad_input_runs_nothing(login_play: PlayRun) -> None:
    bad = login_play.named("bad registry")
    assert bad.failed and bad.execs == 0 and bad.msg.startswith("registry_url: ")


def test_every_exec_is_a_constant_script_on_a_short_command_line(login_play: PlayRun) -> None:
    for exchange in login_play.exchanges:
        assert exchange.script_name in ("docker_config", "run")
        if exchange.command is not None:
            assert exchange.command_length < 8191


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_bom_reaches_the_password_whatever_the_console_code_page(make_windows_host, transport) -> None:
    """.NET Framework writes Console.InputEncoding's preamble into a redirected stdin: with code page
    65001 (WinRS shells, chcp 65001, the "Use Unicode UTF-8" locale) docker login would read a BOM
    before the password and the registry would refuse it."""
    host = make_windows_host(transport, "registry", console_code_page=65001)
    run = host.run([{"name": "login", MODULE: login("registry2.contoso.test", config_path=OWN)}],
                   extra_vars={"registry_password": PASSWORD})
    task = run.named("login")
    assert task.status == "ok" and task.changed, task.msg
    [process] = [p for e in task.exchanges for p in e.processes if p["argv"][:1] == ["login"]]
    assert process["stdin"] == PASSWORD and "stdin_preamble" not in process
