# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Windows suite's own machinery, checked on any platform: how ``run_execs`` starts an exec,
its job object structures, the registry stand-in, the skip on other platforms, and the CI
workflow that runs the suite on GitHub's Windows runners."""

from __future__ import annotations

import base64
import ctypes
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import run_execs
from basic_auth_registry import BasicAuthRegistry
from build_execs import example

REPO_ROOT = Path(__file__).resolve().parents[2]
ENVIRON = {"SystemRoot": "C:\\Windows", "ComSpec": "C:\\Windows\\system32\\cmd.exe"}


# --- how an exec is started -------------------------------------------------------------------------


def test_through_cmd_the_command_line_follows_cmd_exe_slash_c_unchanged() -> None:
    ex = example("docker_version")
    assert run_execs.process_arguments(ex, "cmd", environ=ENVIRON) == '"C:\\Windows\\system32\\cmd.exe" /c ' + ex.command
    assert run_execs.process_arguments(ex, "cmd", chcp_utf8=True, environ=ENVIRON) == (
        '"C:\\Windows\\system32\\cmd.exe" /c chcp.com 65001 >nul 2>&1 && ' + ex.command)


def test_directly_powershell_exe_gets_the_bootstrap_s_arguments() -> None:
    ex = example("job_start")
    arguments = run_execs.process_arguments(ex, "powershell", environ=ENVIRON)
    assert arguments[0] == "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
    assert arguments[1:-1] == ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Unrestricted", "-EncodedCommand"]
    assert " ".join(["PowerShell", *arguments[1:]]) == ex.command
    with pytest.raises(ValueError):
        run_execs.process_arguments(ex, "powershell", chcp_utf8=True, environ=ENVIRON)
    with pytest.raises(ValueError):
        run_execs.process_arguments(ex, "wsl", environ=ENVIRON)


def test_cmd_exe_defaults_to_system32() -> None:
    assert run_execs.cmd_exe({"SystemRoot": "D:\\Win"}) == "D:\\Win\\System32\\cmd.exe"


@pytest.mark.skipif(sys.maxsize < 2**32, reason="the sizes below are those of 64-bit Windows")
def test_the_job_object_structures_have_64_bit_windows_sizes() -> None:
    # winnt.h: JOBOBJECT_BASIC_LIMIT_INFORMATION (two LARGE_INTEGERs, DWORDs, SIZE_Ts,
    # ULONG_PTR) is 64 bytes on x64; with IO_COUNTERS (six ULONGLONGs) and four SIZE_Ts the
    # extended structure is 144; LimitFlags sits after the two LARGE_INTEGERs.
    assert ctypes.sizeof(run_execs.IO_COUNTERS) == 48
    assert ctypes.sizeof(run_execs.JOBOBJECT_BASIC_LIMIT_INFORMATION) == 64
    assert ctypes.sizeof(run_execs.JOBOBJECT_EXTENDED_LIMIT_INFORMATION) == 144
    assert run_execs.JOBOBJECT_BASIC_LIMIT_INFORMATION.LimitFlags.offset == 16
    assert run_execs.JOBOBJECT_EXTENDED_LIMIT_INFORMATION.IoInfo.offset == 64


def test_outside_windows_the_runner_tests_skip_with_the_reason() -> None:
    import test_windows_host

    mark = test_windows_host.pytestmark.mark
    assert mark.name == "skipif"
    assert mark.kwargs["reason"] == (
        "needs Windows PowerShell 5.1 and docker.exe: run on a Windows host, see docs/testing-on-windows.md")
    assert mark.args[0] is (not run_execs.IS_WINDOWS or not Path(run_execs.powershell_exe()).is_file())
    if not run_execs.IS_WINDOWS:
        assert mark.args[0] is True
        with pytest.raises(RuntimeError, match="docs/testing-on-windows.md"):
            run_execs.execute(example("docker_version"))


# --- the registry stand-in --------------------------------------------------------------------------


def _get(address: str, credentials: bytes | None = None) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request("http://%s/v2/" % address)
    if credentials is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(credentials).decode("ascii"))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def test_the_registry_stand_in_challenges_then_keeps_the_exact_bytes() -> None:
    user, password = "wc-us\u00e9r", "\u00e9t\u00e9-\u6f22\u5b57 \\ \""
    with BasicAuthRegistry(user, password) as registry:
        host, port = registry.address.split(":")
        # What the engine's HTTPS attempt sends first: a TLS ClientHello; the connection is closed.
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            raw.sendall(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 32)
            try:
                assert raw.recv(64) == b""
            except ConnectionResetError:
                pass
        status, headers = _get(registry.address)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic realm=")
        assert headers["Docker-Distribution-API-Version"] == "registry/2.0"
        expected = ("%s:%s" % (user, password)).encode("utf-8")
        assert _get(registry.address, b"\xef\xbb\xbf" + expected)[0] == 401
        assert _get(registry.address, expected)[0] == 200
        assert registry.received == [b"\xef\xbb\xbf" + expected, expected]


# --- the CI workflow -----------------------------------------------------------------------------------


def test_the_windows_workflow_runs_the_suite_on_both_runners() -> None:
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "windows.yml").read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare "on" as true
    assert {"push", "pull_request", "workflow_dispatch"} <= set(triggers)
    [job] = workflow["jobs"].values()
    assert job["strategy"]["matrix"]["os"] == ["windows-2022", "windows-2025"]
    assert job["runs-on"] == "${{ matrix.os }}" and job["timeout-minutes"] <= 60
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    uses = [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    assert "pip install -r tests/windows/requirements.txt" in runs
    assert "docker version" in runs and "python -m pytest tests/windows" in runs
    requirements = (REPO_ROOT / "tests" / "windows" / "requirements.txt").read_text(encoding="utf-8")
    assert [line.split("~=")[0] for line in requirements.splitlines() if line and not line.startswith("#")] == ["pytest"]
