# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.win_container_host_info (documentation in plugins/modules).

One exec: the ``host_info`` script reads the Windows version from the registry and Hyper-V,
what preparing a container host needs (the Containers and Hyper-V features, a pending reboot, the
engine's version and directory, the docker service, daemon.json: ``container_engine``), and runs
``docker version`` and ``docker info`` (JSON). A host without docker, or with an engine that does
not answer, still gets its Windows facts; the docker facts are then null and ``docker_error`` says
why. On a Linux host the Windows facts are null.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import base_images, container_engine, windows_builds
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Host


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "registry": {"type": "str", "default": windows_builds.MCR},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        registry = base_images.check_registry(args["registry"])
        state = base_images.read_host(
            host, [base_images.version_call(), base_images.info_call()], require_docker=False,
            engine=container_engine.state_request() if host.is_windows else None,
        )
        facts = state.facts
        result: dict[str, Any] = {
            "changed": False,
            "is_windows": facts.is_windows,
            "os_build": facts.build,
            "ubr": facts.ubr,
            "os_version": facts.os_version,
            "display_version": facts.display_version,
            "product_name": facts.product_name,
            "os_name": facts.os_name if facts.is_windows else facts.product_name,
            "edition": facts.edition,
            "installation_type": facts.installation_type,
            "hyperv_available": facts.hyperv_available,
            "hyperv": dict(facts.hyperv) if facts.hyperv is not None else None,
            "docker_available": False,
            "docker_error": None,
            "client_version": None,
            "server_version": None,
            "api_version": None,
            "os_type": None,
            "isolation": None,
            "engine_os": None,
            "storage_driver": None,
            "docker_root_dir": None,
            "compatible_base_images": {},
            "engine": container_engine.EngineFacts.from_answer(state.engine).public() if state.engine else None,
        }
        if facts.is_windows and facts.build is not None:
            result["compatible_base_images"] = windows_builds.compatible_base_images(facts.build, registry)

        if not state.results:
            result["docker_error"] = "%s: the docker CLI was not found on the host" % host.name
            return result
        version_result, info_result = state.results
        version = base_images.read_json_result(version_result) or {}
        client = version.get("Client") or {}
        result["client_version"] = client.get("Version")
        problem = base_images.engine_problem(host, info_result)
        info = base_images.read_json_result(info_result) if problem is None else None
        if info is None:
            result["docker_error"] = problem or "%s: docker info printed no JSON" % host.name
            return result
        server = version.get("Server") or {}
        result.update(
            docker_available=True,
            server_version=info.get("ServerVersion") or server.get("Version"),
            api_version=server.get("ApiVersion"),
            os_type=info.get("OSType"),
            # Linux engines have no default isolation; Windows ones say process or hyperv.
            isolation=info.get("Isolation") or None,
            engine_os=info.get("OperatingSystem"),
            storage_driver=info.get("Driver"),
            docker_root_dir=info.get("DockerRootDir"),
        )
        if facts.is_windows and info.get("OSType") and info.get("OSType") != "windows":
            # Docker Desktop in Linux containers mode: no Windows image runs there.
            result["compatible_base_images"] = {}
        return result
