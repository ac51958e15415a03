# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry action plugins against a scripted host: decisions, exec counts, and where the
password travels (only ever the ``stdin`` of the ``docker login`` call)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from ansible_collections.wincontainers.images.plugins.action import (
    docker_image_pull,
    docker_image_push,
    docker_login,
    docker_search,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import PosixDialect, WindowsDialect
from ansible_collections.wincontainers.images.plugins.plugin_utils.engine import Settings
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Host
from ansible_collections.wincontainers.images.plugins.plugin_utils.registry import DOCKER_HUB_KEY, RegistryError

from cmdline import parse_like_docker, pflag_split  # tests/unit has no __init__.py, so pytest puts it on sys.path

PASSWORD = "S3cr3t-'\"-pässwörd"
ID_A = "sha256:" + "a" * 64
ID_B = "sha256:" + "b" * 64
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def argv_of(request: dict) -> list[str]:
    """The arguments a call request gives docker (a Windows request: its command line, parsed as docker.exe does)."""
    if "argv" in request:
        return list(request["argv"])
    return parse_like_docker(request["cmdline"])


class ScriptedHost(Host):
    """A real ``Host`` (its ``run`` builds the real requests) whose execs are answered here.

    ``docker(argv, request) -> (rc, stdout, stderr)`` answers each docker call; ``configs``
    answers ``login_state``: an auths entry with a ``stored`` (user, password)
    is compared with the request's salted HMAC as the host script does, and the stored pair is never
    part of the answer. ``login_verify`` runs its call through ``docker`` and records it in
    ``verified``. Detached jobs finish at their first poll.
    """

    def __init__(self, docker: Callable[[list[str], dict], tuple[int, str, str]], config: dict | None = None,
                 windows: bool = False) -> None:
        self.name = "host1"
        self.dialect = WindowsDialect() if windows else PosixDialect("python3")
        self.engine = Settings()
        self.execs = 0
        self.docker = docker
        self.config = config or {}
        self.sent: list[tuple[str, dict]] = []
        self.job: dict | None = None
        self.verified: list[dict] = []

    def reconnect(self) -> None:
        pass

    def _answer(self, request: dict) -> dict:
        argv = argv_of(request)
        rc, stdout, stderr = self.docker(list(argv), request)
        return {"rc": rc, "stdout": stdout, "stderr": stderr}

    def execute(self, operation: str, payload: dict) -> dict:
        self.execs += 1
        self.sent.append((operation, json.loads(json.dumps(payload))))
        if operation == "run":
            return {"results": [self._answer(call) for call in payload["calls"]], "error": None}
        if operation == "login_state":
            answer = {"config_dir": "/h/.docker", "config_file": "/h/.docker/config.json", "exists": True,
                      "creds_store": None, "cred_helpers": {}, "auths": {}, "helpers": {}, "default_store": None}
            answer.update(json.loads(json.dumps(self.config)))
            for entry in answer["auths"].values():
                stored = entry.pop("stored", None)
                if operation == "login_state" and payload.get("digest") and stored:
                    mine = hmac.new(base64.b64decode(payload["salt"]), ("%s:%s" % tuple(stored)).encode(), hashlib.sha256)
                    entry["credential"] = "match" if base64.b64encode(mine.digest()).decode() == payload["digest"] else "differs"
            return answer
        if operation == "login_verify":
            self.verified.append(payload["call"])
            return {"result": self._answer(payload["call"]), "removed": True, "error": None}
        if operation == "job_start":
            self.job = {"outputs": [self._answer(call) for call in payload["calls"]]}
            return {"state": "started", "error": None}
        if operation == "job_status":
            outputs = self.job["outputs"]
            return {"exists": True, "claimed": True, "started": True, "alive": False, "error": None,
                    "outputs": [{"stdout": o["stdout"], "stderr": o["stderr"]} for o in outputs],
                    "finished": {"results": [{"rc": o["rc"]} for o in outputs], "error": None}}
        if operation == "job_cleanup":
            return {"removed": True, "error": None}
        raise AssertionError("unexpected operation %s" % operation)

    def operations(self) -> list[str]:
        return [operation for operation, _payload in self.sent]

    def calls(self) -> list[dict]:
        found = []
        for operation, payload in self.sent:
            if operation in ("run", "job_start"):
                found.extend(payload["calls"])
        return found


def action(module, check=False, diff=False):
    plugin = module.ActionModule.__new__(module.ActionModule)
    plugin._task = SimpleNamespace(check_mode=check, diff=diff, args={})
    return plugin


def args_of(module, **given) -> dict[str, Any]:
    values = {name: spec.get("default") for name, spec in module.ActionModule.ARGUMENT_SPEC.items()}
    values.update(given)
    return values


def inspect_json(*images) -> str:
    return json.dumps(list(images))


def image(image_id, tags=(), digests=(), os_="linux", arch="amd64") -> dict:
    return {"Id": image_id, "RepoTags": list(tags), "RepoDigests": list(digests), "Os": os_, "Architecture": arch}


# --- docker_login ----------------------------------------------------------------------------

REGISTRY = "registry.example.com:5000"


def login_docker(rc=0, stderr=""):
    def docker(argv, request):
        assert argv[0] in ("login", "logout"), argv
        return (rc, "Login Succeeded\n" if rc == 0 else "", stderr)
    return docker


def logged_in(user, password=PASSWORD):
    return {"auths": {REGISTRY: {"user": user, "auth": True, "identity_token": False, "stored": [user, password]}}}


def test_login_is_a_no_op_in_one_exec_when_the_same_credentials_are_stored():
    host = ScriptedHost(login_docker(), logged_in("deploy"))
    result = action(docker_login).execute(
        host, args_of(docker_login, registry_url=REGISTRY, username="deploy", password=PASSWORD))
    assert result["changed"] is False and host.operations() == ["login_state"]
    assert result["registry"] == REGISTRY and result["credentials_store"] == "file"
    assert result["login_result"] == {"serveraddress": REGISTRY, "username": "deploy"}


def test_the_state_request_carries_a_salted_hmac_and_never_the_password():
    host = ScriptedHost(login_docker(), logged_in("deploy"))
    plugin = action(docker_login)
    plugin.execute(host, args_of(docker_login, registry_url=REGISTRY, username="deploy", password=PASSWORD))
    plugin.execute(host, args_of(docker_login, registry_url=REGISTRY, username="deploy", password=PASSWORD))
    first, second = (payload for _operation, payload in host.sent)
    assert set(first) == {"config_dir", "hosts", "server", "salt", "digest"} and first["hosts"] == [REGISTRY]
    assert PASSWORD not in json.dumps(first, ensure_ascii=False) and PASSWORD not in json.dumps(first)
    expected = hmac.new(base64.b64decode(first["salt"]), ("deploy:" + PASSWORD).encode(), hashlib.sha256).digest()
    assert base64.b64decode(first["digest"]) == expected and len(base64.b64decode(first["salt"])) == 32
    assert first["salt"] != second["salt"] and first["digest"] != second["digest"]  # a new salt at every run


def test_docker_hub_credentials_are_compared_under_every_name_of_docker_hub():
    host = ScriptedHost(login_docker())
    action(docker_login).execute(host, args_of(docker_login, registry_url="docker.io", username="me", password=PASSWORD))
    request = host.sent[0][1]
    assert request["server"] == DOCKER_HUB_KEY
    assert set(request["hosts"]) >= {"docker.io", "index.docker.io", "registry-1.docker.io"}


@pytest.mark.parametrize("stored", [("deploy", "rotated-" + PASSWORD), ("someone-else", PASSWORD)])
def test_other_stored_credentials_are_logged_in_again(stored):
    """Issue 12, defect 3: a changed password (or another user) is not 'already logged in'."""
    host = ScriptedHost(login_docker(), logged_in(*stored))
    result = action(docker_login).execute(
        host, args_of(docker_login, registry_url=REGISTRY, username="deploy", password=PASSWORD))
    assert result["changed"] is True and host.operations() == ["login_state", "run"]
    assert argv_of(host.calls()[0])[:3] == ["login", "--username", "deploy"]


def test_a_wrong_password_for_the_logged_in_user_fails():
    """Issue 12, defect 3: a wrong password is not accepted silently because the user is logged in."""
    host = ScriptedHost(login_docker(1, "Error response from daemon: Get \"https://%s/v2/\": unauthorized: "
                                        "incorrect username or password\n" % REGISTRY), logged_in("deploy"))
    with pytest.raises(TaskFailed) as raised:
        action(docker_login).execute(
            host, args_of(docker_login, registry_url=REGISTRY, username="deploy", password="wrong-" + PASSWORD))
    message = str(raised.value)
    assert "unauthorized" in message and "it still holds the credentials stored before for deploy" in message
    assert PASSWORD not in message and PASSWORD not in json.dumps(raised.value.result)


@pytest.mark.parametrize("word", ["token", "unknown", "absent", None])
def test_credentials_that_cannot_be_compared_are_logged_in_again(word):
    config = {"auths": {REGISTRY: {"user": "deploy", "auth": True, "identity_token": word == "token", "credential": word}}}
    host = ScriptedHost(login_docker(), config)
    result = action(docker_login).execute(
        host, args_of(docker_login, registry_url=REGISTRY, username="deploy", password=PASSWORD))
    assert result["changed"] is True and host.operations() == ["login_state", "run"]


def test_a_credential_helper_is_compared_by_its_get():
    config = {"creds_store": "pass", "helpers": {"pass": {"found": True, "users": {"https://%s" % REGISTRY: "deploy"},
                                                          "error": None,
                                                          "credentials": {"https://%s" % REGISTRY: "match"}}}}
    host = ScriptedHost(login_docker(), config)
    result = action(docker_login).execute(
        host, args_of(docker_login, registry_url=REGISTRY, username="deploy", password=PASSWORD))
    assert result["changed"] is False and result["credentials_store"] == "pass"
    config["helpers"]["pass"]["credentials"] = {"https://%s" % REGISTRY: "differs"}
    host = ScriptedHost(login_docker(), config)
    result = action(docker_login).execute(
        host, args_of(docker_login, registry_url=REGISTRY, username="deploy", password=PASSWORD))
    assert result["changed"] is True and host.operations() == ["login_state", "run"]


@pytest.mark.parametrize("windows", [False, True])
def test_login_sends_the_password_on_stdin_only(windows):
    host = ScriptedHost(login_docker(), logged_in("someone-else"), windows=windows)
    result = action(docker_login, diff=True).execute(
        host, args_of(docker_login, registry_url="https://%s/v2/" % REGISTRY, username="deploy", password=PASSWORD))
    assert result["changed"] is True
    assert host.operations() == ["login_state", "run"]
    [call] = host.calls()
    assert call["stdin"] == PASSWORD
    assert argv_of(call) == ["login", "--username", "deploy", "--password-stdin", "--", REGISTRY]
    without_stdin = json.dumps([{k: v for k, v in c.items() if k != "stdin"} for c in host.calls()])
    assert PASSWORD not in without_stdin and PASSWORD not in json.dumps(without_stdin)
    assert PASSWORD not in json.dumps(host.sent[0]) and PASSWORD not in json.dumps(result)
    assert result["diff"] == {"before": {"logged_in": True, "username": "someone-else"},
                              "after": {"logged_in": True, "username": "deploy"}}


@pytest.mark.parametrize("windows", [False, True])
def test_check_mode_verifies_the_credentials_without_writing(windows):
    host = ScriptedHost(login_docker(), logged_in("deploy", "old-" + PASSWORD), windows=windows)
    result = action(docker_login, check=True).execute(
        host, args_of(docker_login, registry_url=REGISTRY, username="deploy", password=PASSWORD))
    assert result["changed"] is True and host.operations() == ["login_state", "login_verify"]
    assert host.calls() == []  # no real login
    [call] = host.verified
    assert argv_of(call) == ["login", "--username", "deploy", "--password-stdin", "--", REGISTRY]
    assert call["stdin"] == PASSWORD
    assert PASSWORD not in json.dumps({k: v for k, v in call.items() if k != "stdin"})


def test_check_mode_with_the_same_credentials_is_one_exec():
    host = ScriptedHost(login_docker(), logged_in("deploy"))
    result = action(docker_login, check=True).execute(
        host, args_of(docker_login, registry_url=REGISTRY, username="deploy", password=PASSWORD))
    assert result["changed"] is False and host.operations() == ["login_state"]


@pytest.mark.parametrize("state", [{}, logged_in("deploy")])
def test_a_wrong_password_fails_in_check_mode_too(state):
    """Issue 12, defect 3: check mode predicted a successful change for a wrong password."""
    host = ScriptedHost(login_docker(1, "Error response from daemon: login attempt to https://%s/v2/ failed with "
                                        "status: 401 Unauthorized\n" % REGISTRY), state)
    with pytest.raises(TaskFailed) as raised:
        action(docker_login, check=True).execute(
            host, args_of(docker_login, registry_url=REGISTRY, username="deploy", password="wrong-" + PASSWORD))
    message = str(raised.value)
    assert "401 Unauthorized" in message and "check mode" in message and "was not changed" in message
    assert raised.value.result["changed"] is False and host.operations() == ["login_state", "login_verify"]


def test_check_mode_logout_verifies_nothing():
    host = ScriptedHost(login_docker(), logged_in("deploy"))
    result = action(docker_login, check=True).execute(host, args_of(docker_login, registry_url=REGISTRY, state="absent"))
    assert result["changed"] is True and host.operations() == ["login_state"]


def test_reauthorize_logs_in_again():
    host = ScriptedHost(login_docker(), logged_in("deploy"))
    result = action(docker_login).execute(
        host, args_of(docker_login, registry_url=REGISTRY, username="deploy", password=PASSWORD, reauthorize=True))
    assert result["changed"] is True and host.operations() == ["login_state", "run"]


def test_reauthorize_in_check_mode_verifies():
    host = ScriptedHost(login_docker(), logged_in("deploy"))
    result = action(docker_login, check=True).execute(
        host, args_of(docker_login, registry_url=REGISTRY, username="deploy", password=PASSWORD, reauthorize=True))
    assert result["changed"] is True and host.operations() == ["login_state", "login_verify"]


def test_docker_hub_is_the_default():
    host = ScriptedHost(login_docker())
    action(docker_login).execute(host, args_of(docker_login, username="me", password=PASSWORD))
    assert host.calls()[0]["argv"][-1] == DOCKER_HUB_KEY


def test_config_path_reads_and_writes_that_configuration():
    host = ScriptedHost(login_docker(), {"exists": False}, windows=True)
    action(docker_login).execute(host, args_of(docker_login, registry_url=REGISTRY, username="u", password=PASSWORD,
                                               config_path="C:\\ProgramData\\ci\\docker\\config.json"))
    assert host.sent[0][0] == "login_state" and host.sent[0][1]["config_dir"] == "C:\\ProgramData\\ci\\docker"
    assert host.calls()[0]["env"] == {"DOCKER_CONFIG": "C:\\ProgramData\\ci\\docker"}


def test_config_path_keeps_credentials_out_of_the_detected_helper():
    host = ScriptedHost(login_docker(), {"exists": False, "default_store": "wincred"}, windows=True)
    result = action(docker_login).execute(host, args_of(docker_login, registry_url=REGISTRY, username="u",
                                                        password=PASSWORD, config_path="C:\\ci"))
    assert host.calls()[0]["env"] == {"DOCKER_CONFIG": "C:\\ci", "PATH": ""}
    assert result["credentials_store"] == "file"


def test_without_config_path_the_helper_is_left_alone():
    host = ScriptedHost(login_docker(), {"exists": False, "default_store": "wincred"})
    result = action(docker_login).execute(host, args_of(docker_login, registry_url=REGISTRY, username="u",
                                                        password=PASSWORD))
    assert "env" not in host.calls()[0] and result["credentials_store"] == "wincred"


def test_wincred_failure_explains_the_fix():
    error = ("Error saving credentials: error storing credentials - err: exit status 1, out: "
             "`A specified logon session does not exist. It may already have been terminated.`")
    host = ScriptedHost(login_docker(1, error), {"creds_store": "wincred", "helpers": {
        "wincred": {"found": True, "users": None, "error": "A specified logon session does not exist."}}})
    with pytest.raises(TaskFailed) as raised:
        action(docker_login).execute(host, args_of(docker_login, registry_url=REGISTRY, username="u", password=PASSWORD))
    assert "logon session" in str(raised.value) and "config_path" in str(raised.value)
    assert raised.value.result["changed"] is False
    assert PASSWORD not in str(raised.value)


def test_wrong_password_is_a_clear_failure():
    host = ScriptedHost(login_docker(1, "Error response from daemon: login attempt to https://%s/v2/ failed with "
                                        "status: 401 Unauthorized\n" % REGISTRY))
    with pytest.raises(TaskFailed) as raised:
        action(docker_login).execute(host, args_of(docker_login, registry_url=REGISTRY, username="u", password="bad"))
    message = str(raised.value)
    assert "401 Unauthorized" in message and "nothing was changed in /h/.docker/config.json" in message


@pytest.mark.parametrize("state, expected_calls", [(logged_in("deploy"), 1), ({}, 0)])
def test_logout(state, expected_calls):
    host = ScriptedHost(login_docker(), state)
    result = action(docker_login).execute(host, args_of(docker_login, registry_url=REGISTRY, state="absent"))
    assert result["changed"] is bool(expected_calls)
    assert len(host.calls()) == expected_calls
    if expected_calls:
        assert host.calls()[0]["argv"] == ["logout", "--", REGISTRY]


@pytest.mark.parametrize("given, fragment", [
    ({"username": None}, "username: required"),
    ({"password": None}, "password: required"),
    ({"password": ""}, "password: required"),
    ({"username": "a:b"}, "username: 'a:b' cannot be used"),
    ({"registry_url": "ftp://x"}, "registry_url: "),
    ({"config_path": "a\nb"}, "config_path: "),
    # relative: docker login would write the credentials in the exec's working directory
    ({"config_path": "docker-config"}, "config_path: 'docker-config' is not an absolute path"),
    ({"config_path": "C:\\ci\\docker"}, r"config_path: 'C:\\\\ci\\\\docker' is not an absolute path"),  # on Linux
])
def test_login_refuses_bad_input_before_any_exec(given, fragment):
    host = ScriptedHost(login_docker())
    values = {"registry_url": REGISTRY, "username": "u", "password": PASSWORD}
    values.update(given)
    with pytest.raises(TaskFailed, match=fragment):
        action(docker_login).execute(host, args_of(docker_login, **values))
    assert host.execs == 0


# --- docker_image_pull -------------------------------------------------------------------------

class Engine:
    """A tiny engine for pull: images by reference; pulls make them appear."""

    def __init__(self, local: dict[str, dict], remote: dict[str, dict], fail: dict[str, str] | None = None):
        self.local = dict(local)
        self.remote = remote
        self.fail = fail or {}

    def __call__(self, argv, request):
        names = pflag_split(argv[2:])[1]  # docker's pflag: "--" ends the flags
        if argv[:2] == ["image", "inspect"]:
            found = [self.local[name] for name in names if name in self.local]
            missing = [name for name in names if name not in self.local]
            return (1 if missing else 0, inspect_json(*found), "".join("Error: No such image: %s\n" % m for m in missing))
        if argv[:2] == ["image", "pull"]:
            [name] = names
            if name in self.fail:
                return (1, "", self.fail[name])
            self.local[name] = self.remote[name]
            return (0, "x: Pulling from y\nabcdefabcdef: Pull complete\nDigest: %s\nStatus: Downloaded\n" % D1, "")
        if argv[:2] == ["manifest", "inspect"]:
            [name] = names
            if name not in self.remote:
                return (1, "", "no such manifest: %s" % name)
            return (0, json.dumps({"Descriptor": {"digest": D2}, "SchemaV2Manifest": {
                "config": {"digest": self.remote[name]["Id"]}, "layers": []}}), "")
        if argv[:1] == ["info"]:
            return (0, '{"InsecureRegistryCIDRs":["127.0.0.0/8"],"IndexConfigs":{}}', "")
        if argv[:1] == ["version"]:
            return (0, '{"Os":"linux","Arch":"amd64","Version":"28.2.2"}', "")
        raise AssertionError(argv)


A = "127.0.0.1:5551/wct4/a:1"
B = "127.0.0.1:5551/wct4/b:1"


def test_pull_of_present_images_is_one_exec():
    engine = Engine({A: image(ID_A, [A]), B: image(ID_B, [B])}, {})
    host = ScriptedHost(engine)
    result = action(docker_image_pull).execute(host, args_of(docker_image_pull, name=[A, B]))
    assert result["changed"] is False and host.operations() == ["run"]
    assert [i["pulled"] for i in result["images"]] == [False, False]


def test_pull_runs_one_job_for_the_missing_images_only():
    engine = Engine({A: image(ID_A, [A])}, {B: image(ID_B, [B], ["127.0.0.1:5551/wct4/b@" + D1])})
    host = ScriptedHost(engine)
    result = action(docker_image_pull, diff=True).execute(
        host, args_of(docker_image_pull, name=["127.0.0.1:5551/wct4/a", B], tag="1", parallel=2, retries=1))
    assert host.operations() == ["run", "job_start", "job_status", "job_cleanup", "run"]
    start = host.sent[1][1]
    assert [call["argv"] for call in start["calls"]] == [["image", "pull", "--", B]]
    assert start["parallel"] == 2 and start["retries"] == 1
    assert result["changed"] is True
    assert result["images"][1] == {"reference": B, "id": ID_B, "digest": D1, "changed": True, "pulled": True}
    assert result["images"][0]["changed"] is False
    assert result["diff"] == {"before": {"images": {A: {"exists": True, "id": ID_A}, B: {"exists": False}}},
                              "after": {"images": {A: {"exists": True, "id": ID_A}, B: {"exists": True, "id": ID_B}}}}
    assert result["actions"] == ["Pulled image %s" % B] and "image" not in result  # image: with one name only


@pytest.mark.parametrize("platform", ["amd64", "x86_64", "linux", "linux/x86-64", "LINUX/AMD64/v1"])
def test_pull_missing_with_the_engines_platform_pulls_nothing(platform):
    # An architecture alone (or an OS alone) takes the rest from the engine, as docker does.
    for check in (True, False):
        host = ScriptedHost(Engine({A: image(ID_A, [A])}, {A: image(ID_B, [A])}))
        result = action(docker_image_pull, check=check).execute(
            host, args_of(docker_image_pull, name=[A], platform=platform, pull="not_present"))
        assert result["changed"] is False and result["actions"] == [] and host.operations() == ["run"]
        assert result["image"]["Id"] == ID_A and result["diff"]["before"] == result["diff"]["after"]


@pytest.mark.parametrize("platform", ["arm64", "aarch64", "linux/arm64/v8", "windows"])
def test_pull_missing_of_another_platform_pulls(platform):
    host = ScriptedHost(Engine({A: image(ID_A, [A])}, {A: image(ID_B, [A], os_="linux", arch="arm64")}))
    predicted = action(docker_image_pull, check=True).execute(
        host, args_of(docker_image_pull, name=[A], platform=platform))
    assert predicted["changed"] is True and predicted["diff"]["after"]["id"] == "unknown"
    result = action(docker_image_pull).execute(host, args_of(docker_image_pull, name=[A], platform=platform))
    assert result["changed"] is True and result["actions"] == ["Pulled image %s" % A]
    assert host.sent[-4][1]["calls"][0]["argv"] == ["image", "pull", "--platform", platform, "--", A]


def test_pull_always_check_mode_sees_another_platform():
    # The registry's tag is the local image (amd64), but the task asks for arm64: a change.
    host = ScriptedHost(Engine({A: image(ID_A, [A])}, {A: image(ID_A, [A])}))
    result = action(docker_image_pull, check=True).execute(
        host, args_of(docker_image_pull, name=[A], pull="always", platform="linux/arm64"))
    assert result["changed"] is True and result["actions"] == ["Pulled image %s" % A]
    same = action(docker_image_pull, check=True).execute(
        host, args_of(docker_image_pull, name=[A], pull="always", platform="linux/amd64"))
    assert same["changed"] is False


@pytest.mark.parametrize("platform", ["", "foo", "linux/foo", "plan10/amd64", "linux/amd64/v1/x", ["linux"]])
def test_pull_refuses_a_bad_platform_before_anything_runs(platform):
    host = ScriptedHost(Engine({}, {}))
    with pytest.raises(TaskFailed, match=r"^platform: "):
        action(docker_image_pull).execute(host, args_of(docker_image_pull, name=[A], platform=platform))
    assert host.operations() == []


def test_pull_always_with_an_unchanged_image_is_not_a_change():
    engine = Engine({A: image(ID_A, [A])}, {A: image(ID_A, [A])})
    host = ScriptedHost(engine)
    result = action(docker_image_pull).execute(host, args_of(docker_image_pull, name=[A], pull="always",
                                                             platform="linux/amd64", config_path="/c"))
    assert result["changed"] is False and result["images"][0]["pulled"] is True
    [call] = host.sent[1][1]["calls"]
    assert call["argv"] == ["image", "pull", "--platform", "linux/amd64", "--", A]
    assert call["env"] == {"DOCKER_CONFIG": "/c"}


def test_an_image_of_another_platform_counts_as_missing():
    engine = Engine({A: image(ID_A, [A], os_="linux")}, {A: image(ID_B, [A], os_="windows")})
    host = ScriptedHost(engine)
    result = action(docker_image_pull).execute(host, args_of(docker_image_pull, name=[A], platform="windows/amd64"))
    assert result["changed"] is True and result["images"][0]["id"] == ID_B


def test_pull_check_mode_reports_missing_images():
    engine = Engine({A: image(ID_A, [A])}, {})
    host = ScriptedHost(engine)
    result = action(docker_image_pull, check=True).execute(host, args_of(docker_image_pull, name=[A, B]))
    assert host.operations() == ["run"]
    assert result["changed"] is True and result["missing"] == [B]
    assert [i["changed"] for i in result["images"]] == [False, True]


def test_pull_always_check_mode_asks_the_registry_in_the_same_exec():
    engine = Engine({A: image(ID_A, [A]), B: image(ID_A, [B])}, {A: image(ID_A), B: image(ID_B)})
    host = ScriptedHost(engine)
    result = action(docker_image_pull, check=True).execute(host, args_of(docker_image_pull, name=[A, B], pull="always"))
    assert host.operations() == ["run"]
    manifest_calls = [c["argv"] for c in host.calls() if c["argv"][0] == "manifest"]
    assert manifest_calls == [["manifest", "inspect", "--verbose", "--insecure", "--", A],
                              ["manifest", "inspect", "--verbose", "--insecure", "--", B]]
    assert [i["changed"] for i in result["images"]] == [False, True]


def test_a_failed_pull_fails_the_task_and_reports_the_others():
    engine = Engine({}, {A: image(ID_A, [A])}, fail={B: "Error response from daemon: manifest unknown\n"})
    host = ScriptedHost(engine)
    with pytest.raises(TaskFailed) as raised:
        action(docker_image_pull).execute(host, args_of(docker_image_pull, name=[A, B]))
    assert "1 of 2 pulls failed" in str(raised.value) and "manifest unknown" in str(raised.value)
    assert raised.value.result["changed"] is True and raised.value.result["failed_images"] == [B]


def test_a_pull_that_exits_0_without_the_image_is_a_failure_not_a_success():
    """A job's rc 0 is checked on the host: an image that cannot be inspected was not pulled."""
    engine = Engine({}, {A: image(ID_A, [A])})
    original = engine.__call__

    def docker(argv, request):
        if argv[:2] == ["image", "pull"]:
            return (0, "Status: Downloaded newer image for %s\n" % argv[-1], "")  # but nothing arrives
        return original(argv, request)

    host = ScriptedHost(docker)
    with pytest.raises(TaskFailed) as raised:
        action(docker_image_pull).execute(host, args_of(docker_image_pull, name=[A]))
    assert "docker pull exited 0 but the image is not on the host" in str(raised.value)
    assert raised.value.result["changed"] is False and raised.value.result["failed_images"] == [A]
    assert raised.value.result["images"][0] == {"reference": A, "id": None, "digest": None, "changed": False, "pulled": False}


C = "127.0.0.1:5551/wct4/c:1"
ENGINE_GONE = ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
               "Is the docker daemon running?\n")


def test_when_the_engine_dies_mid_pull_the_images_that_arrived_are_reported_as_a_change():
    engine = Engine({}, {A: image(ID_A, [A]), B: image(ID_B, [B])}, fail={C: ENGINE_GONE})
    original = engine.__call__
    pulled = []

    def docker(argv, request):
        if argv[:2] == ["image", "pull"]:
            pulled.append(argv[-1])
            if argv[-1] == C:
                return (1, "", ENGINE_GONE)
            engine.local[argv[-1]] = engine.remote[argv[-1]]
            return (0, "Digest: %s\nStatus: Downloaded newer image for %s\n" % (D1, argv[-1]), "")
        if pulled and C in pulled:
            return (1, "", ENGINE_GONE)  # the engine is gone for the read after the job
        return original(argv, request)

    host = ScriptedHost(docker)
    with pytest.raises(TaskFailed) as raised:
        action(docker_image_pull).execute(host, args_of(docker_image_pull, name=[A, B, C]))
    message = str(raised.value)
    assert "the Docker engine is not reachable" in message and "2 of 3 pulls had finished before" in message
    result = raised.value.result
    assert result["changed"] is True
    assert [(i["reference"], i["changed"], i["pulled"]) for i in result["images"]] == [
        (A, True, True), (B, True, True), (C, False, False)]


def test_a_pull_timeout_says_the_job_goes_on_and_reports_what_arrived(monkeypatch):
    from ansible_collections.wincontainers.images.plugins.plugin_utils import jobs

    engine = Engine({}, {A: image(ID_A, [A]), B: image(ID_B, [B])})
    host = ScriptedHost(engine)
    original = host.execute

    def execute(operation, payload):
        if operation not in ("job_start", "job_status"):
            return original(operation, payload)
        host.execs += 1
        host.sent.append((operation, payload))
        if operation == "job_start":
            return {"state": "started", "error": None}
        engine.local[A] = engine.remote[A]  # A arrived, B is still being pulled when the time is up
        return {"exists": True, "claimed": True, "started": True, "alive": True, "finished": None,
                "outputs": [{"stdout": "", "stderr": ""}] * 2, "error": None}

    monkeypatch.setattr(host, "execute", execute)
    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: None)
    with pytest.raises(TaskFailed) as raised:
        action(docker_image_pull).execute(host, args_of(docker_image_pull, name=[A, B], timeout=1))
    message = str(raised.value)
    assert "it is still running on the host" in message and "run the task again to re-attach" in message
    # The job is left running: the run only drops its claim (no kill).
    assert [payload["kill"] for operation, payload in host.sent if operation == "job_cleanup"] == [False]
    result = raised.value.result
    assert result["changed"] is True
    assert [(i["id"], i["pulled"]) for i in result["images"]] == [(ID_A, True), (None, False)]


@pytest.mark.parametrize("given, fragment", [
    ({"name": ["Bad Name"]}, "name: "),
    ({"name": []}, "name: at least one"),
    ({"tag": "-x"}, "tag: "),
    ({"platform": "windows amd64"}, "platform: "),
    ({"parallel": 0}, "parallel: 0"),
    ({"retries": -1}, "retries: -1"),
    ({"timeout": 0}, "timeout: 0"),
])
def test_pull_refuses_bad_input_before_any_exec(given, fragment):
    host = ScriptedHost(Engine({}, {}))
    values = {"name": [A]}
    values.update(given)
    with pytest.raises(Exception, match=fragment):
        action(docker_image_pull).execute(host, args_of(docker_image_pull, **values))
    assert host.execs == 0


# --- docker_image_push -------------------------------------------------------------------------

class PushEngine:
    def __init__(self, local: dict | None, remote_config: str | None, manifest_error: str | None = None,
                 push_error: str | None = None):
        self.local = local
        self.remote_config = remote_config
        self.manifest_error = manifest_error
        self.push_error = push_error
        self.pushed = False

    def __call__(self, argv, request):
        names = pflag_split(argv[2:])[1]  # docker's pflag: "--" ends the flags
        if argv[:2] == ["image", "inspect"]:
            if self.local is None:
                return (1, "[]", "Error: No such image: %s\n" % names[-1])
            return (0, inspect_json(self.local), "")
        if argv[:1] == ["info"]:
            return (0, '{"IndexConfigs":{"reg.example.com":{"Secure":false}},"InsecureRegistryCIDRs":["127.0.0.0/8"]}', "")
        if argv[:2] == ["manifest", "inspect"]:
            if self.manifest_error:
                return (1, "", self.manifest_error)
            if self.remote_config is None:
                return (1, "", "no such manifest: %s" % names[-1])
            return (0, json.dumps({"Descriptor": {"digest": D2}, "SchemaV2Manifest": {
                "config": {"digest": self.remote_config}, "layers": [{"mediaType": "x"}]}}), "")
        if argv[:2] == ["image", "push"]:
            if self.push_error:
                return (1, "", self.push_error)
            self.remote_config = self.local["Id"]
            return (0, "abcdefabcdef: Pushed\n1: digest: %s size: 527\n" % D2, "")
        raise AssertionError(argv)


def test_push_of_what_the_registry_holds_is_one_exec():
    host = ScriptedHost(PushEngine(image(ID_A, [A]), ID_A))
    result = action(docker_image_push).execute(host, args_of(docker_image_push, name=A))
    assert result["changed"] is False and result["digest"] == D2 and host.operations() == ["run"]
    assert [c["argv"][:2] for c in host.calls()] == [["image", "inspect"], ["manifest", "inspect"]]


def test_push_runs_a_job_that_reads_the_digest_back():
    host = ScriptedHost(PushEngine(image(ID_A, [A]), ID_B))
    result = action(docker_image_push, diff=True).execute(
        host, args_of(docker_image_push, name="127.0.0.1:5551/wct4/a", tag="1"))
    assert result["changed"] is True and result["digest"] == D2 and result["foreign_layers"] == 0
    assert host.operations() == ["run", "job_start", "job_status", "job_cleanup"]
    assert [c["argv"] for c in host.sent[1][1]["calls"]] == [
        ["image", "push", "--", A], ["manifest", "inspect", "--verbose", "--insecure", "--", A]]
    assert result["diff"]["before"] == {"digest": D2, "present": True}


def test_push_check_mode_does_not_push():
    engine = PushEngine(image(ID_A, [A]), None)
    host = ScriptedHost(engine)
    result = action(docker_image_push, check=True).execute(host, args_of(docker_image_push, name=A))
    assert result["changed"] is True and host.operations() == ["run"] and result["digest"] is None


def test_a_registry_the_daemon_calls_insecure_is_asked_again_with_insecure():
    name = "reg.example.com/wct4/a:1"
    engine = PushEngine(image(ID_A, [name]), ID_A)
    host = ScriptedHost(engine)
    result = action(docker_image_push).execute(host, args_of(docker_image_push, name=name))
    assert result["changed"] is False
    assert host.operations() == ["run", "run"]
    assert host.sent[1][1]["calls"][0]["argv"] == ["manifest", "inspect", "--verbose", "--insecure", "--", name]
    assert ["info", "--format", "{{json .RegistryConfig}}"] in [c["argv"] for c in host.sent[0][1]["calls"]]


@pytest.mark.parametrize("engine, error, fragment", [
    (PushEngine(None, None), TaskFailed, "there is no local image"),
    (PushEngine(image(ID_A, [A]), None, manifest_error="failed to configure transport: error pinging v2 registry: "
                "dial tcp 127.0.0.1:5551: connect: connection refused"), RegistryError, "is not reachable"),
    (PushEngine(image(ID_A, [A]), None, manifest_error="no basic auth credentials"), RegistryError, "refused to show"),
    (PushEngine(image(ID_A, [A]), None, push_error="denied: requested access to the resource is denied"), TaskFailed,
     "requested access to the resource is denied"),
])
def test_push_failures_are_clear_and_change_nothing(engine, error, fragment):
    host = ScriptedHost(engine)
    with pytest.raises(error) as raised:
        action(docker_image_push).execute(host, args_of(docker_image_push, name=A))
    assert fragment in str(raised.value)
    if isinstance(raised.value, TaskFailed):
        assert raised.value.result.get("changed", False) is False


@pytest.mark.parametrize("name, fragment", [
    ("busybox", "no namespace"),
    ("x/y@" + D1, "has a digest"),
    ("UPPER/case", "name: "),
])
def test_push_refuses_bad_names(name, fragment):
    host = ScriptedHost(PushEngine(None, None))
    with pytest.raises(Exception, match=fragment):
        action(docker_image_push).execute(host, args_of(docker_image_push, name=name))
    assert host.execs == 0


# --- docker_search -----------------------------------------------------------------------------

def test_search_is_one_call_and_parses_json_lines():
    def docker(argv, request):
        assert argv == ["search", "--format", "{{json .}}", "--no-trunc", "--limit", "5", "--filter",
                        "is-official=true", "--", "busybox"]
        return (0, '{"Name":"busybox","Description":"d","StarCount":"7","IsOfficial":"[OK]"}\n', "")
    host = ScriptedHost(docker)
    result = action(docker_search).execute(host, args_of(docker_search, term="busybox", limit=5,
                                                         filters={"is_official": True, "stars": None}))
    assert result == {"changed": False, "results": [{"name": "busybox", "description": "d", "stars": 7, "official": True}]}
    assert host.execs == 1


def test_search_failure_explains_docker_hub():
    error = ('Error response from daemon: Get "https://index.docker.io/v1/search?q=x&n=25": dial tcp: '
             'lookup index.docker.io: no such host')
    host = ScriptedHost(lambda argv, request: (1, "", error))
    with pytest.raises(TaskFailed, match="asks Docker Hub"):
        action(docker_search).execute(host, args_of(docker_search, term="x"))


@pytest.mark.parametrize("given, fragment", [
    ({"term": ""}, "term: "), ({"term": "a\x00b"}, "term: "), ({"limit": 0}, "limit: 0"), ({"limit": 101}, "limit: 101"),
    ({"filters": {"stars": -1, "is_official": None}}, "filters.stars: -1"),
])
def test_search_refuses_bad_input(given, fragment):
    host = ScriptedHost(lambda argv, request: (0, "", ""))
    values = {"term": "x"}
    values.update(given)
    with pytest.raises(TaskFailed, match=fragment):
        action(docker_search).execute(host, args_of(docker_search, **values))
    assert host.execs == 0
