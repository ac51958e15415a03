# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attributes and notes shared by every module of the collection."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
requirements:
  - The C(docker) CLI on the managed host (on Windows, on C(PATH) or in C(%ProgramFiles%\\Docker)), talking to a running
    Docker engine.
  - On Linux hosts, Python 3 on the managed host (as for any Ansible module).
notes:
  - This module is an action plugin that runs on the controller. It sends the host one small constant script per
    round trip (PowerShell on Windows, Python on Linux) with every variable value as a line of JSON on standard input,
    so nothing needs to be compiled or copied to the host.
  - Windows hosts are reached with C(ansible.builtin.winrm), C(ansible.builtin.psrp) or C(ansible.builtin.ssh)
    (shell C(powershell) or C(cmd)); Linux Docker hosts with C(ansible.builtin.local) or C(ansible.builtin.ssh).
  - Option values are checked on the controller before anything runs on the host, and the error names the option
    (never the value of a secret). A list, a dict, a boolean or a number with a decimal point given for a string
    option is refused rather than turned into its text (quote such values in YAML; C(1.10) unquoted is the number
    1.1); paths must be absolute for the host; a value too long for a command line on the host (32,767 characters on
    Windows, 131,071 bytes per argument on Linux) is refused.
attributes:
  action:
    description: Runs as an action plugin on the controller.
    support: full
  action_group:
    description: Use C(group/wincontainers.images.docker) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - wincontainers.images.docker
  async:
    description: Supports being used with the C(async) keyword.
    support: none
  platform:
    description: Target operating systems the module runs against.
    support: full
    platforms: [posix, windows]
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the same data; it never changes anything.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: N/A
    details: This module never changes anything.
  idempotent:
    description: Running the module twice with the same arguments gives the same result and changes nothing.
    support: full
"""

    CHANGING_MODULE = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return a changed status prediction without modifying the host.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
  idempotent:
    description: A second run with the same arguments reports no change and does nothing.
    support: full
"""
