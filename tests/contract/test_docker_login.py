# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.docker_login over winrm, psrp and ssh: one exec
(login_state) reads the configuration and compares the stored credential with the task's salted
HMAC on the host; one more logs in (run), or in check mode verifies the credentials in a private
temporary configuration (login_verify); the password travels only on the stdin of docker login;
the wincred trap of remote sessions and its config_path fix."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator

import pytest

from contract_harness import TRANSPORTS, ContractHost, PlayRun, assert_secret_only_on_stdin

MODULE = "wincontainers.images.docker_login"
PASSWORD = "Reg1stry-P@ss'\"w0rd-\u00e9"  # what recorded/scenarios/registry.yml expects on stdin
STORED_SECRET = "Old-Stored-Secret"  # the password part of an auth stored in the host's config.json
OWN = "C:\\ProgramData\\ansible\\docker"
READY = "C:\\ProgramData\\ansible\\ready"  # deploy with STORED_SECRET for registry.contoso.test
CURRENT = "C:\\ProgramData\\ansible\\current"  # deploy with PASSWORD for registry.contoso.test
ROTATED = "C:\\ProgramData\\ansible\\rotated"  # deploy with STORED_SECRET for registry2.contoso.test
HELPER = "C:\\ProgramData\\ansible\\helper"  # credsStore desktop, which holds deploy with PASSWORD for registry2
TEMP = "C:\\Users\\ansible-svc\\AppData\\Local\\Temp\\wincontainers-login-"


def answered(exchange) -> dict:
    """The JSON answer of the exchange's script (its last output line)."""
    return json.loads(exchange.answer["output"][-1])


def login(registry, **options):
    return dict({"registry_url": registry, "username": "deploy", "password": "{{ registry_password }}"}, **options)


@pytest.fixture(scope="module", params=TRANSPORTS)
def login_play(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[PlayRun]:
    host = new_windows_host(request.param, "registry")
    run = host.run([
        {"name": "wincred trap", MODULE: login("registry.contoso.test"), "ignore_errors": True},
        {"name": "own configuration", MODULE: login("registry2.contoso.test", config_path=OWN), "diff": True},
        {"name": "already logged in", MODULE: login("https://registry.contoso.test/v2/",
                                                    config_path=CURRENT + "\\config.json")},
        {"name": "rotated password", MODULE: login("registry2.contoso.test", config_path=ROTATED), "diff": True},
        {"name": "credential helper", MODULE: login("registry2.contoso.test", config_path=HELPER)},
        {"name": "check mode", MODULE: login("registry2.contoso.test", config_path=OWN), "check_mode": True},
        {"name": "check mode, same", MODULE: login("registry.contoso.test", config_path=CURRENT), "check_mode": True},
        {"name": "check mode, wrong", MODULE: login("registry2.contoso.test", config_path=ROTATED,
                                                    password="{{ registry_password }}-wrong"),
         "check_mode": True, "ignore_errors": True},
        {"name": "logout", MODULE: {"registry_url": "registry.contoso.test", "state": "absent", "config_path": READY}},
        {"name": "bad registry", MODULE: login("ftp://registry.contoso.test"), "ignore_errors": True},
    ], extra_vars={"registry_password": PASSWORD}, verbosity=3)
    yield run
    host.close()


def test_the_password_travels_only_on_stdin(login_play: PlayRun) -> None:
    for secret in (PASSWORD, PASSWORD + "-wrong"):
        assert_secret_only_on_stdin(login_play.exchanges, secret)
    logins = [p for e in login_play.exchanges for p in e.processes if p["argv"][:1] == ["login"]]
    assert len(logins) == 5 and all(p["stdin"] in (PASSWORD, PASSWORD + "-wrong") for p in logins)
    for secret in (PASSWORD, STORED_SECRET):
        assert secret not in login_play.stdout and secret not in login_play.stderr
        assert secret not in json.dumps([t.result for t in login_play.tasks], ensure_ascii=False)
    for exchange in login_play.exchanges:
        if exchange.script_name == "login_state":
            answer = json.dumps(answered(exchange), ensure_ascii=False) + json.dumps(exchange.answer)
            assert STORED_SECRET not in answer and PASSWORD not in answer, "the host answered a password"
            assert exchange.request.get("digest", "(none)") not in answer, "the host answered the hash"
            assert "password" not in exchange.request and PASSWORD not in json.dumps(exchange.request, ensure_ascii=False)


def test_the_state_request_is_a_salted_hmac_of_the_credentials(login_play: PlayRun) -> None:
    salts = set()
    for exchange in login_play.exchanges:
        request = exchange.request
        if exchange.script_name == "login_state" and "digest" in request:
            salt = base64.b64decode(request["salt"])
            expected = hmac.new(salt, ("deploy:" + PASSWORD).encode("utf-8"), hashlib.sha256).digest()
            wrong = hmac.new(salt, ("deploy:" + PASSWORD + "-wrong").encode("utf-8"), hashlib.sha256).digest()
            assert base64.b64decode(request["digest"]) in (expected, wrong) and len(salt) == 32
            salts.add(request["salt"])
    assert len(salts) == 8  # a new salt for every task that logs in


def test_the_wincred_trap_fails_with_the_fix(login_play: PlayRun) -> None:
    trapped = login_play.named("wincred trap")
    assert trapped.failed and not trapped.changed and trapped.execs == 2
    assert [e.script_name for e in trapped.exchanges] == ["login_state", "run"]
    assert "logon session does not exist" in trapped.msg and "set config_path" in trapped.msg
    [process] = trapped.exchanges[1].processes
    assert "env" not in process  # the host's own configuration, as the user asked


def test_own_configuration_logs_in_without_the_helper(login_play: PlayRun) -> None:
    own = login_play.named("own configuration")
    assert own.status == "ok" and own.changed and own.execs == 2
    read, write = own.exchanges
    assert read.request["config_dir"] == OWN and read.request["hosts"] == ["registry2.contoso.test"]
    [process] = write.processes
    assert process["argv"] == ["login", "--username", "deploy", "--password-stdin", "--", "registry2.contoso.test"]
    assert process["env"] == {"DOCKER_CONFIG": OWN, "PATH": ""}
    assert own.result["config_file"] == OWN + "\\config.json" and own.result["credentials_store"] == "file"
    assert own.result["diff"] == {"before": {"logged_in": False, "username": None},
                                  "after": {"logged_in": True, "username": "deploy"}}
    assert own.result["login_result"] == {"serveraddress": "registry2.contoso.test", "username": "deploy"}


def test_the_same_credentials_are_one_exec(login_play: PlayRun) -> None:
    ready = login_play.named("already logged in")
    assert ready.status == "ok" and not ready.changed and ready.execs == 1
    assert ready.exchanges[0].script_name == "login_state" and ready.exchanges[0].processes == []
    assert answered(ready.exchanges[0])["auths"]["registry.contoso.test"]["credential"] == "match"
    assert ready.result["registry"] == "registry.contoso.test"


def test_a_rotated_password_logs_in_again(login_play: PlayRun) -> None:
    rotated = login_play.named("rotated password")
    assert rotated.status == "ok" and rotated.changed and rotated.execs == 2
    assert answered(rotated.exchanges[0])["auths"]["registry2.contoso.test"]["credential"] == "differs"
    assert rotated.exchanges[1].processes[0]["argv"][:1] == ["login"]


def test_a_credential_helper_is_compared_through_get(login_play: PlayRun) -> None:
    helper = login_play.named("credential helper")
    assert helper.status == "ok" and not helper.changed and helper.execs == 1
    [read] = helper.exchanges
    assert [(p["exe"], p["argv"], p.get("stdin")) for p in read.processes] == [
        ("docker-credential-desktop", ["list"], None), ("docker-credential-desktop", ["get"], "registry2.contoso.test")]
    assert answered(read)["helpers"]["desktop"]["credentials"] == {"registry2.contoso.test": "match"}
    assert helper.result["credentials_store"] == "desktop"


def test_check_mode_verifies_in_a_private_temporary_configuration(login_play: PlayRun) -> None:
    checked = login_play.named("check mode")
    assert checked.status == "ok" and checked.changed and checked.execs == 2
    assert [e.script_name for e in checked.exchanges] == ["login_state", "login_verify"]
    verify = checked.exchanges[1]
    [process] = verify.processes
    assert process["argv"] == ["login", "--username", "deploy", "--password-stdin", "--", "registry2.contoso.test"]
    assert process["stdin"] == PASSWORD and "stdin_preamble" not in process
    assert process["env"]["DOCKER_CONFIG"].startswith(TEMP) and process["env"]["DOCKER_CONFIG"] != OWN
    assert verify.raw["temp_dir"]["protected"] and verify.raw["temp_dir"]["removed"]
    same = login_play.named("check mode, same")
    assert same.status == "ok" and not same.changed and same.execs == 1


def test_a_wrong_password_fails_in_check_mode(login_play: PlayRun) -> None:
    wrong = login_play.named("check mode, wrong")
    assert wrong.failed and not wrong.changed and wrong.execs == 2
    assert "incorrect username or password" in wrong.msg and "check mode" in wrong.msg
    assert ROTATED + "\\config.json was not changed" in wrong.msg


def test_logout(login_play: PlayRun) -> None:
    logout = login_play.named("logout")
    assert logout.status == "ok" and logout.changed and logout.execs == 2
    assert "digest" not in logout.exchanges[0].request
    assert logout.exchanges[1].argvs == [["logout", "--", "registry.contoso.test"]]
    assert logout.exchanges[1].processes[0]["env"] == {"DOCKER_CONFIG": READY}
    assert "login_result" not in logout.result


def test_bad_input_runs_nothing(login_play: PlayRun) -> None:
    bad = login_play.named("bad registry")
    assert bad.failed and bad.execs == 0 and bad.msg.startswith("registry_url: ")


def test_every_exec_is_a_constant_script_on_a_short_command_line(login_play: PlayRun) -> None:
    for exchange in login_play.exchanges:
        assert exchange.script_name in ("login_state", "login_verify", "run")
        if exchange.command is not None:
            assert exchange.command_length < 8191


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_bom_reaches_the_password_whatever_the_console_code_page(make_windows_host, transport) -> None:
    """.NET Framework writes Console.InputEncoding's preamble into a redirected stdin: with code page
    65001 (WinRS shells, chcp 65001, the "Use Unicode UTF-8" locale) docker login would read a BOM
    before the password and the registry would refuse it."""
    host = make_windows_host(transport, "registry", console_code_page=65001)
    run = host.run([{"name": "check", MODULE: login("registry2.contoso.test", config_path=OWN), "check_mode": True},
                    {"name": "login", MODULE: login("registry2.contoso.test", config_path=OWN)}],
                   extra_vars={"registry_password": PASSWORD})
    for name in ("check", "login"):
        task = run.named(name)
        assert task.status == "ok" and task.changed, task.msg
        [process] = [p for e in task.exchanges for p in e.processes if p["argv"][:1] == ["login"]]
        assert process["stdin"] == PASSWORD and "stdin_preamble" not in process
