# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The no-op ``playbooks/site.yml`` on a fleet of N fake Windows hosts, over the real ``winrm`` plugin.

What runs: ``ansible-playbook playbooks/site.yml`` (the venv's ansible-core, ansible-core's own
``winrm`` connection plugin, pywinrm, requests; nothing patched) against N fake Windows Docker
hosts, each with a WS-Management endpoint of its own (``tests/contract/fake_wsman.py``) on a
loopback port. All the endpoints are threads of this process; each host is a directory
(``tests/contract/fake_windows_host.py``: scenario, state, exchange log, SOAP log). The
variables are those of the contract test that proves site.yml's second run is a no-op
(``tests/contract/test_roles_windows.py``), on its Windows Server 2022 scenario.

The measured run is a **second run**: one host runs site.yml once first (it tags the base
images' ``latest`` names and the application image), and every host of the fleet starts from
that host's state, so every task of the measured run is a no-op. The run must end with rc 0,
no task changed, failed or unreachable, and no harness error.

Printed per host, for each N (``--hosts``, default 10,50,200) and forks (``--forks``, default
10,50), and as ratios between N values (per-host cost should be flat in N):

- execs, bytes sent (command line + stdin) and received (the answers' stdout and stderr), from
  the fake hosts' exchange logs;
- SOAP round trips and SOAP bytes sent and received (the envelopes, HTTP headers excluded),
  from the endpoints' own logs;
- controller wall time, and CPU time (user + system) of ansible-playbook and all its worker
  processes (``os.wait4``'s resource usage of the process tree), the part of it spent in the
  ansible-playbook process itself (the strategy, results, callbacks; the rest is the per-task
  worker processes), and the CPU time the fake endpoints took in this process (for scale: it
  shares the machine with the controller).

It also checks that no no-op task needed more than one exec (one per loop item for a looped
module task, none for a task that is not one of the collection's modules) and exits non-zero,
listing the offenders, if one did.

The whole matrix runs within ``--budget`` seconds (default 780): a run whose estimated time
(from the per-host wall time of the runs before it) would not fit is not started and is
reported as such, and a run still going when the budget is spent is stopped and reported.

    .venv/bin/python benchmarks/fleet.py                     # the full matrix
    .venv/bin/python benchmarks/fleet.py --hosts 10 --forks 10  # a quick run
"""

from __future__ import annotations

import argparse
import bisect
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "tests" / "contract"
if str(CONTRACT) not in sys.path:
    sys.path.insert(0, str(CONTRACT))

from contract_harness import (  # noqa: E402 - after the path above
    PASSWORD,
    USER,
    ansible_environment,
    ansible_playbook,
    find_collections_root,
    link_collections_root,
    load_scenario,
    wsman_hostvars,
)
from fake_windows_host import STATE_FILE, FakeWindowsHost, prepare_host_directory  # noqa: E402
from fake_wsman import FakeWSManServer  # noqa: E402
from test_roles_windows import SITE_VARS  # noqa: E402 - the variables whose second run the contract test proves a no-op

SITE = ROOT / "playbooks" / "site.yml"
CALLBACKS = ROOT / "benchmarks" / "callback_plugins"
SCENARIO = ("ltsc2022", {"base_images": {"host": "ws2022"}})  # as in test_roles_windows.py
WSMAN_LOG = "wsman.jsonl"
COLLECTION_PREFIX = "wincontainers.images."


class BenchmarkFailure(Exception):
    """The run did not do what the benchmark measures (not a no-op, a harness error, a timeout)."""


class TimedWindowsHost(FakeWindowsHost):
    """A fake host that also notes when each exec arrived (``time.monotonic()``), so each exec
    of the exchange log can be given to the task that was running (execs of one host come one
    after the other, in log order)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.exec_times: list[float] = []

    def exchange(self, transport: str, **kwargs: Any):  # noqa: ANN201 - FakeWindowsHost's answer
        self.exec_times.append(time.monotonic())
        return super().exchange(transport, **kwargs)


@dataclass
class Fleet:
    """N fake hosts, each with its endpoint, under ``directory``."""

    directory: Path
    hosts: dict[str, TimedWindowsHost] = field(default_factory=dict)
    servers: dict[str, FakeWSManServer] = field(default_factory=dict)

    @classmethod
    def start(cls, directory: Path, count: int, state: bytes | None) -> "Fleet":
        fleet = cls(directory)
        scenario = load_scenario(SCENARIO[0], **SCENARIO[1])
        try:
            for number in range(1, count + 1):
                name = "win-%03d" % number
                host_dir = directory / name
                prepare_host_directory(host_dir, scenario)
                if state is not None:
                    (host_dir / STATE_FILE).write_bytes(state)
                fleet.hosts[name] = TimedWindowsHost(host_dir)
                fleet.servers[name] = FakeWSManServer(fleet.hosts[name], USER, PASSWORD).start()
        except BaseException:
            fleet.stop()
            raise
        return fleet

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()

    def inventory(self) -> dict[str, Any]:
        hosts = {name: wsman_hostvars("winrm", server.port) for name, server in self.servers.items()}
        return {"all": {"children": {"windows": {"hosts": hosts}}}}


@dataclass
class Run:
    hosts: int
    forks: int
    rc: int
    wall: float
    cpu_user: float
    cpu_system: float
    max_rss_mb: float
    main_cpu: float
    endpoint_cpu: float
    output: str
    tasks: list[dict[str, Any]]
    results: list[dict[str, Any]]
    exchanges: dict[str, list[dict[str, Any]]]
    exec_times: dict[str, list[float]]
    soap: dict[str, list[dict[str, Any]]]
    errors: list[dict[str, Any]]

    @property
    def cpu(self) -> float:
        return self.cpu_user + self.cpu_system


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_site(fleet: Fleet, forks: int, workdir: Path, collections_root: Path, timeout: float) -> Run:
    """ansible-playbook site.yml against the fleet; its wall time and its process tree's CPU time."""
    workdir.mkdir(parents=True)
    inventory = workdir / "inventory.yml"
    inventory.write_text(yaml.safe_dump(fleet.inventory(), sort_keys=False), encoding="utf-8")
    extra = workdir / "site_vars.json"
    extra.write_text(json.dumps(SITE_VARS), encoding="utf-8")
    tasks_path = workdir / "tasks.jsonl"
    env = ansible_environment(collections_root, workdir / "ansible-home")
    env.update(ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS), ANSIBLE_CALLBACKS_ENABLED="wc_fleet_tasks",
               WC_FLEET_TASKS=str(tasks_path))
    command = ansible_playbook() + ["-i", str(inventory), str(SITE), "--forks", str(forks), "-e", "@%s" % extra]
    output_path = workdir / "ansible-playbook.log"
    endpoint_cpu = time.process_time()
    start = time.perf_counter()
    with open(output_path, "wb") as output:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, stop)
        timer.start()
        try:
            _pid, status, usage = os.wait4(process.pid, 0)
        except BaseException:  # interrupted: leave no ansible-playbook behind
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    endpoint_cpu = time.process_time() - endpoint_cpu
    text = output_path.read_text(encoding="utf-8", errors="replace")
    if timed_out.is_set():
        raise BenchmarkFailure("N=%d forks=%d: stopped after %.0f s (the time budget)" % (len(fleet.hosts), forks, timeout))
    records = read_jsonl(tasks_path)
    errors = [dict(e, host=name) for name, host in fleet.hosts.items() for e in read_jsonl(host.errors_path)]
    return Run(
        hosts=len(fleet.hosts), forks=forks, rc=process.returncode, wall=wall, cpu_user=usage.ru_utime,
        cpu_system=usage.ru_stime, max_rss_mb=usage.ru_maxrss / 1024, endpoint_cpu=endpoint_cpu, output=text,
        main_cpu=next((r["main_cpu"] for r in records if r["event"] == "stats"), float("nan")),
        tasks=[r for r in records if r["event"] == "task_start"],
        results=[r for r in records if r["event"] == "result"],
        exchanges={name: [r for r in read_jsonl(host.exchanges_path) if r.get("event") == "exchange"]
                   for name, host in fleet.hosts.items()},
        exec_times={name: list(host.exec_times) for name, host in fleet.hosts.items()},
        soap={name: read_jsonl(host.directory / WSMAN_LOG) for name, host in fleet.hosts.items()},
        errors=errors,
    )


def check_run(run: Run, noop: bool) -> None:
    """The run ended well: rc 0, every host has results, nothing failed, no harness error; and,
    for the measured (second) run, nothing changed."""
    problems = []
    if run.errors:
        problems.append("%d harness error(s), first: %s" % (len(run.errors), run.errors[0]["message"]))
    if run.rc != 0:
        problems.append("ansible-playbook exited %d" % run.rc)
    bad = [r for r in run.results if r["status"] in ("failed", "unreachable")]
    if bad:
        problems.append("%d failed or unreachable result(s), first: %s" % (len(bad), bad[0]))
    if noop:
        changed = [r for r in run.results if r["changed"]]
        if changed:
            problems.append("%d changed result(s) in the no-op run, first: %s"
                            % (len(changed), task_name(run, changed[0]["index"])))
    missing = set(run.exchanges) - {r["host"] for r in run.results}
    if missing:
        problems.append("no results for %d host(s): %s" % (len(missing), sorted(missing)[:5]))
    if problems:
        raise BenchmarkFailure("N=%d forks=%d: %s\n--- last lines of ansible-playbook's output:\n%s"
                               % (run.hosts, run.forks, "; ".join(problems), "\n".join(run.output.splitlines()[-40:])))


def task_name(run: Run, index: int | None) -> str:
    return next((t["task"] for t in run.tasks if t["index"] == index), "?")


def execs_per_task(run: Run) -> dict[tuple[int, str], int]:
    """(task index, host) -> execs, each exec given to the last task started before it arrived."""
    starts = sorted((t["time"], t["index"]) for t in run.tasks)
    times_of_starts = [started for started, _index in starts]
    counts: dict[tuple[int, str], int] = {}
    for host, times in run.exec_times.items():
        if len(times) != len(run.exchanges[host]):
            raise BenchmarkFailure("%s: %d execs timed but %d logged" % (host, len(times), len(run.exchanges[host])))
        for moment in times:
            position = bisect.bisect_right(times_of_starts, moment)
            if position == 0:
                raise BenchmarkFailure("%s: an exec arrived before any task started" % host)
            key = (starts[position - 1][1], host)
            counts[key] = counts.get(key, 0) + 1
    return counts


def exec_check(run: Run) -> tuple[list[str], list[tuple[str, str, int, int]]]:
    """Per task: its execs per host (as printed); and the (task, host, execs, allowed) that needed
    more than one exec per module call (a loop item is a call; other tasks may not exec at all)."""
    counts = execs_per_task(run)
    actions = {t["index"]: t["action"] for t in run.tasks}
    results = {(r["index"], r["host"]): r for r in run.results}
    offenders = []
    summary: dict[int, list[int]] = {}
    for index in sorted({t["index"] for t in run.tasks}):
        for host in run.exchanges:
            execs = counts.get((index, host), 0)
            result = results.get((index, host))
            if actions[index].startswith(COLLECTION_PREFIX):
                allowed = 0 if result is None or result["status"] == "skipped" else (result["items"] or 1)
            else:
                allowed = 0
            if execs > allowed:
                offenders.append((task_name(run, index), host, execs, allowed))
            summary.setdefault(index, []).append(execs)
    lines = []
    for index, values in summary.items():
        if not actions[index].startswith(COLLECTION_PREFIX) and not any(values):
            continue
        low, high = min(values), max(values)
        lines.append("  %-4s %-80s %s" % ("%d" % low if low == high else "%d-%d" % (low, high),
                                          task_name(run, index)[:80], actions[index]))
    return lines, offenders


def figures(run: Run) -> dict[str, float]:
    """Totals of the run divided by the number of hosts."""
    n = run.hosts
    exchanges = [e for records in run.exchanges.values() for e in records]
    soap = [s for records in run.soap.values() for s in records]
    sent = sum((e.get("command_length") or 0) + (e.get("stdin_bytes") or 0) for e in exchanges)
    received = sum(len("".join(line + "\r\n" for line in e["answer"]["output"]).encode("utf-8"))
                   + len(e["answer"]["stderr"].encode("utf-8")) for e in exchanges)
    modules = {t["index"] for t in run.tasks if t["action"].startswith(COLLECTION_PREFIX)}
    module_calls = sum(r["items"] or 1 for r in run.results if r["index"] in modules and r["status"] != "skipped")
    return {
        "execs": len(exchanges) / n,
        "sent": sent / n,
        "received": received / n,
        "soap": len(soap) / n,
        "soap_sent": sum(s["request_bytes"] for s in soap) / n,
        "soap_received": sum(s["response_bytes"] for s in soap) / n,
        "wall": run.wall / n,
        "cpu": run.cpu / n,
        "main_cpu": run.main_cpu / n,
        "endpoint_cpu": run.endpoint_cpu / n,
        "calls": module_calls / n,
        "tasks": len(run.results) / n,
    }


def converge(workdir: Path, collections_root: Path, timeout: float) -> bytes:
    """The state of a host after site.yml's first run (what every fleet host starts from)."""
    fleet = Fleet.start(workdir / "hosts", 1, None)
    try:
        run = run_site(fleet, 1, workdir / "run", collections_root, timeout)
    finally:
        fleet.stop()
    check_run(run, noop=False)
    if not any(r["changed"] for r in run.results):
        raise BenchmarkFailure("site.yml's first run changed nothing: the scenario is not the one the benchmark expects")
    return (fleet.hosts["win-001"].directory / STATE_FILE).read_bytes()


def number_list(text: str) -> list[int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive numbers")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=number_list, default=[10, 50, 200], help="fleet sizes N (default 10,50,200)")
    parser.add_argument("--forks", type=number_list, default=[10, 50], help="forks (default 10,50)")
    parser.add_argument("--budget", type=float, default=780.0,
                        help="seconds for the whole matrix (default 780); runs that would not fit are not started")
    parser.add_argument("--workdir", type=Path, help="keep the fleets, logs and outputs here (default: a temporary directory)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args(argv)

    began = time.perf_counter()
    collections_root = find_collections_root()
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="wc-fleet-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if collections_root is None:
            collections_root = link_collections_root(workdir / "collections")
        if str(collections_root) not in sys.path:
            sys.path.insert(0, str(collections_root))  # the fake hosts read the collection's constant scripts
        return measure(options, workdir, collections_root, began)
    except BenchmarkFailure as failure:
        print("FAILED: %s" % failure, file=sys.stderr)
        return 1
    finally:
        if options.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def measure(options: argparse.Namespace, workdir: Path, collections_root: Path, began: float) -> int:
    import ansible

    print("fleet benchmark: no-op playbooks/site.yml, ansible-core %s, winrm (pywinrm), %s, %d CPU(s), %s"
          % (ansible.__version__, platform.python_implementation() + " " + platform.python_version(),
             os.cpu_count() or 0, datetime.datetime.now().strftime("%Y-%m-%d %H:%M")))
    print("load average before: %.2f %.2f %.2f (other work on the machine slows wall time)" % os.getloadavg())
    state = converge(workdir / "converge", collections_root, max(60.0, options.budget / 4))
    print("first run on one host: converged in %.1f s; every fleet host starts from its state"
          % (time.perf_counter() - began))

    cells = [(n, f) for n in sorted(set(options.hosts)) for f in sorted(set(options.forks))]
    measured: list[tuple[int, int, dict[str, float]]] = []
    skipped: list[str] = []
    offenders_all: list[tuple[int, int, str, str, int, int]] = []
    breakdown: list[str] = []
    header = ("%5s %5s %5s %5s %5s %8s %8s %5s %8s %8s %7s %7s %7s %7s" % (
        "N", "forks", "tasks", "calls", "execs", "sent B", "recv B", "SOAP", "SOAP out", "SOAP in", "wall s", "CPU s",
        "main s", "fake s"))
    print("\nper host (totals / N). tasks: task results; calls: no-op module calls (loop items count); sent/recv B:"
          " command line + stdin / answers;\nSOAP: round trips, envelope bytes out/in; wall, CPU s: ansible-playbook"
          " and its workers; main s: the part of CPU s in\nansible-playbook's own process; fake s: CPU of the fake"
          " endpoints (this process)")
    print(header)
    for n, forks in cells:
        spent = time.perf_counter() - began
        left = options.budget - spent
        # per-host wall time of the largest fleet measured with these forks (else any), with a margin
        same = [m for m in measured if m[1] == forks] or measured
        estimate = max(same, key=lambda m: m[0])[2]["wall"] * n * 1.3 if same else 0.0
        if estimate > left:
            skipped.append("N=%d forks=%d not run: about %.0f s estimated, %.0f s of the %.0f s budget left"
                           % (n, forks, estimate, left, options.budget))
            print("%5d %5d  not run (estimated %.0f s, %.0f s left)" % (n, forks, estimate, left))
            continue
        fleet = Fleet.start(workdir / ("fleet-%d-%d" % (n, forks)) / "hosts", n, state)
        try:
            run = run_site(fleet, forks, workdir / ("fleet-%d-%d" % (n, forks)) / "run", collections_root, max(left, 30.0))
        except BenchmarkFailure as failure:
            skipped.append(str(failure))
            print("%5d %5d  stopped: %s" % (n, forks, failure))
            continue
        finally:
            fleet.stop()
        check_run(run, noop=True)
        lines, offenders = exec_check(run)
        if not breakdown:
            breakdown = lines
        offenders_all.extend((n, forks) + o for o in offenders)
        per_host = figures(run)
        per_host.update(max_rss_mb=run.max_rss_mb, effective_forks=min(forks, n), total_wall=run.wall, total_cpu=run.cpu)
        measured.append((n, forks, per_host))
        print("%5d %5d %5.1f %5.2f %5.2f %8.0f %8.0f %5.1f %8.0f %8.0f %7.3f %7.3f %7.3f %7.3f%s" % (
            n, forks, per_host["tasks"], per_host["calls"], per_host["execs"], per_host["sent"], per_host["received"],
            per_host["soap"], per_host["soap_sent"], per_host["soap_received"], per_host["wall"], per_host["cpu"],
            per_host["main_cpu"], per_host["endpoint_cpu"], "  (forks capped at N)" if forks > n else ""))
        sys.stdout.flush()

    if measured:
        print("\nwhole runs (ansible-playbook and its workers; max RSS: the largest process):")
        for n, forks, p in measured:
            print("  N=%-4d forks=%-3d %7.1f s wall %7.1f s CPU (main process %5.1f s)  max RSS %.0f MB"
                  % (n, forks, p["total_wall"], p["total_cpu"], p["main_cpu"] * n, p["max_rss_mb"]))
    print("\ngrowth of the per-host figures with N (ratio to the smallest N of the same forks; flat = 1.00)")
    for forks in sorted(set(options.forks)):
        rows = [(n, p) for n, f, p in measured if f == forks]
        for n, p in rows[1:]:
            base_n, base = rows[0]
            print("  forks %-3d N=%d / N=%d: execs %.2f  sent %.2f  received %.2f  SOAP %.2f  SOAP bytes %.2f  "
                  "wall %.2f  CPU %.2f  main %.2f" % (
                      forks, n, base_n, *(p[k] / base[k] if base[k] else float("nan") for k in (
                          "execs", "sent", "received", "soap", "soap_sent", "wall", "cpu", "main_cpu"))))
        if len(rows) < 2:
            print("  forks %-3d fewer than two fleet sizes measured" % forks)

    print("\nexecs per host of each task that reached a host or is one of the collection's modules "
          "(loop items are separate calls):")
    print("\n".join(breakdown))
    for line in skipped:
        print("NOT MEASURED: %s" % line)
    if options.json:
        options.json.write_text(json.dumps({"measured": [{"hosts": n, "forks": f, **p} for n, f, p in measured],
                                            "skipped": skipped, "offenders": offenders_all}, indent=2),
                                encoding="utf-8")
    print("\ntotal benchmark time %.0f s" % (time.perf_counter() - began))
    if offenders_all:
        print("\nFAILED: %d task run(s) needed more than one exec per no-op module call:" % len(offenders_all),
              file=sys.stderr)
        for n, forks, task, host, execs, allowed in offenders_all[:20]:
            print("  N=%d forks=%d %s %r: %d execs (at most %d)" % (n, forks, host, task, execs, allowed), file=sys.stderr)
        return 1
    if not measured:
        print("\nFAILED: no run was measured", file=sys.stderr)
        return 1
    print("check: every no-op module call took at most one exec, other tasks none (%d runs)" % len(measured))
    return 0


if __name__ == "__main__":
    sys.exit(main())
