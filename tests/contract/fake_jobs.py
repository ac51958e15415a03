# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fake Windows host's emulation of the detached job scripts (``job_start``, ``job_status``,
``job_cleanup``) and of the job runner that ``job_start`` starts (``job_runner``).

Registered at the end of ``fake_windows_host.py`` (``register()``). The emulation follows
``powershell_scripts.JOB_*`` step by step, on a model of what those scripts touch on a Windows
host, kept in the host's state (``state["job_host"]``):

* ``folders``: ``%ProgramData%\\wincontainers.images`` and its ``jobs`` folder (the root), each
  with its owner SID, its access rules and whether it is a reparse point; a missing key is a
  folder that does not exist;
* ``entries``: what the root holds, by name: job directories (owner, rules, reparse point, last
  write time, files), ``.trash-`` directories and ``<key>.lock`` files;
* ``processes``: the processes that run, by PID: start time (.NET ticks) and when they end; a
  runner also carries its job;
* ``next_pid``.

The runner is emulated by the fake host itself: ``job_start`` gives it a PID (its ``runner.pid``
is written at once, as the runner's first step does) and a lifetime (scenario ``jobs.duration``
seconds, or until the test releases it with ``release_jobs(host_directory)`` when
``jobs.hold``); at the first exchange after its end, the fake host runs the job's calls (their
effects and outputs appear only then, as a real pull's image does), renames the request's
partial file, writes ``results.json`` and ends the process. Exchanges record what happened in
``job_events``.

Scenario key ``jobs`` (all optional)::

    user: S-1-5-21-...-1013       # SID of the connecting user (default ansible-svc's)
    duration: 0                   # seconds a runner runs
    hold: false                   # runners run until release_jobs()
    folders: {parent: FOLDER, root: FOLDER}   # the two levels of the root, as found
    entries: {NAME: ENTRY}        # job directories, locks and trash found in the root
    processes: {PID: {ticks: N}}  # other processes running on the host
    breakaway: refused            # WMI's job object does not let the runner break away
    wmi: fails                    # Invoke-CimMethod throws (WMI itself fails)

    FOLDER: {owner: SID, reparse: false, file: false, unreadable: false,
             rules: [{sid: SID, rights: Write | [WriteData, ...] | 0x116, type: Allow}]}
    ENTRY (a job directory, named by its ID): {owner, reparse, rules (as a FOLDER), age: s,
             request: {age: s, calls: [...], rename: {...}, locks: [...]} | null,
             request_tmp: {age: s}, runner: {pid: N, ticks: N, alive: bool, age: s} | null,
             results: {age: s, results: [{rc, attempts}], error: null} | null,
             outputs: [{stdout, stderr}], claims: {TOKEN: age}}
    ENTRY (NAME.lock): {lock: HOLDER_ID, age: s}      ENTRY (.trash-...): {trash: true}

Ages are seconds before the first exchange; ``preset_jobs(host_directory, entries)`` puts such
entries into the state of a host that already ran (a job ID is known only after a first run).

Windows behaviour emulated, with its public source (learn.microsoft.com unless said):

* ``Environment.SpecialFolder.CommonApplicationData`` is ``C:\\ProgramData``; its subfolders are
  writable by Users and new folders inherit that ("FolderLocations ProgramData"), which
  ``inherited_programdata_rules`` models for a folder another user created;
* well-known SIDs: S-1-5-18 LocalSystem, S-1-5-32-544 Administrators, S-1-5-32-545 Users,
  S-1-1-0 Everyone ("Well-known SIDs");
* ``FileSystemRights`` values ("FileSystemRights Enum") and the generic rights GENERIC_ALL
  0x10000000, GENERIC_WRITE 0x40000000 ("ACCESS_MASK");
* ``Directory.CreateDirectory(String, DirectorySecurity)`` creates the directory with the given
  security descriptor, and returns an existing one unchanged ("Directory.CreateDirectory");
  ``ObjectSecurity.SetAccessRuleProtection(true, false)`` drops inherited rules, so the new
  folder has exactly the three rules the script adds, and the owner it sets;
* ``File.GetAttributes`` reports ``FileAttributes.ReparsePoint`` of a link or junction itself
  ("FileAttributes Enum"); ``Directory.Exists`` is true for a directory, false for a file;
* ``FileMode.CreateNew`` throws an IOException when the file exists ("FileMode Enum");
* ``File.GetLastWriteTimeUtc`` of a missing path is 1601-01-01, ``File.Delete`` of a missing
  file does nothing, ``File.SetLastWriteTimeUtc`` of a missing file throws ("File Class");
  creating, deleting or renaming an entry updates its directory's last write time (NTFS);
* ``Directory.Move`` of a missing directory throws, ``Directory.Delete(path, true)`` removes
  the tree ("Directory.Move", "Directory.Delete");
* ``File.Move`` of a missing file throws ``Could not find file '<path>'.`` and ``File.Replace``
  replaces an existing destination ("File.Move", "File.Replace");
* ``Process.GetProcessById`` throws for a PID that does not run; ``Process.StartTime`` is the
  start time, ``DateTime.Ticks`` counts 100 ns since 0001-01-01 ("Process.StartTime",
  "DateTime.Ticks"); ``Process.Kill`` ends the process ("TerminateProcess");
* ``Win32_Process.Create`` returns 0 and starts the command line in ``CurrentDirectory``
  ("Create method of the Win32_Process class"); with ``CREATE_BREAKAWAY_FROM_JOB`` in
  ``Win32_ProcessStartup.CreateFlags`` ("Win32_ProcessStartup class") the process is outside the
  WMI provider host's job object, unless that job lacks ``JOB_OBJECT_LIMIT_BREAKAWAY_OK``
  (scenario ``breakaway: refused``): then CreateProcess fails ("Process Creation Flags"; public
  reports show ERROR_ACCESS_DENIED) and no process is made; Create's answer is modelled as its
  documented "Access denied", 2 (inferred, not captured).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import time
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import fake_lifecycle
import fake_windows_host as fwh
from fake_windows_host import (
    DOCKER_PATH,
    FakeDocker,
    FakeHostError,
    FakeWindowsHost,
    dotnet_command_line,
    powershell_json,
    split_windows_command_line,
    utf16_length,
)

SCENARIO_KEY = "jobs"
RELEASE_FILE = "release-jobs"

PROGRAM_DATA = "C:\\ProgramData"
PARENT = PROGRAM_DATA + "\\wincontainers.images"
ROOT = PARENT + "\\jobs"
SYSTEM = "S-1-5-18"
ADMINISTRATORS = "S-1-5-32-544"
USERS = "S-1-5-32-545"
EVERYONE = "S-1-1-0"
CREATOR_OWNER = "S-1-3-0"
DEFAULT_USER = "S-1-5-21-3623811015-3361044348-30300820-1013"  # ansible-svc, a local administrator
OTHER_USER = "S-1-5-21-3623811015-3361044348-30300820-1105"  # an ordinary local user

RIGHTS = {
    "ReadData": 0x1, "ListDirectory": 0x1, "WriteData": 0x2, "CreateFiles": 0x2, "AppendData": 0x4,
    "CreateDirectories": 0x4, "ReadExtendedAttributes": 0x8, "WriteExtendedAttributes": 0x10,
    "ExecuteFile": 0x20, "Traverse": 0x20, "DeleteSubdirectoriesAndFiles": 0x40, "ReadAttributes": 0x80,
    "WriteAttributes": 0x100, "Write": 0x116, "Delete": 0x10000, "ReadPermissions": 0x20000,
    "Read": 0x20089, "ReadAndExecute": 0x200A9, "Modify": 0x301BF, "ChangePermissions": 0x40000,
    "TakeOwnership": 0x80000, "Synchronize": 0x100000, "FullControl": 0x1F01FF,
    "GenericAll": 0x10000000, "GenericWrite": 0x40000000,
}
WRITE_RIGHTS = 0x500D0156  # the mask of Test-PrivateDirectory
STALE = ("finished", "dead", "never_started", "incomplete")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_PID_LINE = re.compile(r"^(\d+) (\d+)")
EPOCH_TICKS = 621355968000000000  # DateTime(1970, 1, 1).Ticks


def rights_value(rights: Any) -> int:
    if isinstance(rights, int):
        return rights
    names = [rights] if isinstance(rights, str) else list(rights)
    value = 0
    for name in names:
        value |= RIGHTS[name]
    return value


def rule(sid: str, rights: Any = "FullControl", kind: str = "Allow", inherited: bool = False) -> dict[str, Any]:
    return {"sid": sid, "rights": rights_value(rights), "type": kind, "inherited": inherited}


def private_rules(user: str) -> list[dict[str, Any]]:
    """The rules JOB_START's DirectorySecurity gives a folder it creates."""
    rules = []
    for sid in (SYSTEM, ADMINISTRATORS, user):
        if not any(r["sid"] == sid for r in rules):  # AddAccessRule merges a second rule for a SID
            rules.append(rule(sid))
    return rules


def inherited_programdata_rules() -> list[dict[str, Any]]:
    """What a folder created under C:\\ProgramData without its own ACL inherits: Users may
    create files and folders in it ("FolderLocations ProgramData"; icacls shows
    BUILTIN\\Users:(CI)(WD,AD,WEA,WA) on C:\\ProgramData)."""
    return [rule(SYSTEM, inherited=True), rule(ADMINISTRATORS, inherited=True),
            rule(CREATOR_OWNER, "GenericAll", inherited=True), rule(USERS, "ReadAndExecute", inherited=True),
            rule(USERS, ["WriteData", "AppendData", "WriteExtendedAttributes", "WriteAttributes"], inherited=True)]


def dotnet_ticks(seconds: float) -> int:
    return EPOCH_TICKS + int(round(seconds * 10_000_000))


class Thrown(Exception):
    """An exception the script's catch turns into its error answer."""

    kind = "exception"


class Unsafe(Thrown):
    """Stop-Unsafe."""

    kind = "unsafe"

    def __init__(self, path: str, problem: str) -> None:
        super().__init__("%s: %s; refusing to use it" % (path, problem))


class RetryLater(Exception):
    """The script sleeps (job_status's wait); the fake host answers again after ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


# --------------------------------------------------------------------------------------------
# the model


def config(scenario: Mapping[str, Any]) -> dict[str, Any]:
    return dict(scenario.get(SCENARIO_KEY) or {})


def _folder(preset: Mapping[str, Any], user: str) -> dict[str, Any]:
    return {"owner": preset.get("owner", user), "reparse": bool(preset.get("reparse")), "file": bool(preset.get("file")),
            "unreadable": bool(preset.get("unreadable")),
            "rules": [dict(r, rights=rights_value(r["rights"]), type=r.get("type", "Allow"))
                      for r in preset.get("rules", private_rules(user))]}


def _entry(name: str, preset: Mapping[str, Any], user: str, now: float, processes: dict[str, Any]) -> dict[str, Any]:
    """A root entry of the scenario (or of ``preset_jobs``) as the model holds it."""
    if "lock" in preset:
        return {"kind": "file", "content": str(preset["lock"]), "mtime": now - float(preset.get("age", 0))}
    entry = _folder(preset, user)
    entry.update(kind="dir", mtime=now - float(preset.get("age", 0)), files={})
    if preset.get("trash"):
        return entry
    files = entry["files"]

    def add(file_name: str, content: Any, age: Any) -> None:
        files[file_name] = {"content": content, "mtime": now - float(age or 0)}

    if preset.get("request_tmp") is not None:
        add("request.json.tmp", "", preset["request_tmp"].get("age"))
    request = preset.get("request", {"age": preset.get("age", 0)})
    if request is not None:
        content = {"parallel": 1, "retries": 0, "calls": [{"path": DOCKER_PATH, "cmdline": "version", "env": None}],
                   "created": now - float(request.get("age") or 0), "locks": [], "rename": None}
        content.update({k: v for k, v in request.items() if k != "age"})
        add("runner.ps1", "", request.get("age"))
        add("request.json", content, request.get("age"))
    runner = preset.get("runner")
    if runner is not None:
        pid, ticks = int(runner["pid"]), int(runner.get("ticks") or dotnet_ticks(now - 3600))
        add("runner.pid", "%d %d" % (pid, ticks), runner.get("age"))
        if runner.get("alive"):
            processes[str(pid)] = {"ticks": ticks, "ends": None, "hold": True, "job": name}
    for index, output in enumerate(preset.get("outputs") or []):
        add("%d.out" % index, output.get("stdout", ""), None)
        add("%d.err" % index, output.get("stderr", ""), None)
    results = preset.get("results")
    if results is not None:
        content = {"results": results.get("results", []), "error": results.get("error"),
                   "finished": now - float(results.get("age") or 0), "renamed": bool(results.get("renamed"))}
        add("results.json", content, results.get("age"))
    for token, age in (preset.get("claims") or {}).items():
        add("claim-" + token, "", age)
    return entry


def job_host(docker: FakeDocker) -> dict[str, Any]:
    """The job model of the host, made from the scenario at its first use."""
    state = docker.state
    if "job_host" not in state:
        settings = config(docker.scenario)
        user = str(settings.get("user", DEFAULT_USER))
        now = time.time()
        host: dict[str, Any] = {"user": user, "folders": {}, "entries": {}, "processes": {}, "next_pid": 7400}
        presets = settings.get("folders") or {}
        for key, path in (("parent", PARENT), ("root", ROOT)):
            if key in presets:
                host["folders"][path] = _folder(presets[key], user)
        for pid, process in (settings.get("processes") or {}).items():
            host["processes"][str(pid)] = {"ticks": int(process["ticks"]), "ends": None, "hold": False, "job": None}
        for name, preset in (settings.get("entries") or {}).items():
            host["entries"][name] = _entry(name, preset, user, now, host["processes"])
        state["job_host"] = host
    return state["job_host"]


def preset_jobs(directory: str | Path, entries: Mapping[str, Mapping[str, Any]]) -> None:
    """Put root entries (as the scenario's ``jobs.entries`` gives them) into a host's state."""
    path = Path(directory) / fwh.STATE_FILE
    state = json.loads(path.read_text(encoding="utf-8"))
    scenario = json.loads((Path(directory) / fwh.SCENARIO_FILE).read_text(encoding="utf-8"))
    host = job_host(FakeDocker(scenario, state))
    now = time.time()
    for name, preset in entries.items():
        host["entries"][name] = _entry(name, preset, host["user"], now, host["processes"])
    path.write_text(json.dumps(state, indent=2), encoding="utf-8")


def release_jobs(directory: str | Path) -> None:
    """Let the held runners of a ``jobs.hold`` scenario end."""
    (Path(directory) / RELEASE_FILE).write_text("released\n", encoding="utf-8")


class Jobs:
    """The scripts' view of the job model during one exchange."""

    def __init__(self, docker: FakeDocker, record: dict[str, Any], directory: Path) -> None:
        self.docker = docker
        self.host = job_host(docker)
        self.record = record
        self.released = (directory / RELEASE_FILE).exists()
        self.now = time.time()

    @property
    def user(self) -> str:
        return self.host["user"]

    @property
    def trusted(self) -> tuple[str, ...]:
        return (SYSTEM, ADMINISTRATORS, self.user)

    def event(self, kind: str, **details: Any) -> None:
        self.record.setdefault("job_events", []).append(dict(details, event=kind))
        self.docker.changed = True

    # files and folders -------------------------------------------------------------------

    def folder(self, path: str) -> dict[str, Any] | None:
        if path in self.host["folders"]:
            return self.host["folders"][path]
        if path.startswith(ROOT + "\\") and ROOT in self.host["folders"]:
            return self.host["entries"].get(path[len(ROOT) + 1:])
        return None

    def directory(self, path: str) -> dict[str, Any] | None:
        entry = self.folder(path)
        return entry if entry is not None and entry.get("kind", "dir") == "dir" and not entry.get("file") else None

    def test_private_directory(self, path: str, owners: Sequence[str]) -> bool:
        """Test-PrivateDirectory."""
        entry = self.folder(path)
        if entry is None:
            return False
        if entry.get("file") or entry.get("kind") == "file":
            raise Unsafe(path, "it is not a directory")
        if entry.get("reparse"):
            raise Unsafe(path, "it is a reparse point (a link or junction)")
        if entry.get("unreadable"):
            # Directory.GetAccessControl throws UnauthorizedAccessException without READ_CONTROL.
            raise Unsafe(path, "its owner and access rules cannot be read")
        if entry["owner"] not in owners:
            raise Unsafe(path, "it is owned by %s" % entry["owner"])
        # GetAccessRules(true, true, ...): the explicit rules, then the inherited ones.
        for item in sorted(entry["rules"], key=lambda r: bool(r.get("inherited"))):
            if item["type"] == "Allow" and item["sid"] not in self.trusted and item["rights"] & WRITE_RIGHTS:
                raise Unsafe(path, "%s may write to it" % item["sid"])
        return True

    def create_directory(self, path: str) -> None:
        """[IO.Directory]::CreateDirectory($path, $security) with JOB_START's private security."""
        if self.folder(path) is not None:
            entry = self.folder(path)
            if entry.get("kind") == "file" or entry.get("file"):
                raise Thrown('Exception calling "CreateDirectory" with "2" argument(s): "Cannot create "%s" because a '
                             'file or directory with the same name already exists."' % path)
            return
        folder = {"owner": self.user, "reparse": False, "file": False, "unreadable": False,
                  "rules": private_rules(self.user)}
        if path in (PARENT, ROOT):
            self.host["folders"][path] = folder
        else:
            folder.update(kind="dir", mtime=self.now, files={})
            self.host["entries"][path[len(ROOT) + 1:]] = folder
        self.event("created", path=path)

    def get_job_root(self, create: bool) -> str | None:
        """Get-JobRoot (-Security when ``create``)."""
        for path in (PARENT, ROOT):
            if create:
                self.create_directory(path)
            if not self.test_private_directory(path, self.trusted):
                return None
        return ROOT

    def files(self, directory: str) -> dict[str, Any]:
        entry = self.directory(directory)
        return entry["files"] if entry is not None else {}

    def exists(self, directory: str, name: str) -> bool:
        return name in self.files(directory)

    def read_shared(self, directory: str, name: str) -> Any:
        """Read-Shared (JSON files are kept parsed)."""
        item = self.files(directory).get(name)
        return "" if item is None else item["content"]

    def write(self, directory: str, name: str, content: Any, mtime: float | None = None) -> None:
        entry = self.directory(directory)
        if entry is None:
            raise Thrown('Exception calling "WriteAllText" with "3" argument(s): "Could not find a part of the path '
                         "'%s\\%s'.\"" % (directory, name))
        if name not in entry["files"]:
            entry["mtime"] = self.now
        entry["files"][name] = {"content": content, "mtime": self.now if mtime is None else mtime}
        self.docker.changed = True

    def delete(self, directory: str, name: str) -> None:
        """[IO.File]::Delete: nothing happens for a missing file."""
        entry = self.directory(directory)
        if entry is not None and entry["files"].pop(name, None) is not None:
            entry["mtime"] = self.now
            self.docker.changed = True

    def last_write(self, directory: str, name: str | None = None) -> float:
        """[IO.File]::GetLastWriteTimeUtc (1601-01-01 for a missing path)."""
        entry = self.directory(directory)
        if entry is None:
            return -11644473600.0
        if name is None:
            return float(entry["mtime"])
        item = entry["files"].get(name)
        return -11644473600.0 if item is None else float(item["mtime"])

    def new_exclusive_file(self, directory: str, name: str, text: str = "") -> bool:
        """New-ExclusiveFile: FileMode.CreateNew."""
        if directory == ROOT:
            if name in self.host["entries"]:
                return False
            self.host["entries"][name] = {"kind": "file", "content": text, "mtime": self.now}
            self.docker.changed = True
            return True
        if self.exists(directory, name):
            return False
        self.write(directory, name, text)
        return True

    def root_entries(self) -> list[str]:
        """[IO.Directory]::GetFileSystemEntries($root): NTFS lists names in upper-case order."""
        return sorted(self.host["entries"], key=str.upper)

    # processes ---------------------------------------------------------------------------

    def running(self, process: Mapping[str, Any]) -> bool:
        if process.get("ends") is None:
            return not (process.get("hold") and process.get("job") and self.released)
        return self.now < float(process["ends"])

    def live_process(self, line: Any) -> str | None:
        """Get-LiveProcess: the PID while it runs with the start time the line names."""
        match = _PID_LINE.match(str(line or ""))
        if not match:
            return None
        process = self.host["processes"].get(match.group(1))
        if process is None or int(process["ticks"]) != int(match.group(2)) or not self.running(process):
            return None
        return match.group(1)

    def kill(self, pid: str) -> None:
        process = self.host["processes"].pop(pid, None)
        self.event("killed", pid=int(pid), job=(process or {}).get("job"))

    # the job's own steps ----------------------------------------------------------------

    def remove_job(self, job: str) -> None:
        """Remove-Job."""
        path = ROOT + "\\" + job
        runner = self.live_process(self.read_shared(path, "runner.pid"))
        if runner is not None:
            calls = [self.live_process(line) for line in re.split(r"\r?\n", str(self.read_shared(path, "pids")))]
            for pid in [runner] + calls:
                if pid is not None:
                    self.kill(pid)
        request = self.read_shared(path, "request.json")
        rename = request.get("rename") if isinstance(request, Mapping) else None
        if rename:
            files = fake_lifecycle.ready(self.docker)["files"]
            if files.pop(str(rename["from"]), None) is not None:
                self.event("removed_partial", path=rename["from"])
        entry = self.host["entries"].pop(job, None)
        if entry is None:
            return  # Directory.Move of a missing directory throws: someone else discarded it
        self.event("discarded", job=job)
        self.docker.changed = True
        # The renamed tree is deleted at once (Directory.Delete(path, true)).
        for name in [n for n, e in self.host["entries"].items() if e.get("kind") == "file" and n.endswith(".lock")]:
            if self.host["entries"][name]["content"] == job:
                del self.host["entries"][name]
                self.event("released", lock=name[:-5], job=job)

    def stale_reason(self, path: str, grace: float) -> str | None:
        """Get-StaleReason."""
        if self.exists(path, "results.json"):
            return "finished"
        if not self.exists(path, "request.json"):
            if self.now - self.last_write(path) < grace:
                return "busy"
            return "incomplete"
        runner_pid = str(self.read_shared(path, "runner.pid"))
        if _PID_LINE.match(runner_pid):
            return None if self.live_process(runner_pid) else "dead"
        if self.now - self.last_write(path, "request.json") > grace:
            return "never_started"
        return None

    def start_runner(self, job: str, breakaway: bool) -> None:
        """Win32_Process.Create of the runner (``breakaway``: outside the provider host's job
        object); its first steps (the checks of the root and of its directory, the exclusive create
        of runner.pid) happen at once."""
        settings = config(self.docker.scenario)
        pid = str(self.host["next_pid"])
        self.host["next_pid"] += 4
        ticks = dotnet_ticks(self.now)
        hold = bool(settings.get("hold"))
        ends = None if hold else self.now + float(settings.get("duration") or 0)
        self.host["processes"][pid] = {"ticks": ticks, "ends": ends, "hold": hold, "job": job}
        self.event("runner_started", job=job, pid=int(pid), breakaway=breakaway)
        path = ROOT + "\\" + job
        try:
            safe = self.get_job_root(False) == ROOT and self.test_private_directory(path, (self.user,))
        except Thrown:
            safe = False
        if not safe:
            self.host["processes"].pop(pid)  # the runner refuses its directory and exits
            return
        if not self.new_exclusive_file(path, "runner.pid", "%s %d" % (pid, ticks)):
            self.host["processes"].pop(pid)  # another runner has the job: this one exits
            return
        calls = (self.read_shared(path, "request.json") or {}).get("calls") or []
        lines = []
        for index, _call in enumerate(calls):
            call_pid = str(self.host["next_pid"])
            self.host["next_pid"] += 4
            self.host["processes"][call_pid] = {"ticks": ticks + 1000 * (index + 1), "ends": ends, "hold": hold,
                                                "job": None}
            lines.append("%s %d" % (call_pid, ticks + 1000 * (index + 1)))
        self.write(path, "pids", "\r\n".join(lines) + ("\r\n" if lines else ""))

    def finish_runners(self) -> None:
        """The end of every runner whose time has come: its calls, the rename, results.json."""
        for pid, process in sorted(self.host["processes"].items()):
            if not process.get("job") or self.running(process):
                continue
            del self.host["processes"][pid]
            for line in re.split(r"\r?\n", str(self.read_shared(ROOT + "\\" + process["job"], "pids"))):
                match = _PID_LINE.match(line)
                if match:
                    self.host["processes"].pop(match.group(1), None)
            self.docker.changed = True
            self.run_job(process["job"], float(process["ends"]) if process.get("ends") is not None else self.now)

    def run_job(self, job: str, ended: float) -> None:
        """What JOB_RUNNER does after runner.pid: the calls, the rename, results.json."""
        path = ROOT + "\\" + job
        if self.directory(path) is None:
            return
        request = self.read_shared(path, "request.json")
        results = []
        failed = False
        for index, call in enumerate(request.get("calls") or []):
            retries = max(0, int(request.get("retries") or 0))
            attempts = 0
            while True:
                attempts += 1
                result = self.run_call(job, call)
                self.write(path, "%d.out" % index, result.stdout)
                self.write(path, "%d.err" % index, result.stderr)
                if result.rc == 0 or attempts > retries:
                    break
            failed = failed or result.rc != 0
            results.append({"rc": result.rc, "attempts": attempts})
        answer: dict[str, Any] = {"results": results, "error": None, "finished": ended, "renamed": False}
        rename = request.get("rename")
        if rename:
            files = fake_lifecycle.ready(self.docker)["files"]
            source, target = str(rename["from"]), str(rename["to"])
            if failed:
                files.pop(source, None)
            elif source not in files:
                # File.Replace (target there) / File.Move of a missing source: FileNotFoundException,
                # .NET Framework's texts for ERROR_FILE_NOT_FOUND without and with a path
                # (referencesource.microsoft.com, mscorlib System/IO/__Error.cs).
                message = ('Exception calling "Replace" with "3" argument(s): "Unable to find the specified file."'
                           if target in files else
                           'Exception calling "Move" with "2" argument(s): "Could not find file \'%s\'."' % source)
                answer = {"results": [], "error": {"kind": "exception", "message": message}, "finished": ended}
            else:
                files[target] = files.pop(source)
                answer["renamed"] = True
        self.write(path, "results.json", answer, mtime=ended)
        self.event("runner_finished", job=job)

    def run_call(self, job: str, call: Mapping[str, Any]) -> fwh.Process:
        """Start-Process of the runner: docker.exe with the call's command line and variables."""
        if call.get("path") != DOCKER_PATH:
            raise FakeHostError("the fake host only runs docker.exe in jobs, not %r" % call.get("path"))
        full = dotnet_command_line(DOCKER_PATH, str(call.get("cmdline") or ""))
        argv = split_windows_command_line(full)[1:]
        process: dict[str, Any] = {"exe": "docker", "cmdline": call.get("cmdline"), "argv": argv,
                                   "command_line_length": utf16_length(full), "job": job}
        if call.get("env"):
            process["env"] = call["env"]
        self.record["processes"].append(process)
        result = self.docker.run(argv, None, call.get("env"))
        process["rc"] = result.rc
        return result


# --------------------------------------------------------------------------------------------
# the scripts


def _request(lines: Sequence[str], record: dict[str, Any]) -> dict[str, Any]:
    """ConvertFrom-Request."""
    text = "\n".join(lines)
    if not text.strip():
        raise Thrown("the request line on stdin is empty")
    try:
        request = json.loads(text)
    except ValueError as exc:
        raise Thrown("Invalid JSON primitive: %s" % exc) from None
    record["request"] = request
    return request


def _check_ids(request: Mapping[str, Any]) -> None:
    text = "%s %s" % ("" if request.get("job") is None else request["job"],
                      "" if request.get("token") is None else request["token"])
    if not re.fullmatch(r"[0-9a-f]{32} [0-9a-f]{32}", text):
        raise Thrown("invalid job id or token")


def _answer(value: Mapping[str, Any]) -> list[str]:
    return [powershell_json(value)]


def _failure(exc: Thrown) -> list[str]:
    """Write-Failure."""
    return _answer({"error": {"kind": exc.kind, "message": str(exc)}})


def _jobs(self: FakeWindowsHost, docker: FakeDocker, record: dict[str, Any]) -> Jobs:
    jobs = Jobs(docker, record, self.directory)
    jobs.finish_runners()
    return jobs


def script_job_start(self: FakeWindowsHost, lines: list[str], record: dict[str, Any], scenario: Mapping[str, Any],
                     docker: FakeDocker) -> list[str]:
    """powershell_scripts.JOB_START."""
    jobs = _jobs(self, docker, record)
    try:
        request = _request(lines, record)
        job = "" if request.get("job") is None else str(request["job"])
        _check_ids(request)
        locks = [key for key in (request.get("locks") or []) if key]
        for key in locks:
            if not re.fullmatch(r"[0-9a-f]{64}", str(key)):
                raise Thrown("invalid lock key '%s'" % key)
        calls = []
        for call in request.get("calls") or []:
            exe = str(call.get("exe"))
            if exe not in fwh.KNOWN_EXECUTABLES:
                raise Thrown("unknown executable '%s'" % exe)
            if scenario.get(exe, "present") == "missing":
                return _answer({"error": {"kind": "not_found", "exe": exe, "message": "%s.exe was not found on this host" % exe}})
            calls.append({"path": fwh.KNOWN_EXECUTABLES[exe], "cmdline": str(call.get("cmdline") or ""),
                          "env": call.get("env")})
        if not re.fullmatch(r"[0-9a-f]{64}", str(request.get("runner"))):
            raise Thrown("invalid runner sha256")
        # The runner's command line travels inside job_start's own (pinned) text; the runner is the
        # one stage_script put in <root>\\scripts, or the answer is that it is missing.
        FakeWindowsHost._check_emulated("JOB_RUNNER_BOOTSTRAP", fwh._powershell_scripts().JOB_RUNNER_BOOTSTRAP)
        root = jobs.get_job_root(True)
        runner = docker.state.get("staged_scripts", {}).get(staged_key("job_runner", str(request["runner"])))
        if runner is None:
            return _answer({"state": "runner_missing", "error": None})
        FakeWindowsHost._check_emulated("job_runner", runner)
        grace = 60.0 if request.get("start_grace") is None else float(request["start_grace"])
        claim_age = 60.0 if request.get("claim_age") is None else float(request["claim_age"])
        now = jobs.now

        # The sweep: .trash- entries, jobs that do not run and that no run started, polled or saw
        # end for claim_age, and locks whose job is gone.
        for name in jobs.root_entries():
            path = root + "\\" + name
            try:
                if name.startswith(".trash-"):
                    del jobs.host["entries"][name]
                    jobs.event("swept", entry=name)
                elif _HEX32.fullmatch(name) and name.lower() != job.lower() and jobs.test_private_directory(path, (jobs.user,)):
                    names = [n for n in jobs.files(path) if n.startswith("claim-")] + ["request.json", "results.json"]
                    last = max([jobs.last_write(path)] + [jobs.last_write(path, n) for n in names])
                    if now - last > claim_age and jobs.stale_reason(path, grace) in STALE:
                        jobs.event("swept", entry=name)
                        jobs.remove_job(name)
            except Thrown:
                pass  # another run removes it right now, or it is not this user's
        for name in [n for n in jobs.root_entries() if n.endswith(".lock")]:
            entry = jobs.host["entries"][name]
            holder = str(entry.get("content"))
            if entry.get("kind") != "file":
                continue
            if not _HEX32.fullmatch(holder) or jobs.directory(root + "\\" + holder) is None:
                del jobs.host["entries"][name]
                jobs.event("swept", entry=name)

        path = root + "\\" + job
        claim = "claim-%s" % request["token"]
        discarded = None
        for _attempt in range(3):
            jobs.create_directory(path)
            if not jobs.test_private_directory(path, (jobs.user,)):
                continue
            won = jobs.new_exclusive_file(path, "request.json.tmp")
            if won and jobs.exists(path, "request.json"):
                jobs.delete(path, "request.json.tmp")
                won = False
            elif won and len(jobs.files(path)) > 1:
                jobs.remove_job(job)  # what a failed start left
                discarded = "incomplete"
                continue
            if not won:
                if jobs.exists(path, claim):
                    jobs.write(path, claim, "")
                    return _answer({"state": "attached", "discarded": None, "error": None})
                reason = jobs.stale_reason(path, grace)
                if reason == "busy":
                    return _answer({"state": "busy", "discarded": None, "error": None})
                if reason:
                    jobs.remove_job(job)
                    discarded = reason
                    continue
                jobs.write(path, claim, "")
                return _answer({"state": "attached", "discarded": None, "error": None})
            held = []
            for key in locks:
                lock = "%s.lock" % key
                taken = jobs.new_exclusive_file(root, lock, job)
                if not taken:
                    holder = str(jobs.host["entries"][lock].get("content"))
                    free = (holder == job or not _HEX32.fullmatch(holder)
                            or jobs.directory(root + "\\" + holder) is None)
                    if not free:
                        free = jobs.stale_reason(root + "\\" + holder, grace) in STALE
                    if free:
                        del jobs.host["entries"][lock]
                        taken = jobs.new_exclusive_file(root, lock, job)
                if not taken:
                    for name in held:
                        jobs.host["entries"].pop(name, None)
                    del jobs.host["entries"][job]
                    return _answer({"state": "locked", "lock": key, "holder": jobs.host["entries"][lock]["content"],
                                    "error": None})
                held.append(lock)
            jobs.write(path, "runner.ps1", "JOB_RUNNER")
            jobs.delete(path, "request.json.tmp")
            jobs.write(path, "request.json", {"parallel": request.get("parallel"), "retries": request.get("retries"),
                                              "calls": calls, "created": now, "locks": locks,
                                              "rename": request.get("rename")})
            jobs.write(path, claim, "")
            settings = config(scenario)
            refused = None
            if settings.get("breakaway") == "refused":
                # The provider host's job object lacks JOB_OBJECT_LIMIT_BREAKAWAY_OK: CreateProcess with
                # CREATE_BREAKAWAY_FROM_JOB fails ("Process Creation Flags" says only that the job must
                # set that limit; public reports, such as a Chromium issue on CreateProcessAsUserW with
                # this flag, show ERROR_ACCESS_DENIED, 0x5), and no process is made. 2 is the
                # documented "Access denied" return value of Win32_Process.Create ("Create method of the
                # Win32_Process class"); that it is the value reported here is an inference, not a
                # capture, which is why job_start treats every non-zero value (and a CIM error) alike.
                refused = "return value 2"
                jobs.event("breakaway_refused", job=job)
            if settings.get("wmi") == "fails":
                # Invoke-CimMethod throws when WMI itself fails (a CimException, e.g. "Access denied":
                # learn.microsoft.com, Invoke-CimMethod); the script removes the half-made job first.
                jobs.remove_job(job)
                raise Thrown("Access denied ")
            jobs.start_runner(job, breakaway=refused is None)
            return _answer({"state": "started", "discarded": discarded, "breakaway_refused": refused, "error": None})
        raise Thrown("%s: the job directory keeps changing" % path)
    except Thrown as exc:
        return _failure(exc)


def _existing_job(jobs: Jobs, request: Mapping[str, Any]) -> str | None:
    """The job directory job_status and job_cleanup act on (their scripts' shared opening): the
    IDs checked, the root found without creating it, the directory private to the user; else None."""
    _check_ids(request)
    root = jobs.get_job_root(False)
    path = None if root is None else root + "\\" + str(request["job"])
    if path is None or not jobs.test_private_directory(path, (jobs.user,)):
        return None
    return path


def script_job_status(self: FakeWindowsHost, lines: list[str], record: dict[str, Any], scenario: Mapping[str, Any],
                      docker: FakeDocker) -> list[str]:
    """powershell_scripts.JOB_STATUS."""
    jobs = _jobs(self, docker, record)
    try:
        request = _request(lines, record)
        path = _existing_job(jobs, request)
        if path is None or not jobs.exists(path, "request.json"):
            return _answer({"exists": False, "claimed": False, "error": None})
        claim = "claim-%s" % request["token"]
        claimed = jobs.exists(path, claim)
        if claimed:
            jobs.write(path, claim, "")  # before and after the wait: the answer's pass does both at once
        # The wait for results.json (at most 10 s), in steps of 100 ms as the script sleeps; the
        # fake host lets other exchanges in meanwhile (and keeps nothing of the passes that wait).
        wait = min(10.0, max(0.0, float(request.get("wait") or 0)))
        deadline = record.setdefault("wait_until", jobs.now + wait)
        if jobs.now < deadline and not jobs.exists(path, "results.json"):
            raise RetryLater(min(0.1, deadline - jobs.now))
        runner_pid = str(jobs.read_shared(path, "runner.pid"))
        alive = jobs.live_process(runner_pid) is not None
        count = len(jobs.read_shared(path, "request.json").get("calls") or [])
        outputs = [{"stdout": jobs.read_shared(path, "%d.out" % i), "stderr": jobs.read_shared(path, "%d.err" % i)}
                   for i in range(count)]
        finished = copy.deepcopy(jobs.read_shared(path, "results.json")) or None
        return _answer({"exists": True, "claimed": claimed, "started": bool(_PID_LINE.match(runner_pid)),
                        "alive": alive, "finished": finished, "outputs": outputs, "error": None})
    except Thrown as exc:
        return _failure(exc)


def script_job_cleanup(self: FakeWindowsHost, lines: list[str], record: dict[str, Any], scenario: Mapping[str, Any],
                       docker: FakeDocker) -> list[str]:
    """powershell_scripts.JOB_CLEANUP."""
    jobs = _jobs(self, docker, record)
    try:
        request = _request(lines, record)
        path = _existing_job(jobs, request)
        if path is None:
            return _answer({"removed": False, "error": None})
        if not request.get("kill"):
            jobs.delete(path, "claim-%s" % request["token"])
            if not jobs.exists(path, "results.json") and jobs.live_process(jobs.read_shared(path, "runner.pid")):
                return _answer({"removed": False, "error": None})
            since = jobs.now - (60.0 if request.get("claim_age") is None else float(request["claim_age"]))
            for name in sorted(jobs.files(path)):
                if name.startswith("claim-") and jobs.last_write(path, name) > since:
                    return _answer({"removed": False, "error": None})
        jobs.remove_job(str(request["job"]))
        return _answer({"removed": True, "error": None})
    except Thrown as exc:
        return _failure(exc)


def inflate(payload: str) -> str:
    """What stage_script.ps1 makes of a payload: base64, then raw DEFLATE
    (System.IO.Compression.DeflateStream, learn.microsoft.com), read as UTF-8."""
    try:
        return zlib.decompress(base64.b64decode(payload, validate=True), -15).decode("utf-8")
    except (ValueError, zlib.error) as exc:
        raise FakeHostError("a staged script is not deflated text in base64: %s" % exc) from exc


def staged_key(name: str, digest: str) -> str:
    """The name (without its extension) under which stage_script keeps a script in <root>\\scripts."""
    return "%s-%s" % (name, digest[:32])


def script_stage_script(self: FakeWindowsHost, lines: list[str], record: dict[str, Any], scenario: Mapping[str, Any],
                        docker: FakeDocker) -> list[str]:
    """stage_script.ps1: the root found (and made) as every job script does; the request and, when
    sent, the script (inflated) are checked against their sha256, then kept in the job root's
    scripts folder (here: the host state's ``staged_scripts``)."""
    jobs = _jobs(self, docker, record)
    try:
        request = _request(lines, record)
        name, digest, data_digest = str(request.get("name")), str(request.get("sha256")), request.get("data_sha256")
        if not re.fullmatch(r"[a-z_]{1,32} [0-9a-f]{64}", "%s %s" % (name, digest)) or (
                data_digest and not re.fullmatch(r"[0-9a-f]{64}", str(data_digest))):
            raise Thrown("invalid script name or sha256")
        jobs.get_job_root(True)
        staged_scripts = docker.state.setdefault("staged_scripts", {})
        wanted = []
        if data_digest:
            wanted.append(("data-%s" % str(data_digest)[:32], str(request.get("data")), str(data_digest)))
        script_key = staged_key(name, digest)
        if request.get("payload") and script_key not in staged_scripts:
            wanted.append((script_key, inflate(str(request["payload"])), digest))
        for key, text, want in wanted:
            if hashlib.sha256(text.encode("utf-8")).hexdigest() != want:
                raise Thrown("%s: what was sent does not match its sha256" % key)
            staged_scripts.setdefault(key, text)
        docker.changed = True
        jobs.event("staged", script=script_key, staged=any(key == script_key for key, _text, _want in wanted))
        return _answer({"staged": any(key == script_key for key, _text, _want in wanted),
                        "missing": script_key not in staged_scripts, "error": None})
    except Thrown as exc:
        return _failure(exc)


# --------------------------------------------------------------------------------------------
# registration


def finish_runners_hook(host: FakeWindowsHost, docker: FakeDocker, record: dict[str, Any]) -> None:
    """Every exchange first lets the runners whose time has come finish (their calls' effects
    are there for whatever the exchange runs)."""
    if "job_host" in docker.state or config(docker.scenario):
        Jobs(docker, record, host.directory).finish_runners()


def register() -> None:
    """Add this module's emulations to the classes of ``fake_windows_host`` (called once, there)."""
    for name, handler in (("job_start", script_job_start), ("job_status", script_job_status),
                          ("job_cleanup", script_job_cleanup), ("stage_script", script_stage_script)):
        setattr(FakeWindowsHost, "_script_" + name, handler)
    fwh.EXCHANGE_HOOKS.append(finish_runners_hook)
    fwh.RETRY_EXCEPTIONS.append(RetryLater)

    fwh.allow_scenario_key(SCENARIO_KEY)
