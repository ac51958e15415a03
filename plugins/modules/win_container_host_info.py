# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/win_container_host_info.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: win_container_host_info
short_description: Windows version, Hyper-V, Docker engine and usable base image tags of a container host
version_added: 0.1.0
description:
  - Reads what decides which Windows base images a host can run, in one round trip to the host.
  - The Windows build and update revision come from the registry (C(HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion),
    values C(CurrentBuildNumber) and C(UBR)), never from C(docker info)'s C(KernelVersion), which shows a stale revision.
  - Hyper-V availability is whether the Hyper-V management service (C(vmms)) exists; RV(hyperv) also says whether a
    hypervisor is running.
  - The engine facts come from C(docker version) and C(docker info) (JSON output).
  - On Windows, RV(engine) adds what preparing a container host needs (see M(wincontainers.images.win_container_engine)),
    the C(Containers) and C(Hyper-V) features, whether a reboot is pending, the engine's version and install directory,
    the C(docker) service's state and start mode, and the effective daemon.json.
  - RV(compatible_base_images) lists, for each Microsoft base image (Nano Server, Server Core, Server, Windows), the channel
    tags that run on this host with process isolation and with Hyper-V isolation, by the rules described in the
    collection's C(docs/base-images.md).
  - The task does not fail when docker is missing or its engine does not answer; the engine facts are then V(null) and
    RV(docker_error) says why.
  - On a Linux Docker host the Windows facts are V(null), RV(is_windows) is V(false) and RV(compatible_base_images) is
    empty; the engine facts are filled in.
author:
  - wincontainers.images developers (@wincontainers)
options:
  registry:
    description:
      - Registry (C(host[:port]), optionally followed by a path prefix) whose repositories RV(compatible_base_images)
        names, for example a mirror of the Microsoft Container Registry.
    type: str
    default: mcr.microsoft.com
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.attributes.INFO_MODULE
seealso:
  - module: wincontainers.images.win_container_base_image
  - module: wincontainers.images.win_container_base_image_info
"""

EXAMPLES = r"""
- name: Read the container host's facts
  wincontainers.images.win_container_host_info:
  register: container_host

- name: Show which Server Core tags run with process isolation
  ansible.builtin.debug:
    msg: "{{ container_host.compatible_base_images.servercore.process }}"

- name: Stop early when the host cannot run Windows containers
  ansible.builtin.assert:
    that:
      - container_host.docker_available
      - container_host.os_type == 'windows'
    fail_msg: "{{ container_host.docker_error | default('the engine is in Linux containers mode', true) }}"
"""

RETURN = r"""
is_windows:
  description: Whether the host is a Windows host (reached through a PowerShell or cmd shell).
  returned: success
  type: bool
os_build:
  description: The Windows build number (C(CurrentBuildNumber)); V(null) on other hosts.
  returned: success
  type: int
  sample: 20348
ubr:
  description: The update build revision (C(UBR)); V(null) on other hosts.
  returned: success
  type: int
  sample: 2849
os_version:
  description: The full version in the form image C(OsVersion) fields use.
  returned: success
  type: str
  sample: 10.0.20348.2849
display_version:
  description: C(DisplayVersion), or C(ReleaseId) on hosts older than 20H2.
  returned: success
  type: str
  sample: 21H2
product_name:
  description: C(ProductName) as the registry has it (Windows 11 still says "Windows 10" there); on Linux hosts the
    C(PRETTY_NAME) of C(/etc/os-release).
  returned: success
  type: str
  sample: Windows Server 2022 Datacenter
os_name:
  description: The release the build belongs to, from the collection's build table (on Linux hosts, RV(product_name)).
  returned: success
  type: str
  sample: Windows Server 2022
edition:
  description: C(EditionID).
  returned: success
  type: str
  sample: ServerDatacenter
installation_type:
  description: C(InstallationType), for example V(Server), V(Server Core) or V(Client).
  returned: success
  type: str
  sample: Server Core
hyperv_available:
  description: Whether the Hyper-V management service exists, which Hyper-V isolation needs; V(null) when unknown or
    not Windows.
  returned: success
  type: bool
hyperv:
  description: The Hyper-V details read.
  returned: success
  type: dict
  contains:
    vmms:
      description: The status of the C(vmms) service, V(null) when it does not exist.
      type: str
      returned: on Windows hosts
    hypervisor_present:
      description: C(Win32_ComputerSystem.HypervisorPresent).
      type: bool
      returned: on Windows hosts
    problem:
      description: Why the details could not be read, if they could not.
      type: str
      returned: on Windows hosts
docker_available:
  description: Whether the docker CLI was found and its engine answered.
  returned: success
  type: bool
docker_error:
  description: Why the engine facts are missing.
  returned: success
  type: str
client_version:
  description: The docker CLI version.
  returned: success
  type: str
  sample: 27.3.1
server_version:
  description: The engine version.
  returned: success
  type: str
  sample: 27.3.1
api_version:
  description: The engine API version.
  returned: success
  type: str
  sample: "1.47"
os_type:
  description: The engine's container OS type (C(OSType)), V(windows) or V(linux).
  returned: success
  type: str
  sample: windows
isolation:
  description: The engine's default isolation, V(process) (Windows Server) or V(hyperv) (Windows client); V(null) on
    Linux engines.
  returned: success
  type: str
  sample: process
engine_os:
  description: The engine's C(OperatingSystem) text.
  returned: success
  type: str
  sample: Microsoft Windows Server Version 21H2 (OS Build 20348.2849)
storage_driver:
  description: The engine's storage driver (C(windowsfilter) on Windows).
  returned: success
  type: str
docker_root_dir:
  description: The engine's data root.
  returned: success
  type: str
engine:
  description: The container host's preparation state on Windows hosts; V(null) on other hosts.
  returned: success
  type: dict
  contains:
    edition_kind:
      description: V(server) (C(Get-WindowsFeature)) or V(client) (C(Get-WindowsOptionalFeature)).
      type: str
      returned: on Windows hosts
    containers_feature:
      description: The C(Containers) feature, V(installed), V(pending_reboot), V(missing), V(pending_removal) or V(unknown).
      type: str
      returned: on Windows hosts
    hyperv_feature:
      description: The C(Hyper-V) feature (C(Microsoft-Hyper-V) on client editions), as RV(engine.containers_feature).
      type: str
      returned: on Windows hosts
    reboot_pending:
      description: A feature waits for a restart, or Windows servicing or Windows Update asks for one.
      type: bool
      returned: on Windows hosts
    reboot_reasons:
      description: The registry keys under C(HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion) that ask for a restart.
      type: list
      elements: str
      returned: on Windows hosts
    install_dir:
      description: Where the engine's binaries are looked for (C(%ProgramFiles%\Docker)).
      type: str
      returned: on Windows hosts
    installed:
      description: Whether C(dockerd.exe) is in RV(engine.install_dir).
      type: bool
      returned: on Windows hosts
    version:
      description: The release C(dockerd --version) prints.
      type: str
      returned: on Windows hosts
    service:
      description: The C(docker) service, C(exists), C(state), C(start_mode) and C(path_name).
      type: dict
      returned: on Windows hosts
    answers:
      description: Whether the engine answers C(docker version).
      type: bool
      returned: on Windows hosts
    daemon_json_path:
      description: Where daemon.json is (C(<data-root>\config\daemon.json)).
      type: str
      returned: on Windows hosts
    daemon_config:
      description: The effective daemon.json, V(null) when there is none or it is not valid JSON.
      type: dict
      returned: on Windows hosts
compatible_base_images:
  description:
    - For each base image family (V(nanoserver), V(servercore), V(server), V(windows)), its repository and the channel
      tags usable on this host with V(process) and with V(hyperv) isolation, newest first.
    - Empty on Linux hosts and on engines in Linux containers mode.
  returned: success
  type: dict
  sample:
    servercore:
      repository: mcr.microsoft.com/windows/servercore
      process: [ltsc2022]
      hyperv: [ltsc2022, 20H2, "2004", "1909", "1903", ltsc2019, "1809", ltsc2016]
"""
