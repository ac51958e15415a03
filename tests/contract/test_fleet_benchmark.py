# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet benchmark (benchmarks/fleet.py), kept cheap: two hosts, two forks.

* It runs the no-op site.yml on two fake hosts over the real winrm plugin, exits 0 and reports one
  exec per no-op module call, the same figures for both hosts' runs as per-host values.
* Its exec check flags a module call that took two execs and a non-module task that took one
  (on a made-up run, without Ansible).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = HERE.parents[1] / "benchmarks"


def test_two_hosts_two_forks(tmp_path: Path, collections_root: Path) -> None:
    del collections_root  # the benchmark finds the same collection (WC_COLLECTIONS_PATH, else the work tree)
    figures = tmp_path / "figures.json"
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "fleet.py"), "--hosts", "2", "--forks", "2", "--budget", "240",
         "--workdir", str(tmp_path / "work"), "--json", str(figures)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    output = "--- stdout\n%s\n--- stderr\n%s" % (completed.stdout, completed.stderr)
    assert completed.returncode == 0, output
    assert "check: every no-op module call took at most one exec" in completed.stdout, output
    data = json.loads(figures.read_text(encoding="utf-8"))
    assert data["offenders"] == [] and data["skipped"] == [], output
    (run,) = data["measured"]
    assert (run["hosts"], run["forks"]) == (2, 2)
    assert run["calls"] >= 5 and run["execs"] == run["calls"], output  # one exec per no-op module call
    assert 5 <= run["soap"] / run["execs"] <= 7, output  # Create, Command, Send, Receive, Signal, Delete (a loop shares a shell)
    assert run["sent"] > 0 and run["received"] > 0 and run["soap_sent"] > run["sent"], output
    assert run["wall"] > 0 and run["cpu"] > run["main_cpu"] > 0, output


def test_exec_check_flags_extra_execs() -> None:
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    import fleet

    tasks = [
        {"index": 0, "task": "info", "action": "wincontainers.images.docker_image_info", "time": 1.0},
        {"index": 1, "task": "loop", "action": "wincontainers.images.win_container_base_image", "time": 2.0},
        {"index": 2, "task": "fact", "action": "ansible.builtin.set_fact", "time": 3.0},
    ]
    results = [
        {"index": 0, "host": "h", "status": "ok", "changed": False, "items": None},
        {"index": 1, "host": "h", "status": "ok", "changed": False, "items": 2},
        {"index": 2, "host": "h", "status": "ok", "changed": False, "items": None},
    ]
    times = [1.1, 1.2, 2.1, 2.2, 3.1]  # info: 2 (one allowed), loop: 2 (two items), fact: 1 (none allowed)
    run = fleet.Run(hosts=1, forks=1, rc=0, wall=1.0, cpu_user=1.0, cpu_system=0.0, max_rss_mb=1.0, main_cpu=0.5, endpoint_cpu=0.0,
                    output="", tasks=tasks, results=results, exchanges={"h": [{}] * len(times)},
                    exec_times={"h": times}, soap={"h": []}, errors=[])
    _lines, offenders = fleet.exec_check(run)
    assert offenders == [("info", "h", 2, 1), ("fact", "h", 1, 0)]
