# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Detached jobs on a Windows host, through the modules that run them (docker_image_pull,
docker_image_export, docker_image_load, win_container_base_image) and real ansible-playbook
runs over winrm, psrp and ssh (job protocol v2; the rules: docs/architecture.md, "Detached
jobs: the lifecycle in one place"; the exec-level contract: test_job_protocol_windows.py).

* A job root that another principal controls (created by an ordinary user, or writable by
  Users or Everyone) is refused with its path, and no job starts.
* A job directory that is a reparse point or belongs to another user is refused.
* A finished job of another run is never reused: its results (rc 0, from an earlier run) are
  discarded and the pull runs again (the stale-job reproduction).
* Two runs of the same task at the same time: one runner, one pull; the first run to clean up
  leaves the job to the other, which removes it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

import fake_jobs
from contract_harness import TRANSPORTS, ContractHost
from fake_jobs import ADMINISTRATORS, EVERYONE, OTHER_USER, PARENT, ROOT, USERS, rule
from fake_windows_host import load_recorded

PULL = "wincontainers.images.docker_image_pull"
EXPORT = "wincontainers.images.docker_image_export"
LOAD = "wincontainers.images.docker_image_load"
BASE_IMAGE = "wincontainers.images.win_container_base_image"
SERVERCORE = "mcr.microsoft.com/windows/servercore:ltsc2022"
LTSC2019 = "mcr.microsoft.com/windows/servercore:ltsc2019"
LTSC2019_IMAGE = load_recorded("base_images/images/servercore_ltsc2019.json")[0]
LTSC2025 = "mcr.microsoft.com/windows/servercore:ltsc2025"
NEXT = "registry.contoso.test/base/servercore:next"
NEXT_IMAGE = load_recorded("base_images/images/servercore_ltsc2022_next.json")[0]
ARCHIVE = "C:\\images\\servercore.tar"
OLD_ARCHIVE = "C:\\images\\servercore-next.tar"


def scenario(**jobs: Any) -> dict[str, Any]:
    """The ltsc2022 images; ltsc2019 and ltsc2025 can be pulled, an archive holds another image."""
    archived = {"id": NEXT_IMAGE["Id"], "tags": [NEXT], "image": copy.deepcopy(NEXT_IMAGE)}
    extra: dict[str, Any] = {
        "base_images": {"host": "ws2022", "pulls": {LTSC2019: "servercore_ltsc2019.json",
                                                    LTSC2025: "servercore_ltsc2025.json"}},
        "lifecycle": {"directories": ["C:\\images"], "files": {OLD_ARCHIVE: {"images": [archived]}}},
    }
    if jobs:
        extra["jobs"] = jobs
    return extra


ALL_JOB_TASKS = [
    {"name": "pull", PULL: {"name": [LTSC2025]}, "ignore_errors": True},
    {"name": "export", EXPORT: {"names": [SERVERCORE], "path": ARCHIVE}, "ignore_errors": True},
    {"name": "load", LOAD: {"path": OLD_ARCHIVE}, "ignore_errors": True},
    {"name": "base image",
     BASE_IMAGE: {"name": "WindowsServerCore", "version": "ltsc2019", "isolation": "hyperv", "tag_latest": False},
     "ignore_errors": True},
]


def job_execs(exchanges) -> list[str]:
    """The job protocol's execs: job_start, job_status, job_cleanup, and stage_script of the runner."""
    return [e.script_name for e in exchanges if e.script_name.startswith("job_") or e.script_name == "stage_script"]


def job_id(task) -> str:
    """The ID of the job the task started (jobs.py derives it from the host, purpose and calls)."""
    return next(e for e in task.exchanges if e.script_name == "job_start").request["job"]


def forget_image(host: ContractHost, reference: str) -> None:
    """Someone removed the image on the host (docker rmi) after the first run."""
    path = host.directory / "state.json"
    state = json.loads(path.read_text())
    state["images"] = [i for i in state["images"] if reference not in (i.get("RepoTags") or [])]
    path.write_text(json.dumps(state))


# --- a root another principal controls --------------------------------------------------------

UNSAFE_ROOTS = {
    # An ordinary user created %ProgramData%\wincontainers.images first: it is theirs, and
    # Users may write to it (inherited from ProgramData).
    "created by a user": ({"parent": {"owner": OTHER_USER, "rules": fake_jobs.inherited_programdata_rules()}},
                          "%s: it is owned by %s; refusing to use it" % (PARENT, OTHER_USER)),
    # The root of an older release, made without its own ACL: Users may write to it.
    "writable by Users": ({"root": {"owner": ADMINISTRATORS, "rules": [
        rule(ADMINISTRATORS), rule("S-1-5-18"), rule(USERS, ["WriteData", "AppendData"], inherited=True)]}},
        "%s: %s may write to it; refusing to use it" % (ROOT, USERS)),
    "writable by Everyone": ({"root": {"owner": ADMINISTRATORS, "rules": [rule(ADMINISTRATORS), rule(EVERYONE, "Modify")]}},
                             "%s: %s may write to it; refusing to use it" % (ROOT, EVERYONE)),
}


# The first case over every transport, the others over one transport of each family.
@pytest.mark.parametrize(("case", "transport"), [("created by a user", transport) for transport in TRANSPORTS] + [
    (case, transport) for case in ("writable by Users", "writable by Everyone") for transport in ("psrp", "ssh-cmd")])
def test_a_job_root_another_principal_controls_is_refused_by_every_module(
        case: str, transport: str, make_windows_host: Callable[..., ContractHost]) -> None:
    folders, message = UNSAFE_ROOTS[case]
    host = make_windows_host(transport, **scenario(folders=folders))
    before = host.state["images"]
    run = host.run(ALL_JOB_TASKS)
    for task in run.tasks:
        assert task.failed and message in task.msg, (task.name, task.msg)
        assert job_execs(task.exchanges) == ["job_start"], task.name
    # Nothing ran, nothing was created in or under the refused folder (a missing parent is made
    # private before the root below it is checked).
    events = [event for e in run.exchanges for event in e.job_events]
    assert [event for event in events if event != {"event": "created", "path": PARENT}] == []
    assert all(not e.job_argvs for e in run.exchanges)
    assert host.state["images"] == before
    assert host.state.get("files", host.scenario["lifecycle"]["files"]) == host.scenario["lifecycle"]["files"]


# --- job directories --------------------------------------------------------------------------

@pytest.mark.parametrize(("transport", "entry", "problem"), [
    ("psrp", {"reparse": True}, "it is a reparse point (a link or junction)"),
    ("ssh-cmd", {"owner": OTHER_USER}, "it is owned by %s" % OTHER_USER),
    ("winrm", {"rules": [rule(fake_jobs.DEFAULT_USER), rule(USERS, "Write")]}, "%s may write to it" % USERS),
])
def test_a_job_directory_another_principal_controls_is_refused(
        transport: str, entry: dict, problem: str, make_windows_host: Callable[..., ContractHost]) -> None:
    host = make_windows_host(transport, **scenario())
    first = host.run([{"name": "pull", PULL: {"name": [LTSC2019]}}]).task
    assert first.changed and not first.result["job"]["reattached"], first.msg
    job = job_id(first)
    forget_image(host, LTSC2019)
    fake_jobs.preset_jobs(host.directory, {job: dict(entry, request={"age": 5}, runner={"pid": 4242, "age": 5})})
    again = host.run([{"name": "pull", PULL: {"name": [LTSC2019]}, "ignore_errors": True}]).task
    assert again.failed and "%s\\%s: %s; refusing to use it" % (ROOT, job, problem) in again.msg, again.msg
    assert job_execs(again.exchanges) == ["job_start"] and again.job_argvs == []
    assert host.image(LTSC2019) is None


# --- stale jobs are never reused --------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_finished_job_of_an_earlier_run_is_not_reported_but_run_again(
        transport: str, make_windows_host: Callable[..., ContractHost]) -> None:
    host = make_windows_host(transport, **scenario())
    first = host.run([{"name": "pull", PULL: {"name": [LTSC2019]}}]).task
    assert first.changed and first.job_argvs == [["image", "pull", "--", LTSC2019]], first.msg
    job = job_id(first)
    # Hours later the image is gone, and the job directory of a run ten minutes ago is there
    # with its results (rc 0): that run's cleanup never happened.
    forget_image(host, LTSC2019)
    fake_jobs.preset_jobs(host.directory, {job: {
        "age": 700, "request": {"age": 700, "calls": [{"path": "C:\\Program Files\\Docker\\docker.exe",
                                                       "cmdline": "image pull " + LTSC2019, "env": None}]},
        "runner": {"pid": 4242, "age": 699}, "results": {"age": 600, "results": [{"rc": 0, "attempts": 1}]},
        "outputs": [{"stdout": "ltsc2019: Pulling from windows/servercore\nStatus: Image is up to date for %s\n"
                               % LTSC2019, "stderr": ""}]}})
    run = host.run([{"name": "pull", PULL: {"name": [LTSC2019]}}])
    again = run.task
    assert again.status == "ok" and again.changed, again.msg
    start = next(e for e in again.exchanges if e.script_name == "job_start")
    assert json.loads(start.answer["output"][-1]) == {"state": "started", "discarded": "finished", "breakaway_refused": None, "error": None}
    assert again.job_argvs == [["image", "pull", "--", LTSC2019]]  # pulled again, in this run
    assert job_id(again) == job and again.result["job"]["reattached"] is False
    assert host.image(LTSC2019)["Id"] == LTSC2019_IMAGE["Id"]
    assert job not in host.state["job_host"]["entries"]


@pytest.mark.parametrize("transport", ["winrm", "psrp"])
def test_a_failing_wmi_call_leaves_no_half_made_job(transport: str, make_windows_host: Callable[..., ContractHost]) -> None:
    """When Invoke-CimMethod itself throws, the job directory it was for is removed at once: the
    next run does not find a job that will never start and wait its whole start grace."""
    host = make_windows_host(transport, **scenario(wmi="fails"))
    task = host.run([{"name": "pull", PULL: {"name": [LTSC2019]}, "ignore_errors": True}]).task
    assert task.failed and "Access denied" in task.msg, task.msg
    # The first job on the host: the runner is staged, then the start fails.
    assert job_execs(task.exchanges) == ["job_start", "stage_script", "job_start"]
    assert host.state["job_host"]["entries"] == {}


# --- the runner: staged once, started outside WMI's job object ---------------------------------

@pytest.mark.parametrize("transport", ["winrm", "ssh-cmd"])
def test_the_runner_is_staged_once_per_host_and_breaks_away(
        transport: str, make_windows_host: Callable[..., ContractHost]) -> None:
    host = make_windows_host(transport, **scenario())
    run = host.run([{"name": "pull", PULL: {"name": [LTSC2019]}},
                    {"name": "export", EXPORT: {"names": [LTSC2019], "path": "C:\\images\\ltsc2019.tar"}}])
    pull, export = run.tasks
    assert pull.changed and export.changed, (pull.msg, export.msg)
    assert job_execs(pull.exchanges)[:3] == ["job_start", "stage_script", "job_start"]
    assert "stage_script" not in job_execs(export.exchanges)
    events = [event for e in run.exchanges for event in e.job_events if event["event"] == "runner_started"]
    assert [event["breakaway"] for event in events] == [True, True]
    assert "warnings" not in pull.result and "warnings" not in export.result


@pytest.mark.parametrize("transport", ["psrp", "ssh-powershell"])
def test_a_refused_breakaway_still_runs_the_job_and_warns(
        transport: str, make_windows_host: Callable[..., ContractHost]) -> None:
    host = make_windows_host(transport, **scenario(breakaway="refused"))
    task = host.run([{"name": "pull", PULL: {"name": [LTSC2019]}}]).task
    assert task.status == "ok" and task.changed, task.msg
    assert task.job_argvs == [["image", "pull", "--", LTSC2019]]
    [warning] = task.result["warnings"]
    assert "inside the job object of the WMI provider host" in warning, warning
    assert "refused CREATE_BREAKAWAY_FROM_JOB (return value 2)" in warning, warning
    events = [event for e in task.exchanges for event in e.job_events if event["event"] == "runner_started"]
    assert [event["breakaway"] for event in events] == [False]


# --- two runs at once -------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["winrm", "ssh-powershell"])
def test_two_runs_of_one_pull_share_one_runner(transport: str, make_windows_host: Callable[..., ContractHost]) -> None:
    host = make_windows_host(transport, **scenario(hold=True))

    def both_started(exchanges) -> bool:
        return sum(1 for e in exchanges if e.script_name == "job_start"
                   and json.loads(e.answer["output"][-1]).get("state") in ("started", "attached")) >= 2

    runs = host.run_together([[{"name": "pull", PULL: {"name": [LTSC2019]}}]] * 2,
                             when=both_started, then=lambda: fake_jobs.release_jobs(host.directory))
    for run in runs:
        assert run.task.status == "ok" and run.task.changed, run.output
    assert sorted(run.task.result["job"]["reattached"] for run in runs) == [False, True]
    answers = [json.loads(e.answer["output"][-1]) for e in host.exchanges if e.script_name == "job_start"]
    states = [a["state"] for a in answers]
    assert sorted(state for state in states if state != "runner_missing") == ["attached", "started"]
    # The host had no runner: the first run staged it, and so did the second when it asked before
    # the first had staged it (both write the same file); each run stages at most once.
    stages = [e for e in host.exchanges if e.script_name == "stage_script"]
    assert 1 <= states.count("runner_missing") == len(stages) <= 2, states
    events = [event for e in host.exchanges for event in e.job_events]
    assert [e["event"] for e in events if e["event"] == "runner_started"] == ["runner_started"]
    assert [argv for e in host.exchanges for argv in e.job_argvs] == [["image", "pull", "--", LTSC2019]]
    cleanups = [json.loads(e.answer["output"][-1]) for e in host.exchanges if e.script_name == "job_cleanup"]
    assert cleanups == [{"removed": False, "error": None}, {"removed": True, "error": None}]
    assert host.state["job_host"]["entries"] == {}
    assert host.image(LTSC2019)["Id"] == LTSC2019_IMAGE["Id"]


# --- a controller killed mid-job --------------------------------------------------------------

def started_answers(exchanges) -> list[str]:
    return [json.loads(e.answer["output"][-1]).get("state") for e in exchanges if e.script_name == "job_start"]


@pytest.mark.parametrize("transport", ["winrm", "ssh-cmd"])
def test_a_controller_killed_mid_job_reruns_into_the_same_job_and_reports_what_the_host_has(
        transport: str, make_windows_host: Callable[..., ContractHost]) -> None:
    host = make_windows_host(transport, **scenario(hold=True))
    pull = [{"name": "pull", PULL: {"name": [LTSC2019]}}]
    # The controller dies while the host's first job runs (the runner staged, the pull held).
    killed = host.run_killed(pull, when=lambda exchanges: "started" in started_answers(exchanges))
    names = [e.script_name for e in killed]
    staged = names.index("stage_script")
    assert names[staged - 1:staged + 2] == ["job_start", "stage_script", "job_start"], names
    job = killed[staged + 1].request["job"]
    assert host.state["job_host"]["entries"][job]["kind"] == "dir"
    assert host.image(LTSC2019) is None  # still pulling

    # The rerun finds the job still running, attaches instead of starting a second runner, and
    # is released only then.
    [rerun] = host.run_together([pull], when=lambda exchanges: "attached" in started_answers(exchanges),
                                then=lambda: fake_jobs.release_jobs(host.directory))
    task = rerun.task
    assert task.status == "ok" and task.changed and task.result["job"]["reattached"] is True, rerun.output
    assert "stage_script" not in [e.script_name for e in rerun.exchanges]
    events = [event for e in host.exchanges for event in e.job_events]
    assert [e["job"] for e in events if e["event"] == "runner_started"] == [job]
    assert [argv for e in host.exchanges for argv in e.job_argvs] == [["image", "pull", "--", LTSC2019]]
    # What the result says is what the host has: the image, by the ID the result reports.
    assert task.result["image"]["Id"] == host.image(LTSC2019)["Id"] == LTSC2019_IMAGE["Id"]
    assert task.result["actions"] == ["Pulled image %s" % LTSC2019], task.result
    # The killed run's claim is under a minute old, so cleanup keeps the finished job for it; no
    # process of the job runs any more.
    entry = host.state["job_host"]["entries"][job]
    assert "results.json" in entry["files"] and not [
        p for p in host.state["job_host"]["processes"].values() if p.get("job") == job]
    # Two minutes later the next job on the host sweeps it as an orphan.
    path = host.directory / "state.json"
    state = json.loads(path.read_text())
    for item in [state["job_host"]["entries"][job]] + list(state["job_host"]["entries"][job]["files"].values()):
        item["mtime"] -= 120
    path.write_text(json.dumps(state))
    fake_jobs.release_jobs(host.directory)
    later = host.run([{"name": "pull", PULL: {"name": [LTSC2025]}}]).task
    assert later.status == "ok" and later.changed, later.msg
    assert job not in host.state["job_host"]["entries"]
    assert {"event": "swept", "entry": job} in [event for e in later.exchanges for event in e.job_events]


# --- what the modules leave behind ------------------------------------------------------------

@pytest.mark.parametrize("transport", ["psrp", "ssh-powershell"])
def test_every_module_leaves_a_private_root_and_no_job_behind(
        transport: str, make_windows_host: Callable[..., ContractHost]) -> None:
    host = make_windows_host(transport, **scenario())
    run = host.run([dict(task, ignore_errors=False) for task in ALL_JOB_TASKS])
    for task in run.tasks:
        assert task.status == "ok" and task.changed, (task.name, task.msg)
        assert job_execs(task.exchanges)[0] == "job_start" and job_execs(task.exchanges)[-1] == "job_cleanup"
        assert task.result["job"]["reattached"] is False
    model = host.state["job_host"]
    for path in (PARENT, ROOT):
        assert model["folders"][path]["owner"] == fake_jobs.DEFAULT_USER
        assert [r["sid"] for r in model["folders"][path]["rules"]] == ["S-1-5-18", ADMINISTRATORS, fake_jobs.DEFAULT_USER]
    assert model["entries"] == {}  # jobs removed, the export's lock released
    assert ARCHIVE in host.state["files"] and not any(".partial-" in name for name in host.state["files"])
    assert host.image(LTSC2019)["Id"] == LTSC2019_IMAGE["Id"] and host.image(LTSC2025) is not None
    assert host.image(NEXT)["Id"] == NEXT_IMAGE["Id"]
