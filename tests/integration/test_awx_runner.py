# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role app_images run the way AWX runs a job: ``ansible_runner.run`` on a private data
directory, the registry credential injected as environment variables (the custom credential type
of docs/awx.md), knobs as extra variables; judged by the job events ansible-runner records.

A rotated password: the host's Docker configuration still holds the login of the old password.
docker_login compares the stored credential with the injected one on the host (a salted HMAC),
logs in again and the pull works; the knob ``app_images_registry_reauthorize`` makes the role log
in again even where nothing can be compared. No secret may be in any event or in the job's
stdout and artifacts.
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from pathlib import Path

import ansible_runner
import pytest

from registry_support import publish_authenticated

LOGIN = "Log in to the registries (S15)"
PULL = "Pull the application images in one task (S14)"

PLAYBOOK = """\
- name: Application images, as an AWX job template runs them
  hosts: all
  gather_facts: false
  tasks:
    - name: The role app_images
      ansible.builtin.include_role:
        name: wincontainers.images.app_images
"""


def run_job(private: Path, env: dict[str, str], extravars: dict) -> ansible_runner.Runner:
    return ansible_runner.run(private_data_dir=str(private), playbook="site.yml", envvars=env, extravars=extravars,
                              quiet=True, timeout=600)


def task_events(run: ansible_runner.Runner, task: str) -> list[dict]:
    return [e for e in run.events if e.get("event_data", {}).get("task", "").endswith(task)
            and e["event"] in ("runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable")]


def assert_no_secret(run: ansible_runner.Runner, private: Path, secrets: list[str]) -> None:
    events = json.dumps(list(run.events))
    stdout = run.stdout.read()
    # Every artifact the job wrote (stdout, stderr, job_events/*.json, ...) but "command": ansible-runner's
    # own record of the job's input, its environment included, like env/envvars (AWX keeps both out of reach).
    artifacts = "".join(p.read_text(encoding="utf-8", errors="replace")
                        for p in (private / "artifacts").rglob("*") if p.is_file() and p.name != "command")
    for secret in secrets:
        assert secret not in events, "a secret is in a job event"
        assert secret not in stdout, "a secret is in the job's stdout"
        assert secret not in artifacts, "a secret is in the job's artifacts"


@pytest.fixture
def awx_job(engine, collections_path, tmp_path):
    """A private data directory as AWX lays it out (project/, inventory/), and the job's environment."""
    private = tmp_path / "runner"
    (private / "project").mkdir(parents=True)
    (private / "inventory").mkdir()
    (private / "project" / "site.yml").write_text(PLAYBOOK, encoding="utf-8")
    (private / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable, encoding="utf-8")
    env = dict(engine.env)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": collections_path,
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp-local"),
        "ANSIBLE_NOCOLOR": "1",
        # the credential type of docs/awx.md injects these three
        "WINCONTAINERS_REGISTRY_HOST": engine.registry_auth,
        "WINCONTAINERS_REGISTRY_USERNAME": engine.registry_user,
        "WINCONTAINERS_REGISTRY_PASSWORD": engine.registry_password,
    })
    return private, env


def test_rotated_password_under_ansible_runner(engine, awx_job, tmp_path):
    private, env = awx_job
    repository = "wct13/awx/app-%s" % uuid.uuid4().hex[:8]
    publish_authenticated(engine, engine.registry_auth, repository, "1.0", 2048)
    reference = "%s/%s:1.0" % (engine.registry_auth, repository)

    # The host logged in before the password was rotated.
    old_password = "before-rotation-" + uuid.uuid4().hex
    config = tmp_path / "docker-config"
    config.mkdir()
    auth = base64.b64encode(("%s:%s" % (engine.registry_user, old_password)).encode()).decode()
    (config / "config.json").write_text(json.dumps({"auths": {engine.registry_auth: {"auth": auth}}}), encoding="utf-8")
    extravars = {"app_images_list": [reference], "app_images_docker_config": str(config)}
    secrets = [engine.registry_password, old_password]

    # docker_login compares the stored credential with the injected one on the host: the rotated
    # password is a change without any knob, and the pull that needs it works.
    rotated = run_job(private, env, extravars)
    assert rotated.status == "successful" and rotated.rc == 0, rotated.status
    # The login task is no_log: its events carry no result, so whether it changed is in the stats.
    (login,) = task_events(rotated, LOGIN)
    assert login["event"] == "runner_on_ok", login["event"]
    (pull,) = task_events(rotated, PULL)
    assert pull["event"] == "runner_on_ok" and pull["event_data"]["res"]["changed"], pull["event_data"]["res"]
    assert rotated.stats["changed"] == {"localhost": 2}, rotated.stats  # the login and the pull
    assert old_password not in (config / "config.json").read_text(encoding="utf-8")
    assert_no_secret(rotated, private, secrets)

    # The knob logs in again even when the stored credential is the same (a credential helper or an
    # identity token that cannot be compared): the login changes, the image is already there.
    forced = run_job(private, env, {**extravars, "app_images_registry_reauthorize": True})
    assert forced.status == "successful", forced.status
    assert forced.stats["changed"] == {"localhost": 1}, forced.stats
    assert_no_secret(forced, private, secrets)

    # The hourly run after it: the knob off again, nothing to do.
    again = run_job(private, env, extravars)
    assert again.status == "successful", again.status
    assert not again.stats["changed"], again.stats
    assert {e["event"] for e in task_events(again, LOGIN) + task_events(again, PULL)} == {"runner_on_ok"}
    assert_no_secret(again, private, secrets)
