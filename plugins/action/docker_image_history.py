# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.docker_image_history (documentation in plugins/modules).

One exec: ``docker image inspect`` and ``docker image history`` (JSON rows, untruncated,
machine-readable times and sizes) of the image.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli, lifecycle
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Host
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import parse_image


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "name": {"type": "str", "required": True},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        spec = parse_image(args["name"], "name")
        results = host.run(docker_cli.inspect_calls([spec.text]) + [lifecycle.history_call(spec.text)])
        image = docker_cli.find_image(docker_cli.read_inspect(host, results[:-1]), spec)
        if image is None:
            raise TaskFailed("name: the image %r was not found on %s" % (spec.text, host.name))
        history = results[-1]
        docker_cli.raise_for_engine(host, [history])
        if not history.ok:
            raise docker_cli.command_failed(host, history, "docker image history")
        try:
            layers = lifecycle.parse_history(history.stdout)
        except (ValueError, AttributeError) as exc:
            raise TaskFailed("%s: unexpected output of docker image history: %s" % (host.name, exc)) from None
        return {"changed": False, "image_id": image["Id"], "history": layers}
