# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``login_state`` and ``login_verify`` scripts of the POSIX dialect, run for real on
configuration files, fake credential helpers and a fake docker: the stored credential is compared
with the task's salted HMAC on the host and answered as one word; no secret (stored or given) and
no hash of one is ever in an answer; check mode's login runs in a private directory that is gone
afterwards.

(The PowerShell twins are parsed and pinned by test_powershell_scripts.py and emulated by the
contract tests' fake Windows host.)
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import PosixDialect, encode_request
from ansible_collections.wincontainers.images.plugins.plugin_utils.registry import (
    DockerConfig,
    login_request,
    parse_registry_url,
)

STORED = "hunter2-St0red"  # the password part of what the host stores
GIVEN = "Given-p\u00e4ss:w0rd"  # what the task gives
REGISTRY = parse_registry_url("registry.example.com:5000")


def script(tmp_path: Path, operation: str, request: dict, helpers: dict | None = None, env: dict | None = None) -> dict:
    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True, exist_ok=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in (helpers or {}).items():
        path = bin_dir / ("docker-credential-" + name)
        path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
        path.chmod(0o755)
    environment = {"PATH": "%s:/usr/bin:/bin" % bin_dir, "HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": str(tmp_path)}
    environment.update(env or {})
    command = PosixDialect(sys.executable).command(operation)
    process = subprocess.run(["/bin/sh", "-c", command], input=encode_request(request), capture_output=True,
                             env=environment, timeout=60, check=False)
    assert process.returncode == 0 and process.stderr == b"", process.stderr
    lines = process.stdout.decode("ascii").splitlines()
    assert len(lines) == 1, lines
    for secret in (STORED, GIVEN):
        assert secret not in lines[0] and json.dumps(secret) not in lines[0]
    return json.loads(lines[0])


def auth(user: str, password: str) -> str:
    return base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")


def write_config(tmp_path: Path, config: dict) -> str:
    directory = tmp_path / "config"
    directory.mkdir(exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return str(directory)


def state(tmp_path, config, username="deploy", password=GIVEN, registry=REGISTRY, helpers=None):
    request = login_request(write_config(tmp_path, config), registry, username, password)
    answer = script(tmp_path, "login_state", request, helpers)
    for value in (request["digest"],):
        assert value not in json.dumps(answer)  # the host never answers the hash either
    return answer, DockerConfig.from_answer(answer).state(registry)


@pytest.mark.parametrize("stored, word", [
    (("deploy", GIVEN), "match"),
    (("deploy", STORED), "differs"),  # a rotated password
    (("other", GIVEN), "differs"),  # another user
])
def test_config_json_auth_is_compared_on_the_host(tmp_path, stored, word):
    answer, login = state(tmp_path, {"auths": {"registry.example.com:5000": {"auth": auth(*stored)},
                                               "other.example.com": {"auth": auth("deploy", GIVEN)}}})
    assert answer["compared"] is True
    assert answer["auths"]["registry.example.com:5000"]["credential"] == word
    assert answer["auths"]["other.example.com"]["credential"] is None  # other registries are never compared
    assert login.credential == word and login.user == stored[0] and login.same_credentials is (word == "match")


def test_keys_are_matched_as_docker_converts_them_to_host_names(tmp_path):
    answer, login = state(tmp_path, {"auths": {"https://registry.example.com:5000/v2/": {"auth": auth("deploy", GIVEN)}}})
    assert login.credential == "match"
    hub = parse_registry_url("docker.io")
    answer, login = state(tmp_path, {"auths": {"https://index.docker.io/v1/": {"auth": auth("deploy", GIVEN)}}}, registry=hub)
    assert login.credential == "match" and login.store == "file"


@pytest.mark.parametrize("entry, word", [
    ({"identitytoken": STORED, "auth": auth("deploy", "")}, "token"),
    ({}, None),  # no credentials at all: the entry is not "logged in"
    ({"auth": "%%%not base64"}, "differs"),
])
def test_what_cannot_match(tmp_path, entry, word):
    answer, login = state(tmp_path, {"auths": {"registry.example.com:5000": entry}})
    assert login.same_credentials is False
    assert login.credential == (word if login.has_credentials else login.credential)
    if word:
        assert answer["auths"]["registry.example.com:5000"]["credential"] == word


def test_without_credentials_nothing_is_compared(tmp_path):
    request = login_request(write_config(tmp_path, {"auths": {"registry.example.com:5000": {"auth": auth("d", GIVEN)}}}),
                            REGISTRY)
    assert "digest" not in request and "salt" not in request
    answer = script(tmp_path, "login_state", request)
    assert answer["compared"] is False and answer["auths"]["registry.example.com:5000"]["credential"] is None


# A credential helper as docker-credential-helpers implements the protocol: "list" prints
# {server: user}; "get" reads the server on stdin and prints {ServerURL, Username, Secret}, or
# "credentials not found in native keychain" with exit code 1.
HELPER = r"""
case "$1" in
list) echo '{"https://registry.example.com:5000":"deploy","other.example.com":"x"}' ;;
get) read server
     case "$server" in
     https://registry.example.com:5000) printf '{"ServerURL":"%%s","Username":"%s","Secret":"%s"}\n' "$server" ;;
     *) echo "credentials not found in native keychain"; exit 1 ;;
     esac ;;
*) exit 3 ;;
esac
"""


@pytest.mark.parametrize("stored, word", [(("deploy", GIVEN), "match"), (("deploy", STORED), "differs"),
                                          (("<token>", STORED), "token")])
def test_a_credential_helper_is_compared_through_get(tmp_path, stored, word):
    answer, login = state(tmp_path, {"auths": {"registry.example.com:5000": {}}, "credsStore": "pass"},
                          helpers={"pass": HELPER % stored})
    assert answer["helpers"]["pass"]["credentials"] == {"https://registry.example.com:5000": word}
    assert login.store == "pass" and login.user == "deploy" and login.credential == word


def test_a_helper_whose_list_fails_is_asked_with_get_for_the_registry(tmp_path):
    helper = 'if [ "$1" = list ]; then echo "A specified logon session does not exist." >&2; exit 1; fi\n' + \
        'read server; echo "credentials not found in native keychain"; exit 1\n'
    answer, login = state(tmp_path, {"credsStore": "wincred", "auths": {"registry.example.com:5000": {}}},
                          helpers={"wincred": helper})
    assert answer["helpers"]["wincred"]["credentials"] == {"registry.example.com:5000": "absent"}
    assert login.has_credentials is None and "logon session" in login.error


def test_a_helper_that_prints_garbage_is_unknown_and_its_output_is_not_answered(tmp_path):
    helper = 'case "$1" in list) echo \'{"registry.example.com:5000":"deploy"}\' ;; get) echo "{%s" ; exit 0 ;; esac\n' % STORED
    answer, login = state(tmp_path, {"credsStore": "pass", "auths": {"registry.example.com:5000": {}}},
                          helpers={"pass": helper})
    assert login.credential == "unknown"


FAKE_DOCKER = r"""#!{python}
import json, os, stat, sys
directory = os.environ["DOCKER_CONFIG"]
mode = stat.S_IMODE(os.stat(directory).st_mode)
password = sys.stdin.read()
with open(os.path.join(directory, "config.json"), encoding="utf-8") as handle:
    before = json.load(handle)
with open(os.path.join(os.environ["RECORD"], "seen.json"), "w", encoding="utf-8") as handle:
    json.dump({{"argv": sys.argv[1:], "dir": directory, "mode": mode, "config": before,
               "right": password == os.environ["RIGHT"], "extra": os.environ.get("EXTRA")}}, handle)
if password != os.environ["RIGHT"]:
    sys.stderr.write("Error response from daemon: login attempt failed with status: 401 Unauthorized\n")
    sys.exit(1)
with open(os.path.join(directory, "config.json"), "w", encoding="utf-8") as handle:
    json.dump({{"auths": {{sys.argv[-1]: {{"auth": "written"}}}}}}, handle)
print("Login Succeeded")
"""


@pytest.mark.parametrize("password, rc", [(GIVEN, 0), ("wrong-" + GIVEN, 1)])
def test_login_verify_logs_in_in_a_private_directory_that_is_removed(tmp_path, password, rc):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER.format(python=sys.executable), encoding="utf-8")
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    record = tmp_path / "record"
    record.mkdir()
    real = write_config(tmp_path, {"auths": {}})
    argv = ["login", "--username", "deploy", "--password-stdin", "--", "registry.example.com:5000"]
    request = {"call": {"exe": "docker", "argv": argv, "stdin": password, "env": {"DOCKER_CONFIG": real, "EXTRA": "x"}}}
    answer = script(tmp_path, "login_verify", request, env={"RECORD": str(record), "RIGHT": GIVEN})
    assert answer["error"] is None and answer["removed"] is True and answer["result"]["rc"] == rc
    seen = json.loads((record / "seen.json").read_text(encoding="utf-8"))
    assert seen["argv"] == argv and seen["right"] is (rc == 0) and seen["extra"] == "x"
    assert seen["dir"] != real and os.path.dirname(seen["dir"]) == str(tmp_path)
    assert seen["mode"] == 0o700
    assert seen["config"] == {"auths": {"wincontainers.images.invalid": {}}}  # no helper picked by docker itself
    assert not os.path.exists(seen["dir"])
    assert json.loads((Path(real) / "config.json").read_text(encoding="utf-8")) == {"auths": {}}  # untouched


def test_login_verify_without_docker_says_so(tmp_path):
    request = {"call": {"exe": "docker", "argv": ["login"], "stdin": GIVEN}}
    answer = script(tmp_path, "login_verify", request, env={"PATH": str(tmp_path / "nothing")})
    assert answer["error"]["kind"] == "not_found"
    assert not any(name.startswith("wincontainers-login-") for name in os.listdir(tmp_path))


def test_the_scripts_are_in_both_dialects():
    from ansible_collections.wincontainers.images.plugins.plugin_utils import posix_scripts, powershell_scripts

    for name in ("login_state", "login_verify"):
        assert name in posix_scripts.SCRIPTS and name in powershell_scripts.SCRIPTS
