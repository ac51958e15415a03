# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.win_container_image_provider (documentation in plugins/modules).

Workflow S1 (``Install-PackageProvider ContainerImage -Force``), idempotent: one exec lists the
providers (``Get-PackageProvider -ListAvailable``); a second one installs (and imports) or
removes the provider, and answers the list as it is afterwards.
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import base_images
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Host, HostError

OPERATION = "package_provider"
RETIRED = {
    "containerimage": "The ContainerImage provider is archived and its image download service is gone: it can no longer "
    "find or install images. Pull base images from mcr.microsoft.com with wincontainers.images.win_container_base_image "
    "(source: registry) instead.",
}
# Providers that ship with Windows PowerShell: never removed.
BUILT_IN = frozenset(("msi", "msu", "programs", "powershellget", "psmodule"))
_VERSION = re.compile(r"^\d+(?:\.\d+){1,3}$")


def matching(providers: list[dict[str, Any]], name: str, version: str | None) -> list[dict[str, Any]]:
    return [p for p in providers if str(p.get("name") or "").lower() == name.lower() and (
        version is None or str(p.get("version")) == version)]


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "name": {"type": "str", "default": "ContainerImage"},
        "version": {"type": "str"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        name = base_images.check_provider_name(args["name"])
        version = args["version"]
        if version is not None and not _VERSION.match(version.strip()):
            raise TaskFailed("version: %r is not a provider version such as 0.6.4.0" % version)
        version = version.strip() if version else None
        state = args["state"]
        if state == "absent" and name.lower() in BUILT_IN:
            raise TaskFailed("name: %s is a provider that ships with Windows PowerShell; it is not removed" % name)
        if not host.is_windows:
            raise TaskFailed("%s: PackageManagement providers exist on Windows hosts only, and this host is reached "
                             "through a POSIX shell" % host.name)

        warnings = []
        if state == "present" and name.lower() in RETIRED:
            warnings.append(RETIRED[name.lower()])
        listed = host.execute(OPERATION, {"action": "list", "name": name})
        before = list(listed.get("providers") or [])
        present = matching(before, name, version)
        wanted = (state == "present") != bool(present)
        after = before
        removed: list[str] = []
        if wanted and not self.check_mode:
            action = "install" if state == "present" else "remove"
            payload: dict[str, Any] = {"action": action, "name": name}
            if version:
                payload["version"] = version
            try:
                answer = host.execute(OPERATION, payload)
            except HostError as exc:
                hint = " (%s)" % RETIRED[name.lower()] if action == "install" and name.lower() in RETIRED else ""
                cause = base_images.legacy_provider_failure(str(exc)) if action == "install" else None
                if cause:
                    hint += ": %s" % cause
                raise TaskFailed("%s%s" % (exc, hint), warnings=warnings) from None
            after = list(answer.get("providers") or [])
            removed = list(answer.get("removed") or [])
            if state == "present" and not matching(after, name, version):
                raise TaskFailed("%s: Install-PackageProvider %s finished, but Get-PackageProvider -ListAvailable does not "
                                 "list it" % (host.name, name), warnings=warnings)
        result: dict[str, Any] = {
            "changed": wanted,
            "name": name,
            "state": state,
            "providers": after,
            "provider": (matching(after, name, version) or [None])[0] if state == "present" and not (self.check_mode and wanted)
            else None,
            "removed_paths": removed,
        }
        if warnings:
            result["warnings"] = warnings
        if self.diff_mode:
            result["diff"] = {
                "before": {"versions": sorted(str(p.get("version")) for p in matching(before, name, None))},
                "after": {"versions": sorted(str(p.get("version")) for p in matching(after, name, None))}
                if not (self.check_mode and wanted) else {"versions": [version or "(newest)"] if state == "present" else []},
            }
        return result
