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
  - With O(src), the archive is first copied from the controller to O(path) over the task's own connection (the
    C(put_file) of ansible-core's C(winrm), C(psrp), C(ssh) and C(local) connection plugins; no other collection is
    needed), but only when the host's file at O(path) does not already have the sha256 of O(src). This is the way to
    reach Windows hosts whose session cannot open a share (the "second hop", see the notes).
  - B(Idempotent.) When every image of the archive's C(manifest.json) is already present with the same ID and tags, the
    task reports no change and loads nothing.
  - The manifest is read with C(tar) before anything is loaded (Windows has C(tar.exe) from Windows 10 1803 and Windows
    Server 2019 on; on Windows Server 2016 the task fails clearly). C(tar) reads the archive to its end, so a missing,
    truncated or foreign file fails the task with a clear message and changes nothing.
  - C(docker load) of a multi-GB base image takes minutes; it runs as a detached job on the host, outside the WinRM
    shell, and the task polls it. When the connection drops, the job goes on, and running the task again attaches to
    it instead of starting another.
  - Two round trips to the host when nothing changes (the second reads the inspect objects of the archive's images,
    whose IDs the first one read from the archive); one with O(src), whose IDs are read on the controller.
author:
  - wincontainers.images developers (@wincontainers)
options:
  path:
    description:
      - Absolute path of the archive on the host, for example V(C:\\images\\servercore-ltsc2022.tar).
      - With O(src), where the copy is put; its directory must exist.
    type: str
    required: true
  src:
    description:
      - An archive on the controller to copy to O(path) first. A relative path is looked up in the role's or the
        playbook's C(files/) directory, as M(ansible.builtin.copy) does.
      - Checked on the controller before anything runs on the host (it must exist, be a readable file and be a
        C(docker save) archive, whose C(manifest.json) is then read on the controller, so the host needs no C(tar)).
      - The copy is skipped when the host's file at O(path) already has the same sha256 (the controller hashes O(src) on
        every run, a few seconds per GB). Otherwise O(src) is sent in chunks of 64 MiB, one C(put_file) each, with a
        progress line per chunk; the chunks are joined on the host into a temporary file, which replaces O(path) only
        once its sha256 and size are those of O(src). An interrupted copy never leaves a partial file under O(path), and
        running the task again sends only the chunks the host does not already hold.
      - In check mode nothing is copied; the task reports whether the copy (and the load) would happen.
    type: path
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.host_job
  - wincontainers.images.attributes.CHANGING_MODULE
notes:
  - "Shares and the second hop: a WinRM or PSRP session authenticated with NTLM, or with Kerberos without delegation,
    cannot use its credentials for a second hop, so C(docker load) of a C(\\\\server\\share) path (and the job that
    runs it, which WMI starts with the session's token) gets C(Access is denied). Use O(src) there. With CredSSP or
    Kerberos (resource-based) constrained delegation a share works too. Reading the share as SYSTEM (the computer
    account) is not implemented."
  - "O(src) is sent through the connection: WinRM and PSRP carry it base64-encoded in SOAP messages, a few to a few tens
    of MB/s; SSH (SFTP) is much faster. See C(benchmarks/archive_copy.py)."
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

# The archive is on the controller: copy it over the task's connection (only when the host's
# file differs), then load it.
- name: Copy the archive to the host and load it (S7)
  wincontainers.images.docker_image_load:
    src: /srv/offline-images/servercore-ltsc2022.tar
    path: C:\ProgramData\servercore-ltsc2022.tar

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
  description:
    - The inspect objects of the archive's images on the host after the task (C(docker image inspect)), in the order of
      the archive, as community.docker returns them. In check mode, images still to be loaded are not among them.
  returned: success
  type: list
  elements: dict
archive_images:
  description: The images of the archive, each with its ID and the tags the archive gives it.
  returned: success
  type: list
  elements: dict
  sample:
    - id: sha256:3c0e6ddc3ea5e4e4b2a4e0f1ab6f0b4f6a1f1c6e0d2a4b5c6d7e8f9a0b1c2d3e
      tags: [mcr.microsoft.com/windows/servercore:ltsc2022]
stdout:
  description: What C(docker load) printed.
  returned: when images were loaded
  type: str
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
copied:
  description: Whether O(src) was copied to O(path) (in check mode, whether it would be).
  returned: when O(src) is given
  type: bool
sha256:
  description: The sha256 of O(src), which the host's file at O(path) has after the task.
  returned: when O(src) is given
  type: str
size:
  description: The size of O(src) in bytes.
  returned: when O(src) is given
  type: int
transfer:
  description:
    - How the copy went, when one was made. RV(transfer.chunks) is the number of chunks of O(src),
      RV(transfer.chunks_sent) how many were sent, RV(transfer.chunks_kept) how many an interrupted earlier copy had
      already left on the host, RV(transfer.bytes_sent) and RV(transfer.seconds) what was sent and how long it took.
  returned: when O(src) was copied
  type: dict
  sample: {chunks: 57, chunks_sent: 57, chunks_kept: 0, bytes_sent: 3778019840, seconds: 412.5}
  contains:
    chunks:
      description: The number of chunks of O(src).
      type: int
    chunks_sent:
      description: How many chunks were sent.
      type: int
    chunks_kept:
      description: How many chunks an interrupted earlier copy had already left on the host.
      type: int
    bytes_sent:
      description: The bytes sent.
      type: int
    seconds:
      description: How long the copy took.
      type: float
job:
  description: The detached job that loaded the archive, when one ran.
  returned: when images were loaded
  type: dict
diff:
  description:
    - With C(--diff), the tags each image of the archive had on the host before (V(null) when absent) and after.
    - With O(src), also C(archive), the sha256 and size of the host's file at O(path) before (V(null) when absent) and
      after.
  returned: success and diff mode
  type: dict
"""
