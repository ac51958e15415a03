# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/win_container_engine.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: win_container_engine
short_description: Prepare a Windows container host, the Containers feature, the Docker CE engine, its service and daemon.json
version_added: 0.2.0
description:
  - Takes a Windows Server 2019, 2022 or 2025 (or a Windows client with the Containers feature) from bare to a running
    Docker engine, idempotently, online or offline. It replaces C(DockerMsftProvider), whose backing service was retired
    in 2023, with the Docker CE static binaries that Microsoft's C(install-docker-ce.ps1) installs too.
  - Enables the C(Containers) Windows feature when it is missing (C(Install-WindowsFeature) on Server editions,
    C(Enable-WindowsOptionalFeature) on client editions), and C(Hyper-V) with O(hyperv=true). When the feature needs a
    restart, the task stops there and returns RV(reboot_required); it never restarts the host itself. Restart it (for
    example with C(ansible.windows.win_reboot), as the C(wincontainers.images.container_host) role does) and run the task again.
  - Installs or upgrades the binaries from C(docker-<version>.zip) (downloaded from O(url), or O(archive_path) on the host
    or a share). The archive's sha256 (O(checksum)) and the version of its C(dockerd.exe) are checked before anything
    is replaced; the service is stopped, the previous directory kept until the new engine answers C(docker version)
    with the version asked for, and put back (with the previous daemon.json) when it does not (RV(rolled_back)).
  - Registers the C(docker) service (C(dockerd --register-service), with C(--data-root) when O(data_root) is given),
    sets it to start automatically, and makes sure it runs and the engine answers.
  - O(daemon_config) keys are merged into daemon.json (C(<data-root>\\config\\daemon.json)); the file is written
    atomically and the service restarted only when the effective configuration changes. Invalid JSON on the host or
    unknown keys are reported before the service is touched.
  - One round trip to the host when nothing changes; a change runs as one detached job on the host (the download shows
    its progress on the controller), plus short polls.
  - On a Linux Docker host the task fails; installing the engine there is the distribution's job.
author:
  - wincontainers.images developers (@wincontainers)
options:
  state:
    description:
      - V(present) installs, upgrades and configures the engine; V(absent) stops and unregisters the service and
        deletes O(install_dir). The data root (images, containers, daemon.json) and the Windows features are kept.
    type: str
    choices: [present, absent]
    default: present
  version:
    description:
      - The Docker CE release, such as V(27.5.1), or V(latest) (the newest C(docker-<version>.zip) linked from the index
        at O(url), read from the host). Required with O(state=present), unless the name of O(archive_path) is
        C(docker-<version>.zip).
      - A different installed version is replaced (upgrade or downgrade).
    type: str
  source:
    description:
      - V(download) fetches C(<url>docker-<version>.zip) on the host; V(archive) installs O(archive_path) (offline hosts).
    type: str
    choices: [download, archive]
    default: download
  url:
    description:
      - The directory that holds the C(docker-<version>.zip) files and lists them (the index V(latest) reads), for
        example a mirror.
    type: str
    default: https://download.docker.com/win/static/stable/x86_64/
  archive_path:
    description:
      - With O(source=archive), the absolute path of C(docker-<version>.zip) on the host or a share
        (V(\\\\fileserver\\docker\\docker-27.5.1.zip)). A share must be reachable from the connection's session (see the
        second hop in the collection's C(docs/troubleshooting.md)).
    type: str
  checksum:
    description:
      - The sha256 of the zip (64 hexadecimal digits, optionally after V(sha256:)). Verified before anything is
        replaced; a download that does not match is deleted.
    type: str
  install_dir:
    description:
      - Where the binaries go; default C(%ProgramFiles%\\Docker), where the other modules of the collection look for
        C(docker.exe) when it is not on C(PATH). Another directory must be on C(PATH) for them.
    type: str
  data_root:
    description:
      - The engine's data root, given to the service as C(--data-root); default the engine's own
        (C(%ProgramData%\\docker)). It also moves daemon.json, so O(daemon_config) must not set C(data-root) then.
    type: str
  daemon_config:
    description:
      - Keys merged into daemon.json at the top level; a key set to V(null) is removed. Keys are those the dockerd
        reference lists for Windows (C(hosts), C(registry-mirrors), C(insecure-registries), C(group), C(log-level),
        C(max-concurrent-downloads), C(storage-opts), C(proxies), ...); an unknown key fails the task before anything is
        changed.
      - Omitted, daemon.json is left as it is.
    type: dict
  hyperv:
    description:
      - Also enable the C(Hyper-V) feature (C(Microsoft-Hyper-V) on client editions), which Hyper-V isolation needs.
    type: bool
    default: false
notes:
  - Run the task as an administrator (the service, the feature and C(%ProgramFiles%) need it).
  - The download runs on the host, with the host's proxy settings; offline hosts use O(source=archive). The
    C(offline_images) role's share pattern covers the zip too.
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.host_job
  - wincontainers.images.attributes.CHANGING_MODULE
seealso:
  - module: wincontainers.images.win_container_host_info
"""

EXAMPLES = r"""
- name: Prepare the container host with a pinned Docker CE release
  wincontainers.images.win_container_engine:
    version: 27.5.1
    checksum: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  register: engine

# When engine.reboot_required, restart the host (ansible.windows.win_reboot, as the container_host
# role does) and run the task again.
- name: Install the engine after the restart, with a registry mirror in daemon.json
  wincontainers.images.win_container_engine:
    version: 27.5.1
    daemon_config:
      registry-mirrors: [https://mirror.example.com]
      max-concurrent-downloads: 6

- name: Offline host, from a share
  wincontainers.images.win_container_engine:
    source: archive
    archive_path: \\fileserver\docker\docker-27.5.1.zip

- name: Remove the engine (images and daemon.json stay)
  wincontainers.images.win_container_engine:
    state: absent
"""

RETURN = r"""
version:
  description: The release asked for (V(latest) resolved); V(null) with O(state=absent).
  returned: success
  type: str
  sample: 27.5.1
previous_version:
  description: The release of the C(dockerd.exe) found in O(install_dir) before the task, V(null) when none.
  returned: always
  type: str
server_version:
  description: The version the engine answered with (C(docker version)), V(null) when it does not run.
  returned: always
  type: str
install_dir:
  description: The install directory, environment variables expanded.
  returned: always
  type: str
  sample: C:\Program Files\Docker
features:
  description: The states of the C(containers) and C(hyperv) features after the task, V(installed), V(pending_reboot),
    V(missing), V(pending_removal) or V(unknown).
  returned: always
  type: dict
reboot_required:
  description: The host must restart to finish installing a feature; the engine was not installed yet.
  returned: always
  type: bool
reboot_pending:
  description: Windows said before the task that a restart is pending (servicing or Windows Update).
  returned: always
  type: bool
service:
  description: The C(state) and C(start_mode) of the C(docker) service after the task.
  returned: always
  type: dict
daemon_json_path:
  description: Where daemon.json is.
  returned: always
  type: str
daemon_config:
  description: The effective daemon.json after the task, V(null) when there is none.
  returned: always
  type: dict
rolled_back:
  description: A failed install or configuration was undone; the previous engine runs again.
  returned: always
  type: bool
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
job:
  description: The detached job of the change, its ID, whether the task re-attached to it, and its seconds.
  returned: when a job ran
  type: dict
"""
