# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Self-tests of the integration harness, mostly with ansible.builtin tasks (6 playbook runs, then 2 per target)."""

from __future__ import annotations

import json
import os
import ssl
import time
import urllib.error
import urllib.request

import pytest

from wc_harness import assert_recap


def test_results_recap_and_secrets(run_playbook):
    secret = "s3cr3t-value-for-harness"
    run = run_playbook(
        [
            {"name": "say hello", "ansible.builtin.debug": {"msg": "hello"}},
            {"name": "loop", "ansible.builtin.debug": {"msg": "{{ item }}"}, "loop": [1, 2, 3]},
            {"name": "skipped", "ansible.builtin.debug": {"msg": "no"}, "when": False},
            {"name": "visible", "ansible.builtin.debug": {"msg": "{{ token | length }}"}},
            {"name": "hidden", "ansible.builtin.debug": {"msg": "{{ token }}"}, "no_log": True},
        ],
        extra_vars={"token": secret},
    )
    run.assert_ok()
    assert_recap(run, ok=4, changed=0, failed=0, skipped=1)

    hello = run.task("say hello")
    assert hello["host"] == "localhost"
    assert hello["action"] == "ansible.builtin.debug"
    assert hello["msg"] == "hello"
    assert hello["changed"] is False and hello["failed"] is False

    assert [r["msg"] for r in run.task("loop")["result"]["results"]] == [1, 2, 3]
    assert run.task("skipped")["skipped"] is True

    # extra vars travel in a file, never on the command line
    assert secret not in " ".join(run.command)
    assert run.task("visible")["msg"] == len(secret)
    # no_log results reach the callback already censored
    assert secret not in json.dumps(run.task("hidden"))
    assert secret not in run.stdout + run.stderr


def test_commands_reach_the_engine_and_the_collection(run_playbook, docker_client, engine):
    run = run_playbook(
        [
            {"name": "docker version", "ansible.builtin.command": "docker version", "changed_when": False},
            {"name": "docker info", "ansible.builtin.command": {"argv": ["docker", "info"]}},
            {
                "name": "env",
                "ansible.builtin.debug": {"msg": "{{ lookup('env', 'DOCKER_HOST') }} {{ lookup('env', 'DOCKER_CONFIG') }}"},
            },
            {
                "name": "collection list",
                "ansible.builtin.command": {"argv": ["ansible-galaxy", "collection", "list", "wincontainers.images", "--format", "json"]},
                "changed_when": False,
            },
        ]
    )
    run.assert_ok().assert_recap(ok=4, changed=1)

    stdout = run.task("docker version")["result"]["stdout"]
    assert "Server:" in stdout
    assert docker_client.version()["Version"] in stdout
    assert run.task("docker info")["changed"] is True

    # the play saw the engine's DOCKER_HOST, and a private DOCKER_CONFIG
    host, config = run.task("env")["msg"].split()
    assert host == engine.docker_host
    assert config == str(run.docker_config)

    # the installed build of the collection is what ansible sees
    listing = json.loads(run.task("collection list")["result"]["stdout"])
    found = {name for where in listing.values() for name in where}
    assert "wincontainers.images" in found


def test_failed_task_is_reported(run_playbook):
    run = run_playbook(
        [
            {"name": "fails", "ansible.builtin.command": "false"},
            {"name": "never runs", "ansible.builtin.debug": {"msg": "x"}},
        ]
    )
    assert run.rc == 2
    assert run.failed
    result = run.task("fails")
    assert result["failed"] is True and result["result"]["rc"] == 1
    assert run.tasks("never runs") == []
    assert_recap(run, failed=1, ok=0)
    with pytest.raises(AssertionError, match="failed"):
        run.assert_ok()
    with pytest.raises(AssertionError, match="changed=0 \\(expected 5\\)"):
        assert_recap(run, changed=5)


def test_check_diff_then_idempotence(run_playbook, tmp_path):
    target = tmp_path / "file.txt"
    task = {"name": "write", "ansible.builtin.copy": {"content": "one\n", "dest": str(target)}}

    checked = run_playbook([task], check=True, diff=True)
    checked.assert_ok().assert_recap(changed=1)
    assert not target.exists(), "check mode must not change anything"
    diff = checked.task("write")["diff"]
    diffs = diff if isinstance(diff, list) else [diff]
    assert any("one" in (d.get("after") or "") for d in diffs)

    first = run_playbook([task], diff=True)
    first.assert_ok().assert_recap(changed=1)
    assert target.read_text() == "one\n"

    second = run_playbook([task])
    second.assert_ok().assert_recap(changed=0, ok=1)
    assert not second.changed


def test_registries_answer(engine):
    with urllib.request.urlopen(f"http://{engine.registry_anon}/v2/", timeout=10) as resp:
        assert resp.status == 200
    context = ssl.create_default_context(cafile=str(engine.registry_ca))
    for addr in filter(None, [engine.registry_auth, engine.registry_tls]):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"https://{addr}/v2/", timeout=10, context=context)
        assert info.value.code == 401, addr
    assert engine.registry_password, "registry password file is empty"


def test_targets_reach_the_same_engine(run_playbook, docker_client, target):
    """``target``: the local connection, and a real ssh login to the loopback sshd."""
    run = run_playbook([
        {"name": "login", "ansible.builtin.raw": "echo \"ssh=${SSH_CONNECTION:-none} home=$HOME\""},
        {"name": "info", "wincontainers.images.docker_image_info": {"name": ["wctest/busybox:1.0"]}},
    ], target=target).assert_ok()
    assert run.task("login")["host"] == target.host
    line = run.task("login")["result"]["stdout"].strip().splitlines()[-1]
    if target.name == "ssh":
        assert line.startswith("ssh=127.0.0.1 "), line  # a real sshd session
    else:
        assert line.startswith("ssh=none "), line
    assert line.endswith("home=%s" % target.home), line
    images = run.task("info")["result"]["images"]
    assert [image["Id"] for image in images] == [docker_client.images.get("wctest/busybox:1.0").id]


def test_a_background_run_is_killed_with_everything_below_it(start_playbook, target):
    import wc_harness

    seconds = "300.%d" % (os.getpid() % 1000)  # a command line no other process has
    run = start_playbook([{"name": "sleep", "ansible.builtin.command": "sleep " + seconds}], target=target)
    deadline = time.monotonic() + 60
    sleepers: list[int] = []
    while time.monotonic() < deadline and not sleepers:
        sleepers = [int(p) for p in os.listdir("/proc") if p.isdigit() and _command_line(int(p))[1:] == [seconds]]
        time.sleep(0.1)
    assert sleepers, "the task never started"
    tree = [run.pid] + wc_harness.descendants(run.pid)
    assert (set(sleepers) <= set(tree)) is (target.name == "local")  # over ssh, it runs under sshd
    run.kill()
    assert not run.running
    for pid in tree:
        assert not wc_harness.process_alive(pid), "process %d of the controller survived the kill" % pid
    result = run.wait()
    assert result.rc == -9 and result.results == []


def _command_line(pid: int) -> list[str]:
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return [word.decode("utf-8", "replace") for word in handle.read().split(b"\0") if word]
    except OSError:
        return []
