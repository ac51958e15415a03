# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.docker_image_pull over winrm, psrp and ssh: the
one-exec paths (nothing to pull, check mode, pull=always in check mode asking the registry) and
a pull of a missing image through the detached job scripts (real pulls: tests/integration)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from contract_harness import TRANSPORTS, ContractHost, PlayRun, recorded_image

MODULE = "wincontainers.images.docker_image_pull"
SERVERCORE = "mcr.microsoft.com/windows/servercore:ltsc2022"
NANOSERVER = "mcr.microsoft.com/windows/nanoserver:ltsc2022"
SERVERCORE_ID = recorded_image("servercore_ltsc2022.json")["Id"]


@pytest.fixture(scope="module", params=TRANSPORTS)
def pull_play(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[tuple[ContractHost, PlayRun]]:
    host = new_windows_host(request.param, "registry")
    before = host.state_bytes()
    run = host.run([
        {"name": "present", MODULE: {"name": ["mcr.microsoft.com/windows/servercore", NANOSERVER], "tag": "ltsc2022",
                                     "platform": "windows/amd64"}},
        {"name": "missing, check mode", MODULE: {"name": [SERVERCORE, "mcr.microsoft.com/windows/servercore:ltsc2025"]},
         "check_mode": True, "diff": True},
        {"name": "always, check mode", MODULE: {"name": [SERVERCORE], "pull": "always"}, "check_mode": True},
        {"name": "bad platform", MODULE: {"name": [SERVERCORE], "platform": "windows amd64"}, "ignore_errors": True},
    ])
    assert host.state_bytes() == before
    yield host, run
    host.close()


def test_present_images_cost_one_exec(pull_play) -> None:
    run = pull_play[1]
    present = run.named("present")
    assert present.status == "ok" and not present.changed and present.execs == 1
    assert present.exchanges[0].argvs == [["image", "inspect", "--", SERVERCORE, NANOSERVER]]
    first = present.result["images"][0]
    assert first == {"reference": SERVERCORE, "id": SERVERCORE_ID, "changed": False, "pulled": False,
                     "digest": "sha256:533b0b5831722428f3ef85afaf602fc53cf3c4757dc564b085eb96560f2e32d0"}


def test_check_mode_reports_missing_images(pull_play) -> None:
    run = pull_play[1]
    checked = run.named("missing, check mode")
    assert checked.status == "ok" and checked.changed and checked.execs == 1
    assert checked.result["missing"] == ["mcr.microsoft.com/windows/servercore:ltsc2025"]
    # community.docker's diff shape: an image that would be pulled has the ID "unknown"
    assert checked.result["diff"]["after"] == {"images": {
        SERVERCORE: {"exists": True, "id": checked.result["images"][0]["id"]},
        "mcr.microsoft.com/windows/servercore:ltsc2025": {"exists": True, "id": "unknown"}}}
    assert checked.result["diff"]["before"]["images"]["mcr.microsoft.com/windows/servercore:ltsc2025"] == {"exists": False}
    assert "image" not in checked.result  # two names: no single image
    assert checked.result["actions"] == ["Pulled image mcr.microsoft.com/windows/servercore:ltsc2025"]


def test_pull_always_in_check_mode_asks_the_registry_in_the_same_exec(pull_play) -> None:
    run = pull_play[1]
    always = run.named("always, check mode")
    assert always.status == "ok" and not always.changed and always.execs == 1, always.msg
    assert always.exchanges[0].argvs == [
        ["image", "inspect", "--", SERVERCORE],
        ["info", "--format", "{{json .RegistryConfig}}"],
        ["manifest", "inspect", "--verbose", "--", SERVERCORE],
    ]


def test_bad_input_runs_nothing(pull_play) -> None:
    run = pull_play[1]
    bad = run.named("bad platform")
    assert bad.failed and bad.execs == 0 and bad.msg.startswith("platform: 'windows amd64'")


LTSC2019 = "mcr.microsoft.com/windows/servercore:ltsc2019"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_missing_image_is_pulled_in_a_detached_job_then_costs_one_exec(
        transport: str, make_windows_host: Callable[..., ContractHost]) -> None:
    host = make_windows_host(transport, "registry", base_images={"pulls": {LTSC2019: "servercore_ltsc2019.json"}})
    run = host.run([
        {"name": "pull", MODULE: {"name": [SERVERCORE, LTSC2019]}},
        {"name": "pull again", MODULE: {"name": [SERVERCORE, LTSC2019]}},
    ])
    pulled = run.named("pull")
    assert pulled.status == "ok" and pulled.changed, pulled.msg
    scripts = [exchange.script_name for exchange in pulled.exchanges]
    assert scripts[0] == "run" and scripts[1] == "job_start" and "job_status" in scripts and scripts[-1] == "run"
    # Only the missing image is pulled, by the detached job, never by the read or the final inspect.
    assert pulled.job_argvs == [["image", "pull", "--", LTSC2019]]
    by_reference = {image["reference"]: image for image in pulled.result["images"]}
    assert by_reference[LTSC2019]["changed"] and by_reference[LTSC2019]["pulled"]
    assert not by_reference[SERVERCORE]["changed"]
    assert host.image(LTSC2019)["Id"] == by_reference[LTSC2019]["id"]

    again = run.named("pull again")
    assert again.status == "ok" and not again.changed and again.execs == 1, again.msg
