# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/docker_image_load.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_image_load
short_description: Load images from an archive on the host, for offline installs
version_added: 0.1.0
description:
  - Loads the images of a C(docker save) archive that is on the managed host (C(docker load)), the modern form of the
    offline install of workflow S7.
  - B(Idempotent.) When every image of the archive's C(manifest.json) is already present with the same ID and tags, the
    task reports no change and loads nothing.
  - The manifest is read with C(tar) before anything is loaded (Windows has C(tar.exe) from Windows 10 1803 and Windows
    Server 2019 on; on Windows Server 2016 the task fails clearly). C(tar) reads the archive to its end, so a missing,
    truncated or foreign file fails the task with a clear message and changes nothing.
  - C(docker load) of a multi-GB base image takes minutes; it runs as a detached job on the host, outside the WinRM
    shell, and the task polls it. When the connection drops, the job goes on, and running the task again attaches to
    it instead of starting another.
  - One round trip to the host when nothing changes.
author:
  - wincontainers.images developers (@wincontainers)
options:
  path:
    description:
      - Absolute path of the archive on the host, for example V(C:\\images\\servercore-ltsc2022.tar).
    type: str
    required: true
extends_documentation_fragment:
  - wincontainers.images.attributes
  - wincontainers.images.host_job
  - wincontainers.images.attributes.CHANGING_MODULE
seealso:
  - module: wincontainers.images.docker_image_export
"""

EXAMPLES = r"""
# The archive was written by wincontainers.images.docker_image_export on a connected host
# and copied to the offline host (for example with ansible.windows.win_copy).
- name: Install the Server Core base image from the archive (S7)
  wincontainers.images.docker_image_load:
    path: C:\images\servercore-ltsc2022.tar
  register: loaded

- name: Name it windowsservercore:latest (S6)
  wincontainers.images.docker_image_tag:
    name: mcr.microsoft.com/windows/servercore:ltsc2022
    repository:
      - windowsservercore
"""

RETURN = r"""
path:
  description: The archive's path.
  returned: success
  type: str
images:
  description: The images of the archive, each with its ID and the tags the archive gives it.
  returned: success
  type: list
  elements: dict
  sample:
    - id: sha256:3c0e6ddc3ea5e4e4b2a4e0f1ab6f0b4f6a1f1c6e0d2a4b5c6d7e8f9a0b1c2d3e
      tags: [mcr.microsoft.com/windows/servercore:ltsc2022]
image_names:
  description: The tags of the archive's images, and the IDs of its untagged images.
  returned: success
  type: list
  elements: str
loaded:
  description: What C(docker load) reported loading (tags, or IDs of untagged images); empty when nothing was loaded.
  returned: success
  type: list
  elements: str
job:
  description: The detached job that loaded the archive, when one ran.
  returned: when images were loaded
  type: dict
diff:
  description: With C(--diff), the tags each image of the archive had on the host before (V(null) when absent) and after.
  returned: success and diff mode
  type: dict
"""
