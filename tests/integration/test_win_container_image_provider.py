# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""win_container_image_provider is Windows-only (PackageManagement): on the local Linux host it
must fail clearly without running anything. Its behaviour (idempotent install and removal, check
mode, the retirement warning) is covered by tests/contract/test_win_container_image_provider.py."""

from __future__ import annotations

MODULE = "wincontainers.images.win_container_image_provider"


def test_refused_on_linux_hosts_and_bad_input(run_playbook):
    run = run_playbook([
        {"name": "install", MODULE: {}, "ignore_errors": True},
        {"name": "check", MODULE: {}, "check_mode": True, "ignore_errors": True},
        {"name": "bad name", MODULE: {"name": "Container Image"}, "ignore_errors": True},
        {"name": "bad version", MODULE: {"version": "latest"}, "ignore_errors": True},
        {"name": "built-in", MODULE: {"name": "PowerShellGet", "state": "absent"}, "ignore_errors": True},
    ], extra_args=["-vvv"])
    run.assert_recap(changed=0)
    assert "PackageManagement providers exist on Windows hosts only" in run.task("install")["msg"]
    assert "PackageManagement providers exist on Windows hosts only" in run.task("check")["msg"]
    assert "name: 'Container Image' is not a PackageManagement provider name" in run.task("bad name")["msg"]
    assert "version: 'latest' is not a provider version" in run.task("bad version")["msg"]
    assert "PowerShellGet is a provider that ships with Windows PowerShell" in run.task("built-in")["msg"]
    assert "EXEC " not in run.stdout
