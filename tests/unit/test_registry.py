# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry decisions without a host: login state, manifests, platforms, search output, progress."""

from __future__ import annotations

import json
import re

import pytest

from ansible_collections.wincontainers.images.plugins.plugin_utils import registry, transfers
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, CallResult
from ansible_collections.wincontainers.images.plugins.plugin_utils.jobs import JobProgress
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import parse_reference
from ansible_collections.wincontainers.images.plugins.plugin_utils.registry import (
    DOCKER_HUB_KEY,
    DockerConfig,
    OptionError,
    RegistryError,
)

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
CONFIG_A = "sha256:" + "a" * 64
CONFIG_B = "sha256:" + "b" * 64


def result(arguments, rc=0, stdout="", stderr="") -> CallResult:
    return CallResult(Call(tuple(arguments)), rc, stdout, stderr)


# --- registry addresses -------------------------------------------------------------------

@pytest.mark.parametrize("value, key, hub", [
    ("registry.example.com", "registry.example.com", False),
    ("registry.example.com:5000", "registry.example.com:5000", False),
    ("https://registry.example.com:5000/v2/", "registry.example.com:5000", False),
    ("http://127.0.0.1:5551", "127.0.0.1:5551", False),
    ("localhost:5000", "localhost:5000", False),
    ("[::1]:5000", "[::1]:5000", False),
    ("myregistry", "myregistry", False),
    ("https://index.docker.io/v1/", DOCKER_HUB_KEY, True),
    ("docker.io", DOCKER_HUB_KEY, True),
    ("index.docker.io", DOCKER_HUB_KEY, True),
    ("registry-1.docker.io", DOCKER_HUB_KEY, True),
    ("https://registry-1.docker.io/v2/", DOCKER_HUB_KEY, True),
])
def test_registry_urls_become_the_key_docker_uses(value, key, hub):
    parsed = registry.parse_registry_url(value)
    assert (parsed.key, parsed.is_docker_hub) == (key, hub)
    assert parsed.address == key
    assert registry.config_key(value) == key


@pytest.mark.parametrize("value, fragment", [
    ("", "not a registry address"),
    ("   ", "not a registry address"),
    (None, "not a registry address"),
    ("ftp://registry.example.com", "only http:// and https://"),
    ("registry example.com", "whitespace"),
    ("registry.example.com:port", "not host[:port]"),
    ("-bad.example.com", "not host[:port]"),
    ("https://", "not host[:port]"),
    ("reg\x07istry", "control"),
])
def test_bad_registry_urls_name_the_option_and_value(value, fragment):
    with pytest.raises(OptionError) as raised:
        registry.parse_registry_url(value)
    assert str(raised.value).startswith("registry_url: ")
    assert fragment in str(raised.value)
    assert repr(value) in str(raised.value)


def test_registry_of_a_reference():
    assert registry.registry_of(parse_reference("busybox", "name")).is_docker_hub
    assert registry.registry_of(parse_reference("user/app", "name")).key == DOCKER_HUB_KEY
    assert registry.registry_of(parse_reference("127.0.0.1:5551/a/b:1", "name")).key == "127.0.0.1:5551"
    assert registry.registry_of(parse_reference("mcr.microsoft.com/windows/servercore:ltsc2022", "name")).display == (
        "mcr.microsoft.com")


@pytest.mark.parametrize("value, windows, expected", [
    (None, False, None),
    (None, True, None),
    ("/tmp/docker-config", False, "/tmp/docker-config"),
    ("/tmp/docker-config/config.json", False, "/tmp/docker-config"),
    ("C:\\ProgramData\\ansible\\docker", True, "C:\\ProgramData\\ansible\\docker"),
    ("C:\\ProgramData\\ansible\\docker\\config.json", True, "C:\\ProgramData\\ansible\\docker"),
    ("C:\\ProgramData\\ansible\\docker\\CONFIG.JSON", True, "C:\\ProgramData\\ansible\\docker"),
    ("c:/ProgramData/ansible/docker", True, "c:/ProgramData/ansible/docker"),
    ("\\\\fileserver\\share\\docker", True, "\\\\fileserver\\share\\docker"),
    ("C:\\config.json", True, "C:\\"),
    ("/config.json", False, "/"),
])
def test_config_path_is_a_directory(value, windows, expected):
    assert registry.check_config_path(value, windows) == expected


@pytest.mark.parametrize("windows", [False, True])
@pytest.mark.parametrize("value", ["", "  ", "a\nb", "x\0y", 5, "config.json"])
def test_bad_config_paths_are_refused(value, windows):
    with pytest.raises(OptionError, match=r"^config_path: "):
        registry.check_config_path(value, windows)


@pytest.mark.parametrize(("value", "windows"), [
    ("docker-config", False),  # relative: the credentials would land in the exec's working directory
    ("./docker-config", False),
    ("~/.docker", False),  # not expanded on the host
    ("docker-config/config.json", False),
    ("C:\\ProgramData\\docker", False),  # a Windows path for a Linux host
    ("docker-config", True),
    ("ansible\\docker", True),
    ("\\ProgramData\\docker", True),  # relative to the current drive
    ("C:docker", True),  # relative to C:'s current directory
    ("/etc/docker-config", True),  # a POSIX path for a Windows host
])
def test_relative_config_paths_are_refused_for_the_hosts_dialect(value, windows):
    with pytest.raises(OptionError, match=r"^config_path: .* is not an absolute (Windows )?path"):
        registry.check_config_path(value, windows)


def test_config_path_too_long_for_the_host_is_refused():
    with pytest.raises(OptionError, match=r"^config_path: the path '/aaa[a.]*' is 5,001 bytes long; a Linux path "
                                          r"holds at most 4,095 bytes \(PATH_MAX\)$"):
        registry.check_config_path("/" + "a" * 5000, False)


def test_config_environment():
    assert registry.config_environment(None) is None
    assert registry.config_environment("/x") == {"DOCKER_CONFIG": "/x"}


# --- login state ---------------------------------------------------------------------------

def config(**answer) -> DockerConfig:
    base = {"config_dir": "/h/.docker", "config_file": "/h/.docker/config.json", "exists": True,
            "creds_store": None, "cred_helpers": {}, "auths": {}, "helpers": {}, "default_store": None}
    base.update(answer)
    return DockerConfig.from_answer(base)


REG = registry.parse_registry_url("127.0.0.1:5552")
HUB = registry.parse_registry_url("docker.io")


def test_file_store_entry_gives_the_user():
    state = config(auths={"127.0.0.1:5552": {"user": "wctest", "auth": True, "identity_token": False}}).state(REG)
    assert state == registry.LoginState(True, "wctest", "file")


def test_legacy_url_keys_match_like_docker_does():
    answer = {"auths": {"https://127.0.0.1:5552/v2/": {"user": "old", "auth": True, "identity_token": False}}}
    assert config(**answer).state(REG).user == "old"


def test_hub_key_variants_match_docker_hub():
    answer = {"auths": {"https://index.docker.io/v1/": {"user": "me", "auth": True, "identity_token": False}}}
    assert config(**answer).state(HUB) == registry.LoginState(True, "me", "file")
    assert config(**answer).state(REG).has_credentials is False


def test_an_empty_entry_is_not_a_login():
    answer = {"auths": {"127.0.0.1:5552": {"user": None, "auth": False, "identity_token": False}}}
    assert config(**answer).state(REG) == registry.LoginState(False, None, "file")


def test_identity_token_counts_as_credentials_without_a_user():
    answer = {"auths": {"127.0.0.1:5552": {"user": None, "auth": False, "identity_token": True}}}
    assert config(**answer).state(REG) == registry.LoginState(True, None, "file")


def test_no_config_file_means_not_logged_in():
    assert config(exists=False).state(REG) == registry.LoginState(False, None, "file")


def test_creds_store_users_come_from_the_helper_list():
    users = {"127.0.0.1:5552": "deploy", "https://index.docker.io/v1/": "hubuser"}
    answer = {"creds_store": "wincred", "auths": {"127.0.0.1:5552": {"user": None, "auth": False, "identity_token": False}},
              "helpers": {"wincred": {"found": True, "users": users, "error": None}}}
    assert config(**answer).state(REG) == registry.LoginState(True, "deploy", "wincred")
    assert config(**answer).state(HUB) == registry.LoginState(True, "hubuser", "wincred")
    other = registry.parse_registry_url("other.example.com")
    assert config(**answer).state(other) == registry.LoginState(False, None, "wincred")


def test_cred_helpers_win_over_creds_store():
    answer = {"creds_store": "desktop", "cred_helpers": {"127.0.0.1:5552": "pass"},
              "helpers": {"pass": {"found": True, "users": {"127.0.0.1:5552": "p"}, "error": None},
                          "desktop": {"found": True, "users": {"127.0.0.1:5552": "d"}, "error": None}}}
    assert config(**answer).state(REG) == registry.LoginState(True, "p", "pass")


def test_a_helper_that_cannot_answer_leaves_the_state_unknown():
    answer = {"creds_store": "wincred", "helpers": {"wincred": {
        "found": True, "users": None, "error": "A specified logon session does not exist."}}}
    state = config(**answer).state(REG)
    assert state.has_credentials is None and state.user is None and state.store == "wincred"
    assert "logon session" in state.error


def test_a_pristine_config_uses_the_detected_helper_but_holds_nothing():
    state = config(exists=False, default_store="wincred").state(REG)
    assert state == registry.LoginState(False, None, "wincred")
    assert not config(default_store="wincred").names_credentials


def test_the_detected_helper_is_ignored_once_the_file_names_credentials():
    answer = {"default_store": "wincred", "auths": {"x.example.com": {"user": "u", "auth": True, "identity_token": False}}}
    assert config(**answer).names_credentials
    assert config(**answer).store_for(REG) == "file"


# --- insecure registries -------------------------------------------------------------------

@pytest.mark.parametrize("domain, loopback", [
    ("127.0.0.1:5551", True), ("127.1.2.3", True), ("localhost:5000", True), ("LOCALHOST", True),
    ("[::1]:5552", False), ("wc-registry-b.test:5552", False), ("10.0.0.1:5000", False), ("docker.io", False),
])
def test_loopback_registries(domain, loopback):
    assert registry.is_loopback(domain) is loopback


def test_daemon_registry_config_marks_insecure_registries():
    config_ = {"IndexConfigs": {"docker.io": {"Secure": True}, "reg.local:5000": {"Secure": False}},
               "InsecureRegistryCIDRs": ["127.0.0.0/8", "10.1.0.0/16", "bogus"]}
    assert registry.daemon_says_insecure("reg.local:5000", config_)
    assert registry.daemon_says_insecure("10.1.2.3:5000", config_)
    assert not registry.daemon_says_insecure("10.2.0.1:5000", config_)
    assert not registry.daemon_says_insecure("docker.io", config_)
    assert not registry.daemon_says_insecure("secure.example.com", None)
    assert registry.daemon_says_insecure("127.0.0.1:5551", None)


def test_manifest_call_is_insecure_only_when_asked():
    reference = parse_reference("127.0.0.1:5551/wct4/a:1", "name")
    assert registry.manifest_call(reference, True).arguments == (
        "manifest", "inspect", "--verbose", "--insecure", "--", "127.0.0.1:5551/wct4/a:1")
    call = registry.manifest_call(reference, False, {"DOCKER_CONFIG": "/c"})
    assert call.arguments == ("manifest", "inspect", "--verbose", "--", "127.0.0.1:5551/wct4/a:1")
    assert call.environment == {"DOCKER_CONFIG": "/c"}


def test_read_registry_config():
    assert registry.read_registry_config(result(["info"], stdout='{"InsecureRegistryCIDRs":["127.0.0.0/8"]}\n')) == {
        "InsecureRegistryCIDRs": ["127.0.0.0/8"]}
    assert registry.read_registry_config(result(["info"], rc=1, stderr="x")) is None


# --- manifests -----------------------------------------------------------------------------

def single_manifest(digest=D1, config_digest=CONFIG_A, layers=None, oci=False):
    body = {"schemaVersion": 2, "config": {"digest": config_digest},
            "layers": layers if layers is not None else [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip"}]}
    return {"Ref": "r", "Descriptor": {"digest": digest, "platform": {"os": "windows", "architecture": "amd64"}},
            "Raw": "", ("OCIManifest" if oci else "SchemaV2Manifest"): body}


def test_parse_a_single_manifest():
    remote = registry.parse_manifest_output(json.dumps(single_manifest(), indent="\t"))
    assert not remote.is_list and remote.digest == D1
    assert remote.manifests[0].config_digest == CONFIG_A
    assert remote.manifests[0].platform == {"os": "windows", "architecture": "amd64"}


def test_parse_a_manifest_list_and_oci_manifests():
    text = json.dumps([single_manifest(D1, CONFIG_A), single_manifest(D2, CONFIG_B, oci=True)])
    remote = registry.parse_manifest_output(text)
    assert remote.is_list and remote.digest is None
    assert [m.config_digest for m in remote.manifests] == [CONFIG_A, CONFIG_B]


def test_foreign_layers_are_counted():
    layers = [{"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "urls": ["https://x"]},
              {"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"},
              {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip"}]
    remote = registry.parse_manifest_output(json.dumps(single_manifest(layers=layers)))
    assert remote.manifests[0].foreign_layers == 2


REF = parse_reference("127.0.0.1:5552/wct4/app:1", "name")


@pytest.mark.parametrize("stderr", [
    "no such manifest: 127.0.0.1:5552/wct4/app:1",
    "manifest unknown: manifest unknown",
])
def test_a_missing_tag_is_none(stderr):
    assert registry.read_manifest("h", result(["manifest"], 1, stderr=stderr), REF) is None


@pytest.mark.parametrize("stderr, fragment", [
    ('Get "https://127.0.0.1:5552/v2/wct4/app/manifests/1": no basic auth credentials', "refused to show"),
    ("unauthorized: authentication required", "refused to show"),
    ("denied: requested access to the resource is denied", "refused to show"),
    ('failed to configure transport: error pinging v2 registry: Get "https://127.0.0.1:5599/v2/": dial tcp '
     '127.0.0.1:5599: connect: connection refused', "is not reachable"),
    ("x509: certificate signed by unknown authority", "is not reachable"),
    ("something odd", "could not ask the registry"),
])
def test_registry_failures_are_clear(stderr, fragment):
    with pytest.raises(RegistryError) as raised:
        registry.read_manifest("winhost01", result(["manifest"], 1, stderr=stderr), REF)
    message = str(raised.value)
    assert message.startswith("winhost01: ") and fragment in message and "127.0.0.1:5552" in message


def test_garbage_manifest_output_is_an_error():
    with pytest.raises(RegistryError, match="could not read the manifest"):
        registry.read_manifest("h", result(["manifest"], 0, stdout="not json"), REF)


def local(image_id=CONFIG_A, digests=()):
    return {"Id": image_id, "RepoDigests": list(digests)}


def test_registry_holds_by_repo_digest():
    remote = registry.parse_manifest_output(json.dumps(single_manifest(D1, CONFIG_B)))
    image = local(CONFIG_A, ["127.0.0.1:5552/wct4/app@" + D1])
    assert registry.registry_holds(image, remote, REF).digest == D1


def test_a_digest_of_another_repository_does_not_count():
    remote = registry.parse_manifest_output(json.dumps(single_manifest(D1, CONFIG_B)))
    image = local(CONFIG_A, ["127.0.0.1:5552/wct4/other@" + D1])
    assert registry.registry_holds(image, remote, REF) is None


def test_registry_holds_by_config_digest():
    remote = registry.parse_manifest_output(json.dumps(single_manifest(D1, CONFIG_A)))
    assert registry.registry_holds(local(CONFIG_A), remote, REF).digest == D1
    assert registry.registry_holds(local(CONFIG_B), remote, REF) is None
    assert registry.registry_holds(local(CONFIG_A), None, REF) is None


def test_a_list_entry_that_is_the_image_counts():
    remote = registry.parse_manifest_output(json.dumps([single_manifest(D1, CONFIG_B), single_manifest(D2, CONFIG_A)]))
    assert registry.registry_holds(local(CONFIG_A), remote, REF).digest == D2
    # An entry digest in RepoDigests is not enough for a list (RepoDigests hold the list's digest).
    assert registry.registry_holds(local("sha256:" + "c" * 64, ["127.0.0.1:5552/wct4/app@" + D1]), remote, REF) is None


def test_repo_digests_skips_garbage():
    image = {"RepoDigests": ["127.0.0.1:5552/wct4/app@" + D1, "not a ref!", "127.0.0.1:5552/wct4/app:tag"]}
    assert registry.repo_digests(image, REF) == [D1]


# --- platforms -------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["windows/amd64", "linux", "linux/arm64/v8", "Windows/AMD64", "windows(10.0.20348)/amd64"])
def test_good_platforms(value):
    assert registry.check_platform(value) == value.strip().lower()


@pytest.mark.parametrize("value", ["", "windows/", "/amd64", "a/b/c/d", "windows amd64", 3])
def test_bad_platforms(value):
    with pytest.raises(OptionError, match=r"^platform: "):
        registry.check_platform(value)


@pytest.mark.parametrize(("value", "expected"), [
    # one word: an OS when it is a known GOOS, otherwise an architecture (containerd's Parse)
    ("linux", ("linux", None, "")),
    ("macos", ("darwin", None, "")),
    ("amd64", (None, "amd64", "")),
    ("x86_64", (None, "amd64", "")),
    ("aarch64", (None, "arm64", "")),
    ("armhf", (None, "arm", "")),  # arm/v7 is arm: the default variant
    ("armel", (None, "arm", "v6")),
    ("i386", (None, "386", "")),
    ("linux/x86-64", ("linux", "amd64", "")),
    ("linux/amd64/v1", ("linux", "amd64", "")),
    ("linux/amd64/v3", ("linux", "amd64", "v3")),
    ("linux/arm64/v8", ("linux", "arm64", "")),
    ("linux/aarch64/8", ("linux", "arm64", "")),
    ("linux/arm", ("linux", "arm", "")),
    ("linux/arm/7", ("linux", "arm", "v7")),
    ("linux/arm/6", ("linux", "arm", "v6")),
    ("Windows/AMD64", ("windows", "amd64", "")),
])
def test_platforms_are_normalised_as_docker_does(value, expected):
    parsed = registry.parse_platform(value)
    assert (parsed.os, parsed.arch, parsed.variant) == expected


@pytest.mark.parametrize("value", ["foo", "linux/foo", "plan10/amd64", "amd64/linux"])
def test_unknown_os_or_architecture_is_refused(value):
    with pytest.raises(OptionError, match=r"^platform: .*(unknown|neither)"):
        registry.check_platform(value)


def test_missing_parts_come_from_the_engine():
    amd64 = {"Os": "linux", "Architecture": "amd64"}
    arm64 = {"Os": "linux", "Architecture": "arm64", "Variant": "v8"}
    assert registry.platform_matches(amd64, "amd64", "linux", "amd64")
    assert registry.platform_matches(amd64, "x86_64", "linux", "amd64")
    assert not registry.platform_matches(amd64, "arm64", "linux", "amd64")
    assert registry.platform_matches(arm64, "arm64", "linux", "amd64")
    assert registry.platform_matches(arm64, "aarch64", "linux", "amd64")
    assert not registry.platform_matches(arm64, "linux", "linux", "amd64")  # linux alone: the engine's amd64
    assert not registry.platform_matches(amd64, "amd64", "windows", "amd64")
    assert registry.read_engine_platform(CallResult(registry.engine_platform_call(), 0, '{"Os":"linux","Arch":"x86_64"}', "")) \
        == ("linux", "amd64")
    assert registry.read_engine_platform(CallResult(registry.engine_platform_call(), 1, "", "boom")) == (None, None)


def test_platform_matching():
    windows = {"Os": "windows", "Architecture": "amd64"}
    arm = {"Os": "linux", "Architecture": "arm64", "Variant": "v8"}
    assert registry.platform_matches(windows, None)
    assert registry.platform_matches(windows, "windows")
    assert registry.platform_matches(windows, "windows/amd64")
    assert registry.platform_matches(windows, "windows/x86_64")
    assert not registry.platform_matches(windows, "linux/amd64")
    assert registry.platform_matches(arm, "linux/aarch64")
    assert registry.platform_matches(arm, "linux/arm64/v8")
    assert not registry.platform_matches(arm, "linux/arm64/v7")


# --- search ----------------------------------------------------------------------------------

# Recorded from docker search --format '{{json .}}': CLI 28 (numbers, booleans) and CLI 20.10
# (strings, "[OK]" / "").
SEARCH_CLI28 = (
    '{"Description":"Official images for Microsoft Windows","IsOfficial":false,"Name":"microsoft/windows",'
    '"StarCount":512}\n'
    '{"Description":"Busybox base image.","IsOfficial":true,"Name":"busybox","StarCount":3331}\n'
)
SEARCH_CLI20 = (
    '{"Description":"Busybox base image.","IsAutomated":"","IsOfficial":"[OK]","Name":"busybox","StarCount":"3331"}\n'
    '{"Description":"","IsAutomated":"[OK]","IsOfficial":"","Name":"someone/busybox","StarCount":"0"}\n'
)


def test_search_output_of_current_clis():
    assert registry.parse_search_output(SEARCH_CLI28) == [
        {"name": "microsoft/windows", "description": "Official images for Microsoft Windows", "stars": 512, "official": False},
        {"name": "busybox", "description": "Busybox base image.", "stars": 3331, "official": True},
    ]


def test_search_output_of_old_clis():
    assert registry.parse_search_output(SEARCH_CLI20) == [
        {"name": "busybox", "description": "Busybox base image.", "stars": 3331, "official": True},
        {"name": "someone/busybox", "description": "", "stars": 0, "official": False},
    ]


def test_search_output_edge_cases():
    assert registry.parse_search_output("") == []
    assert registry.parse_search_output('{"Name":"x","StarCount":"1,234","IsOfficial":"true"}') == [
        {"name": "x", "description": "", "stars": 1234, "official": True}]
    assert registry.parse_search_output('{"Name":"x","StarCount":"lots"}')[0]["stars"] == 0
    with pytest.raises(ValueError):
        registry.parse_search_output("not json")


def test_search_call():
    assert registry.search_call("windows", 10, True, 5).arguments == (
        "search", "--format", "{{json .}}", "--no-trunc", "--limit", "10",
        "--filter", "is-official=true", "--filter", "stars=5", "--", "windows")
    assert registry.search_call("-x", 25, None, None).arguments[-2:] == ("--", "-x")
    assert "--filter" not in registry.search_call("x", 25, None, None).arguments
    assert "is-official=false" in registry.search_call("x", 25, False, None).arguments


# --- transfer progress ---------------------------------------------------------------------

PULL_OUTPUT = """1.0: Pulling from wct4/large
3215e913d144: Pulling fs layer
aaaaaaaaaaaa: Already exists
3215e913d144: Verifying Checksum
3215e913d144: Download complete
"""


def test_layer_states_and_summary():
    assert transfers.layer_states(PULL_OUTPUT) == {"3215e913d144": "Download complete", "aaaaaaaaaaaa": "Already exists"}
    done = PULL_OUTPUT + "3215e913d144: Pull complete\nDigest: " + D1 + "\nStatus: Downloaded newer image for x\n"
    summary = transfers.summarise([{"stdout": PULL_OUTPUT}, {"stdout": done}], transfers.PULL_DONE, transfers.PULL_FINISHED)
    assert summary == transfers.ProgressSummary(layers_done=3, layers_seen=4, items_done=1, items=2)
    assert summary.text() == "3/4 layers, 1/2 images"


def test_push_progress():
    output = ("The push refers to repository [r/x]\n1b081af21dba: Preparing\n2b081af21dba: Layer already exists\n"
              "3b081af21dba: Mounted from a/b\n1b081af21dba: Pushed\n1: digest: " + D1 + " size: 527\n")
    summary = transfers.summarise([{"stdout": output}], transfers.PUSH_DONE, transfers.PUSH_FINISHED)
    assert summary == transfers.ProgressSummary(3, 3, 1, 1)
    assert transfers.digest_from_output(output) == D1


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_is_throttled_and_has_a_heartbeat():
    lines, clock = [], Clock()
    reporter = transfers.ProgressReporter(lines.append, "pull on h", transfers.PULL_DONE, transfers.PULL_FINISHED,
                                          clock=clock)
    first = [{"stdout": "abcdefabcdef: Pulling fs layer\n"}]
    reporter(JobProgress(0.0, first, False))
    assert lines == ["pull on h: 0/1 layers, 0/1 images, 0s elapsed (started)"]
    clock.now = 0.5
    reporter(JobProgress(0.5, [{"stdout": "abcdefabcdef: Pull complete\n"}], False))
    assert len(lines) == 1  # changed, but within a second of the last line
    clock.now = 2.0
    reporter(JobProgress(2.0, [{"stdout": "abcdefabcdef: Pull complete\n"}], False))
    assert lines[-1] == "pull on h: 1/1 layers, 0/1 images, 2s elapsed"
    clock.now = 5.0
    reporter(JobProgress(5.0, [{"stdout": "abcdefabcdef: Pull complete\n"}], False))
    assert len(lines) == 2  # nothing new, no heartbeat yet
    clock.now = 12.5
    reporter(JobProgress(12.5, [{"stdout": "abcdefabcdef: Pull complete\n"}], False))
    assert lines[-1] == "pull on h: 1/1 layers, 0/1 images, 12s elapsed"
    assert reporter.lines == lines and not reporter.reattached


def test_progress_says_when_it_reattached_and_counts_only_transfers():
    lines = []
    reporter = transfers.ProgressReporter(lines.append, "push on h", transfers.PUSH_DONE, transfers.PUSH_FINISHED,
                                          clock=Clock(), items=1)
    reporter(JobProgress(3.0, [{"stdout": ""}, {"stdout": "{}"}], True))
    assert reporter.reattached
    assert lines == ["push on h: 0/0 layers, 0/1 images, 3s elapsed (re-attached to the job already running on the host)"]


def test_failure_detail_prefers_errors_to_progress():
    failed = result(["pull"], 1, stdout="x: Pulling from y\nabcdefabcdef: Pulling fs layer\n",
                    stderr="Error response from daemon: manifest for x:y not found: manifest unknown\n")
    assert transfers.failure_detail(failed) == "Error response from daemon: manifest for x:y not found: manifest unknown"
    assert transfers.failure_detail(result(["pull"], 7)) == "exit code 7"


def test_pick_digest():
    reference = parse_reference("127.0.0.1:5551/wct4/a:1", "name")
    image = {"RepoDigests": ["127.0.0.1:5551/wct4/a@" + D1, "127.0.0.1:5551/wct4/a@" + D2, "other/x@" + CONFIG_A]}
    assert transfers.pick_digest(image, reference, None) == D1
    assert transfers.pick_digest(image, reference, result(["pull"], 0, stdout="Digest: " + D2 + "\n")) == D2
    assert transfers.pick_digest(image, reference, result(["pull"], 0, stdout="Digest: " + CONFIG_A + "\n")) == D1
    assert transfers.pick_digest({"RepoDigests": []}, reference, None) is None
    assert transfers.pick_digest(None, reference, None) is None


def test_wincred_error_is_recognised():
    assert registry.LOGON_SESSION_ERROR.search(
        "Error saving credentials: error storing credentials - err: exit status 1, out: "
        "`A specified logon session does not exist. It may already have been terminated.`")
    assert re.search("config_path", registry.WINCRED_HINT)
