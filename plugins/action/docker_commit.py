# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.docker_commit (documentation in plugins/modules).

Idempotent by provenance: the committed image carries labels with the container's ID and a
fingerprint of the container's state and of the requested commit. One exec reads the container
(inspect with the size of its writable layer, and its filesystem changes) and the image that
``repository`` names; when that image has the same provenance, nothing more happens. Otherwise a
second exec commits and inspects the new image.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli, lifecycle, options
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, Host
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import ensure_taggable, parse_reference


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "container": {"type": "str", "required": True},
        "repository": {"type": "str", "required": True},
        "message": {"type": "str"},
        "author": {"type": "str"},
        "changes": {"type": "list", "elements": "str", "default": []},
        "pause": {"type": "bool", "default": True},
        "force": {"type": "bool", "default": False},
        "stop_running": {"type": "bool", "default": False},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        container_name = options.check_container(args["container"], "container")
        repository = ensure_taggable(parse_reference(args["repository"], "repository", default_tag="latest"), "repository")
        message = None if args["message"] is None else lifecycle.check_text(args["message"], "message")
        author = None if args["author"] is None else lifecycle.check_text(args["author"], "author")
        changes = lifecycle.validate_changes(args["changes"])

        results = host.run(lifecycle.container_calls(container_name) + docker_cli.inspect_calls([str(repository)]))
        container = lifecycle.read_container(host, "container", container_name, results[0], results[1])
        images = docker_cli.read_inspect(host, results[2:])
        existing = images[0] if images else None
        before_id = existing["Id"] if existing else None

        stopped = False
        if container.is_windows and container.running:
            if not args["stop_running"]:
                raise TaskFailed(
                    "container: %s (%s) is running, and Windows cannot commit a running container; stop it first, "
                    "or set stop_running: true to let the task stop it" % (container.name, container.id[:12]),
                    container_id=container.id,
                )
            if self.check_mode:
                return self._result(container, None, before_id, None, changed=True, stopped=True)
            stop_and_read = [Call(("container", "stop", docker_cli.END_OF_FLAGS, container.id))] + lifecycle.container_calls(
                container.id)
            results = host.run(stop_and_read)
            docker_cli.raise_for_failures(host, results[:1], "stopping the container")
            container = lifecycle.read_container(host, "container", container_name, results[1], results[2])
            stopped = True
        if container.diff is None:
            raise TaskFailed("container: the engine cannot list the changes of %s while it runs" % container.name)

        fingerprint = lifecycle.commit_fingerprint(container.inspect, container.diff, changes, message, author)
        if not args["force"] and lifecycle.has_provenance(existing, container.id, fingerprint):
            return self._result(container, fingerprint, before_id, existing, changed=stopped, stopped=stopped)
        if self.check_mode:
            return self._result(container, fingerprint, before_id, None, changed=True, stopped=stopped)

        commit = lifecycle.commit_call(container.id, repository, changes, message, author, args["pause"], fingerprint)
        results = host.run([commit] + docker_cli.inspect_calls([str(repository)]))
        docker_cli.raise_for_failures(host, results[:1], "committing the container")
        images = docker_cli.read_inspect(host, results[1:])
        if not images:
            raise TaskFailed("repository: the commit succeeded but %s could not be inspected afterwards" % repository)
        return self._result(container, fingerprint, before_id, images[0], changed=True, stopped=stopped)

    def _result(self, container, fingerprint, before_id, image, changed, stopped) -> dict[str, Any]:
        result: dict[str, Any] = {
            "changed": changed,
            "image": image,
            "image_id": image["Id"] if image else None,
            "container_id": container.id,
            "fingerprint": fingerprint,
            "stopped": stopped,
        }
        if self.diff_mode:
            after = image["Id"] if image else ("(new image)" if changed else before_id)
            result["diff"] = {
                "before": {"image_id": before_id},
                "after": {"image_id": after},
            }
        return result
