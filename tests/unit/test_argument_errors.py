# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument errors of every module name the module by its FQCN (never the action plugin's Python
path) and suggest the option a misspelt one most likely is (``DockerActionBase.validated_arguments``).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.wincontainers.images.plugins.plugin_utils.action import (
    argument_errors_message,
    option_suggestions,
)

PACKAGE = "ansible_collections.wincontainers.images"
COLLECTION = Path(next(iter(importlib.import_module(PACKAGE).__path__)))
ACTIONS = sorted(p.stem for p in (COLLECTION / "plugins" / "action").glob("*.py") if p.stem != "__init__")


def typo(name: str) -> str:
    """The name with two neighbouring letters swapped in its middle, as fingers do."""
    i = max(1, len(name) // 2 - 1)
    return name[:i] + name[i + 1] + name[i] + name[i + 2:]


def validate(name: str, args: dict, short_action: bool = True) -> str:
    plugin = importlib.import_module("%s.plugins.action.%s" % (PACKAGE, name)).ActionModule
    action = plugin.__new__(plugin)
    # The task may name the module by its short name (collections: keyword) or an action group.
    action._task = SimpleNamespace(args=args, action=name if short_action else "wincontainers.images." + name)
    with pytest.raises(AnsibleActionFail) as failed:
        action.validated_arguments()
    return str(failed.value.message)


def test_every_module_has_a_plugin():
    assert ACTIONS and len(ACTIONS) == len(list((COLLECTION / "plugins" / "modules").glob("[a-z]*.py")))


@pytest.mark.parametrize("name", ACTIONS)
def test_unsupported_option_names_the_fqcn(name):
    message = validate(name, {"surely_not_an_option": 1})
    assert message.startswith("wincontainers.images.%s: " % name), message
    assert "unsupported parameters: surely_not_an_option" in message
    assert "ansible_collections" not in message and "plugins.action" not in message
    assert "did you mean" not in message


@pytest.mark.parametrize("name", ACTIONS)
def test_misspelt_option_is_suggested(name):
    plugin = importlib.import_module("%s.plugins.action.%s" % (PACKAGE, name)).ActionModule
    spec = plugin.ARGUMENT_SPEC
    required = sorted(option for option, value in spec.items() if value.get("required"))
    target = (required or sorted(option for option in spec if len(option) >= 4))[0]
    wrong = typo(target)
    assert wrong not in spec
    args = {wrong: "x"}
    message = validate(name, args)
    assert message.startswith("wincontainers.images.%s: " % name), message
    assert "%s: did you mean %s?" % (wrong, target) in message, message
    if required:
        assert "missing required arguments: " in message and target in message.split("missing required arguments: ")[1]


def test_missing_required_lists_every_option_and_suggests_the_typo():
    message = validate("docker_image_tag", {"name": "busybox", "repositry": ["x"]})
    assert message == (
        "wincontainers.images.docker_image_tag: missing required arguments: repository; unsupported parameters: "
        "repositry. Supported parameters include: api_version, ca_path, client_cert, client_key, docker_host, "
        "existing_images, name, repository, tag, tls, tls_hostname, use_ssh_client, validate_certs (ca_cert, "
        "cacert_path, cert_path, docker_api_version, docker_url, key_path, tls_ca_cert, tls_client_cert, tls_client_key, "
        "tls_verify). repositry: did you mean repository?"
    )


def test_valid_arguments_pass_with_defaults():
    plugin = importlib.import_module("%s.plugins.action.docker_image_tag" % PACKAGE).ActionModule
    action = plugin.__new__(plugin)
    action._task = SimpleNamespace(args={"name": "busybox", "repository": ["x"]}, action="docker_image_tag")
    args = action.validated_arguments()
    assert args["name"] == "busybox" and args["repository"] == ["x"] and "tag" in args


def test_suggestions_match_aliases_and_leave_far_names():
    spec = {"registry_url": {"type": "str", "aliases": ["registry", "url"]}, "username": {"type": "str"}}
    assert option_suggestions(spec, {"regsitry": 1, "usrname": 1, "colour": 1, "url": 1}) == {
        "regsitry": "registry", "usrname": "username"}


def test_message_without_errors_of_other_kinds_keeps_their_words():
    error = SimpleNamespace(msg="parameters are mutually exclusive: a|b")
    assert argument_errors_message("wincontainers.images.x", {"a": {}, "b": {}}, {"a": 1, "b": 2}, [error]) == (
        "wincontainers.images.x: parameters are mutually exclusive: a|b.")
