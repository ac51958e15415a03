# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport contract of wincontainers.images.docker_image_history over winrm, psrp and ssh."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract_harness import TRANSPORTS, recorded_image
from fake_windows_host import RECORDED

MODULE = "wincontainers.images.docker_image_history"
WEBAPP = "registry.contoso.test/apps/webapp:1.4.2"
WEBAPP_ID = recorded_image("webapp_1.4.2.json")["Id"]
HISTORY_ARGV = ["image", "history", "--no-trunc", "--human=false", "--format", "{{json .}}", "--", WEBAPP]
ROWS = Path(RECORDED / "lifecycle" / "history_webapp_1.4.2.jsonl").read_text(encoding="utf-8")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_history_is_one_exec_with_normalised_values(make_windows_host, transport: str) -> None:
    host = make_windows_host(transport, answers=[
        {"argv": HISTORY_ARGV, "rc": 0, "stdout": ROWS},
        {"argv": HISTORY_ARGV[:-1] + ["registry.contoso.test/apps/webapp:9.9"], "rc": 1,
         "stderr": "Error response from daemon: No such image: registry.contoso.test/apps/webapp:9.9\n"},
    ])
    run = host.run([
        {"name": "history", MODULE: {"name": WEBAPP}},
        {"name": "missing", MODULE: {"name": "registry.contoso.test/apps/webapp:9.9"}, "ignore_errors": True},
    ], check=True)
    history, missing = run.tasks
    assert history.status == "ok" and not history.changed, history.msg
    assert history.execs == 1
    assert history.exchanges[0].argvs == [["image", "inspect", "--", WEBAPP], HISTORY_ARGV]
    assert history.result["image_id"] == WEBAPP_ID
    layers = history.result["history"]
    assert [layer["id"] for layer in layers] == [WEBAPP_ID, None, None, None, None]
    assert [layer["size"] for layer in layers] == [0, 0, 62914560, 6349615, 4969498339]
    assert [layer["created"] for layer in layers] == [
        "2026-10-14T09:12:44Z", "2026-10-14T09:12:40Z", "2026-10-14T09:12:31Z", "2026-10-14T09:10:02Z",
        "2024-11-07T22:49:13Z"]
    assert layers[0]["created_by"] == 'powershell -Command #(nop)  CMD ["powershell" "-Command" "C:\\\\app\\\\start.ps1"]'
    assert layers[4]["created_by"] == "Apply image 10.0.20348.2849" and layers[4]["comment"] == ""
    assert missing.failed and missing.execs == 1
    assert missing.msg == "name: the image 'registry.contoso.test/apps/webapp:9.9' was not found on win2022-docker01"
