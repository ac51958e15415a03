# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fake Windows host's emulation of a restart driven by ``ansible.windows.win_reboot``.

The container_host role restarts a host with ``ansible.windows.win_reboot``, a controller-side action
plugin of that collection. It sends the host three kinds of execs through the task's own connection,
each a PowerShell script as ``PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted
-EncodedCommand <base64>`` with no input, so none of them is one of this collection's constant scripts
(which the fake host otherwise insists on). They are accepted here, and only here, when they are exactly
the texts of the installed ``ansible.windows`` (the collection bootstrap.sh installs into
``<venv>/collections``): this file reads them from its ``plugins/plugin_utils/_reboot.py`` with ``ast``
(no text of that collection is copied into this repository), and refuses to run when that file is not
the one the emulation was written against (``REBOOT_SOURCE_SHA256``: ansible.windows 3.8.0). The three:

* **boot time**: ``(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime)
  .LastBootUpTime.ToFileTime()``: prints the last boot as a Windows file time, the number of 100 ns
  intervals since 1601-01-01 UTC (learn.microsoft.com: Win32_OperatingSystem class, LastBootUpTime;
  DateTime.ToFileTime). win_reboot runs it before the restart and polls it afterwards until it changes.
* **the restart**: removes ``HKLM:\\...\\Winlogon\\AutoLogonChecked`` (``Remove-Item -ErrorAction
  SilentlyContinue``), runs ``C:\\Windows\\System32\\shutdown.exe /r /t <seconds> /c <comment>`` and prints
  ``{"stdout", "stderr", "rc"}`` as compressed JSON. ``shutdown /r`` restarts the computer after the
  time-out ``/t`` (0-315360000 seconds), ``/c`` is a comment of at most 512 characters, and it prints
  nothing when it succeeds (learn.microsoft.com: Windows commands, shutdown); a second shutdown while one
  is scheduled fails with ERROR_SHUTDOWN_IS_SCHEDULED, 1190 (learn.microsoft.com: System Error Codes
  1000-1299), which win_reboot aborts with ``shutdown /a``: not emulated (a harness error).
* **the test command** (win_reboot's default ``test_command``, which "detects when the Windows Logon screen
  is up and ready to accept credentials", ansible.windows win_reboot documentation): ``Get-Item
  -LiteralPath 'HKLM:\\...\\AutoLogonChecked' -ErrorAction Stop; 'success-<uuid>'``. LogonUI creates that
  volatile key when it shows the logon screen, so it exists after the restart (win_reboot's source, and
  learn.microsoft.com about_Registry_Provider for Get-Item on a key). Found, Get-Item prints the key in
  PowerShell 5.1's default view of a registry key (a ``Hive:`` header, then the ``Name`` and ``Property``
  columns; over PSRP the key object itself, whose string is its full name, RegistryKey.ToString), then
  the string; missing, it fails with ``Cannot find path '...' because it does not exist.`` (an
  ItemNotFoundException, PathNotFound) and powershell.exe exits 1.

The restart itself: at the scheduled time the host stops answering, for ``reboot_seconds`` seconds
(scenario key ``reboot``, default 4): the WS-Management endpoint drops every HTTP connection without an
answer (``fake_wsman.py``) and the fake ssh fails as OpenSSH's client does when nothing listens (``ssh:
connect to host HOST port 22: Connection refused``, exit code 255; ``fake_ssh.py``). Then it is up with a
new boot time, no WinRM shell of before (``The request for the Windows Remote Shell with ShellId ... failed
because the shell was not found``), the AutoLogonChecked key present, and the container host's pending
feature installs finished and automatic services started (``fake_container_engine.reboot``).

win_reboot's polling waits 1-2, 2-3, 4-5 s... between tries (its exponential backoff), so one restart
costs a task about 10 s here.

State (``state.json``) key ``reboot``: ``boot_time``, ``scheduled`` (``at``, ``up_at``), ``autologon_checked``,
``restarts`` (one record per ``shutdown /r``), ``refused`` (connections refused while down).
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import fake_windows_host as fwh
from fake_windows_host import FakeHostError, FakeWindowsHost, HostAnswer

# plugins/plugin_utils/_reboot.py of ansible.windows 3.8.0, the text this emulation was written against.
REBOOT_SOURCE_SHA256 = "a497868d257d059225dc1e0b0891913a08a5d95931aacb36de9cb1344dc769fc"
REBOOT_SOURCE = Path("ansible_collections", "ansible", "windows", "plugins", "plugin_utils", "_reboot.py")
INITIAL_BOOT_TIME = 133757784000000000  # 2024-11-12 06:00:00 UTC as a Windows file time
FILETIME_EPOCH_OFFSET = 11644473600  # seconds from 1601-01-01 to 1970-01-01
DEFAULT_REBOOT_SECONDS = 4.0
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def dependency_collections() -> Path:
    """Where scripts/bootstrap.sh installs the collections the content depends on: <venv>/collections of
    the Python that runs the tests (the fake ssh runs with the same Python)."""
    return Path(sys.prefix) / "collections"


class _Commands:
    """win_reboot's command texts, read from the installed ansible.windows."""

    def __init__(self) -> None:
        path = dependency_collections() / REBOOT_SOURCE
        if not path.is_file():
            raise FakeHostError("ansible.windows is not installed in %s (scripts/bootstrap.sh installs it): "
                                "cannot check win_reboot's commands" % dependency_collections())
        source = path.read_bytes()
        digest = hashlib.sha256(source).hexdigest()
        if digest != REBOOT_SOURCE_SHA256:
            raise FakeHostError("%s (sha256 %s) is not the ansible.windows text tests/contract/fake_reboot.py "
                                "emulates (%s): read its diff, make the emulation behave like it, then set "
                                "REBOOT_SOURCE_SHA256" % (path, digest, REBOOT_SOURCE_SHA256))
        tree = ast.parse(source)
        constants = {node.targets[0].id: node.value.value for node in tree.body
                     if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                     and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
        self.logon_key: str = constants["_LOGON_UI_KEY"]
        self.boot_time: str = constants["_DEFAULT_BOOT_TIME_COMMAND"]
        functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        # _execute_command: pwsh_script = command + "<suffix that exits with the command's rc>"
        (suffix,) = [node.value.right.value for node in ast.walk(functions["_execute_command"])
                     if isinstance(node, ast.Assign) and _target(node) == "pwsh_script"]
        self.suffix: str = suffix
        assigns = {_target(node): node.value for node in ast.walk(functions["reboot_host"])
                   if isinstance(node, ast.Assign) and _target(node)}
        # reboot_command = r"""...""" % (str(not test_command), _LOGON_UI_KEY, int(pre_reboot_delay), quote_pwsh(msg))
        template = assigns["reboot_command"].left.value
        parts = re.split(r"(%s)", template)
        if [p for p in parts if p == "%s"] != ["%s"] * 4:
            raise FakeHostError("win_reboot's restart script does not have the four fields emulated")
        fields = iter([r"(True|False)", re.escape(self.logon_key), r"(\d+)", r"'((?:[^']|'')*)'"])
        self.restart = re.compile("".join(next(fields) if p == "%s" else re.escape(p) for p in parts)
                                  + re.escape(self.suffix) + r"\Z")
        # test_command = f"Get-Item -LiteralPath '{_LOGON_UI_KEY}' -ErrorAction Stop; '{expected_test_result}'"
        values = {"_LOGON_UI_KEY": re.escape(self.logon_key), "expected_test_result": "(%s)" % _fstring(
            assigns["expected_test_result"], {"uuid.uuid4()": UUID})}
        self.test = re.compile(_fstring(assigns["test_command"], values) + re.escape(self.suffix) + r"\Z")


def _target(node: ast.Assign) -> str | None:
    target = node.targets[0]
    return target.id if isinstance(target, ast.Name) else None


def _fstring(node: ast.expr, values: Mapping[str, str]) -> str:
    """A regular expression for an f-string: its text literally, each field by ``values``."""
    if not isinstance(node, ast.JoinedStr):
        raise FakeHostError("win_reboot's test command is not the f-string emulated")
    out = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            out.append(re.escape(part.value))
        elif isinstance(part, ast.FormattedValue):
            out.append(values[ast.unparse(part.value)])
    return "".join(out)


_COMMANDS: _Commands | None = None


def commands() -> _Commands:
    global _COMMANDS
    if _COMMANDS is None:
        _COMMANDS = _Commands()
    return _COMMANDS


def filetime(seconds: float) -> int:
    return int((seconds + FILETIME_EPOCH_OFFSET) * 10_000_000)


def reboot_state(state: dict[str, Any]) -> dict[str, Any]:
    return state.setdefault("reboot", {"boot_time": INITIAL_BOOT_TIME, "scheduled": None, "autologon_checked": True,
                                       "restarts": [], "refused": 0})


# --------------------------------------------------------------------------------------------
# the host's availability


def status(directory: str | Path, refuse: bool = True) -> tuple[bool, int]:
    """(down, boots): whether the host is restarting now, and how many restarts it finished.

    A restart whose time has come and whose down time is over is finished here: the host comes up."""
    host = FakeWindowsHost(directory)
    with host._locked():
        path = Path(directory) / fwh.STATE_FILE
        state = json.loads(path.read_text(encoding="utf-8"))
        if "reboot" not in state:
            return False, 0
        info = state["reboot"]
        scheduled = info.get("scheduled")
        now = time.time()
        down = False
        if scheduled and now >= scheduled["at"]:
            if now < scheduled["up_at"]:
                down = True
                if refuse:
                    info["refused"] += 1
            else:
                import fake_container_engine

                info["boot_time"] = filetime(scheduled["up_at"])
                info["autologon_checked"] = True  # LogonUI shows the logon screen
                info["scheduled"] = None
                info["restarts"][-1]["up"] = True
                path.write_text(json.dumps(state, indent=2), encoding="utf-8")
                fake_container_engine.reboot(directory)  # pending features, automatic services
                return False, sum(1 for r in info["restarts"] if r.get("up"))
        if down:
            path.write_text(json.dumps(state, indent=2), encoding="utf-8")
        return down, sum(1 for r in info["restarts"] if r.get("up"))


def is_win_reboot_command(command: str) -> bool:
    """Whether a command line (as ssh hands it over) runs exactly one of win_reboot's scripts."""
    try:
        _inner, script = FakeWindowsHost._collection_command(command)
    except Exception:  # noqa: BLE001 - not an encoded PowerShell command: the fake host's checks decide
        return False
    if "shutdown.exe" not in script and "LastBootUpTime" not in script and "AutoLogonChecked" not in script:
        return False
    cmds = commands()
    return bool(script == cmds.boot_time + cmds.suffix or cmds.restart.match(script) or cmds.test.match(script))


def refused_ssh_message(argv: list[str]) -> str:
    """What OpenSSH's client prints when nothing listens on the host's port 22."""
    destination = argv[-2] if len(argv) >= 2 else "host"
    return "ssh: connect to host %s port 22: Connection refused\r\n" % destination.rsplit("@", 1)[-1]


# --------------------------------------------------------------------------------------------
# the execs


def answer(host: FakeWindowsHost, record: dict[str, Any], script: str, lines: list[str],
           scenario: Mapping[str, Any]) -> HostAnswer | None:
    """win_reboot's exec, answered; None for anything else (the fake host's own checks go on)."""
    if "shutdown.exe" not in script and "LastBootUpTime" not in script and "AutoLogonChecked" not in script:
        return None
    cmds = commands()
    if lines and any(line for line in lines):
        raise FakeHostError("win_reboot's commands have no input; got %d line(s)" % len(lines))
    state_path = host.directory / fwh.STATE_FILE
    state = json.loads(state_path.read_text(encoding="utf-8"))
    info = reboot_state(state)
    if script == cmds.boot_time + cmds.suffix:
        record["script_name"] = "ansible.windows.win_reboot:boot_time"
        output = ["%d" % info["boot_time"]]
        result = HostAnswer(0, output, "")
    elif (match := cmds.restart.match(script)) is not None:
        record["script_name"] = "ansible.windows.win_reboot:restart"
        remove_key, seconds, comment = match.group(1) == "True", int(match.group(2)), match.group(3).replace("''", "'")
        if seconds > 315360000 or len(comment) > 512:
            raise FakeHostError("shutdown /t %d /c of %d characters: out of shutdown.exe's range" % (seconds, len(comment)))
        if info["scheduled"]:
            raise FakeHostError("a second shutdown /r while one is scheduled (1190, then shutdown /a): not emulated")
        if remove_key:
            info["autologon_checked"] = False
        now = time.time()
        down = float((scenario.get("reboot") or {}).get("reboot_seconds", DEFAULT_REBOOT_SECONDS))
        info["scheduled"] = {"at": now + seconds, "up_at": now + seconds + down}
        info["restarts"].append({"timeout": seconds, "comment": comment, "at": now})
        output = [json.dumps({"stdout": "", "stderr": "", "rc": 0}, separators=(",", ":"))]
        result = HostAnswer(0, output, "")
    elif (match := cmds.test.match(script)) is not None:
        record["script_name"] = "ansible.windows.win_reboot:test_command"
        token = match.group(1)
        parent, name = cmds.logon_key.split(":\\", 1)[1].rsplit("\\", 1)
        full = "HKEY_LOCAL_MACHINE\\" + parent + "\\" + name
        if not info["autologon_checked"]:
            message = ("Get-Item : Cannot find path '%s' because it does not exist.\r\n"
                       "    + CategoryInfo          : ObjectNotFound: (%s:String) [Get-Item], ItemNotFoundException\r\n"
                       "    + FullyQualifiedErrorId : PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand\r\n"
                       % (cmds.logon_key, cmds.logon_key))
            result = HostAnswer(1, [], message)
        elif record["transport"] == "psrp":
            result = HostAnswer(0, [full, token], "")
        else:
            hive = "HKEY_LOCAL_MACHINE\\" + parent
            result = HostAnswer(0, ["", "", "    Hive: " + hive, "", "", "Name                           Property",
                                    "----                           --------", name, "", "", token], "")
    else:
        raise FakeHostError("a command that names shutdown.exe, LastBootUpTime or AutoLogonChecked but is not "
                            "exactly one of ansible.windows.win_reboot's (%d characters)" % len(script))
    record["state_changed"] = True
    state_path.write_text(json.dumps(state, indent=2), encoding="utf-8")
    return result


def register() -> None:
    fwh.FOREIGN_COMMANDS.append(answer)
