# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/docker_image_push.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_image_push
short_description: Push an image from a Windows or Linux Docker host to its registry, idempotently
version_added: 0.1.0
description:
  - Pushes a local image to the registry its name points at (workflow S16, C(docker push)).
  - "Idempotent by what the registry holds: before pushing, the module asks the registry for the tag's manifest
    (C(docker manifest inspect --verbose), run on the host, so the host's credentials, credential helpers and
    C(certs.d) certificate authorities apply exactly as for the push). When the tag already is this image, nothing
    is uploaded and the task reports no change. The tag is this image when its manifest digest is one the local
    image was pushed or pulled as (its RepoDigests for that repository), or when the manifest's config digest is the
    local image ID. For a multi-platform manifest list, a list entry that is this image counts, and the list is
    left in place."
  - Check mode answers the same question without pushing.
  - The push runs as a detached job on the host (see M(wincontainers.images.docker_image_pull)), so a large Windows
    image survives a dropped WinRM connection, with progress shown on the controller.
  - A registry that is down, a registry that refuses the credentials (or has none for the host), a repository the
    account may not push to and a missing local image all fail the task with a message saying which; nothing is
    reported as changed.
author:
  - wincontainers.images developers (@wincontainers)
options:
  name:
    description:
      - The local image to push, V(registry/repository) or V(registry/repository:tag). The image must already carry
        that name (see M(wincontainers.images.docker_image_tag)).
    type: str
    required: true
  tag:
    description:
      - The tag to push when O(name) has none.
    type: str
    default: latest
  config_path:
    description:
      - The Docker client configuration directory whose credentials the push uses (E(DOCKER_CONFIG)), as given to
        M(wincontainers.images.docker_login). By default the host's own configuration.
      - An absolute path on the managed host (V(C:\\...) or V(\\\\server\\share\\...) on Windows, V(/...) on Linux); a
        relative path is refused before anything runs. C(~) is not expanded.
    type: str
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.host_job
  - wincontainers.images.attributes.CHANGING_MODULE
notes:
  - Why C(docker manifest inspect) and not a request of the module's own to the registry's HTTP API - the docker CLI
    already knows how to authenticate to every registry (basic, token, identity tokens, credential helpers) and which
    certificates to trust, and the credentials never have to leave Docker's own configuration on the host. It ships
    with every Docker CLI the module supports (it was experimental until Docker 20.10 and needs no setting since).
    Registries on V(127.0.0.0/8) and V(localhost), and registries the daemon lists as insecure (C(docker info)), are
    asked with C(--insecure), as the daemon itself talks to them (plain HTTP or TLS without verification).
  - "Foreign (non-distributable) layers: Windows base images once referenced their base layers by Microsoft URLs,
    and C(docker push) skipped those layers unless the daemon's C(allow-nondistributable-artifacts) named the
    registry. Microsoft removed foreign layers from its images in 2023, and Docker 28.0 dropped the feature: it
    uploads every layer and ignores that setting. The module reports in RV(foreign_layers) how many layers of the
    pushed manifest are still marked foreign (0 with Docker 28 and later, or with current base images), and warns
    when there are any: hosts pulling such an image need to reach those URLs."
  - The digest returned is the one the registry serves for the tag after the push, read back from the registry.
seealso:
  - module: wincontainers.images.docker_login
  - module: wincontainers.images.docker_image_tag
"""

EXAMPLES = r"""
- name: Tag an image for the private registry
  wincontainers.images.docker_image_tag:
    name: myapp:build-42
    repository:
      - registry.example.com:5000/apps/myapp:1.4

- name: Push it (no upload when the registry already has it)
  wincontainers.images.docker_image_push:
    name: registry.example.com:5000/apps/myapp
    tag: "1.4"
    config_path: C:\ProgramData\ansible\docker-config
  register: pushed

- name: Show the digest to deploy
  ansible.builtin.debug:
    msg: "registry.example.com:5000/apps/myapp@{{ pushed.digest }}"
"""

RETURN = r"""
name:
  description: The pushed reference, normalised.
  returned: always
  type: str
  sample: registry.example.com:5000/apps/myapp:1.4
registry:
  description: The registry (V(host[:port]), or V(Docker Hub)).
  returned: success
  type: str
  sample: registry.example.com:5000
image_id:
  description: The ID of the local image.
  returned: success
  type: str
  sample: sha256:3c0e6ddc3ea5e4e4b2a4e0f1ab6f0b4f6a1f1c6e0d2a4b5c6d7e8f9a0b1c2d3e
digest:
  description: The manifest digest of the image in the registry (V(null) in check mode when a push is needed).
  returned: success
  type: str
  sample: sha256:52a7b2e9e5e1f0d0c6fbd4d4e1bd3c25c2d4f7aa4ad0a8b3d1c7f0e9b8a7c6d5
image:
  description: The inspect object of the local image (C(docker image inspect)), as community.docker returns it.
  returned: success
  type: dict
actions:
  description: C(Pushed image <name>) when the image was (in check mode, would be) pushed; empty when the registry already held it.
  returned: success
  type: list
  elements: str
foreign_layers:
  description: How many layers of the registry's manifest are marked non-distributable (foreign).
  returned: success
  type: int
  sample: 0
job:
  description: How the detached push job went.
  returned: when a push ran
  type: dict
  contains:
    reattached:
      description: Whether the task found the job already running (after a dropped connection or a killed controller).
      type: bool
    progress:
      description: The last progress line shown.
      type: str
diff:
  description: With C(--diff), the tag's digest in the registry before and after.
  returned: success and diff mode
  type: dict
"""
