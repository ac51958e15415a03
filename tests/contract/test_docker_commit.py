# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.docker_commit over winrm, psrp and ssh.

On a Windows engine: quotes, brackets and non-ASCII characters of ``changes`` reach docker.exe
unchanged (the fake host splits the .NET command line as Go does); a running container is
refused clearly, or stopped first with ``stop_running``; a second run is one exec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from contract_harness import TRANSPORTS, ContractHost, PlayRun, recorded_image
from fake_windows_host import load_recorded

MODULE = "wincontainers.images.docker_commit"
IIS = load_recorded("lifecycle/container_iis_build.json")[0]
WEB = load_recorded("lifecycle/container_web_live.json")[0]
SERVERCORE_ID = recorded_image("servercore_ltsc2022.json")["Id"]
CHANGES = ['CMD ["app.exe", "--name=it\'s"]', 'LABEL note="naïve \u2018quoted\u2019"', "WORKDIR C:\\inetpub\\wwwroot",
           'ENV GREETING="héllo wörld" APPDIR="C:\\\\Program Files\\\\App\\\\"']
COMMIT = {"container": "iis-build", "repository": "windowsservercoreiis", "changes": CHANGES,
          "message": "IIS installed \u2018by Ansible\u2019", "author": "Build Team <build@contoso.test>"}
LIVE = {"container": "web-live", "repository": "registry.contoso.test/apps/webapp:snapshot"}
SCENARIO = {"lifecycle": {
    "containers": ["lifecycle/container_iis_build.json", "lifecycle/container_web_live.json"],
    "diffs": {IIS["Id"]: "C /Files\nC /Files/inetpub\nA /Files/inetpub/wwwroot/iisstart.htm\nC /Hives\n",
              WEB["Id"]: "C /Files/app\nA /Files/app/logs/web.log\n"},
    "size_rw": {IIS["Id"]: 62914560, WEB["Id"]: 20480},
}}


@pytest.fixture(scope="module", params=TRANSPORTS)
def commit_play(request: pytest.FixtureRequest, new_windows_host: Callable[..., ContractHost]) -> Iterator[tuple[ContractHost, PlayRun]]:
    host = new_windows_host(request.param, **SCENARIO)
    run = host.run([
        {"name": "check", MODULE: COMMIT, "check_mode": True, "diff": True},
        {"name": "first", MODULE: COMMIT, "diff": True},
        {"name": "second", MODULE: COMMIT},
        {"name": "running", MODULE: LIVE, "ignore_errors": True},
        {"name": "stop check", MODULE: {**LIVE, "stop_running": True}, "check_mode": True},
        {"name": "stop", MODULE: {**LIVE, "stop_running": True}},
        {"name": "stop again", MODULE: {**LIVE, "stop_running": True}},
        {"name": "bad change", MODULE: {**COMMIT, "changes": ["RUN del C:\\Windows\\Temp\\*"]}, "ignore_errors": True},
    ])
    yield host, run
    host.close()


def test_check_mode_reads_once_and_changes_nothing(commit_play) -> None:
    run = commit_play[1]
    checked = run.named("check")
    assert checked.status == "ok" and checked.changed, checked.msg
    assert checked.execs == 1 and not checked.exchanges[0].state_changed
    assert checked.exchanges[0].argvs == [["container", "inspect", "--size", "--", "iis-build"],
                                          ["container", "diff", "--", "iis-build"],
                                          ["image", "inspect", "--", "windowsservercoreiis:latest"]]
    assert checked.result["image"] is None
    assert checked.result["diff"] == {"before": {"image_id": None}, "after": {"image_id": "(new image)"}}


def test_first_run_commits_with_every_value_unchanged(commit_play) -> None:
    host, run = commit_play
    first = run.named("first")
    assert first.status == "ok" and first.changed, first.msg
    assert first.execs == 2
    commit_argv = first.exchanges[1].argvs[0]
    fingerprint = first.result["fingerprint"]
    assert commit_argv == [
        "container", "commit", "--pause=true",
        "--message", "IIS installed \u2018by Ansible\u2019",
        "--author", "Build Team <build@contoso.test>",
        "--change", CHANGES[0], "--change", CHANGES[1], "--change", CHANGES[2], "--change", CHANGES[3],
        "--change", "LABEL io.wincontainers.images.commit.container=%s io.wincontainers.images.commit.fingerprint=%s"
        % (IIS["Id"], fingerprint),
        "--", IIS["Id"], "windowsservercoreiis:latest",
    ]
    assert first.exchanges[1].argvs[1] == ["image", "inspect", "--", "windowsservercoreiis:latest"]
    image = host.image("windowsservercoreiis:latest")
    assert image is not None and first.result["image_id"] == image["Id"]
    assert image["Parent"] == SERVERCORE_ID
    assert image["Config"]["Cmd"] == ["app.exe", "--name=it's"]
    assert image["Config"]["Labels"]["note"] == "naïve \u2018quoted\u2019"
    assert image["Config"]["Labels"]["io.wincontainers.images.commit.fingerprint"] == fingerprint
    assert first.result["diff"] == {"before": {"image_id": None}, "after": {"image_id": image["Id"]}}
    assert first.result["stopped"] is False


def test_second_run_is_one_exec(commit_play) -> None:
    run = commit_play[1]
    second = run.named("second")
    assert second.status == "ok" and not second.changed, second.msg
    assert second.execs == 1
    assert second.result["image_id"] == run.named("first").result["image_id"]


def test_a_running_windows_container_is_refused_clearly(commit_play) -> None:
    run = commit_play[1]
    running = run.named("running")
    assert running.failed and running.execs == 1
    assert "web-live" in running.msg and "Windows cannot commit a running container" in running.msg
    assert "stop_running: true" in running.msg
    assert all(argv[:2] != ["container", "commit"] for argv in running.exchanges[0].argvs)


def test_stop_running_stops_then_commits(commit_play) -> None:
    host, run = commit_play
    checked = run.named("stop check")
    assert checked.status == "ok" and checked.changed and checked.execs == 1, checked.msg
    assert checked.result["stopped"] is True
    stop = run.named("stop")
    assert stop.status == "ok" and stop.changed and stop.result["stopped"] is True, stop.msg
    assert stop.execs == 3
    assert stop.exchanges[1].argvs == [["container", "stop", "--", WEB["Id"]],
                                       ["container", "inspect", "--size", "--", WEB["Id"]],
                                       ["container", "diff", "--", WEB["Id"]]]
    assert stop.exchanges[2].argvs[0][:2] == ["container", "commit"]
    assert stop.exchanges[2].argvs[0][-1] == "registry.contoso.test/apps/webapp:snapshot"
    again = run.named("stop again")
    assert again.status == "ok" and not again.changed and again.execs == 1, again.msg
    assert again.result["stopped"] is False
    assert host.image("registry.contoso.test/apps/webapp:snapshot")["Id"] == stop.result["image_id"]
    assert next(c for c in host.state["containers"] if c["Id"] == WEB["Id"])["State"]["Running"] is False


def test_a_forbidden_instruction_never_reaches_the_host(commit_play) -> None:
    run = commit_play[1]
    bad = run.named("bad change")
    assert bad.failed and bad.execs == 0
    assert bad.msg.startswith("changes: 'RUN del C:\\\\Windows\\\\Temp\\\\*': 'RUN' cannot be applied by a commit"), bad.msg
