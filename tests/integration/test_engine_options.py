# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection options, the task's ``environment:`` and ``become`` against the real engine, over
the local connection and a real ssh login: the docker CLI on the host gets the options as its
global flags and the environment in its process, in reads and in detached jobs."""

from __future__ import annotations

import json

import pytest

from lifecycle_support import BASE_IMAGE, ensure_base_image, exec_count

INFO = "wincontainers.images.docker_image_info"
PULL = "wincontainers.images.docker_image_pull"
LOGIN = "wincontainers.images.docker_login"
NOWHERE = "unix:///tmp/wincontainers-engine/no-engine-here.sock"


@pytest.fixture(autouse=True)
def base_image(docker_client, engine):
    ensure_base_image(docker_client, engine)


def info(name, **options):
    return {"name": name, INFO: dict({"name": [BASE_IMAGE]}, **options), "ignore_errors": True}


def test_docker_host_and_the_tasks_environment(run_playbook, engine, docker_client, target):
    own = engine.docker_host
    image_id = docker_client.images.get(BASE_IMAGE).id
    run = run_playbook([
        dict(info("option", docker_host=own), environment={"DOCKER_HOST": NOWHERE}),
        dict(info("environment"), environment={"DOCKER_HOST": NOWHERE}),
        info("wrong option", docker_host=NOWHERE),
        dict(info("api_version wins", api_version="1.41"), environment={"DOCKER_API_VERSION": "1.99"}),
        dict(info("environment reaches docker"), environment={"DOCKER_API_VERSION": "1.99"}),
    ], target=target)
    option = run.task("option")
    assert not option.get("failed") and [image["Id"] for image in option["result"].get("images", [])] == [image_id], option

    for name, chosen_by in (("environment", "DOCKER_HOST of the task's environment"), ("wrong option", "docker_host")):
        result = run.task(name)
        assert result["failed"] is True, result
        assert result["msg"].startswith("%s: the Docker engine is not reachable at %s (%s)" % (target.host, NOWHERE, chosen_by)), \
            result["msg"]
    assert not run.task("api_version wins").get("failed"), run.task("api_version wins")
    too_new = run.task("environment reaches docker")
    assert too_new["failed"] is True and "client version 1.99 is too new" in too_new["msg"], too_new["msg"]


def test_docker_host_option_without_docker_host_anywhere(run_playbook, engine, docker_client):
    # ansible-playbook, and so the local connection's docker CLI, without DOCKER_HOST: only the option names the engine
    run = run_playbook([info("option", docker_host=engine.docker_host), info("nothing")], env={"DOCKER_HOST": ""})
    option = run.task("option")
    assert [image["Id"] for image in option["result"].get("images", [])] == [docker_client.images.get(BASE_IMAGE).id], option
    nothing = run.task("nothing")
    assert nothing["failed"] is True
    assert nothing["msg"].startswith("localhost: the Docker engine is not reachable at unix:///var/run/docker.sock "
                                     "(docker's default endpoint)"), nothing["msg"]


def test_tls_options_reach_the_docker_cli(run_playbook, engine):
    # The TLS registry's port speaks TLS with a certificate of the test CA: TLS verification with that
    # CA succeeds (and the registry then answers 404 to the engine API), with another CA it fails.
    if not engine.registry_tls:
        pytest.skip("the strict TLS registry is disabled (scripts/engine.sh: WC_REGISTRY_TLS_DISABLE or no ::1)")
    address = "tcp://%s" % engine.registry_tls
    run = run_playbook([
        info("test CA", docker_host=address, validate_certs=True, ca_path=str(engine.registry_ca),
             tls_hostname=engine.registry_tls.rsplit(":", 1)[0]),
        info("system CAs", docker_host=address, validate_certs=True, ca_path="/etc/ssl/certs/ca-certificates.crt"),
        info("no TLS", docker_host=address, tls=False, validate_certs=False),
        info("relative CA", docker_host=address, validate_certs=True, ca_path="ca.pem"),
    ])
    assert "404 page not found" in run.task("test CA")["msg"], run.task("test CA")
    assert "x509: certificate signed by unknown authority" in run.task("system CAs")["msg"], run.task("system CAs")
    assert "x509" not in run.task("no TLS")["msg"] and run.task("no TLS")["failed"] is True
    relative = run.task("relative CA")
    assert relative["msg"].startswith("ca_path: 'ca.pem' is not an absolute path"), relative
    assert exec_count(run, "relative CA") == 0


def test_a_pull_job_gets_the_options_and_the_environment(run_playbook, engine, docker_client, unique_repo, target):
    # The job runs docker with --host and the task's environment: DOCKER_HOST of the environment
    # names no engine, so the pull works only if the option reaches the job's docker too.
    source = "%s/%s:env" % (engine.registry_anon, unique_repo.split("/", 1)[1])
    docker_client.images.get(BASE_IMAGE).tag(source)
    docker_client.images.push(source)
    docker_client.images.remove(source)
    try:
        run = run_playbook([
            {"name": "pull", PULL: {"name": [source], "docker_host": engine.docker_host},
             "environment": {"DOCKER_HOST": NOWHERE}},
        ], target=target)
        pulled = run.task("pull")
        assert pulled.get("changed") is True and not pulled.get("failed"), pulled
        assert docker_client.images.get(source).id == docker_client.images.get(BASE_IMAGE).id
    finally:
        try:
            docker_client.images.remove(source)
        except Exception:  # noqa: BLE001 - already gone
            pass


def test_docker_config_of_the_tasks_environment_is_the_one_docker_login_uses(run_playbook, engine, tmp_path, target):
    config = tmp_path / "env-config"
    config.mkdir(mode=0o700)
    (config / "config.json").write_text("{}", encoding="utf-8")
    own = tmp_path / "own-config"
    own.mkdir(mode=0o700)
    (own / "config.json").write_text("{}", encoding="utf-8")
    login = {"registry_url": engine.registry_auth, "username": engine.registry_user, "password": engine.registry_password}
    run = run_playbook([
        {"name": "environment", LOGIN: login, "environment": {"DOCKER_CONFIG": str(config)}},
        {"name": "again", LOGIN: login, "environment": {"DOCKER_CONFIG": str(config)}},
        {"name": "config_path wins", LOGIN: dict(login, config_path=str(own)), "environment": {"DOCKER_CONFIG": str(config)}},
    ], target=target)
    assert run.task("environment")["changed"] is True, run.task("environment")
    assert engine.registry_auth in json.loads((config / "config.json").read_text())["auths"]
    # the state read looks in the same configuration: logged in, nothing to do
    assert run.task("again")["changed"] is False, run.task("again")
    assert run.task("config_path wins")["changed"] is True
    assert engine.registry_auth in json.loads((own / "config.json").read_text())["auths"]
    assert engine.registry_password not in run.stdout + run.stderr


def test_become_wraps_every_exec(run_playbook, engine, docker_client):
    # su as root needs no password. As nobody (whose login shell is nologin, hence -s) the engine's
    # socket refuses the connection: become applied to the collection's execs.
    become = {"become": True, "become_method": "su", "become_flags": "-s /bin/sh"}
    run = run_playbook([
        dict(info("root"), become_user="root", **become),
        dict(info("root, environment"), become_user="root", environment={"DOCKER_API_VERSION": "1.99"}, **become),
        dict(info("nobody"), become_user="nobody", **become),
        # with an environment the request needs Python (the venv's is not nobody's to run)
        dict(info("nobody, environment"), become_user="nobody", environment={"DOCKER_API_VERSION": "1.41"},
             vars={"ansible_python_interpreter": "/usr/bin/python3"}, **become),
    ])
    root = run.task("root")
    assert [image["Id"] for image in root["result"].get("images", [])] == [docker_client.images.get(BASE_IMAGE).id], root
    too_new = run.task("root, environment")
    assert too_new["failed"] is True and "client version 1.99 is too new" in too_new["msg"], too_new
    for name in ("nobody", "nobody, environment"):
        result = run.task(name)
        assert result["failed"] is True, result
        assert result["msg"].startswith("localhost: the user the task runs as may not use the Docker engine's socket "), result
