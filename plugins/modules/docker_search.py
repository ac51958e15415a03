# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/docker_search.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_search
short_description: Search Docker Hub from a Windows or Linux Docker host
version_added: 0.1.0
description:
  - Searches Docker Hub for images (workflow S13, C(docker search)) and returns the results as data.
  - Runs C(docker search --format '{{json .}}') on the host, in one round trip. The Docker daemon answers it from
    Docker Hub's search API, so the host's engine needs to reach C(index.docker.io).
  - Never changes anything.
author:
  - wincontainers.images developers (@wincontainers)
options:
  term:
    description:
      - What to search for, for example V(windows) or V(microsoft/dotnet).
    type: str
    required: true
  limit:
    description:
      - The largest number of results (1 to 100).
    type: int
    default: 25
  filters:
    description:
      - Conditions the results must meet (C(docker search --filter)).
    type: dict
    suboptions:
      is_official:
        description:
          - V(true) returns only official images, V(false) only the others.
        type: bool
        aliases: [is-official]
      stars:
        description:
          - Only images with at least this many stars.
        type: int
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.attributes.INFO_MODULE
notes:
  - "C(docker search) only searches Docker Hub (Docker's V1 search API). The private registries of the Docker
    Registry project (C(distribution)) have no search API, and a term naming another registry fails with that
    registry's answer; the Microsoft Container Registry has no catalog either. This module is therefore tested by
    recorded C(docker search) output (unit and transport contract tests) and, on the test engine, by the failures it
    reports without internet access and for a private registry."
  - Older Docker CLIs print C(StarCount) as a string and C(IsOfficial) as V([OK]) or an empty string; current ones
    print a number and a boolean. The module returns an integer and a boolean either way.
seealso:
  - module: wincontainers.images.docker_image_pull
"""

EXAMPLES = r"""
- name: Find official images about Windows
  wincontainers.images.docker_search:
    term: windows
    limit: 10
    filters:
      is_official: true
  register: found

- name: Show their names and stars
  ansible.builtin.debug:
    msg: "{{ found.results | map(attribute='name') | list }}"
"""

RETURN = r"""
results:
  description: The images found, as Docker Hub ranks them.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The repository name.
      type: str
      sample: microsoft/dotnet
    description:
      description: The repository's short description.
      type: str
    stars:
      description: Its number of stars.
      type: int
      sample: 1830
    official:
      description: Whether it is an official image.
      type: bool
"""
