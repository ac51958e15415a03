# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each module's documentation against the argument spec its action plugin validates.

Nothing in ansible-test compares the two for action plugins, so this does, for every file in
``plugins/modules`` (a new module is covered as soon as it exists).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.playbook.task import Task
from ansible.utils.plugin_docs import add_fragments

from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase

PACKAGE = "ansible_collections.wincontainers.images"
FQCN_PREFIX = "wincontainers.images."
COLLECTION = Path(next(iter(importlib.import_module(PACKAGE).__path__)))
MODULES = sorted(path.stem for path in (COLLECTION / "plugins" / "modules").glob("*.py") if path.stem != "__init__")
REQUIRED_ATTRIBUTES = ("check_mode", "diff_mode", "idempotent", "platform")
SUPPORT_VALUES = {"full", "partial", "none", "N/A"}
SECRET_NAME = re.compile(r"password|passwd|token|secret", re.IGNORECASE)
# Examples may call only the collection's own modules and ansible.builtin ones: the collection
# declares no dependency, so a user may have nothing else installed.
ALLOWED_MODULE_PREFIXES = (FQCN_PREFIX, "ansible.builtin.")
TASK_KEYWORDS = set(Task.fattributes) | {"local_action", "block", "rescue", "always"}


def module_file(name: str):
    return importlib.import_module("%s.plugins.modules.%s" % (PACKAGE, name))


def action_plugin(name: str):
    return importlib.import_module("%s.plugins.action.%s" % (PACKAGE, name)).ActionModule


class FragmentLoader:
    """The collection's own doc fragments, found the way ansible's fragment loader names them."""

    def get(self, name: str):
        if not name.startswith(FQCN_PREFIX):
            return None
        short = name[len(FQCN_PREFIX):]
        if not (COLLECTION / "plugins" / "doc_fragments" / (short + ".py")).exists():
            return None
        fragment = importlib.import_module("%s.plugins.doc_fragments.%s" % (PACKAGE, short)).ModuleDocFragment
        return type("Fragment", (fragment,), {"ansible_name": name})


def documentation(name: str) -> dict:
    """DOCUMENTATION with its fragments merged by ansible's own add_fragments."""
    doc = yaml.safe_load(module_file(name).DOCUMENTATION)
    add_fragments(doc, str(COLLECTION / "plugins" / "modules" / (name + ".py")), FragmentLoader(), is_module=True)
    return doc


def test_the_collection_has_modules():
    assert MODULES, "no module found in %s" % (COLLECTION / "plugins" / "modules")


# --- options against ARGUMENT_SPEC -------------------------------------------------------

def normalise_doc(options: dict | None) -> dict:
    result = {}
    for name, option in (options or {}).items():
        choices = option.get("choices")
        if isinstance(choices, dict):  # choices documented with a description each
            choices = list(choices)
        result[name] = {
            "type": option.get("type", "str"),
            "elements": option.get("elements"),
            "required": bool(option.get("required", False)),
            "default": option.get("default"),
            "choices": sorted(map(str, choices)) if choices is not None else None,
            "aliases": sorted(option.get("aliases") or []),
            "suboptions": normalise_doc(option.get("suboptions")),
        }
    return result


def normalise_spec(spec: dict | None) -> dict:
    result = {}
    for name, option in (spec or {}).items():
        choices = option.get("choices")
        result[name] = {
            "type": option.get("type", "str"),
            "elements": option.get("elements"),
            "required": bool(option.get("required", False)),
            "default": option.get("default"),
            "choices": sorted(map(str, choices)) if choices is not None else None,
            "aliases": sorted(option.get("aliases") or []),
            "suboptions": normalise_spec(option.get("options")),
        }
    return result


@pytest.mark.parametrize("name", MODULES)
def test_module_has_a_matching_action_plugin(name):
    action = action_plugin(name)
    assert issubclass(action, DockerActionBase)
    assert isinstance(action.ARGUMENT_SPEC, dict)
    assert documentation(name)["module"] == name


@pytest.mark.parametrize("name", MODULES)
def test_documented_options_equal_the_argument_spec(name):
    documented = normalise_doc(documentation(name).get("options"))
    validated = normalise_spec(action_plugin(name).ARGUMENT_SPEC)
    assert sorted(documented) == sorted(validated), "option names differ"
    for option in documented:
        assert documented[option] == validated[option], "option %r differs (doc, then spec)" % option


@pytest.mark.parametrize("name", MODULES)
def test_argument_spec_is_valid_for_ansible(name):
    action = action_plugin(name)
    validator = ArgumentSpecValidator(
        dict(action.ARGUMENT_SPEC), mutually_exclusive=action.MUTUALLY_EXCLUSIVE, required_if=action.REQUIRED_IF)
    # Without arguments, ansible reports exactly the required options as missing.
    result = validator.validate({})
    required = sorted(option for option, spec in action.ARGUMENT_SPEC.items() if spec.get("required"))
    if required:
        assert result.error_messages == ["missing required arguments: %s" % ", ".join(required)]
    else:
        assert result.error_messages == []


def all_options(spec: dict, prefix=""):
    for option, value in (spec or {}).items():
        yield prefix + option, value
        yield from all_options(value.get("options") or value.get("suboptions"), prefix + option + ".")


def secrets_without_no_log(spec: dict) -> list[str]:
    return [option for option, value in all_options(spec)
            if SECRET_NAME.search(option.rsplit(".", 1)[-1]) and value.get("no_log") is not True]


@pytest.mark.parametrize("name", MODULES)
def test_secret_options_are_no_log(name):
    assert secrets_without_no_log(action_plugin(name).ARGUMENT_SPEC) == [], "options holding secrets must be no_log"


def test_the_secret_check_flags_secrets():
    spec = {
        "registry_password": {"type": "str"},
        "token": {"type": "str", "no_log": True},
        "auth": {"type": "dict", "options": {"identity_token": {"type": "str", "no_log": False}}},
        "username": {"type": "str"},
    }
    assert secrets_without_no_log(spec) == ["registry_password", "auth.identity_token"]


@pytest.mark.parametrize("name", MODULES)
def test_no_log_is_set_only_where_the_spec_allows_it(name):
    # DOCUMENTATION cannot say no_log (validate-modules refuses unknown option keys), so the
    # spec is the only place: it must be a real bool, never a truthy string.
    for option, spec in all_options(action_plugin(name).ARGUMENT_SPEC):
        assert spec.get("no_log", False) in (True, False), option
    for option, doc in all_options(documentation(name).get("options")):
        assert "no_log" not in doc, "%s: no_log belongs in ARGUMENT_SPEC, not in DOCUMENTATION" % option


def test_the_comparison_sees_a_difference():
    doc = normalise_doc({"a": {"description": "x", "type": "list", "elements": "str"}})
    assert doc != normalise_spec({"a": {"type": "list", "elements": "str", "default": []}})
    assert doc != normalise_spec({"a": {"type": "list", "elements": "dict"}})
    assert doc == normalise_spec({"a": {"type": "list", "elements": "str"}})
    nested_doc = normalise_doc({"a": {"description": "x", "type": "dict", "suboptions": {"b": {"description": "y"}}}})
    assert nested_doc != normalise_spec({"a": {"type": "dict", "options": {"b": {"type": "int"}}}})
    assert nested_doc == normalise_spec({"a": {"type": "dict", "options": {"b": {}}}})


# --- EXAMPLES, RETURN, attributes ---------------------------------------------------------

def tasks_of(items):
    for task in items or []:
        assert isinstance(task, dict), task
        for section in ("block", "rescue", "always"):
            if section in task:
                yield from tasks_of(task[section])
        if not {"block", "rescue", "always"} & set(task):
            yield task


def module_of(task: dict) -> tuple[str, object]:
    keys = [key for key in task if key not in TASK_KEYWORDS and not key.startswith("with_")]
    assert len(keys) == 1, "a task must call exactly one module: %r" % task
    return keys[0], task[keys[0]]


@pytest.mark.parametrize("name", MODULES)
def test_examples_parse_and_use_fqcn(name):
    examples = yaml.safe_load(module_file(name).EXAMPLES)
    assert isinstance(examples, list) and examples
    used = set()
    for task in tasks_of(examples):
        assert task.get("name"), "every example task is named: %r" % task
        module, _arguments = module_of(task)
        assert module.startswith(ALLOWED_MODULE_PREFIXES), (
            "%s: examples may use only %s modules" % (module, " or ".join(p + "*" for p in ALLOWED_MODULE_PREFIXES)))
        if module.startswith(FQCN_PREFIX):
            assert module[len(FQCN_PREFIX):] in MODULES, "unknown module %s" % module
        used.add(module)
    assert FQCN_PREFIX + name in used, "the examples of %s never call it" % name


@pytest.mark.parametrize("name", MODULES)
def test_examples_pass_the_argument_spec(name):
    action = action_plugin(name)
    validator = ArgumentSpecValidator(
        dict(action.ARGUMENT_SPEC), mutually_exclusive=action.MUTUALLY_EXCLUSIVE, required_if=action.REQUIRED_IF)
    for task in tasks_of(yaml.safe_load(module_file(name).EXAMPLES)):
        module, args = module_of(task)
        if module != FQCN_PREFIX + name:
            continue
        assert args is None or isinstance(args, dict), "example arguments must be a mapping: %r" % task
        result = validator.validate(dict(args or {}))
        assert not result.error_messages, "example %r: %s" % (task.get("name"), result.error_messages)


@pytest.mark.parametrize("name", MODULES)
def test_return_parses(name):
    returned = yaml.safe_load(module_file(name).RETURN)
    assert isinstance(returned, dict) and returned
    for key, value in returned.items():
        assert isinstance(value, dict) and value.get("description"), key
        assert value.get("returned") and value.get("type"), key


@pytest.mark.parametrize("name", MODULES)
def test_attributes_are_documented(name):
    attributes = documentation(name).get("attributes") or {}
    for attribute in REQUIRED_ATTRIBUTES:
        assert attribute in attributes, "%s does not document the %s attribute" % (name, attribute)
        assert attributes[attribute].get("support") in SUPPORT_VALUES, attribute
    assert set(attributes["platform"]["platforms"]) >= {"windows", "posix"}
    action = action_plugin(name)
    if attributes["check_mode"]["support"] in ("full", "partial"):
        assert action._supports_check_mode
    assert attributes.get("action", {}).get("support") == "full"


def test_ansible_doc_renders_every_module(tmp_path):
    """The real ansible-doc, with the collection on its path, resolves the same documentation."""
    ansible_doc = Path(sys.executable).with_name("ansible-doc")
    assert ansible_doc.exists(), "ansible-doc is not installed next to %s" % sys.executable
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTION.parents[2]), ANSIBLE_HOME=str(tmp_path),
                       ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1")
    process = subprocess.run(
        [str(ansible_doc), "--json", *(FQCN_PREFIX + name for name in MODULES)],
        capture_output=True, text=True, env=environment, timeout=120, check=False)
    assert process.returncode == 0, process.stderr
    rendered = json.loads(process.stdout)
    assert sorted(rendered) == [FQCN_PREFIX + name for name in MODULES], process.stderr
    for name in MODULES:
        doc = rendered[FQCN_PREFIX + name]["doc"]
        assert set(REQUIRED_ATTRIBUTES) <= set(doc["attributes"])
        assert sorted(doc.get("options") or {}) == sorted(action_plugin(name).ARGUMENT_SPEC)


# --- meta/runtime.yml ---------------------------------------------------------------------

def test_every_module_is_in_the_docker_action_group():
    runtime = yaml.safe_load((COLLECTION / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    group = runtime["action_groups"]["docker"]
    short_names = {entry[len(FQCN_PREFIX):] if entry.startswith(FQCN_PREFIX) else entry for entry in group}
    assert sorted(set(MODULES) - short_names) == [], "modules missing from action_groups.docker"
    assert sorted(short_names - set(MODULES)) == [], "action_groups.docker lists modules that do not exist"
    assert len(group) == len(short_names), "action_groups.docker lists a module twice"


@pytest.mark.parametrize("name", MODULES)
def test_action_group_attribute_names_the_group(name):
    group = documentation(name)["attributes"]["action_group"]
    assert group["membership"] == ["wincontainers.images.docker"]
