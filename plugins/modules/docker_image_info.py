# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/docker_image_info.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_image_info
short_description: Inspect images on a Windows or Linux Docker host
version_added: 0.1.0
description:
  - Returns the C(docker image inspect) objects of the named images, or of every image on the host when O(name) is
    omitted (workflows S4 and S9, C(docker images)).
  - Names that do not exist are left out of the result; that is not an error.
  - Reads everything in one round trip to the host, however many names are given.
author:
  - wincontainers.images developers (@wincontainers)
options:
  name:
    description:
      - Image references (V(repository), V(repository:tag), V(repository@digest)) or image IDs (full or short).
      - When omitted, every image on the host is returned.
    type: list
    elements: str
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.attributes.INFO_MODULE
seealso:
  - module: wincontainers.images.docker_image_tag
"""

EXAMPLES = r"""
- name: Inspect the Server Core base image
  wincontainers.images.docker_image_info:
    name: mcr.microsoft.com/windows/servercore:ltsc2022
  register: servercore

- name: Show its Windows build
  ansible.builtin.debug:
    msg: "{{ servercore.images[0].OsVersion | default('not installed') }}"

- name: List every image on the host (docker images)
  wincontainers.images.docker_image_info:
  register: all_images

- name: Inspect several images at once; missing ones are left out
  wincontainers.images.docker_image_info:
    name:
      - mcr.microsoft.com/windows/nanoserver:ltsc2022
      - windowsservercore:latest
      - sha256:3c0e6ddc3ea5e4e4b2a4e0f1ab6f0b4f6a1f1c6e0d2a4b5c6d7e8f9a0b1c2d3e
"""

RETURN = r"""
images:
  description:
    - The inspect objects of the images found, as C(docker image inspect) returns them.
    - With O(name), one entry per name found, in the order of O(name) (as C(docker image inspect a b) and
      community.docker answer); two names of one image give that image twice, and a name not found gives no entry.
      Without O(name), every image once.
    - Fields include C(Id), C(RepoTags), C(RepoDigests), C(Created), C(Size) (bytes), C(Os), C(OsVersion)
      (the Windows build of the image, for example V(10.0.20348.2113)), C(Architecture) and C(RootFS).
  returned: always
  type: list
  elements: dict
  sample:
    - Id: sha256:3c0e6ddc3ea5e4e4b2a4e0f1ab6f0b4f6a1f1c6e0d2a4b5c6d7e8f9a0b1c2d3e
      RepoTags:
        - mcr.microsoft.com/windows/servercore:ltsc2022
      RepoDigests:
        - mcr.microsoft.com/windows/servercore@sha256:9f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0
      Created: "2024-11-07T01:23:45.6789012Z"
      Size: 4130000000
      Os: windows
      OsVersion: 10.0.20348.2849
      Architecture: amd64
"""
