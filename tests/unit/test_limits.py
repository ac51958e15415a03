# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument lengths against the host's limits, computed on the controller: a Windows command line
(CreateProcess, 32,767 characters), a Linux argument (MAX_ARG_STRLEN, 131,072 bytes with its NUL)
and argument vector (256 KiB here), docker's Dockerfile lines (65,535 bytes), paths."""

from __future__ import annotations

import pytest

from ansible_collections.wincontainers.images.plugins.plugin_utils import limits
from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import PosixDialect, WindowsDialect
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import join_arguments

SPEC = {
    "message": {"type": "str"},
    "changes": {"type": "list", "elements": "str"},
    "names": {"type": "list", "elements": "str"},
    "password": {"type": "str", "no_log": True},
    "filters": {"type": "dict", "options": {"label": {"type": "str"}}},
}


# --- the last line of defence: every call request -----------------------------------------------


def test_a_windows_command_line_at_the_limit_passes_and_one_more_character_fails():
    prefix = ["container", "commit", "--message"]
    room = limits.WINDOWS_ARGUMENTS_MAX - len(join_arguments(prefix)) - 1
    WindowsDialect().call_request("docker", prefix + ["m" * room])
    with pytest.raises(limits.CommandTooLong) as caught:
        WindowsDialect().call_request("docker", prefix + ["m" * (room + 1)])
    assert caught.value.size == limits.WINDOWS_ARGUMENTS_MAX + 1


def test_windows_counts_quotes_and_utf16_code_units():
    # each '"' costs two characters quoted, and an astral character two UTF-16 code units
    assert limits.argument_cost(True, 'a"b') == len('"a\\"b"') + 1
    assert limits.argument_cost(True, "\U0001f600") == 3
    with pytest.raises(limits.CommandTooLong):
        WindowsDialect().call_request("docker", ["x", '"' * 15000])


def test_a_linux_argument_at_max_arg_strlen_passes_and_one_more_byte_fails():
    PosixDialect().call_request("docker", ["commit", "m" * (limits.LINUX_ARGUMENT_MAX - 1)])
    with pytest.raises(limits.CommandTooLong) as caught:
        PosixDialect().call_request("docker", ["commit", "m" * limits.LINUX_ARGUMENT_MAX])
    assert caught.value.argument is not None and caught.value.size == limits.LINUX_ARGUMENT_MAX
    with pytest.raises(limits.CommandTooLong):  # bytes, not characters
        PosixDialect().call_request("docker", ["commit", "\u00e9" * 70000])


def test_the_linux_argument_vector_has_a_budget():
    PosixDialect().call_request("docker", ["x" * 100000, "y" * 100000])
    with pytest.raises(limits.CommandTooLong) as caught:
        PosixDialect().call_request("docker", ["x" * 100000, "y" * 100000, "z" * 100000])
    assert caught.value.argument is None and "256 KiB" not in str(caught.value)
    assert "262,144 bytes" in str(caught.value)


def test_message_for_names_the_option_whose_value_makes_the_call_too_long():
    message = "m" * 140000
    with pytest.raises(limits.CommandTooLong) as caught:
        PosixDialect().call_request("docker", ["container", "commit", "--message", message, "--", "c", "repo"])
    text = caught.value.message_for("host1", [("repository", "repo", False), ("message", message, False)])
    assert text.startswith("message: the value '%s...' is 140,000 bytes long, too long for a command line on "
                           "host1: docker container commit: one argument is 140,000 bytes long" % ("m" * 40)), text


def test_message_for_keeps_a_secret_out_and_falls_back_to_the_command():
    secret = "s" * 140000
    with pytest.raises(limits.CommandTooLong) as caught:
        PosixDialect().call_request("docker", ["login", secret])
    assert secret[:10] not in caught.value.message_for("host1", [("password", secret, True)])
    assert caught.value.message_for("host1", []).startswith("host1: docker login: one argument is 140,000 bytes")


# --- option values up front ---------------------------------------------------------------------


@pytest.mark.parametrize(("windows", "size", "ok"), [
    (False, limits.LINUX_ARGUMENT_MAX - 1, True), (False, limits.LINUX_ARGUMENT_MAX, False),
    (True, limits.WINDOWS_ARGUMENTS_MAX - limits.RESERVE - limits.PER_VALUE_OVERHEAD - 1, True),
    (True, limits.WINDOWS_ARGUMENTS_MAX, False),
])
def test_each_value_must_fit_one_argument(windows, size, ok):
    args = {"message": "m" * size}
    if ok and not windows:
        with pytest.raises(limits.TooLong):  # alone it fits an argument, not the vector's budget with the rest
            limits.check_options(windows, SPEC, dict(args, changes=["c" * 131000, "d" * 131000]))
    if ok:
        limits.check_options(windows, SPEC, args)
    else:
        with pytest.raises(limits.TooLong, match=r"^message: the value 'mmm.*' is [0-9,]+ (bytes|characters) long; "):
            limits.check_options(windows, SPEC, args)


def test_values_together_name_the_biggest_and_the_others():
    with pytest.raises(limits.TooLong) as caught:
        limits.check_options(True, SPEC, {"message": "m" * 20000, "changes": ["c" * 5000, "d" * 5000]})
    assert str(caught.value).startswith(
        "message: the values are too long together for one docker command line on the host: message takes 20,017 "
        "characters, changes 10,034, docker's own arguments about 1,024 (31,075 in all); a Windows command line holds "
        "at most 32,767 characters (CreateProcess), of which docker's arguments may take 30,000"), str(caught.value)


def test_chunked_options_count_item_by_item_and_secrets_not_at_all():
    names = ["n" * 200] * 1000  # 200 KB: docker_image_info spreads them over several calls
    limits.check_options(True, SPEC, {"names": names}, chunked=["names"])
    with pytest.raises(limits.TooLong, match="^names: "):
        limits.check_options(True, SPEC, {"names": names})
    limits.check_options(True, SPEC, {"password": "p" * 100000})  # on stdin only


def test_sub_options_are_counted_under_their_full_name():
    with pytest.raises(limits.TooLong, match="^filters.label: "):
        limits.check_options(False, SPEC, {"filters": {"label": "l" * 200000}})


# --- docker's Dockerfile lines and paths ----------------------------------------------------------


def test_a_dockerfile_line_is_at_most_65535_bytes():
    # measured against the engine: 65,535 bytes commit, 65,536 give "dockerfile line greater than max
    # allowed size of 65535" (or "file with no instructions" when it is the only line)
    limits.check_dockerfile_line("LABEL x=" + "a" * (65535 - 8), "changes")
    with pytest.raises(limits.TooLong) as caught:
        limits.check_dockerfile_line("LABEL x=" + "a" * (65536 - 8), "changes")
    assert str(caught.value).startswith("changes: the instruction 'LABEL x=aaa") and "65,536 bytes long" in str(
        caught.value)
    with pytest.raises(limits.TooLong, match="120,008 bytes"):
        limits.check_dockerfile_line("LABEL x=" + "\u20ac" * 40000, "changes")  # 40,008 characters


@pytest.mark.parametrize(("windows", "size", "ok"), [
    (False, 4095, True), (False, 4096, False), (True, 32766, True), (True, 32767, False)])
def test_path_lengths(windows, size, ok):
    path = ("C:\\" if windows else "/") + "p" * (size - (3 if windows else 1))
    if ok:
        limits.check_path_length(windows, path, "path")
    else:
        with pytest.raises(limits.TooLong, match="^path: the path "):
            limits.check_path_length(windows, path, "path")
