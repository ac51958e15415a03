# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/docker_image_remove.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_image_remove
short_description: Remove an image or one of its tags from a Windows or Linux Docker host
version_added: 0.1.0
description:
  - Removes an image by name or ID (workflow S11, C(docker rmi)).
  - An image that does not exist is no change.
  - Naming one tag of an image that has several removes only that tag; the image stays with its other tags.
  - When containers depend on the image (created from it or from an image built on it, running or stopped), the task
    fails with a message listing each container's name, ID and status, unless O(force=true).
  - One round trip to the host when nothing changes, two when something is removed.
author:
  - wincontainers.images developers (@wincontainers)
options:
  name:
    description:
      - The image, as a reference (V(repository), V(repository:tag), V(repository@digest)) or an image ID (full or short).
      - When the reference has neither tag nor digest, O(tag) is used.
      - An image ID removes the image with all its tags; when it has several, O(force=true) is required.
    type: str
    required: true
  tag:
    description:
      - Tag used when O(name) is a reference without tag or digest.
    type: str
    default: latest
  force:
    description:
      - Remove even when containers depend on the image, and remove an image with several tags by its ID
        (C(docker image rm --force)).
      - With O(force), the engine deletes the image even though stopped containers were created from it (they keep
        working). While a running container uses it, the engine removes only the name and keeps the image, and
        refuses to remove it by ID; the task then fails with the list of running containers.
    type: bool
    default: false
  prune:
    description:
      - Also remove the image's untagged parent images. V(false) passes C(--no-prune).
    type: bool
    default: true
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.attributes.CHANGING_MODULE
seealso:
  - module: wincontainers.images.docker_image_info
  - module: wincontainers.images.docker_image_tag
"""

EXAMPLES = r"""
- name: Remove the windowsservercoreiis image (S11)
  wincontainers.images.docker_image_remove:
    name: windowsservercoreiis

- name: Remove only the 1.3 tag of the web application image
  wincontainers.images.docker_image_remove:
    name: registry.example.com/apps/web
    tag: "1.3"

- name: Remove an image by ID even though stopped containers were created from it
  wincontainers.images.docker_image_remove:
    name: 3c0e6ddc3ea5
    force: true
"""

RETURN = r"""
image:
  description: The inspect object of the image before removal (an empty dict when it did not exist, as community.docker returns it).
  returned: success
  type: dict
untagged:
  description: The tags removed (in check mode, that would be removed).
  returned: success
  type: list
  elements: str
  sample:
    - windowsservercoreiis:latest
deleted:
  description: The image ID, when the image itself was (or, in check mode, would be) deleted.
  returned: success
  type: list
  elements: str
containers:
  description: The containers that depend on the image (name, ID, image, status), when the task failed because of them.
  returned: failure because containers depend on the image
  type: list
  elements: dict
actions:
  description: C(Removed image <name>) when the image or the tag was (in check mode, would be) removed; empty otherwise.
  returned: success
  type: list
  elements: str
diff:
  description:
    - With C(--diff), the image before and after in community.docker's shape, C(exists), and when it exists its C(id),
      C(tags) and C(digests) (sorted). After the image is deleted, only C(exists=false).
  returned: success and diff mode
  type: dict
  sample:
    before:
      exists: true
      id: sha256:3c0e6ddc3ea5e4e4b2a4e0f1ab6f0b4f6a1f1c6e0d2a4b5c6d7e8f9a0b1c2d3e
      tags: [web:1.3, web:1.4]
      digests: []
    after:
      exists: true
      id: sha256:3c0e6ddc3ea5e4e4b2a4e0f1ab6f0b4f6a1f1c6e0d2a4b5c6d7e8f9a0b1c2d3e
      tags: [web:1.4]
      digests: []
"""
