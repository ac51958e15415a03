# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.docker_image_tag (documentation in plugins/modules).

Idempotent by image ID: one exec reads the source and every target; a second exec tags only
the targets that do not already point at the source image.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli, tagging
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Host
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import (
    parse_image,
    parse_reference,
    parse_tag,
)


class ActionModule(DockerActionBase):
    CHUNKED_OPTIONS = ("repository",)  # one tag call per target; inspected in chunks
    ARGUMENT_SPEC = {
        "name": {"type": "str", "required": True},
        "tag": {"type": "str", "default": "latest"},
        "repository": {"type": "list", "elements": "str", "required": True},
        "existing_images": {"type": "str", "default": "overwrite", "choices": ["keep", "overwrite"]},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        tag = parse_tag(args["tag"], "tag")
        source = parse_image(args["name"], "name")
        if source.reference is not None and not source.may_be_id and source.reference.tag is None and source.reference.digest is None:
            source = parse_image(str(source.reference.with_tag(tag)), "name")
        targets = [parse_reference(target, "repository", default_tag=tag) for target in args["repository"]]
        if not targets:
            raise TaskFailed("repository: at least one target reference is required")
        for target in targets:
            if target.digest is not None:
                raise TaskFailed("repository: %r has a digest; a tag target cannot" % str(target))

        images = docker_cli.read_inspect(
            host, host.run(docker_cli.inspect_calls([source.text] + [str(t) for t in targets]))
        )
        image = docker_cli.find_image(images, source)
        if image is None:
            raise TaskFailed("name: the source image %r was not found on %s" % (source.text, host.name))

        plan = tagging.plan_tags(images, image["Id"], [str(t) for t in targets], args["existing_images"])
        to_tag, kept = plan.to_tag, plan.kept
        if to_tag and not self.check_mode:
            docker_cli.raise_for_failures(host, host.run(docker_cli.tag_calls(image["Id"], to_tag)), "tagging")

        actions = []
        images_before, images_after = [], []
        for target in targets:
            name = str(target)
            old, new = plan.before[name], plan.after[name]
            if name in to_tag:
                actions.append("Tagged image %s as %s%s" % (image["Id"], name, " (it was image %s)" % old if old else ""))
            elif name in kept:
                actions.append("Not tagged image %s as %s: it names image %s, kept (existing_images=keep)" % (image["Id"], name, old))
            else:
                actions.append("Not tagged image %s as %s: it already names that image" % (image["Id"], name))
            images_before.append(tag_state(target.repository, target.tag, old))
            images_after.append(tag_state(target.repository, target.tag, new))
        return {
            "changed": bool(to_tag),
            "image": image,
            "tagged_images": to_tag,
            "kept_images": kept,
            "actions": actions,
            # Returned always, in community.docker's shape: one entry per target, in order.
            "diff": {"before": {"images": images_before}, "after": {"images": images_after}},
        }


def tag_state(repository: str, tag: str | None, image_id: str | None) -> dict[str, Any]:
    """A target in the diff: its repository and tag, whether it exists, the image ID it names."""
    state: dict[str, Any] = {"name": repository, "tag": tag, "exists": image_id is not None}
    if image_id is not None:
        state["id"] = image_id
    return state
