# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/docker_image_history.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_image_history
short_description: Show the layers an image is built from
version_added: 0.1.0
description:
  - Returns the history of an image, newest layer first (workflow S12, C(docker history)), read from
    C(docker image history --no-trunc --human=false) as JSON.
  - Never changes anything; one round trip to the host.
author:
  - wincontainers.images developers (@wincontainers)
options:
  name:
    description:
      - The image, as a reference (V(repository), V(repository:tag), V(repository@digest)) or an image ID (full or short).
      - A reference without tag means V(latest), as for C(docker history).
    type: str
    required: true
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.attributes.INFO_MODULE
seealso:
  - module: wincontainers.images.docker_image_info
"""

EXAMPLES = r"""
- name: Show the layers of windowsservercoreiis (S12)
  wincontainers.images.docker_image_history:
    name: windowsservercoreiis
  register: layers

- name: Show the command of each layer
  ansible.builtin.debug:
    msg: "{{ layers.history | map(attribute='created_by') | list }}"
"""

RETURN = r"""
image_id:
  description: The ID of the image.
  returned: success
  type: str
history:
  description: The image's layers, newest first.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The ID of the image this layer made, V(null) for layers that came from a registry (C(<missing>)).
      type: str
    created:
      description: When the layer was created, ISO 8601 in UTC.
      type: str
      sample: "2024-05-14T09:12:44Z"
    created_by:
      description: The instruction that created the layer, untruncated (empty for imported layers).
      type: str
    size:
      description: The layer's size in bytes.
      type: int
    comment:
      description: The layer's comment (the commit message, for committed layers).
      type: str
"""
