# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only connection: ``local``, but some execs fail as if the connection had dropped.

Not part of the collection. tests/integration enables it with ANSIBLE_CONNECTION_PLUGINS and
``connection: wc_flaky_local``. The execs are counted across the whole run in the file named by
``WC_FLAKY_STATE`` (one line per exec, in order: the exec number and the operation it carried,
or "dropped"/"dropped-after"):

* ``WC_FLAKY_FAIL``: exec numbers (``3,4``) that fail before running, as a connection that is
  already gone;
* ``WC_FLAKY_FAIL_AFTER``: exec numbers that run on the host and then fail, as a connection
  that drops before the answer arrives.

Both raise ``AnsibleConnectionFailure``, as the winrm, psrp and ssh plugins do.
"""

from __future__ import annotations

import os
import shlex

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.connection import local

DOCUMENTATION = local.DOCUMENTATION.replace("name: local", "name: wc_flaky_local", 1)


def _numbers(name: str) -> set[int]:
    return {int(part) for part in os.environ.get(name, "").split(",") if part.strip()}


def _operation(cmd: str) -> str:
    """Which constant script of the collection the exec runs (``python3 -c PROGRAM``)."""
    from ansible_collections.wincontainers.images.plugins.plugin_utils.posix_scripts import PROGRAMS

    text = cmd
    for _level in range(3):  # the action wraps the dialect's command in "/bin/sh -c '...'"
        try:
            words = shlex.split(text)
        except ValueError:
            return "unknown"
        for name, program in PROGRAMS.items():
            if words[-1:] == [program]:
                return name
        if not words:
            break
        text = words[-1]
    return "unknown"


class Connection(local.Connection):
    transport = "wc_flaky_local"

    def exec_command(self, cmd, in_data=None, sudoable=True):
        state = os.environ.get("WC_FLAKY_STATE")
        if not state:
            return super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        with open(state, "a+", encoding="utf-8") as handle:
            handle.seek(0)
            number = len(handle.read().splitlines()) + 1
            operation = _operation(cmd)
            if number in _numbers("WC_FLAKY_FAIL"):
                handle.write("%d %s dropped\n" % (number, operation))
                raise AnsibleConnectionFailure("wc_flaky_local: the connection dropped before exec %d" % number)
            if number in _numbers("WC_FLAKY_FAIL_AFTER"):
                handle.write("%d %s dropped-after\n" % (number, operation))
            else:
                handle.write("%d %s\n" % (number, operation))
        result = super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        if number in _numbers("WC_FLAKY_FAIL_AFTER"):
            raise AnsibleConnectionFailure("wc_flaky_local: the connection dropped during exec %d" % number)
        return result
