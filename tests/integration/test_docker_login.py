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
