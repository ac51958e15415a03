# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection knows about Windows builds and base image tags: one table, one set of rules.

Everything that depends on Windows versions is here, so a new Windows release is one edit:

* ``WINDOWS_BUILDS``: build number -> the releases that have it (host names for messages).
* ``CHANNEL_BUILDS``: channel tag (``ltsc2022``, ``1809``, ...) -> the build its images have.
* ``FAMILIES``: the four Microsoft base image repositories on ``mcr.microsoft.com`` and which
  channel tags each publishes for which build (Nano Server has no ``ltsc2016`` image,
  ``windows/server`` starts with 2022, ``windows`` ends with 20H2 and has no 2025 image).
* The compatibility rules (Microsoft's version compatibility pages, codified in hcsshim's
  ``CheckHostAndContainerCompat``):

  - process isolation: the image build must equal the host build, except on hosts from
    Windows Server 2022 (build 20348) on, which run every image from the newest stable-ABI
    LTSC build strictly below the host build (2022 when there is none) up to the host build
    itself: a 2022 host runs 2022 images, a Windows 11 or Server 23H2 host runs 2022 images, a
    2025 host runs 2022 and 2025 images, a 26200 host runs 2025 images and its own;
  - Hyper-V isolation: any image of the same or an older build.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

PROCESS = "process"
HYPERV = "hyperv"
ISOLATIONS = (PROCESS, HYPERV)

MCR = "mcr.microsoft.com"

# Builds of the Long-Term Servicing Channel releases that follow the stable ABI policy, oldest
# first: from the first of them on, a host also runs images of the previous one.
STABLE_ABI_LTSC_BUILDS = (20348, 26100)


@dataclass(frozen=True)
class WindowsBuild:
    build: int
    names: tuple[str, ...]  # releases with this build, server first
    version: str  # the version name (DisplayVersion / ReleaseId) of the release


WINDOWS_BUILDS: Mapping[int, WindowsBuild] = {
    b.build: b
    for b in (
        WindowsBuild(14300, ("Windows Server 2016 Technical Preview 5",), "TP5"),
        WindowsBuild(14393, ("Windows Server 2016", "Windows 10 1607"), "1607"),
        WindowsBuild(15063, ("Windows 10 1703",), "1703"),
        WindowsBuild(16299, ("Windows Server 1709", "Windows 10 1709"), "1709"),
        WindowsBuild(17134, ("Windows Server 1803", "Windows 10 1803"), "1803"),
        WindowsBuild(17763, ("Windows Server 2019", "Windows 10 1809"), "1809"),
        WindowsBuild(18362, ("Windows Server 1903", "Windows 10 1903"), "1903"),
        WindowsBuild(18363, ("Windows Server 1909", "Windows 10 1909"), "1909"),
        WindowsBuild(19041, ("Windows Server 2004", "Windows 10 2004"), "2004"),
        WindowsBuild(19042, ("Windows Server 20H2", "Windows 10 20H2"), "20H2"),
        WindowsBuild(19043, ("Windows 10 21H1",), "21H1"),
        WindowsBuild(19044, ("Windows 10 21H2",), "21H2"),
        WindowsBuild(19045, ("Windows 10 22H2",), "22H2"),
        WindowsBuild(20348, ("Windows Server 2022",), "21H2"),
        WindowsBuild(22000, ("Windows 11 21H2",), "21H2"),
        WindowsBuild(22621, ("Windows 11 22H2",), "22H2"),
        WindowsBuild(22631, ("Windows 11 23H2",), "23H2"),
        WindowsBuild(25398, ("Windows Server 23H2",), "23H2"),
        WindowsBuild(26100, ("Windows Server 2025", "Windows 11 24H2"), "24H2"),
        WindowsBuild(26200, ("Windows 11 25H2",), "25H2"),
    )
}

# The build of the images behind each channel tag (the same in every repository that has it).
CHANNEL_BUILDS: Mapping[str, int] = {
    "ltsc2016": 14393,
    "sac2016": 14393,
    "1709": 16299,
    "1803": 17134,
    "ltsc2019": 17763,
    "1809": 17763,
    "1903": 18362,
    "1909": 18363,
    "2004": 19041,
    "20h2": 19042,
    "ltsc2022": 20348,
    "ltsc2025": 26100,
}


@dataclass(frozen=True)
class Family:
    """One Microsoft base image repository."""

    key: str  # the family's key in results: nanoserver, servercore, server, windows
    path: str  # the repository path on the registry
    title: str
    aliases: tuple[str, ...]  # the names O(name) accepts for it (compared case-insensitively)
    local_name: str  # the short local name of workflow S6 (tagged ":latest")
    provider_name: str | None  # its name in the legacy ContainerImage provider, if it had one
    tags: Mapping[int, tuple[str, ...]]  # build -> channel tags published, preferred first
    retired: frozenset[int] = field(default_factory=frozenset)  # builds whose support ended

    def channel_tags(self) -> list[str]:
        """Every channel tag of the family, newest build first."""
        return [tag for build in sorted(self.tags, reverse=True) for tag in self.tags[build]]

    def repository(self, registry: str = MCR) -> str:
        return "%s/%s" % (registry, self.path)


# Semi-Annual Channel builds: every one of them has reached its end of support.
_SAC = frozenset((18362, 18363, 19041, 19042))

FAMILIES: Mapping[str, Family] = {
    f.key: f
    for f in (
        Family(
            key="nanoserver",
            path="windows/nanoserver",
            title="Nano Server",
            aliases=("nanoserver",),
            local_name="nanoserver",
            provider_name="NanoServer",
            tags={
                17763: ("1809",),
                18362: ("1903",),
                18363: ("1909",),
                19041: ("2004",),
                19042: ("20H2",),
                20348: ("ltsc2022",),
                26100: ("ltsc2025",),
            },
            # Nano Server 1809 is a Semi-Annual Channel image: its support ended in January 2024.
            retired=_SAC | {17763},
        ),
        Family(
            key="servercore",
            path="windows/servercore",
            title="Server Core",
            aliases=("windowsservercore", "servercore"),
            local_name="windowsservercore",
            provider_name="WindowsServerCore",
            tags={
                14393: ("ltsc2016",),
                17763: ("ltsc2019", "1809"),
                18362: ("1903",),
                18363: ("1909",),
                19041: ("2004",),
                19042: ("20H2",),
                20348: ("ltsc2022",),
                26100: ("ltsc2025",),
            },
            retired=_SAC,
        ),
        Family(
            key="server",
            path="windows/server",
            title="Server",
            aliases=("server", "windowsserver"),
            local_name="windowsserver",
            provider_name=None,
            tags={20348: ("ltsc2022",), 26100: ("ltsc2025",)},
        ),
        Family(
            key="windows",
            path="windows",
            title="Windows",
            aliases=("windows",),
            local_name="windows",
            provider_name=None,
            tags={
                17763: ("1809",),
                18362: ("1903",),
                18363: ("1909",),
                19041: ("2004",),
                19042: ("20H2",),
            },
            retired=_SAC | {17763},
        ),
    )
}

_ALIASES = {alias: family for family in FAMILIES.values() for alias in family.aliases}

# Tag forms: "10.0.20348.2849" (build tags), "ltsc2022", "ltsc2022-KB5012345", each optionally
# followed by an architecture ("-amd64").
_BUILD_TAG = re.compile(r"10\.0\.(\d{4,6})(?:\.(\d{1,6}))?(?:-(?:amd64|arm64))?", re.IGNORECASE)
_CHANNEL_TAG = re.compile(r"([a-z0-9]+?)(?:-kb\d+)?(?:-(?:amd64|arm64))?", re.IGNORECASE)


def family_by_name(name: str) -> Family | None:
    """The family O(name) names (``NanoServer``, ``WindowsServerCore``, ...), case-insensitively."""
    return _ALIASES.get(name.strip().lower()) if isinstance(name, str) else None


def family_of_repository(repository_path: str) -> Family | None:
    """The family whose repository path ends the given path (a mirror keeps the last part)."""
    last = repository_path.rstrip("/").rsplit("/", 1)[-1].lower()
    for family in FAMILIES.values():
        if family.path.rsplit("/", 1)[-1] == last:
            return family
    return None


@dataclass(frozen=True)
class TagInfo:
    tag: str
    build: int | None  # None: the tag names no known Windows build
    revision: int | None = None  # the update revision of a build tag (UBR)
    channel: str | None = None  # the channel tag the tag belongs to


def classify_tag(tag: str) -> TagInfo:
    """The Windows build a tag stands for, from its form alone."""
    match = _BUILD_TAG.fullmatch(tag)
    if match:
        return TagInfo(tag, int(match.group(1)), int(match.group(2)) if match.group(2) else None)
    match = _CHANNEL_TAG.fullmatch(tag)
    if match:
        channel = match.group(1).lower()
        if channel in CHANNEL_BUILDS:
            return TagInfo(tag, CHANNEL_BUILDS[channel], None, channel)
    return TagInfo(tag, None)


def parse_os_version(value: object) -> tuple[int | None, int | None]:
    """Build and revision of an ``OsVersion`` such as ``10.0.20348.2849`` (None when absent)."""
    if not isinstance(value, str):
        return None, None
    match = _BUILD_TAG.fullmatch(value.strip())
    if not match:
        return None, None
    return int(match.group(1)), int(match.group(2)) if match.group(2) else None


# --- the rules ---------------------------------------------------------------------------------


def process_floor(host_build: int) -> int | None:
    """The oldest image build a host from Windows Server 2022 on runs with process isolation.

    It is the newest stable-ABI LTSC build strictly below the host build, or the first of them
    when there is none (the host is that LTSC itself), as hcsshim's ``CheckHostAndContainerCompat``
    decides (``osversion/platform_compat_windows.go``, ``compatLTSCReleases``). None for older
    hosts, which need equal builds.
    """
    first = STABLE_ABI_LTSC_BUILDS[0]
    if host_build < first:
        return None
    below = [build for build in STABLE_ABI_LTSC_BUILDS if build < host_build]
    return below[-1] if below else first


def process_compatible(host_build: int, image_build: int) -> bool:
    """Whether an image of ``image_build`` runs with process isolation on ``host_build``."""
    floor = process_floor(host_build)
    if floor is None:
        return image_build == host_build
    return floor <= image_build <= host_build


def hyperv_compatible(host_build: int, image_build: int) -> bool:
    """Whether an image of ``image_build`` runs with Hyper-V isolation on ``host_build``."""
    return image_build <= host_build


def compatible(host_build: int, image_build: int, isolation: str) -> bool:
    if isolation == PROCESS:
        return process_compatible(host_build, image_build)
    if isolation == HYPERV:
        return hyperv_compatible(host_build, image_build)
    raise ValueError("unknown isolation %r" % isolation)


def host_name(build: int | None) -> str:
    """``build 20348 (Windows Server 2022)`` for messages."""
    if build is None:
        return "an unknown build"
    known = WINDOWS_BUILDS.get(build)
    return "build %d (%s)" % (build, " / ".join(known.names)) if known else "build %d" % build


def image_name(build: int) -> str:
    known = WINDOWS_BUILDS.get(build)
    return "build %d (%s)" % (build, known.names[0]) if known else "build %d" % build


def usable_tags(family: Family, host_build: int, isolation: str) -> list[str]:
    """The family's channel tags usable on the host with the isolation, newest build first."""
    return [
        tag
        for build in sorted(family.tags, reverse=True)
        if compatible(host_build, build, isolation)
        for tag in family.tags[build]
    ]


@dataclass(frozen=True)
class Choice:
    tag: str
    build: int
    retired: bool


def choose_tag(family: Family, host_build: int, isolation: str) -> Choice | None:
    """The tag of ``version: auto``: the newest supported build the host runs, else the newest retired one."""
    builds = [b for b in sorted(family.tags, reverse=True) if compatible(host_build, b, isolation)]
    supported = [b for b in builds if b not in family.retired]
    for candidates, retired in ((supported, False), (builds, True)):
        if candidates:
            return Choice(family.tags[candidates[0]][0], candidates[0], retired)
    return None


def compatible_base_images(host_build: int, registry: str = MCR) -> dict[str, dict[str, object]]:
    """For each family: its repository and the tags usable with each isolation on this host."""
    return {
        family.key: {
            "repository": family.repository(registry),
            PROCESS: usable_tags(family, host_build, PROCESS),
            HYPERV: usable_tags(family, host_build, HYPERV),
        }
        for family in FAMILIES.values()
    }


def describe_usable(family: Family, host_build: int) -> str:
    """What would work instead, for a failure message."""
    parts = []
    for isolation, label in ((PROCESS, "process isolation"), (HYPERV, "Hyper-V isolation")):
        tags = usable_tags(family, host_build, isolation)
        parts.append("%s: %s" % (label, ", ".join(tags) if tags else "none"))
    return "; ".join(parts)


def describe_builds(host_build: int, isolation: str) -> str:
    """The image builds a host runs with an isolation, for messages."""
    if isolation == HYPERV:
        return "images of build %d or older" % host_build
    floor = process_floor(host_build)
    if floor is None or floor == host_build:
        return "images of build %d only" % host_build
    return "images of builds %d to %d" % (floor, host_build)


def incompatibility(host_build: int, image_build: int, isolation: str) -> str | None:
    """Why an image of ``image_build`` cannot run on ``host_build`` with ``isolation`` (None if it can)."""
    if compatible(host_build, image_build, isolation):
        return None
    if isolation == HYPERV:
        return "Hyper-V isolation runs images of the host's build or older only"
    if host_build < STABLE_ABI_LTSC_BUILDS[0]:
        return "process isolation on hosts older than Windows Server 2022 needs the image build to equal the host build"
    if image_build > host_build:
        return "process isolation never runs images newer than the host"
    floor = process_floor(host_build)
    return "process isolation on this host runs images of builds %d to %d only" % (floor, host_build)


def newest_first(tags: Iterable[TagInfo]) -> list[TagInfo]:
    """Tags sorted newest build (then revision) first; unknown builds last, by name."""
    return sorted(tags, key=lambda t: (t.build is None, -(t.build or 0), -(t.revision or -1), t.tag))
