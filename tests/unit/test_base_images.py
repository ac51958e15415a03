# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared logic of the base image modules: host facts from recorded Windows answers, names,
versions, OS image names, registry URLs, and the tag decision shared with docker_image_tag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.wincontainers.images.plugins.plugin_utils import base_images, tagging
from ansible_collections.wincontainers.images.plugins.plugin_utils.base_images import HostFacts, OptionError
from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import PosixDialect, WindowsDialect
from ansible_collections.wincontainers.images.plugins.plugin_utils.engine import Settings
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, CallResult, Host, HostError
from ansible_collections.wincontainers.images.plugins.plugin_utils.jobs import HostJob
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import ReferenceError, parse_reference
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_builds import FAMILIES

RECORDED = Path(__file__).resolve().parents[1] / "contract" / "recorded" / "base_images"


def recorded(name: str):
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


class FakeHost:
    """The parts of Host that base_images uses; ``answer`` is what the host_info script says."""

    engine = Settings()
    call_request = Host.call_request

    def __init__(self, windows: bool = True, answer=None):
        self.dialect = WindowsDialect() if windows else PosixDialect()
        self.name = "win01"
        self.answer = answer or {}
        self.sent = []

    @property
    def is_windows(self):
        return self.dialect.name == "windows"

    def execute(self, operation, payload):
        self.sent.append((operation, payload))
        return self.answer


def windows_answer(host_file: str, results=None, docker_found=True, **extra):
    data = recorded("hosts/" + host_file)
    answer = {"os": data["currentversion"], "hyperv": data["hyperv"], "docker_found": docker_found,
              "results": results or [], "error": None}
    answer.update(extra)
    return answer


# --- host facts from the registry values -----------------------------------------------------------


def test_server_2022_facts():
    facts = HostFacts.from_answer(FakeHost(), windows_answer("ws2022.json"))
    assert (facts.build, facts.ubr, facts.display_version) == (20348, 2849, "21H2")
    assert facts.os_version == "10.0.20348.2849"
    assert facts.os_name == "Windows Server 2022"
    assert facts.installation_type == "Server Core"
    assert facts.edition == "ServerDatacenter"
    assert facts.hyperv_available is False
    assert facts.describe() == "build 20348 (Windows Server 2022)"


def test_server_2019_has_no_display_version_but_a_release_id():
    facts = HostFacts.from_answer(FakeHost(), windows_answer("ws2019.json"))
    assert (facts.build, facts.ubr, facts.display_version) == (17763, 6414, "1809")
    assert facts.hyperv_available is True


def test_windows_11_is_named_from_the_build_not_from_the_product_name():
    facts = HostFacts.from_answer(FakeHost(), windows_answer("win11.json"))
    assert facts.product_name == "Windows 10 Pro"  # what the registry really holds
    assert facts.os_name == "Windows 11 22H2"
    assert facts.build == 22621


def test_client_and_server_of_the_same_build_get_their_own_name():
    answer = windows_answer("ws2025.json")
    assert HostFacts.from_answer(FakeHost(), answer).os_name == "Windows Server 2025"
    answer["os"] = dict(answer["os"], InstallationType="Client", ProductName="Windows 10 Enterprise")
    assert HostFacts.from_answer(FakeHost(), answer).os_name == "Windows 11 24H2"


def test_build_falls_back_to_current_build_and_unknown_values_stay_none():
    answer = windows_answer("ws2022.json")
    answer["os"] = {"CurrentBuild": "20348", "UBR": None}
    facts = HostFacts.from_answer(FakeHost(), answer)
    assert (facts.build, facts.ubr, facts.display_version) == (20348, None, None)
    assert facts.os_version == "10.0.20348"


def test_hyperv_unknown_when_it_could_not_be_read():
    answer = windows_answer("ws2022.json")
    answer["hyperv"] = {"vmms": None, "hypervisor_present": None, "problem": "Access is denied"}
    assert HostFacts.from_answer(FakeHost(), answer).hyperv_available is None


def test_linux_host_facts_say_it_is_not_windows():
    answer = {"os": {"system": "Linux", "pretty_name": "Debian GNU/Linux 12 (bookworm)"}, "hyperv": None}
    facts = HostFacts.from_answer(FakeHost(windows=False), answer)
    assert not facts.is_windows
    assert facts.build is None and facts.os_version is None and facts.hyperv_available is None
    assert facts.product_name == "Debian GNU/Linux 12 (bookworm)"


# --- read_host -------------------------------------------------------------------------------------


def test_read_host_sends_the_calls_in_the_dialect_and_pairs_the_results():
    data = recorded("hosts/ws2022.json")
    results = [{"rc": 0, "stdout": json.dumps(data["docker_version"]), "stderr": ""},
               {"rc": 0, "stdout": json.dumps(data["docker_info"]), "stderr": ""}]
    host = FakeHost(answer=windows_answer("ws2022.json", results))
    state = base_images.read_host(host, [base_images.version_call(), base_images.info_call()], os_images=True,
                                  find={"name": "NanoServer"})
    operation, payload = host.sent[0]
    assert operation == "host_info"
    assert payload["calls"] == [{"exe": "docker", "cmdline": 'version --format "{{json .}}"'},
                                {"exe": "docker", "cmdline": 'info --format "{{json .}}"'}]
    assert payload["os_images"] is True and payload["find"] == {"name": "NanoServer"}
    assert "registry" not in payload
    info = base_images.require_info(host, state.results[1])
    assert (info["OSType"], info["Isolation"]) == ("windows", "process")
    assert info["OperatingSystem"] == "Microsoft Windows Server Version 21H2 (OS Build 20348.2849)"
    assert base_images.read_json_result(state.results[0])["Server"]["Version"] == "27.3.1"


def test_read_host_posix_sends_argument_vectors():
    host = FakeHost(windows=False, answer={"os": {}, "docker_found": True,
                                           "results": [{"rc": 0, "stdout": "{}", "stderr": ""}], "error": None})
    base_images.read_host(host, [base_images.info_call()])
    assert host.sent[0][1]["calls"] == [{"exe": "docker", "argv": ["info", "--format", "{{json .}}"]}]


def test_read_host_without_docker():
    host = FakeHost(answer=windows_answer("ws2022.json", docker_found=False))
    with pytest.raises(HostError, match="docker CLI was not found"):
        base_images.read_host(host, [base_images.info_call()])
    state = base_images.read_host(host, [base_images.info_call()], require_docker=False)
    assert state.results == [] and state.facts.build == 20348


def test_read_host_refuses_calls_it_cannot_run():
    host = FakeHost()
    for call in (Call(("-xOf", "x"), exe="tar"), Call(("login",), stdin="secret"), Call(("x",), append_lines_of=0)):
        with pytest.raises(ValueError):
            base_images.read_host(host, [call])
    assert host.sent == []


def test_read_host_checks_the_result_count():
    host = FakeHost(answer=windows_answer("ws2022.json", results=[]))
    with pytest.raises(HostError, match="expected 1 results"):
        base_images.read_host(host, [base_images.info_call()])


def test_docker_info_of_docker_1_12_fails_clearly():
    data = recorded("hosts/ws2016_tp5.json")
    result = CallResult(base_images.info_call(), 125, "", data["docker_info_stderr"])
    assert "unknown flag: --format" in base_images.engine_problem(FakeHost(), result)
    with pytest.raises(HostError, match="docker info failed"):
        base_images.require_info(FakeHost(), result)


def test_engine_down_is_named():
    stderr = ('error during connect: this error may indicate that the docker daemon is not running: Get '
              '"http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.24/info": open //./pipe/docker_engine: '
              'The system cannot find the file specified.')
    result = CallResult(base_images.info_call(), 1, "", stderr)
    assert "Start-Service docker" in base_images.engine_problem(FakeHost(), result)


# --- names -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,repository,family,named",
    [
        ("NanoServer", "mcr.microsoft.com/windows/nanoserver", "nanoserver", True),
        ("windowsservercore", "mcr.microsoft.com/windows/servercore", "servercore", True),
        ("Server", "mcr.microsoft.com/windows/server", "server", True),
        ("WINDOWS", "mcr.microsoft.com/windows", "windows", True),
        ("mirror.example.com/windows/servercore", "mirror.example.com/windows/servercore", "servercore", False),
        ("127.0.0.1:5551/wct5/base", "127.0.0.1:5551/wct5/base", None, False),
    ],
)
def test_resolve_target(name, repository, family, named):
    target = base_images.resolve_target(name, "mcr.microsoft.com")
    assert str(target.repository) == repository
    assert (target.family.key if target.family else None) == family
    assert target.named_family is named
    assert str(target.reference("ltsc2022")) == repository + ":ltsc2022"


def test_resolve_target_uses_the_mirror_for_family_names():
    target = base_images.resolve_target("NanoServer", "mirror.example.com:5000/mcr")
    assert str(target.repository) == "mirror.example.com:5000/mcr/windows/nanoserver"


@pytest.mark.parametrize("name", ["busybox:1.0", "mcr.microsoft.com/windows/servercore:ltsc2022", "x@sha256:" + "a" * 64])
def test_resolve_target_refuses_a_tag_in_name(name):
    with pytest.raises(OptionError, match="name: .* tag or digest"):
        base_images.resolve_target(name, "mcr.microsoft.com")


@pytest.mark.parametrize("name", ["", "  ", None, "Nano Server", "UPPER/case"])
def test_resolve_target_refuses_bad_names(name):
    with pytest.raises((OptionError, ReferenceError), match="name"):
        base_images.resolve_target(name, "mcr.microsoft.com")


@pytest.mark.parametrize("value", ["mcr.microsoft.com", "mirror.example.com/mcr", "127.0.0.1:5551", "localhost:5000/x",
                                   "[::1]:5000"])
def test_check_registry_accepts(value):
    assert base_images.check_registry(value) == value


@pytest.mark.parametrize("value", ["", "https://mcr.microsoft.com", "mcr", "bad host", "mcr.microsoft.com/UP", 5])
def test_check_registry_refuses(value):
    with pytest.raises(OptionError, match="registry"):
        base_images.check_registry(value)


def test_local_latest_names():
    family = base_images.resolve_target("WindowsServerCore", "mcr.microsoft.com")
    assert base_images.local_latest_name(family, None) == "windowsservercore:latest"
    assert base_images.local_latest_name(base_images.resolve_target("nanoserver", "m.example.com"), None) == "nanoserver:latest"
    assert base_images.local_latest_name(base_images.resolve_target("Server", "m.example.com"), None) == "windowsserver:latest"
    repo = base_images.resolve_target("127.0.0.1:5551/wct5/base", "mcr.microsoft.com")
    assert base_images.local_latest_name(repo, None) == "127.0.0.1:5551/wct5/base:latest"
    assert base_images.local_latest_name(family, "base/core") == "base/core:latest"
    assert base_images.local_latest_name(family, "base/core:2022") == "base/core:2022"
    with pytest.raises(ReferenceError, match="latest_name"):
        base_images.local_latest_name(family, "Bad Name")


# --- provider versions and OS images -----------------------------------------------------------------


def test_provider_versions():
    assert base_images.check_provider_version(" 10.0.14300.1010 ") == "10.0.14300.1010"
    for bad in ("ltsc2016", "10.0.14300", "10.0.14300.1010.1", "", None):
        with pytest.raises(OptionError, match="version"):
            base_images.check_provider_version(bad)
    assert base_images.version_build("10.0.14393.1884") == 14393
    assert base_images.version_build("ltsc2016") is None
    assert sorted(["10.0.14300.999", "10.0.14300.1010"], key=base_images.version_key) == ["10.0.14300.999", "10.0.14300.1010"]


def test_os_image_names():
    assert base_images.os_image_full_name("NanoServer", "10.0.14304.1003") == "CN=Microsoft_NanoServer_10.0.14304.1003"
    assert base_images.parse_os_image("CN=Microsoft_WindowsServerCore_10.0.14300.1000") == ("WindowsServerCore", "10.0.14300.1000")
    assert base_images.parse_os_image("CN=Contoso_NanoServer_1.0") is None
    installed = ["CN=Microsoft_NanoServer_10.0.14300.1003", "CN=Microsoft_NanoServer_10.0.14300.1010",
                 "CN=Microsoft_WindowsServerCore_10.0.14300.1000", "junk"]
    assert base_images.installed_versions(installed, "nanoserver") == ["10.0.14300.1010", "10.0.14300.1003"]
    assert base_images.installed_versions(None, "NanoServer") == []
    assert base_images.engine_name("WindowsServerCore", "10.0.14300.1000") == "windowsservercore:10.0.14300.1000"


def test_provider_names():
    assert base_images.check_provider_name("ContainerImage") == "ContainerImage"
    for bad in ("", "a b", "x;y", "-x", "../x", None):
        with pytest.raises(OptionError, match="name"):
            base_images.check_provider_name(bad)


# --- registry API URLs ---------------------------------------------------------------------------------


def test_registry_request_for_mcr():
    reference = parse_reference("mcr.microsoft.com/windows/servercore", "name")
    request = base_images.registry_request(reference, tags=True, manifests=["ltsc2022"])
    assert request == {
        "bases": ["https://mcr.microsoft.com"],
        "tags_path": "/v2/windows/servercore/tags/list",
        "manifests": [{"tag": "ltsc2022", "path": "/v2/windows/servercore/manifests/ltsc2022"}],
    }


def test_registry_request_for_loopback_registries_falls_back_to_http():
    reference = parse_reference("127.0.0.1:5551/wct5/base", "name")
    assert base_images.registry_bases(reference) == ["https://127.0.0.1:5551", "http://127.0.0.1:5551"]
    localhost = parse_reference("localhost:5000/x", "n")
    assert base_images.registry_bases(localhost) == ["https://localhost:5000", "http://localhost:5000"]


def test_registry_request_for_docker_hub_uses_its_api_host():
    reference = parse_reference("busybox", "name")
    request = base_images.registry_request(reference, tags=True)
    assert request["bases"] == ["https://registry-1.docker.io"]
    assert request["tags_path"] == "/v2/library/busybox/tags/list"


def test_registry_request_refuses_bad_tags():
    reference = parse_reference("mcr.microsoft.com/windows/servercore", "name")
    with pytest.raises(ReferenceError):
        base_images.registry_request(reference, manifests=["../../x"])


def test_registry_problem_names_registry_and_repository():
    reference = parse_reference("mcr.microsoft.com/windows/servercore", "name")
    host = FakeHost()
    assert base_images.registry_problem(host, reference, {"problem": None, "tags": []}) is None
    message = base_images.registry_problem(host, reference, {"problem": "listing the tags answered HTTP 404"})
    assert message == "win01: registry mcr.microsoft.com, repository windows/servercore: listing the tags answered HTTP 404"
    assert "did not read" in base_images.registry_problem(host, reference, None)


# --- the tag decision shared with docker_image_tag ------------------------------------------------------


IMAGE_A = {"Id": "sha256:" + "a" * 64, "RepoTags": ["windowsservercore:latest"], "RepoDigests": []}
IMAGE_B = {"Id": "sha256:" + "b" * 64, "RepoTags": ["other:latest"], "RepoDigests": []}


def test_plan_tags_leaves_a_target_that_names_the_image():
    plan = tagging.plan_tags([IMAGE_A], IMAGE_A["Id"], ["windowsservercore:latest"])
    assert not plan.changed and plan.to_tag == [] and plan.before == {"windowsservercore:latest": IMAGE_A["Id"]}


def test_plan_tags_creates_missing_and_moves_other_targets():
    plan = tagging.plan_tags([IMAGE_A, IMAGE_B], IMAGE_A["Id"], ["new:1", "other:latest"])
    assert plan.to_tag == ["new:1", "other:latest"]
    assert plan.before == {"new:1": None, "other:latest": IMAGE_B["Id"]}
    assert plan.after == {"new:1": IMAGE_A["Id"], "other:latest": IMAGE_A["Id"]}


def test_plan_tags_keeps_other_images_when_asked():
    plan = tagging.plan_tags([IMAGE_B], IMAGE_A["Id"], ["other:latest"], tagging.KEEP)
    assert plan.to_tag == [] and plan.kept == ["other:latest"] and plan.after == {"other:latest": IMAGE_B["Id"]}


def test_windows_family_tables_are_used_for_repositories():
    # A mirror that keeps the last path part gets the family's channel tags for version: auto.
    target = base_images.resolve_target("mirror.example.com/mcr/windows/nanoserver", "mcr.microsoft.com")
    assert target.family is FAMILIES["nanoserver"] and not target.named_family


def test_job_summary_gives_the_job_id_reattachment_and_rounded_time():
    host = FakeHost(windows=False)
    job = HostJob(host, "pulling", [Call(("image", "pull", "mcr.microsoft.com/windows/nanoserver:ltsc2022"))])
    assert job.summary() == {"id": job.job_id, "reattached": False, "elapsed": 0.0}
    job.reattached, job.elapsed = True, 12.345
    assert job.summary() == {"id": job.job_id, "reattached": True, "elapsed": 12.3}


def test_pull_and_load_calls():
    reference = parse_reference("mcr.microsoft.com/windows/servercore:ltsc2022", "name")
    assert base_images.pull_call(reference).arguments == ("image", "pull", "--", "mcr.microsoft.com/windows/servercore:ltsc2022")
    assert base_images.pull_call(reference, {"DOCKER_CONFIG": "C:\\cfg"}).environment == {"DOCKER_CONFIG": "C:\\cfg"}
    assert base_images.load_call("C:\\images\\a.tar").arguments == ("image", "load", "--input", "C:\\images\\a.tar")
