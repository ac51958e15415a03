# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""win_container_base_image_info against the local registry, asked from the (Linux) host: the tag
list API over HTTP with the loopback fallback, errors of the registry. Build classification and
compatibility with a Windows host are covered by the unit and contract tests."""

from __future__ import annotations

import uuid

import pytest

import base_images_support as support

MODULE = "wincontainers.images.win_container_base_image_info"


@pytest.fixture
def repository(engine, docker_client):
    name = "%s/%s/info-%s" % (engine.registry_anon, support.PREFIX, uuid.uuid4().hex[:10])
    for tag in ("10.0.20348.2849", "ltsc2022", "1.0"):
        support.publish(docker_client, name, tag)
    return name


def test_lists_the_tags_of_a_registry(run_playbook, engine, repository):
    run = run_playbook([
        {"name": "tags", MODULE: {"name": repository}},
        {"name": "tags in check mode", MODULE: {"name": repository}, "check_mode": True},
        {"name": "compatible only", MODULE: {"name": repository, "compatible_only": True}},
        {"name": "unknown repository", MODULE: {"name": repository + "-none"}, "ignore_errors": True},
        {"name": "registry down", MODULE: {"name": "NanoServer", "registry": "127.0.0.1:1"}, "ignore_errors": True},
    ])
    run.assert_recap(changed=0)
    result = run.task("tags")["result"]
    assert result["repository"] == repository
    assert result["registry_url"] == "http://%s" % engine.registry_anon  # https refused, loopback falls back to http
    assert result["host_build"] is None and result["recommended"] is None
    assert [(t["tag"], t["build"], t["revision"], t["channel"]) for t in result["tags"]] == [
        ("10.0.20348.2849", 20348, 2849, None),
        ("ltsc2022", 20348, None, "ltsc2022"),
        ("1.0", None, None, None),
    ]
    assert all(t["process"] is None and t["hyperv"] is None and t["compatible"] is None for t in result["tags"])
    assert run.task("tags in check mode")["result"]["tags"] == result["tags"]
    assert run.task("compatible only")["result"]["tags"] == []  # nothing is known to run on a Linux host

    unknown = run.task("unknown repository")
    assert unknown["failed"] is True
    assert "listing the tags answered HTTP 404" in unknown["msg"] and "NAME_UNKNOWN" in unknown["msg"]
    down = run.task("registry down")
    assert down["failed"] is True
    assert "registry 127.0.0.1:1, repository windows/nanoserver: the registry did not answer" in down["msg"]


def test_bad_input(run_playbook):
    run = run_playbook([
        {"name": "no name", MODULE: {}, "ignore_errors": True},
        {"name": "bad name", MODULE: {"name": "Not A Repo"}, "ignore_errors": True},
        {"name": "provider on linux", MODULE: {"source": "provider"}, "ignore_errors": True},
    ], extra_args=["-vvv"])
    assert "name: required with source: registry" in run.task("no name")["msg"]
    assert "name: 'Not A Repo' is not a valid image reference" in run.task("bad name")["msg"]
    assert "source: provider needs a Windows host" in run.task("provider on linux")["msg"]
    assert "EXEC " not in run.stdout
