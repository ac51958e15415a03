# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows command lines: whatever the arguments, an MSVC program must get them back unchanged."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import WindowsDialect
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import (
    join_arguments,
    quote_argument,
)

from cmdline import parse, parse_like_docker  # tests/unit has no __init__.py, so pytest puts it on sys.path

# Any Unicode except NUL (hypothesis leaves out lone surrogates, which no str from JSON holds),
# with the characters that matter to the quoting rules made frequent.
TRICKY = '\\" \t\n\v\r\'\u2018\u2019'
any_char = st.characters(exclude_characters="\x00")
argument = st.text(alphabet=st.one_of(st.sampled_from(TRICKY), any_char), max_size=40)
arguments = st.lists(argument, max_size=12)


# --- the reference parser itself, checked against Microsoft's documented examples ----------

@pytest.mark.parametrize(
    ("command_line", "expected"),
    [
        ('"abc" d e', ["abc", "d", "e"]),
        (r"a\\b d" + '"e f"g h', [r"a\\b", "de fg", "h"]),
        (r'a\\\"b c d', [r'a\"b', "c", "d"]),
        (r'a\\\\"b c" d e', [r"a\\b c", "d", "e"]),
        ('a"b"" c d', ['ab" c d']),  # "" inside quotes: the post-2008 msvcrt rule
        ("", []),
        ("  \t ", []),
        ('""', [""]),
        ('"" ""', ["", ""]),
        ("a\nb", ["a\nb"]),  # only spaces and tabs separate
        ("a\\", ["a\\"]),
        ('"a', ["a"]),  # an unclosed quote runs to the end
    ],
)
def test_reference_parser_follows_the_documented_rules(command_line, expected):
    assert parse(command_line) == expected


# --- the encoder --------------------------------------------------------------------------

@settings(max_examples=600, deadline=None)
@given(arguments)
@example([])
@example([""])
@example(["", "", ""])
@example(["\\"])
@example(["a\\", "b"])
@example(['\\"'])
@example(["a b\\"])
@example(["a b\\\\"])
@example(['"'])
@example(['""'])
@example(["\t"])
@example(["\n"])
@example(["-", "--", "-x"])
def test_any_arguments_round_trip(args):
    command_line = join_arguments(args)
    assert parse(command_line) == args
    assert parse_like_docker(command_line) == args


@settings(max_examples=300, deadline=None)
@given(argument)
def test_one_quoted_argument_is_one_argument(value):
    assert parse(quote_argument(value)) == [value]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet='ab\\" \t', max_size=12), max_size=6))
def test_reference_parser_agrees_with_subprocess_list2cmdline(args):
    # A second, independent MSVC encoder: the parser must not be tuned to ours.
    assert parse(subprocess.list2cmdline(args)) == args


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ""),
        ([""], '""'),
        (["plain"], "plain"),
        (["a", "b"], "a b"),
        (["a b"], '"a b"'),
        (["a\tb"], '"a\tb"'),
        (["a\nb"], '"a\nb"'),
        (["a\vb"], '"a\vb"'),
        (['a"b'], r'"a\"b"'),
        ([r"C:\Program Files\Docker"], r'"C:\Program Files\Docker"'),
        ([r"C:\Program Files\Docker" + "\\"], r'"C:\Program Files\Docker\\"'),
        ([r"C:\dir" + "\\"], "C:\\dir\\"),  # no quotes needed: trailing backslashes stay single
        ([r"\\server\share"], r"\\server\share"),
        ([r'a\"b'], r'"a\\\"b"'),
        ([r'a\\"b'], r'"a\\\\\"b"'),
        (['"'], r'"\""'),
        (["\\"], "\\"),
        (["it's"], "it's"),
        (["naïve \u2018quoted\u2019"], '"naïve \u2018quoted\u2019"'),
        (["--label", "a=b c"], '--label "a=b c"'),
    ],
)
def test_classic_cases(args, expected):
    assert join_arguments(args) == expected
    assert parse(expected) == args


@pytest.mark.parametrize("value", ["\x00", "a\x00", "\x00b", 'a "\x00" b'])
def test_nul_is_rejected(value):
    with pytest.raises(ValueError, match="NUL"):
        quote_argument(value)
    with pytest.raises(ValueError, match="NUL"):
        join_arguments(["ok", value])


def test_join_accepts_any_iterable():
    assert join_arguments(iter(["a b", "c"])) == '"a b" c'
    assert join_arguments(("x",)) == "x"


# --- the real examples of the mission -----------------------------------------------------

MISSION_CHANGES = ['CMD ["app.exe", "--name=it\'s"]', 'LABEL note="naïve \u2018quoted\u2019"']


def test_commit_changes_of_the_mission_round_trip():
    args = ["commit", "--change", MISSION_CHANGES[0], "--change", MISSION_CHANGES[1], "builder", "app:1.0"]
    line = join_arguments(args)
    assert parse(line) == args
    assert '"CMD [\\"app.exe\\", \\"--name=it\'s\\"]"' in line
    assert '"LABEL note=\\"naïve \u2018quoted\u2019\\""' in line


@pytest.mark.parametrize("change", MISSION_CHANGES)
def test_windows_dialect_request_carries_the_exact_arguments(change):
    args = ["commit", "--change", change, "builder", "app:1.0"]
    request = WindowsDialect().call_request("docker", args)
    assert request["exe"] == "docker"
    assert parse(request["cmdline"]) == args


def test_the_two_rules_for_doubled_quotes_differ():
    """The docker.exe oracle is not the msvcrt one: a `""` inside quotes closes the region."""
    assert parse('"a""b c"') == ['a"b c']
    assert parse_like_docker('"a""b c"') == ['a"b', 'c']
