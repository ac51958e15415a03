# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""wincontainers.images.docker_image_history against the real engine, checked with the Docker SDK."""

from __future__ import annotations

from datetime import datetime, timezone

from lifecycle_support import exec_count, own_image

PREFIX = "wct3/history-"


def test_history_matches_the_engine(run_playbook, docker_client, repo):
    image = own_image(docker_client, repo, "1", "history-test")
    expected = docker_client.api.history(image.id)
    tasks = [
        {"name": "history", "wincontainers.images.docker_image_history": {"name": repo + ":1"}},
        {"name": "missing", "wincontainers.images.docker_image_history": {"name": repo + ":none"}, "ignore_errors": True},
        {"name": "bad", "wincontainers.images.docker_image_history": {"name": "BAD"}, "ignore_errors": True},
    ]
    for check in (True, False):
        run = run_playbook(tasks, check=check, verbosity=3)
        result = run.task("history")
        assert result["changed"] is False and exec_count(run, "history") == 1
        history = result["result"]["history"]
        assert result["result"]["image_id"] == image.id
        assert len(history) == len(expected) >= 2
        for layer, want in zip(history, expected):
            assert layer["id"] == (None if want["Id"] == "<missing>" else want["Id"])
            assert layer["size"] == want["Size"] and isinstance(layer["size"], int)
            assert layer["created_by"] == want["CreatedBy"]
            assert layer["comment"] == want["Comment"]
            assert layer["created"] == datetime.fromtimestamp(want["Created"], timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert "echo history-test > /wct3-content" in history[0]["created_by"]
        assert run.task("missing")["failed"] is True
        assert run.task("missing")["msg"] == "name: the image '%s:none' was not found on localhost" % repo
        assert run.task("bad")["failed"] is True and run.task("bad")["msg"].startswith("name: 'BAD'")
