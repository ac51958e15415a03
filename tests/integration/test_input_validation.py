# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Nothing unchecked reaches docker: real ansible-playbook runs against the real engine, where
each bad value is refused on the controller before any exec, with a message naming the option.

Before these checks: ``container: --help`` reached ``docker container inspect`` as a flag (docker
printed its usage and the task died on a JSONDecodeError); a relative ``config_path`` made docker
login write ``config.json`` into the exec's working directory; a list given as ``message`` or
``password`` became its Python text (``"['a', 'b']"``); a 300 KB message failed on the host with
"Argument list too long"; a 100 KB path was blamed on ``names``; a 100 KB label got docker's "file
with no instructions".
"""

from __future__ import annotations

import pytest

from lifecycle_support import exec_count, image_or_none, run_container, unique

PREFIX = "wct3/validate-"
COMMIT = "wincontainers.images.docker_commit"
LOGIN = "wincontainers.images.docker_login"
PULL = "wincontainers.images.docker_image_pull"
PUSH = "wincontainers.images.docker_image_push"
TAG = "wincontainers.images.docker_image_tag"
EXPORT = "wincontainers.images.docker_image_export"
INFO = "wincontainers.images.docker_image_info"
SECOND_SECRET = "second-Secret-\u00e9"


@pytest.fixture
def container(docker_client, repo):
    name = unique("wct3-validate")
    run_container(docker_client, name, "exec sleep 600")
    yield name
    for found in docker_client.containers.list(all=True, filters={"name": name}):
        found.remove(force=True)


def refused(run, name, start):
    result = run.task(name)
    assert result["failed"] is True and result["changed"] is False, result
    assert result["msg"].startswith(start), result["msg"]
    assert exec_count(run, name) == 0, "%s: something ran on the host" % name
    assert len(result["msg"]) < 1000  # a long value is shown cut short
    return result["msg"]


def test_bad_values_are_refused_before_any_exec(run_playbook, engine, docker_client, repo, container, tmp_path):
    target = repo + ":bad"
    exports = tmp_path / "exports"
    exports.mkdir()
    big_label = "LABEL big=" + "x" * 100000
    tasks = [
        ("container --help", COMMIT, {"container": "--help", "repository": target}),
        ("container --format=json", COMMIT, {"container": "--format=json", "repository": target}),
        ("relative config_path", LOGIN, {"registry_url": engine.registry_auth, "username": engine.registry_user,
                                         "password": "{{ registry_password }}", "config_path": "docker-config"}),
        ("relative config_path pull", PULL, {"name": [engine.registry_anon + "/wctest/busybox:1.0"],
                                             "config_path": "docker-config"}),
        ("relative config_path push", PUSH, {"name": engine.registry_anon + "/wctest/busybox:1.0",
                                             "config_path": "./docker-config/config.json"}),
        ("message list", COMMIT, {"container": container, "repository": target, "message": "{{ message_list }}"}),
        ("password list", LOGIN, {"registry_url": engine.registry_auth, "username": engine.registry_user,
                                  "password": "{{ password_list }}"}),
        ("tag float", TAG, {"name": "wctest/busybox:1.0", "repository": [repo], "tag": 1.10}),
        ("300 KB message", COMMIT, {"container": container, "repository": target, "message": "{{ big_message }}"}),
        ("100 KB path", EXPORT, {"names": ["wctest/busybox:1.0"], "path": str(exports) + "/" + "p" * 102400}),
        ("100 KB label", COMMIT, {"container": container, "repository": target, "changes": ["{{ big_label }}"]}),
    ]
    secrets = {"registry_password": engine.registry_password,
               "password_list": [engine.registry_password, SECOND_SECRET],
               "message_list": ["a", "b"], "big_message": "m" * 307200, "big_label": big_label}
    run = run_playbook([{"name": name, module: args, "ignore_errors": True} for name, module, args in tasks],
                       extra_vars=secrets, verbosity=3)

    refused(run, "container --help", "container: '--help' is not a container name or ID")
    refused(run, "container --format=json", "container: '--format=json' is not a container name or ID")
    refused(run, "relative config_path", "config_path: 'docker-config' is not an absolute path: give one that starts "
                                         "with '/'")
    refused(run, "relative config_path pull", "config_path: 'docker-config' is not an absolute path")
    refused(run, "relative config_path push", "config_path: './docker-config' is not an absolute path")
    assert not (run.workdir / "docker-config").exists(), "credentials went to the exec's working directory"
    refused(run, "message list", "message: expected a string, got a list: ['a', 'b']")
    refused(run, "password list", "password: expected a string, got a list (the value is not shown: the option is "
                                  "no_log)")
    refused(run, "tag float", "tag: expected a string, got the number 1.1 ")
    refused(run, "300 KB message", "message: the value '%s...' is 307,200 bytes long; Linux passes at most 131,071 "
                                   "bytes in one program argument (MAX_ARG_STRLEN)" % ("m" * 40))
    refused(run, "100 KB path", "path: the path '/")
    assert "is %s bytes long; a Linux path holds at most 4,095 bytes (PATH_MAX)" % format(
        len(str(exports)) + 1 + 102400, ",") in run.task("100 KB path")["msg"]
    refused(run, "100 KB label", "changes: the instruction 'LABEL big=xxx")
    assert "is 100,010 bytes long; docker reads each instruction as one line of at most 65,535 bytes" in (
        run.task("100 KB label")["msg"])

    assert "EXEC " not in run.stdout, "something ran on the host"
    for secret in (engine.registry_password, SECOND_SECRET):
        assert secret not in run.stdout and secret not in run.stderr
    assert image_or_none(docker_client, target) is None
    assert list(exports.iterdir()) == []


def test_a_stopped_engine_is_named_with_what_to_do(run_playbook, tmp_path):
    """No engine listens on the socket DOCKER_HOST names: the message names it once, says it came
    from DOCKER_HOST, and what to do (docker's own question is not repeated)."""
    socket_path = "unix://%s" % (tmp_path / "stopped.sock")
    run = run_playbook([{"name": "info", INFO: {"name": ["wctest/busybox:1.0"]}, "ignore_errors": True}],
                       env={"DOCKER_HOST": socket_path}, verbosity=3)
    result = run.task("info")
    assert result["failed"] is True and exec_count(run, "info") == 1
    message = result["msg"]
    assert message.startswith("localhost: the Docker engine is not reachable at %s (set by DOCKER_HOST or the current "
                              "docker context)" % socket_path), message
    assert message.endswith(". Start the engine (systemctl start docker) or, if it listens elsewhere, give its address "
                            "in docker_host (or DOCKER_HOST in the task's environment)"), message
    assert message.count(socket_path) == 1 and "running?" not in message and "is dockerd" not in message
