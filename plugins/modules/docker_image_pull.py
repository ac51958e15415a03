# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/docker_image_pull.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_image_pull
short_description: Pull images to a Windows or Linux Docker host, many at once, surviving long pulls
version_added: 0.1.0
description:
  - Pulls one or more images (workflow S14, C(docker pull)); the tag is V(latest) when a reference has none.
  - Idempotent by image ID. With O(pull=missing) only images that are not on the host are pulled. With O(pull=always)
    every image is pulled, and the task reports a change only for images whose ID changed (an up-to-date image
    reports no change).
  - "Long pulls survive the connection: the Docker daemon cancels a pull when its client disconnects, and a WinRM
    shell that times out would take the client with it. The pulls therefore run as one detached job on the host
    (started through WMI on Windows, in a session of its own on Linux), O(parallel) at a time, with O(retries). The
    module polls the job with short round trips and prints its progress on the controller (layers done, images
    done, elapsed time). If the connection drops, it reconnects and carries on; if the controller dies, running the
    same task again re-attaches to the job that is still pulling. On O(timeout) the task fails and the job keeps
    pulling; the same task run again re-attaches to it."
  - Every image reported as pulled is inspected on the host afterwards; a pull that said it succeeded but left no
    image is a failure. When some pulls fail, the task fails and still reports the images that did arrive (and
    C(changed=true) if any did).
  - One round trip when nothing needs pulling; otherwise one to inspect, the job (start, polls, clean-up) and one to
    inspect again.
author:
  - wincontainers.images developers (@wincontainers)
options:
  name:
    description:
      - The images to pull, as references (V(repository), V(repository:tag), V(repository@digest)), for example
        V(mcr.microsoft.com/windows/servercore:ltsc2022).
      - All of them are pulled by one task, in one job.
    type: list
    elements: str
    required: true
  tag:
    description:
      - The tag of every reference in O(name) that has neither tag nor digest.
      - The Microsoft Container Registry publishes no V(latest) tag for Windows base images; name a tag such as
        V(ltsc2022).
    type: str
    default: latest
  platform:
    description:
      - The platform to pull, V(os[/arch[/variant]]) or an architecture alone (C(docker pull --platform)), for example
        V(windows/amd64), V(linux/arm64/v8), V(arm64).
      - Compared as Docker resolves it. A single word is an operating system when it is one Go knows (V(linux),
        V(windows), ...), otherwise an architecture; the part not given is the engine's own (C(docker version)).
        Aliases and variants are normalised (V(x86_64) and V(x86-64) are V(amd64), V(aarch64) is V(arm64), V(arm64/v8)
        is V(arm64), V(armhf) is V(arm/v7)). An unknown operating system or architecture is refused before anything runs.
      - An image already on the host for another platform counts as missing, also in check mode with O(pull=always).
    type: str
  pull:
    description:
      - V(missing) pulls only images that are not on the host (or not for O(platform)). V(not_present) is the same
        (community.docker's name for it).
      - V(always) pulls every image, to get the registry's current image for each tag. A reference with a digest
        names one image for good, so it is not pulled again when it is on the host.
      - The default is V(missing); community.docker's M(community.docker.docker_image_pull) defaults to V(always).
    type: str
    choices: [always, missing, not_present]
    default: missing
  parallel:
    description:
      - How many pulls run at the same time (1 to 32). The Docker daemon itself downloads at most three layers at once
        by default.
    type: int
    default: 3
  retries:
    description:
      - How many times a failed pull is started again before the task fails.
    type: int
    default: 2
  config_path:
    description:
      - The Docker client configuration directory whose credentials the pulls use (E(DOCKER_CONFIG)), as given to
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
  - In check mode, images that are missing (or not for O(platform)) are reported as changing. With O(pull=always) the module also asks the
    registry (C(docker manifest inspect)) whether each present image is still what its tag names, and predicts a
    change only when it is not.
  - A pull that fails for one image (unknown tag, no matching manifest for the host's Windows build, denied access)
    fails the task with the error of each failed image; images pulled by the same task are still reported, with
    RV(images[].changed).
  - The progress lines come from the output of C(docker pull); the results come from C(docker image inspect).
seealso:
  - module: wincontainers.images.docker_login
  - module: wincontainers.images.docker_image_info
"""

EXAMPLES = r"""
- name: Pull the base images of a Windows Server 2022 host (one task, one job)
  wincontainers.images.docker_image_pull:
    name:
      - mcr.microsoft.com/windows/servercore:ltsc2022
      - mcr.microsoft.com/windows/nanoserver:ltsc2022
    timeout: 7200

- name: Keep application images current
  wincontainers.images.docker_image_pull:
    name: "{{ app_images }}"
    pull: always
    parallel: 4
    retries: 3

- name: Pull from a private registry with the credentials of docker_login's config_path
  wincontainers.images.docker_image_pull:
    name: registry.example.com/apps/web:1.4
    config_path: C:\ProgramData\ansible\docker-config
"""

RETURN = r"""
images:
  description: One entry per image of O(name), in order.
  returned: always
  type: list
  elements: dict
  contains:
    reference:
      description: The reference, normalised (with its tag).
      type: str
      sample: mcr.microsoft.com/windows/servercore:ltsc2022
    id:
      description: The image ID on the host after the task (V(null) when the image is not there).
      type: str
      sample: sha256:3c0e6ddc3ea5e4e4b2a4e0f1ab6f0b4f6a1f1c6e0d2a4b5c6d7e8f9a0b1c2d3e
    digest:
      description: The image's manifest digest in the reference's repository (V(null) for an image built locally).
      type: str
      sample: sha256:52a7b2e9e5e1f0d0c6fbd4d4e1bd3c25c2d4f7aa4ad0a8b3d1c7f0e9b8a7c6d5
    changed:
      description: Whether the image appeared or its ID changed (in check mode, would).
      type: bool
    pulled:
      description: Whether this task's C(docker pull) of the image succeeded and the image is on the host now.
      type: bool
image:
  description:
    - The inspect object of the image after the task (C(docker image inspect)), as community.docker returns it; an
      empty dict when the image is not on the host (in check mode, before a pull).
  returned: success, when O(name) names one image
  type: dict
actions:
  description: One line per pull that ran (in check mode, that would run), C(Pulled image <reference>).
  returned: success
  type: list
  elements: str
  sample:
    - Pulled image mcr.microsoft.com/windows/servercore:ltsc2022
missing:
  description: In check mode, the images that are not on the host.
  returned: check mode
  type: list
  elements: str
failed_images:
  description: The images whose pull failed.
  returned: when some pulls failed
  type: list
  elements: str
job:
  description: How the detached job went.
  returned: when a job ran
  type: dict
  contains:
    reattached:
      description: Whether the task found the job already running (after a dropped connection or a killed controller).
      type: bool
    progress:
      description: The last progress line shown.
      type: str
diff:
  description:
    - Whether each image existed and its ID, before and after, in community.docker's shape. C(before.images) and
      C(after.images) map each reference to C(exists) and C(id); when O(name) names one image, its C(exists) and
      C(id) are also at the top of C(before) and C(after).
    - In check mode, an image that would change has the ID V(unknown) after.
    - Returned always, as community.docker does, not only with C(--diff).
  returned: success
  type: dict
  sample:
    before: {exists: false, images: {"mcr.microsoft.com/windows/servercore:ltsc2022": {exists: false}}}
    after:
      exists: true
      id: sha256:3c0e6ddc3ea5e4e4b2a4e0f1ab6f0b4f6a1f1c6e0d2a4b5c6d7e8f9a0b1c2d3e
      images:
        "mcr.microsoft.com/windows/servercore:ltsc2022":
          exists: true
          id: sha256:3c0e6ddc3ea5e4e4b2a4e0f1ab6f0b4f6a1f1c6e0d2a4b5c6d7e8f9a0b1c2d3e
"""
