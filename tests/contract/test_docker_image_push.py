# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.docker_image_push over winrm, psrp and ssh: the
one-exec read (local image, daemon registry configuration, registry manifest), what it decides,
its failures, and a push through the detached job scripts with docker.exe's recorded output (the
registry's side of a push, and a second run that finds the tag: tests/integration)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from contract_harness import TRANSPORTS, ContractHost, PlayRun, load_scenario, recorded_image

MODULE = "wincontainers.images.docker_image_push"
WEBAPP = "registry.contoso.test/apps/webapp:1.4.2"
WEBAPP_ID = recorded_image("webapp_1.4.2.json")["Id"]


@pytest.fixture(scope="module", params=TRANSPORTS)
def push_play(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[tuple[ContractHost, PlayRun]]:
    # The application image also tagged for two other registries (as docker_image_tag would).
    webapp = dict(recorded_image("webapp_1.4.2.json"))
    webapp["RepoTags"] = webapp["RepoTags"] + ["registry.fabrikam.test/apps/webapp:1.4.2",
                                               "registry.offline.test/apps/webapp:1.4.2"]
    images = ["servercore_ltsc2022.json", "nanoserver_ltsc2022.json", webapp]
    host = new_windows_host(request.param, "registry", images=images)
    before = host.state_bytes()
    run = host.run([
        {"name": "up to date", MODULE: {"name": "registry.contoso.test/apps/webapp", "tag": "1.4.2"}},
        {"name": "check mode", MODULE: {"name": "registry.contoso.test/apps/webapp"}, "check_mode": True, "diff": True},
        {"name": "no credentials", MODULE: {"name": "registry.fabrikam.test/apps/webapp:1.4.2"}, "ignore_errors": True},
        {"name": "registry down", MODULE: {"name": "registry.offline.test/apps/webapp:1.4.2"}, "ignore_errors": True},
        {"name": "no local image", MODULE: {"name": "registry.contoso.test/apps/other:1"}, "ignore_errors": True},
        {"name": "digest", MODULE: {"name": "registry.contoso.test/apps/webapp@sha256:" + "0" * 64},
         "ignore_errors": True},
    ])
    assert host.state_bytes() == before
    yield host, run
    host.close()


def test_an_image_the_registry_holds_is_not_pushed(push_play) -> None:
    run = push_play[1]
    done = run.named("up to date")
    assert done.status == "ok" and not done.changed and done.execs == 1, done.msg
    assert done.exchanges[0].argvs == [
        ["image", "inspect", "--", WEBAPP],
        ["info", "--format", "{{json .RegistryConfig}}"],
        ["manifest", "inspect", "--verbose", "--", WEBAPP],
    ]
    assert done.result["digest"] == "sha256:5f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
    assert done.result["image_id"] == WEBAPP_ID and done.result["foreign_layers"] == 1


def test_check_mode_predicts_a_push(push_play) -> None:
    run = push_play[1]
    checked = run.named("check mode")
    assert checked.status == "ok" and checked.changed and checked.execs == 1
    assert checked.result["name"] == "registry.contoso.test/apps/webapp:latest" and checked.result["digest"] is None
    assert checked.result["diff"]["before"] == {"digest": None, "present": False}


def test_failures_are_clear_and_change_nothing(push_play) -> None:
    run = push_play[1]
    denied = run.named("no credentials")
    assert denied.failed and not denied.changed and denied.execs == 1
    assert "refused to show" in denied.msg and "no basic auth credentials" in denied.msg
    down = run.named("registry down")
    assert down.failed and not down.changed and down.execs == 1 and "is not reachable" in down.msg
    missing = run.named("no local image")
    assert missing.failed and not missing.changed and "there is no local image" in missing.msg
    digest = run.named("digest")
    assert digest.failed and digest.execs == 0 and digest.msg.startswith("name: ")


LATEST = "registry.contoso.test/apps/webapp:latest"
WEBAPP_DIGEST = "sha256:5f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
# What docker.exe 27 prints for a push whose layers the registry already holds but the tag is
# new: one "ID: status" line per layer event (no TTY), the foreign base layer skipped, then
# "TAG: digest: DIGEST size: N".
PUSH_OUTPUT = (
    "The push refers to repository [registry.contoso.test/apps/webapp]\n"
    "9d8c7b6a5f4e: Preparing\n"
    "7c76e5cf7755: Preparing\n"
    "7c76e5cf7755: Skipped foreign layer\n"
    "9d8c7b6a5f4e: Layer already exists\n"
    "latest: digest: %s size: 1323\n" % WEBAPP_DIGEST
)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_missing_tag_is_pushed_in_a_detached_job(transport: str, make_windows_host: Callable[..., ContractHost]) -> None:
    webapp = dict(recorded_image("webapp_1.4.2.json"))
    webapp["RepoTags"] = webapp["RepoTags"] + [LATEST]
    registry = load_scenario("registry")
    push = {"argv": ["image", "push", "--", LATEST], "rc": 0, "stdout": PUSH_OUTPUT}
    host = make_windows_host(transport, registry, images=["servercore_ltsc2022.json", webapp],
                             answers=registry["answers"] + [push])
    run = host.run([{"name": "push", MODULE: {"name": LATEST}, "diff": True}])
    pushed = run.named("push")
    assert pushed.status == "ok" and pushed.changed, pushed.msg
    scripts = [exchange.script_name for exchange in pushed.exchanges]
    assert scripts[0] == "run" and scripts[1] == "job_start" and "job_status" in scripts and scripts[-1] == "job_cleanup"
    # The read asks the registry once; the job pushes, then asks the same question again.
    assert pushed.exchanges[0].argvs[-1] == ["manifest", "inspect", "--verbose", "--", LATEST]
    assert pushed.job_argvs == [["image", "push", "--", LATEST], ["manifest", "inspect", "--verbose", "--", LATEST]]
    assert pushed.result["digest"] == WEBAPP_DIGEST and pushed.result["image_id"] == WEBAPP_ID
    assert pushed.result["diff"] == {"before": {"digest": None, "present": False},
                                     "after": {"digest": WEBAPP_DIGEST, "present": True, "image_id": WEBAPP_ID}}
