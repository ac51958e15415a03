# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fake Windows host's emulation of docker_login's ``login_state`` and ``login_verify`` scripts.

Registered at the end of ``fake_windows_host.py`` (``register()``). ``login_state`` answers the docker
client configuration (``FakeWindowsHost._docker_client_config``, scenario key ``docker_client``:
files, credential helpers' ``list``), plus the comparison of the registry's stored credential with the request's salted
HMAC. The Windows facts it models, with their public sources:

* ``config.json``'s ``auths.<key>.auth`` is the base64 of ``user:password`` (UTF-8), and an
  ``identitytoken`` is kept next to it when the registry answered the login with one (docker/cli
  ``cli/config/configfile/file.go``: encodeAuth / decodeAuth; ``cli/config/types/authconfig.go``).
* Credential helpers (github.com/docker/docker-credential-helpers, README "Usage" and
  ``credentials/credentials.go``, ``credentials/error.go``): ``get`` reads the server URL on stdin and
  prints ``{"ServerURL", "Username", "Secret"}``; a server it does not hold prints ``credentials not
  found in native keychain`` and exits 1. docker stores an identity token with the user name
  ``<token>`` (docker/cli ``cli/config/credentials/native_store.go``). In a WinRM or SSH session
  ``docker-credential-wincred.exe`` fails every command with "A specified logon session does not
  exist" (docker/cli#1263, #4353): the scenario's ``list`` failure is also what ``get`` answers.
* HMAC-SHA256 (System.Security.Cryptography.HMACSHA256 of .NET Framework, learn.microsoft.com) is the
  RFC 2104 HMAC that Python's ``hmac`` computes.
* ``[IO.Path]::GetTempPath()`` is %TEMP% with a trailing backslash (learn.microsoft.com,
  Path.GetTempPath: TMP, then TEMP, then USERPROFILE); for an interactive-profile account
  %USERPROFILE%\\AppData\\Local\\Temp\\.

Scenario additions under ``docker_client.credential_helpers.<name>``: ``stored`` (server URL ->
``{"Username", "Secret"}``, what ``get`` returns). ``login_verify`` runs its call through ``FakeDocker``
with DOCKER_CONFIG set to the new directory and records ``temp_dir`` (path, ACL, removed) in the exchange.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import Any

from fake_windows_host import (
    KNOWN_EXECUTABLES,
    FakeDocker,
    FakeWindowsHost,
    dotnet_command_line,
    input_preamble,
    known_scripts,
    powershell_json,
    split_windows_command_line,
)

NOT_FOUND = "credentials not found in native keychain\n"
# The protected ACL login_verify gives its directory (inheritance off).
PRIVATE_ACL = ("S-1-5-18", "S-1-5-32-544", "<current user>")


def server_host(server: str) -> str:
    """Get-ServerHost: after any scheme, before any path and user info, lower case."""
    text = server.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    return text.split("/", 1)[0].split("@")[-1].lower()


class Comparison:
    def __init__(self, request: Mapping[str, Any]) -> None:
        self.salt = base64.b64decode(request["salt"]) if request.get("digest") else None
        self.digest = base64.b64decode(request["digest"]) if request.get("digest") else b""
        self.hosts = {str(h).lower() for h in request.get("hosts") or []} if self.salt is not None else set()

    def wanted(self, server: str) -> bool:
        return self.salt is not None and server_host(server) in self.hosts

    def same(self, stored: bytes) -> str:
        assert self.salt is not None
        return "match" if hmac.compare_digest(hmac.new(self.salt, stored, hashlib.sha256).digest(), self.digest) else "differs"

    def entry(self, entry: Any) -> str:
        if not entry:
            return "absent"
        if entry.get("identitytoken"):
            return "token"
        if not entry.get("auth"):
            return "absent"
        try:
            return self.same(base64.b64decode(str(entry["auth"]), validate=True))
        except (ValueError, binascii.Error):
            return "differs"


def helper_get(helper: Mapping[str, Any], server: str, comparison: Comparison, record: dict[str, Any], name: str) -> str:
    listed_rc = int(helper.get("rc", 0))
    stored = (helper.get("stored") or {}).get(server)
    if listed_rc != 0:
        rc, stdout = listed_rc, str(helper.get("stderr") or "") + str(helper.get("stdout") or "")
    elif stored is None:
        rc, stdout = 1, NOT_FOUND
    else:
        rc, stdout = 0, json.dumps({"ServerURL": server, "Username": stored["Username"], "Secret": stored["Secret"]})
    record["processes"].append({"exe": "docker-credential-" + name, "cmdline": "get", "argv": ["get"],
                                "stdin": server, "rc": rc})
    if rc != 0:
        return "absent" if "credentials not found" in stdout else "unknown"
    if stored["Username"] == "<token>":
        return "token"
    return comparison.same(("%s:%s" % (stored["Username"], stored["Secret"])).encode("utf-8"))


def script_login_state(self: FakeWindowsHost, lines: list[str], record: dict[str, Any], scenario: Mapping[str, Any],
                       docker: FakeDocker) -> list[str]:
    """login_state.ps1: the client configuration (FakeWindowsHost._docker_client_config) plus the comparisons."""
    [line] = self._docker_client_config(lines, record, scenario, docker)
    answer = json.loads(line)
    if answer.get("error"):
        return [line]
    request = record["request"]
    comparison = Comparison(request)
    client = scenario.get("docker_client") or {}
    text = (client.get("files") or {}).get(answer["config_file"])
    config = json.loads(text) if answer["exists"] and str(text).strip() else {}
    for key, entry in (config.get("auths") or {}).items():
        answer["auths"][key]["credential"] = comparison.entry(entry) if comparison.wanted(key) else None
    on_path = client.get("credential_helpers") or {}
    for name, helper_answer in answer["helpers"].items():
        credentials: dict[str, str] = {}
        if helper_answer.get("found"):
            helper = on_path[name]
            if helper_answer.get("users") is None:
                if comparison.salt is not None:
                    server = str(request.get("server") or "")
                    credentials[server] = helper_get(helper, server, comparison, record, name)
            else:
                for listed in helper_answer["users"]:
                    if comparison.wanted(listed):
                        credentials[listed] = helper_get(helper, listed, comparison, record, name)
        helper_answer["credentials"] = credentials
    answer["compared"] = comparison.salt is not None
    return [powershell_json(answer)]


def script_login_verify(self: FakeWindowsHost, lines: list[str], record: dict[str, Any], scenario: Mapping[str, Any],
                        docker: FakeDocker) -> list[str]:
    """login_verify.ps1: the docker login call with DOCKER_CONFIG in a new private
    directory under %TEMP%, removed afterwards."""
    del self
    request = json.loads("\n".join(lines))
    record["request"] = request
    call = request["call"]
    exe = str(call["exe"])
    if exe not in KNOWN_EXECUTABLES:
        return [powershell_json({"error": {"kind": "exception", "message": "unknown executable '%s'" % exe}})]
    if scenario.get(exe, "present") == "missing":
        return [powershell_json({"error": {"kind": "not_found", "exe": exe, "message": "%s.exe was not found on this host" % exe}})]
    client = scenario.get("docker_client") or {}
    temp = str(client.get("temp") or str(client.get("user_profile") or "C:\\Users\\ansible-svc") + "\\AppData\\Local\\Temp\\")
    directory = temp + "wincontainers-login-" + uuid.uuid4().hex
    environment = dict(call.get("env") or {})
    environment["DOCKER_CONFIG"] = directory
    full = dotnet_command_line(KNOWN_EXECUTABLES[exe], str(call["cmdline"]))
    argv = split_windows_command_line(full)[1:]
    stdin = call.get("stdin")
    process: dict[str, Any] = {"exe": exe, "cmdline": call["cmdline"], "argv": argv, "env": environment}
    if stdin is not None:
        process["stdin"] = stdin
        if input_preamble(record, scenario, known_scripts()["login_verify"]):
            stdin = "\ufeff" + str(stdin)
            process["stdin_preamble"] = True
    result = docker.run(argv, None if stdin is None else str(stdin), environment)
    process["rc"] = result.rc
    record["processes"].append(process)
    record["temp_dir"] = {"path": directory, "acl": list(PRIVATE_ACL), "protected": True,
                          "config_json": '{"auths": {"wincontainers.images.invalid": {}}}', "removed": True}
    return [powershell_json({"result": {"rc": result.rc, "stdout": result.stdout, "stderr": result.stderr},
                             "removed": True, "error": None})]


def register() -> None:
    """Add this module's emulations to ``FakeWindowsHost`` (called once, in fake_windows_host)."""
    FakeWindowsHost._script_login_state = script_login_state  # type: ignore[attr-defined]
    FakeWindowsHost._script_login_verify = script_login_verify  # type: ignore[attr-defined]
