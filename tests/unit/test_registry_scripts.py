# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``login_state`` script of the POSIX dialect without a credential to compare, run for real on configuration files and
fake credential helpers: it answers user names, and never a password or a helper's secret.

(The PowerShell twin is parsed and pinned by test_powershell_scripts.py and emulated by the
contract tests' fake Windows host.)
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import PosixDialect, encode_request
from ansible_collections.wincontainers.images.plugins.plugin_utils.registry import (
    DockerConfig,
    parse_registry_url,
)

SECRET = "hunter2-S3cret"


def helper(directory: Path, name: str, body: str) -> None:
    path = directory / ("docker-credential-" + name)
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)


def read_config(tmp_path: Path, config: dict | str | None, request: dict | None = None, helpers: dict | None = None,
                env: dict | None = None) -> dict:
    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True, exist_ok=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in (helpers or {}).items():
        helper(bin_dir, name, body)
    if config is not None:
        text = config if isinstance(config, str) else json.dumps(config)
        (home / ".docker" / "config.json").write_text(text, encoding="utf-8")
    environment = {"PATH": "%s:/usr/bin:/bin" % bin_dir, "HOME": str(home), "LANG": "C.UTF-8"}
    environment.update(env or {})
    command = PosixDialect(sys.executable).command("login_state")
    process = subprocess.run(["/bin/sh", "-c", command], input=encode_request(request or {"config_dir": None}),
                             capture_output=True, env=environment, timeout=60, check=False)
    assert process.returncode == 0 and process.stderr == b"", process.stderr
    lines = process.stdout.decode("ascii").splitlines()
    assert len(lines) == 1, lines
    assert SECRET not in lines[0]
    return json.loads(lines[0])


def auth(user: str, password: str = SECRET) -> str:
    return base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def test_file_store_answers_users_only(tmp_path):
    answer = read_config(tmp_path, {"auths": {
        "registry.example.com:5000": {"auth": auth("deploy")},
        "https://index.docker.io/v1/": {"auth": auth("hubuser"), "email": "x@example.com"},
        "empty.example.com": {},
        "token.example.com": {"identitytoken": SECRET},
        "broken.example.com": {"auth": "%%%not base64"},
    }})
    assert answer["error"] is None and answer["exists"] is True
    assert answer["config_file"] == str(tmp_path / "home" / ".docker" / "config.json")
    assert answer["auths"] == {
        "registry.example.com:5000": {"user": "deploy", "auth": True, "identity_token": False, "credential": None},
        "https://index.docker.io/v1/": {"user": "hubuser", "auth": True, "identity_token": False, "credential": None},
        "empty.example.com": {"user": None, "auth": False, "identity_token": False, "credential": None},
        "token.example.com": {"user": None, "auth": False, "identity_token": True, "credential": None},
        "broken.example.com": {"user": None, "auth": True, "identity_token": False, "credential": None},
    }
    config = DockerConfig.from_answer(answer)
    assert config.state(parse_registry_url("registry.example.com:5000")).user == "deploy"
    assert config.state(parse_registry_url("docker.io")).user == "hubuser"


def test_config_dir_and_docker_config_variable(tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    (own / "config.json").write_text(json.dumps({"auths": {"r.example.com": {"auth": auth("mine")}}}))
    answer = read_config(tmp_path, None, {"config_dir": str(own)})
    assert answer["config_dir"] == str(own) and answer["auths"]["r.example.com"]["user"] == "mine"
    answer = read_config(tmp_path, None, env={"DOCKER_CONFIG": str(own)})
    assert answer["config_dir"] == str(own)
    answer = read_config(tmp_path, None, {"config_dir": str(tmp_path / "absent")})
    assert answer["exists"] is False and answer["auths"] == {}


def test_credential_helpers_are_asked_with_list(tmp_path):
    listed = 'echo \'{"registry.example.com:5000":"deploy","https://index.docker.io/v1/":"hub"}\'\n'
    answer = read_config(tmp_path, {"auths": {"registry.example.com:5000": {}}, "credsStore": "pass",
                                    "credHelpers": {"other.example.com": "secretservice", "x.example.com": "evil"}},
                         helpers={"pass": '[ "$1" = list ] || exit 3\n' + listed,
                                  "secretservice": 'echo "%s" >&2\nexit 1\n' % "could not connect to the bus",
                                  "evil": "echo %s\n" % SECRET})
    assert answer["creds_store"] == "pass"
    assert answer["helpers"]["pass"] == {"found": True, "users": {"registry.example.com:5000": "deploy",
                                                                  "https://index.docker.io/v1/": "hub"}, "error": None, "credentials": {}}
    assert answer["helpers"]["secretservice"]["users"] is None
    assert "could not connect" in answer["helpers"]["secretservice"]["error"]
    assert answer["helpers"]["evil"] == {"found": False, "users": None, "error": "not a known credential helper",
                                         "credentials": {}}
    config = DockerConfig.from_answer(answer)
    assert config.state(parse_registry_url("registry.example.com:5000")).user == "deploy"
    assert config.state(parse_registry_url("other.example.com")).has_credentials is None


def test_the_helper_docker_would_pick_is_reported(tmp_path):
    answer = read_config(tmp_path, None, helpers={"secretservice": "exit 1\n"})
    assert answer["exists"] is False and answer["default_store"] == "secretservice"
    assert read_config(tmp_path / "other", None)["default_store"] is None


@pytest.mark.parametrize("text", ["{not json", '{"auths": "x", "secret": "%s"' % SECRET])
def test_a_broken_config_file_is_an_error_without_its_content(tmp_path, text):
    answer = read_config(tmp_path, text)
    assert answer["error"]["kind"] == "exception"
    assert "is not valid JSON" in answer["error"]["message"]


def test_an_empty_config_file_is_an_empty_configuration(tmp_path):
    answer = read_config(tmp_path, "  \n")
    assert answer["error"] is None and answer["exists"] is True and answer["auths"] == {}


def test_the_script_is_in_both_dialects():
    from ansible_collections.wincontainers.images.plugins.plugin_utils import posix_scripts, powershell_scripts

    assert "login_state" in posix_scripts.SCRIPTS and "login_state" in powershell_scripts.SCRIPTS
    assert os.path.basename(__file__)
