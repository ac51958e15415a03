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
            return {"changed": False, "images": docker_cli.read_inspect(host, host.run(docker_cli.inspect_all_calls()))}
        specs = [parse_image(name, "name") for name in args["name"]]
        calls = docker_cli.inspect_calls([spec.text for spec in specs])
        found = docker_cli.read_inspect(host, host.run(calls)) if calls else []
        # One entry per name found, in the order asked (as `docker image inspect a b` answers):
        # two names of one image give that image twice.
        images = [image for image in (docker_cli.find_image(found, spec) for spec in specs) if image is not None]
        return {"changed": False, "images": images}
