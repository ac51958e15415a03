# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine settings of a task: connection options as docker's global options, the task's
``environment:`` in every call's request, and ``become`` refused on Windows hosts; all decided
before any exec."""

from __future__ import annotations

import importlib
import json
import pkgutil
from types import SimpleNamespace

import pytest

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import shell_loader

from ansible_collections.wincontainers.images.plugins import action as actions
from ansible_collections.wincontainers.images.plugins.action import docker_image_info, docker_image_pull
from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli, engine, limits
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase
from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import DIRECT_COMMAND, PosixDialect, WindowsDialect
from ansible_collections.wincontainers.images.plugins.plugin_utils.docker_cli import chunked
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, Host
from ansible_collections.wincontainers.images.plugins.plugin_utils.options import OptionError
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import MAX_ARGUMENTS_LENGTH, join_arguments

from cmdline import parse  # tests/unit is on sys.path (no __init__.py)

SECRET = "tok-\u00e9-S3cr3t"


# --- connection options -> docker's global options ------------------------------------------------

def test_unset_options_pass_nothing():
    assert engine.settings({}, False) == engine.Settings()
    assert engine.settings(dict.fromkeys(engine.CONNECTION_SPEC), True).arguments == ()


@pytest.mark.parametrize("windows", [False, True])
def test_every_option_maps_to_its_global_flag(windows):
    root = "C:\\certs\\" if windows else "/certs/"
    args = {"docker_host": "tcp://engine.example.com:2376", "tls": True, "validate_certs": True,
            "ca_path": root + "ca.pem", "client_cert": root + "cert.pem", "client_key": root + "key.pem",
            "tls_hostname": "Engine.Example.com", "api_version": "1.41", "use_ssh_client": True}
    settings = engine.settings(args, windows)
    assert settings.arguments == ("--host", "tcp://engine.example.com:2376", "--tls", "--tlsverify",
                                  "--tlscacert", root + "ca.pem", "--tlscert", root + "cert.pem",
                                  "--tlskey", root + "key.pem")
    assert settings.option_environment == {"DOCKER_API_VERSION": "1.41"}


def test_false_is_passed_so_that_it_wins_over_the_hosts_environment():
    # docker's --tls and --tlsverify default to DOCKER_TLS / DOCKER_TLS_VERIFY of its environment.
    assert engine.settings({"tls": False, "validate_certs": False}, False).arguments == ("--tls=false", "--tlsverify=false")


def test_api_version_auto_leaves_the_choice_to_docker():
    assert engine.settings({"api_version": "auto"}, False).option_environment == {}


@pytest.mark.parametrize("value", ["unix:///var/run/docker.sock", "tcp://10.0.0.5:2375", "tcp://[fd00::1]:2376",
                                   "ssh://deploy@build01", "ssh://build01:2222"])
def test_docker_hosts_the_cli_connects_to(value):
    assert engine.settings({"docker_host": value}, False).arguments == ("--host", value)


@pytest.mark.parametrize("value", ["npipe:////./pipe/docker_engine", "npipe://\\\\.\\pipe\\docker_engine",
                                   "unix:///C:/ProgramData/docker.sock", "unix://C:\\ProgramData\\docker.sock"])
def test_windows_docker_hosts(value):
    assert engine.settings({"docker_host": value}, True).arguments == ("--host", value)


@pytest.mark.parametrize(("value", "windows", "message"), [
    ("/var/run/docker.sock", False, "is not a Docker engine address the docker CLI connects to"),
    ("http://engine:2375", False, "is not a Docker engine address"),
    ("fd://", False, "is not a Docker engine address"),
    ("TCP://engine:2376", False, "is not a Docker engine address"),
    ("npipe:////./pipe/docker_engine", False, "is a Windows named pipe, but the host is not Windows"),
    ("npipe://docker_engine", True, "does not name a pipe of this machine"),
    ("unix://var/run/docker.sock", False, "does not name a socket by its absolute path"),
    ("tcp://:2376", False, "names no host"),
    ("ssh://user@", True, "names no host"),
    ("tcp://engine:2376 --debug", False, "contains a space"),
    ("tcp://engine\n:2376", False, "contains a space, a line break"),
    ("", False, "is not a Docker engine address"),
])
def test_bad_docker_hosts_are_refused_naming_the_option(value, windows, message):
    with pytest.raises(OptionError) as error:
        engine.settings({"docker_host": value}, windows)
    assert str(error.value).startswith("docker_host: ") and message in str(error.value)


@pytest.mark.parametrize(("option", "windows", "value", "message"), [
    ("ca_path", False, "certs/ca.pem", "ca_path: 'certs/ca.pem' is not an absolute path"),
    ("client_cert", True, "/certs/cert.pem", "client_cert: '/certs/cert.pem' is not an absolute Windows path"),
    ("client_key", False, "/certs/key\n.pem", "client_key: '/certs/key\\n.pem' contains a line break"),
])
def test_tls_files_are_absolute_paths_of_the_host(option, windows, value, message):
    with pytest.raises(OptionError) as error:
        engine.settings({option: value}, windows)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(("args", "accepted"), [
    ({"docker_host": "tcp://engine.example.com:2376", "tls_hostname": "engine.example.com"}, True),
    ({"docker_host": "ssh://me@[fd00::1]:22", "tls_hostname": "fd00::1"}, True),
    ({"docker_host": "tcp://10.0.0.5:2376", "tls_hostname": "engine.example.com"}, False),
    ({"tls_hostname": "localhost"}, False),
])
def test_tls_hostname_only_when_docker_verifies_that_name_anyway(args, accepted):
    if accepted:
        assert engine.settings(args, False).arguments[:2] == ("--host", args["docker_host"])
        return
    with pytest.raises(OptionError) as error:
        engine.settings(args, False)
    assert str(error.value).startswith("tls_hostname: '%s' cannot be honoured: the docker CLI has no option"
                                       % args["tls_hostname"])


def test_use_ssh_client_false_is_refused():
    with pytest.raises(OptionError, match="^use_ssh_client: false cannot be honoured"):
        engine.settings({"use_ssh_client": False}, False)


@pytest.mark.parametrize("value", ["latest", "1", "v1.41", "1.41 "])
def test_api_version_must_be_a_version(value):
    with pytest.raises(OptionError, match="^api_version: "):
        engine.settings({"api_version": value}, False)


@pytest.mark.parametrize("windows", [False, True])
def test_global_options_keep_within_their_share_of_the_command_line(windows):
    root = "C:\\" if windows else "/"
    path = root + "c" * (limits.GLOBAL_OPTIONS_MAX // 3)
    with pytest.raises(OptionError) as error:
        engine.settings({"ca_path": path, "client_cert": path, "client_key": path}, windows)
    assert str(error.value).startswith("ca_path, client_cert, client_key: the docker global options these give take")


def test_chunks_leave_room_for_the_largest_global_options():
    globals_ = ("--tlscacert", "C:\\" + "c" * (limits.GLOBAL_OPTIONS_MAX - 40))
    assert limits.argument_cost(True, globals_[1]) + len(globals_[0]) + 1 <= limits.GLOBAL_OPTIONS_MAX
    for chunk in chunked(("image", "inspect", "--"), ["sha256:%064x" % i for i in range(3000)]):
        assert len(join_arguments(globals_ + chunk)) <= MAX_ARGUMENTS_LENGTH


# --- the request of each call ---------------------------------------------------------------------

def host_for(windows, settings=engine.Settings()):
    host = Host.__new__(Host)
    host.dialect = WindowsDialect() if windows else PosixDialect()
    host.engine = settings
    return host


@pytest.mark.parametrize("windows", [False, True])
def test_global_options_go_before_the_command_of_docker_calls_only(windows):
    settings = engine.settings({"docker_host": "ssh://me@build01"}, windows)
    host = host_for(windows, settings)
    request = host.call_request(Call(("image", "inspect", "--", "a b")))
    argv = parse(request["cmdline"]) if windows else request["argv"]
    assert argv == ["--host", "ssh://me@build01", "image", "inspect", "--", "a b"]
    tar = host.call_request(Call(("-xOf", "x.tar"), exe="tar"))
    assert (parse(tar["cmdline"]) if windows else tar["argv"]) == ["-xOf", "x.tar"]


def test_the_calls_own_variables_win_over_the_options_and_the_task():
    settings = engine.Settings((), {"DOCKER_CONFIG": "/task", "DOCKER_API_VERSION": "1.40", "TOKEN": SECRET},
                               {"DOCKER_API_VERSION": "1.41"})
    host = host_for(False, settings)
    assert host.call_request(Call(("info",), environment={"DOCKER_CONFIG": "/own"}))["env"] == {
        "DOCKER_CONFIG": "/own", "DOCKER_API_VERSION": "1.41", "TOKEN": SECRET}
    assert "env" not in host_for(False).call_request(Call(("info",)))


def test_global_options_count_in_the_command_line_limit():
    settings = engine.Settings(("--tlscacert", "C:\\" + "c" * 4000))
    host = host_for(True, settings)
    with pytest.raises(limits.CommandTooLong):
        host.call_request(Call(("image", "inspect", "--") + ("x" * 1000,) * 26))
    host_for(True).call_request(Call(("image", "inspect", "--") + ("x" * 1000,) * 26))


# --- the task's environment: ------------------------------------------------------------------------

class Templar:
    def template(self, value):
        return value


def action_with(environment, windows=False):
    action = SimpleNamespace(_task=SimpleNamespace(environment=environment), _templar=Templar(),
                             _connection=SimpleNamespace(_shell=shell_loader.get("powershell" if windows else "sh")))
    action._compute_environment_string = ActionBase._compute_environment_string.__get__(action)
    return action


@pytest.mark.parametrize("windows", [False, True])
def test_task_environment_is_merged_as_ansible_core_merges_it(windows):
    # play, then block, then task: the innermost wins
    environment = [{"DOCKER_HOST": "tcp://play:2376", "A": "play"}, {}, None, {"A": "task", "N": 1, "B": True}]
    assert engine.task_environment(action_with(environment, windows)) == {
        "DOCKER_HOST": "tcp://play:2376", "A": "task", "N": "1", "B": "True"}
    assert engine.task_environment(action_with(None)) == {}
    assert engine.task_environment(action_with({"ONE": "x"})) == {"ONE": "x"}


def test_ansible_cores_own_error_for_an_environment_that_is_no_dict():
    with pytest.raises(AnsibleError, match="environment must be a dictionary"):
        engine.task_environment(action_with(["DOCKER_HOST=tcp://x:1"]))


@pytest.mark.parametrize(("environment", "message"), [
    ({"TOKEN": None}, "environment: TOKEN must be a string, got null"),
    ({"TOKEN": [SECRET]}, "environment: TOKEN must be a string, got a list"),
    ({"TOKEN": {"a": SECRET}}, "environment: TOKEN must be a string, got a dict"),
    ({"TOKEN": SECRET + "\0"}, "environment: TOKEN contains a NUL character"),
    ({"A=B": SECRET}, "environment: 'A=B' is not an environment variable name"),
    ({"": SECRET}, "environment: '' is not an environment variable name"),
])
def test_bad_environment_values_are_refused_without_showing_them(environment, message):
    with pytest.raises(OptionError) as error:
        engine.task_environment(action_with(environment))
    assert str(error.value).startswith(message) and SECRET not in str(error.value)


# --- become ---------------------------------------------------------------------------------------

def test_become_on_windows_fails_naming_the_tasks_settings():
    action = SimpleNamespace(_play_context=SimpleNamespace(become=True, become_method="runas", become_user="svc-docker"))
    with pytest.raises(OptionError) as error:
        engine.check_become(action, True, "win01")
    assert str(error.value).startswith(
        "win01: become is not supported by this module on Windows hosts (the task has become: true, become_method: "
        "runas, become_user: svc-docker)")
    engine.check_become(action, False, "linux01")
    engine.check_become(SimpleNamespace(_play_context=SimpleNamespace(become=False)), True, "win01")


# --- a whole task, nothing but the execs faked ------------------------------------------------------

def run_task(module, args, windows=False, environment=None, become=False, monkeypatch=None):
    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    plugin = module.ActionModule.__new__(module.ActionModule)
    plugin._task = SimpleNamespace(args=dict(args), check_mode=False, diff=False, environment=environment)
    plugin._templar = Templar()
    plugin._connection = SimpleNamespace(_shell=shell_loader.get("powershell" if windows else "sh"))
    plugin._play_context = SimpleNamespace(remote_addr="host1", become=become, become_method="runas", become_user=None)
    sent = []

    def execute(command, in_data=None, **_kwargs):
        sent.append((command, in_data))
        return {"rc": 0, "stdout": '{"results": [{"rc": 0, "stdout": "[]", "stderr": ""}], "error": null}\n',
                "stderr": ""}

    plugin._low_level_execute_command = execute
    return plugin.run(task_vars={"inventory_hostname": "host1"}), sent


def sent_calls(sent, windows):
    _command, stdin = sent[-1]
    request = json.loads(stdin.splitlines()[-1])
    return [(parse(call["cmdline"]) if windows else call["argv"], call.get("env")) for call in request["calls"]]


@pytest.mark.parametrize("windows", [False, True])
def test_environment_and_options_reach_the_request_never_the_command_line(monkeypatch, windows):
    host = "npipe:////./pipe/other" if windows else "unix:///run/other.sock"
    result, sent = run_task(docker_image_info, {"name": ["busybox"], "docker_host": host, "api_version": "1.41"},
                            windows, [{"DOCKER_TLS_VERIFY": "1", "REGISTRY_TOKEN": SECRET}], monkeypatch=monkeypatch)
    assert result.get("failed") is not True, result
    assert sent_calls(sent, windows) == [(["--host", host, "image", "inspect", "--", "busybox"],
                                          {"DOCKER_TLS_VERIFY": "1", "REGISTRY_TOKEN": SECRET, "DOCKER_API_VERSION": "1.41"})]
    command, _stdin = sent[-1]
    assert SECRET not in command and command != DIRECT_COMMAND
    assert SECRET not in repr(result)


def test_without_environment_the_posix_direct_path_stays(monkeypatch):
    result, sent = run_task(docker_image_info, {"name": ["busybox"], "docker_host": "unix:///run/other.sock"},
                            False, None, monkeypatch=monkeypatch)
    assert sent[-1][0] == DIRECT_COMMAND and b"--host\0unix:///run/other.sock\0image\0" in sent[-1][1]


def test_become_on_windows_fails_before_any_exec(monkeypatch):
    result, sent = run_task(docker_image_pull, {"name": ["busybox"]}, True, become=True, monkeypatch=monkeypatch)
    assert result["failed"] is True and sent == []
    assert result["msg"].startswith("host1: become is not supported by this module on Windows hosts")


def test_bad_connection_options_fail_before_any_exec(monkeypatch):
    result, sent = run_task(docker_image_info, {"name": ["busybox"], "docker_host": "npipe:////./pipe/x"}, False,
                            monkeypatch=monkeypatch)
    assert result["failed"] is True and sent == [] and result["msg"].startswith("docker_host: 'npipe:")


def test_every_module_takes_the_connection_options():
    for info in pkgutil.iter_modules(actions.__path__):
        plugin = importlib.import_module("%s.%s" % (actions.__name__, info.name)).ActionModule
        assert issubclass(plugin, DockerActionBase)
        for option, spec in engine.CONNECTION_SPEC.items():
            assert plugin.ARGUMENT_SPEC[option] == spec, (info.name, option)


@pytest.mark.parametrize(("settings", "where"), [
    (engine.Settings(("--host", "unix:///run/other.sock")), "unix:///run/other.sock (docker_host)"),
    (engine.Settings((), {"DOCKER_HOST": "unix:///run/other.sock"}), "unix:///run/other.sock (DOCKER_HOST of the task's "
                                                                     "environment)"),
    (engine.Settings(), "unix:///run/other.sock (set by DOCKER_HOST or the current docker context)"),
])
def test_an_unreachable_engine_is_named_by_what_chose_it(settings, where):
    host = SimpleNamespace(name="linux01", is_windows=False, engine=settings)
    stderr = "Cannot connect to the Docker daemon at unix:///run/other.sock. Is the docker daemon running?\n"
    message = docker_cli.engine_problem_message(host, stderr)
    assert message.startswith("linux01: the Docker engine is not reachable at %s." % where), message
