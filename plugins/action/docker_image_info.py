# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.docker_image_info (documentation in plugins/modules)."""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Host
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import parse_image


class ActionModule(DockerActionBase):
    CHUNKED_OPTIONS = ("name",)  # inspected in chunks (docker_cli.chunked)
    ARGUMENT_SPEC = {
        "name": {"type": "list", "elements": "str"},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        if args["name"] is None:
            calls = docker_cli.inspect_all_calls()
        else:
            specs = [parse_image(name, "name") for name in args["name"]]
            calls = docker_cli.inspect_calls([spec.text for spec in specs])
        images = docker_cli.read_inspect(host, host.run(calls)) if calls else []
        return {"changed": False, "images": images}
