# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docker_login against the real TLS + basic auth registry: check mode, login, idempotence,
reauthorize, wrong password, logout, the wincred trap (simulated by a failing credential
helper) and where the password goes (nowhere but the stdin of docker login)."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from pathlib import Path

import pytest

import registry_support as rs

LOGIN = "wincontainers.images.docker_login"
LOGON_SESSION = "A specified logon session does not exist. It may already have been terminated."


def login_task(engine, config, name="login", registry=None, **options):
    arguments = {"registry_url": registry or engine.registry_auth, "username": engine.registry_user,
                 "password": "{{ registry_password }}"}
    if config is not None:
        arguments["config_path"] = str(config)
    arguments.update(options)
    return {"name": name, LOGIN: arguments}


def logout_task(engine, config, name="logout", registry=None):
    return {"name": name, LOGIN: {"registry_url": registry or engine.registry_auth, "state": "absent",
                                  "config_path": str(config)}}


def stored_users(config: Path) -> dict[str, str]:
    """registry -> user of the credentials in config.json (decoded here, never printed)."""
    path = config / "config.json"
    if not path.exists():
        return {}
    auths = json.loads(path.read_text(encoding="utf-8")).get("auths") or {}
    return {key: base64.b64decode(entry["auth"]).decode().split(":", 1)[0]
            for key, entry in auths.items() if entry.get("auth")}


@pytest.fixture
def secret(engine):
    return {"registry_password": engine.registry_password}


def test_check_login_idempotence_reauthorize_and_logout(run_playbook, engine, tmp_path, secret):
    config = tmp_path / "config"
    check = run_playbook([login_task(engine, config)], check=True, diff=True, extra_vars=secret).assert_ok()
    assert check.task("login")["changed"] is True
    assert check.task("login")["result"]["diff"]["before"] == {"logged_in": False, "username": None}
    assert not (config / "config.json").exists(), "check mode wrote the configuration"

    run = run_playbook([
        login_task(engine, config, name="first"),
        login_task(engine, config, name="second", registry="https://%s/v2/" % engine.registry_auth),
        login_task(engine, config / "config.json", name="second, config.json path"),
        login_task(engine, config, name="reauthorize", reauthorize=True),
        dict(logout_task(engine, config, name="logout predicted"), check_mode=True),
    ], extra_vars=secret).assert_ok()
    first = run.task("first")["result"]
    assert first["changed"] is True and first["registry"] == engine.registry_auth
    assert first["config_file"] == str(config / "config.json") and first["credentials_store"] == "file"
    assert run.task("second")["changed"] is False
    assert run.task("second, config.json path")["changed"] is False
    assert run.task("reauthorize")["changed"] is True
    assert run.task("logout predicted")["changed"] is True
    assert stored_users(config) == {engine.registry_auth: engine.registry_user}

    run = run_playbook([logout_task(engine, config), logout_task(engine, config, name="logout again")],
                       diff=True).assert_ok()
    assert run.task("logout")["changed"] is True
    assert run.task("logout")["result"]["diff"]["before"] == {"logged_in": True, "username": engine.registry_user}
    assert run.task("logout again")["changed"] is False
    assert stored_users(config) == {}


def test_a_wrong_password_fails_and_writes_nothing(run_playbook, engine, tmp_path, secret):
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    kept = tmp_path / "kept"
    run_playbook([login_task(engine, kept)], extra_vars=secret).assert_ok()
    before = (kept / "config.json").read_bytes()
    wrong = {"registry_password": "not-" + engine.registry_password}
    run = run_playbook([
        dict(login_task(engine, fresh, name="fresh"), ignore_errors=True),
        dict(login_task(engine, kept, name="kept", reauthorize=True), ignore_errors=True),
    ], extra_vars=wrong)
    for name in ("fresh", "kept"):
        task = run.task(name)
        assert task["failed"] and task["changed"] is False
        assert "login to %s as %s failed" % (engine.registry_auth, engine.registry_user) in task["msg"]
        assert "401" in task["msg"] and "nothing was changed" in task["msg"]
    assert list(fresh.iterdir()) == []
    assert (kept / "config.json").read_bytes() == before


def test_logging_in_to_the_registry_dockerd_verifies(run_playbook, engine, tmp_path, secret):
    if not engine.registry_tls:
        pytest.fail("scripts/engine.sh did not set up the strict TLS twin of the authenticated registry")
    config = tmp_path / "config"
    run = run_playbook([login_task(engine, config, registry=engine.registry_tls),
                        login_task(engine, config, name="again", registry=engine.registry_tls)],
                       extra_vars=secret).assert_ok()
    assert run.task("login")["changed"] is True and run.task("again")["changed"] is False
    assert stored_users(config) == {engine.registry_tls: engine.registry_user}


def test_bad_input_fails_before_anything_runs(run_playbook, engine, tmp_path):
    run = run_playbook([
        dict({"name": "no password", LOGIN: {"registry_url": engine.registry_auth, "username": "u"}}, ignore_errors=True),
        dict({"name": "bad url", LOGIN: {"registry_url": "ftp://x", "username": "u", "password": "pw-0123456789"}},
             ignore_errors=True),
        dict({"name": "bad user", LOGIN: {"registry_url": engine.registry_auth, "username": "a:b", "password": "pw-0123456789"}},
             ignore_errors=True),
    ])
    assert run.task("no password")["msg"] == "password: required with state=present (and it cannot be empty)"
    assert run.task("bad url")["msg"].startswith("registry_url: 'ftp://x' is not a registry address")
    assert run.task("bad user")["msg"].startswith("username: 'a:b' cannot be used")


FAILING_HELPER = """#!/bin/sh
# Stands in for docker-credential-wincred in a WinRM session: every request fails.
echo '%s'
exit 1
""" % LOGON_SESSION


def test_the_wincred_trap_and_the_config_path_fix(run_playbook, engine, tmp_path, secret):
    """A credential helper that Docker picks by itself and that cannot work in the session (as
    wincred in WinRM): without config_path the login fails with the hint, with it it works."""
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    for name in ("secretservice", "pass"):
        helper = helpers / ("docker-credential-" + name)
        helper.write_text(FAILING_HELPER, encoding="utf-8")
        helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    path = os.pathsep.join([str(helpers), str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)])
    own = tmp_path / "own-config"
    run = run_playbook([
        dict(login_task(engine, None, name="default configuration"), ignore_errors=True),
        login_task(engine, own, name="own configuration"),
        login_task(engine, own, name="own configuration again"),
    ], extra_vars=secret, env={"PATH": path})
    trapped = run.task("default configuration")
    assert trapped["failed"] and trapped["changed"] is False
    assert "logon session does not exist" in trapped["msg"] and "set config_path" in trapped["msg"]
    assert not (run.docker_config / "config.json").exists()
    fixed = run.task("own configuration")
    assert fixed["changed"] is True and fixed["result"]["credentials_store"] == "file"
    assert run.task("own configuration again")["changed"] is False
    assert stored_users(own) == {engine.registry_auth: engine.registry_user}


def test_the_password_is_in_nothing_but_the_stdin_of_docker_login(run_playbook, engine, tmp_path, secret):
    """Everything sent to the host (command lines and stdin), every result and the -vvv output of
    a real run: the password is only in the stdin of the docker login call."""
    password = engine.registry_password
    config = tmp_path / "config"
    exchange = tmp_path / "exchange.jsonl"
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "wc_flaky",
                                                 "ansible_python_interpreter": sys.executable}}}}
    run = run_playbook([
        login_task(engine, config, name="login"),
        login_task(engine, config, name="again"),
        dict(login_task(engine, config, name="wrong", registry=engine.registry_tls or engine.registry_auth,
                        password="{{ registry_password }}-wrong"), ignore_errors=True),
        logout_task(engine, config),
    ], extra_vars=secret, verbosity=3, connection="wc_flaky", inventory=inventory,
        env={"ANSIBLE_CONNECTION_PLUGINS": str(rs.CONNECTION_PLUGINS), "WC_EXCHANGE_LOG": str(exchange)})
    assert run.task("login")["changed"] is True and run.task("again")["changed"] is False
    assert run.task("wrong")["failed"] and run.task("logout")["changed"] is True

    assert password not in run.stdout and password not in run.stderr, "the password is in the -vvv output"
    assert "EXEC" in run.stdout  # -vvv really shows the commands
    assert password not in json.dumps(run.results), "the password is in a task result"
    results_file = run.workdir / "results.jsonl"
    assert password not in results_file.read_text(encoding="utf-8")

    exchanges = [json.loads(line) for line in exchange.read_text(encoding="utf-8").splitlines()]
    assert len(exchanges) == 7  # read + login, read, read + login, read + logout
    carried = 0
    for sent in exchanges:
        assert password not in sent["cmd"], "the password is on a command line"
        request = json.loads(sent["stdin"])
        for call in request.get("calls") or []:
            if call.get("stdin") is not None:
                assert call["argv"][:1] == ["login"] and "--password-stdin" in call["argv"]
                assert call["stdin"].startswith(password)
                carried += 1
                call["stdin"] = "(removed)"
        assert password not in json.dumps(request), "the password is in a request outside a login's stdin"
    assert carried == 2


# --- issue 12, defect 3: the stored credential, not just the user, decides ---------------------

def store_credentials(config: Path, registry: str, user: str, password: str) -> None:
    """A config.json as docker login writes it (auth = base64 of user:password)."""
    config.mkdir(parents=True, exist_ok=True)
    encoded = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    (config / "config.json").write_text(json.dumps({"auths": {registry: {"auth": encoded}}}, indent="\t"), encoding="utf-8")


def stored_pair(config: Path, registry: str) -> tuple[str, str]:
    entry = json.loads((config / "config.json").read_text(encoding="utf-8"))["auths"][registry]
    user, password = base64.b64decode(entry["auth"]).decode().split(":", 1)
    return user, password


def login_dirs() -> set[str]:
    """The private directories of login_verify left in the temporary directory (none, ever)."""
    import tempfile
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith("wincontainers-login-")}


def test_a_wrong_password_fails_in_check_mode_too(run_playbook, engine, tmp_path, secret):
    fresh = tmp_path / "fresh"
    kept = tmp_path / "kept"
    run_playbook([login_task(engine, kept)], extra_vars=secret).assert_ok()
    before = (kept / "config.json").read_bytes()
    leftovers = login_dirs()
    wrong = {"registry_password": "not-" + engine.registry_password}
    run = run_playbook([
        dict(login_task(engine, fresh, name="fresh"), ignore_errors=True),
        dict(login_task(engine, kept, name="kept"), ignore_errors=True),
        dict(login_task(engine, kept, name="kept, reauthorize", reauthorize=True), ignore_errors=True),
    ], check=True, extra_vars=wrong)
    for name in ("fresh", "kept", "kept, reauthorize"):
        task = run.task(name)
        assert task["failed"] and task["changed"] is False, (name, task)
        assert "login to %s as %s failed" % (engine.registry_auth, engine.registry_user) in task["msg"]
        assert "401" in task["msg"] and "check mode" in task["msg"]
    assert not fresh.exists() or list(fresh.iterdir()) == []
    assert (kept / "config.json").read_bytes() == before
    assert login_dirs() <= leftovers, "check mode left its temporary Docker configuration behind"


def test_check_mode_with_the_right_password_predicts_the_change_and_writes_nothing(run_playbook, engine, tmp_path, secret):
    fresh = tmp_path / "fresh"
    rotated = tmp_path / "rotated"
    store_credentials(rotated, engine.registry_auth, engine.registry_user, "old-" + engine.registry_password)
    before = (rotated / "config.json").read_bytes()
    run = run_playbook([login_task(engine, fresh, name="fresh"), login_task(engine, rotated, name="rotated")],
                       check=True, diff=True, extra_vars=secret).assert_ok()
    assert run.task("fresh")["changed"] is True and run.task("rotated")["changed"] is True
    assert not (fresh / "config.json").exists()
    assert (rotated / "config.json").read_bytes() == before


def test_a_wrong_password_for_the_logged_in_user_is_not_accepted(run_playbook, engine, tmp_path, secret):
    config = tmp_path / "config"
    run_playbook([login_task(engine, config)], extra_vars=secret).assert_ok()
    before = (config / "config.json").read_bytes()
    run = run_playbook([dict(login_task(engine, config, name="wrong"), ignore_errors=True)],
                       extra_vars={"registry_password": "not-" + engine.registry_password})
    task = run.task("wrong")
    assert task["failed"] and task["changed"] is False, task
    assert "401" in task["msg"] and "still holds the credentials stored before" in task["msg"]
    assert (config / "config.json").read_bytes() == before


def test_a_rotated_password_logs_in_again(run_playbook, engine, tmp_path, secret):
    config = tmp_path / "config"
    store_credentials(config, engine.registry_auth, engine.registry_user, "old-" + engine.registry_password)
    run = run_playbook([login_task(engine, config, name="rotated"), login_task(engine, config, name="again")],
                       diff=True, extra_vars=secret).assert_ok()
    assert run.task("rotated")["changed"] is True and run.task("again")["changed"] is False
    assert stored_pair(config, engine.registry_auth) == (engine.registry_user, engine.registry_password)


def test_another_user_stored_logs_in_again(run_playbook, engine, tmp_path, secret):
    config = tmp_path / "config"
    store_credentials(config, engine.registry_auth, "someone-else", engine.registry_password)
    run = run_playbook([login_task(engine, config, name="other user")], extra_vars=secret).assert_ok()
    assert run.task("other user")["changed"] is True
    assert stored_pair(config, engine.registry_auth)[0] == engine.registry_user


def test_the_password_is_in_no_output_on_any_path(run_playbook, engine, tmp_path, secret):
    """-vvvv output, every result and every request sent to the host, for success and failure, with
    and without check mode: the password is only on the stdin of a docker login call (a real one, or
    login_verify's), and the login_state request carries only a salted HMAC."""
    password = engine.registry_password
    wrong = password + "-wrong"
    config = tmp_path / "config"
    exchange = tmp_path / "exchange.jsonl"
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "wc_flaky",
                                                 "ansible_python_interpreter": sys.executable}}}}
    tasks = [
        dict(login_task(engine, config, name="check, right"), check_mode=True),
        dict(login_task(engine, config, name="check, wrong", password=wrong), check_mode=True, ignore_errors=True),
        login_task(engine, config, name="login"),
        login_task(engine, config, name="again"),
        dict(login_task(engine, config, name="check, same"), check_mode=True),
        dict(login_task(engine, config, name="wrong", password=wrong), ignore_errors=True),
        dict(login_task(engine, config, name="check, rotated", password=wrong), check_mode=True, ignore_errors=True),
        logout_task(engine, config),
    ]
    run = run_playbook(tasks, extra_vars={"registry_password": password, "wrong_password": wrong}, verbosity=4,
                       diff=True, connection="wc_flaky", inventory=inventory,
                       env={"ANSIBLE_CONNECTION_PLUGINS": str(rs.CONNECTION_PLUGINS), "WC_EXCHANGE_LOG": str(exchange)})
    assert run.task("check, right")["changed"] is True and run.task("check, wrong")["failed"]
    assert run.task("login")["changed"] is True and run.task("again")["changed"] is False
    assert run.task("check, same")["changed"] is False
    assert run.task("wrong")["failed"] and run.task("check, rotated")["failed"]
    assert run.task("logout")["changed"] is True
    assert "<ESTABLISH" in run.stdout or "EXEC" in run.stdout  # -vvvv really shows the connection
    for secret_text in (password, wrong):
        assert secret_text not in run.stdout and secret_text not in run.stderr, "a password is in the -vvvv output"
        assert secret_text not in json.dumps(run.results), "a password is in a task result"
        assert secret_text not in (run.workdir / "results.jsonl").read_text(encoding="utf-8")

    exchanges = [json.loads(line) for line in exchange.read_text(encoding="utf-8").splitlines()]
    carried = {"run": 0, "login_verify": 0}
    for sent in exchanges:
        assert password not in sent["cmd"] and wrong not in sent["cmd"], "a password is on a command line"
        request = json.loads(sent["stdin"])
        calls = list(request.get("calls") or []) + ([request["call"]] if "call" in request else [])
        for call in calls:
            if call.get("stdin") is not None:
                assert call["argv"][:1] == ["login"] and "--password-stdin" in call["argv"]
                assert call["stdin"] in (password, wrong)
                carried["login_verify" if "call" in request else "run"] += 1
                call["stdin"] = "(removed)"
        if "digest" in request:
            assert set(request) == {"config_dir", "hosts", "server", "salt", "digest"}
        text = json.dumps(request)
        assert password not in text and wrong not in text, "a password is in a request outside a login's stdin"
    # real logins: "login" and "wrong"; verified: "check, right", "check, wrong", "check, rotated"
    assert carried == {"run": 2, "login_verify": 3}
