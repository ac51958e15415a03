# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option values checked on the controller before anything runs: strict types (what ansible-core's
ArgumentSpecValidator would silently convert), container names, absolute paths; and the order in
``DockerActionBase.run``: types, then ansible's validation, then lengths, all before any exec."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.wincontainers.images.plugins.action import (
    docker_commit,
    docker_image_export,
    docker_image_tag,
    docker_login,
    docker_search,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils import options
from ansible_collections.wincontainers.images.plugins.plugin_utils.options import OptionError

SPEC = {
    "message": {"type": "str"},
    "tag": {"type": "str", "default": "latest"},
    "name": {"type": "str", "required": True},
    "kind": {},  # no type: ansible's default is str
    "password": {"type": "str", "no_log": True, "aliases": ["secret"]},
    "changes": {"type": "list", "elements": "str", "default": []},
    "force": {"type": "bool", "default": False},
    "timeout": {"type": "int", "default": 10},
    "filters": {"type": "dict", "options": {"label": {"type": "str"}, "stars": {"type": "int"}}},
}
SECRET = "S3cr3t-\u00e9-value"


@pytest.mark.parametrize(("value", "converted"), [
    (["a", "b"], "['a', 'b']"),
    ({"a": 1}, "{'a': 1}"),
    (True, "True"),
    (1.10, "1.1"),
])
def test_ansible_core_would_convert_these_silently(value, converted):
    # Why the check exists: ArgumentSpecValidator turns them into their Python text, no error.
    result = ArgumentSpecValidator({"message": {"type": "str"}}).validate({"message": value})
    assert result.error_messages == [] and result.validated_parameters["message"] == converted


def test_ansible_core_would_convert_list_elements_and_lists_too():
    spec = {"changes": {"type": "list", "elements": "str"}}
    assert ArgumentSpecValidator(spec).validate({"changes": [["a"], 1.10, False]}).validated_parameters["changes"] == [
        "['a']", "1.1", "False"]
    assert ArgumentSpecValidator(spec).validate({"changes": 1.10}).validated_parameters["changes"] == ["1.1"]


@pytest.mark.parametrize(("args", "message"), [
    ({"message": ["a", "b"]}, "message: expected a string, got a list: ['a', 'b']; give a string"),
    ({"message": ("a",)}, "message: expected a string, got a list"),
    ({"message": {"a": 1}}, "message: expected a string, got a dict: {'a': 1}"),
    ({"message": True}, "message: expected a string, got the boolean True (YAML reads unquoted yes, no"),
    ({"tag": 1.10}, "tag: expected a string, got the number 1.1 (YAML reads an unquoted number with a dot as a float: "
                    "1.10 becomes 1.1)"),
    ({"message": b"bytes"}, "message: expected a string, got a bytes"),
    ({"message": datetime.date(2024, 1, 2)}, "message: expected a string, got a date"),
    ({"kind": ["x"]}, "kind: expected a string, got a list"),
    ({"tag": None}, "tag: expected a string, got null"),  # '' (2.19+) or 'None' (2.16) otherwise
    ({"name": None}, "name: expected a string, got null"),
    ({"changes": ["ok", ["nested"]]}, "changes[1]: expected a string, got a list"),
    ({"changes": ["ok", None]}, "changes[1]: expected a string, got null"),
    ({"changes": [False]}, "changes[0]: expected a string, got the boolean False"),
    ({"changes": 1.10}, "changes: expected a string or a list of strings, got the number 1.1"),
    ({"changes": True}, "changes: expected a string or a list of strings, got the boolean True"),
    ({"filters": {"label": ["x"]}}, "filters.label: expected a string, got a list"),
])
def test_conversions_are_refused_naming_the_option(args, message):
    with pytest.raises(OptionError) as caught:
        options.check_types(SPEC, dict({"name": "n"}, **args))
    assert str(caught.value).startswith(message), str(caught.value)


@pytest.mark.parametrize("args", [
    {"message": "text", "tag": "1.10", "name": "n"},
    {"tag": 1809, "name": 5},  # integers convert to what the user wrote
    {"message": None, "name": "n"},  # not given: ansible leaves it None
    {"changes": ["a", 1], "name": "n"},
    {"changes": "a,b", "name": "n"},  # ansible's comma-separated list
    {"changes": 5, "name": "n"},
    {"force": "yes", "timeout": "20", "name": "n"},  # other types are ansible's business
    {"filters": {"label": "x", "stars": "3"}, "name": "n"},
    {"filters": None, "name": "n"},
])
def test_what_may_convert_passes(args):
    options.check_types(SPEC, args)


@pytest.mark.parametrize("value", [[SECRET, "other"], {"a": SECRET}, True, 1.5])
def test_a_no_log_value_is_never_shown(value):
    for key in ("password", "secret"):  # the option and its alias
        with pytest.raises(OptionError) as caught:
            options.check_types(SPEC, {"name": "n", key: value})
        message = str(caught.value)
        assert message.startswith("%s: expected a string, got " % key)
        assert message.endswith("(the value is not shown: the option is no_log)")
        assert SECRET not in message and "other" not in message and "1.5" not in message and "True" not in message


def test_secret_texts_mask_every_part_of_a_no_log_value():
    found = options.secret_texts(SPEC, {"secret": [SECRET, "other", 42], "message": "public"})
    assert {SECRET, "other", "42"} <= found and "public" not in found
    assert str([SECRET, "other", 42]) in found


# --- containers -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["iis-build", "/iis-build", "web_1.2", "a1", "IIS", "0", "abc", "c" * 64, "3f2a",
                                   "a" * 200])
def test_container_names_and_ids_pass(value):
    assert options.check_container(value) == value


@pytest.mark.parametrize("value", ["--help", "--format=json", "-s", "-", "x", "Z", "web 1", "web/1", "/", "//web",
                                   "_web", ".web", "-web", "web\n", "w\u00e9b", "", None, 5, "web:1"])
def test_container_values_docker_would_misread_are_refused(value):
    with pytest.raises(OptionError, match=r"^container: "):
        options.check_container(value)


# --- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("windows", "path"), [
    (True, "C:\\images\\a.tar"), (True, "d:/images/a.tar"), (True, "\\\\server\\share\\a.tar"),
    (False, "/srv/a.tar"), (False, "/"),
])
def test_absolute_paths_pass(windows, path):
    assert options.absolute_path(path, "path", windows, "e.g.") == path


@pytest.mark.parametrize(("windows", "path", "reason"), [
    (True, "images\\a.tar", "is not an absolute Windows path"),
    (True, "\\images\\a.tar", "is not an absolute Windows path"),  # the current drive's root
    (True, "C:images\\a.tar", "is not an absolute Windows path"),  # relative to C:'s current directory
    (True, "/srv/a.tar", "is not an absolute Windows path"),
    (True, "\\\\server", "is not an absolute Windows path"),
    (True, "C:\\a|b.tar", "cannot hold"),
    (False, "srv/a.tar", "is not an absolute path"),
    (False, "./a.tar", "is not an absolute path"),
    (False, "~/a.tar", "is not an absolute path"),
    (False, "C:\\a.tar", "is not an absolute path"),
    (False, "/a\nb", "control character"),
    (False, "/a\x7fb", "control character"),
    (False, "  ", "is not a path"),
])
def test_relative_and_foreign_paths_are_refused(windows, path, reason):
    with pytest.raises(OptionError, match=r"^config_path: .*" + reason):
        options.absolute_path(path, "config_path", windows, "e.g.")


# --- DockerActionBase.run: the order of the checks, before any exec -----------------------------


class Execs:
    def __init__(self):
        self.commands = []

    def __call__(self, command, in_data=None, **_kwargs):
        self.commands.append(command)
        return {"rc": 0, "stdout": "", "stderr": ""}


def run_action(module, args, windows=False, monkeypatch=None):
    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    plugin = module.ActionModule.__new__(module.ActionModule)
    plugin._task = SimpleNamespace(args=dict(args), check_mode=False, diff=False, environment=None)
    shell = SimpleNamespace(SHELL_FAMILY="powershell" if windows else "sh", _IS_WINDOWS=windows,
                            env_prefix=lambda **_environment: "")
    plugin._connection = SimpleNamespace(_shell=shell)
    plugin._play_context = SimpleNamespace(remote_addr="host1")
    execs = Execs()
    plugin._low_level_execute_command = execs
    return plugin.run(task_vars={"inventory_hostname": "host1"}), execs


@pytest.mark.parametrize("windows", [False, True])
@pytest.mark.parametrize(("module", "args", "message"), [
    (docker_commit, {"container": "--help", "repository": "wct/x"}, "container: '--help' is not a container name"),
    (docker_commit, {"container": "--format=json", "repository": "wct/x"}, "container: '--format=json' is not"),
    (docker_commit, {"container": "web", "repository": "wct/x", "message": ["a", "b"]},
     "message: expected a string, got a list"),
    (docker_image_tag, {"name": "busybox", "repository": ["wct/x"], "tag": 1.10}, "tag: expected a string, got the "
                                                                                  "number 1.1"),
    (docker_search, {"term": ["busybox"]}, "term: expected a string, got a list"),
    (docker_login, {"username": "u", "password": [SECRET], "config_path": "/c"}, "password: expected a string, got a "
                                                                                 "list (the value is not shown"),
    (docker_login, {"username": "u", "password": SECRET, "config_path": "docker-config"},
     "config_path: 'docker-config' is not an absolute"),
    (docker_commit, {"container": "web", "repository": "wct/x", "message": "m" * 140000}, "message: the value 'mmm"),
    (docker_commit, {"container": "web", "repository": "wct/x", "changes": ["LABEL x=" + "y" * 70000]},
     "changes: the "),
    (docker_image_export, {"names": ["busybox"], "path": "/" + "p" * 140000}, "path: the value '/ppp"),
])
def test_refused_before_any_exec(monkeypatch, module, args, message, windows):
    if windows and "config_path" in args:
        args = dict(args, config_path="C:\\c" if args["config_path"] == "/c" else args["config_path"])
    if windows and "path" in args:
        args = dict(args, path="C:\\" + args["path"][1:])
        message = "path: the value 'C:\\\\ppp"
    result, execs = run_action(module, args, windows, monkeypatch)
    assert result["failed"] is True and result["msg"].startswith(message), result["msg"]
    assert execs.commands == []
    assert SECRET not in repr(result)


def test_types_are_refused_before_ansibles_own_validation(monkeypatch):
    # a list for a required str option: ansible would have taken it; the type check speaks first
    result, execs = run_action(docker_search, {"term": ["a"], "limit": "many"}, False, monkeypatch)
    assert result["msg"].startswith("term: expected a string, got a list") and execs.commands == []


def test_ansibles_validation_still_runs(monkeypatch):
    result, execs = run_action(docker_search, {"term": "a", "limit": "many"}, False, monkeypatch)
    assert result["failed"] is True and "limit" in result["msg"] and execs.commands == []
