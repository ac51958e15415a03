# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's constant scripts on this Windows machine, against the real docker.exe.

Each test sends execs exactly as a Windows transport does (``run_execs.execute``: the dialect's
command line through ``cmd.exe /c`` or powershell.exe, its stdin bytes, a kill-on-close job
object) and reads the answers with the dialect's reader. Skipped, with the reason, anywhere but
on Windows. Needs Windows PowerShell 5.1, Docker (docker.exe and a running engine with Windows
containers) and network access to mcr.microsoft.com for one NanoServer image (pulled once when
it is missing; ``WC_WINDOWS_TEST_IMAGE`` names another). Run it as a user that may use the
engine (an administrator, unless daemon.json names a group). See docs/testing-on-windows.md.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import secrets
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import run_execs
from basic_auth_registry import BasicAuthRegistry
from build_execs import (
    build_with_label,
    docker_version,
    events_call,
    file_info,
    host_info,
    images_with_label,
    inspect,
    inspect_everything,
    job_cleanup,
    job_start,
    job_status,
    login,
    login_state,
    login_verify,
    manifest_call,
    parallel_reads,
    remove,
    stage_runner,
    tag,
    unknown_executable,
    version_call,
)
from run_execs import Outcome, execute

pytestmark = pytest.mark.skipif(
    not run_execs.IS_WINDOWS or not os.path.isfile(run_execs.powershell_exe()), reason=run_execs.SKIP_REASON)

SUITE_REPOSITORY = "wctest/windows-suite"
LABEL_KEY = "wc.note"
LABEL_VALUE = "caf\u00e9 \u6f22\u5b57 \U0001f433"  # Latin-1, CJK, and one outside the BMP (a surrogate pair in UTF-16)
USER = "wc-us\u00e9r"
# Non-ASCII from its first character: a UTF-8 BOM in front of it, or a code page's mangling,
# changes the bytes docker.exe reads from its stdin. Quotes and a backslash for the JSON line.
PASSWORD = "\u00e9t\u00e9-\u6f22\u5b57-P@ss'\"w0rd \\ end"
USERS_SID = "S-1-5-32-545"  # BUILTIN\Users


# --- helpers --------------------------------------------------------------------------------------


def ok(outcome: Outcome) -> dict[str, Any]:
    """The answer of an exec that must have worked as a whole (no script error)."""
    assert outcome.answer.get("error") is None, outcome.describe()
    return dict(outcome.answer)


def results(outcome: Outcome) -> list[dict[str, Any]]:
    return list(ok(outcome)["results"])


def json_documents(text: str) -> list[Any]:
    """Every JSON document in ``text`` (append_lines_of joins one array per chunk)."""
    decoder = json.JSONDecoder()
    documents, index, text = [], 0, text.strip()
    while index < len(text):
        document, index = decoder.raw_decode(text, index)
        documents.append(document)
        while index < len(text) and text[index].isspace():
            index += 1
    return documents


def docker_exe() -> str:
    found = shutil.which("docker")
    if found:
        return found
    for candidate in (os.path.join(os.environ.get("ProgramFiles", "C:\\Program Files"), "Docker", "docker.exe"),
                      os.path.join(os.environ.get("ProgramFiles", "C:\\Program Files"), "Docker", "Docker",
                                   "resources", "bin", "docker.exe")):
        if os.path.isfile(candidate):
            return candidate
    pytest.fail("docker.exe is neither on PATH nor in %ProgramFiles%\\Docker: install Docker (see docs/testing-on-windows.md)")


def docker(*arguments: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """The test's own docker calls (setup and cleanup), outside the collection's scripts."""
    return subprocess.run([docker_exe(), *arguments], capture_output=True, text=True, encoding="utf-8",
                          errors="replace", timeout=timeout, check=False)


def default_base_image() -> str:
    """The NanoServer image for this host: the newest LTSC build at or below the host's."""
    build = run_execs.windows_build()
    if build >= 26100:
        return "mcr.microsoft.com/windows/nanoserver:ltsc2025"
    if build >= 20348:
        return "mcr.microsoft.com/windows/nanoserver:ltsc2022"
    return "mcr.microsoft.com/windows/nanoserver:1809"


def job_directory(job: str) -> Path:
    return Path(os.environ["ProgramData"]) / "wincontainers.images" / "jobs" / job


def wait_until_started(job: str, token: str, seconds: float = 90.0) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        status = ok(execute(job_status(job, token)))
        assert status["exists"] and status["claimed"], status
        if status["started"]:
            return status
        assert time.monotonic() < deadline, "the job's runner did not start within %d s: %s" % (seconds, status)
        time.sleep(1.0)


def start(job: str, token: str, calls: list[Any], via: str | None = None) -> Outcome:
    """job_start as HostJob sends it: on a host without the runner, stage it and ask again."""
    options = {"via": via} if via else {}
    outcome = execute(job_start(job, token, calls), **options)
    if outcome.answer.get("state") == "runner_missing":
        staged = ok(execute(stage_runner()))
        assert staged["missing"] is False, staged
        outcome = execute(job_start(job, token, calls), **options)
    return outcome


def in_a_job_object(pid: int) -> bool:
    """IsProcessInJob(process, NULL): whether the process runs in any job object.
    https://learn.microsoft.com/en-us/windows/win32/api/jobapi/nf-jobapi-isprocessinjob"""
    program = (
        "$k = Add-Type -Name Jobs -Namespace WcTest -PassThru -MemberDefinition "
        "'[DllImport(\"kernel32.dll\", SetLastError = true)] public static extern bool IsProcessInJob(IntPtr process, IntPtr job, out bool result);';"
        "$p = [Diagnostics.Process]::GetProcessById(%d); $r = $false;"
        "if (-not $k::IsProcessInJob($p.Handle, [IntPtr]::Zero, [ref]$r)) { exit 2 }; if ($r) { 'yes' } else { 'no' }" % pid)
    done = subprocess.run([run_execs.powershell_exe(), "-NoProfile", "-NonInteractive", "-Command", program],
                          capture_output=True, text=True, errors="replace", timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() in ("yes", "no"), done.stdout + done.stderr
    return done.stdout.strip() == "yes"


def discard(job: str, token: str) -> None:
    """Stop and remove a job that a test left behind (best effort: the test's own failure counts)."""
    if job_directory(job).exists():
        try:
            execute(job_cleanup(job, token, kill=True))
        except AssertionError:
            pass


def icacls(*arguments: str) -> None:
    """icacls.exe; a SID is given as ``*S-1-...``.
    https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/icacls"""
    done = subprocess.run(["icacls", *arguments], capture_output=True, text=True, errors="replace", check=False)
    assert done.returncode == 0, "icacls %s: %s%s" % (" ".join(arguments), done.stdout, done.stderr)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def engine() -> dict[str, Any]:
    """The engine's ``docker version``, read through the run script; fails when it is unreachable."""
    [result] = results(execute(docker_version()))
    assert result["rc"] == 0, "the Docker engine is not reachable (is the docker service running, and may this " \
                              "user use it?): %s" % result["stderr"]
    version = json.loads(result["stdout"])
    assert version["Server"]["Os"] == "windows", "the engine does not run Windows containers: %s" % version["Server"]
    return version


@pytest.fixture(scope="session")
def base_image(engine: dict[str, Any]) -> str:
    """A NanoServer image, pulled by the test itself when it is missing."""
    image = os.environ.get("WC_WINDOWS_TEST_IMAGE") or default_base_image()
    if docker("image", "inspect", image).returncode != 0:
        pulled = docker("pull", image, timeout=1800)
        assert pulled.returncode == 0, "docker pull %s: %s" % (image, pulled.stderr)
    return image


@pytest.fixture(scope="session")
def suite_repository(engine: dict[str, Any]) -> Iterator[str]:
    """A repository name of this session's own; its images are removed at the end."""
    repository = "%s-%s" % (SUITE_REPOSITORY, secrets.token_hex(4))
    yield repository
    # By name, never by ID: a tag of this repository may name the base image.
    listed = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repository)
    for name in sorted(set(listed.stdout.split())):
        docker("image", "rm", name)


@pytest.fixture
def missing_image() -> str:
    return "%s:does-not-exist-%s" % (SUITE_REPOSITORY, secrets.token_hex(4))


# --- the exec itself ------------------------------------------------------------------------------


@pytest.mark.parametrize("via", ["cmd", "powershell"])
def test_an_exec_answers_through_cmd_and_through_powershell(engine: dict[str, Any], via: str) -> None:
    outcome = execute(docker_version(), via=via)
    [result] = results(outcome)
    assert result["rc"] == 0 and json.loads(result["stdout"])["Server"]["Os"] == "windows", outcome.describe()
    assert outcome.stdout.isascii(), "answers are ASCII whatever the console's code page"


def test_a_missing_image_is_docker_s_error_in_the_answer(engine: dict[str, Any], missing_image: str) -> None:
    [result] = results(execute(inspect([missing_image])))
    assert result["rc"] == 1 and "No such image" in result["stderr"], result
    assert json.loads(result["stdout"]) == []


def test_an_unknown_executable_is_the_script_s_json_error() -> None:
    outcome = execute(unknown_executable())
    assert outcome.answer["error"] == {"kind": "exception", "message": "unknown executable 'notepad'"}, outcome.describe()
    assert outcome.answer["results"] == []


def test_a_missing_docker_is_the_not_found_error(tmp_path: Path) -> None:
    # PATH holds only powershell.exe's directory and %ProgramFiles% an empty directory, so
    # Resolve-Executable finds docker.exe nowhere (GitHub's runners keep it in System32).
    # Keys of os.environ are upper case on Windows.
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(run_execs.powershell_exe())
    env["PROGRAMFILES"] = str(tmp_path)
    assert shutil.which("docker", path=env["PATH"]) is None
    outcome = execute(docker_version(), via="powershell", env=env)
    error = outcome.answer["error"]
    assert error and error["kind"] == "not_found" and error["exe"] == "docker", outcome.describe()


# --- run: parallel calls, appended lines, non-ASCII values --------------------------------------


def test_parallel_calls_answer_in_call_order(base_image: str, missing_image: str) -> None:
    version, image, missing, info = results(execute(parallel_reads(base_image, missing_image)))
    assert [version["rc"], image["rc"], missing["rc"], info["rc"]] == [0, 0, 1, 0], (version, image, missing, info)
    assert json.loads(version["stdout"])["Server"]["Os"] == "windows"
    assert base_image in json.loads(image["stdout"])[0]["RepoTags"]
    assert "No such image" in missing["stderr"]
    assert json.loads(info["stdout"])["OSType"] == "windows"


def test_append_lines_of_inspects_every_listed_image(base_image: str) -> None:
    listing, inspected = results(execute(inspect_everything()))
    assert listing["rc"] == 0 and inspected["rc"] == 0, (listing, inspected)
    listed = {line.strip() for line in listing["stdout"].splitlines() if line.strip()}
    images = [image for document in json_documents(inspected["stdout"]) for image in document]
    assert listed and {image["Id"] for image in images} == listed
    [base] = json.loads(results(execute(inspect([base_image])))[0]["stdout"])
    assert base["Id"] in listed


def test_a_non_ascii_label_round_trips(base_image: str, suite_repository: str) -> None:
    labelled = suite_repository + ":labelled"
    [built] = results(execute(build_with_label(base_image, labelled, LABEL_KEY, LABEL_VALUE)))
    assert built["rc"] == 0, built
    [inspected] = results(execute(inspect([labelled])))
    [image] = json.loads(inspected["stdout"])
    labels = image["Config"]["Labels"]
    # The --label argument (a command line) and the Dockerfile (stdin bytes) both came through.
    assert labels[LABEL_KEY] == LABEL_VALUE and labels["wc.dockerfile"] == LABEL_VALUE, labels
    [listed] = results(execute(images_with_label(LABEL_KEY, LABEL_VALUE)))
    rows = [json.loads(line) for line in listed["stdout"].splitlines() if line.strip()]
    assert listed["rc"] == 0 and image["Id"] in [row["ID"] for row in rows], listed


def test_tag_and_remove(base_image: str, suite_repository: str) -> None:
    target = suite_repository + ":tagged"
    [base] = json.loads(results(execute(inspect([base_image])))[0]["stdout"])
    [tagged] = results(execute(tag(base["Id"], target)))
    assert tagged["rc"] == 0, tagged
    [image] = json.loads(results(execute(inspect([target])))[0]["stdout"])
    assert image["Id"] == base["Id"] and target in image["RepoTags"]
    [removed] = results(execute(remove([target])))
    assert removed["rc"] == 0 and "Untagged" in removed["stdout"], removed
    [gone] = results(execute(inspect([target])))
    assert gone["rc"] == 1


# --- file_info, login_state, host_info --------------------------------------------------------


def test_file_info_renames_hashes_and_reads_an_archive(engine: dict[str, Any], tmp_path: Path) -> None:
    manifest = [{"Config": "blobs/sha256/" + "a" * 64, "RepoTags": ["wctest/windows-suite:archived"], "Layers": []}]
    partial, final = tmp_path / "export.tar.partial-0123", tmp_path / "export.tar"
    content = json.dumps(manifest).encode("utf-8")
    with tarfile.open(partial, "w") as archive:
        member = tarfile.TarInfo("manifest.json")
        member.size = len(content)
        archive.addfile(member, io.BytesIO(content))
    text_file = tmp_path / "caf\u00e9-\u6f22\u5b57.txt"
    text_file.write_bytes(LABEL_VALUE.encode("utf-8"))
    stale = tmp_path / "stale.tar"
    stale.write_bytes(b"stale")
    missing = tmp_path / "missing.tar"
    outcome = execute(file_info(
        files=[(str(final), True), (str(tmp_path), False), (str(text_file), True), (str(missing), False)],
        calls=[(manifest_call(str(final)), 0), (version_call(), None)],
        rename=[(str(partial), str(final))], remove=[str(stale)]))
    answer = ok(outcome)
    archive_state, folder, text_state, missing_state = answer["files"]
    assert archive_state == {"path": str(final), "exists": True, "kind": "file", "size": final.stat().st_size,
                             "sha256": hashlib.sha256(final.read_bytes()).hexdigest()}
    assert folder["exists"] and folder["kind"] == "directory"
    assert text_state["path"] == str(text_file) and text_state["sha256"] == hashlib.sha256(text_file.read_bytes()).hexdigest()
    assert missing_state["exists"] is False and missing_state["kind"] is None
    assert not partial.exists() and not stale.exists()
    tar, version = answer["results"]
    assert tar["rc"] == 0 and json.loads(tar["stdout"]) == manifest, tar
    assert version["rc"] == 0, version


def test_login_state_answers_user_names_and_never_secrets(tmp_path: Path) -> None:
    config_dir = tmp_path / "docker-\u00e9\u6f22\u5b57"
    config_dir.mkdir()
    stored = "stored-secret-\u00e9"
    auth = base64.b64encode(("%s:%s" % (USER, stored)).encode("utf-8")).decode("ascii")
    config = {"auths": {"registry.example.test": {"auth": auth}, "token.example.test": {"identitytoken": "token-secret"}}}
    (config_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")
    outcome = execute(login_state(str(config_dir), "registry.example.test", USER, PASSWORD, SALT))
    answer = ok(outcome)
    assert answer["exists"] is True and answer["config_file"] == str(config_dir / "config.json")
    assert answer["auths"]["registry.example.test"] == {"user": USER, "auth": True, "identity_token": False,
                                                        "credential": "differs"}
    assert answer["auths"]["token.example.test"] == {"user": None, "auth": False, "identity_token": True, "credential": None}
    assert answer["creds_store"] is None and answer["helpers"] == {}
    for secret in (stored, "token-secret", auth):
        assert secret not in outcome.stdout and secret not in outcome.stderr


def test_host_info_reads_this_machine(engine: dict[str, Any]) -> None:
    import winreg  # Windows only

    answer = ok(execute(host_info()))
    with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Windows NT\CurrentVersion") as key:
        ubr = winreg.QueryValueEx(key, "UBR")[0]
    assert int(answer["os"]["CurrentBuildNumber"]) == run_execs.windows_build()
    assert answer["os"]["UBR"] == ubr
    assert answer["docker_found"] is True
    version, info = answer["results"]
    assert version["rc"] == 0 and info["rc"] == 0, (version, info)
    assert json.loads(info["stdout"])["OSType"] == "windows"
    assert isinstance(answer["os_images"], list)
    assert "vmms" in answer["hyperv"]


# --- docker login: the password's bytes ---------------------------------------------------------


@pytest.mark.parametrize("chcp_utf8", [False, True], ids=["console-code-page", "chcp-65001"])
def test_a_password_reaches_docker_login_byte_for_byte(engine: dict[str, Any], tmp_path: Path, chcp_utf8: bool) -> None:
    """docker.exe reads the password from its stdin; the engine sends it to the registry in a
    Basic header, where the stand-in registry sees its exact bytes. Code page 65001 is the
    suspected trap, checked here rather than assumed: .NET Framework's Process.Start creates a
    redirected stdin with Console.InputEncoding, whose preamble would reach docker.exe as a UTF-8
    BOM (WINDOWS-FACTS, "BOM in a redirected stdin", and its sources). The encoding is the
    console's input code page (https://learn.microsoft.com/en-us/dotnet/api/system.console.inputencoding);
    ProcessStartInfo.StandardInputEncoding, which would choose another, does not exist in .NET
    Framework (https://learn.microsoft.com/en-us/dotnet/api/system.diagnostics.processstartinfo.standardinputencoding)."""
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    expected = ("%s:%s" % (USER, PASSWORD)).encode("utf-8")
    with BasicAuthRegistry(USER, PASSWORD) as registry:
        outcome = execute(login(registry.address, USER, PASSWORD, str(config_dir)), chcp_utf8=chcp_utf8)
        [result] = results(outcome)
    assert registry.received, "docker login never reached the registry stand-in (%s): %s" % (registry.requests, result)
    for received in registry.received:
        _user, _colon, password = received.partition(b":")
        assert not password.startswith(b"\xef\xbb\xbf"), "docker.exe read a UTF-8 BOM in front of the password"
        assert received == expected, "docker.exe read %s, not %s" % (received.hex(" "), expected.hex(" "))
    assert result["rc"] == 0 and "Login Succeeded" in result["stdout"], result
    stored = json.loads((config_dir / "config.json").read_text(encoding="utf-8"))["auths"][registry.address]["auth"]
    assert base64.b64decode(stored) == expected
    read = execute(login_state(str(config_dir), registry.address, USER, PASSWORD, SALT))
    assert ok(read)["auths"][registry.address]["user"] == USER
    assert ok(read)["auths"][registry.address]["credential"] == "match"
    assert PASSWORD not in read.stdout and stored not in read.stdout


# --- docker login: stored credentials compared on the host, check mode's private configuration ----


SALT = bytes(range(32, 64))


@pytest.mark.parametrize("stored_password, word", [(PASSWORD, "match"), ("rotated-" + PASSWORD, "differs")])
def test_login_state_compares_the_stored_credential_on_the_host(tmp_path: Path, stored_password: str, word: str) -> None:
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    auth = base64.b64encode(("%s:%s" % (USER, stored_password)).encode("utf-8")).decode("ascii")
    config = {"auths": {"127.0.0.1:50000": {"auth": auth}, "other.example.test": {"auth": auth},
                        "token.example.test": {"identitytoken": "token-secret"}}}
    (config_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")
    outcome = execute(login_state(str(config_dir), "127.0.0.1:50000", USER, PASSWORD, SALT))
    answer = ok(outcome)
    assert answer["compared"] is True
    assert answer["auths"]["127.0.0.1:50000"] == {"user": USER, "auth": True, "identity_token": False, "credential": word}
    assert answer["auths"]["other.example.test"]["credential"] is None  # only the registry's own entry
    digest = login_state(str(config_dir), "127.0.0.1:50000", USER, PASSWORD, SALT).payload["digest"]
    for secret in (stored_password, "token-secret", auth, digest):
        assert secret not in outcome.stdout and secret not in outcome.stderr


@pytest.mark.parametrize("right", [True, False], ids=["right-password", "wrong-password"])
def test_login_verify_logs_in_in_a_private_directory_that_is_removed(
        engine: dict[str, Any], tmp_path: Path, right: bool) -> None:
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    (config_dir / "config.json").write_text("{}", encoding="utf-8")
    temp = Path(os.environ.get("TEMP") or os.environ["TMP"])
    before = {p.name for p in temp.glob("wincontainers-login-*")}
    with BasicAuthRegistry(USER, PASSWORD) as registry:
        outcome = execute(login_verify(registry.address, USER, PASSWORD if right else "wrong-" + PASSWORD, str(config_dir)))
        answer = ok(outcome)
    assert answer["removed"] is True
    assert (answer["result"]["rc"] == 0) is right, answer["result"]
    assert (config_dir / "config.json").read_text(encoding="utf-8") == "{}", "the real configuration was written"
    assert {p.name for p in temp.glob("wincontainers-login-*")} <= before, "the private directory was left behind"
    assert PASSWORD not in outcome.stdout and PASSWORD not in outcome.stderr


# --- detached jobs ------------------------------------------------------------------------------


def test_a_job_outlives_the_exec_that_started_it(engine: dict[str, Any]) -> None:
    job, token = secrets.token_hex(16), secrets.token_hex(16)
    until = int(time.time()) + 15
    try:
        started = start(job, token, [events_call(until), version_call()], via="powershell")
        assert started.in_job_object, "the start exec could not be put in a kill-on-close job object"
        assert ok(started).get("state") == "started", started.describe()
        # The exec has ended and its job object is closed: what it started itself is gone.
        status = wait_until_started(job, token)
        # The runner left WMI's provider host job object, or (refused) runs in it, as the answer says.
        runner_pid = int((job_directory(job) / "runner.pid").read_text(encoding="utf-8").split()[0])
        if status["alive"]:
            assert in_a_job_object(runner_pid) == (started.answer["breakaway_refused"] is not None), started.describe()
        if time.time() < until - 2:
            assert status["alive"] and not status["finished"], status
        deadline = time.monotonic() + 120
        while not status["finished"]:
            assert time.monotonic() < deadline, "the job did not finish: %s" % status
            status = ok(execute(job_status(job, token, wait=10.0)))
            assert status["exists"] and status["claimed"], status
        assert time.time() >= until, "docker events ended before its --until time"
        finished = status["finished"]
        assert finished["error"] is None and [r["rc"] for r in finished["results"]] == [0, 0], status
        assert json.loads(status["outputs"][1]["stdout"])["Server"]["Os"] == "windows"
        assert ok(execute(job_cleanup(job, token, kill=False)))["removed"] is True
        assert not job_directory(job).exists()
    finally:
        discard(job, token)


def test_a_job_directory_that_users_may_write_to_is_refused(engine: dict[str, Any]) -> None:
    job, token = secrets.token_hex(16), secrets.token_hex(16)
    directory = job_directory(job)
    granted = False
    try:
        started = start(job, token, [events_call(int(time.time()) + 120)])
        assert ok(started).get("state") == "started", started.describe()
        wait_until_started(job, token)
        icacls(str(directory), "/grant", "*%s:(W)" % USERS_SID)
        granted = True
        outcome = execute(job_status(job, token))
        error = outcome.answer.get("error")
        assert error and error["kind"] == "unsafe", outcome.describe()
        assert str(directory).lower() in error["message"].lower() and USERS_SID in error["message"], error
        attach = execute(job_start(job, token, [events_call(int(time.time()) + 120)]))
        assert (attach.answer.get("error") or {}).get("kind") == "unsafe", attach.describe()
    finally:
        if granted:
            icacls(str(directory), "/remove:g", "*%s" % USERS_SID)
        discard(job, token)
    assert not directory.exists(), "job_cleanup left %s behind" % directory
