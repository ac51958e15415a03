# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/docker_image_tag.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_image_tag
short_description: Tag an image on a Windows or Linux Docker host, idempotently
version_added: 0.1.0
description:
  - Points one or more target references at an existing image (workflow S6, C(docker tag)), for example to give a
    Windows base image a local C(latest) name, since the Microsoft Container Registry publishes no C(latest) tag.
  - Idempotent by image ID. A target that already points at the source image is not tagged again, and the task
    reports C(changed) only when a tag was created or moved.
  - One round trip to the host when nothing changes, two when something does.
author:
  - wincontainers.images developers (@wincontainers)
options:
  name:
    description:
      - The source image, as a reference (V(repository), V(repository:tag), V(repository@digest)) or an image ID.
      - When the reference has neither tag nor digest, O(tag) is used.
    type: str
    required: true
  tag:
    description:
      - Tag of the source image when O(name) has none, and tag of every target in O(repository) that has none.
    type: str
    default: latest
  repository:
    description:
      - The target references, each V(repository) or V(repository:tag).
    type: list
    elements: str
    required: true
  existing_images:
    description:
      - What to do when a target already names another image.
      - V(overwrite) moves the target to the source image.
      - V(keep) leaves it where it is and lists it in RV(kept_images).
    type: str
    choices: [keep, overwrite]
    default: overwrite
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.attributes.CHANGING_MODULE
seealso:
  - module: wincontainers.images.docker_image_info
"""

EXAMPLES = r"""
- name: Name the installed Server Core image windowsservercore:latest (S6)
  wincontainers.images.docker_image_tag:
    name: mcr.microsoft.com/windows/servercore:ltsc2022
    repository:
      - windowsservercore

- name: Tag an image by ID under two names, but never move an existing tag
  wincontainers.images.docker_image_tag:
    name: 3c0e6ddc3ea5
    repository:
      - registry.example.com/base/servercore:ltsc2022
      - servercore:pinned
    existing_images: keep
"""

RETURN = r"""
image:
  description: The inspect object of the source image.
  returned: success
  type: dict
tagged_images:
  description: The target references that were tagged (in check mode, that would be tagged).
  returned: success
  type: list
  elements: str
  sample:
    - windowsservercore:latest
kept_images:
  description: Targets left untouched because they name another image and O(existing_images=keep).
  returned: success
  type: list
  elements: str
actions:
  description: One line per target of O(repository), in order, saying whether it was (in check mode, would be) tagged and why.
  returned: success
  type: list
  elements: str
diff:
  description:
    - In community.docker's shape, one entry per target of O(repository), in order, before and after, with the target's
      C(name) (repository) and C(tag), whether it C(exists), and the C(id) of the image it names when it does.
    - Returned always, as community.docker does, not only with C(--diff).
  returned: success
  type: dict
  sample:
    before:
      images: [{name: windowsservercore, tag: latest, exists: false}]
    after:
      images:
        - name: windowsservercore
          tag: latest
          exists: true
          id: sha256:3c0e6ddc3ea5e4e4b2a4e0f1ab6f0b4f6a1f1c6e0d2a4b5c6d7e8f9a0b1c2d3e
"""
