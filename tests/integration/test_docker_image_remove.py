# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""wincontainers.images.docker_image_remove against the real engine, checked with the Docker SDK."""

from __future__ import annotations

from lifecycle_support import exec_count, image_or_none, own_image

PREFIX = "wct3/rm-"


def remove(name, task="remove", **extra):
    args = {"name": name}
    args.update(extra)
    return {"name": task, "wincontainers.images.docker_image_remove": args}


def test_remove_one_tag_of_several_then_the_image(run_playbook, docker_client, repo):
    image = own_image(docker_client, repo, "a", "remove-test")
    image.tag(repo, "b")

    checked = run_playbook([remove(repo + ":a", "check")], check=True, diff=True).assert_ok().task("check")
    assert checked["changed"] is True
    assert checked["result"]["diff"]["before"]["id"] == image.id
    assert checked["result"]["diff"]["before"]["tags"] == sorted([repo + ":a", repo + ":b"])
    assert checked["result"]["diff"]["after"] == {"exists": True, "id": image.id, "tags": [repo + ":b"], "digests": []}
    assert sorted(docker_client.images.get(image.id).tags) == sorted([repo + ":a", repo + ":b"])

    run = run_playbook([remove(repo, "first", tag="a"), remove(repo + ":a", "second")], diff=True, verbosity=3).assert_ok()
    first, second = run.task("first")["result"], run.task("second")["result"]
    assert first["changed"] is True and exec_count(run, "first") == 2
    assert first["untagged"] == [repo + ":a"] and first["deleted"] == []
    assert first["diff"]["after"] == {"exists": True, "id": image.id, "tags": [repo + ":b"], "digests": []}
    assert second["changed"] is False and exec_count(run, "second") == 1
    assert docker_client.images.get(image.id).tags == [repo + ":b"]

    # the last tag, by ID: the image goes
    run = run_playbook([remove(image.short_id.split(":")[1], "by-id"), remove(image.id, "again")]).assert_ok()
    assert run.task("by-id")["result"]["deleted"] == [image.id]
    assert run.task("by-id")["result"]["untagged"] == [repo + ":b"]
    assert run.task("again")["changed"] is False
    assert image_or_none(docker_client, image.id) is None


def test_containers_block_removal_unless_forced(run_playbook, docker_client, repo):
    suffix = repo.rsplit("-", 1)[1]
    stopped_image = own_image(docker_client, repo, "stopped", "in-use-by-a-stopped-container")
    running_image = own_image(docker_client, repo, "running", "in-use-by-a-running-container")
    stopped = docker_client.containers.create(stopped_image.id, ["true"], name="wct3-rm-%s-stopped" % suffix,
                                              network_disabled=True)
    running = docker_client.containers.run(running_image.id, ["sleep", "600"], name="wct3-rm-%s-running" % suffix,
                                           detach=True, network_disabled=True)
    try:
        run = run_playbook([dict(remove(repo + ":stopped", "refused"), ignore_errors=True),
                            dict(remove(repo + ":running", "refused-running"), ignore_errors=True),
                            dict(remove(running_image.id, "by-id-running", force=True), ignore_errors=True)])
        result = run.task("refused")
        assert result["failed"] is True
        assert "used by 1 container(s), running or stopped" in result["msg"]
        assert stopped.name in result["msg"] and stopped.id[:12] in result["msg"] and "Created" in result["msg"]
        assert result["result"]["containers"][0]["ID"] == stopped.id
        result = run.task("refused-running")
        assert result["failed"] is True and running.name in result["msg"] and "Up " in result["msg"]
        result = run.task("by-id-running")
        assert result["failed"] is True and "refuses to remove it by ID even with force" in result["msg"]
        assert docker_client.images.get(repo + ":stopped").id == stopped_image.id
        assert docker_client.images.get(repo + ":running").id == running_image.id

        run = run_playbook([remove(repo + ":stopped", "forced", force=True),
                            remove(repo + ":running", "forced-running", force=True),
                            remove(repo + ":stopped", "after")], diff=True).assert_ok()
        forced, forced_running = run.task("forced")["result"], run.task("forced-running")["result"]
        assert forced["changed"] is True and forced["deleted"] == [stopped_image.id]
        assert forced["diff"]["after"] == {"exists": False}
        assert forced_running["changed"] is True and forced_running["deleted"] == []
        assert forced_running["untagged"] == [repo + ":running"]
        assert forced_running["diff"]["after"] == {"exists": True, "id": running_image.id, "tags": [], "digests": []}
        assert run.task("after")["changed"] is False
        # only stopped containers: the engine deleted the image; a running one keeps it, untagged
        assert image_or_none(docker_client, stopped_image.id) is None
        assert docker_client.images.get(running_image.id).tags == []
        stopped.reload()
        running.reload()
    finally:
        for container in (stopped, running):
            container.remove(force=True)
        for image in (stopped_image, running_image):
            try:
                docker_client.images.remove(image.id, force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass


def test_absent_image_and_bad_input(run_playbook, repo):
    run = run_playbook([remove(repo + ":none", "absent"),
                        dict(remove("Not A Reference", "bad"), ignore_errors=True),
                        dict(remove(repo, "bad-tag", tag="bad tag"), ignore_errors=True)], verbosity=3)
    assert run.task("absent")["changed"] is False and exec_count(run, "absent") == 1
    assert run.task("bad")["failed"] is True and run.task("bad")["msg"].startswith("name: 'Not A Reference'")
    assert run.task("bad-tag")["failed"] is True and run.task("bad-tag")["msg"].startswith("tag: 'bad tag'")
    assert exec_count(run, "bad") == 0 and exec_count(run, "bad-tag") == 0
