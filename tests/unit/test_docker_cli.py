# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker CLI calls and the reading of their output, without a host."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli
from ansible_collections.wincontainers.images.plugins.plugin_utils.docker_cli import (
    DockerError,
    EngineUnreachable,
    chunked,
    find_image,
    inspect_all_calls,
    inspect_calls,
    json_documents,
    read_inspect,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils.engine import Settings
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, CallResult
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import parse_image
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import (
    MAX_ARGUMENTS_LENGTH,
    join_arguments,
)

from cmdline import parse  # tests/unit has no __init__.py, so pytest puts it on sys.path


@dataclass
class FakeHost:
    """What docker_cli uses of a Host."""

    name: str = "winhost01"
    is_windows: bool = True
    engine: Settings = Settings()


LINUX = FakeHost("linuxhost", is_windows=False)
WINDOWS = FakeHost("winhost01", is_windows=True)


def result(arguments, rc=0, stdout="", stderr="", skipped=False) -> CallResult:
    return CallResult(Call(tuple(arguments)), rc, stdout, stderr, skipped)


def image(hex_char: str, tags=(), digests=(), prefix="") -> dict:
    image_id = "sha256:" + (prefix + hex_char * 64)[:64]
    return {"Id": image_id, "RepoTags": list(tags), "RepoDigests": list(digests), "Size": 1}


# --- chunked ------------------------------------------------------------------------------

def check_chunks(prefix, values, chunks):
    flattened = []
    for chunk in chunks:
        assert chunk[: len(prefix)] == tuple(prefix)
        assert len(chunk) > len(prefix), "no empty chunk"
        line = join_arguments(chunk)
        assert len(line) < MAX_ARGUMENTS_LENGTH, "chunk command line is %d characters" % len(line)
        assert parse(line) == list(chunk)
        flattened.extend(chunk[len(prefix):])
    assert flattened == list(values), "a value was lost, duplicated or reordered"


@pytest.mark.parametrize("count", [500, 5000])
@pytest.mark.parametrize(
    "make_name",
    [
        lambda i: "registry.example.com:5000/%s/image-%05d:tag-%05d" % ("a" * 150, i, i),
        lambda i: "sha256:%064x" % i,
        # The worst case of quoting: every character doubles.
        lambda i: '\\"' * 60 + str(i) + "\\" * 30,
    ],
    ids=["long-references", "ids", "worst-case-quoting"],
)
def test_chunked_keeps_every_windows_command_line_short(count, make_name):
    prefix = ("image", "inspect", "--format", "{{json .}}")
    values = [make_name(i) for i in range(count)]
    chunks = chunked(prefix, values)
    check_chunks(prefix, values, chunks)
    if count == 5000:
        assert len(chunks) > 1


@pytest.mark.parametrize(
    "prefix",
    [
        ("image", "inspect", "--format", "{{json .}}"),  # a prefix argument that needs quotes
        ("commit", "--change", 'CMD ["app.exe", "--name=it\'s"]'),  # one whose quotes are escaped
    ],
    ids=["format", "change"],
)
@pytest.mark.parametrize("quotes", [1, 2, 5, 10])
def test_chunked_counts_the_prefix_as_quoted(prefix, quotes):
    # Values of quotes only cost exactly what chunked budgets for them (2 * length + 3), so
    # any part of the prefix's quoting that is not counted pushes the line over the limit.
    values = ['"' * quotes] * 5000
    check_chunks(prefix, values, chunked(prefix, values))


def test_chunked_of_nothing_is_nothing():
    assert chunked(("image", "inspect"), []) == []


def test_chunked_keeps_a_short_list_in_one_call():
    assert chunked(("image", "inspect"), ["a", "b c"]) == [("image", "inspect", "a", "b c")]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(st.characters(exclude_characters="\x00"), max_size=3000), max_size=40))
def test_chunked_for_any_values(values):
    prefix = ("image", "rm", "--force")
    check_chunks(prefix, values, chunked(prefix, values))


def test_inspect_calls_inspect_each_name_once():
    calls = inspect_calls(["busybox", "alpine:3.20", "busybox", "sha256:" + "a" * 64])
    assert calls == [Call(("image", "inspect", "--", "busybox", "alpine:3.20", "sha256:" + "a" * 64))]


def test_inspect_calls_chunk_long_lists():
    names = ["registry.example.com/team/image-%04d:%s" % (i, "t" * 100) for i in range(2000)]
    calls = inspect_calls(names)
    assert len(calls) > 1
    assert [name for call in calls for name in call.arguments[3:]] == names
    assert all(call.arguments[:3] == ("image", "inspect", "--") for call in calls)


def test_inspect_all_calls_is_list_then_inspect_in_one_exec():
    listing, inspect = inspect_all_calls()
    assert listing.arguments[:2] == ("image", "ls") and "--quiet" in listing.arguments
    assert "--no-trunc" in listing.arguments
    assert inspect.arguments == ("image", "inspect", "--") and inspect.append_lines_of == 0


# --- json_documents -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("\n\n", []),
        ("[]", [[]]),
        ('[{"Id": "a"}]\n', [[{"Id": "a"}]]),
        ('[{"Id": "a"}]\n[{"Id": "b"}, {"Id": "c"}]\n\n[]\n', [[{"Id": "a"}], [{"Id": "b"}, {"Id": "c"}], []]),
        ("[1][2]", [[1], [2]]),
        ('\r\n[1]\r\n[2]\r\n', [[1], [2]]),
        ('{"a": "]["}\n[3]', [{"a": "]["}, [3]]),
    ],
)
def test_json_documents(text, expected):
    assert json_documents(text) == expected


def test_json_documents_refuses_garbage():
    with pytest.raises(ValueError):
        json_documents("[1]\nError: not json")


def test_json_documents_of_real_pretty_printed_inspect_output():
    first = json.dumps([image("a", ["busybox:latest"])], indent=4)
    second = json.dumps([image("b", ["alpine:3.20"]), image("c")], indent=4)
    assert json_documents(first + "\n" + second + "\n") == [json.loads(first), json.loads(second)]


# --- read_inspect -------------------------------------------------------------------------

BUSYBOX = image("a", ["busybox:latest"], ["busybox@sha256:" + "1" * 64])
ALPINE = image("b", ["alpine:3.20"])
DANGLING = image("e")


def test_read_inspect_reads_every_image_once_in_order():
    results = [
        result(["image", "inspect", "busybox", "alpine:3.20"], stdout=json.dumps([BUSYBOX, ALPINE])),
        result(["image", "inspect", "busybox:latest"], stdout=json.dumps([BUSYBOX])),
    ]
    assert read_inspect(LINUX, results) == [BUSYBOX, ALPINE]


@pytest.mark.parametrize(
    "stderr",
    [
        "Error: No such image: nope:latest\n",
        "Error response from daemon: No such image: nope:latest\n",
        "Error: No such object: nope\n",
        "Error: No such image: nope\nError: No such image: other:1.0\n",
    ],
)
def test_read_inspect_ignores_missing_images(stderr):
    results = [result(["image", "inspect", "busybox", "nope"], rc=1, stdout=json.dumps([BUSYBOX]) + "\n",
                      stderr=stderr)]
    assert read_inspect(LINUX, results) == [BUSYBOX]


def test_read_inspect_with_only_missing_images_is_empty():
    results = [result(["image", "inspect", "nope"], rc=1, stdout="[]\n", stderr="Error: No such image: nope\n")]
    assert read_inspect(WINDOWS, results) == []


@pytest.mark.parametrize(
    "stderr",
    [
        "Error response from daemon: invalid reference format\n",
        "Error: No such image: nope\nError response from daemon: context deadline exceeded\n",
    ],
)
def test_read_inspect_raises_on_other_errors(stderr):
    results = [result(["image", "inspect", "nope"], rc=1, stdout="[]\n", stderr=stderr)]
    with pytest.raises(DockerError) as caught:
        read_inspect(LINUX, results)
    assert not isinstance(caught.value, EngineUnreachable)
    assert "linuxhost" in str(caught.value)
    assert stderr.strip().splitlines()[-1] in str(caught.value)


def test_read_inspect_of_list_then_inspect():
    ids = "\n".join([BUSYBOX["Id"], ALPINE["Id"], DANGLING["Id"]]) + "\n"
    listing, inspect = inspect_all_calls()
    results = [
        CallResult(listing, 0, ids, ""),
        # Two chunks, each followed by the newline the host script adds.
        CallResult(inspect, 0, json.dumps([BUSYBOX, ALPINE]) + "\n\n" + json.dumps([DANGLING]) + "\n\n", ""),
    ]
    assert read_inspect(LINUX, results) == [BUSYBOX, ALPINE, DANGLING]


def test_read_inspect_of_an_empty_host():
    listing, inspect = inspect_all_calls()
    results = [CallResult(listing, 0, "", ""), CallResult(inspect, 0, "", "", skipped=True)]
    assert read_inspect(WINDOWS, results) == []


def test_read_inspect_raises_when_listing_fails():
    listing, inspect = inspect_all_calls()
    results = [CallResult(listing, 1, "", "unknown flag: --no-trunc\n"), CallResult(inspect, 0, "", "", skipped=True)]
    with pytest.raises(DockerError, match="listing images.*unknown flag"):
        read_inspect(LINUX, results)


# docker's own words when it cannot reach its engine (moby client/request.go, errors.go), as
# Docker CLI 28 and 29 print them on Linux and Windows.
LINUX_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
# The same words for a socket named by DOCKER_HOST that nobody listens on (docker 28.2.2 here).
LINUX_DOWN_DOCKER_HOST = "Cannot connect to the Docker daemon at unix:///tmp/wct/docker.sock. Is the docker daemon running?"
LINUX_DOWN_TCP = "Cannot connect to the Docker daemon at tcp://10.0.0.5:2376. Is the docker daemon running?"
WINDOWS_DOWN = (
    "error during connect: this error may indicate that the docker daemon is not running: "
    'Get "http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.45/images/json": '
    "open //./pipe/docker_engine: The system cannot find the file specified."
)
# A client that is not elevated says so instead (Docker CLI 28 and before).
WINDOWS_DOWN_NOT_ELEVATED = (
    "error during connect: in the default daemon configuration on Windows, the docker client must be run with "
    'elevated privileges to connect: Get "http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.47/version": '
    "open //./pipe/docker_engine: The system cannot find the file specified."
)
# Docker CLI 29 words it differently.
LINUX_DOWN_29 = (
    "failed to connect to the docker API at unix:///var/run/docker.sock; check if the path is correct "
    "and if the daemon is running: dial unix /var/run/docker.sock: connect: no such file or directory"
)
WINDOWS_DOWN_29 = (
    "failed to connect to the docker API at npipe:////./pipe/docker_engine; check if the path is correct "
    "and if the daemon is running: open //./pipe/docker_engine: The system cannot find the file specified."
)
LINUX_DENIED = (
    "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: "
    'Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.45/images/json": dial unix /var/run/docker.sock: '
    "connect: permission denied"
)
WINDOWS_DENIED = (
    "permission denied while trying to connect to the Docker daemon socket at npipe:////./pipe/docker_engine: "
    'Get "http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.47/images/json": open //./pipe/docker_engine: Access is denied.'
)
# docker.exe before 28, as a user who is not an elevated administrator (docker/for-win issue 1732)
WINDOWS_DENIED_OLD = (
    "error during connect: This error may indicate that the docker daemon is not running.: "
    'Get "http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.24/images/json": open //./pipe/docker_engine: Access is denied.'
)
LINUX_DENIED_29 = "permission denied while trying to connect to the docker API at unix:///var/run/docker.sock"
WINDOWS_DENIED_29 = "permission denied while trying to connect to the docker API at npipe:////./pipe/docker_engine"
DEFAULT_SOCKET = "unix:///var/run/docker.sock (docker's default endpoint)"
DEFAULT_PIPE = "npipe:////./pipe/docker_engine (docker's default endpoint)"


@pytest.mark.parametrize(
    ("host", "stderr", "where", "cause"),
    [
        (LINUX, LINUX_DOWN, DEFAULT_SOCKET, None),
        (LINUX, LINUX_DOWN_DOCKER_HOST, "unix:///tmp/wct/docker.sock (set by DOCKER_HOST or the current docker context)",
         None),
        (LINUX, LINUX_DOWN_TCP, "tcp://10.0.0.5:2376 (set by DOCKER_HOST or the current docker context)", None),
        (WINDOWS, WINDOWS_DOWN, DEFAULT_PIPE, "open //./pipe/docker_engine: The system cannot find the file specified"),
        (WINDOWS, WINDOWS_DOWN_NOT_ELEVATED, DEFAULT_PIPE,
         "open //./pipe/docker_engine: The system cannot find the file specified"),
        (LINUX, LINUX_DOWN_29, DEFAULT_SOCKET, "dial unix /var/run/docker.sock: connect: no such file or directory"),
        (WINDOWS, WINDOWS_DOWN_29, DEFAULT_PIPE, "open //./pipe/docker_engine: The system cannot find the file specified"),
    ],
    ids=["linux", "linux-docker-host", "linux-tcp", "windows", "windows-not-elevated", "linux-docker29",
         "windows-docker29"],
)
def test_read_inspect_reports_an_unreachable_engine(host, stderr, where, cause):
    results = [result(["image", "inspect", "--", "busybox"], rc=1, stdout="[]\n", stderr=stderr + "\n")]
    with pytest.raises(EngineUnreachable) as caught:
        read_inspect(host, results)
    message = str(caught.value)
    # what is wrong, where docker looked, and (with docker's cause when it gives one) what to do, each once
    expected = "%s: the Docker engine is not reachable at %s%s. Start the engine (%s) or, if it listens elsewhere, " \
        "give its address in docker_host (or DOCKER_HOST in the task's environment)" % (
            host.name, where, ": " + cause if cause else "",
            "Start-Service docker" if host.is_windows else "systemctl start docker")
    assert message.startswith(expected), message
    assert message.count("://") == 1  # the endpoint, named once
    assert "running?" not in message and "is running" not in message  # no question, no advice repeated
    assert ("elevated" in message) == (stderr == WINDOWS_DOWN_NOT_ELEVATED)


@pytest.mark.parametrize(
    ("host", "stderr", "where"),
    [(LINUX, LINUX_DENIED, DEFAULT_SOCKET), (WINDOWS, WINDOWS_DENIED, DEFAULT_PIPE),
     (LINUX, LINUX_DENIED_29, DEFAULT_SOCKET), (WINDOWS, WINDOWS_DENIED_29, DEFAULT_PIPE),
     (WINDOWS, WINDOWS_DENIED_OLD, DEFAULT_PIPE)],
    ids=["linux", "windows", "linux-docker29", "windows-docker29", "windows-access-denied"],
)
def test_read_inspect_reports_permission_denied(host, stderr, where):
    results = [result(["image", "inspect", "--", "busybox"], rc=1, stdout="[]\n", stderr=stderr + "\n")]
    with pytest.raises(EngineUnreachable) as caught:
        read_inspect(host, results)
    message = str(caught.value)
    kind = "pipe" if host.is_windows else "socket"
    assert message.startswith("%s: the user the task runs as may not use the Docker engine's %s %s (permission "
                              "denied). Run the task " % (host.name, kind, where)), message
    assert ("docker group" in message) != host.is_windows
    assert ("administrator" in message) == host.is_windows
    assert "not reachable" not in message  # the engine runs: it is the user's rights that fail


@pytest.mark.parametrize(("text", "endpoint"), [
    (LINUX_DOWN, "unix:///var/run/docker.sock"),
    (LINUX_DOWN_TCP, "tcp://10.0.0.5:2376"),
    (WINDOWS_DOWN, "npipe:////./pipe/docker_engine"),
    (WINDOWS_DOWN_29, "npipe:////./pipe/docker_engine"),
    (LINUX_DENIED, "unix:///var/run/docker.sock"),
    (WINDOWS_DENIED_29, "npipe:////./pipe/docker_engine"),
    ('error during connect: Get "http://docker.example.com:2375/v1.47/version": dial tcp: lookup docker.example.com: '
     "no such host", "tcp://docker.example.com:2375"),
    ("Error response from daemon: No such image: x:latest", None),
])
def test_engine_endpoint_is_read_from_dockers_words(text, endpoint):
    assert docker_cli.engine_endpoint(text) == endpoint


def test_an_unreachable_engine_wins_over_no_such_image():
    # "docker image ls" fails first; the inspect then fails too: the cause is the engine.
    listing, inspect = inspect_all_calls()
    results = [CallResult(listing, 1, "", LINUX_DOWN + "\n"), CallResult(inspect, 0, "", "", skipped=True)]
    with pytest.raises(EngineUnreachable, match="linuxhost"):
        read_inspect(LINUX, results)


def test_raise_for_failures_names_the_operation():
    results = [
        result(["image", "tag", "--", "sha256:" + "a" * 64, "x:1"]),
        result(["image", "tag", "--", "sha256:" + "a" * 64, "y:1"], rc=1, stderr="Error response from daemon: boom\n"),
    ]
    with pytest.raises(DockerError, match=r"winhost01: tagging \(docker image tag\) failed .*exit code 1.*boom"):
        docker_cli.raise_for_failures(WINDOWS, results, "tagging")
    docker_cli.raise_for_failures(WINDOWS, results[:1], "tagging")


def test_raise_for_failures_reports_the_engine_first():
    results = [result(["image", "tag", "a", "b"], rc=1, stderr=WINDOWS_DOWN)]
    with pytest.raises(EngineUnreachable):
        docker_cli.raise_for_failures(WINDOWS, results, "tagging")


def test_tag_calls():
    assert docker_cli.tag_calls("sha256:" + "a" * 64, ["x:1", "y"]) == [
        Call(("image", "tag", "--", "sha256:" + "a" * 64, "x:1")),
        Call(("image", "tag", "--", "sha256:" + "a" * 64, "y")),
    ]


# --- find_image ---------------------------------------------------------------------------

SERVERCORE = image("b", ["mcr.microsoft.com/windows/servercore:ltsc2022"],
                   ["mcr.microsoft.com/windows/servercore@sha256:" + "2" * 64])
PREFIXED = image("c", ["registry.example.com:5000/team/app:1.0"], prefix="abc123")
NAMED_LIKE_AN_ID = image("d", ["abc123:latest"])
QUALIFIED = image("f", ["docker.io/library/alpine:3.20", "localhost:5000/app:latest"],
                  ["docker.io/library/alpine@sha256:" + "3" * 64])
IMAGES = [BUSYBOX, SERVERCORE, PREFIXED, NAMED_LIKE_AN_ID, DANGLING, QUALIFIED]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # Familiar RepoTags forms, normalised both ways.
        ("busybox", BUSYBOX),
        ("busybox:latest", BUSYBOX),
        ("library/busybox", BUSYBOX),
        ("docker.io/library/busybox", BUSYBOX),
        ("docker.io/library/busybox:latest", BUSYBOX),
        ("index.docker.io/library/busybox:latest", BUSYBOX),
        ("busybox@sha256:" + "1" * 64, BUSYBOX),
        ("mcr.microsoft.com/windows/servercore:ltsc2022", SERVERCORE),
        ("mcr.microsoft.com/windows/servercore@sha256:" + "2" * 64, SERVERCORE),
        ("registry.example.com:5000/team/app:1.0", PREFIXED),
        # Fully-qualified RepoTags (containerd image store) found by familiar names.
        ("alpine:3.20", QUALIFIED),
        ("docker.io/library/alpine:3.20", QUALIFIED),
        ("alpine@sha256:" + "3" * 64, QUALIFIED),
        ("localhost:5000/app", QUALIFIED),
        # A name wins over an ID prefix, as in docker.
        ("abc123", NAMED_LIKE_AN_ID),
        # Then IDs: full, bare, prefixes.
        ("sha256:abc123", PREFIXED),
        ("abc1", PREFIXED),
        ("sha256:" + "d" * 64, NAMED_LIKE_AN_ID),
        ("d" * 64, NAMED_LIKE_AN_ID),
        ("eeeeeeeeeeee", DANGLING),
        # Nothing.
        ("busybox:1.36", None),
        ("mcr.microsoft.com/windows/servercore", None),  # no :latest
        ("busybox@sha256:" + "9" * 64, None),
        ("example.com/busybox", None),
        ("busybox2", None),
        ("servercore:ltsc2022", None),
        ("0123", None),
    ],
)
def test_find_image(name, expected):
    assert find_image(IMAGES, parse_image(name, "name")) == expected


def test_find_image_prefers_a_name_whatever_the_order():
    assert find_image(list(reversed(IMAGES)), parse_image("abc123", "name")) == NAMED_LIKE_AN_ID


def test_find_image_accepts_missing_fields_and_iterators():
    bare = {"Id": "sha256:" + "7" * 64, "RepoTags": None}
    assert find_image(iter([bare]), parse_image("7777", "name")) == bare
    assert find_image(iter([bare]), parse_image("busybox", "name")) is None
    assert find_image([], parse_image("busybox", "name")) is None
