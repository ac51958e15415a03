# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter wincontainers.images.fleet_report: turn the info modules' results of many hosts into report rows.

Used by playbooks/image_report.yml. Pure data shaping on the controller: no host is contacted here.
The filter fleet_report_csv (fleet_report_csv.py) writes the rows of its result as CSV.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_report
author:
  - wincontainers.images developers
version_added: 0.1.0
short_description: Turn win_container_host_info and docker_image_info results of many hosts into a fleet report
description:
  - Builds the data of the fleet report that the playbook C(wincontainers.images.image_report) writes as HTML, CSV and
    JSON. Runs on the controller only.
  - Each image is classed as a base OS image (its repository is a Microsoft base image repository, a local C(latest)
    name such as C(windowsservercore), a name of the host's C(base_images_list), or one of O(base_repositories)) or an
    application image.
  - An image is V(incompatible) when its OS differs from the engine's, or when its Windows build cannot run on the
    host's build with the host's default isolation (the collection's build table). A base image is V(outdated) when
    another host of the fleet has the same repository and build at a newer revision; an application image is
    V(outdated) when the host's own base image of the same build is newer than the revision it was built on.
positional: base_repositories
options:
  _input:
    description:
      - One dict per host, with C(host) (its name), C(host_info) (the registered result of
        M(wincontainers.images.win_container_host_info)), C(images) (the registered result of
        M(wincontainers.images.docker_image_info), or its C(images) list), optionally C(base_images) (the host's
        C(base_images_list)) and C(error).
      - A registered result that failed or was unreachable marks the host as not read, with its message.
    type: list
    elements: dict
    required: true
  base_repositories:
    description: More repositories whose images count as base OS images.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Build the report data from what every host returned
  ansible.builtin.set_fact:
    report: "{{ hosts_data | wincontainers.images.fleet_report(['registry.example.com/base/servercore']) }}"
  vars:
    hosts_data:
      - host: web01
        host_info: "{{ hostvars['web01'].host_info_result }}"
        images: "{{ hostvars['web01'].images_result }}"
"""

RETURN = r"""
_value:
  description:
    - C(hosts), one dict per host (sorted by name) with its facts, C(base_images), C(app_images) (each image with
      C(references), C(image_id), C(os), C(os_version), C(build), C(revision), C(size), C(created), C(status) and
      C(detail)) and C(counts); and C(totals) over the fleet.
  type: dict
"""

from typing import Any, Iterable, Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.wincontainers.images.plugins.plugin_utils import windows_builds

# Base OS image repositories (and the local latest names the 2016 documentation used, S6).
DEFAULT_BASE_REPOSITORIES = (
    "mcr.microsoft.com/windows/servercore",
    "mcr.microsoft.com/windows/nanoserver",
    "mcr.microsoft.com/windows/server",
    "mcr.microsoft.com/windows",
    "microsoft/windowsservercore",
    "microsoft/nanoserver",
    "windowsservercore",
    "nanoserver",
)

_FAMILIES = {
    "nanoserver": "mcr.microsoft.com/windows/nanoserver",
    "windowsservercore": "mcr.microsoft.com/windows/servercore",
    "servercore": "mcr.microsoft.com/windows/servercore",
    "server": "mcr.microsoft.com/windows/server",
    "windows": "mcr.microsoft.com/windows",
}

_CSV_FIELDS = (
    "host",
    "host_os_type",
    "host_build",
    "host_ubr",
    "host_display_version",
    "docker_version",
    "kind",
    "reference",
    "image_id",
    "os",
    "os_version",
    "build",
    "revision",
    "size_bytes",
    "created",
    "status",
    "detail",
)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _split_repo(ref: str) -> tuple[str, str]:
    """'repo:tag' -> ('repo', 'tag'); a ':' inside a registry host:port is not a tag separator."""
    if "@" in ref:
        ref = ref.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = ref.rsplit(":", 1)
        return repo, tag
    return ref, ""


def _normal_repo(repo: str) -> str:
    repo = repo.strip().lower()
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/"):
        if repo.startswith(prefix):
            return repo[len(prefix):]
    return repo


def parse_os_version(value: Any) -> tuple[int | None, int | None]:
    """'10.0.20348.2849' -> (20348, 2849); anything else -> (None, None)."""
    return windows_builds.parse_os_version(value) if value else (None, None)


def _host_info(result: Any) -> dict[str, Any]:
    if not isinstance(result, Mapping):
        return {}
    inner = result.get("host_info")
    return dict(inner) if isinstance(inner, Mapping) else dict(result)


def _isolation(info: Mapping[str, Any]) -> str:
    value = _text(info.get("isolation") or windows_builds.PROCESS).lower()
    return windows_builds.HYPERV if value.startswith("hyper") else windows_builds.PROCESS


def _compatible_tags(info: Mapping[str, Any]) -> list[str] | None:
    """The channel tags usable with the host's default isolation (from win_container_host_info), or None."""
    listed = info.get("compatible_base_images")
    if not isinstance(listed, Mapping) or not listed:
        return None
    isolation = _isolation(info)
    tags: list[str] = []
    for entry in listed.values():
        for tag in (entry.get(isolation) if isinstance(entry, Mapping) else None) or ():
            if _text(tag) not in tags:
                tags.append(_text(tag))
    return tags


def _references(image: Mapping[str, Any]) -> list[str]:
    tags = [t for t in image.get("RepoTags") or [] if t and t != "<none>:<none>"]
    if tags:
        return sorted(tags)
    digests = [d for d in image.get("RepoDigests") or [] if d]
    return sorted(digests) or ["<none>"]


def _is_base(refs: Iterable[str], base_repos: set[str]) -> bool:
    return any(_normal_repo(_split_repo(ref)[0]) in base_repos for ref in refs)


def _base_repositories(extra: Iterable[Any] | None, names: Iterable[Any] | None) -> set[str]:
    repos = {_normal_repo(r) for r in DEFAULT_BASE_REPOSITORIES}
    for repo in extra or ():
        if repo:
            repos.add(_normal_repo(_split_repo(_text(repo))[0]))
    for name in names or ():
        name = _text(name.get("name") if isinstance(name, Mapping) else name)
        if not name:
            continue
        family = _FAMILIES.get(name.lower())
        if family:
            repos.add(family)
            repos.add(name.lower() if name.lower() != "servercore" else "windowsservercore")
        elif "/" in name:
            repos.add(_normal_repo(_split_repo(name)[0]))
    return repos


def fleet_report(hosts: Any, base_repositories: Any = None) -> dict[str, Any]:
    """Build the report data.

    ``hosts``: a list of dicts, one per host: ``host`` (name), ``host_info`` (the registered result of
    win_container_host_info), ``images`` (the registered result of docker_image_info, or its ``images``
    list), ``base_images`` (optional: that host's base_images_list, whose names mark base images) and
    ``error`` (optional: why the host could not be read).
    """
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError(f"fleet_report: expected a list of hosts, got {type(hosts).__name__}")
    extra_repos = base_repositories if isinstance(base_repositories, (list, tuple)) else []

    staged = []
    for entry in hosts:
        if not isinstance(entry, Mapping) or not entry.get("host"):
            raise AnsibleFilterError("fleet_report: every host entry needs a 'host' name")
        info = _host_info(entry.get("host_info"))
        images = entry.get("images")
        if isinstance(images, Mapping):
            images = images.get("images")
        error = entry.get("error")
        if not error:
            for result in (entry.get("host_info"), entry.get("images")):
                if isinstance(result, Mapping) and (result.get("failed") or result.get("unreachable")):
                    error = _text(result.get("msg")) or ("unreachable" if result.get("unreachable") else "failed")
                    break
        repos = _base_repositories(extra_repos, entry.get("base_images"))
        rows = []
        for image in images if isinstance(images, list) else []:
            if not isinstance(image, Mapping):
                continue
            refs = _references(image)
            build, revision = parse_os_version(image.get("OsVersion"))
            rows.append(
                {
                    "kind": "base" if _is_base(refs, repos) else "app",
                    "references": refs,
                    "reference": refs[0],
                    "image_id": _text(image.get("Id")),
                    "short_id": _text(image.get("Id")).split(":", 1)[-1][:12],
                    "os": _text(image.get("Os")),
                    "os_version": _text(image.get("OsVersion")),
                    "build": build,
                    "revision": revision,
                    "size": _int(image.get("Size")) or 0,
                    "created": _text(image.get("Created")),
                    "status": "ok",
                    "detail": "",
                }
            )
        staged.append((entry, info, rows, error))

    # Newest revision of each (base repository, build) across the fleet.
    newest: dict[tuple[str, int], int] = {}
    for staged_entry in staged:
        for row in staged_entry[2]:
            if row["kind"] == "base" and row["build"] is not None and row["revision"] is not None:
                for ref in row["references"]:
                    key = (_normal_repo(_split_repo(ref)[0]), row["build"])
                    newest[key] = max(newest.get(key, row["revision"]), row["revision"])

    report_hosts = []
    totals = {"hosts": 0, "hosts_failed": 0, "images": 0, "base_images": 0, "app_images": 0, "outdated": 0, "incompatible": 0}
    for entry, info, rows, error in staged:
        host_build = _int(info.get("os_build"))
        host_os = _text(info.get("os_type")).lower()
        isolation = _isolation(info)
        host_base_newest: dict[int, int] = {}
        for row in rows:
            if row["kind"] == "base" and row["build"] is not None and row["revision"] is not None:
                host_base_newest[row["build"]] = max(host_base_newest.get(row["build"], 0), row["revision"])
        for row in rows:
            image_os = row["os"].lower()
            if host_os and image_os and image_os != host_os:
                row["status"], row["detail"] = "incompatible", f"{image_os} image on a {host_os} engine"
            elif all((image_os == "windows", row["build"] is not None, host_build is not None)) and (
                windows_builds.incompatibility(host_build, row["build"], isolation)
            ):
                why = windows_builds.incompatibility(host_build, row["build"], isolation)
                row["status"] = "incompatible"
                row["detail"] = f"image build {row['build']} on host build {host_build} ({isolation} isolation): {why}"
            elif row["kind"] == "base" and row["build"] is not None and row["revision"] is not None:
                best = max(
                    (newest.get((_normal_repo(_split_repo(ref)[0]), row["build"]), -1) for ref in row["references"]),
                    default=-1,
                )
                if best > row["revision"]:
                    row["status"] = "outdated"
                    row["detail"] = f"revision {row['revision']}; newest in the fleet: 10.0.{row['build']}.{best}"
            elif row["kind"] == "app" and row["build"] is not None and row["revision"] is not None:
                best = host_base_newest.get(row["build"])
                if best is not None and best > row["revision"]:
                    row["status"] = "outdated"
                    row["detail"] = f"built on revision {row['revision']}; this host's base image is at {best}"
        rows.sort(key=lambda r: (r["kind"] != "base", r["reference"]))
        base = [r for r in rows if r["kind"] == "base"]
        app = [r for r in rows if r["kind"] == "app"]
        counts = {
            "images": len(rows),
            "base_images": len(base),
            "app_images": len(app),
            "outdated": sum(r["status"] == "outdated" for r in rows),
            "incompatible": sum(r["status"] == "incompatible" for r in rows),
        }
        totals["hosts"] += 1
        totals["hosts_failed"] += 1 if error else 0
        for key, value in counts.items():
            totals[key] += value
        report_hosts.append(
            {
                "host": _text(entry.get("host")),
                "error": _text(error),
                "os_type": host_os,
                "os_build": host_build,
                "ubr": _int(info.get("ubr")),
                "display_version": info.get("display_version"),
                "product_name": info.get("product_name"),
                "os_name": info.get("os_name") if host_os == "windows" or host_build is not None else None,
                "edition": info.get("edition"),
                "installation_type": info.get("installation_type"),
                "docker_version": info.get("server_version"),
                "isolation": info.get("isolation"),
                "hyperv": info.get("hyperv_available"),
                "compatible_tags": _compatible_tags(info),
                "base_images": base,
                "app_images": app,
                "counts": counts,
            }
        )
    report_hosts.sort(key=lambda h: h["host"])
    return {"hosts": report_hosts, "totals": totals}


def fleet_report_csv(report: Any) -> str:
    """The rows of a fleet_report as CSV text (one line per host image; a host without images gets one line)."""
    import csv
    import io

    if not isinstance(report, Mapping) or not isinstance(report.get("hosts"), list):
        raise AnsibleFilterError("fleet_report_csv: expected the result of wincontainers.images.fleet_report")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for host in report["hosts"]:
        common = {
            "host": host["host"],
            "host_os_type": host["os_type"],
            "host_build": _text(host["os_build"]),
            "host_ubr": _text(host["ubr"]),
            "host_display_version": _text(host["display_version"]),
            "docker_version": _text(host["docker_version"]),
        }
        rows = host["base_images"] + host["app_images"]
        if not rows:
            writer.writerow({**common, "status": "error" if host["error"] else "no images", "detail": host["error"]})
        for row in rows:
            writer.writerow(
                {
                    **common,
                    "kind": row["kind"],
                    "reference": " ".join(row["references"]),
                    "image_id": row["image_id"],
                    "os": row["os"],
                    "os_version": row["os_version"],
                    "build": _text(row["build"]),
                    "revision": _text(row["revision"]),
                    "size_bytes": row["size"],
                    "created": row["created"],
                    "status": row["status"],
                    "detail": row["detail"],
                }
            )
    return buffer.getvalue()


class FilterModule:
    """wincontainers.images report filters."""

    def filters(self) -> dict[str, Any]:
        return {"fleet_report": fleet_report}
