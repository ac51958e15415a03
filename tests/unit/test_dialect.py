# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Choosing and speaking a host's dialect."""

from __future__ import annotations

import base64
import json
import shlex
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible.plugins.loader import shell_loader
from ansible.plugins.shell import powershell as powershell_shell

from ansible_collections.wincontainers.images.plugins.plugin_utils import posix_scripts, powershell_scripts
from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import (
    POWERSHELL_PREFIX,
    AnswerError,
    PosixDialect,
    WindowsDialect,
    dialect_for,
    encode_request,
)

EXACT_PREFIX = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "


# --- dialect_for --------------------------------------------------------------------------

@pytest.mark.parametrize("shell_name", ["powershell", "cmd"])
def test_windows_shell_families_get_the_windows_dialect(shell_name):
    shell = shell_loader.get(shell_name)
    assert shell is not None, "ansible-core has no %s shell plugin" % shell_name
    dialect = dialect_for(shell, "/usr/bin/python3")
    assert isinstance(dialect, WindowsDialect)
    assert dialect.name == "windows"


@pytest.mark.parametrize("shell_name", ["sh", "powershell", "cmd"])
def test_real_shell_plugins_have_the_family_the_choice_relies_on(shell_name):
    # If ansible-core renamed a family, the choice would silently fall back to POSIX.
    assert shell_loader.get(shell_name).SHELL_FAMILY == shell_name


@pytest.mark.parametrize("family", ["powershell", "cmd"])
def test_the_family_alone_decides_windows(family):
    class Shell:
        SHELL_FAMILY = family

    assert isinstance(dialect_for(Shell()), WindowsDialect)


def test_sh_gets_the_posix_dialect():
    dialect = dialect_for(shell_loader.get("sh"), "/usr/bin/python3.11")
    assert isinstance(dialect, PosixDialect)
    assert dialect.name == "posix"
    assert dialect.interpreter == "/usr/bin/python3.11"


@pytest.mark.parametrize(
    "interpreter", [None, "", "auto", "auto_silent", "auto_legacy", "auto_legacy_silent", 3, ["python3"]])
def test_posix_interpreter_falls_back_to_python3(interpreter):
    dialect = dialect_for(shell_loader.get("sh"), interpreter)
    assert isinstance(dialect, PosixDialect)
    assert dialect.interpreter == "python3"


@pytest.mark.parametrize("shell", [object(), None])
def test_unknown_shells_are_posix(shell):
    assert isinstance(dialect_for(shell), PosixDialect)


# --- commands -----------------------------------------------------------------------------

def test_powershell_prefix_is_exact_and_the_one_ansible_core_builds():
    # psrp in ansible-core 2.16 runs a command in its runspace only when it starts exactly so.
    assert POWERSHELL_PREFIX == EXACT_PREFIX
    assert POWERSHELL_PREFIX == " ".join(powershell_shell._common_args + ["-EncodedCommand", ""])


@pytest.mark.parametrize("operation", sorted(powershell_scripts.SCRIPTS))
def test_windows_command_starts_with_the_prefix_and_is_one_constant(operation):
    dialect = WindowsDialect()
    command = dialect.command(operation)
    assert command.startswith(EXACT_PREFIX)
    encoded = command[len(EXACT_PREFIX):]
    assert encoded and " " not in encoded
    base64.b64decode(encoded, validate=True).decode("utf-16-le")
    # The same command for every operation and every request: nothing varies in it.
    assert {dialect.command(op) for op in powershell_scripts.SCRIPTS} == {command}
    assert WindowsDialect().command(operation) == command


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(st.characters(exclude_characters="\x00")), max_size=5))
def test_windows_command_does_not_depend_on_the_request(arguments):
    dialect = WindowsDialect()
    before = dialect.command("run")
    payload = {"parallel": 1, "calls": [dialect.call_request("docker", arguments)]}
    stdin = dialect.stdin("run", payload)
    assert dialect.command("run") == before
    assert stdin.endswith(encode_request(payload))


@pytest.mark.parametrize("operation", sorted(posix_scripts.SCRIPTS))
def test_posix_command_is_the_constant_script(operation):
    dialect = PosixDialect("/opt/py 3/bin/python3")
    program = posix_scripts.PROGRAMS[operation]
    assert shlex.split(dialect.command(operation)) == ["/opt/py 3/bin/python3", "-c", program]
    if program != posix_scripts.SCRIPTS[operation]:
        encoded = program.split('"')[1]
        assert program == posix_scripts.STUB % encoded
        assert zlib.decompress(base64.b64decode(encoded, validate=True)).decode("utf-8") == posix_scripts.SCRIPTS[operation]
    payload = {"calls": [{"exe": "docker", "argv": ["x'y"]}]}
    assert dialect.stdin(operation, payload) == encode_request(payload)


def test_windows_exchange_is_always_the_bootstrap_with_the_script_on_stdin():
    # The direct path is POSIX only: one plain docker call goes through the bootstrap as well.
    dialect = WindowsDialect()
    payload = {"parallel": 1, "calls": [dialect.call_request("docker", ["image", "inspect", "a"])]}
    exchange = dialect.exchange("run", payload)
    assert exchange.command == dialect.command("run")
    assert exchange.stdin == dialect.stdin("run", payload)
    assert exchange.read == dialect.read_answer


def test_call_requests():
    assert WindowsDialect().call_request("docker", ["image", "tag", "a b"]) == {
        "exe": "docker", "cmdline": 'image tag "a b"'}
    assert PosixDialect().call_request("docker", ["image", "tag", "a b"]) == {
        "exe": "docker", "argv": ["image", "tag", "a b"]}


# --- read_answer --------------------------------------------------------------------------

ANSWER = {"results": [{"rc": 0, "stdout": "ok", "stderr": ""}], "error": None}


@pytest.mark.parametrize("dialect", [WindowsDialect(), PosixDialect()], ids=["windows", "posix"])
@pytest.mark.parametrize(
    "stdout",
    [
        json.dumps(ANSWER) + "\n",
        "Active code page: 65001\r\nsome banner {not json}\r\n{\"half\": \r\n" + json.dumps(ANSWER) + "\r\n",
        "#< CLIXML\n{\"error\": \"not\" \n" + json.dumps(ANSWER),
        "{\"other\": 1}\n" + json.dumps(ANSWER) + "\n",
        "noise\n" + json.dumps(ANSWER) + "\ntrailing noise\n",
        "  " + json.dumps(ANSWER) + "  \n",
    ],
)
def test_read_answer_finds_the_answer_among_noise(dialect, stdout):
    assert dialect.read_answer(0, stdout, "") == ANSWER


def test_read_answer_takes_the_last_answer_line():
    first = {"results": [], "error": {"kind": "exception", "message": "old"}}
    stdout = json.dumps(first) + "\n" + json.dumps(ANSWER) + "\n"
    assert WindowsDialect().read_answer(0, stdout, "") == ANSWER


@pytest.mark.parametrize("dialect", [WindowsDialect(), PosixDialect()], ids=["windows", "posix"])
def test_read_answer_raises_with_stderr_when_there_is_no_answer(dialect):
    stderr = "#< CLIXML\r\n<Objs><S S=\"Error\">powershell.exe : The term 'x' is not recognized</S></Objs>"
    with pytest.raises(AnswerError) as caught:
        dialect.read_answer(1, "some output\n{\"no\": \"error key\"}\n", stderr)
    assert "The term 'x' is not recognized" in str(caught.value)
    assert "rc=1" in str(caught.value)


def test_read_answer_without_any_output_says_so():
    with pytest.raises(AnswerError, match="no output"):
        PosixDialect().read_answer(127, "", "")


def test_read_answer_shows_stdout_when_stderr_is_empty():
    with pytest.raises(AnswerError, match="python3: not found"):
        PosixDialect().read_answer(127, "sh: 1: python3: not found\n", "")


# --- encode_request -----------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
))
def test_encode_request_is_one_ascii_line_whatever_the_input(value):
    payload = {"value": value}
    encoded = encode_request(payload)
    assert isinstance(encoded, bytes)
    text = encoded.decode("ascii")
    assert text.endswith("\n") and text.count("\n") == 1
    assert "\r" not in text and "\u2028" not in text
    assert json.loads(text) == payload


@pytest.mark.parametrize("value", ["naïve \u2018quoted\u2019 \u201cdouble\u201d \u201alow\u201b", "line\nbreak\r\n", "\u2028\u2029\x85", "😀", "\x00"])
def test_encode_request_escapes_what_could_break_the_line(value):
    encoded = encode_request({"v": value})
    assert encoded.count(b"\n") == 1 and max(encoded) < 128
    assert json.loads(encoded) == {"v": value}
