# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docker_search on the real engine. ``docker search`` asks Docker Hub's search API only, and the
test machines have no internet, so what is tested here is the clear failure (no Docker Hub, and
a private registry that has no search API) and the validation of options; the parsing of real
results is tested from recorded output (tests/unit/test_registry.py, tests/contract)."""

from __future__ import annotations

SEARCH = "wincontainers.images.docker_search"


def test_search_failures_are_clear_and_change_nothing(run_playbook, engine):
    run = run_playbook([
        dict({"name": "docker hub", SEARCH: {"term": "busybox", "limit": 5, "filters": {"is-official": True}}},
             ignore_errors=True),
        dict({"name": "private registry", SEARCH: {"term": "%s/wct4" % engine.registry_anon}}, ignore_errors=True),
        dict({"name": "bad limit", SEARCH: {"term": "busybox", "limit": 500}}, ignore_errors=True),
    ], check=True)
    hub = run.task("docker hub")
    assert hub["failed"] and hub["changed"] is False
    assert "docker search for 'busybox' failed" in hub["msg"] and "index.docker.io" in hub["msg"]
    private = run.task("private registry")
    assert private["failed"] and private["changed"] is False and "404" in private["msg"]
    assert run.task("bad limit")["msg"] == "limit: 500 must be between 1 and 100 (Docker Hub's maximum)"
