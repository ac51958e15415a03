# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Detached jobs on a POSIX host, for real: ``HostJob`` drives the constant job scripts through
``/bin/sh`` as a Linux host runs them, with a fake ``docker`` that logs every run, and a home
directory of the test's own. What is checked is the lifecycle of docs/architecture.md ("Detached
jobs: the lifecycle in one place"): who may touch the job directory, when a run attaches, when a
job is stale, one runner per job, locks, the runner's rename, orphans, timeouts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from ansible.plugins.loader import shell_loader

from ansible_collections.wincontainers.images.plugins.plugin_utils import jobs
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, Host, HostError
from ansible_collections.wincontainers.images.plugins.plugin_utils.jobs import HostJob, JobLocked, JobTimeout

FAKE_DOCKER = textwrap.dedent(
    """\
    #!{python}
    # A stand-in for docker: logs "<argv>" to $WCT_LOG, sleeps $WCT_SLEEP, waits while the file
    # $WCT_HOLD exists (60 s at most), writes "archive" to the file after --output, prints
    # "done <argv>", exits with $WCT_RC.
    import os, sys, time

    with open(os.environ["WCT_LOG"], "a") as log:
        log.write(" ".join(sys.argv[1:]) + "\\n")
    time.sleep(float(os.environ.get("WCT_SLEEP") or 0))
    deadline = time.monotonic() + 60
    while os.path.exists(os.environ.get("WCT_HOLD") or "/nonexistent") and time.monotonic() < deadline:
        time.sleep(0.05)
    if "--output" in sys.argv:
        with open(sys.argv[sys.argv.index("--output") + 1], "w") as out:
            out.write("archive")
    print("done " + " ".join(sys.argv[1:]))
    sys.exit(int(os.environ.get("WCT_RC") or 0))
    """
)
OTHER_UID = 65534  # nobody
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root (CI runs as root)")


class LocalAction:
    """The part of an action plugin that Host uses: each exec runs through /bin/sh here."""

    def __init__(self, environment: dict[str, str]) -> None:
        self._play_context = SimpleNamespace(remote_addr="linux1")
        self._connection = SimpleNamespace(_shell=shell_loader.get("sh"), reset=lambda: None)
        self.environment = environment
        self.operations: list[str] = []

    def _low_level_execute_command(self, cmd, in_data=None):
        process = subprocess.run(["/bin/sh", "-c", cmd], input=in_data, capture_output=True, env=self.environment,
                                 timeout=120, check=False)
        return {"rc": process.returncode, "stdout": process.stdout.decode(), "stderr": process.stderr.decode()}


class Machine:
    """A home, a fake docker and its log: one Linux host of the test."""

    def __init__(self, tmp_path: Path) -> None:
        self.home = tmp_path / "home"
        self.home.mkdir(mode=0o700)
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        docker = self.bin / "docker"
        docker.write_text(FAKE_DOCKER.format(python=sys.executable), encoding="utf-8")
        docker.chmod(0o755)
        self.log = tmp_path / "docker.log"
        self.hold = tmp_path / "hold"  # while it exists, held calls wait
        self.environment = {"PATH": "%s:/usr/bin:/bin" % self.bin, "HOME": str(self.home), "LANG": "C.UTF-8"}

    @property
    def root(self) -> Path:
        return self.home / ".ansible" / "wincontainers.images-jobs"

    def host(self) -> Host:
        return Host(LocalAction(self.environment), {"inventory_hostname": "linux1", "ansible_python_interpreter": sys.executable})

    def call(self, *arguments: str, sleep: float = 0, rc: int = 0, held: bool = False) -> Call:
        environment = {"WCT_LOG": str(self.log), "WCT_SLEEP": str(sleep), "WCT_RC": str(rc)}
        if held:
            environment["WCT_HOLD"] = str(self.hold)
        return Call(tuple(arguments), environment=environment)

    def runs(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def job_dirs(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if not p.name.endswith(".lock")) if self.root.exists() else []


@pytest.fixture
def machine(tmp_path):
    machine = Machine(tmp_path)
    yield machine
    machine.hold.unlink(missing_ok=True)  # let held calls end


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(jobs, "BUSY_WAIT", 0.1)


def start_abandoned(machine: Machine, job: HostJob) -> None:
    """What a controller killed right after job_start leaves: a job with another run's claim."""
    payload = {"job": job.job_id, "token": "f" * 32, "parallel": 1, "retries": 0, "calls": job.requests,
               "locks": sorted(job.locks), "rename": job.rename, "start_grace": 60, "claim_age": 60}
    assert job.host.execute("job_start", payload)["state"] == "started"


def wait_for(predicate, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


# --- the ordinary life of a job ----------------------------------------------------------------

def test_a_job_runs_once_its_root_is_private_and_it_is_removed_after_collecting(machine):
    [result] = HostJob(machine.host(), "pulling", [machine.call("image", "pull", "a")]).run(timeout=60, poll_interval=0.2)
    assert result.rc == 0 and result.stdout == "done image pull a\n"
    assert machine.runs() == ["image pull a"]
    assert oct(machine.root.stat().st_mode & 0o777) == "0o700"
    assert machine.job_dirs() == []


def test_a_finished_job_of_another_run_is_never_reused_it_runs_again(machine):
    """The stale-job false success: an abandoned job finished long ago; its rc 0 is not ours."""
    host = machine.host()
    abandoned = HostJob(host, "pulling", [machine.call("image", "pull", "a")])
    start_abandoned(machine, abandoned)
    wait_for((machine.root / abandoned.job_id / "results.json").exists)
    job = HostJob(host, "pulling", [machine.call("image", "pull", "a")])
    assert job.job_id == abandoned.job_id
    [result] = job.run(timeout=60, poll_interval=0.2)
    assert result.rc == 0
    assert machine.runs() == ["image pull a", "image pull a"]  # really pulled again
    assert job.discarded == "finished" and job.reattached is False
    assert machine.job_dirs() == []


def test_a_running_job_of_another_run_is_attached_and_runs_once(machine):
    host = machine.host()
    machine.hold.touch()
    abandoned = HostJob(host, "pulling", [machine.call("image", "pull", "a", held=True)])
    start_abandoned(machine, abandoned)
    wait_for(lambda: machine.runs() == ["image pull a"])
    job = HostJob(host, "pulling", [machine.call("image", "pull", "a", held=True)])
    threading.Timer(1.0, machine.hold.unlink).start()
    [result] = job.run(timeout=60, poll_interval=0.2)
    assert result.rc == 0 and job.reattached is True
    assert machine.runs() == ["image pull a"]


def test_two_runs_starting_the_same_job_at_once_share_one_runner(machine):
    results, errors = [], []
    barrier = threading.Barrier(2)

    def one_run():
        job = HostJob(machine.host(), "pulling", [machine.call("image", "pull", "a", sleep=1)])
        barrier.wait()
        try:
            results.append((job.run(timeout=60, poll_interval=0.2)[0].rc, job.reattached))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one_run), threading.Thread(target=one_run)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [(0, False), (0, True)]
    assert machine.runs() == ["image pull a"]
    assert machine.job_dirs() == []


def test_a_second_runner_in_the_same_directory_runs_nothing(machine):
    host = machine.host()
    job = HostJob(host, "pulling", [machine.call("image", "pull", "a")])
    start_abandoned(machine, job)
    directory = machine.root / job.job_id
    wait_for((directory / "results.json").exists)
    (directory / "results.json").unlink()
    subprocess.run([sys.executable, "runner.py"], cwd=directory, env=machine.environment, check=True)
    assert machine.runs() == ["image pull a"]
    assert not (directory / "results.json").exists()


def test_a_runner_pid_reused_by_another_process_is_not_taken_for_the_runner(machine):
    host = machine.host()
    job = HostJob(host, "pulling", [machine.call("image", "pull", "a")])
    start_abandoned(machine, job)
    directory = machine.root / job.job_id
    wait_for((directory / "results.json").exists)
    (directory / "results.json").unlink()
    # A live PID (this test's) with another start time: a reused PID, not the runner.
    (directory / "runner.pid").write_text("%d 1" % os.getpid())
    [result] = HostJob(host, "pulling", [machine.call("image", "pull", "a")]).run(timeout=60, poll_interval=0.2)
    assert result.rc == 0 and machine.runs() == ["image pull a", "image pull a"]


# --- timeouts, failures ------------------------------------------------------------------------------

def test_a_timeout_leaves_the_job_running_and_a_rerun_collects_it(machine):
    host = machine.host()
    calls = [machine.call("image", "pull", "a", sleep=2)]
    timed_out = HostJob(host, "pulling", calls)
    with pytest.raises(JobTimeout, match="still running on the host .*run the task again to re-attach"):
        timed_out.run(timeout=0.5, poll_interval=0.1)
    directory = machine.root / timed_out.job_id
    assert (directory / "request.json").exists() and list(directory.glob("claim-*")) == []  # claim dropped
    rerun = HostJob(host, "pulling", calls)
    [result] = rerun.run(timeout=60, poll_interval=0.2)
    assert result.rc == 0 and rerun.reattached is True
    assert machine.runs() == ["image pull a"]


def test_a_job_whose_runner_died_is_discarded_and_run_again(machine):
    host = machine.host()
    machine.hold.touch()
    calls = [machine.call("image", "pull", "a", held=True)]
    abandoned = HostJob(host, "pulling", calls)
    start_abandoned(machine, abandoned)
    directory = machine.root / abandoned.job_id
    wait_for(lambda: machine.runs() == ["image pull a"])
    pid = int((directory / "runner.pid").read_text().split()[0])
    os.killpg(pid, 9)  # the runner and its docker: a host that lost them (a reboot)
    wait_for(lambda: not Path("/proc/%d" % pid).exists() or Path("/proc/%d/stat" % pid).read_text().split(") ")[1][:1] == "Z")
    machine.hold.unlink()
    job = HostJob(host, "pulling", calls)
    [result] = job.run(timeout=60, poll_interval=0.2)
    assert result.rc == 0 and job.discarded == "dead" and job.reattached is False
    assert machine.runs() == ["image pull a", "image pull a"]


# --- locks and the runner's rename -----------------------------------------------------------------

def test_a_path_held_by_another_running_job_is_refused_with_its_name(machine, tmp_path):
    host = machine.host()
    archive = str(tmp_path / "images.tar")
    machine.hold.touch()
    holder = HostJob(host, "saving", [machine.call("image", "save", "--output", archive + ".partial-1", "a", held=True)],
                     locks=[archive], rename=(archive + ".partial-1", archive))
    start_abandoned(machine, holder)
    wait_for(lambda: len(machine.runs()) == 1)
    other = HostJob(host, "saving", [machine.call("image", "save", "--output", archive + ".partial-2", "b")],
                    locks=[archive], rename=(archive + ".partial-2", archive))
    with pytest.raises(JobLocked, match="another task is writing %s" % archive):
        other.run(timeout=60, poll_interval=0.2)
    assert machine.runs() == ["image save --output %s.partial-1 a" % archive]


def test_the_runner_renames_the_written_file_only_on_success(machine, tmp_path):
    host = machine.host()
    archive = tmp_path / "images.tar"
    partial = str(archive) + ".partial-1"
    HostJob(host, "saving", [machine.call("image", "save", "--output", partial, "a")], locks=[str(archive)],
            rename=(partial, str(archive))).run(timeout=60, poll_interval=0.2)
    assert archive.read_text() == "archive" and not Path(partial).exists()
    archive.write_text("before")
    [failed] = HostJob(host, "saving", [machine.call("image", "save", "--output", partial, "b", rc=1)], locks=[str(archive)],
                       rename=(partial, str(archive))).run(timeout=60, poll_interval=0.2)
    assert failed.rc == 1 and archive.read_text() == "before" and not Path(partial).exists()
    assert sorted(p.name for p in machine.root.iterdir()) == []  # locks released too


# --- orphans and cleanup ---------------------------------------------------------------------------

def test_orphans_are_swept_after_the_age_limit_and_running_jobs_never(machine, monkeypatch):
    host = machine.host()
    old = HostJob(host, "pulling", [machine.call("image", "pull", "old")])
    start_abandoned(machine, old)
    machine.hold.touch()
    running = HostJob(host, "pulling", [machine.call("image", "pull", "slow", held=True)])
    start_abandoned(machine, running)
    wait_for((machine.root / old.job_id / "results.json").exists)
    monkeypatch.setattr(jobs, "CLAIM_AGE", 0.0)
    HostJob(host, "pulling", [machine.call("image", "pull", "new")]).run(timeout=60, poll_interval=0.2)
    assert machine.job_dirs() == [running.job_id]


def test_cleanup_keeps_a_job_that_another_run_still_polls(machine):
    host = machine.host()
    calls = [machine.call("image", "pull", "a", sleep=1)]
    first, second = HostJob(host, "pulling", calls), HostJob(host, "pulling", calls)
    first._start(time.monotonic() + 60)
    second._start(time.monotonic() + 60)
    [result] = first.run(timeout=60, poll_interval=0.2)
    assert result.rc == 0 and machine.job_dirs() == [first.job_id]
    [result] = second.run(timeout=60, poll_interval=0.2)
    assert result.rc == 0 and machine.job_dirs() == []
    assert machine.runs() == ["image pull a"]


# --- who may touch the job directory ---------------------------------------------------------------

def refused(machine: Machine, pattern: str) -> None:
    job = HostJob(machine.host(), "pulling", [machine.call("image", "pull", "a")])
    with pytest.raises(HostError, match=pattern):
        job.run(timeout=60, poll_interval=0.2)
    assert machine.runs() == []


@needs_root
def test_a_root_owned_by_another_user_is_refused(machine):
    machine.root.parent.mkdir(mode=0o700)
    machine.root.mkdir(mode=0o700)
    os.chown(machine.root, OTHER_UID, OTHER_UID)
    refused(machine, "%s: owned by uid %d, not by this user .*refusing to use it" % (machine.root, OTHER_UID))


def test_a_root_that_is_a_symbolic_link_is_refused(machine, tmp_path):
    machine.root.parent.mkdir(mode=0o700)
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    machine.root.symlink_to(tmp_path / "elsewhere")
    refused(machine, "%s: a symbolic link; refusing to use it" % machine.root)


def test_a_root_open_to_other_users_is_refused(machine):
    machine.root.parent.mkdir(mode=0o700)
    machine.root.mkdir()
    machine.root.chmod(0o777)
    refused(machine, "%s: open to other users \\(mode 777\\)" % machine.root)


def test_a_world_writable_ancestor_is_refused(machine, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # no sticky bit: anyone may rename the home away and put their own
    machine.environment["HOME"] = str(shared / "home")
    (shared / "home").mkdir(mode=0o700)
    refused(machine, "%s: writable by other users \\(mode 777\\)" % shared)


@needs_root
def test_an_ancestor_owned_by_another_user_is_refused(machine, tmp_path):
    os.chown(machine.home, OTHER_UID, OTHER_UID)
    refused(machine, "%s: owned by uid %d, neither root nor this user" % (machine.home, OTHER_UID))


@needs_root
def test_a_job_directory_planted_by_another_user_is_refused_and_its_request_never_runs(machine):
    job = HostJob(machine.host(), "pulling", [machine.call("image", "pull", "a")])
    machine.root.parent.mkdir(mode=0o700)
    machine.root.mkdir(mode=0o700)
    planted = machine.root / job.job_id
    planted.mkdir(mode=0o700)
    hostile = {"calls": [{"path": str(machine.bin / "docker"), "argv": ["run", "--privileged", "-v", "/:/host", "evil"]}]}
    (planted / "request.json").write_text(json.dumps(hostile))
    os.chown(planted, OTHER_UID, OTHER_UID)
    with pytest.raises(HostError, match="%s: owned by uid %d" % (planted, OTHER_UID)):
        job.run(timeout=60, poll_interval=0.2)
    assert machine.runs() == []


def test_a_job_directory_open_to_others_is_refused(machine):
    job = HostJob(machine.host(), "pulling", [machine.call("image", "pull", "a")])
    machine.root.parent.mkdir(mode=0o700)
    machine.root.mkdir(mode=0o700)
    (machine.root / job.job_id).mkdir()
    (machine.root / job.job_id).chmod(0o757)
    with pytest.raises(HostError, match="open to other users"):
        job.run(timeout=60, poll_interval=0.2)
    assert machine.runs() == []


def test_a_directory_without_a_request_is_another_start_then_stale(machine):
    job = HostJob(machine.host(), "pulling", [machine.call("image", "pull", "a")])
    machine.root.parent.mkdir(mode=0o700)
    machine.root.mkdir(mode=0o700)
    half_made = machine.root / job.job_id
    half_made.mkdir(mode=0o700)
    # Another start made it just under START_GRACE ago: busy for about a second more, then
    # stale. The grace itself stays at its value, so the new runner has all of it to start.
    made = time.time() - jobs.START_GRACE + 1.0
    os.utime(half_made, (made, made))
    [result] = job.run(timeout=60, poll_interval=0.2)
    assert result.rc == 0 and job.discarded == "incomplete"
    assert machine.runs() == ["image pull a"]


@needs_root
def test_the_sweep_never_touches_a_directory_of_another_user(machine, monkeypatch, tmp_path):
    machine.root.parent.mkdir(mode=0o700)
    machine.root.mkdir(mode=0o700)
    foreign = machine.root / ("f" * 32)
    foreign.mkdir(mode=0o700)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep")
    (foreign / "request.json").write_text(json.dumps({"calls": [], "rename": {"from": str(precious), "to": "/x"}}))
    (foreign / "results.json").write_text("{}")
    os.utime(foreign / "results.json", (0, 0))
    os.chown(foreign, OTHER_UID, OTHER_UID)
    monkeypatch.setattr(jobs, "CLAIM_AGE", 0.0)
    [result] = HostJob(machine.host(), "pulling", [machine.call("image", "pull", "a")]).run(timeout=60, poll_interval=0.2)
    assert result.rc == 0
    assert foreign.is_dir() and precious.read_text() == "keep"
