# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of every action plugin in the collection.

Before anything runs on a host it refuses option values of the wrong type that ansible-core
would silently turn into other text (``options.check_types``), validates the task's arguments
against the plugin's ``ARGUMENT_SPEC``, and refuses option values too long for any docker
command line on the host (``limits.check_options``). Every plugin's ``ARGUMENT_SPEC`` also holds
the connection options (``engine.CONNECTION_SPEC``, added here to each subclass, documented by
the ``docker`` doc fragment); they and the task's ``environment:`` become the ``Host``'s engine
settings, applied to every docker call. ``become`` on a Windows host fails the task before
anything runs (``engine.check_become``). It opens the ``Host``, turns the
collection's errors into a failed result with a clear message, and removes the values of
``no_log`` options from whatever it returns (ansible-core does that for modules, not for action
plugins).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.wincontainers.images.plugins.plugin_utils import engine, limits, options
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Host, HostError
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import ReferenceError


class TaskFailed(Exception):
    """A failure found by the plugin's own checks; ``result`` holds extra return values."""

    def __init__(self, message: str, **result: Any) -> None:
        super().__init__(message)
        self.result = result


class DockerActionBase(ActionBase):
    ARGUMENT_SPEC: Mapping[str, Any] = {}
    MUTUALLY_EXCLUSIVE: list[list[str]] = []
    REQUIRED_IF: list[Any] = []
    # List options whose items the plugin spreads over several docker calls (docker_cli.chunked):
    # only each item alone must fit in a command line, not all of them together.
    CHUNKED_OPTIONS: tuple[str, ...] = ()

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("ARGUMENT_SPEC")
        if own is None:
            return  # inherited from a class that has them already
        overlap = set(own) & set(engine.CONNECTION_SPEC)
        if overlap:
            raise TypeError("%s: %s are connection options of every module" % (cls.__module__, ", ".join(sorted(overlap))))
        cls.ARGUMENT_SPEC = {**own, **engine.CONNECTION_SPEC}

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        secrets = self._secret_values()
        args: dict[str, Any] = {}
        host_name = "host"
        host: Host | None = None
        try:
            options.check_types(self.ARGUMENT_SPEC, self._task.args)
            args = self.validated_arguments()
            host = Host(self, task_vars)
            host_name = host.name
            engine.check_become(self, host.is_windows, host.name)
            limits.check_options(host.is_windows, self.ARGUMENT_SPEC, args, self.CHUNKED_OPTIONS)
            host.engine = engine.settings(args, host.is_windows, engine.task_environment(self))
            result.update(self.execute(host, args))
            result.setdefault("changed", False)
        except limits.CommandTooLong as exc:
            result.update(failed=True, msg=exc.message_for(host_name, limits.option_texts(self.ARGUMENT_SPEC, args)))
        except (limits.LimitError, options.OptionError) as exc:
            result.update(failed=True, msg=str(exc))
        except AnsibleActionFail as exc:
            result.update(failed=True, msg=str(exc.message))
        except TaskFailed as exc:
            result.update(exc.result)
            result.update(failed=True, msg=str(exc))
        except (HostError, ReferenceError) as exc:
            result.update(failed=True, msg=str(exc))
        if host is not None and host.warnings:  # what the host layer saw, failed or not (Host.warn)
            warnings = list(result.get("warnings") or [])
            result["warnings"] = warnings + [warning for warning in host.warnings if warning not in warnings]
        return remove_values(result, secrets) if secrets else result

    @property
    def module_name(self) -> str:
        """The module's FQCN (``wincontainers.images.NAME``), however the task named it."""
        package, _sep, name = type(self).__module__.rpartition(".plugins.action.")
        return "%s.%s" % (package.replace("ansible_collections.", "", 1), name) if name else self._task.action

    def validated_arguments(self) -> dict[str, Any]:
        """The task's arguments checked against ``ARGUMENT_SPEC`` (what ansible-core's
        ``validate_argument_spec`` does), with messages that name the module by its FQCN and, for
        an unknown option close to a known one, suggest it ("did you mean repository?")."""
        validator = ArgumentSpecValidator(dict(self.ARGUMENT_SPEC), mutually_exclusive=self.MUTUALLY_EXCLUSIVE,
                                          required_if=self.REQUIRED_IF)
        validation = validator.validate(self._task.args.copy())
        if not validation.errors.errors:  # (the errors object itself is always true)
            args = self._task.args.copy()
            args.update(validation.validated_parameters)
            return args
        raise AnsibleActionFail(argument_errors_message(self.module_name, self.ARGUMENT_SPEC, self._task.args,
                                                        validation.errors.errors))

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        """Do the task's work and return its result; raise ``TaskFailed`` to fail it."""
        raise NotImplementedError

    @property
    def check_mode(self) -> bool:
        return bool(self._task.check_mode)

    @property
    def diff_mode(self) -> bool:
        return bool(self._task.diff)

    def _secret_values(self) -> set[str]:
        return options.secret_texts(self.ARGUMENT_SPEC, self._task.args)


def option_suggestions(spec: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, str]:
    """For each given option that the spec does not know, the known option or alias it most likely
    is a typo of (difflib's closest match, at least 0.75 alike), when there is one."""
    known = set(spec)
    for name, option in spec.items():
        known.update(option.get("aliases") or ())
    suggestions = {}
    for name in given:
        if name in known or not isinstance(name, str):
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        if close:
            suggestions[name] = close[0]
    return suggestions


def argument_errors_message(module: str, spec: Mapping[str, Any], given: Mapping[str, Any], errors: list[Any]) -> str:
    """One message for the validation errors of a task of ``module``: each error as ansible-core
    words it, under the module's FQCN (never the action plugin's Python path), and a "did you
    mean" for every unknown option close to a known one."""
    suggestions = option_suggestions(spec, given)
    parts = []
    for error in errors:
        if isinstance(error, UnsupportedError):
            parts.append("unsupported parameters: %s" % str(error.msg).rstrip("."))
        else:
            parts.append(str(error.msg).rstrip("."))
    message = "%s: %s." % (module, "; ".join(dict.fromkeys(parts)))
    for typo, known in sorted(suggestions.items()):
        message += " %s: did you mean %s?" % (typo, known)
    return message
