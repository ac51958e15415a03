# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/win_container_base_image.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: win_container_base_image
short_description: Install, update or remove a Windows base OS image on a container host, idempotently
version_added: 0.1.0
description:
  - Makes a Windows base OS image (Nano Server, Server Core, Server, Windows) present, up to date or absent on a
    container host, choosing a tag the host can run, and gives it its short local name (V(windowsservercore:latest)).
  - "Sources: the Microsoft Container Registry or a mirror (O(source=registry)); an offline archive (O(source=archive)):
    a C(docker save) tar, or a C(.wim) installed with C(Install-ContainerOSImage); the retired ContainerImage provider
    (O(source=provider))."
  - B(Compatibility is checked before anything is fetched.) With O(version=auto) the newest tag that runs on the host's
    build with O(isolation) is chosen; an explicit O(version) that cannot run on the host fails the task, naming the
    host build, the image build and the tags that would work. The rules are in the collection's C(docs/base-images.md).
  - Pulls and loads of multi-GB images run as detached jobs on the host, outside the WinRM shell, and the task polls
    them, so a dropped or timed-out connection does not cancel them; running the task again re-attaches to a job that
    is still running.
  - After a provider or C(.wim) install, the engine must list the image; if it does not, the C(docker) service is
    restarted once (O(restart_docker)) and the engine asked again (the source document's step S5), and the task fails
    clearly if the image is still missing (Docker 1.13 and later never list such images).
  - One round trip to the host when nothing changes; two, plus the polls of a pull or load job, when something does.
author:
  - wincontainers.images developers (@wincontainers)
options:
  name:
    description:
      - The base image, V(NanoServer), V(WindowsServerCore) (or V(ServerCore)), V(Server) or V(Windows), in any case,
        which names C(<registry>/windows/nanoserver), C(/windows/servercore), C(/windows/server) and C(/windows).
      - Or a full repository without tag, for example V(registry.example.com/base/servercore); O(version=auto) then
        works only when the repository's last part is a base image name (V(nanoserver), V(servercore), V(server),
        V(windows)).
      - With O(source=provider) or a C(.wim) archive, V(NanoServer) or V(WindowsServerCore).
    type: str
    required: true
  version:
    description:
      - V(auto) chooses the newest tag of the image that runs on the host's Windows build with O(isolation) (a supported
        one when there is one).
      - Or a channel tag (V(ltsc2022), V(ltsc2019), V(1809), ...), a KB tag (V(ltsc2022-KB5044281)) or a build tag
        (V(10.0.20348.2849)); any tag for a repository that is not a Microsoft base image.
      - With O(source=provider) or a C(.wim) archive, the image's four-part version, such as V(10.0.14393.1884); a
        C(.wim) install needs it.
    type: str
    default: auto
  isolation:
    description:
      - The isolation the image's containers will use, which decides what runs on the host. V(process) needs the host's
        build (hosts from Windows Server 2022 on also run images of the previous LTSC); V(hyperv) runs images of the host's
        build or older.
    type: str
    choices: [process, hyperv]
    default: process
  source:
    description:
      - V(registry) pulls from O(registry).
      - V(archive) installs from O(path) on the host, a C(docker save) tar (loaded with C(docker load)) or a C(.wim) file
        (installed with C(Install-ContainerOSImage -WimPath -Force), Windows Server 2016).
      - V(provider) uses the ContainerImage PackageManagement provider (C(Install-ContainerImage)); it is retired, see
        M(wincontainers.images.win_container_image_provider). It downloads with BITS, which refuses the network logons
        of WinRM, PSRP and SSH sessions (error 0x800704DD); that failure, and the NuGet bootstrap failure, end the task
        with a message that points to V(registry) and V(archive).
    type: str
    choices: [registry, provider, archive]
    default: registry
  registry:
    description:
      - The registry (C(host[:port]), optionally with a path prefix) holding the C(windows/...) repositories, for a
        mirror of the Microsoft Container Registry. Ignored when O(name) is a full repository.
    type: str
    default: mcr.microsoft.com
  path:
    description:
      - With O(source=archive), the absolute path on the host of a C(docker save) archive or of a C(.wim) file (by its
        extension). Required unless O(state=absent).
      - With O(state=absent), a path ending in C(.wim) (which need not exist any more) makes the task uninstall the OS
        image C(CN=Microsoft_<Name>_<version>); without O(path) the docker image is removed.
    type: str
  state:
    description:
      - V(present) installs the image when it is missing.
      - V(latest) also moves to a newer image when the tag has one (a pull or load that brings the same image changes
        nothing); a build tag is fixed, so it behaves as V(present). With O(source=provider) and O(version=auto), it
        installs the newest version the provider offers for the host.
      - V(absent) removes the image. With O(version=auto), every local tag of the repository (or every installed version
        of the OS image) is removed; otherwise only O(version). The local name (O(latest_name)) is removed too when it
        names a removed image.
    type: str
    choices: [present, latest, absent]
    default: present
  tag_latest:
    description:
      - Give the installed image its short local name so that it can be referenced by name (the source document's step
        S6), which is V(nanoserver:latest), V(windowsservercore:latest), V(windowsserver:latest) or V(windows:latest), or
        C(<repository>:latest) when O(name) is a repository. O(latest_name) chooses another name.
    type: bool
    default: true
  latest_name:
    description:
      - The local name to tag when O(tag_latest=true), instead of the default; a name without tag gets V(latest).
    type: str
  restart_docker:
    description:
      - After a provider or C(.wim) install, restart the C(docker) service once when the engine does not list the image.
        The restart stops running containers.
    type: bool
    default: true
  config_path:
    description:
      - Docker configuration directory for the pull (C(DOCKER_CONFIG)), holding credentials for a private mirror, as
        M(wincontainers.images.docker_login) writes them.
      - An absolute path on the managed host (V(C:\\...) or V(\\\\server\\share\\...) on Windows, V(/...) on Linux); a
        relative path is refused before anything runs. C(~) is not expanded.
    type: str
notes:
  - The registry's C(latest) tag does not exist for Microsoft base images; O(tag_latest) makes a local one.
  - Running the same task on many hosts of different Windows builds installs each host's own image with
    O(version=auto).
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.host_job
  - wincontainers.images.attributes.CHANGING_MODULE
seealso:
  - module: wincontainers.images.win_container_host_info
  - module: wincontainers.images.win_container_base_image_info
  - module: wincontainers.images.win_container_image_provider
  - module: wincontainers.images.docker_image_load
"""

EXAMPLES = r"""
- name: Install the Server Core image this host runs, named windowsservercore:latest
  wincontainers.images.win_container_base_image:
    name: WindowsServerCore

- name: Keep Nano Server on the newest monthly build of its channel
  wincontainers.images.win_container_base_image:
    name: NanoServer
    state: latest

- name: Install a pinned build from a registry mirror, for Hyper-V isolated containers
  wincontainers.images.win_container_base_image:
    name: WindowsServerCore
    version: 10.0.17763.6414
    isolation: hyperv
    registry: mirror.example.com/mcr
    config_path: C:\ProgramData\wincontainers\docker-config

- name: On an offline host, load a docker save archive copied there before (S7)
  wincontainers.images.win_container_base_image:
    name: WindowsServerCore
    version: ltsc2022
    source: archive
    path: C:\images\servercore-ltsc2022.tar

- name: On Windows Server 2016 with the legacy tooling, install a saved WIM (S7)
  wincontainers.images.win_container_base_image:
    name: NanoServer
    version: 10.0.14300.1010
    source: archive
    path: C:\container-image\NanoServer.wim

- name: Remove every Nano Server image and its local name (S8)
  wincontainers.images.win_container_base_image:
    name: NanoServer
    state: absent
"""

RETURN = r"""
reference:
  description: The image installed, as the engine names it.
  returned: success and state is not absent
  type: str
  sample: mcr.microsoft.com/windows/servercore:ltsc2022
version:
  description: The tag (or, for provider and WIM images, the four-part version) installed.
  returned: success and state is not absent
  type: str
  sample: ltsc2022
image_id:
  description: The image ID (V(null) in check mode when the image is not there yet).
  returned: success and state is not absent
  type: str
build:
  description: The Windows build of the image.
  returned: success and state is not absent
  type: int
  sample: 20348
os_version:
  description: The image's C(OsVersion).
  returned: success and state is not absent
  type: str
  sample: 10.0.20348.2849
os_image:
  description: The OS image name of a provider or WIM install (what C(Uninstall-ContainerOSImage -FullName) takes).
  returned: success, source provider or a .wim archive, state is not absent
  type: str
  sample: CN=Microsoft_NanoServer_10.0.14300.1010
host_build:
  description: The host's Windows build (V(null) on Linux hosts).
  returned: success
  type: int
  sample: 20348
isolation:
  description: The isolation the choice was made for.
  returned: success and state is not absent
  type: str
source:
  description: The source used.
  returned: success
  type: str
state:
  description: The state asked for.
  returned: success
  type: str
latest_name:
  description: The local name given to the image (V(null) when O(tag_latest=false)).
  returned: success and state is not absent
  type: str
  sample: windowsservercore:latest
actions:
  description: What was done (in check mode, what would be done), in order.
  returned: success
  type: list
  elements: str
  sample:
    - pulled mcr.microsoft.com/windows/servercore:ltsc2022
    - tagged mcr.microsoft.com/windows/servercore:ltsc2022 as windowsservercore:latest
restarted_docker:
  description: Whether the docker service was restarted so that the engine lists a provider or WIM image (S5).
  returned: always
  type: bool
removed:
  description: The images removed (OS image names and references).
  returned: success and state is absent
  type: list
  elements: str
image:
  description: The image's inspect object.
  returned: success and state is not absent
  type: dict
job:
  description: The detached pull or load job, when one ran.
  returned: when a pull or load ran
  type: dict
  contains:
    id:
      description: The job's ID on the host.
      type: str
      returned: always
    reattached:
      description: Whether the task attached to a job that was already running.
      type: bool
      returned: always
    elapsed:
      description: Seconds the task waited for the job.
      type: float
      returned: always
diff:
  description: With C(--diff), the image IDs each name pointed at before and after.
  returned: success and diff mode
  type: dict
"""
