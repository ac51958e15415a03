# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option and notes of every module that runs a detached job on the host."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  timeout:
    description:
      - Seconds the task waits for its detached job on the host. When the job takes longer, the task fails and
        the job B(keeps running) on the host; running the same task again re-attaches to it and reports its
        result. Windows Server Core and Server images are several GB; allow for that.
    type: int
    default: 3600
notes:
  - "The long operation runs as a detached job on the host (started through WMI on Windows, in a session of its own
    on Linux), so a dropped connection or a killed controller does not cancel it; running the same task again
    while the job runs re-attaches to it. A job that finished while no task watched it is never reported by
    another run; it is discarded and the work is done again. The job's files live in a directory only the
    connecting user can reach (C(~/.ansible/wincontainers.images-jobs) on Linux,
    C(%ProgramData%\\wincontainers.images\\jobs) with a protected ACL on Windows); the module refuses to use one
    that another user could have created or changed."
"""
