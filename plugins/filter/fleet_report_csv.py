# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter wincontainers.images.fleet_report_csv: the rows of a fleet report (fleet_report.py) as CSV text.

A file of its own, so that its documentation is Python beside it (one filter per file, as ansible-doc reads them).
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.filter.fleet_report import fleet_report_csv

DOCUMENTATION = r"""
name: fleet_report_csv
author:
  - wincontainers.images developers
version_added: 0.1.0
short_description: The rows of a fleet report as CSV text
description:
  - One line per image of every host (a host without images, or that could not be read, gets one line), with the
    host's build and engine and the image's kind, references, ID, OS version, build, revision, size and status.
options:
  _input:
    description: The result of P(wincontainers.images.fleet_report#filter).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Write the CSV report
  ansible.builtin.copy:
    content: "{{ report | wincontainers.images.fleet_report_csv }}"
    dest: /srv/reports/fleet-report.csv
    mode: "0644"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
_value:
  description: CSV text with a header line.
  type: str
"""


class FilterModule:
    """wincontainers.images fleet report as CSV."""

    def filters(self) -> dict[str, Any]:
        return {"fleet_report_csv": fleet_report_csv}
