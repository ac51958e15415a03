# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/win_container_base_image_info.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: win_container_base_image_info
short_description: List the Windows base images a host could install, and which of them it can run
version_added: 0.1.0
description:
  - Lists installable base OS images (the source document's step S2), in one round trip to the host.
  - With O(source=registry), the tags of the repository from the registry's tag list API
    (C(GET /v2/<repository>/tags/list), anonymous), fetched by the host itself so that its proxy settings, name
    resolution and mirrors apply. Each tag comes with the Windows build it stands for (from its form, C(ltsc2022),
    C(10.0.20348.2849), C(ltsc2022-KB5044281)) and whether it runs on the host with process and with Hyper-V isolation.
  - With O(source=provider), the images the legacy ContainerImage provider offers (C(Find-ContainerImage -AllVersions)),
    as structured data. The provider's service is retired, so this fails on hosts without it, or finds nothing.
author:
  - wincontainers.images developers (@wincontainers)
options:
  name:
    description:
      - The base image (V(NanoServer), V(WindowsServerCore), V(Server), V(Windows), any case) or a full repository.
      - Required with O(source=registry); with O(source=provider), the image name to find (all when omitted).
    type: str
  source:
    description:
      - Where to look.
    type: str
    choices: [registry, provider]
    default: registry
  registry:
    description:
      - The registry (C(host[:port]), optionally with a path prefix) holding the C(windows/...) repositories.
    type: str
    default: mcr.microsoft.com
  isolation:
    description:
      - The isolation RV(tags[].compatible) and RV(images[].compatible) refer to.
    type: str
    choices: [process, hyperv]
    default: process
  compatible_only:
    description:
      - Return only the tags or images that run on the host with O(isolation).
    type: bool
    default: false
notes:
  - Tags whose form names no known Windows build (for example V(latest) of another repository) have V(null) builds
    and compatibility.
  - Registries that need credentials for their tag list are not supported; only anonymous bearer tokens are fetched.
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.attributes.INFO_MODULE
seealso:
  - module: wincontainers.images.win_container_base_image
  - module: wincontainers.images.win_container_host_info
"""

EXAMPLES = r"""
- name: List the Server Core tags this host runs with process isolation
  wincontainers.images.win_container_base_image_info:
    name: WindowsServerCore
    compatible_only: true
  register: servercore

- name: Show the newest one
  ansible.builtin.debug:
    msg: "{{ servercore.recommended }}"

- name: What the legacy provider offers (S2, Windows Server 2016)
  wincontainers.images.win_container_base_image_info:
    source: provider
"""

RETURN = r"""
repository:
  description: The repository listed.
  returned: success and source is registry
  type: str
  sample: mcr.microsoft.com/windows/servercore
registry_url:
  description: The registry API base URL that answered.
  returned: success and source is registry
  type: str
  sample: https://mcr.microsoft.com
host_build:
  description: The host's Windows build (V(null) on Linux hosts).
  returned: success
  type: int
  sample: 20348
isolation:
  description: The isolation RV(tags[].compatible) refers to.
  returned: success
  type: str
recommended:
  description: The tag O(name) with C(version=auto) would install (V(null) for other repositories or when none runs).
  returned: success and source is registry
  type: str
  sample: ltsc2022
tags:
  description: The tags, newest build first.
  returned: success and source is registry
  type: list
  elements: dict
  contains:
    tag:
      description: The tag.
      type: str
      returned: always
    build:
      description: The Windows build the tag stands for, or V(null).
      type: int
      returned: always
    revision:
      description: The update revision of a build tag, or V(null).
      type: int
      returned: always
    channel:
      description: The channel tag the tag belongs to (V(ltsc2022) for V(ltsc2022-KB5044281)), or V(null).
      type: str
      returned: always
    process:
      description: Whether it runs on the host with process isolation (V(null) when unknown).
      type: bool
      returned: always
    hyperv:
      description: Whether it runs on the host with Hyper-V isolation (V(null) when unknown).
      type: bool
      returned: always
    compatible:
      description: Whether it runs with O(isolation).
      type: bool
      returned: always
images:
  description: What C(Find-ContainerImage) found, newest version first per name.
  returned: success and source is provider
  type: list
  elements: dict
  contains:
    name:
      description: The image name.
      type: str
      returned: always
      sample: NanoServer
    version:
      description: The version.
      type: str
      returned: always
      sample: 10.0.14300.1010
    source:
      description: The provider source.
      type: str
      returned: always
      sample: ContainerImageGallery
    summary:
      description: The description.
      type: str
      returned: always
    build:
      description: The Windows build of the version.
      type: int
      returned: always
    process:
      description: Whether it runs on the host with process isolation.
      type: bool
      returned: always
    hyperv:
      description: Whether it runs on the host with Hyper-V isolation.
      type: bool
      returned: always
    compatible:
      description: Whether it runs with O(isolation).
      type: bool
      returned: always
"""
