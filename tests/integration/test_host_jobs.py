# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Detached host jobs that can be trusted (issue 10), against the real engine, over the local
connection and over a real ssh login to the loopback sshd (scripts/sshd.sh).

What docs/architecture.md ("Detached jobs: the lifecycle in one place") promises, checked on the
HOST (Docker SDK, /proc, the job directories), not only in the task results:

* a finished job that another run left behind is never reported as this run's result (the
  stale-job false success: a re-run said ``ok`` with no image on the host);
* a job outlives a killed controller, over ssh too, and a re-run re-attaches to it while it runs;
* two runs of the same task at the same instant start one runner; two exports to one path
  never race (same images: one job; different images: the second is refused, naming the path);
  a partial archive is never visible under the final name;
* the jobs root (``~/.ansible/wincontainers.images-jobs``) and the job directories are used only
  when they are really ours: a root or job directory of another uid, a root that is a symlink or
  open to others, an ancestor that others can write to are refused with the path named, and
  nothing runs; an old job directory of another uid is not swept either (its request would name
  the file to remove and its runner.pid the process to signal);
* a timeout leaves the job running and says so; running the task again collects it.

Slow pulls come from ``SlowProxy`` (registry_support): a loopback TCP proxy in front of the
anonymous registry whose download rate the test sets, and releases when it is done waiting.
Two runs "at the same instant" meet at a barrier in a test-only Python wrapper on the host
(``ansible_python_interpreter``), which holds every ``job_start`` exec until both arrived.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

import registry_support as rs
import wc_harness
from lifecycle_support import own_image

PREFIX = "wct10/jobs-"  # the repo fixture's images
PULL = "wincontainers.images.docker_image_pull"
EXPORT = "wincontainers.images.docker_image_export"
IMAGE_SIZE = 1024 * 1024  # one layer each: a real download that a slow proxy stretches
OTHER_UID = 65534  # nobody: "another local user"

# What a message must never be: Python's own words for an unexpected failure.
EXCEPTION_TEXT = re.compile(r"Traceback \(most recent call last\)|\b[A-Z]\w*(?:Error|Exception)\b|\[Errno \d+\]")


# --- images, proxies and host state --------------------------------------------------------------

@pytest.fixture(scope="module")
def images(engine) -> dict[str, str]:
    """Four images of 1 MB in the anonymous registry: {repository path: image ID}."""
    repositories = ["wct10/hostjobs-%d" % number for number in (1, 2, 3, 4)]
    return {repository: rs.published_image(engine, repository, "1", IMAGE_SIZE) for repository in repositories}


@pytest.fixture
def proxy(engine):
    """A rate-limited proxy in front of the anonymous registry (127.0.0.1 only)."""
    slow = rs.SlowProxy(engine.registry_anon)
    yield slow
    slow.close()


@pytest.fixture
def host(engine, images):
    """The host as the tests see it; removes the test images before and after, and the job
    directories (and any process still running in them) of the test's markers afterwards."""
    state = HostState(engine)
    for image_id in images.values():
        rs.remove_image(engine, image_id)
    yield state
    state.clean()
    for image_id in images.values():
        rs.remove_image(engine, image_id)


class HostState:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.roots: list[Path] = []
        self.markers: list[str] = []

    def watch(self, target: wc_harness.Target, marker: str) -> None:
        """Job directories under the target's root whose request names ``marker`` are this test's."""
        if target.jobs_root not in self.roots:
            self.roots.append(target.jobs_root)
        self.markers.append(marker)

    def jobs(self, marker: str) -> list[Path]:
        """The job directories (under every root watched) whose request names ``marker``."""
        found = []
        for root in self.roots:
            try:
                entries = list(root.iterdir()) if root.is_dir() and not root.is_symlink() else []
            except OSError:
                continue
            for directory in entries:
                try:
                    if directory.is_dir() and not directory.name.startswith(".") and \
                            marker in (directory / "request.json").read_text(encoding="utf-8"):
                        found.append(directory)
                except OSError:
                    continue
        return found

    def job(self, marker: str, timeout: float = 60, started: bool = True) -> Path:
        """The one job of ``marker`` (with its runner started), waiting for it."""
        def one():
            jobs = [j for j in self.jobs(marker) if not started or (j / "runner.pid").is_file()]
            return jobs[0] if len(jobs) == 1 else None
        return rs.wait_for(one, timeout, 0.05, what="the job of %s to start on the host" % marker)

    def clean(self) -> None:
        for marker in self.markers:
            for directory in self.jobs(marker):
                for pid in runner_and_call_pids(directory):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                shutil.rmtree(directory, ignore_errors=True)


def runner_pid(directory: Path) -> int | None:
    """The PID in ``runner.pid`` (``<pid> <start time>``)."""
    try:
        return int((directory / "runner.pid").read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return None


def process_start(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat, as the job scripts record it next to a PID."""
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as handle:
            return handle.read().rsplit(") ", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def runner_and_call_pids(directory: Path) -> list[int]:
    """The runner and the calls of a job that still run: ``runner.pid`` and ``pids`` lines
    ``<pid> <start time>``, where the start time must still match (a PID can be reused)."""
    pids = []
    for name in ("runner.pid", "pids"):
        try:
            lines = (directory / name).read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for line in lines:
            words = line.split()
            if len(words) == 2 and words[0].isdigit() and process_start(int(words[0])) == words[1]:
                pids.append(int(words[0]))
    return [pid for pid in pids if wc_harness.process_alive(pid)]


def command_line(pid: int) -> list[str]:
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return [word.decode("utf-8", "replace") for word in handle.read().split(b"\0") if word]
    except OSError:
        return []


def parent_of(pid: int) -> int | None:
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as handle:
            return int(handle.read().rsplit(") ", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def docker_pulls(marker: str) -> list[tuple[int, int | None, str]]:
    """Running ``docker ... pull`` processes of an image whose name holds ``marker``:
    (pid, parent pid, image name)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        words = command_line(int(entry))
        if len(words) > 2 and words[0].endswith("docker") and "pull" in words:
            names = [word for word in words if marker in word]
            if names and wc_harness.process_alive(int(entry)):
                found.append((int(entry), parent_of(int(entry)), names[0]))
    return found


class Sampler:
    """Calls ``probe`` every ``interval`` seconds in a thread and keeps what it returns."""

    def __init__(self, probe: Callable[[], Any], interval: float = 0.02) -> None:
        self.probe = probe
        self.interval = interval
        self.samples: list[Any] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.probe())
            self._stop.wait(self.interval)

    def stop(self) -> list[Any]:
        self._stop.set()
        self._thread.join(10)
        self.samples.append(self.probe())
        return self.samples

    def __enter__(self) -> Sampler:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if not self._stop.is_set():
            self.stop()


# --- a test-only interpreter on the host: a barrier for job_start, a record of the requests ------

WRAPPER = r'''#!{python}
# Test-only stand-in for python3 on the host (tests/integration/test_host_jobs.py). It runs the
# real interpreter with the same arguments and stdin, after two things: it records the job ID of
# every request that carries one, and it holds a job_start exec (the request with "start_grace") at a
# barrier until {parties} of them arrived, so that they then run at the same instant.
# With refuse_job_start, a job_start is answered with an error instead of running.
import json, os, sys, tempfile, time

BARRIER = {barrier!r}
PARTIES = {parties!r}
REAL = {real!r}
REFUSE = {refuse!r}

data = sys.stdin.buffer.read()
try:
    request = json.loads(data.decode("utf-8").strip().splitlines()[-1])
except (ValueError, IndexError, UnicodeDecodeError):
    request = None
if isinstance(request, dict) and "job" in request:
    with open(os.path.join(BARRIER, "jobs.log"), "a") as log:
        log.write(json.dumps({{"job": request["job"], "start": "start_grace" in request, "pid": os.getpid()}}) + "\n")
if isinstance(request, dict) and "start_grace" in request:
    if REFUSE:
        print(json.dumps({{"error": {{"kind": "exception", "message": "test wrapper: job_start not run"}}}}))
        sys.exit(0)
    released = os.path.join(BARRIER, "released")
    if PARTIES > 1 and not os.path.exists(released):
        open(os.path.join(BARRIER, "arrived-%d" % os.getpid()), "w").close()
        deadline = time.monotonic() + 60
        while not os.path.exists(released):
            if len([n for n in os.listdir(BARRIER) if n.startswith("arrived-")]) >= PARTIES:
                open(released, "a").close()
                break
            if time.monotonic() > deadline:
                open(os.path.join(BARRIER, "timed-out"), "a").close()
                break
            time.sleep(0.001)
handle, path = tempfile.mkstemp()
os.write(handle, data)
os.lseek(handle, 0, os.SEEK_SET)
os.unlink(path)
os.dup2(handle, 0)
os.close(handle)
os.execv(REAL, [REAL] + sys.argv[1:])
'''


class Wrapper:
    """The wrapper script and its barrier directory."""

    def __init__(self, directory: Path, real: str, parties: int = 1, refuse_job_start: bool = False) -> None:
        self.directory = directory
        directory.mkdir(mode=0o700)
        self.path = directory / "python3"
        self.path.write_text(WRAPPER.format(python=sys.executable, barrier=str(directory), parties=parties,
                                            real=real, refuse=refuse_job_start), encoding="utf-8")
        self.path.chmod(0o700)

    @property
    def arrived(self) -> int:
        return len([n for n in os.listdir(self.directory) if n.startswith("arrived-")])

    @property
    def timed_out(self) -> bool:
        return (self.directory / "timed-out").exists()

    def job_ids(self) -> list[str]:
        log = self.directory / "jobs.log"
        if not log.exists():
            return []
        return list(dict.fromkeys(json.loads(line)["job"] for line in log.read_text(encoding="utf-8").splitlines()))

    def host_vars(self) -> dict[str, str]:
        return {"ansible_python_interpreter": str(self.path)}


def real_interpreter(target: wc_harness.Target) -> str:
    return str(target.host_vars.get("ansible_python_interpreter") or shutil.which("python3") or sys.executable)


# --- tasks and results ----------------------------------------------------------------------------

def pull(names, name="pull", **options) -> dict[str, Any]:
    return {"name": name, PULL: dict({"name": list(names)}, **options)}


def export(names, path, name="export", **options) -> dict[str, Any]:
    return {"name": name, EXPORT: dict({"names": list(names), "path": str(path)}, **options)}


def through(proxy, images) -> dict[str, str]:
    """{reference through the proxy: image ID}."""
    return {"%s/%s:1" % (proxy.address, repository): image_id for repository, image_id in images.items()}


def present(docker_client, name: str) -> str | None:
    image = rs.local_image(docker_client, name)
    return image.id if image is not None else None


def assert_pulled(result: dict[str, Any], wanted: dict[str, str], docker_client) -> None:
    """The task says each image is there, with the ID the host has, and that it changed."""
    assert result["changed"] is True, result
    by_name = {item["reference"]: item for item in result["images"]}
    for name, image_id in wanted.items():
        assert present(docker_client, name) == image_id, "%s is not on the host" % name
        assert by_name[name]["id"] == image_id and by_name[name]["changed"] is True, by_name[name]


def reattached(result: dict[str, Any]) -> bool:
    return bool(result["job"]["reattached"])


def wait_for_reattach(run: wc_harness.BackgroundPlaybook, timeout: float = 90) -> None:
    """The background run printed that it re-attached to the job running on the host."""
    rs.wait_for(lambda: "re-attached" in run.output() or not run.running, timeout, 0.05,
                what="the re-run to re-attach to the job")
    assert run.running, "the re-run ended before re-attaching:\n%s" % run.output()[-4000:]


def wait_for_download(proxy, minimum: int = 64 * 1024, timeout: float = 60) -> None:
    rs.wait_for(lambda: proxy.transferred >= minimum, timeout, 0.05, what="the download to start")


# --- a. the stale job: a finished job of another run is never this run's result ------------------

def test_a_finished_job_of_a_killed_run_is_not_reported_as_the_next_runs_result(
        target, start_playbook, run_playbook, host, proxy, images, docker_client):
    wanted = through(proxy, images)
    host.watch(target, proxy.address)
    proxy.rate = 256 * 1024  # 4 s an image: far from done when the controller dies
    with start_playbook([pull(wanted)], target=target) as first:
        job = host.job(proxy.address)
        wait_for_download(proxy)
        first.kill()
    runner = runner_pid(job)
    assert runner and wc_harness.process_alive(runner), "the job died with the controller"
    assert any(present(docker_client, name) is None for name in wanted), "the pull finished before the kill"

    # The job finishes on the host with nobody watching it ...
    proxy.rate = None
    rs.wait_for((job / "results.json").is_file, 60, 0.1, what="the orphaned job to finish")
    rs.wait_for(lambda: not wc_harness.process_alive(runner), 30, 0.05, what="the runner to exit")
    assert all(present(docker_client, name) == image_id for name, image_id in wanted.items())
    # ... then somebody removes the images.
    for image_id in images.values():
        rs.remove_image(host.engine, image_id)
    assert all(present(docker_client, name) is None for name in wanted)

    # The same task again must pull them again, not collect the old job's results.
    run = run_playbook([pull(wanted)], target=target)
    result = run.assert_ok().task("pull")["result"]
    assert_pulled(result, wanted, docker_client)
    run.assert_recap(host=target.host, changed=1)
    assert reattached(result) is False
    assert docker_pulls(proxy.address) == []


# --- b. a killed controller over ssh: the job goes on, a re-run re-attaches ------------------------

def test_over_ssh_the_pull_outlives_the_killed_controller_and_a_rerun_reattaches(
        ssh_target, start_playbook, host, proxy, images, docker_client):
    target = ssh_target
    wanted = through(proxy, dict(list(images.items())[:2]))
    host.watch(target, proxy.address)
    proxy.rate = 128 * 1024
    with start_playbook([pull(wanted)], target=target) as first:
        job = host.job(proxy.address)
        wait_for_download(proxy)
        first.kill()
    runner = runner_pid(job)
    time.sleep(1)  # give a job tied to the dead ssh session the time to die with it
    assert runner and wc_harness.process_alive(runner), "the job died with the ssh connection"
    pulls = docker_pulls(proxy.address)
    assert pulls and {parent for _pid, parent, _name in pulls} == {runner}, pulls
    assert any(present(docker_client, name) is None for name in wanted), "the pull finished before the kill"

    with start_playbook([pull(wanted)], target=target) as rerun:
        wait_for_reattach(rerun)
        assert wc_harness.process_alive(runner), "the job ended before the re-run attached"
        proxy.rate = None
        run = rerun.wait(120)
    result = run.assert_ok().task("pull")["result"]
    assert reattached(result) is True
    assert_pulled(result, wanted, docker_client)
    assert not wc_harness.process_alive(runner) and docker_pulls(proxy.address) == []


# --- c. the same task twice at the same instant --------------------------------------------------

def test_two_runs_of_the_same_pull_at_once_share_one_runner(
        target, start_playbook, host, proxy, images, docker_client, tmp_path):
    wanted = through(proxy, dict(list(images.items())[:2]))
    host.watch(target, proxy.address)
    proxy.rate = 512 * 1024  # 2 s an image: long enough to see every docker pull process
    wrapper = Wrapper(tmp_path / "barrier", real_interpreter(target), parties=2)
    with Sampler(lambda: docker_pulls(proxy.address)) as sampler:
        with start_playbook([pull(wanted)], target=target, host_vars=wrapper.host_vars()) as one, \
                start_playbook([pull(wanted)], target=target, host_vars=wrapper.host_vars()) as two:
            runs = [one.wait(180), two.wait(180)]
        samples = sampler.stop()
    assert wrapper.arrived == 2 and not wrapper.timed_out, "the two job_starts did not meet at the barrier"

    results = [run.assert_ok().task("pull")["result"] for run in runs]
    for result in results:
        assert_pulled(result, wanted, docker_client)
    assert sorted(reattached(result) for result in results) == [False, True]
    seen = [pull for sample in samples for pull in sample]
    assert seen, "no docker pull was seen: the sampler missed the job"
    runners = {parent for _pid, parent, _name in seen}
    assert len(runners) == 1, "%d runners pulled the images: %s" % (len(runners), seen)
    for sample in samples:
        names = [name for _pid, _parent, name in sample]
        assert len(names) == len(set(names)), "two docker pulls of one image at once: %s" % sample
    assert len({pid for pid, _parent, _name in seen}) == len(wanted), "an image was pulled twice: %s" % seen
    assert docker_pulls(proxy.address) == []


def archive_images(path: Path) -> list[str]:
    with tarfile.open(path) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))
    return sorted("sha256:" + entry["Config"].rsplit("/", 1)[-1].removesuffix(".json") for entry in manifest)


def final_name_states(path: Path) -> Callable[[], tuple[int, int] | None]:
    def probe():
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_size
    return probe


def assert_never_partial(samples: list[tuple[int, int] | None], path: Path) -> None:
    """Every file seen under the final name had one size: it was complete when it got there."""
    sizes: dict[int, set[int]] = {}
    for sample in samples:
        if sample is not None:
            sizes.setdefault(sample[0], set()).add(sample[1])
    assert sizes, "the sampler never saw %s" % path
    assert all(len(seen) == 1 for seen in sizes.values()), "a file grew under the final name %s: %s" % (path, sizes)


def two_exports_at_once(start_playbook, wrapper: Wrapper, first: dict, second: dict, path: Path):
    with Sampler(final_name_states(path), interval=0.005) as sampler:
        with start_playbook([first], target=wc_harness.local_target(), host_vars=wrapper.host_vars()) as one, \
                start_playbook([second], target=wc_harness.local_target(), host_vars=wrapper.host_vars()) as two:
            runs = [one.wait(180), two.wait(180)]
        samples = sampler.stop()
    assert wrapper.arrived == 2 and not wrapper.timed_out, "the two job_starts did not meet at the barrier"
    return [run.task("export") for run in runs], samples


def test_two_exports_of_the_same_images_to_one_path_at_once(
        start_playbook, host, repo, docker_client, tmp_path):
    image = own_image(docker_client, repo, "1", "same-images")
    archives = tmp_path / "archives"
    archives.mkdir()
    path = archives / "same.tar"
    host.watch(wc_harness.local_target(), str(path))
    wrapper = Wrapper(tmp_path / "barrier", sys.executable, parties=2)
    task = export([repo + ":1"], path)
    results, samples = two_exports_at_once(start_playbook, wrapper, task, task, path)

    succeeded = [r for r in results if not r["failed"]]
    assert succeeded, "neither export succeeded: %s" % [r["msg"] for r in results]
    for result in results:
        if result["failed"]:
            assert result["msg"] and not EXCEPTION_TEXT.search(result["msg"]), result["msg"]
    assert archive_images(path) == [image.id]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert all(r["result"]["sha256"] == digest for r in succeeded)
    assert sorted(p.name for p in archives.iterdir()) == [path.name], "a partial file was left behind"
    assert_never_partial(samples, path)


def test_two_exports_of_different_images_to_one_path_at_once(
        start_playbook, host, repo, docker_client, tmp_path):
    one = own_image(docker_client, repo, "1", "first")
    two = own_image(docker_client, repo, "2", "second")
    archives = tmp_path / "archives"
    archives.mkdir()
    path = archives / "contested.tar"
    host.watch(wc_harness.local_target(), str(path))
    wrapper = Wrapper(tmp_path / "barrier", sys.executable, parties=2)
    results, samples = two_exports_at_once(start_playbook, wrapper, export([repo + ":1"], path),
                                           export([repo + ":2"], path), path)

    failed = [r for r in results if r["failed"]]
    succeeded = [r for r in results if not r["failed"]]
    assert len(failed) == 1 and len(succeeded) == 1, \
        "expected one export to be refused: %s" % [(r["failed"], r["msg"]) for r in results]
    message = failed[0]["msg"]
    assert str(path) in message and re.search(r"another task", message), message
    assert not EXCEPTION_TEXT.search(message), message
    winner = succeeded[0]["result"]
    assert archive_images(path) == winner["image_ids"] and winner["image_ids"] in ([one.id], [two.id])
    assert winner["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sorted(p.name for p in archives.iterdir()) == [path.name], "a partial file was left behind"
    assert_never_partial(samples, path)


# --- d. a jobs root or job directory that is not really ours: refused, nothing runs ---------------

def hostile_request(marker: Path) -> dict[str, Any]:
    """What another user would put in a job directory for root to run."""
    return {"parallel": 1, "retries": 0, "created": time.time(), "locks": [], "rename": None,
            "calls": [{"path": shutil.which("docker") or "/usr/bin/docker", "env": None,
                       "argv": ["run", "--rm", "--privileged", "-v", "/:/host", "wctest/busybox:1.0",
                                "touch", "/host" + str(marker)]}]}


def chown_tree(path: Path, uid: int) -> None:
    for root, directories, files in os.walk(path):
        for name in directories + files:
            os.lchown(os.path.join(root, name), uid, uid)
    os.lchown(path, uid, uid)


UNSAFE_CASES = ["root-of-another-user", "root-is-a-symlink", "root-open-to-others", "job-directory-of-another-user",
                "world-writable-ancestor", "sticky-ancestor-of-another-user"]


@pytest.mark.parametrize("case", UNSAFE_CASES)
def test_a_jobs_root_or_job_directory_that_is_not_ours_is_refused_and_nothing_runs(
        case, run_playbook, host, engine, images, docker_client, tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    target = wc_harness.local_target(home)
    env = {"HOME": str(home)}
    root = target.jobs_root
    repository, image_id = next(iter(images.items()))
    name = "%s/%s:1" % (engine.registry_anon, repository)
    task = pull([name], timeout=20)
    host.watch(target, name)
    marker = tmp_path / "written-by-the-hostile-job"

    if case == "root-of-another-user":
        root.mkdir(parents=True, mode=0o700)
        os.chown(root, OTHER_UID, OTHER_UID)
        named = root
    elif case == "root-is-a-symlink":
        elsewhere = home / "elsewhere"
        elsewhere.mkdir(mode=0o700)
        root.parent.mkdir(mode=0o700)
        root.symlink_to(elsewhere)
        named = root
    elif case == "job-directory-of-another-user":
        # The job's ID, as the run computes it: a probe run whose job_start the wrapper answers
        # with an error (nothing is started), after recording the ID the request carried.
        probe = Wrapper(tmp_path / "probe", real_interpreter(target), refuse_job_start=True)
        run_playbook([task], target=target, env=env, host_vars=probe.host_vars())
        [job_id] = probe.job_ids()
        assert present(docker_client, name) is None
        shutil.rmtree(home / ".ansible", ignore_errors=True)
        root.mkdir(parents=True, mode=0o700)
        named = root / job_id
        named.mkdir(mode=0o700)
        (named / "request.json").write_text(json.dumps(hostile_request(marker)), encoding="utf-8")
        chown_tree(named, OTHER_UID)
    elif case == "root-open-to-others":
        root.mkdir(parents=True, mode=0o700)
        root.chmod(0o755)
        named = root
    elif case == "world-writable-ancestor":
        named = root.parent
        named.mkdir(mode=0o700)
        named.chmod(0o777)  # not sticky
    else:  # sticky-ancestor-of-another-user: sticky like /tmp, but not root's
        named = root.parent
        named.mkdir(mode=0o700)
        named.chmod(0o1777)
        os.chown(named, OTHER_UID, OTHER_UID)
    before = (named / "request.json").read_bytes() if case == "job-directory-of-another-user" else None

    with Sampler(lambda: docker_pulls(name)) as sampler:
        run = run_playbook([task], target=target, env=env)
        samples = sampler.stop()
    result = run.task("pull")
    assert result["failed"] is True, "the pull was not refused:\n%s" % run
    assert str(named) in result["msg"], result["msg"]
    assert not EXCEPTION_TEXT.search(result["msg"]), result["msg"]
    # nothing ran: no runner, no docker pull, no image; the hostile request was not run either
    assert [sample for sample in samples if sample] == []
    assert present(docker_client, name) is None
    assert list(home.rglob("runner.pid")) == []
    assert not marker.exists(), "the hostile request ran"
    if before is not None:
        assert (named / "request.json").read_bytes() == before


def test_the_sweep_never_acts_on_a_job_directory_that_is_not_ours(
        run_playbook, host, engine, images, docker_client, tmp_path):
    """An old, finished job directory of another uid in the jobs root is an orphan to sweep only
    if it is ours: discarding it would remove the file its request names as a partial file and
    signal the processes its runner.pid and pids name, as root."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    target = wc_harness.local_target(home)
    repository, image_id = next(iter(images.items()))
    name = "%s/%s:1" % (engine.registry_anon, repository)
    host.watch(target, name)
    victim_file = tmp_path / "precious.txt"
    victim_file.write_text("keep me", encoding="utf-8")
    victim = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        start = process_start(victim.pid)
        target.jobs_root.mkdir(parents=True, mode=0o700)
        foreign = target.jobs_root / ("%032x" % 0xbad)
        foreign.mkdir(mode=0o700)
        long_ago = time.time() - 7200
        request = {"parallel": 1, "retries": 0, "created": long_ago, "locks": [],
                   "rename": {"from": str(victim_file), "to": str(tmp_path / "elsewhere.txt")},
                   "calls": [{"path": "/bin/true", "argv": [], "env": None}]}
        (foreign / "request.json").write_text(json.dumps(request), encoding="utf-8")
        (foreign / "runner.pid").write_text("%d %s" % (victim.pid, start), encoding="utf-8")
        (foreign / "pids").write_text("%d %s\n" % (victim.pid, start), encoding="utf-8")
        (foreign / "results.json").write_text(json.dumps({"results": [{"rc": 0, "attempts": 1}], "error": None,
                                                          "finished": long_ago}), encoding="utf-8")
        for path in list(foreign.iterdir()) + [foreign]:
            os.utime(path, (long_ago, long_ago), follow_symlinks=False)
        chown_tree(foreign, OTHER_UID)

        run = run_playbook([pull([name], timeout=60)], target=target, env={"HOME": str(home)})
        task = run.task("pull")
        wrong = []
        if victim.poll() is not None:
            wrong.append("killed the process that its runner.pid and pids name (%s)" % victim.returncode)
        if not victim_file.exists():
            wrong.append("removed the file that its request names as the partial file (%s)" % victim_file)
        if not (foreign / "request.json").exists():
            wrong.append("removed the directory")
        assert not wrong, "the run acted on %s, a job directory of uid %d: %s" % (foreign, OTHER_UID, "; ".join(wrong))
        assert json.loads((foreign / "request.json").read_text(encoding="utf-8")) == request
        if task["failed"]:  # refusing the whole root is fine too, when it says why
            assert str(foreign) in task["msg"] and not EXCEPTION_TEXT.search(task["msg"]), task["msg"]
        else:
            assert present(docker_client, name) == image_id
    finally:
        victim.kill()
        victim.wait()


# --- e. a timeout leaves the job running; the next run collects it -------------------------------

def test_after_a_timeout_the_job_goes_on_and_running_the_task_again_collects_it(
        target, run_playbook, start_playbook, host, proxy, images, docker_client):
    wanted = through(proxy, dict(list(images.items())[:1]))
    [name] = wanted
    host.watch(target, proxy.address)
    proxy.rate = 96 * 1024  # about 10 s for the image
    run = run_playbook([pull(wanted, timeout=2)], target=target)
    task = run.task("pull")
    assert task["failed"] is True and task["changed"] is False
    message = task["msg"]
    assert re.search(r"still running", message) and re.search(r"re-?attach", message) \
        and re.search(r"again", message), message
    # on the host: the job and its docker pull are still going, the image is not there yet
    [job] = host.jobs(proxy.address)
    runner = runner_pid(job)
    assert runner and wc_harness.process_alive(runner), "the job was stopped"
    assert [n for _pid, parent, n in docker_pulls(proxy.address) if parent == runner] == [name]
    assert present(docker_client, name) is None

    with start_playbook([pull(wanted)], target=target) as rerun:
        wait_for_reattach(rerun)
        proxy.rate = None
        again = rerun.wait(120)
    result = again.assert_ok().task("pull")["result"]
    assert reattached(result) is True
    assert_pulled(result, wanted, docker_client)
    assert not wc_harness.process_alive(runner) and docker_pulls(proxy.address) == []
