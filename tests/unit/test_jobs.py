# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HostJob against a host whose connection drops: polls and cleanups are retried on a new one."""

from __future__ import annotations

import pytest

from ansible_collections.wincontainers.images.plugins.plugin_utils import jobs
from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import PosixDialect
from ansible_collections.wincontainers.images.plugins.plugin_utils.engine import Settings
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, ConnectionFailed, Host, HostError
from ansible_collections.wincontainers.images.plugins.plugin_utils.jobs import HostJob


class DroppingHost:
    """A host whose job finishes at once; the connection drops on the first ``drops[op]`` execs of op."""

    engine = Settings()
    call_request = Host.call_request

    def __init__(self, drops: dict[str, int]) -> None:
        self.name = "linux1"
        self.dialect = PosixDialect()
        self.drops = dict(drops)
        self.execs: list[str] = []
        self.reconnects = 0

    def reconnect(self) -> None:
        self.reconnects += 1

    def execute(self, operation, payload):
        self.execs.append(operation)
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
