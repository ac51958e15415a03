# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only connection: ``local``, except that some polls of a detached job fail as if the
network had dropped. Not part of the collection.

``WC_FLAKY_LOG`` names a file that counts the polls (one line per poll); the polls whose
numbers are listed in ``WC_FLAKY_FAIL`` (comma-separated, from 1) raise
AnsibleConnectionFailure before anything runs, as a dropped WinRM connection does.

``WC_EXCHANGE_LOG`` names a file that gets one JSON line per exec: the command line and the
data sent on its stdin, with the times it started and ended (tests check where a secret travels).
"""

from __future__ import annotations

import json
import os
import time

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.connection.local import Connection as LocalConnection

DOCUMENTATION = r"""
name: wc_flaky
short_description: local connection whose job polls fail on request (wincontainers.images tests only)
description:
  - Runs commands on the controller like C(ansible.builtin.local); the job status polls numbered in
    E(WC_FLAKY_FAIL) fail with a connection error.
author: wincontainers.images developers
options:
  become_success_timeout:
    description: As for C(ansible.builtin.local).
    type: int
    default: 10
    vars:
      - name: ansible_local_become_success_timeout
  become_strip_preamble:
    description: As for C(ansible.builtin.local).
    type: bool
    default: true
    vars:
      - name: ansible_local_become_strip_preamble
  pipelining:
    description: As for C(ansible.builtin.local).
    type: bool
    default: false
"""


def _job_status_program() -> str:
    """What follows "python3 -c" in a job_status exec of the POSIX dialect, which no other
    command contains (test_posix_scripts checks it)."""
    from ansible_collections.wincontainers.images.plugins.plugin_utils.posix_scripts import PROGRAMS

    return PROGRAMS["job_status"]


class Connection(LocalConnection):
    transport = "wc_flaky"

    def exec_command(self, cmd, in_data=None, sudoable=True):
        log = os.environ.get("WC_FLAKY_LOG")
        if log and _job_status_program() in cmd:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write("poll\n")
            with open(log, encoding="utf-8") as handle:
                number = handle.read().splitlines().count("poll")
            failing = {int(n) for n in os.environ.get("WC_FLAKY_FAIL", "").split(",") if n.strip()}
            if number in failing:
                with open(log, "a", encoding="utf-8") as handle:
                    handle.write("dropped\n")
                raise AnsibleConnectionFailure("wc_flaky: simulated connection drop at poll %d" % number)
        started = time.time()
        outcome = super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        exchange = os.environ.get("WC_EXCHANGE_LOG")
        if exchange:
            record = {"time": started, "done": time.time(), "cmd": cmd,
                      "stdin": (in_data or b"").decode("utf-8", "replace")}
            with open(exchange, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
        return outcome
