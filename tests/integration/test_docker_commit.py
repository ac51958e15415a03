# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""wincontainers.images.docker_commit against the real engine, checked with the Docker SDK."""

from __future__ import annotations

import pytest

from lifecycle_support import ensure_base_image, exec_count, image_or_none, remove_images, run_container, unique

CMD = ["app.exe", "--name=it's"]
NOTE = "naïve \u2018quoted\u2019"
CHANGES = ['CMD ["app.exe", "--name=it\'s"]', 'LABEL note="naïve \u2018quoted\u2019"', 'ENV GREETING="héllo wörld"']
PREFIX = "wct3/commit-"
AUTHOR = "Jane <j@example.com>"


@pytest.fixture
def names(docker_client, engine):
    ensure_base_image(docker_client, engine)
    suffix = unique("x")[2:]
    container_name = "wct3-commit-" + suffix
    yield container_name, PREFIX + suffix
    remove_images(docker_client, PREFIX + suffix)
    for container in docker_client.containers.list(all=True, filters={"name": container_name}):
        container.remove(force=True)


def commit_task(name, container, repository, **extra):
    args = {"container": container, "repository": repository}
    args.update(extra)
    return {"name": name, "wincontainers.images.docker_commit": args}


def test_commit_check_first_second_and_changed_state(run_playbook, docker_client, names):
    container_name, repository = names
    container = run_container(docker_client, container_name, "echo hi > /data.txt; exec sleep 600", wait_for="/data.txt")
    target = repository + ":1.0"
    args = {"changes": CHANGES, "message": "first commit", "author": AUTHOR}

    checked = run_playbook([commit_task("check", container_name, target, **args)], check=True, diff=True)
    checked = checked.assert_ok().task("check")
    assert checked["changed"] is True
    assert checked["result"]["diff"]["before"] == {"image_id": None}
    assert image_or_none(docker_client, target) is None

    run = run_playbook([commit_task("first", container_name, target, **args),
                        commit_task("second", container_name, target, **args)], verbosity=3).assert_ok()
    first, second = run.task("first")["result"], run.task("second")["result"]
    assert first["changed"] is True and exec_count(run, "first") == 2
    assert second["changed"] is False and exec_count(run, "second") == 1
    image = docker_client.images.get(target)
    assert first["image_id"] == second["image_id"] == image.id
    config = image.attrs["Config"]
    # quotes, brackets and non-ASCII reached Docker unchanged
    assert config["Cmd"] == CMD
    assert config["Labels"]["note"] == NOTE
    assert "GREETING=héllo wörld" in config["Env"]
    assert config["Labels"]["io.wincontainers.images.commit.container"] == container.id
    assert config["Labels"]["io.wincontainers.images.commit.fingerprint"] == first["fingerprint"]
    assert image.attrs["Author"] == AUTHOR and image.attrs["Comment"] == "first commit"
    assert image.attrs["Container"] == container.id
    container.reload()
    assert container.status == "running"  # paused for the commit, running again

    # another message asks for another commit
    other_args = {**args, "message": "second"}
    other = run_playbook([commit_task("other", container_name, target, **other_args)]).assert_ok()
    assert other.task("other")["changed"] is True
    assert docker_client.images.get(target).attrs["Comment"] == "second"

    # the container changes: committed again, then stable; force always commits
    container.exec_run(["sh", "-c", "echo more > /more.txt"])
    args["message"] = "second"
    run = run_playbook([commit_task("changed", container_name, target, **args),
                        commit_task("stable", container_name, target, **args),
                        commit_task("forced", container_name, target, force=True, **args)]).assert_ok()
    changed, stable, forced = (run.task(name)["result"] for name in ("changed", "stable", "forced"))
    assert changed["changed"] is True and changed["image_id"] != image.id
    assert stable["changed"] is False and stable["image_id"] == changed["image_id"]
    assert forced["changed"] is True and forced["image_id"] != changed["image_id"]
    assert docker_client.images.get(target).id == forced["image_id"]


def test_commit_of_a_stopped_container_with_default_tag(run_playbook, docker_client, names):
    container_name, repository = names
    container = run_container(docker_client, container_name, "echo done > /done.txt")
    container.wait(timeout=60)
    run = run_playbook([commit_task("first", container_name, repository, pause=False),
                        commit_task("by-id", container.id, repository, pause=False)], diff=True).assert_ok()
    image = docker_client.images.get(repository + ":latest")
    assert run.task("first")["changed"] is True
    assert run.task("first")["result"]["diff"]["after"] == {"image_id": image.id}
    assert run.task("by-id")["changed"] is False and run.task("by-id")["result"]["image_id"] == image.id


BAD = [
    ({"changes": ["RUN rm -rf /"]}, "changes: 'RUN rm -rf /': 'RUN' cannot be applied by a commit"),
    ({"changes": ["CMD x\nRUN y"]}, "contains a line break"),
    ({"repository": "Wct3/Bad"}, "repository: 'Wct3/Bad' is not a valid image reference"),
    ({"container": "wct3-no-such-container"}, "container: no container 'wct3-no-such-container'"),
]


def test_commit_bad_input_fails_clearly(run_playbook, docker_client, names):
    container_name, repository = names
    run_container(docker_client, container_name, "exec sleep 600")
    tasks = []
    for index, (args, _message) in enumerate(BAD):
        values = {"container": container_name, "repository": repository + ":bad"}
        values.update(args)
        tasks.append({"name": "bad%d" % index, "wincontainers.images.docker_commit": values, "ignore_errors": True})
    run = run_playbook(tasks)
    for index, (_args, message) in enumerate(BAD):
        result = run.task("bad%d" % index)
        assert result["failed"] is True and message in result["msg"], result["msg"]
    assert image_or_none(docker_client, repository + ":bad") is None
