# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bytes on the wire per exec, for every operation of both dialects: the command line plus stdin
(the script, when it travels there, and a typical request), as the dialect builds them.

    .venv/bin/python benchmarks/wire_sizes.py                 # the collection of this work tree
    .venv/bin/python benchmarks/wire_sizes.py --collections DIR   # DIR/ansible_collections/wincontainers/images

"Typical request": the request of a one-image task (a pull, an inspect, an export); a request
grows with what the task names (500 image names are 500 names), the scripts do not. The
contract tests measure the same per exec of real playbooks (tests/contract/test_wire_budget.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

REF = "mcr.microsoft.com/windows/servercore:ltsc2022"
JOB = {"job": "0" * 32, "token": "1" * 32, "parallel": 1, "retries": 2, "locks": ["2" * 64],
       "rename": {"from": "C:\\images\\servercore.tar.partial-" + "3" * 32, "to": "C:\\images\\servercore.tar"},
       "start_grace": 60, "claim_age": 60}


def typical(operation: str, call: dict) -> dict:
    """A request of a one-image task for ``operation``."""
    return {
        "run": {"parallel": 1, "calls": [call, dict(call)]},
        "job_start": dict(JOB, calls=[call]),
        "job_status": {"job": JOB["job"], "token": JOB["token"], "wait": 3.0},
        "job_cleanup": {"job": JOB["job"], "token": JOB["token"], "kill": False, "claim_age": 60},
        "job_runner": {},
        "file_info": {"remove": [], "rename": [], "files": [{"path": "C:\\images\\servercore.tar", "hash": True}],
                      "calls": [call]},
        "join_parts": {"target": "C:\\images\\servercore.tar", "partial": "C:\\images\\servercore.tar.wcjoin-" + "4" * 16,
                       "parts": [{"path": "C:\\images\\servercore.tar.wcpart-%s-%d" % ("4" * 16, i), "sha256": "5" * 64}
                                 for i in range(4)], "sha256": "6" * 64, "size": 4 << 30},
        "host_info": {"calls": [call], "os_images": True, "find": None, "registry": None},
        "container_image": {"action": "check", "calls": [call]},
        "package_provider": {"action": "list", "name": "DockerMsftProvider"},
        "login_state": {"config_dir": None, "hosts": ["registry.contoso.test"], "server": "registry.contoso.test",
                        "salt": "7" * 44, "digest": "8" * 44},
        "login_verify": {"call": dict(call, stdin="9" * 24)},
        "engine_state": {"install_dir": "C:\\Program Files\\Docker", "data_root": None},
    }[operation]


def sizes(collections: Path) -> dict[str, dict[str, tuple[int, int, int]]]:
    sys.path.insert(0, str(collections))
    from ansible_collections.wincontainers.images.plugins.plugin_utils import dialect as module
    from ansible_collections.wincontainers.images.plugins.plugin_utils import powershell_scripts

    figures: dict[str, dict[str, tuple[int, int, int]]] = {}
    for dialect in (module.WindowsDialect(), module.PosixDialect("python3")):
        rows = {}
        for operation in sorted(dialect.scripts):
            if operation in ("job_runner", "engine_job"):
                continue  # never an exec of their own: stage_script carries them to the host, a job runs them
            call = dialect.call_request("docker", ["image", "inspect", "--", REF])
            if operation == "stage_script":  # its largest exec: the runner, on a host's first job
                payload = {"name": "job_runner", "sha256": powershell_scripts.DIGESTS["job_runner"],
                           "payload": powershell_scripts.PAYLOADS["job_runner"]}
            else:
                payload = typical(operation, call)
            if operation == "job_start" and hasattr(dialect, "job_runner"):
                payload.update(dialect.job_runner())  # before: the runner travelled in the request
            command = dialect.command(operation)
            stdin = dialect.stdin(operation, payload)
            request = len(module.encode_request(payload))
            rows[operation] = (len(command.encode("utf-8")), len(stdin) - request, request)
        figures[dialect.name] = rows
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", type=Path, help="a directory holding ansible_collections/wincontainers/images")
    options = parser.parse_args()
    collections = options.collections
    if collections is None:
        collections = REPO / "tests" / "output" / "wire-collections"
        namespace = collections / "ansible_collections" / "wincontainers"
        namespace.mkdir(parents=True, exist_ok=True)
        if not (namespace / "images").exists():
            (namespace / "images").symlink_to(REPO, target_is_directory=True)
    figures = sizes(collections)
    print("%-8s %-17s %8s %8s %8s %8s" % ("dialect", "operation", "command", "script", "request", "total"))
    for dialect, rows in figures.items():
        for operation, (command, script, request) in rows.items():
            print("%-8s %-17s %8d %8d %8d %8d" % (dialect, operation, command, script, request, command + script + request))
    return 0


if __name__ == "__main__":
    sys.exit(main())
