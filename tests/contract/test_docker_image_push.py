# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.docker_image_push over winrm, psrp and ssh: the
one-exec read (local image, daemon registry configuration, registry manifest), what it decides,
and its failures. The push job itself runs the detached job scripts (see tests/integration)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from contract_harness import TRANSPORTS, ContractHost, PlayRun, recorded_image

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
        ["image", "inspect", WEBAPP],
        ["info", "--format", "{{json .RegistryConfig}}"],
        ["manifest", "inspect", "--verbose", WEBAPP],
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
