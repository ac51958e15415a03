# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.docker_search (documentation in plugins/modules).

One exec: ``docker search --format '{{json .}}'``, which the Docker daemon answers from Docker
Hub's search API. Never changes anything.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli, registry
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Host


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "term": {"type": "str", "required": True},
        "limit": {"type": "int", "default": 25},
        "filters": {
            "type": "dict",
            "options": {
                "is_official": {"type": "bool", "aliases": ["is-official"]},
                "stars": {"type": "int"},
            },
        },
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        term = args["term"]
        if not term or not term.strip() or any(not char.isprintable() for char in term):
            raise TaskFailed("term: %r is not a search term (non-empty, without control characters)" % term)
        if not 1 <= args["limit"] <= registry.SEARCH_LIMIT_MAX:
            raise TaskFailed("limit: %r must be between 1 and %d (Docker Hub's maximum)"
                             % (args["limit"], registry.SEARCH_LIMIT_MAX))
        filters = args["filters"] or {}
        stars = filters.get("stars")
        if stars is not None and stars < 0:
            raise TaskFailed("filters.stars: %r must be 0 or more" % stars)

        [result] = host.run([registry.search_call(term, args["limit"], filters.get("is_official"), stars)])
        docker_cli.raise_for_engine(host, [result])
        if not result.ok:
            detail = result.stderr.strip() or result.stdout.strip() or "exit code %d" % result.rc
            raise TaskFailed("%s: docker search for %r failed (it asks Docker Hub through the Docker engine, "
                             "which needs to reach index.docker.io): %s" % (host.name, term, detail))
        try:
            results = registry.parse_search_output(result.stdout)
        except ValueError as exc:
            raise TaskFailed("%s: could not read the output of docker search: %s" % (host.name, exc)) from None
        return {"changed": False, "results": results}
