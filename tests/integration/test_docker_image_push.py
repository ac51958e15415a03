# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docker_image_push against the real engine and both registries: check mode, first push,
no re-upload, a moved tag, a manifest list holding the image, the authenticated registry, and
the clear failures (registry down, no credentials, no local image)."""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import subprocess
import urllib.request
import uuid

import pytest

import registry_support as rs

PUSH = "wincontainers.images.docker_image_push"
LOGIN = "wincontainers.images.docker_login"
SMALL = 128 * 1024


@pytest.fixture(scope="module")
def images(engine):
    """Two local images of this file's own: (first ID, second ID); removed at the end."""
    base = "wct4/push-source-%s" % uuid.uuid4().hex[:8]
    first = rs.build_image(engine, base + ":1", SMALL, base + " one")
    second = rs.build_image(engine, base + ":2", SMALL, base + " two")
    yield first, second
    rs.remove_image(engine, first)
    rs.remove_image(engine, second)


def push_task(name, task="push", **options):
    return {"name": task, PUSH: dict({"name": name}, **options)}


def anonymous_digest(engine, repository, tag):
    manifest = rs.registry_manifest(engine.registry_anon, repository, tag)
    return manifest["_digest"] if manifest else None


def test_check_first_second_and_a_moved_tag(run_playbook, engine, images):
    first, second = images
    repository = "wct4/push-%s" % uuid.uuid4().hex[:8]
    name = "%s/%s:1" % (engine.registry_anon, repository)
    rs.docker(engine, "tag", first, name)

    check = run_playbook([push_task(name)], check=True, diff=True).assert_ok()
    assert check.task("push")["changed"] is True and check.task("push")["result"]["digest"] is None
    assert check.task("push")["result"]["diff"]["before"] == {"digest": None, "present": False}
    assert anonymous_digest(engine, repository, "1") is None, "check mode pushed"

    run = run_playbook([push_task(name, "first"), push_task(name, "second"),
                        dict(push_task(name, "second, check mode"), check_mode=True)]).assert_ok()
    pushed = run.task("first")["result"]
    assert pushed["changed"] is True and pushed["image_id"] == first and pushed["foreign_layers"] == 0
    assert pushed["digest"] == anonymous_digest(engine, repository, "1")
    assert rs.registry_manifest(engine.registry_anon, repository, "1")["config"]["digest"] == first
    assert "docker_image_push on localhost:" in run.stdout
    assert run.task("second")["changed"] is False and run.task("second")["result"]["digest"] == pushed["digest"]
    assert run.task("second, check mode")["changed"] is False

    rs.docker(engine, "tag", second, name)
    moved = run_playbook([push_task(name, "moved"), push_task(name, "again")]).assert_ok()
    assert moved.task("moved")["changed"] is True and moved.task("again")["changed"] is False
    assert rs.registry_manifest(engine.registry_anon, repository, "1")["config"]["digest"] == second
    assert moved.task("moved")["result"]["digest"] == anonymous_digest(engine, repository, "1") != pushed["digest"]
    rs.docker(engine, "image", "rm", name)


def test_a_manifest_list_holding_the_image_is_left_in_place(run_playbook, engine, images, tmp_path):
    first = images[0]
    repository = "wct4/push-list-%s" % uuid.uuid4().hex[:8]
    single = "%s/%s:single" % (engine.registry_anon, repository)
    listed = "%s/%s:listed" % (engine.registry_anon, repository)
    rs.docker(engine, "tag", first, single)
    rs.docker(engine, "push", single)
    env = dict(os.environ)
    env.update(engine.env)
    env["DOCKER_CONFIG"] = str(tmp_path / "manifests")
    for command in (["manifest", "create", "--insecure", listed, single], ["manifest", "push", "--insecure", listed]):
        subprocess.run(["docker", *command], env=env, check=True, capture_output=True, timeout=120)
    before = rs.registry_manifest(engine.registry_anon, repository, "listed", accept=rs.LIST)
    assert before["mediaType"] == rs.LIST
    rs.docker(engine, "tag", first, listed)
    run = run_playbook([push_task(listed)]).assert_ok().assert_recap(changed=0)
    assert run.task("push")["result"]["digest"] == anonymous_digest(engine, repository, "single")
    after = rs.registry_manifest(engine.registry_anon, repository, "listed", accept=rs.LIST)
    assert after["_digest"] == before["_digest"] and after["mediaType"] == rs.LIST
    rs.docker(engine, "image", "rm", single, listed)


def authenticated_manifest(engine, registry, repository, tag):
    """The manifest's config digest in the authenticated registry, asked over verified TLS."""
    token = base64.b64encode(("%s:%s" % (engine.registry_user, engine.registry_password)).encode()).decode()
    context = ssl.create_default_context(cafile=str(engine.registry_ca))
    url = "https://%s/v2/%s/manifests/%s" % (registry, repository, tag)
    request = urllib.request.Request(url, headers={
        "Authorization": "Basic " + token, "Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    try:
        with urllib.request.urlopen(request, timeout=20, context=context) as response:
            return json.loads(response.read())["config"]["digest"]
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def test_the_authenticated_registry(run_playbook, engine, images, tmp_path):
    first = images[0]
    registry = engine.registry_tls or engine.registry_auth
    repository = "wct4/push-auth-%s" % uuid.uuid4().hex[:8]
    name = "%s/%s:1" % (registry, repository)
    rs.docker(engine, "tag", first, name)
    config = str(tmp_path / "config")
    login = {"name": "login", LOGIN: {"registry_url": registry, "username": engine.registry_user,
                                      "password": "{{ registry_password }}", "config_path": config}}
    run = run_playbook([
        dict(push_task(name, "no credentials", config_path=config), ignore_errors=True),
        login,
        dict(push_task(name, "predict", config_path=config), check_mode=True),
        push_task(name, "first", config_path=config),
        push_task(name, "second", config_path=config),
    ], extra_vars={"registry_password": engine.registry_password})
    denied = run.task("no credentials")
    assert denied["failed"] and denied["changed"] is False
    assert "refused to show" in denied["msg"] and "docker_login" in denied["msg"]
    assert run.task("predict")["changed"] is True
    assert run.task("first")["changed"] is True and run.task("second")["changed"] is False
    assert authenticated_manifest(engine, engine.registry_tls or engine.registry_auth, repository, "1") == first
    rs.docker(engine, "image", "rm", name)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_clear_failures(run_playbook, engine, images):
    first = images[0]
    down = "127.0.0.1:%d/wct4/push-down:1" % closed_port()
    rs.docker(engine, "tag", first, down)
    run = run_playbook([
        dict(push_task(down, "registry down"), ignore_errors=True),
        dict(push_task("%s/wct4/push-nothing-%s:1" % (engine.registry_anon, uuid.uuid4().hex[:8]), "no image"),
             ignore_errors=True),
        dict(push_task("busybox", "no namespace"), ignore_errors=True),
        dict(push_task("%s/wct4/x" % engine.registry_anon, "bad tag", tag="-x"), ignore_errors=True),
    ])
    for task in ("registry down", "no image", "no namespace", "bad tag"):
        assert run.task(task)["failed"] and run.task(task)["changed"] is False, task
    assert "is not reachable" in run.task("registry down")["msg"] and "connection refused" in run.task("registry down")["msg"]
    assert "there is no local image" in run.task("no image")["msg"]
    assert "no namespace" in run.task("no namespace")["msg"]
    assert run.task("bad tag")["msg"].startswith("tag: '-x' is not a valid tag")
    rs.docker(engine, "image", "rm", down)
    assert rs.job_directories(down) == []
