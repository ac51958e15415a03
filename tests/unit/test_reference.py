# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of plugin_utils/reference.py: tables of known cases, then properties of the grammar."""

from __future__ import annotations

import copy
import pickle
import re

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import (
    ImageReference,
    ImageSpec,
    ReferenceError,
    ensure_taggable,
    is_full_image_id,
    parse_image,
    parse_reference,
    parse_tag,
    reference_matches,
    short_id,
)

HEX64 = "0123456789abcdef" * 4
OTHER_HEX64 = "fedcba9876543210" * 4
DIGEST = "sha256:" + HEX64

# ---------------------------------------------------------------------------------------------
# Valid references: value -> (domain, path, tag, digest, repository, str(), normalized)
# ---------------------------------------------------------------------------------------------

VALID = [
    ("busybox", "docker.io", "library/busybox", None, None, "busybox", "busybox", "docker.io/library/busybox"),
    ("busybox:latest", "docker.io", "library/busybox", "latest", None, "busybox", "busybox:latest",
     "docker.io/library/busybox:latest"),
    ("library/busybox:1.36", "docker.io", "library/busybox", "1.36", None, "busybox", "busybox:1.36",
     "docker.io/library/busybox:1.36"),
    ("docker.io/busybox", "docker.io", "library/busybox", None, None, "busybox", "busybox",
     "docker.io/library/busybox"),
    ("docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", None, "busybox",
     "busybox:latest", "docker.io/library/busybox:latest"),
    ("index.docker.io/busybox", "docker.io", "library/busybox", None, None, "busybox", "busybox",
     "docker.io/library/busybox"),
    ("index.docker.io/user/app:v1", "docker.io", "user/app", "v1", None, "user/app", "user/app:v1",
     "docker.io/user/app:v1"),
    ("user/app", "docker.io", "user/app", None, None, "user/app", "user/app", "docker.io/user/app"),
    ("library/a/b", "docker.io", "library/a/b", None, None, "library/a/b", "library/a/b",
     "docker.io/library/a/b"),
    ("microsoft/aspnet", "docker.io", "microsoft/aspnet", None, None, "microsoft/aspnet", "microsoft/aspnet",
     "docker.io/microsoft/aspnet"),
    ("microsoft/aspnet:4.8-windowsservercore-ltsc2022", "docker.io", "microsoft/aspnet",
     "4.8-windowsservercore-ltsc2022", None, "microsoft/aspnet", "microsoft/aspnet:4.8-windowsservercore-ltsc2022",
     "docker.io/microsoft/aspnet:4.8-windowsservercore-ltsc2022"),
    ("mcr.microsoft.com/windows/servercore:ltsc2022", "mcr.microsoft.com", "windows/servercore", "ltsc2022", None,
     "mcr.microsoft.com/windows/servercore", "mcr.microsoft.com/windows/servercore:ltsc2022",
     "mcr.microsoft.com/windows/servercore:ltsc2022"),
    ("mcr.microsoft.com/windows/nanoserver:10.0.20348.2113", "mcr.microsoft.com", "windows/nanoserver",
     "10.0.20348.2113", None, "mcr.microsoft.com/windows/nanoserver",
     "mcr.microsoft.com/windows/nanoserver:10.0.20348.2113", "mcr.microsoft.com/windows/nanoserver:10.0.20348.2113"),
    ("mcr.microsoft.com/windows/nanoserver:ltsc2022", "mcr.microsoft.com", "windows/nanoserver", "ltsc2022", None,
     "mcr.microsoft.com/windows/nanoserver", "mcr.microsoft.com/windows/nanoserver:ltsc2022",
     "mcr.microsoft.com/windows/nanoserver:ltsc2022"),
    ("mcr.microsoft.com/dotnet/framework/aspnet:4.8", "mcr.microsoft.com", "dotnet/framework/aspnet", "4.8", None,
     "mcr.microsoft.com/dotnet/framework/aspnet", "mcr.microsoft.com/dotnet/framework/aspnet:4.8",
     "mcr.microsoft.com/dotnet/framework/aspnet:4.8"),
    ("localhost/app", "localhost", "app", None, None, "localhost/app", "localhost/app", "localhost/app"),
    ("localhost:5000/app", "localhost:5000", "app", None, None, "localhost:5000/app", "localhost:5000/app",
     "localhost:5000/app"),
    ("localhost:5000/a/b:c", "localhost:5000", "a/b", "c", None, "localhost:5000/a/b", "localhost:5000/a/b:c",
     "localhost:5000/a/b:c"),
    ("127.0.0.1:5552/wctest/busybox:1.0", "127.0.0.1:5552", "wctest/busybox", "1.0", None,
     "127.0.0.1:5552/wctest/busybox", "127.0.0.1:5552/wctest/busybox:1.0", "127.0.0.1:5552/wctest/busybox:1.0"),
    ("[::1]:5000/x", "[::1]:5000", "x", None, None, "[::1]:5000/x", "[::1]:5000/x", "[::1]:5000/x"),
    ("[::1]/x:y", "[::1]", "x", "y", None, "[::1]/x", "[::1]/x:y", "[::1]/x:y"),
    ("[2001:db8::1]:443/team/app", "[2001:db8::1]:443", "team/app", None, None, "[2001:db8::1]:443/team/app",
     "[2001:db8::1]:443/team/app", "[2001:db8::1]:443/team/app"),
    ("myhost:5000/app", "myhost:5000", "app", None, None, "myhost:5000/app", "myhost:5000/app", "myhost:5000/app"),
    ("Registry.Example.COM:443/foo/bar", "Registry.Example.COM:443", "foo/bar", None, None,
     "Registry.Example.COM:443/foo/bar", "Registry.Example.COM:443/foo/bar", "Registry.Example.COM:443/foo/bar"),
    ("my-registry.example.com/a-b/c--d/e__f/g.h/i_j:T_a.g-1", "my-registry.example.com", "a-b/c--d/e__f/g.h/i_j",
     "T_a.g-1", None, "my-registry.example.com/a-b/c--d/e__f/g.h/i_j",
     "my-registry.example.com/a-b/c--d/e__f/g.h/i_j:T_a.g-1", "my-registry.example.com/a-b/c--d/e__f/g.h/i_j:T_a.g-1"),
    ("busybox@" + DIGEST, "docker.io", "library/busybox", None, DIGEST, "busybox", "busybox@" + DIGEST,
     "docker.io/library/busybox@" + DIGEST),
    ("busybox:1.36@" + DIGEST, "docker.io", "library/busybox", "1.36", DIGEST, "busybox", "busybox:1.36@" + DIGEST,
     "docker.io/library/busybox:1.36@" + DIGEST),
    ("mcr.microsoft.com/windows/servercore@" + DIGEST, "mcr.microsoft.com", "windows/servercore", None, DIGEST,
     "mcr.microsoft.com/windows/servercore", "mcr.microsoft.com/windows/servercore@" + DIGEST,
     "mcr.microsoft.com/windows/servercore@" + DIGEST),
    ("localhost:5000/app@sha512:" + "ab" * 64, "localhost:5000", "app", None, "sha512:" + "ab" * 64,
     "localhost:5000/app", "localhost:5000/app@sha512:" + "ab" * 64, "localhost:5000/app@sha512:" + "ab" * 64),
    ("app@sha384:" + "0f" * 48, "docker.io", "library/app", None, "sha384:" + "0f" * 48, "app",
     "app@sha384:" + "0f" * 48, "docker.io/library/app@sha384:" + "0f" * 48),
    # Without '/' the first part is never a registry: this is library/localhost with tag 5000.
    ("localhost:5000", "docker.io", "library/localhost", "5000", None, "localhost", "localhost:5000",
     "docker.io/library/localhost:5000"),
    # A dot in the only part does not make it a registry either.
    ("example.com", "docker.io", "library/example.com", None, None, "example.com", "example.com",
     "docker.io/library/example.com"),
    # A 64-hex string with a tag is an ordinary name for the engine (only the bare string is an ID).
    (HEX64 + ":v1", "docker.io", "library/" + HEX64, "v1", None, HEX64, HEX64 + ":v1",
     "docker.io/library/" + HEX64 + ":v1"),
    ("a", "docker.io", "library/a", None, None, "a", "a", "docker.io/library/a"),
    ("x:" + "t" * 128, "docker.io", "library/x", "t" * 128, None, "x", "x:" + "t" * 128,
     "docker.io/library/x:" + "t" * 128),
    ("x:_private", "docker.io", "library/x", "_private", None, "x", "x:_private", "docker.io/library/x:_private"),
    # Docker Hub namespaces that would read as registries keep "docker.io/" in the familiar form.
    ("docker.io/example.com/app", "docker.io", "example.com/app", None, None, "docker.io/example.com/app",
     "docker.io/example.com/app", "docker.io/example.com/app"),
    ("docker.io/localhost/app:v1", "docker.io", "localhost/app", "v1", None, "docker.io/localhost/app",
     "docker.io/localhost/app:v1", "docker.io/localhost/app:v1"),
    ("docker.io/library/example.com", "docker.io", "library/example.com", None, None, "example.com", "example.com",
     "docker.io/library/example.com"),
]


@pytest.mark.parametrize("value, domain, path, tag, digest, repository, familiar, normalized", VALID,
                         ids=[case[0][:60] for case in VALID])
def test_valid_reference(value, domain, path, tag, digest, repository, familiar, normalized):
    ref = parse_reference(value, "name")
    assert ref == ImageReference(domain=domain, path=path, tag=tag, digest=digest)
    assert ref.repository == repository
    assert str(ref) == familiar
    assert ref.normalized == normalized
    assert ref.normalized_repository == "%s/%s" % (domain, path)
    assert ref.registry_host == domain
    assert parse_reference(str(ref), "name") == ref
    assert parse_reference(ref.normalized, "name") == ref


# ---------------------------------------------------------------------------------------------
# Invalid references: value -> a fragment of the reason
# ---------------------------------------------------------------------------------------------

INVALID = [
    ("", "it is empty"),
    (" ", "whitespace"),
    ("busybox ", "whitespace"),
    (" busybox", "whitespace"),
    ("busy box", "whitespace"),
    ("busybox\n", "whitespace"),
    ("busybox\tlatest", "whitespace"),
    ("busy\x00box", "control character"),
    ("Foo:bar", "repository names must be lowercase"),
    ("Busybox", "repository names must be lowercase"),
    ("user/App", "repository names must be lowercase"),
    ("Foo/bar", "repository names must be lowercase"),
    ("mcr.microsoft.com/Windows/servercore:ltsc2022", "repository names must be lowercase"),
    ("localhost:5000/App", "repository names must be lowercase"),
    ("x:" + "t" * 129, "the limit is 128"),
    ("x:.hidden", "must not start with '.' or '-'"),
    ("x:-dash", "must not start with '.' or '-'"),
    ("x:", "the tag after ':' is empty"),
    ("x:a+b", "contains '+'"),
    ("x:a:b", "contains ':'"),
    ("busybox!", "contains '!'"),
    ("café", "contains 'é'"),
    ("a$b/c", "contains '$'"),
    ("-busybox", "must start and end with a letter or digit"),
    ("busybox-", "must start and end with a letter or digit"),
    ("_busybox", "must start and end with a letter or digit"),
    ("user/.app", "must start and end with a letter or digit"),
    ("-test/busybox:test", "must start and end with a letter or digit"),
    ("a..b", "separator '..'"),
    ("a___b", "separator '___'"),
    ("a.-b", "separator '.-'"),
    ("a_-b", "separator '_-'"),
    ("a//b", "contains '//'"),
    ("user//app", "contains '//'"),
    ("/busybox", "must not start with '/'"),
    ("busybox/", "must not end with '/'"),
    ("localhost:5000/", "path after the registry is empty"),
    ("example.com/", "path after the registry is empty"),
    (":tag", "repository name is empty"),
    ("@" + DIGEST, "repository name is empty"),
    ("a" * 238, "the limit is 255"),  # docker.io/library/ + 238 = 256
    ("example.com/" + "a" * 244, "the limit is 255"),  # 12 + 244 = 256
    ("busybox@", "the digest after '@' is empty"),
    ("busybox@sha256", "not of the form"),
    ("busybox@sha256:", "not of the form"),
    ("busybox@:" + HEX64, "not of the form"),
    ("busybox@sha256:" + HEX64[:-1], "exactly 64 lowercase hex"),
    ("busybox@sha256:" + HEX64 + "0", "exactly 64 lowercase hex"),
    ("busybox@sha256:" + HEX64.upper(), "exactly 64 lowercase hex"),
    ("busybox@sha256:" + "g" * 64, "exactly 64 lowercase hex"),
    ("busybox@md5:" + "0" * 32, "not supported"),
    ("busybox@1sha:" + HEX64, "malformed"),
    ("busybox@" + DIGEST + "@" + DIGEST, "more than one '@'"),
    ("busybox@latest", "not of the form"),
    ("localhost:abc/app", "the registry port 'abc' is not a number"),
    ("localhost:/app", "the registry port '' is not a number"),
    ("example.com:50x0/app", "not a number"),
    ("[::1]:http/app", "not a number"),
    ("::1/app", "more than one ':'"),
    ("[::1/app", "no closing ']'"),
    ("[::g]/app", "not a valid IPv6 address"),
    ("[]:5000/app", "not a valid IPv6 address"),
    ("[::1]x/app", "unexpected 'x'"),
    ("example..com/app", "empty part"),
    (".example.com/app", "empty part"),
    ("-example.com/app", "starting or ending with '-'"),
    ("example-.com/app", "starting or ending with '-'"),
    ("exa_mple.com/app", "contains '_'"),
    (":5000/app", "has no host name"),
    (HEX64, "it is an image ID"),
    (DIGEST, "it is an image ID"),
]


@pytest.mark.parametrize("value, reason", INVALID, ids=[repr(case[0])[:60] for case in INVALID])
def test_invalid_reference(value, reason):
    with pytest.raises(ReferenceError) as info:
        parse_reference(value, "name")
    error = info.value
    assert reason in error.reason
    assert str(error) == "name: %r is not a valid image reference: %s" % (value, error.reason)
    assert error.option == "name"
    assert error.value == value
    assert isinstance(error, ValueError)


def test_error_survives_pickle_and_copy():
    # pylint: disable=unidiomatic-typecheck  # the exact class: isinstance would let a subclass pass
    with pytest.raises(ReferenceError) as info:
        parse_reference(5, "name")
    for clone in (pickle.loads(pickle.dumps(info.value)), copy.deepcopy(info.value)):
        assert type(clone) is ReferenceError
        assert str(clone) == str(info.value)
        assert (clone.option, clone.value, clone.reason) == ("name", "5", info.value.reason)


def test_message_example_from_the_spec():
    with pytest.raises(ReferenceError) as info:
        parse_reference("Foo:bar", "name")
    assert str(info.value) == "name: 'Foo:bar' is not a valid image reference: repository names must be lowercase"


@pytest.mark.parametrize("value", [None, 5, 1.5, True, b"busybox", ["busybox"], {"name": "busybox"}])
def test_non_string_values_are_refused_with_their_repr(value):
    with pytest.raises(ReferenceError) as info:
        parse_reference(value, "source_image")
    message = str(info.value)
    assert message.startswith("source_image: %r is not a valid image reference" % (value,))
    assert "expected a string, got %s" % type(value).__name__ in message
    assert info.value.value == repr(value)
    with pytest.raises(ReferenceError, match="^tag: "):
        parse_tag(value, "tag")
    with pytest.raises(ReferenceError, match="^name: .* image reference or ID"):
        parse_image(value, "name")


def test_str_subclasses_are_accepted_and_returned_as_plain_str():
    # pylint: disable=unidiomatic-typecheck  # exactly str: isinstance would accept the subclass given
    class Tagged(str):
        pass

    ref = parse_reference(Tagged("mcr.microsoft.com/windows/servercore:ltsc2022"), "name")
    assert type(ref.domain) is str and type(ref.path) is str and type(ref.tag) is str
    assert type(parse_tag(Tagged("v1"), "tag")) is str
    spec = parse_image(Tagged("busybox"), "name")
    assert type(spec.text) is str
    with pytest.raises(ReferenceError) as info:
        parse_reference(Tagged("Bad"), "name")
    assert "'Bad'" in str(info.value)
    assert type(info.value.value) is str


def test_long_names_at_the_limit():
    assert parse_reference("a" * 237, "name").path == "library/" + "a" * 237  # 18 + 237 = 255
    assert parse_reference("example.com/" + "a" * 243, "name").path == "a" * 243
    assert parse_reference("example.com/" + "a" * 243 + ":" + "t" * 128, "name").tag == "t" * 128


# ---------------------------------------------------------------------------------------------
# default_tag, with_tag, tags
# ---------------------------------------------------------------------------------------------

def test_default_tag_only_without_tag_and_digest():
    assert parse_reference("busybox", "name", default_tag="latest").tag == "latest"
    assert str(parse_reference("busybox", "name", default_tag="latest")) == "busybox:latest"
    assert parse_reference("busybox:1.0", "name", default_tag="latest").tag == "1.0"
    ref = parse_reference("busybox@" + DIGEST, "name", default_tag="latest")
    assert ref.tag is None and ref.digest == DIGEST
    assert parse_reference("busybox", "name").tag is None


def test_default_tag_is_checked():
    with pytest.raises(ReferenceError, match="^default_tag: '-x' is not a valid tag"):
        parse_reference("busybox", "name", default_tag="-x")


def test_with_tag():
    ref = parse_reference("mcr.microsoft.com/windows/servercore:ltsc2019", "name")
    assert str(ref.with_tag("ltsc2022")) == "mcr.microsoft.com/windows/servercore:ltsc2022"
    assert str(parse_reference("app@" + DIGEST, "n").with_tag("v2")) == "app:v2@" + DIGEST
    assert ref.without_tag() == ImageReference("mcr.microsoft.com", "windows/servercore")
    with pytest.raises(ReferenceError, match="^tag: 'bad tag' is not a valid tag: it contains whitespace"):
        ref.with_tag("bad tag")


def test_reference_is_frozen_and_hashable():
    ref = parse_reference("busybox", "name")
    with pytest.raises(AttributeError):
        ref.tag = "x"  # type: ignore[misc]
    assert {ref, parse_reference("docker.io/library/busybox", "name")} == {ref}


@pytest.mark.parametrize("tag", ["latest", "ltsc2022", "10.0.20348.2113", "_x", "A", "9", "a" * 128, "v1.0-rc_2"])
def test_valid_tags(tag):
    assert parse_tag(tag, "tag") == tag


@pytest.mark.parametrize("tag, reason", [
    ("", "it is empty"),
    ("a" * 129, "129 characters long, the limit is 128"),
    (".x", "must not start with '.' or '-'"),
    ("-x", "must not start with '.' or '-'"),
    ("a/b", "contains '/'"),
    ("a:b", "contains ':'"),
    ("a@b", "contains '@'"),
    ("a b", "whitespace"),
    ("é", "contains 'é'"),
])
def test_invalid_tags(tag, reason):
    with pytest.raises(ReferenceError) as info:
        parse_tag(tag, "tag")
    assert reason in str(info.value)
    assert str(info.value).startswith("tag: %r is not a valid tag: " % tag)


# ---------------------------------------------------------------------------------------------
# Image IDs
# ---------------------------------------------------------------------------------------------

def test_full_ids():
    assert is_full_image_id(HEX64)
    assert is_full_image_id(DIGEST)
    assert not is_full_image_id(HEX64[:-1])
    assert not is_full_image_id(HEX64 + "0")
    assert not is_full_image_id(HEX64.upper())
    assert not is_full_image_id("sha512:" + HEX64)
    assert not is_full_image_id("busybox")
    assert not is_full_image_id(None)
    assert not is_full_image_id(42)


def test_short_id():
    assert short_id(DIGEST) == HEX64[:12]
    assert short_id(HEX64) == HEX64[:12]
    assert short_id("abc") == "abc"
    with pytest.raises(TypeError):
        short_id(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("value, expected", [
    (HEX64, ImageSpec("sha256:" + HEX64, None, True, True)),
    (DIGEST, ImageSpec(DIGEST, None, True, True)),
    ("busybox", ImageSpec("busybox", ImageReference("docker.io", "library/busybox"), False, False)),
    ("mcr.microsoft.com/windows/nanoserver:ltsc2022",
     ImageSpec("mcr.microsoft.com/windows/nanoserver:ltsc2022",
               ImageReference("mcr.microsoft.com", "windows/nanoserver", "ltsc2022"), False, False)),
    # Short hex strings are names first, then ID prefixes.
    ("0123456789ab", ImageSpec("0123456789ab", ImageReference("docker.io", "library/0123456789ab"), False, True)),
    ("abcd", ImageSpec("abcd", ImageReference("docker.io", "library/abcd"), False, True)),
    ("a", ImageSpec("a", ImageReference("docker.io", "library/a"), False, True)),
    (HEX64[:63], ImageSpec(HEX64[:63], ImageReference("docker.io", "library/" + HEX64[:63]), False, True)),
    ("sha256:0123456789ab",
     ImageSpec("sha256:0123456789ab", ImageReference("docker.io", "library/sha256", "0123456789ab"), False, True)),
    # Not hex, or not only hex: a name only.
    ("abcdefg", ImageSpec("abcdefg", ImageReference("docker.io", "library/abcdefg"), False, False)),
    ("abcd:latest", ImageSpec("abcd:latest", ImageReference("docker.io", "library/abcd", "latest"), False, False)),
    ("busybox@" + DIGEST, ImageSpec("busybox@" + DIGEST, ImageReference("docker.io", "library/busybox", None, DIGEST),
                                    False, False)),
    (HEX64 + "0", ImageSpec(HEX64 + "0", ImageReference("docker.io", "library/" + HEX64 + "0"), False, False)),
])
def test_parse_image(value, expected):
    assert parse_image(value, "name") == expected


@pytest.mark.parametrize("value, reason", [
    ("", "it is empty"),
    ("ABCDEF", "repository names must be lowercase"),
    ("sha256:", "an image ID is 'sha256:' followed by"),
    ("sha256:" + HEX64.upper(), "an image ID is 'sha256:' followed by"),
    ("sha256:" + HEX64 + "0", "an image ID is 'sha256:' followed by"),
    ("sha256:latest", "an image ID is 'sha256:' followed by"),
    ("busy box", "whitespace"),
])
def test_parse_image_invalid(value, reason):
    with pytest.raises(ReferenceError) as info:
        parse_image(value, "name")
    assert str(info.value) == "name: %r is not a valid image reference or ID: %s" % (value, info.value.reason)
    assert reason in info.value.reason


# ---------------------------------------------------------------------------------------------
# reference_matches and ensure_taggable
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, repo_tag, expected", [
    ("busybox", "busybox:latest", True),
    ("busybox", "docker.io/library/busybox:latest", True),
    ("busybox:latest", "busybox", True),
    ("docker.io/library/busybox:1.36", "busybox:1.36", True),
    ("index.docker.io/library/busybox:1.36", "busybox:1.36", True),
    ("busybox:1.36", "busybox:latest", False),
    ("busybox", "user/busybox:latest", False),
    ("mcr.microsoft.com/windows/servercore:ltsc2022", "mcr.microsoft.com/windows/servercore:ltsc2022", True),
    ("mcr.microsoft.com/windows/servercore:ltsc2022", "windows/servercore:ltsc2022", False),
    ("localhost:5000/app:v1", "localhost:5000/app:v1", True),
    ("localhost:5000/app:v1", "localhost:5001/app:v1", False),
    ("busybox@" + DIGEST, "busybox@" + DIGEST, True),
    ("busybox:1.36@" + DIGEST, "docker.io/library/busybox@" + DIGEST, True),
    ("busybox@" + DIGEST, "busybox@sha256:" + OTHER_HEX64, False),
    ("busybox@" + DIGEST, "busybox:latest", False),
    ("busybox", "busybox@" + DIGEST, False),
    ("busybox", "<none>:<none>", False),
    ("busybox", None, False),
    ("busybox", "", False),
])
def test_reference_matches(value, repo_tag, expected):
    assert reference_matches(parse_reference(value, "name"), repo_tag) is expected


def test_ensure_taggable():
    ref = parse_reference("localhost:5000/app:v1", "repository")
    assert ensure_taggable(ref, "repository") is ref
    with pytest.raises(ReferenceError, match="^repository: .* cannot have a digest"):
        ensure_taggable(parse_reference("app@" + DIGEST, "repository"), "repository")
    with pytest.raises(ReferenceError, match="^repository: 'sha256:abcd' .*'sha256' would read as an image ID"):
        ensure_taggable(parse_reference("sha256:abcd", "repository"), "repository")
    assert ensure_taggable(parse_reference("team/sha256:abcd", "repository"), "repository")


# ---------------------------------------------------------------------------------------------
# Properties: strategies composed from the grammar
# ---------------------------------------------------------------------------------------------

# No deadline and no speed health check: a loaded CI machine must not turn them into failures.
def properties(max_examples):
    return settings(max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])


LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
TAG_FIRST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
TAG_REST = TAG_FIRST + ".-"
HEX = "0123456789abcdef"

alnum = st.text(LOWER_ALNUM, min_size=1, max_size=10)
separator = st.one_of(st.sampled_from([".", "_", "__"]), st.integers(1, 3).map(lambda n: "-" * n))


@st.composite
def path_components(draw):
    parts = [draw(alnum)]
    for _index in range(draw(st.integers(0, 3))):
        parts.append(draw(separator))
        parts.append(draw(alnum))
    return "".join(parts)


paths = st.lists(path_components(), min_size=1, max_size=4).map("/".join)

domain_label = st.one_of(
    st.text(LOWER_ALNUM + "ABCXYZ", min_size=1, max_size=1),
    st.tuples(st.text(LOWER_ALNUM + "ABCXYZ", min_size=1, max_size=1),
              st.text(LOWER_ALNUM + "ABCXYZ-", max_size=8),
              st.text(LOWER_ALNUM + "ABCXYZ", min_size=1, max_size=1)).map("".join),
)
ports = st.integers(0, 99999).map(str)
dotted_names = st.lists(domain_label, min_size=2, max_size=4).map(".".join)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: "%d.%d.%d.%d" % t)
# The grammar takes any hex digits and colons; a registry needs the ':' to read as one.
ipv6 = st.tuples(st.text("0123456789abcdefABCDEF:", max_size=10), st.text("0123456789abcdefABCDEF:", max_size=10)
                 ).map(lambda t: "[%s:%s]" % t)
hosts_needing_port = domain_label  # a one-label host is a registry only with a port


def with_optional_port(hosts):
    return st.tuples(hosts, st.none() | ports).map(lambda t: t[0] if t[1] is None else "%s:%s" % t)


domains = st.one_of(
    st.just("localhost"),
    with_optional_port(st.just("localhost")),
    with_optional_port(dotted_names),
    with_optional_port(ipv4),
    with_optional_port(ipv6),
    st.tuples(hosts_needing_port, ports).map(lambda t: "%s:%s" % t),
    st.sampled_from(["docker.io", "index.docker.io", "mcr.microsoft.com"]),
)
tags = st.tuples(st.text(TAG_FIRST, min_size=1, max_size=1), st.text(TAG_REST, max_size=127)).map("".join)
digests = st.one_of(
    st.text(HEX, min_size=64, max_size=64).map(lambda h: "sha256:" + h),
    st.text(HEX, min_size=96, max_size=96).map(lambda h: "sha384:" + h),
    st.text(HEX, min_size=128, max_size=128).map(lambda h: "sha512:" + h),
)


@st.composite
def references(draw):
    """(text, domain or None, path, tag, digest) of a valid reference."""
    domain = draw(st.none() | domains)
    path = draw(paths)
    first, slash, _rest = path.partition("/")
    if domain is None and slash and ("." in first or first == "localhost"):
        domain = "docker.io"  # without it, the first component would read as a registry
    tag = draw(st.none() | tags)
    digest = draw(st.none() | digests)
    name = path if domain is None else "%s/%s" % (domain, path)
    text = name + ("" if tag is None else ":" + tag) + ("" if digest is None else "@" + digest)
    # The grammar's side conditions: total length, and the two spellings of an image ID.
    expected_domain, expected_path = _expected_name(domain, path)
    assume(len(expected_domain) + 1 + len(expected_path) <= 255)
    assume(not re.fullmatch(r"(sha256:)?[0-9a-f]{64}", text))
    return text, domain, path, tag, digest


def _expected_name(domain, path):
    domain = domain or "docker.io"
    if domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in path:
        path = "library/" + path
    return domain, path


@properties(250)
@given(references())
@example(("mcr.microsoft.com/windows/servercore:ltsc2022", "mcr.microsoft.com", "windows/servercore",
          "ltsc2022", None))
@example(("[::1]:5000/x", "[::1]:5000", "x", None, None))
def test_round_trip(case):
    text, domain, path, tag, digest = case
    ref = parse_reference(text, "name")
    assert (ref.domain, ref.path) == _expected_name(domain, path)
    assert (ref.tag, ref.digest) == (tag, digest)
    again = parse_reference(str(ref), "name")
    assert again == ref
    assert str(again) == str(ref)
    assert parse_reference(ref.normalized, "name") == ref
    assert reference_matches(ref, str(ref))
    assert reference_matches(ref, ref.normalized)


@properties(150)
@given(references(), st.data())
def test_uppercase_in_the_path_always_fails(case, data):
    text, domain, path, tag, digest = case
    ref = parse_reference(text, "name")
    at = data.draw(st.integers(0, len(ref.path)), label="at")
    letter = data.draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), label="letter")
    mutated = ImageReference(ref.domain, ref.path[:at] + letter + ref.path[at:], ref.tag, ref.digest).normalized
    with pytest.raises(ReferenceError) as info:
        parse_reference(mutated, "name")
    assert info.value.reason == "repository names must be lowercase"
    assert str(info.value).startswith("name: %r is not a valid image reference" % mutated)


@properties(150)
@given(references(), st.text(TAG_FIRST, min_size=1, max_size=1), st.text(TAG_REST, min_size=128, max_size=300))
def test_over_long_tag_always_fails(case, first, rest):
    ref = parse_reference(case[0], "name")
    long_tag = first + rest
    mutated = ImageReference(ref.domain, ref.path, long_tag, ref.digest).normalized
    with pytest.raises(ReferenceError) as info:
        parse_reference(mutated, "image")
    assert "the limit is 128" in info.value.reason
    with pytest.raises(ReferenceError):
        ref.with_tag(long_tag)


# ---------------------------------------------------------------------------------------------
# Properties: any text either parses or raises ReferenceError, and agrees with a regex oracle
# ---------------------------------------------------------------------------------------------

def _oracle_pattern():
    """The reference grammar as one anchored regex, written independently of the parser."""
    component = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    label = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
    host = r"(?:%s(?:\.%s)*|\[[a-fA-F0-9:]+\])" % (label, label)
    domain = r"%s(?::[0-9]+)?" % host
    # The registry is not optional here: oracle_accepts() always puts one in front. (The
    # engine's own regex lets "0.0_0/x" through as a name without registry; that is refused.)
    name = r"%s/%s(?:/%s)*" % (domain, component, component)
    tag = r"[\w][\w.-]{0,127}"
    digest = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
    return re.compile(r"(%s)(?::(%s))?(?:@(%s))?" % (name, tag, digest), re.ASCII)


ORACLE = _oracle_pattern()


def oracle_accepts(text):
    """Whether the engine's name parser (normalize, then the grammar) accepts text."""
    if re.fullmatch(r"(?:sha256:)?[0-9a-f]{64}", text):
        return False
    first, slash, rest = text.partition("/")
    if slash and (first == "localhost" or "." in first or ":" in first):
        domain, remainder = first, rest
    else:
        domain, remainder = "docker.io", text
    if domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in remainder:
        remainder = "library/" + remainder
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        return False
    match = ORACLE.fullmatch(domain + "/" + remainder)
    if not match or len(match.group(1)) > 255:
        return False
    if match.group(3):
        algorithm, hex_part = match.group(3).split(":")
        length = {"sha256": 64, "sha384": 96, "sha512": 128}.get(algorithm)
        if length is None or not re.fullmatch("[0-9a-f]{%d}" % length, hex_part):
            return False
    return True


def _parse_or_error(text):
    try:
        return parse_reference(text, "name")
    except ReferenceError as exc:
        assert exc.option == "name"
        assert str(exc).startswith("name: %r is not a valid image reference: " % text)
        return None


@st.composite
def mutated_references(draw):
    """A valid reference with a few characters inserted, deleted or replaced."""
    text = draw(references())[0]
    alphabet = "aZ0:/@._-[]%+ é\t"
    for _index in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        char = draw(st.sampled_from(alphabet))
        if action == "insert":
            text = text[:at] + char + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + char + text[at + 1:]
    return text


grammar_text = st.text("abAB09:/@._-[]", max_size=30)


@properties(300)
@given(st.one_of(st.text(), grammar_text, mutated_references(), references().map(lambda case: case[0])))
@example("")
@example("\udc80")
@example("a" * 10000)
@example("[")
@example("@")
@example("a@b@c")
def test_any_text_parses_or_raises_reference_error(text):
    ref = _parse_or_error(text)
    assert (ref is not None) == oracle_accepts(text)
    if ref is not None:
        assert parse_reference(str(ref), "name") == ref


@properties(150)
@given(st.one_of(st.text(), grammar_text, mutated_references(), st.text(HEX + "sha:", max_size=70)))
def test_other_entry_points_never_raise_anything_else(text):
    try:
        spec = parse_image(text, "name")
    except ReferenceError as exc:
        assert str(exc).startswith("name: %r is not a valid image reference or ID: " % text)
    else:
        assert spec.is_id == is_full_image_id(text)
        assert spec.is_id or spec.reference is not None
        if spec.is_id:
            assert spec.text == "sha256:" + text.removeprefix("sha256:")
        else:
            assert spec.text == text
    try:
        parse_tag(text, "tag")
    except ReferenceError as exc:
        assert str(exc).startswith("tag: %r is not a valid tag: " % text)
    assert reference_matches(parse_reference("busybox", "name"), text) in (True, False)


@properties(150)
@given(st.text(HEX, min_size=1, max_size=63), st.booleans())
def test_short_hex_is_a_name_and_maybe_an_id(hex_part, prefixed):
    text = ("sha256:" if prefixed else "") + hex_part
    spec = parse_image(text, "name")
    assert spec.may_be_id and not spec.is_id
    assert spec.text == text
    assert spec.reference == parse_reference(text, "name")
