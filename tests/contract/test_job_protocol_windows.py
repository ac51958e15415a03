# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Windows job scripts' wire contract (job protocol v2), exec by exec, on the fake host.

Each test sends the requests ``jobs.py`` sends (job_start, job_status, job_cleanup, as
``/docs/architecture.md`` "Detached jobs: the lifecycle in one place" lays them out) through the
fake host's exchange, with the host's job root, job directories and processes preset, and
checks the answers and what happened on the host. The modules that use jobs are driven through
ansible-playbook in ``test_jobs_windows.py``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

import fake_jobs
from fake_jobs import ADMINISTRATORS, EVERYONE, OTHER_USER, PARENT, ROOT, USERS, rule
from fake_windows_host import FakeWindowsHost, known_scripts, prepare_host_directory

JOB = "0123456789abcdef0123456789abcdef"
OTHER_JOB = "fedcba9876543210fedcba9876543210"
TOKEN = "a" * 32
OTHER_TOKEN = "b" * 32
PULL = "image pull mcr.microsoft.com/windows/servercore:ltsc2019"
SCENARIO = {"images": ["servercore_ltsc2022.json"], "lifecycle": {"directories": ["C:\\images"]},
            "base_images": {"pulls": {"mcr.microsoft.com/windows/servercore:ltsc2019": "servercore_ltsc2019.json"}}}


class Host:
    """A fake host directory and the execs of jobs.py against it."""

    def __init__(self, directory: Path, collections_root: Path, **jobs: Any) -> None:
        del collections_root  # the fixture makes the collection importable
        self.directory = directory
        scenario = dict(SCENARIO)
        if jobs:
            scenario["jobs"] = jobs
        prepare_host_directory(directory, scenario)
        self.fake = FakeWindowsHost(directory)
        self.records: list[dict[str, Any]] = []

    def execute(self, operation: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        scripts = known_scripts()
        lines = [fake_jobs.fwh.bootstrap_payload(scripts[operation]), json.dumps(payload)]
        answer = self.fake.exchange("psrp", script=scripts["BOOTSTRAP"], input_lines=lines)
        record = json.loads(self.fake.exchanges_path.read_text().splitlines()[-1])
        assert "harness_error" not in record, record["harness_error"]
        self.records.append(record)
        return json.loads(answer.output[-1])

    def start(self, job: str = JOB, token: str = TOKEN, stage: bool = True, **extra: Any) -> dict[str, Any]:
        """job_start; ``stage``: as HostJob does, stage the runner when the answer is that it is missing."""
        payload = {"job": job, "token": token, "parallel": 1, "retries": 0,
                   "calls": [{"exe": "docker", "cmdline": PULL}],
                   "locks": [], "rename": None, "start_grace": 60, "claim_age": 60,
                   "runner": fake_jobs.fwh._powershell_scripts().DIGESTS["job_runner"]}
        payload.update(extra)
        answer = self.execute("job_start", payload)
        if stage and answer.get("state") == "runner_missing":
            assert self.stage_runner() == {"staged": True, "missing": False, "error": None}
            answer = self.execute("job_start", payload)
        return answer

    def stage_runner(self, **extra: Any) -> dict[str, Any]:
        scripts = fake_jobs.fwh._powershell_scripts()
        payload = {"name": "job_runner", "sha256": scripts.DIGESTS["job_runner"], "payload": scripts.PAYLOADS["job_runner"]}
        payload.update(extra)
        return self.execute("stage_script", payload)

    def status(self, job: str = JOB, token: str = TOKEN, wait: float = 0) -> dict[str, Any]:
        return self.execute("job_status", {"job": job, "token": token, "wait": wait})

    def cleanup(self, job: str = JOB, token: str = TOKEN, kill: bool = False, claim_age: float = 60) -> dict[str, Any]:
        return self.execute("job_cleanup", {"job": job, "token": token, "kill": kill, "claim_age": claim_age})

    @property
    def model(self) -> dict[str, Any]:
        return json.loads((self.directory / "state.json").read_text()).get("job_host") or {"entries": {}}

    def events(self, name: str) -> list[dict[str, Any]]:
        return [e for r in self.records for e in r.get("job_events") or [] if e["event"] == name]

    def argvs(self) -> list[list[str]]:
        return [p["argv"] for r in self.records for p in r["processes"]]

    def preset(self, **entries: Mapping[str, Any]) -> None:
        fake_jobs.preset_jobs(self.directory, entries)


@pytest.fixture
def new_host(tmp_path: Path, collections_root: Path) -> Callable[..., Host]:
    count = iter(range(100))

    def make(**jobs: Any) -> Host:
        return Host(tmp_path / ("host%d" % next(count)), collections_root, **jobs)

    return make


def finished_job(age: float, rc: int = 0) -> dict[str, Any]:
    """A job directory of an earlier run: finished ``age`` seconds ago, its runner gone."""
    return {"age": age + 30, "request": {"age": age + 30}, "runner": {"pid": 4242, "age": age + 29},
            "results": {"age": age, "results": [{"rc": rc, "attempts": 1}]},
            "outputs": [{"stdout": "Status: Image is up to date\n", "stderr": ""}]}


# --- the root ---------------------------------------------------------------------------------

def test_the_root_is_created_private_and_a_job_runs_once(new_host) -> None:
    host = new_host()
    assert host.start() == {"state": "started", "discarded": None, "breakaway_refused": None, "error": None}
    model = host.model
    for path in (PARENT, ROOT):
        folder = model["folders"][path]
        assert folder["owner"] == fake_jobs.DEFAULT_USER and not folder["reparse"]
        assert [r["sid"] for r in folder["rules"]] == ["S-1-5-18", ADMINISTRATORS, fake_jobs.DEFAULT_USER]
    job = model["entries"][JOB]
    assert job["owner"] == fake_jobs.DEFAULT_USER
    assert sorted(job["files"]) == ["claim-" + TOKEN, "pids", "request.json", "runner.pid", "runner.ps1"]
    assert job["files"]["request.json"]["content"]["calls"] == [
        {"path": "C:\\Program Files\\Docker\\docker.exe", "cmdline": PULL, "env": None}]
    status = host.status()
    assert status["exists"] and status["claimed"] and status["started"] and not status["alive"]
    assert status["finished"]["results"] == [{"rc": 0, "attempts": 1}] and status["finished"]["renamed"] is False
    assert "Downloaded newer image" in status["outputs"][0]["stdout"]
    assert host.argvs() == [["image", "pull", "mcr.microsoft.com/windows/servercore:ltsc2019"]]
    assert host.cleanup() == {"removed": True, "error": None}
    assert JOB not in host.model["entries"]
    assert host.cleanup() == {"removed": False, "error": None}
    assert host.status() == {"exists": False, "claimed": False, "error": None}


@pytest.mark.parametrize(("folders", "path", "problem"), [
    # Created by an ordinary user: owned by them, and Users may write (inherited from ProgramData).
    ({"parent": {"owner": OTHER_USER, "rules": fake_jobs.inherited_programdata_rules()}}, PARENT,
     "it is owned by %s" % OTHER_USER),
    ({"root": {"owner": ADMINISTRATORS, "rules": [rule(ADMINISTRATORS), rule(USERS, "Write", inherited=True)]}}, ROOT,
     "%s may write to it" % USERS),
    ({"root": {"owner": ADMINISTRATORS, "rules": [rule(ADMINISTRATORS), rule(EVERYONE, "Modify")]}}, ROOT,
     "%s may write to it" % EVERYONE),
    ({"root": {"owner": ADMINISTRATORS, "rules": [rule(ADMINISTRATORS), rule(EVERYONE, "GenericWrite")]}}, ROOT,
     "%s may write to it" % EVERYONE),
    ({"parent": {"reparse": True}}, PARENT, "it is a reparse point (a link or junction)"),
    # Created by another user with an ACL that does not let Administrators read it.
    ({"root": {"owner": OTHER_USER, "unreadable": True}}, ROOT, "its owner and access rules cannot be read"),
])
def test_a_root_another_principal_controls_is_refused_and_nothing_starts(new_host, folders, path, problem) -> None:
    host = new_host(folders=folders)
    message = "%s: %s; refusing to use it" % (path, problem)
    assert host.start() == {"error": {"kind": "unsafe", "message": message}}
    assert host.status() == {"error": {"kind": "unsafe", "message": message}}
    assert host.cleanup(kill=True) == {"error": {"kind": "unsafe", "message": message}}
    assert host.events("runner_started") == [] and host.argvs() == []
    assert host.model["entries"] == {}


def test_read_only_rules_for_others_are_fine(new_host) -> None:
    host = new_host(folders={"root": {"owner": ADMINISTRATORS, "rules": [
        rule(ADMINISTRATORS), rule(USERS, "ReadAndExecute"), rule(EVERYONE, "Write", kind="Deny")]}})
    assert host.start()["state"] == "started"


# --- the runner, staged once ------------------------------------------------------------------

def test_a_host_without_the_runner_says_so_before_touching_anything(new_host) -> None:
    host = new_host()
    assert host.start(stage=False) == {"state": "runner_missing", "error": None}
    assert host.model["entries"] == {} and host.events("runner_started") == []
    assert host.stage_runner() == {"staged": True, "missing": False, "error": None}
    assert host.start(stage=False)["state"] == "started"
    # The runner is staged once per host: the next job finds it, a second staging sends nothing new.
    assert host.start(job=OTHER_JOB, stage=False)["state"] == "started"
    assert host.stage_runner() == {"staged": False, "missing": False, "error": None}
    assert [e["staged"] for e in host.events("staged")] == [True, False]


def test_a_runner_that_does_not_match_its_sha256_is_not_staged(new_host) -> None:
    host = new_host()
    scripts = fake_jobs.fwh._powershell_scripts()
    other = scripts.PAYLOADS["job_status"]  # a constant script, but not the one the sha256 names
    answer = host.stage_runner(payload=other)
    assert answer == {"error": {"kind": "exception", "message": "job_runner-%s: what was sent does not match its sha256"
                                % scripts.DIGESTS["job_runner"][:32]}}
    assert host.start(stage=False) == {"state": "runner_missing", "error": None}


@pytest.mark.parametrize("runner", [None, "", "A" * 64, "0" * 63, "..\\" + "0" * 60])
def test_a_runner_sha256_that_is_not_one_is_refused(new_host, runner) -> None:
    host = new_host()
    assert host.start(runner=runner) == {"error": {"kind": "exception", "message": "invalid runner sha256"}}
    assert host.model["entries"] == {}


def test_the_runner_breaks_away_from_wmis_job_object(new_host) -> None:
    host = new_host()
    assert host.start() == {"state": "started", "discarded": None, "breakaway_refused": None, "error": None}
    assert [e["breakaway"] for e in host.events("runner_started")] == [True]


def test_a_refused_breakaway_starts_the_runner_without_it_and_says_so(new_host) -> None:
    host = new_host(breakaway="refused")
    answer = host.start()
    assert answer == {"state": "started", "discarded": None, "breakaway_refused": "return value 2", "error": None}
    assert [e["breakaway"] for e in host.events("runner_started")] == [False]
    assert host.status()["finished"]["results"] == [{"rc": 0, "attempts": 1}]


# --- job directories --------------------------------------------------------------------------

@pytest.mark.parametrize(("entry", "problem"), [
    ({"reparse": True}, "it is a reparse point (a link or junction)"),
    ({"owner": OTHER_USER}, "it is owned by %s" % OTHER_USER),
    ({"owner": ADMINISTRATORS}, "it is owned by %s" % ADMINISTRATORS),
    ({"rules": [rule(fake_jobs.DEFAULT_USER), rule(OTHER_USER, ["Delete"])]}, "%s may write to it" % OTHER_USER),
])
def test_a_job_directory_another_principal_controls_is_refused(new_host, entry, problem) -> None:
    host = new_host(entries={JOB: dict(finished_job(10), **entry)})
    message = "%s\\%s: %s; refusing to use it" % (ROOT, JOB, problem)
    assert host.start() == {"error": {"kind": "unsafe", "message": message}}
    assert host.status() == {"error": {"kind": "unsafe", "message": message}}
    assert host.cleanup() == {"error": {"kind": "unsafe", "message": message}}
    assert host.argvs() == [] and host.events("runner_started") == [] and host.events("discarded") == []
    assert JOB in host.model["entries"]


def test_the_sweep_leaves_another_users_job_alone(new_host) -> None:
    host = new_host(entries={OTHER_JOB: dict(finished_job(7200), owner=OTHER_USER)})
    assert host.start()["state"] == "started"
    assert OTHER_JOB in host.model["entries"]


# --- stale jobs are never reused --------------------------------------------------------------

def test_a_finished_job_of_another_run_is_discarded_and_run_again(new_host) -> None:
    # The stale-job reproduction: results of a run 10 minutes ago (rc 0) are in the directory.
    host = new_host(entries={JOB: finished_job(600)})
    assert host.start() == {"state": "started", "discarded": "finished", "breakaway_refused": None, "error": None}
    status = host.status()
    assert status["finished"]["finished"] > time.time() - 60  # this run's results, not the old ones
    assert "Downloaded newer image" in status["outputs"][0]["stdout"]
    assert host.argvs() == [["image", "pull", "mcr.microsoft.com/windows/servercore:ltsc2019"]]
    assert [e["job"] for e in host.events("discarded")] == [JOB]


@pytest.mark.parametrize(("entry", "reason"), [
    ({"runner": {"pid": 4242}, "results": None}, "dead"),
    ({"runner": None, "results": None, "request": {"age": 120}}, "never_started"),
    ({"request": None, "results": None, "age": 120}, "incomplete"),
    ({"request": None, "results": None, "request_tmp": {"age": 120}, "age": 120}, "incomplete"),
])
def test_a_dead_or_unstarted_job_is_discarded(new_host, entry, reason) -> None:
    host = new_host(entries={JOB: dict(finished_job(30), **entry)})
    assert host.start() == {"state": "started", "discarded": reason, "breakaway_refused": None, "error": None}


def test_a_reused_pid_is_neither_alive_nor_killed(new_host) -> None:
    # PID 4242 runs, but it started later than the runner that wrote runner.pid.
    host = new_host(processes={"4242": {"ticks": fake_jobs.dotnet_ticks(time.time() - 5)}},
                    entries={JOB: dict(finished_job(30), runner={"pid": 4242}, results=None)})
    assert host.start() == {"state": "started", "discarded": "dead", "breakaway_refused": None, "error": None}
    assert host.events("killed") == [] and "4242" in host.model["processes"]


def test_an_empty_job_directory_is_taken_over(new_host) -> None:
    # What CreateDirectory left when a start failed before its exclusive create.
    host = new_host(entries={JOB: {"request": None}})
    assert host.start() == {"state": "started", "discarded": None, "breakaway_refused": None, "error": None}


def test_a_start_in_progress_is_busy(new_host) -> None:
    host = new_host(entries={JOB: {"request": None, "request_tmp": {"age": 1}, "age": 1}})
    assert host.start() == {"state": "busy", "discarded": None, "error": None}
    assert host.argvs() == [] and JOB in host.model["entries"]


def test_a_retried_start_finds_its_own_claim(new_host) -> None:
    host = new_host(entries={JOB: dict(finished_job(5), claims={TOKEN: 5})})
    assert host.start() == {"state": "attached", "discarded": None, "error": None}
    assert host.status()["finished"]["results"] == [{"rc": 0, "attempts": 1}]


# --- two runs, one runner ---------------------------------------------------------------------

def test_two_starts_of_one_job_run_one_runner(new_host) -> None:
    host = new_host(hold=True)
    assert host.start(token=TOKEN) == {"state": "started", "discarded": None, "breakaway_refused": None, "error": None}
    assert host.start(token=OTHER_TOKEN) == {"state": "attached", "discarded": None, "error": None}
    running = host.status(token=OTHER_TOKEN)
    assert running["claimed"] and running["started"] and running["alive"] and running["finished"] is None
    fake_jobs.release_jobs(host.directory)
    assert host.status(token=TOKEN)["finished"]["results"] == [{"rc": 0, "attempts": 1}]
    assert host.status(token=OTHER_TOKEN)["finished"]["results"] == [{"rc": 0, "attempts": 1}]
    assert len(host.events("runner_started")) == 1 and len(host.argvs()) == 1
    # The first run to clean up leaves the job to the other run, which polled it just now.
    assert host.cleanup(token=TOKEN) == {"removed": False, "error": None}
    assert host.cleanup(token=OTHER_TOKEN) == {"removed": True, "error": None}


def test_an_attached_run_whose_claim_is_gone_sees_it(new_host) -> None:
    host = new_host(hold=True)
    host.start(token=TOKEN)
    host.start(token=OTHER_TOKEN)
    host.cleanup(token=OTHER_TOKEN, kill=True)  # the other run timed out and stopped the job
    assert host.status(token=TOKEN) == {"exists": False, "claimed": False, "error": None}
    assert [e["pid"] for e in host.events("killed")] == [host.events("runner_started")[0]["pid"], 7404]
    assert host.argvs() == []  # the killed pull never ran to its end


def test_the_wait_answers_when_the_job_ends(new_host) -> None:
    host = new_host(duration=0.3)
    host.start()
    began = time.monotonic()
    status = host.status(wait=5)
    assert status["finished"] is not None and 0.2 < time.monotonic() - began < 3


def test_a_running_job_is_kept_until_it_ends_and_others_polled_lately(new_host) -> None:
    host = new_host(hold=True)
    host.start()
    assert host.cleanup() == {"removed": False, "error": None}  # still running
    fake_jobs.release_jobs(host.directory)
    host.start(token=OTHER_TOKEN)  # finished and not ours: discarded, started again
    assert len(host.events("runner_started")) == 2
    assert host.cleanup(token=OTHER_TOKEN) == {"removed": True, "error": None}


# --- orphans and locks ------------------------------------------------------------------------

def test_the_sweep_removes_orphans_trash_and_dead_locks_but_never_a_running_job(new_host) -> None:
    lock_a, lock_b = "1" * 64 + ".lock", "2" * 64 + ".lock"
    running = dict(finished_job(7200), runner={"pid": 5000, "alive": True, "age": 7200}, results=None)
    polled = dict(finished_job(7200), claims={OTHER_TOKEN: 10})  # another run polled it 10 s ago
    host = new_host(entries={
        OTHER_JOB: finished_job(7200), "3" * 32: running, ".trash-x-1": {"trash": True},
        lock_a: {"lock": "9" * 32}, lock_b: {"lock": "3" * 32}, "4" * 32: finished_job(30), "5" * 32: polled})
    assert host.start()["state"] == "started"
    entries = host.model["entries"]
    assert OTHER_JOB not in entries and ".trash-x-1" not in entries and lock_a not in entries
    assert "3" * 32 in entries and lock_b in entries and "4" * 32 in entries and "5" * 32 in entries
    assert host.events("killed") == []


def test_a_lock_held_by_a_running_job_is_refused(new_host) -> None:
    key = "5" * 64
    running = dict(finished_job(10), runner={"pid": 5000, "alive": True}, results=None, request={"locks": [key]})
    host = new_host(entries={OTHER_JOB: running, key + ".lock": {"lock": OTHER_JOB}})
    assert host.start(locks=[key]) == {"state": "locked", "lock": key, "holder": OTHER_JOB, "error": None}
    assert JOB not in host.model["entries"] and host.argvs() == []


def test_a_lock_held_by_a_finished_job_is_taken_over(new_host) -> None:
    key = "5" * 64
    host = new_host(entries={OTHER_JOB: finished_job(10), key + ".lock": {"lock": OTHER_JOB}})
    assert host.start(locks=[key])["state"] == "started"
    assert host.model["entries"][key + ".lock"]["content"] == JOB
    host.status()
    assert host.cleanup() == {"removed": True, "error": None}
    assert key + ".lock" not in host.model["entries"]


# --- the rename -------------------------------------------------------------------------------

SAVE = "image save --output C:\\images\\a.tar.partial-0123456789abcdef mcr.microsoft.com/windows/servercore:ltsc2022"


@pytest.mark.parametrize("exists", [False, True])
def test_the_runner_renames_the_partial_archive(new_host, exists) -> None:
    host = new_host()
    if exists:
        state = json.loads((host.directory / "state.json").read_text())
        state.update(containers=[], directories=["C:\\images"], files={"C:\\images\\a.tar": {"images": []}})
        (host.directory / "state.json").write_text(json.dumps(state))
    rename = {"from": "C:\\images\\a.tar.partial-0123456789abcdef", "to": "C:\\images\\a.tar"}
    host.start(calls=[{"exe": "docker", "cmdline": SAVE}], rename=rename)
    finished = host.status()["finished"]
    assert finished["results"] == [{"rc": 0, "attempts": 1}] and finished["renamed"] is True
    files = json.loads((host.directory / "state.json").read_text())["files"]
    assert list(files) == ["C:\\images\\a.tar"] and files["C:\\images\\a.tar"]["images"]


RENAME = {"from": "C:\\images\\a.tar.partial-0123456789abcdef", "to": "C:\\images\\a.tar"}
FAILING_SAVE = ("image save --output C:\\images\\a.tar.partial-0123456789abcdef "
                "mcr.microsoft.com/windows/nanoserver:missing")


def put_partial_archive(host: Host) -> None:
    """What docker save wrote so far, while the job runs."""
    state = json.loads((host.directory / "state.json").read_text())
    state.setdefault("containers", [])
    state.setdefault("directories", ["C:\\images"])
    state.setdefault("files", {})[RENAME["from"]] = {"images": []}
    (host.directory / "state.json").write_text(json.dumps(state))


def host_files(host: Host) -> dict[str, Any]:
    return json.loads((host.directory / "state.json").read_text())["files"]


def test_a_failed_call_removes_the_partial_archive(new_host) -> None:
    host = new_host(hold=True)
    host.start(calls=[{"exe": "docker", "cmdline": FAILING_SAVE}], rename=RENAME)
    put_partial_archive(host)
    fake_jobs.release_jobs(host.directory)
    finished = host.status()["finished"]
    assert finished["results"] == [{"rc": 1, "attempts": 1}] and finished["renamed"] is False
    assert host_files(host) == {}


def test_a_discarded_job_loses_its_partial_archive(new_host) -> None:
    host = new_host(hold=True)
    host.start(calls=[{"exe": "docker", "cmdline": SAVE}], rename=RENAME)
    put_partial_archive(host)
    assert host.cleanup(kill=True) == {"removed": True, "error": None}
    assert host_files(host) == {} and host.argvs() == []
