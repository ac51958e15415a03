# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.win_container_base_image_info (documentation in plugins/modules).

Lists installable base images (workflow S2) in one exec, asked from the host so that its proxy,
name resolution and registry mirror apply:

* ``source: registry``: the repository's tags from the registry API (``/v2/<repo>/tags/list``,
  anonymous), each with the Windows build it stands for and whether it runs on the host with
  process and with Hyper-V isolation;
* ``source: provider``: ``Find-ContainerImage`` of the legacy ContainerImage provider (Name,
  Version, Source, Summary).
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import base_images, windows_builds
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Host
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_builds import HYPERV, PROCESS


def compatibility(host_build: int | None, image_build: int | None, isolation: str) -> dict[str, Any]:
    if host_build is None or image_build is None:
        return {PROCESS: None, HYPERV: None, "compatible": None}
    process = windows_builds.process_compatible(host_build, image_build)
    hyperv = windows_builds.hyperv_compatible(host_build, image_build)
    return {PROCESS: process, HYPERV: hyperv, "compatible": process if isolation == PROCESS else hyperv}


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "name": {"type": "str"},
        "source": {"type": "str", "default": "registry", "choices": ["registry", "provider"]},
        "registry": {"type": "str", "default": windows_builds.MCR},
        "isolation": {"type": "str", "default": PROCESS, "choices": [PROCESS, HYPERV]},
        "compatible_only": {"type": "bool", "default": False},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        if args["source"] == "provider":
            return self.provider(host, args)
        return self.registry(host, args)

    def registry(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        if args["name"] is None:
            raise TaskFailed("name: required with source: registry (a base image name such as WindowsServerCore, or a "
                             "repository)")
        registry = base_images.check_registry(args["registry"])
        target = base_images.resolve_target(args["name"], registry)
        isolation = args["isolation"]
        state = base_images.read_host(host, registry=base_images.registry_request(target.repository, tags=True))
        problem = base_images.registry_problem(host, target.repository, state.registry)
        if problem:
            raise TaskFailed(problem)
        facts = state.facts
        infos = windows_builds.newest_first(windows_builds.classify_tag(tag) for tag in (state.registry or {}).get("tags") or [])
        tags = []
        for info in infos:
            entry: dict[str, Any] = {"tag": info.tag, "build": info.build, "revision": info.revision,
                                     "channel": info.channel}
            entry.update(compatibility(facts.build, info.build, isolation))
            if args["compatible_only"] and not entry["compatible"]:
                continue
            tags.append(entry)
        recommended = None
        if target.family is not None and facts.build is not None:
            choice = windows_builds.choose_tag(target.family, facts.build, isolation)
            if choice is not None and any(entry["tag"] == choice.tag for entry in tags):
                recommended = choice.tag
        return {
            "changed": False,
            "source": "registry",
            "repository": str(target.repository),
            "registry_url": (state.registry or {}).get("base"),
            "host_build": facts.build,
            "isolation": isolation,
            "recommended": recommended,
            "tags": tags,
        }

    def provider(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        if not host.is_windows:
            raise TaskFailed("source: provider needs a Windows host (the ContainerImage PackageManagement provider); "
                             "%s is reached through a POSIX shell" % host.name)
        find: dict[str, Any] = {"all_versions": True}
        if args["name"] is not None:
            family = windows_builds.family_by_name(args["name"])
            if family is not None and family.provider_name:
                find["name"] = family.provider_name
            else:
                find["name"] = base_images.check_provider_name(args["name"])
        isolation = args["isolation"]
        state = base_images.read_host(host, find=find)
        facts = state.facts
        answer = state.find or {}
        if answer.get("problem"):
            raise TaskFailed("%s: Find-ContainerImage failed: %s (the ContainerImage provider and its download service "
                             "are retired; use source: registry)" % (host.name, answer.get("message")))
        images = []
        for item in answer.get("images") or []:
            version = str(item.get("version") or "")
            build = base_images.version_build(version)
            entry: dict[str, Any] = {
                "name": item.get("name"),
                "version": version,
                "source": item.get("source"),
                "summary": item.get("summary"),
                "build": build,
            }
            entry.update(compatibility(facts.build, build, isolation))
            if args["compatible_only"] and not entry["compatible"]:
                continue
            images.append(entry)
        images.sort(key=lambda e: (str(e["name"]).lower(), [-part for part in base_images.version_key(e["version"])]))
        return {
            "changed": False,
            "source": "provider",
            "host_build": facts.build,
            "isolation": isolation,
            "images": images,
        }
