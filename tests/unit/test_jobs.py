# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HostJob against a host whose connection drops: polls and cleanups are retried on a new one."""

from __future__ import annotations

import pytest

from ansible_collections.wincontainers.images.plugins.plugin_utils import jobs, powershell_scripts
from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import PosixDialect, WindowsDialect
from ansible_collections.wincontainers.images.plugins.plugin_utils.engine import Settings
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, ConnectionFailed, Host, HostError
from ansible_collections.wincontainers.images.plugins.plugin_utils.jobs import HostJob


class DroppingHost:
    """A host whose job finishes at once; the connection drops on the first ``drops[op]`` execs of op."""

    engine = Settings()
    call_request = Host.call_request
    is_windows = Host.is_windows
    warn = Host.warn

    def __init__(self, drops: dict[str, int]) -> None:
        self.name = "linux1"
        self.dialect = PosixDialect()
        self.drops = dict(drops)
        self.execs: list[str] = []
        self.reconnects = 0
        self.warnings: list[str] = []
        self.requests: list[dict] = []

    def reconnect(self) -> None:
        self.reconnects += 1

    def execute(self, operation, payload):
        self.execs.append(operation)
        self.requests.append(dict(payload))
        if self.drops.get(operation, 0) > 0:
            self.drops[operation] -= 1
            raise ConnectionFailed("linux1: connection failed: reset by peer")
        if operation == "job_start":
            return {"state": "started", "error": None}
        if operation == "job_status":
            return {"exists": True, "claimed": True, "started": True, "alive": False, "error": None,
                    "outputs": [{"stdout": "pulled\n", "stderr": ""}],
                    "finished": {"results": [{"rc": 0}], "error": None}}
        assert operation == "job_cleanup" and payload["kill"] is False
        return {"removed": True, "error": None}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: None)


def pull_job(host) -> HostJob:
    return HostJob(host, "pulling", [Call(("image", "pull", "example.com/app:1"))])


@pytest.mark.parametrize("operation", ["job_status", "job_cleanup"])
def test_a_dropped_connection_is_reopened_and_the_exec_retried(operation):
    host = DroppingHost({operation: 2})
    [result] = pull_job(host).run(timeout=60)
    assert result.rc == 0 and result.stdout == "pulled\n"
    assert host.reconnects == 2
    assert host.execs.count(operation) == 3 and host.execs[-1] == "job_cleanup"


def test_a_cleanup_that_cannot_reconnect_fails_the_task_after_its_grace(monkeypatch):
    monkeypatch.setattr(jobs, "CLEANUP_GRACE", 0.0)
    host = DroppingHost({"job_cleanup": 1})
    with pytest.raises(ConnectionFailed, match="^linux1: connection failed"):
        pull_job(host).run(timeout=60)
    assert host.execs == ["job_start", "job_status", "job_cleanup"]


class DeadRunnerHost(DroppingHost):
    """A job whose runner died without results, on a host whose cleanup fails."""

    def execute(self, operation, payload):
        self.execs.append(operation)
        if operation == "job_start":
            return {"state": "started", "error": None}
        if operation == "job_status":
            return {"exists": True, "claimed": True, "started": True, "alive": False, "finished": None,
                    "outputs": [{"stdout": "", "stderr": ""}], "error": None}
        raise HostError("linux1: The process cannot access the file because it is being used by another process")


def test_a_failing_cleanup_never_replaces_the_jobs_own_error():
    host = DeadRunnerHost({})
    with pytest.raises(HostError) as raised:
        pull_job(host).run(timeout=60)
    message = str(raised.value)
    assert message.startswith("linux1: the pulling job stopped without results")
    assert "removing the job failed too: linux1: The process cannot access the file" in message


class WindowsHost(DroppingHost):
    """A Windows host that has no runner staged until stage_script brings it (``stages``: how many
    stage_script execs it takes), and whose WMI answers ``refused`` to CREATE_BREAKAWAY_FROM_JOB."""

    def __init__(self, stages: int = 1, refused: str | None = None) -> None:
        super().__init__({})
        self.name = "win1"
        self.dialect = WindowsDialect()
        self.stages = stages
        self.refused = refused

    def execute(self, operation, payload):
        if operation not in ("stage_script", "job_start"):
            return super().execute(operation, payload)
        self.execs.append(operation)
        self.requests.append(dict(payload))
        if operation == "stage_script":
            self.stages -= 1
            return {"staged": True, "missing": False, "error": None}
        if self.stages > 0:
            return {"state": "runner_missing", "error": None}
        return {"state": "started", "discarded": None, "breakaway_refused": self.refused, "error": None}


def test_a_windows_host_without_the_runner_gets_it_staged_once_then_the_job_starts():
    host = WindowsHost()
    [result] = pull_job(host).run(timeout=60)
    assert result.rc == 0
    assert host.execs == ["job_start", "stage_script", "job_start", "job_status", "job_cleanup"]
    start, stage, again = host.requests[:3]
    assert start["runner"] == again["runner"] == powershell_scripts.DIGESTS["job_runner"]
    assert stage == {"name": "job_runner", "sha256": powershell_scripts.DIGESTS["job_runner"],
                     "payload": powershell_scripts.PAYLOADS["job_runner"]}
    assert host.warnings == []


def test_a_runner_still_missing_after_staging_fails_instead_of_staging_forever():
    host = WindowsHost(stages=2)
    with pytest.raises(HostError, match="could not start: the host answered 'runner_missing'"):
        pull_job(host).run(timeout=60)
    assert host.execs == ["job_start", "stage_script", "job_start"]


def test_a_posix_job_start_names_no_runner():
    host = DroppingHost({})
    pull_job(host).run(timeout=60)
    assert "runner" not in host.requests[0]


def test_a_refused_breakaway_is_a_warning_of_the_task():
    host = WindowsHost(stages=0, refused="return value 2")
    pull_job(host).run(timeout=60)
    pull_job(host).run(timeout=60)
    assert len(host.warnings) == 1, host.warnings
    assert "CREATE_BREAKAWAY_FROM_JOB (return value 2)" in host.warnings[0]
    assert host.warnings[0].startswith("win1: the job runner runs inside the job object of the WMI provider host")
