# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/docker_commit.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_commit
short_description: Create an image from a container's changes, idempotently
version_added: 0.1.0
description:
  - Creates an image from a container (workflow S10, C(docker commit)), for example a Windows Server Core container in
    which IIS was installed, and names it O(repository).
  - B(Idempotent by provenance.) Every image the module commits carries two labels,
    C(io.wincontainers.images.commit.container) (the container's full ID) and C(io.wincontainers.images.commit.fingerprint)
    (a sha256 over the container's ID, its image, its configuration (C(docker container inspect) C(Config)), the list of
    its filesystem changes (C(docker container diff)), the size of its writable layer, and the O(changes), O(message)
    and O(author) of the task). When O(repository) already names an image with the same two labels, the container has
    not changed since that commit and the task reports no change without committing again.
  - The fingerprint sees which files were added, changed or deleted and the total size of the container's writable
    layer; a later edit of a file that was already changed and that keeps the layer's size is not seen. Use O(force)
    to commit in any case.
  - Windows cannot commit a running container (Hyper-V or process isolation). On a Windows engine the task fails with a
    clear message when the container runs, unless O(stop_running=true) lets it stop the container first.
  - Instructions in O(changes) reach Docker unchanged, quotes, brackets and non-ASCII characters included, on Windows
    (the command line is built by the MSVC rules, not by PowerShell) and on Linux.
  - One round trip to the host when nothing changes, two when it commits (three on Windows when it must stop the
    container first).
author:
  - wincontainers.images developers (@wincontainers)
options:
  container:
    description:
      - Name or ID of the container to commit.
      - A name as Docker allows them (a letter or digit, then at least one more letter, digit, C(_), C(.) or C(-);
        a leading C(/) is accepted) or an ID (lowercase hex digits, in full or a unique prefix). Anything else, such
        as a value starting with C(-) that docker would read as one of its own flags, is refused before anything runs.
    type: str
    required: true
  repository:
    description:
      - The name of the new image, V(repository) or V(repository:tag) (V(latest) when no tag is given).
    type: str
    required: true
  message:
    description:
      - Commit message (C(docker commit --message)), shown as the comment of the new layer in the image's history.
    type: str
  author:
    description:
      - Author of the new image (C(docker commit --author)), for example V(Jane Doe <jane@example.com>).
    type: str
  changes:
    description:
      - Dockerfile instructions applied to the new image's configuration (C(docker commit --change)), one per item.
      - Only C(CMD), C(ENTRYPOINT), C(ENV), C(EXPOSE), C(LABEL), C(ONBUILD), C(USER), C(VOLUME) and C(WORKDIR) are
        allowed (keyword in any case); anything else, a line break, or a trailing C(\) line continuation is refused
        before anything runs.
      - Labels under C(io.wincontainers.images.commit.) are reserved for the provenance labels.
      - Each instruction is at most 65,535 bytes (UTF-8), as Docker reads each as one line of a Dockerfile and refuses
        longer ones; a longer one is refused before anything runs.
    type: list
    elements: str
    default: []
  pause:
    description:
      - Pause the container while it is committed (Linux engines; Windows never commits a running container).
    type: bool
    default: true
  force:
    description:
      - Commit even when O(repository) already names an image committed from the same container in the same state.
    type: bool
    default: false
  stop_running:
    description:
      - On a Windows engine, stop the container (C(docker container stop)) when it runs, then commit it.
      - Without it, committing a running container on Windows fails with a clear message. Linux engines commit running
        containers (paused, see O(pause)), so this option does nothing there.
    type: bool
    default: false
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.attributes.CHANGING_MODULE
seealso:
  - module: wincontainers.images.docker_image_tag
  - module: wincontainers.images.docker_image_history
"""

EXAMPLES = r"""
- name: Save the container in which IIS was installed as windowsservercoreiis (S10)
  wincontainers.images.docker_commit:
    container: iis-build
    repository: windowsservercoreiis
    stop_running: true

- name: Commit with a start command, a label and an author
  wincontainers.images.docker_commit:
    container: app-build
    repository: registry.example.com/apps/web:1.4
    author: Build Team <build@example.com>
    message: web application 1.4
    changes:
      - 'CMD ["C:\\app\\web.exe", "--port=8080"]'
      - 'LABEL org.opencontainers.image.version="1.4"'
      - EXPOSE 8080
"""

RETURN = r"""
image:
  description:
    - The inspect object of the image O(repository) names after the task (the new image, or the existing one when
      nothing changed).
    - V(null) in check mode when an image would be committed.
  returned: success
  type: dict
image_id:
  description: The ID of RV(image).
  returned: success
  type: str
  sample: sha256:3c0e6ddc3ea5e4e4b2a4e0f1ab6f0b4f6a1f1c6e0d2a4b5c6d7e8f9a0b1c2d3e
container_id:
  description: The full ID of the container.
  returned: success
  type: str
fingerprint:
  description:
    - The provenance fingerprint of the container's state and of the requested commit (the value of the
      C(io.wincontainers.images.commit.fingerprint) label).
    - V(null) in check mode when the container would first be stopped.
  returned: success
  type: str
stopped:
  description: Whether the task stopped the container (O(stop_running) on a Windows engine).
  returned: success
  type: bool
diff:
  description: With C(--diff), the image ID O(repository) named before and after.
  returned: success and diff mode
  type: dict
  sample:
    before:
      image_id: null
    after:
      image_id: sha256:3c0e6ddc3ea5e4e4b2a4e0f1ab6f0b4f6a1f1c6e0d2a4b5c6d7e8f9a0b1c2d3e
"""
