# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The build/tag table and the compatibility rules of Windows container images: one test per rule.

Sources of the rules (see docs/base-images.md): Microsoft's "Windows container version
compatibility" page and hcsshim's ``CheckHostAndContainerCompat`` (whose own test table is
reproduced in ``test_hcsshim_published_cases``).
"""

from __future__ import annotations

import pytest

from ansible_collections.wincontainers.images.plugins.plugin_utils import windows_builds as wb
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_builds import FAMILIES, HYPERV, PROCESS

WS2016, WS2019, WS2022, WS2025 = 14393, 17763, 20348, 26100
WIN11_21H2, WIN11_22H2, WIN11_23H2, WS23H2, WIN11_25H2 = 22000, 22621, 22631, 25398, 26200
WIN10_20H2, WIN10_22H2 = 19042, 19045
IMAGE_BUILDS = sorted({build for family in FAMILIES.values() for build in family.tags})


def process_runs(host: int) -> list[int]:
    return [image for image in IMAGE_BUILDS if wb.process_compatible(host, image)]


def hyperv_runs(host: int) -> list[int]:
    return [image for image in IMAGE_BUILDS if wb.hyperv_compatible(host, image)]


# --- process isolation ---------------------------------------------------------------------------


def test_rule_a_2016_host_runs_only_2016_images_with_process_isolation():
    assert process_runs(WS2016) == [WS2016]


def test_rule_a_2019_host_runs_only_2019_images_with_process_isolation():
    assert process_runs(WS2019) == [WS2019]


def test_rule_a_semi_annual_hosts_need_their_own_build():
    assert process_runs(WIN10_20H2) == [WIN10_20H2]
    assert process_runs(18363) == [18363]


def test_rule_a_a_client_build_without_images_runs_nothing_with_process_isolation():
    assert process_runs(WIN10_22H2) == []


def test_rule_b_2022_host_runs_only_2022_images_with_process_isolation():
    # The relaxation starts with Windows Server 2022 but has no older LTSC to reach back to.
    assert process_runs(WS2022) == [WS2022]


def test_rule_c_2025_host_runs_2025_and_2022_images_with_process_isolation():
    assert process_runs(WS2025) == [WS2022, WS2025]
    assert not wb.process_compatible(WS2025, WS2019)


@pytest.mark.parametrize("host", [WIN11_21H2, WIN11_22H2, WIN11_23H2])
def test_rule_d_windows_11_runs_2022_images_with_process_isolation(host):
    assert process_runs(host) == [WS2022]


def test_rule_e_server_23h2_annual_channel_runs_only_2022_images():
    assert process_runs(WS23H2) == [WS2022]


def test_rule_f_hosts_after_2025_run_images_from_2025_on():
    # hcsshim: the floor is the newest LTSC strictly below the host build, so a 26200 host runs
    # 2025 images (and its own build), not 2022 ones.
    assert process_runs(WIN11_25H2) == [WS2025]
    assert not wb.process_compatible(WIN11_25H2, WS2022)


def test_rule_g_process_isolation_never_runs_newer_images():
    for host in (WS2016, WS2019, WS2022, WIN11_22H2, WS2025):
        assert all(image <= host for image in process_runs(host))
    assert not wb.process_compatible(WS2022, WS2025)


# --- Hyper-V isolation -----------------------------------------------------------------------------


def test_rule_h_hyperv_runs_the_same_or_older_builds():
    assert hyperv_runs(WS2019) == [WS2016, WS2019]
    assert hyperv_runs(WS2022) == [b for b in IMAGE_BUILDS if b <= WS2022]
    assert hyperv_runs(WS2025) == IMAGE_BUILDS


def test_rule_h_hyperv_never_runs_newer_builds():
    assert not wb.hyperv_compatible(WS2019, WS2022)
    assert not wb.hyperv_compatible(WS2022, WS2025)
    assert wb.hyperv_compatible(WS2016, WS2016)


def test_compatible_dispatches_on_isolation():
    assert wb.compatible(WS2025, WS2022, PROCESS) and wb.compatible(WS2025, WS2016, HYPERV)
    assert not wb.compatible(WS2025, WS2016, PROCESS)
    with pytest.raises(ValueError):
        wb.compatible(WS2022, WS2022, "default")


# hcsshim osversion/platform_compat_windows_test.go: (host, container, should run) with process
# isolation; RS5 = 17763, V21H2Server = 20348, V22H2Win11 = 22621.
@pytest.mark.parametrize(
    "host,image,runs",
    [
        (17763, 17763, True),
        (17763, 20348, False),
        (20348, 17763, False),
        (20348, 20348, True),
        (22621, 17763, False),
        (22621, 20348, True),
    ],
)
def test_hcsshim_published_cases(host, image, runs):
    assert wb.process_compatible(host, image) is runs


def test_process_floor():
    assert wb.process_floor(WS2019) is None
    assert wb.process_floor(WS2022) == WS2022
    assert wb.process_floor(WIN11_22H2) == WS2022
    assert wb.process_floor(WS2025) == WS2022
    assert wb.process_floor(WS23H2) == WS2022
    assert wb.process_floor(WIN11_25H2) == WS2025


# hcsshim osversion/platform_compat_windows.go (compatLTSCReleases = LTSC2022, LTSC2025): a host
# from 20348 on runs containers from the newest LTSC strictly below it (LTSC2022 when none) up
# to its own build. (host, container, runs with process isolation)
@pytest.mark.parametrize(
    "host,image,runs",
    [
        (20348, 20348, True),
        (20348, 17763, False),
        (22621, 20348, True),
        (25398, 20348, True),
        (26100, 20348, True),
        (26100, 26100, True),
        (26100, 17763, False),
        (26200, 26100, True),
        (26200, 26200, True),
        (26200, 20348, False),
        (26200, 26300, False),
    ],
)
def test_hcsshim_stable_abi_cases(host, image, runs):
    assert wb.process_compatible(host, image) is runs


# --- which repository publishes which tag ------------------------------------------------------------


def test_nanoserver_has_no_2016_image():
    assert WS2016 not in FAMILIES["nanoserver"].tags
    assert "ltsc2016" not in FAMILIES["nanoserver"].channel_tags()
    assert FAMILIES["nanoserver"].tags[WS2019] == ("1809",)


def test_server_repository_starts_with_2022():
    assert sorted(FAMILIES["server"].tags) == [WS2022, WS2025]


def test_windows_repository_has_no_2022_or_2025_image():
    assert max(FAMILIES["windows"].tags) == WIN10_20H2


def test_servercore_publishes_every_ltsc():
    tags = FAMILIES["servercore"].channel_tags()
    for tag in ("ltsc2016", "ltsc2019", "ltsc2022", "ltsc2025", "1809"):
        assert tag in tags
    assert tags.index("ltsc2019") < tags.index("1809"), "the LTSC tag is preferred for 17763"


def test_channel_tags_are_newest_first():
    for family in FAMILIES.values():
        builds = [wb.CHANNEL_BUILDS[tag.lower()] for tag in family.channel_tags()]
        assert builds == sorted(builds, reverse=True)


def test_every_channel_tag_of_a_family_has_the_build_of_its_row():
    for family in FAMILIES.values():
        for build, tags in family.tags.items():
            assert all(wb.CHANNEL_BUILDS[tag.lower()] == build for tag in tags)


@pytest.mark.parametrize(
    "name,key",
    [("NanoServer", "nanoserver"), ("nanoserver", "nanoserver"), ("WindowsServerCore", "servercore"),
     ("SERVERCORE", "servercore"), ("Server", "server"), ("windows", "windows"), ("  Windows ", "windows")],
)
def test_family_names_are_case_insensitive(name, key):
    assert wb.family_by_name(name) is FAMILIES[key]


def test_unknown_names_are_no_family():
    assert wb.family_by_name("busybox") is None
    assert wb.family_by_name(None) is None


def test_family_of_a_mirrored_repository_path():
    assert wb.family_of_repository("mirror/windows/servercore") is FAMILIES["servercore"]
    assert wb.family_of_repository("windows") is FAMILIES["windows"]
    assert wb.family_of_repository("wct5/base") is None


def test_repositories():
    assert FAMILIES["servercore"].repository() == "mcr.microsoft.com/windows/servercore"
    assert FAMILIES["windows"].repository("mirror.example.com:5000") == "mirror.example.com:5000/windows"


# --- tags ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tag,build,revision,channel",
    [
        ("ltsc2022", 20348, None, "ltsc2022"),
        ("LTSC2025", 26100, None, "ltsc2025"),
        ("1809", 17763, None, "1809"),
        ("20H2", 19042, None, "20h2"),
        ("ltsc2022-amd64", 20348, None, "ltsc2022"),
        ("ltsc2019-KB5044277", 17763, None, "ltsc2019"),
        ("1809-KB4493509-amd64", 17763, None, "1809"),
        ("10.0.20348.2849", 20348, 2849, None),
        ("10.0.17763.437-amd64", 17763, 437, None),
        ("10.0.26100", 26100, None, None),
        ("latest", None, None, None),
        ("1.0", None, None, None),
        ("ltsc2030", None, None, None),
    ],
)
def test_classify_tag(tag, build, revision, channel):
    info = wb.classify_tag(tag)
    assert (info.tag, info.build, info.revision, info.channel) == (tag, build, revision, channel)


def test_parse_os_version():
    assert wb.parse_os_version("10.0.20348.2849") == (20348, 2849)
    assert wb.parse_os_version("10.0.17763") == (17763, None)
    assert wb.parse_os_version("") == (None, None)
    assert wb.parse_os_version(None) == (None, None)


def test_newest_first_puts_unknown_builds_last():
    tags = [wb.classify_tag(t) for t in ("latest", "ltsc2019", "10.0.20348.100", "10.0.20348.2849", "ltsc2022")]
    assert [t.tag for t in wb.newest_first(tags)] == [
        "10.0.20348.2849", "10.0.20348.100", "ltsc2022", "ltsc2019", "latest"]


# --- version: auto ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host,family,isolation,tag",
    [
        (WS2016, "servercore", PROCESS, "ltsc2016"),
        (WS2019, "servercore", PROCESS, "ltsc2019"),
        (WS2022, "servercore", PROCESS, "ltsc2022"),
        (WS2025, "servercore", PROCESS, "ltsc2025"),
        (WIN11_22H2, "nanoserver", PROCESS, "ltsc2022"),
        (WS23H2, "server", PROCESS, "ltsc2022"),
        (WS2019, "servercore", HYPERV, "ltsc2019"),
        (WS2025, "windows", HYPERV, "20H2"),
    ],
)
def test_choose_tag_per_host_build(host, family, isolation, tag):
    assert wb.choose_tag(FAMILIES[family], host, isolation).tag == tag


def test_choose_tag_prefers_a_supported_image_to_a_newer_retired_one():
    # Windows 10 22H2 with Hyper-V: 20H2 (retired) is newer, ltsc2019 is supported.
    choice = wb.choose_tag(FAMILIES["servercore"], WIN10_22H2, HYPERV)
    assert (choice.tag, choice.retired) == ("ltsc2019", False)


def test_choose_tag_falls_back_to_a_retired_image():
    choice = wb.choose_tag(FAMILIES["nanoserver"], WS2019, PROCESS)
    assert (choice.tag, choice.build, choice.retired) == ("1809", WS2019, True)


def test_choose_tag_none_when_nothing_runs():
    assert wb.choose_tag(FAMILIES["nanoserver"], WS2016, PROCESS) is None
    assert wb.choose_tag(FAMILIES["server"], WS2019, HYPERV) is None
    assert wb.choose_tag(FAMILIES["windows"], WS2022, PROCESS) is None


def test_compatible_base_images_per_family():
    table = wb.compatible_base_images(WS2025, "mirror.example.com")
    assert sorted(table) == ["nanoserver", "server", "servercore", "windows"]
    assert table["servercore"]["repository"] == "mirror.example.com/windows/servercore"
    assert table["servercore"][PROCESS] == ["ltsc2025", "ltsc2022"]
    assert table["nanoserver"][PROCESS] == ["ltsc2025", "ltsc2022"]
    assert table["windows"][PROCESS] == []
    assert table["servercore"][HYPERV][:2] == ["ltsc2025", "ltsc2022"]
    assert table["servercore"][HYPERV][-1] == "ltsc2016"


def test_compatible_base_images_of_a_2019_host():
    table = wb.compatible_base_images(WS2019)
    assert table["servercore"] == {
        "repository": "mcr.microsoft.com/windows/servercore",
        PROCESS: ["ltsc2019", "1809"],
        HYPERV: ["ltsc2019", "1809", "ltsc2016"],
    }
    assert table["server"][PROCESS] == table["server"][HYPERV] == []


# --- messages -----------------------------------------------------------------------------------------


def test_incompatibility_explains_each_rule():
    assert wb.incompatibility(WS2022, WS2022, PROCESS) is None
    assert "newer than the host" in wb.incompatibility(WS2022, WS2025, PROCESS)
    assert "equal the host build" in wb.incompatibility(WS2019, WS2016, PROCESS)
    assert "20348 to 26100" in wb.incompatibility(WS2025, WS2019, PROCESS)
    assert "Hyper-V" in wb.incompatibility(WS2019, WS2022, HYPERV)


def test_describe_usable_and_builds():
    assert wb.describe_usable(FAMILIES["servercore"], WS2019) == (
        "process isolation: ltsc2019, 1809; Hyper-V isolation: ltsc2019, 1809, ltsc2016")
    assert wb.describe_usable(FAMILIES["server"], WS2019) == "process isolation: none; Hyper-V isolation: none"
    assert wb.describe_builds(WS2019, PROCESS) == "images of build 17763 only"
    assert wb.describe_builds(WS2025, PROCESS) == "images of builds 20348 to 26100"
    assert wb.describe_builds(WS2022, HYPERV) == "images of build 20348 or older"


def test_host_and_image_names():
    assert wb.host_name(WS2022) == "build 20348 (Windows Server 2022)"
    assert wb.host_name(WS2025) == "build 26100 (Windows Server 2025 / Windows 11 24H2)"
    assert wb.host_name(12345) == "build 12345"
    assert wb.host_name(None) == "an unknown build"
    assert wb.image_name(WS2019) == "build 17763 (Windows Server 2019)"
