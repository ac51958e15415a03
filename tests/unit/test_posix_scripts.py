# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The constant Python scripts of the POSIX dialect: they compile, they are pinned, and ``run``
really runs programs as asked.

``run`` is executed the way a Linux host executes it: the dialect's own command line through
``/bin/sh -c``, its request on stdin, with a fake ``docker`` on PATH that reports what it got.
Their texts are pinned in tests/contract/script_pins.py (checked by test_script_pins.py).
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible.plugins.loader import shell_loader

from ansible_collections.wincontainers.images.plugins.plugin_utils import posix_scripts, script_files
from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import (
    DIRECT_COMMAND,
    DIRECT_MARKER,
    AnswerError,
    PosixDialect,
    encode_request,
    read_direct_answer,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, ExecutableNotFound, Host
from ansible_collections.wincontainers.images.plugins.plugin_utils.docker_cli import json_documents

SCRIPTS = posix_scripts.SCRIPTS
# Linux refuses a single argument longer than MAX_ARG_STRLEN (32 pages): the whole command is
# one argument of the remote shell.
MAX_ARG_STRLEN = 131072
CHUNK_LIMIT = 30000

FAKE_DOCKER = textwrap.dedent(
    """\
    #!{python}
    # A stand-in for docker: reports its argv, stdin and WCT_* environment as one JSON line,
    # or prints the content of $WCT_STDOUT_FILE; exits with $WCT_RC.
    import json, os, stat, sys, time

    if os.environ.get("WCT_SLEEP"):
        time.sleep(float(os.environ["WCT_SLEEP"]))
    barrier = None
    if os.environ.get("WCT_BARRIER_DIR"):
        # Wait until WCT_BARRIER_N copies run at the same time (or give up after 20 s).
        directory, count = os.environ["WCT_BARRIER_DIR"], int(os.environ["WCT_BARRIER_N"])
        open(os.path.join(directory, str(os.getpid())), "w").close()
        deadline = time.monotonic() + 20
        while len(os.listdir(directory)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        barrier = len(os.listdir(directory)) >= count
    mode = os.fstat(0).st_mode
    data = sys.stdin.buffer.read()
    sys.stderr.write("fake docker stderr\\n")
    if os.environ.get("WCT_STDOUT_FILE"):
        with open(os.environ["WCT_STDOUT_FILE"], encoding="utf-8") as handle:
            sys.stdout.write(handle.read())
    else:
        sys.stdout.write(json.dumps({{
            "argv": sys.argv[1:],
            "stdin": data.decode("utf-8"),
            "stdin_is_pipe": stat.S_ISFIFO(mode),
            "env": {{k: v for k, v in os.environ.items() if k.startswith("WCT_")}},
            "barrier": barrier,
        }}) + "\\n")
    sys.exit(int(os.environ.get("WCT_RC", "0")))
    """
)


def write_fake_bin(directory: Path) -> Path:
    directory.mkdir()
    docker = directory / "docker"
    docker.write_text(FAKE_DOCKER.format(python=sys.executable), encoding="utf-8")
    docker.chmod(0o755)
    return directory


@pytest.fixture
def fake_bin(tmp_path):
    return write_fake_bin(tmp_path / "bin")


@pytest.fixture(scope="module")
def fake_bin_module(tmp_path_factory):
    """One fake docker for every example of a hypothesis test (function fixtures are not reset)."""
    return write_fake_bin(tmp_path_factory.mktemp("direct") / "bin")


def sh_exec(command: str, stdin: bytes, path: str, extra_env=None, timeout: float = 120) -> subprocess.CompletedProcess:
    """One exec as a Linux host runs it: ``command`` through /bin/sh, ``stdin`` fed to it."""
    environment = {"PATH": path, "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/")}
    environment.update(extra_env or {})
    return subprocess.run(["/bin/sh", "-c", command], input=stdin, capture_output=True, env=environment,
                          timeout=timeout, check=False)


def run_exec(stdin: bytes, path: str, operation: str = "run") -> subprocess.CompletedProcess:
    """The dialect's command line of ``operation``, run as a Linux host runs it."""
    return sh_exec(PosixDialect(sys.executable).command(operation), stdin, path)


def answer_of(process: subprocess.CompletedProcess) -> dict:
    """The one JSON answer line; anything else on stdout or stderr (a traceback) fails."""
    assert process.stderr == b"", process.stderr.decode("utf-8", "replace")
    assert process.returncode == 0
    lines = process.stdout.decode("ascii").splitlines()  # the answer is ASCII whatever it holds
    assert len(lines) == 1, lines
    return json.loads(lines[0])


def run(fake_bin, calls, parallel=1) -> list[dict]:
    """Run calls with ``run``; return the results, after checking there was no error."""
    dialect = PosixDialect(sys.executable)
    requests = []
    for call in calls:
        request = dialect.call_request(call.get("exe", "docker"), call["argv"])
        request.update({key: value for key, value in call.items() if key not in ("exe", "argv")})
        requests.append(request)
    answer = answer_of(run_exec(encode_request({"parallel": parallel, "calls": requests}), str(fake_bin)))
    assert answer["error"] is None, answer["error"]
    assert len(answer["results"]) == len(calls)
    return answer["results"]


def report(result) -> dict:
    return json.loads(result["stdout"])


# --- compile, size, files ---------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_compiles(name):
    compile(SCRIPTS[name], "<posix_scripts.%s>" % name, "exec")


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_command_fits_in_one_argument_and_quotes_back_exactly(name):
    command = PosixDialect("python3").command(name)
    assert shlex.split(command) == ["python3", "-c", posix_scripts.PROGRAMS[name]]
    assert len(command.encode("utf-8")) < MAX_ARG_STRLEN // 16
    program = posix_scripts.PROGRAMS[name]
    if program != SCRIPTS[name]:  # compressed unless that would not make it shorter
        encoded = program.split('"')[1]
        assert program == posix_scripts.STUB % encoded and len(program) < len(SCRIPTS[name])
        assert zlib.decompress(base64.b64decode(encoded)).decode("utf-8") == SCRIPTS[name]
    assert len(program) <= len(SCRIPTS[name]) and (name in ("container_image", "package_provider")) == (program == SCRIPTS[name])


PART_FILES = sorted(Path(script_files.ROOT, "posix").glob("*.py"))


def test_every_part_file_is_used():
    used = set()
    for parts in posix_scripts.PARTS.values():
        used.update(part for part in parts if isinstance(part, str))
    assert sorted(path.stem for path in PART_FILES) == sorted(used)


@pytest.mark.parametrize("path", PART_FILES, ids=lambda path: path.name)
def test_every_file_is_a_module_that_runs_nothing_on_import(path):
    # What ansible-test sanity compiles, imports and lints: real Python, whose program runs only
    # as __main__ (python3 -c, runner.py).
    module = "ansible_collections.wincontainers.images.plugins.plugin_utils.host_scripts.posix." + path.stem
    process = subprocess.run([sys.executable, "-c", "import %s" % module], input="", capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, check=False)
    assert (process.returncode, process.stdout, process.stderr) == (0, "", "")


def test_scripts_are_assembled_from_their_files_only():
    assert set(SCRIPTS) == set(posix_scripts.PARTS)
    for name, parts in posix_scripts.PARTS.items():
        assert SCRIPTS[name] == posix_scripts.assemble(parts, SCRIPTS), name
    embedded = {}
    exec(script_files.posix_embed(script_files.Embed("JOB_RUNNER", "job_runner"), SCRIPTS), embedded)  # noqa: S102
    assert embedded["JOB_RUNNER"] == SCRIPTS["job_runner"]
    assert posix_scripts.SCRIPTS["job_start"].count(SCRIPTS["job_runner"]) == 1


# --- run: arguments, stdin, environment, exit codes ------------------------------------------

TRICKY_ARGV = [
    "image", "inspect",
    "--change", 'CMD ["app.exe", "--name=it\'s"]',
    "--change", 'LABEL note="naïve \u2018quoted\u2019"',
    "-", "--", "-rf", "--force",
    "", " spaced out ", "tab\there", "new\nline",
    "$(echo pwned)", "`id`", "a;b", "a|b", "*", "~", "'", '"', "\\", "back\\slash\\",
    "日本語", "emoji 😀",
]


def test_argv_arrives_unchanged(fake_bin):
    [result] = run(fake_bin, [{"argv": TRICKY_ARGV}])
    assert result["rc"] == 0
    assert report(result)["argv"] == TRICKY_ARGV


def test_exit_code_stdout_and_stderr_are_returned(fake_bin):
    [failed, ok] = run(fake_bin, [
        {"argv": ["pull", "x"], "env": {"WCT_RC": "3"}},
        {"argv": ["version"]},
    ])
    assert failed["rc"] == 3 and ok["rc"] == 0
    assert failed["stderr"] == "fake docker stderr\n"
    assert report(failed)["argv"] == ["pull", "x"]
    assert not failed.get("skipped") and not ok.get("skipped")


def test_stdin_reaches_the_program_only_when_given(fake_bin):
    secret = "s3cret with spaces \u2018and\u2019 \"quotes\"\nsecond line"
    given, empty, absent = run(fake_bin, [
        {"argv": ["login", "--password-stdin"], "stdin": secret},
        {"argv": ["login", "--password-stdin"], "stdin": ""},
        {"argv": ["version"]},
    ])
    assert report(given)["stdin"] == secret and report(given)["stdin_is_pipe"] is True
    assert report(empty)["stdin"] == "" and report(empty)["stdin_is_pipe"] is True
    # Without stdin the program must not inherit the exec's stdin (it would read the request).
    assert report(absent)["stdin"] == "" and report(absent)["stdin_is_pipe"] is False


def test_environment_is_passed_per_call(fake_bin):
    with_env, without_env = run(fake_bin, [
        {"argv": ["version"], "env": {"WCT_CONFIG": "/tmp/docker config \u2018x\u2019", "WCT_EMPTY": ""}},
        {"argv": ["version"]},
    ])
    assert report(with_env)["env"] == {"WCT_CONFIG": "/tmp/docker config \u2018x\u2019", "WCT_EMPTY": ""}
    assert report(without_env)["env"] == {}


def test_results_are_in_request_order_with_parallel_calls(fake_bin):
    calls = [{"argv": ["call", str(index)], "env": {"WCT_SLEEP": str(0.1 * (5 - index))}} for index in range(6)]
    results = run(fake_bin, calls, parallel=4)
    assert [report(result)["argv"] for result in results] == [["call", str(index)] for index in range(6)]


def test_parallel_calls_really_run_at_the_same_time(fake_bin, tmp_path):
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    env = {"WCT_BARRIER_DIR": str(barrier), "WCT_BARRIER_N": "3"}
    results = run(fake_bin, [{"argv": ["pull", str(i)], "env": env} for i in range(3)], parallel=3)
    assert [report(result)["barrier"] for result in results] == [True, True, True]


# --- run: append_lines_of ------------------------------------------------------------------

def listing(tmp_path, text: str) -> dict:
    """A call whose stdout is ``text`` (as ``docker image ls --quiet`` would print it)."""
    path = tmp_path / ("listing-%d.txt" % len(list(tmp_path.glob("listing-*"))))
    path.write_text(text, encoding="utf-8")
    return {"argv": ["image", "ls", "--quiet"], "env": {"WCT_STDOUT_FILE": str(path)}}


def test_append_lines_of_appends_the_distinct_lines(fake_bin, tmp_path):
    listed, inspected = run(fake_bin, [
        listing(tmp_path, "sha256:aaa\nsha256:bbb\nsha256:aaa\n\nbusybox:latest\n"),
        {"argv": ["image", "inspect"], "append_lines_of": 0},
    ])
    assert listed["rc"] == 0
    assert inspected["rc"] == 0 and not inspected["skipped"]
    [document] = json_documents(inspected["stdout"])
    assert document["argv"] == ["image", "inspect", "sha256:aaa", "sha256:bbb", "busybox:latest"]


def test_append_lines_of_waits_for_parallel_calls_before_reading(fake_bin, tmp_path):
    slow = listing(tmp_path, "sha256:ccc\n")
    slow["env"]["WCT_SLEEP"] = "0.5"
    results = run(fake_bin, [
        slow,
        {"argv": ["version"]},
        {"argv": ["image", "inspect"], "append_lines_of": 0},
    ], parallel=3)
    assert json_documents(results[2]["stdout"])[0]["argv"] == ["image", "inspect", "sha256:ccc"]


def test_append_lines_of_chunks_long_lists(fake_bin, tmp_path):
    ids = ["sha256:%064x" % index for index in range(1000)]  # 71,000 characters of arguments
    text = "\n".join(ids + ids[:10]) + "\n"
    _listed, inspected = run(fake_bin, [
        listing(tmp_path, text),
        {"argv": ["image", "inspect"], "append_lines_of": 0},
    ])
    assert inspected["rc"] == 0 and not inspected["skipped"]
    documents = json_documents(inspected["stdout"])
    assert len(documents) >= 3  # 71,000 characters need at least three invocations
    passed = []
    for document in documents:
        assert document["argv"][:2] == ["image", "inspect"]
        chunk = document["argv"][2:]
        assert chunk and sum(len(token) + 1 for token in chunk) <= CHUNK_LIMIT
        passed.extend(chunk)
    assert passed == ids  # every ID once, in order, nothing lost


def test_append_lines_of_reports_a_failing_chunk(fake_bin, tmp_path):
    _listed, inspected = run(fake_bin, [
        listing(tmp_path, "sha256:aaa\n"),
        {"argv": ["image", "inspect"], "append_lines_of": 0, "env": {"WCT_RC": "1"}},
    ])
    assert inspected["rc"] == 1
    assert inspected["stderr"] == "fake docker stderr\n"


@pytest.mark.parametrize("text", ["", "\n", "\n\n\n"])
def test_append_lines_of_is_skipped_when_there_are_no_lines(fake_bin, tmp_path, text):
    _listed, inspected = run(fake_bin, [
        listing(tmp_path, text),
        {"argv": ["image", "inspect"], "append_lines_of": 0},
    ])
    assert inspected["skipped"] is True
    assert inspected["rc"] == 0
    assert inspected["stdout"] == ""  # docker was not run


def append_error(fake_bin, tmp_path, line: str) -> dict:
    """The answer to "list, then docker image rm what was listed" when the list holds ``line``."""
    request = {"parallel": 1, "calls": [
        {"exe": "docker", **listing(tmp_path, "sha256:aaa\n%s\n" % line)},
        {"exe": "docker", "argv": ["image", "rm"], "append_lines_of": 0},
    ]}
    return answer_of(run_exec(encode_request(request), str(fake_bin)))


@pytest.mark.parametrize(
    "line", ["two words", "$(touch /tmp/pwned)", "a;b", "`id`", "a|b", "*", "quote'd", "naïve", "tab\there"])
def test_append_lines_of_refuses_unsafe_lines(fake_bin, tmp_path, line):
    answer = append_error(fake_bin, tmp_path, line)
    assert answer["error"]["kind"] == "exception"
    assert "refusing" in answer["error"]["message"]


@pytest.mark.parametrize("line", ["--force", "-f", "--all", "-"])
def test_append_lines_of_refuses_lines_that_read_as_options(fake_bin, tmp_path, line):
    # The lines are meant to be IDs and references, which never start with "-"; appended to
    # "docker image rm" a line "--force" would become an option.
    answer = append_error(fake_bin, tmp_path, line)
    assert answer["error"] is not None and answer["error"]["kind"] == "exception"
    assert "refusing" in answer["error"]["message"]


# --- run: errors --------------------------------------------------------------------------

def test_docker_missing_from_path_is_not_found(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    request = encode_request({"parallel": 1, "calls": [{"exe": "docker", "argv": ["version"]}]})
    answer = answer_of(run_exec(request, str(empty)))
    assert answer["error"]["kind"] == "not_found"
    assert answer["error"]["exe"] == "docker"
    assert answer["results"] == []


def test_unknown_executable_is_refused(fake_bin):
    request = encode_request({"parallel": 1, "calls": [{"exe": "sh", "argv": ["-c", "id"]}]})
    answer = answer_of(run_exec(request, str(fake_bin) + os.pathsep + "/bin:/usr/bin"))
    assert answer["error"]["kind"] == "exception"
    assert "unknown executable" in answer["error"]["message"]


@pytest.mark.parametrize(
    "stdin",
    [b"", b"\n", b"this is not json\n", b"\xff\xfe\x00garbage\n", b"[]\n", b"{}\n", b'{"calls": 5}\n',
     b'{"calls": [{"exe": "docker"}]}\n', b"null\n"],
)
def test_garbage_stdin_is_answered_as_an_exception_never_a_traceback(fake_bin, stdin):
    answer = answer_of(run_exec(stdin, str(fake_bin)))
    assert answer["error"]["kind"] == "exception"
    assert answer["error"]["message"]
    assert answer["results"] == []


def test_the_answer_is_read_by_the_dialect(fake_bin):
    request = encode_request({"parallel": 1, "calls": [{"exe": "docker", "argv": ["naïve"]}]})
    process = run_exec(request, str(fake_bin))
    answer = PosixDialect().read_answer(process.returncode, process.stdout.decode(), process.stderr.decode())
    assert json.loads(answer["results"][0]["stdout"])["argv"] == ["naïve"]


# --- the direct path: one plain docker call without Python -----------------------------------

def direct_payload(argv) -> dict:
    return {"parallel": 1, "calls": [{"exe": "docker", "argv": list(argv)}]}


def run_direct(fake_bin, argv, extra_env=None, path=None) -> dict:
    """One ``run`` request of a single plain call, sent as PosixDialect sends it, read back."""
    exchange = PosixDialect(sys.executable).exchange("run", direct_payload(argv))
    assert exchange.command == DIRECT_COMMAND
    process = sh_exec(exchange.command, exchange.stdin, path or "%s:/usr/bin:/bin" % fake_bin, extra_env)
    return exchange.read(process.returncode, process.stdout.decode("utf-8"), process.stderr.decode("utf-8"))


def run_python(fake_bin, argv, extra_env=None) -> dict:
    """The same request through the Python ``run`` script."""
    process = sh_exec(PosixDialect(sys.executable).command("run"), encode_request(direct_payload(argv)),
                      "%s:/usr/bin:/bin" % fake_bin, extra_env)
    return answer_of(process)


@pytest.mark.parametrize("call", [
    {"exe": "docker", "argv": ["image", "inspect", "a"], "stdin": "secret"},
    {"exe": "docker", "argv": ["login"], "env": {"DOCKER_CONFIG": "/x"}},
    {"exe": "docker", "argv": ["image", "inspect"], "append_lines_of": 0},
    {"exe": "tar", "argv": ["-tf", "a.tar"]},
    {"exe": "docker", "argv": ["image", "inspect", "nul\0inside"]},
    {"exe": "docker", "argv": ["image", "inspect", "lone \udc80 surrogate"]},
    {"exe": "docker", "argv": ["image", "inspect"] + ["x" * 1000] * 33},
])
def test_only_one_plain_docker_call_goes_direct(call):
    dialect = PosixDialect("python3")
    assert dialect.exchange("run", {"parallel": 1, "calls": [call]}).command == dialect.command("run")
    plain = {"exe": "docker", "argv": ["image", "inspect", "a"]}
    assert dialect.exchange("run", {"parallel": 1, "calls": [plain, plain]}).command == dialect.command("run")
    assert dialect.exchange("run", {"parallel": 1, "calls": [plain]}).command == DIRECT_COMMAND
    assert dialect.exchange("file_info", {"calls": [plain]}).command == dialect.command("file_info")


def test_direct_script_is_clean_posix_sh():
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.fail("shellcheck is not installed (scripts/bootstrap.sh installs it)")
    process = subprocess.run([shellcheck, "--shell=sh", "-"], input="#!/bin/sh\n" + posix_scripts.DIRECT_RUN + "\n",
                             capture_output=True, text=True, timeout=60, check=False)
    assert process.returncode == 0, process.stdout + process.stderr


def test_direct_command_is_constant_and_arguments_travel_on_stdin():
    exchange = PosixDialect("python3").exchange("run", direct_payload(["image", "inspect", "$(id)", "a b"]))
    assert shlex.split(exchange.command)[:4] == ["xargs", "-0", "-s", "65536"]
    assert "$(id)" not in exchange.command and "a b" not in exchange.command
    assert exchange.stdin == b"5\0image\0inspect\0$(id)\0a b\0"


def test_direct_argv_arrives_unchanged(fake_bin):
    [result] = run_direct(fake_bin, TRICKY_ARGV)["results"]
    assert result["rc"] == 0
    assert report(result)["argv"] == TRICKY_ARGV
    # docker reads /dev/null, never the arguments xargs consumed
    assert report(result)["stdin"] == "" and report(result)["stdin_is_pipe"] is False


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=40),
                max_size=8))
def test_direct_argv_round_trips_any_text(fake_bin_module, argv):
    [result] = run_direct(fake_bin_module, argv)["results"]
    assert report(result)["argv"] == argv


@pytest.mark.parametrize("rc", [0, 1, 2, 125, 126, 127, 255])
def test_direct_and_python_paths_answer_the_same(fake_bin, tmp_path, rc):
    output = tmp_path / "stdout.txt"
    # docker's own output may hold the marker and need not end with a newline
    output.write_text("[{\"Id\": \"sha256:1\"}]\n%src=9\nnaïve tail" % DIRECT_MARKER, encoding="utf-8")
    environment = {"WCT_RC": str(rc), "WCT_STDOUT_FILE": str(output)}
    direct = run_direct(fake_bin, ["image", "inspect", "x"], environment)
    python = run_python(fake_bin, ["image", "inspect", "x"], environment)
    assert direct == python
    assert direct["results"][0]["rc"] == rc
    assert direct["results"][0]["stdout"] == output.read_text(encoding="utf-8")
    assert direct["results"][0]["stderr"] == "fake docker stderr\n"


def test_direct_path_reports_a_missing_docker(fake_bin, tmp_path):
    only_xargs = tmp_path / "only-xargs"
    only_xargs.mkdir()
    (only_xargs / "xargs").symlink_to(shutil.which("xargs"))
    answer = run_direct(fake_bin, ["version"], path=str(only_xargs))
    assert answer["error"]["kind"] == "not_found" and answer["error"]["exe"] == "docker"
    assert answer["results"] == []


@pytest.mark.parametrize("xargs", ["xargs", "busybox xargs"])
def test_direct_path_runs_nothing_when_xargs_splits_the_line(fake_bin, tmp_path, xargs):
    # The dialect never sends this much, and xargs's -x does not stop a split: the count does.
    if xargs.startswith("busybox") and shutil.which("busybox") is None:
        pytest.fail("busybox is not installed (scripts/bootstrap.sh installs it)")
    ran = tmp_path / "ran"
    ran.mkdir()
    argv = ["image", "inspect"] + ["y" * 1000] * 80
    stdin = b"".join(argument.encode() + b"\0" for argument in [str(len(argv) + 1)] + argv)
    command = DIRECT_COMMAND.replace("xargs", xargs, 1)
    process = sh_exec(command, stdin, "%s:/usr/bin:/bin" % fake_bin, {"WCT_BARRIER_DIR": str(ran), "WCT_BARRIER_N": "1"})
    assert list(ran.iterdir()) == [], "docker ran"
    assert process.stdout.decode().count(DIRECT_MARKER + "split") >= 2
    answer = read_direct_answer(process.returncode, process.stdout.decode(), process.stderr.decode())
    assert answer["results"] == [] and "split" in answer["error"]["message"]


def test_direct_path_ignores_what_a_noisy_login_shell_prints_first(fake_bin, tmp_path):
    # Shell start-up files that print (motd-like banners, "mesg: ttyname failed") write before
    # the command runs; docker's output is only what comes after the start lines.
    output = tmp_path / "stdout.txt"
    output.write_text("[]\n", encoding="utf-8")
    exchange = PosixDialect(sys.executable).exchange("run", direct_payload(["image", "inspect", "x"]))
    noisy = "echo 'Welcome to linux1'; echo 'mesg: ttyname failed: Inappropriate ioctl for device' >&2; " + exchange.command
    process = sh_exec(noisy, exchange.stdin, "%s:/usr/bin:/bin" % fake_bin, {"WCT_STDOUT_FILE": str(output), "WCT_RC": "1"})
    [result] = exchange.read(process.returncode, process.stdout.decode(), process.stderr.decode())["results"]
    assert result == {"rc": 1, "stdout": "[]\n", "stderr": "fake docker stderr\n"}


@pytest.mark.parametrize("stdout, stderr", [
    ("[]\n%src=0\n" % DIRECT_MARKER, ""),
    ("", "sh: 1: xargs: not found\n"),
    ("[]\n%src=\n" % DIRECT_MARKER, ""),
    ("[]\n%sbroken\n" % DIRECT_MARKER, ""),
    ("[]\n", "Killed\n"),
])
def test_direct_output_without_a_status_is_no_answer(stdout, stderr):
    with pytest.raises(AnswerError, match="did not answer as expected"):
        read_direct_answer(127, stdout, stderr)


class LocalShellAction:
    """What ``Host`` uses of an action plugin, running each exec as the local connection does."""

    def __init__(self, path: str) -> None:
        self._play_context = SimpleNamespace(remote_addr="127.0.0.1")
        self._connection = SimpleNamespace(_shell=shell_loader.get("sh"))
        self.path = path
        self.commands: list[str] = []

    def _low_level_execute_command(self, cmd, in_data=None):
        self.commands.append(cmd)
        process = sh_exec(cmd, in_data, self.path)
        return {"rc": process.returncode, "stdout": process.stdout.decode(), "stderr": process.stderr.decode()}


def local_host(path: str) -> tuple[Host, LocalShellAction]:
    action = LocalShellAction(path)
    return Host(action, {"inventory_hostname": "linux1", "ansible_python_interpreter": sys.executable}), action


def test_host_runs_one_plain_call_directly_and_the_rest_through_python(fake_bin):
    host, action = local_host("%s:/usr/bin:/bin" % fake_bin)
    [single] = host.run([Call(("image", "inspect", "a b"))])
    assert single.rc == 0 and json.loads(single.stdout)["argv"] == ["image", "inspect", "a b"]
    first, second = host.run([Call(("image", "inspect", "a")), Call(("version",))])
    assert json.loads(second.stdout)["argv"] == ["version"]
    [login] = host.run([Call(("login", "--password-stdin"), stdin="pw")])
    assert json.loads(login.stdout)["stdin"] == "pw"
    python = PosixDialect(sys.executable).command("run")
    assert action.commands == [DIRECT_COMMAND, python, python]
    assert host.execs == 3


def test_host_names_itself_when_docker_is_missing_on_the_direct_path(tmp_path):
    only_xargs = tmp_path / "only-xargs"
    only_xargs.mkdir()
    (only_xargs / "xargs").symlink_to(shutil.which("xargs"))
    host, action = local_host(str(only_xargs))
    with pytest.raises(ExecutableNotFound, match="^linux1: the docker CLI was not found on the host"):
        host.run([Call(("image", "inspect", "a"))])
    assert action.commands == [DIRECT_COMMAND]


def test_the_integration_tests_find_the_polls_by_the_job_status_program():
    """tests/integration/connection_plugins/wc_flaky.py finds the status polls by job_status's
    program (what follows "python3 -c"), which no other command contains."""
    mark = posix_scripts.PROGRAMS["job_status"]
    assert [name for name, program in posix_scripts.PROGRAMS.items() if mark in program] == ["job_status"]
