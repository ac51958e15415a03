# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/docker_image_export.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_image_export
short_description: Save images to an archive on the host, for offline installs
version_added: 0.1.0
description:
  - Writes images to a C(docker save) archive on the managed host, the modern form of workflow S7 (save on a connected
    machine, copy, install on an offline host with M(wincontainers.images.docker_image_load)).
  - B(Idempotent.) An existing archive whose C(manifest.json) lists exactly the same image IDs, under every name asked
    for, is left alone. The manifest is read with C(tar), which Windows has from Windows 10 1803 and Windows
    Server 2019 on; on Windows Server 2016 comparing an existing archive fails clearly (use O(force)).
  - The archive is written to C(<path>.partial-<token>) and renamed to O(path) once complete, so an interrupted export
    never leaves a file at O(path) that looks complete.
  - C(docker save) of a multi-GB base image takes minutes; it runs as a detached job on the host, outside the WinRM
    shell, and the task polls it. When the connection drops, the job goes on, and running the task again attaches to
    it instead of starting another.
  - One round trip to the host when nothing changes.
author:
  - wincontainers.images developers (@wincontainers)
options:
  names:
    description:
      - The images to save, as references (V(repository), V(repository:tag)) or image IDs.
      - A reference without tag or digest gets O(tag). Images saved by reference keep that name in the archive.
    type: list
    elements: str
    required: true
    aliases: [name]
  tag:
    description:
      - Tag used for every reference in O(names) without tag or digest.
    type: str
    default: latest
  path:
    description:
      - Absolute path of the archive on the host, for example V(C:\\images\\servercore-ltsc2022.tar). Its directory
        must exist.
    type: str
    required: true
  force:
    description:
      - Write the archive even when an archive with the same images exists at O(path).
    type: bool
    default: false
  platform:
    description:
      - Save only this platform of the images (C(docker save --platform)), V(os[/arch[/variant]]) or an architecture
        alone, for example V(linux/amd64), V(linux/arm64). Checked like M(wincontainers.images.docker_image_pull)'s
        O(wincontainers.images.docker_image_pull#module:platform) before anything runs.
      - Needs Docker 28 (API 1.48) on the host; an older engine or CLI fails the task with a message that says so.
      - Whether an existing archive holds the images is decided by image IDs and names, as without O(platform).
    type: str
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.host_job
  - wincontainers.images.attributes.CHANGING_MODULE
seealso:
  - module: wincontainers.images.docker_image_load
"""

EXAMPLES = r"""
- name: Save the Server Core base image for an offline host (S7)
  wincontainers.images.docker_image_export:
    names:
      - mcr.microsoft.com/windows/servercore:ltsc2022
    path: C:\images\servercore-ltsc2022.tar
  register: archive

- name: Fetch the archive to the controller
  ansible.builtin.fetch:
    src: C:\images\servercore-ltsc2022.tar
    dest: files/
    flat: true
    checksum: false
"""

RETURN = r"""
path:
  description: The archive's path.
  returned: success
  type: str
sha256:
  description: The archive's sha256 (V(null) in check mode when it would be written).
  returned: success
  type: str
size:
  description: The archive's size in bytes (V(null) in check mode when it would be written).
  returned: success
  type: int
images:
  description: The inspect objects of the saved images, one per name of O(names), in order (as community.docker returns them).
  returned: success
  type: list
  elements: dict
image_ids:
  description: The IDs of the saved images, each once.
  returned: success
  type: list
  elements: str
job:
  description: The detached job that wrote the archive, when one ran (C(reattached) tells whether the task found it
    already running).
  returned: when the archive was written
  type: dict
  sample:
    id: 3f1c0e4b9a7d2e6f8a1b3c5d7e9f0a2b
    reattached: false
    elapsed: 142.5
diff:
  description: With C(--diff), the image IDs in the archive before (V(null) when there was no readable archive) and after.
  returned: success and diff mode
  type: dict
"""
