# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decision behind an idempotent ``docker tag``: which target names to point at an image.

Shared by docker_image_tag and win_container_base_image (its ``tag_latest``, workflow S6): a
target that already names the image is left alone; one that names another image is moved
(``overwrite``) or kept and reported (``keep``); a missing one is created.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import parse_image

OVERWRITE = "overwrite"
KEEP = "keep"


@dataclass
class TagPlan:
    image_id: str
    before: dict[str, str | None] = field(default_factory=dict)  # target -> the image ID it names now
    to_tag: list[str] = field(default_factory=list)  # targets to point at the image
    kept: list[str] = field(default_factory=list)  # targets left on another image (KEEP)

    @property
    def after(self) -> dict[str, str | None]:
        after = dict(self.before)
        after.update({name: self.image_id for name in self.to_tag})
        return after

    @property
    def changed(self) -> bool:
        return bool(self.to_tag)


def plan_tags(
    images: Iterable[Mapping[str, Any]],
    image_id: str,
    targets: Sequence[str],
    existing_images: str = OVERWRITE,
    option: str = "repository",
) -> TagPlan:
    """What tagging ``image_id`` as each target needs, given the inspect objects the engine holds.

    ``images`` must contain the inspect objects of the targets that exist (missing ones are
    simply absent); ``targets`` are reference texts with a tag.
    """
    images = list(images)
    plan = TagPlan(image_id=image_id)
    for name in targets:
        current = docker_cli.find_image(images, parse_image(name, option))
        plan.before[name] = current["Id"] if current else None
        if current is not None and current["Id"] == image_id:
            continue
        if current is not None and existing_images == KEEP:
            plan.kept.append(name)
            continue
        plan.to_tag.append(name)
    return plan
