# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/win_container_image_provider.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: win_container_image_provider
short_description: Install or remove a PackageManagement provider, ContainerImage by default
version_added: 0.1.0
description:
  - The source document's step S1, C(Install-PackageProvider ContainerImage -Force), idempotently - the providers are
    listed with C(Get-PackageProvider -ListAvailable) first, and nothing is installed when the provider (and
    O(version), if given) is there.
  - After an install, C(Import-PackageProvider) checks that the provider loads.
  - V(absent) deletes the folder C(Install-PackageProvider) created for the provider (there is no
    C(Uninstall-PackageProvider)); providers that ship with Windows are never removed.
  - B(The ContainerImage provider is retired.) Its repository was archived in 2021 and the image service it downloads
    from is gone, so C(Find-ContainerImage) and C(Install-ContainerImage) no longer find images. Docker 1.13 and later
    do not list the OS images it installs either. Base OS images come from the Microsoft Container Registry today, through
    M(wincontainers.images.win_container_base_image) with its default C(source=registry). This module exists for hosts
    and playbooks that still need the old path; installing ContainerImage returns a warning.
  - Windows hosts only (the task fails on Linux hosts).
author:
  - wincontainers.images developers (@wincontainers)
options:
  name:
    description:
      - The provider's name.
    type: str
    default: ContainerImage
  version:
    description:
      - The provider version (C(-RequiredVersion)); any version when omitted.
    type: str
  state:
    description:
      - Whether the provider is installed.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Installing from the PowerShell Gallery needs the NuGet provider, which is bootstrapped on the way (C(-ForceBootstrap)),
    and TLS 1.2, which the task enables for its own session.
  - When the NuGet bootstrap fails (its endpoint C(go.microsoft.com/fwlink/?LinkID=627338) unreachable, or refused for
    its expired certificate), the task says so and points to M(wincontainers.images.win_container_base_image) with
    C(source=registry) or C(source=archive), which need no provider.
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.attributes.CHANGING_MODULE
seealso:
  - module: wincontainers.images.win_container_base_image
  - module: wincontainers.images.win_container_base_image_info
"""

EXAMPLES = r"""
- name: Install the ContainerImage provider (S1, legacy hosts only)
  wincontainers.images.win_container_image_provider:

- name: Pin the provider version
  wincontainers.images.win_container_image_provider:
    name: ContainerImage
    version: 0.6.4.0

- name: Remove it again
  wincontainers.images.win_container_image_provider:
    state: absent
"""

RETURN = r"""
name:
  description: The provider's name.
  returned: success
  type: str
state:
  description: The state asked for.
  returned: success
  type: str
provider:
  description: The provider as C(Get-PackageProvider -ListAvailable) lists it after the task (V(null) when absent, and
    in check mode before an install).
  returned: success
  type: dict
  contains:
    name:
      description: Its name.
      type: str
      returned: always
    version:
      description: Its version.
      type: str
      returned: always
    path:
      description: Its C(ProviderPath).
      type: str
      returned: always
providers:
  description: Every provider available after the task (name, version, path).
  returned: success
  type: list
  elements: dict
removed_paths:
  description: The folders deleted by V(absent).
  returned: success
  type: list
  elements: str
diff:
  description: With C(--diff), the provider's versions before and after.
  returned: success and diff mode
  type: dict
"""
