# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of every action plugin in the collection.

Before anything runs on a host it refuses option values of the wrong type that ansible-core
would silently turn into other text (``options.check_types``), validates the task's arguments
against the plugin's ``ARGUMENT_SPEC``, and refuses option values too long for any docker
command line on the host (``limits.check_options``). It opens the ``Host``, turns the
collection's errors into a failed result with a clear message, and removes the values of
``no_log`` options from whatever it returns (ansible-core does that for modules, not for action
plugins).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.wincontainers.images.plugins.plugin_utils import limits, options
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

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        secrets = self._secret_values()
        args: dict[str, Any] = {}
        host_name = "host"
        try:
            options.check_types(self.ARGUMENT_SPEC, self._task.args)
            _validation, args = self.validate_argument_spec(
                argument_spec=dict(self.ARGUMENT_SPEC),
                mutually_exclusive=self.MUTUALLY_EXCLUSIVE,
                required_if=self.REQUIRED_IF,
            )
            host = Host(self, task_vars)
            host_name = host.name
            limits.check_options(host.is_windows, self.ARGUMENT_SPEC, args, self.CHUNKED_OPTIONS)
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
        return remove_values(result, secrets) if secrets else result

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
