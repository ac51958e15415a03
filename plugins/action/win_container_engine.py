# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.win_container_engine (documentation in plugins/modules).

The options are checked before any exec; one exec (``engine_state``) reads the features, the
installed engine, the service and daemon.json; ``container_engine.EngineTask`` decides, and a
change runs as one detached host job (``engine_job``). The rules are in
``plugins/plugin_utils/container_engine.py``.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import container_engine
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Host


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "version": {"type": "str"},
        "source": {"type": "str", "default": "download", "choices": ["download", "archive"]},
        "url": {"type": "str", "default": container_engine.DEFAULT_URL},
        "archive_path": {"type": "str"},
        "checksum": {"type": "str"},
        "install_dir": {"type": "str"},
        "data_root": {"type": "str"},
        "daemon_config": {"type": "dict"},
        "hyperv": {"type": "bool", "default": False},
        "timeout": {"type": "int", "default": 3600},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        try:
            request = container_engine.check_request(args, host.is_windows, host.name)
            return container_engine.EngineTask(self, host, request).run()
        except container_engine.EngineError as exc:
            raise TaskFailed(str(exc)) from None
