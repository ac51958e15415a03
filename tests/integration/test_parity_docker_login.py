# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docker_login behaves as community.docker.docker_login does for a playbook that uses only the
options both have: registry_url (alias registry), username, password, reauthorize (alias reauth),
config_path (alias dockercfg_path, given as the path of a config.json as community.docker takes
it) and state. What community.docker documents and these tests hold us to, against the real TLS
+ basic auth registry, over the local connection and a real ssh login:

* a login reports a change and stores the credentials; the same login again reports none;
* a changed password stored for the user is a change (its module compares the stored secret);
* check mode performs the authentication without updating the configuration, so a wrong
  password fails in check mode as well;
* reauthorize logs in again (a change);
* state=absent removes the credentials (a change), and a second logout reports none; in check
  mode it reports the change and removes nothing;
* the return value login_result: a dict with serveraddress and username (its documented sample),
  returned with state=present; the password is never in it.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

LOGIN = "wincontainers.images.docker_login"


@pytest.fixture
def secret(engine):
    return {"registry_password": engine.registry_password}


def shared(engine, config: Path, **options):
    """Only options community.docker.docker_login has too, spelled with its aliases where it has some."""
    arguments = {"registry": engine.registry_auth, "username": engine.registry_user,
                 "password": "{{ registry_password }}", "dockercfg_path": str(config / "config.json")}
    arguments.update(options)
    return arguments


def task(name, arguments, **keys):
    return dict({"name": name, LOGIN: arguments, "register": "out"}, **keys)


def stored(config: Path) -> dict[str, tuple[str, str]]:
    path = config / "config.json"
    if not path.exists():
        return {}
    auths = json.loads(path.read_text(encoding="utf-8")).get("auths") or {}
    return {key: tuple(base64.b64decode(entry["auth"]).decode().split(":", 1))
            for key, entry in auths.items() if entry.get("auth")}


def test_login_idempotence_reauthorize_and_logout(run_playbook, engine, tmp_path, secret, target):
    config = tmp_path / "cfg"
    config.mkdir()
    pair = (engine.registry_user, engine.registry_password)
    run = run_playbook([
        task("check mode", shared(engine, config), check_mode=True),
        task("login", shared(engine, config)),
        task("again", shared(engine, config)),
        task("url spelling", shared(engine, config, registry="https://%s" % engine.registry_auth)),
        task("reauth", shared(engine, config, reauth=True)),
        task("logout, check mode", {"registry_url": engine.registry_auth, "state": "absent",
                                    "config_path": str(config / "config.json")}, check_mode=True),
    ], extra_vars=secret, target=target).assert_ok()
    assert run.task("check mode")["changed"] is True
    assert run.task("login")["changed"] is True
    assert run.task("again")["changed"] is False and run.task("url spelling")["changed"] is False
    assert run.task("reauth")["changed"] is True
    assert run.task("logout, check mode")["changed"] is True
    assert stored(config) == {engine.registry_auth: pair}

    run = run_playbook([
        task("logout", {"registry_url": engine.registry_auth, "state": "absent", "dockercfg_path": str(config / "config.json")}),
        task("logout again", {"registry_url": engine.registry_auth, "state": "absent",
                              "dockercfg_path": str(config / "config.json")}),
    ], target=target).assert_ok()
    assert run.task("logout")["changed"] is True and run.task("logout again")["changed"] is False
    assert stored(config) == {}


def test_check_mode_authenticates_without_updating_the_configuration(run_playbook, engine, tmp_path, secret, target):
    config = tmp_path / "cfg"
    config.mkdir()
    run = run_playbook([
        task("right", shared(engine, config), check_mode=True),
        task("wrong", shared(engine, config, password="{{ registry_password }}-wrong"), check_mode=True,
             ignore_errors=True),
    ], extra_vars=secret, target=target)
    assert run.task("right")["changed"] is True and not run.task("right").get("failed")
    assert run.task("wrong")["failed"] is True and run.task("wrong")["changed"] is False
    assert stored(config) == {}


def test_a_rotated_password_is_a_change(run_playbook, engine, tmp_path, secret, target):
    config = tmp_path / "cfg"
    config.mkdir()
    old = base64.b64encode(("%s:old-%s" % (engine.registry_user, engine.registry_password)).encode()).decode()
    (config / "config.json").write_text(json.dumps({"auths": {engine.registry_auth: {"auth": old}}}), encoding="utf-8")
    run = run_playbook([
        task("wrong password", shared(engine, config, password="{{ registry_password }}-wrong"), ignore_errors=True),
        task("check mode", shared(engine, config), check_mode=True),
        task("rotated", shared(engine, config)),
        task("again", shared(engine, config)),
    ], extra_vars=secret, target=target)
    assert run.task("wrong password")["failed"] is True
    assert run.task("check mode")["changed"] is True
    assert run.task("rotated")["changed"] is True and run.task("again")["changed"] is False
    assert stored(config) == {engine.registry_auth: (engine.registry_user, engine.registry_password)}


def test_return_values(run_playbook, engine, tmp_path, secret, target):
    config = tmp_path / "cfg"
    config.mkdir()
    run = run_playbook([
        task("login", shared(engine, config)),
        task("again", shared(engine, config)),
        task("logout", {"registry_url": engine.registry_auth, "state": "absent", "config_path": str(config / "config.json")}),
    ], extra_vars=secret, target=target).assert_ok()
    for name in ("login", "again"):
        result = run.task(name)["result"]
        assert result["login_result"] == {"serveraddress": engine.registry_auth, "username": engine.registry_user}
    assert "login_result" not in run.task("logout")["result"]
    assert engine.registry_password not in json.dumps(run.results)
