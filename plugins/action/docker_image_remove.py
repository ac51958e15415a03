# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.docker_image_remove (documentation in plugins/modules).

One exec reads the image and every container that depends on it (running or stopped, created
from it or from an image built on it). An absent image is no change. Otherwise the plugin
predicts what the engine will do (untag only, or remove the image), refuses clearly where the
engine would refuse, and a second exec removes and inspects what is left.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli, lifecycle
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, Host
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import parse_tag


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "name": {"type": "str", "required": True},
        "tag": {"type": "str", "default": "latest"},
        "force": {"type": "bool", "default": False},
        "prune": {"type": "bool", "default": True},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        tag = parse_tag(args["tag"], "tag")
        spec = lifecycle.image_specs([args["name"]], "name", tag)[0]

        results = host.run(docker_cli.inspect_calls([spec.text]) + [lifecycle.dependent_containers_call(spec.text)])
        images = docker_cli.read_inspect(host, results[:-1])
        image = docker_cli.find_image(images, spec)
        if image is None:
            result: dict[str, Any] = {"changed": False, "image": {}, "untagged": [], "deleted": [], "actions": []}
            if self.diff_mode:
                result["diff"] = {"before": image_state(None), "after": image_state(None)}
            return result
        containers = lifecycle.read_containers(host, results[-1])

        by_reference = lifecycle.named_by_reference(image, spec)
        tags_before = list(image.get("RepoTags") or [])
        if by_reference:
            target = str(spec.reference)
        else:
            target = image["Id"]
            if not args["force"] and lifecycle.removal_needs_force_for_tags(image):
                raise TaskFailed(
                    "name: %s is the ID of an image with several references (%s); removing it by ID removes them "
                    "all: set force: true, or remove each tag by name"
                    % (spec.text, ", ".join(lifecycle.image_references(image))),
                    image=image,
                )
        tags_after, digests_after, removed = lifecycle.references_after_removal(image, spec.reference if by_reference else None)
        if removed and containers:
            if not args["force"]:
                named = target if by_reference else spec.text
                raise TaskFailed(
                    "name: %s (image %s) is used by %d container(s), running or stopped: %s. Remove those containers "
                    "first, or set force: true (the engine then removes the image, or only the name while a "
                    "running container uses it)"
                    % (named, image["Id"][7:19], len(containers), lifecycle.describe_containers(containers)),
                    image=image,
                    containers=containers,
                )
            running = [container for container in containers if lifecycle.is_running(container)]
            if running and not by_reference:
                raise TaskFailed(
                    "name: image %s is used by %d running container(s): %s. The engine refuses to remove it by ID even "
                    "with force; stop and remove those containers first"
                    % (image["Id"][7:19], len(running), lifecycle.describe_containers(running)),
                    image=image,
                    containers=containers,
                )
            # Forced: the engine removes the name, and the image too unless a running container uses it.
            removed = not running

        after_id: str | None = None if removed else image["Id"]
        if not self.check_mode:
            arguments = ["image", "rm"]
            if args["force"]:
                arguments.append("--force")
            if not args["prune"]:
                arguments.append("--no-prune")
            arguments += [docker_cli.END_OF_FLAGS, target]
            results = host.run([Call(tuple(arguments))] + docker_cli.inspect_calls([image["Id"]]))
            docker_cli.raise_for_failures(host, results[:1], "removing the image")
            remaining = docker_cli.read_inspect(host, results[1:])
            after_id = remaining[0]["Id"] if remaining else None
            tags_after = list(remaining[0].get("RepoTags") or []) if remaining else []
            digests_after = list(remaining[0].get("RepoDigests") or []) if remaining else []
        if after_id is None:
            tags_after, digests_after = [], []
        result = {
            "changed": True,
            "image": image,
            "untagged": [tag for tag in tags_before if tag not in tags_after],
            "deleted": [image["Id"]] if after_id is None else [],
            "actions": ["Removed image %s" % (spec.text if not by_reference else target)],
        }
        if self.diff_mode:
            result["diff"] = {
                "before": image_state(image),
                "after": image_state({"Id": after_id, "RepoTags": tags_after, "RepoDigests": digests_after} if after_id else None),
            }
        return result


def image_state(image: dict[str, Any] | None) -> dict[str, Any]:
    """The image in the diff, in community.docker's shape: exists, and its ID, tags and digests (sorted)."""
    if not image:
        return {"exists": False}
    return {"exists": True, "id": image["Id"], "tags": sorted(image.get("RepoTags") or []),
            "digests": sorted(image.get("RepoDigests") or [])}
