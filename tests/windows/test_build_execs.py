# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The execs of the Windows suite, checked on any platform (they run only on Windows).

* every builder has an example, and every example is an exec the collection could send: the
  constant command line, stdin whose first line is one of ``powershell_scripts.SCRIPTS`` and
  whose second is the ASCII JSON request, within cmd.exe's and CreateProcess's limits;
* every builder sends, byte for byte, what the collection's own code sends for the same
  arguments (``Host.run``, ``HostJob``, ``lifecycle.file_info``, ``base_images.read_host``,
  the ``docker_login`` action), driven here through a real ``Host`` on a Windows shell whose
  execs are recorded and answered. These imports need ansible-core: on a Windows machine
  without it, that part skips (the Linux run is the one that counts).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest

import build_execs
from build_execs import BUILDERS, EXAMPLES, Exec, check_exec, example, exec_problems

HERE = Path(__file__).resolve().parent


def test_every_builder_has_an_example() -> None:
    assert set(EXAMPLES) == set(BUILDERS)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_example_is_an_exec_the_collection_could_send(name: str) -> None:
    ex = check_exec(example(name))
    assert ex.builder == name and ex.command == build_execs.WINDOWS_COMMAND
    assert build_execs.utf16_length(ex.command) <= build_execs.CMD_EXE_LIMIT
    script, request, end = ex.stdin.decode("ascii").split("\n")
    assert end == "" and build_execs.inflate_payload(script) == build_execs.powershell_scripts.SCRIPTS[ex.operation]
    assert request.isascii() and json.loads(request) == ex.payload


def test_non_ascii_values_travel_escaped_in_the_ascii_request() -> None:
    ex = example("build_with_label")
    assert build_execs.EXAMPLE_LABEL not in ex.stdin.decode("ascii")
    [call] = json.loads(ex.stdin.decode("ascii").split("\n")[1])["calls"]
    assert build_execs.EXAMPLE_LABEL in call["cmdline"] and build_execs.EXAMPLE_LABEL in call["stdin"]


def _tampered(ex: Exec, **changes: Any) -> Exec:
    fields = {"builder": ex.builder, "operation": ex.operation, "payload": ex.payload, "command": ex.command,
              "stdin": ex.stdin, "read": ex.read}
    fields.update(changes)
    return Exec(**fields)


@pytest.mark.parametrize("change, problem", [
    (lambda ex: {"command": ex.command + " & whoami"}, "not the constant bootstrap command"),
    (lambda ex: {"command": ex.command.replace("-NoProfile ", "")}, "not the constant bootstrap command"),
    (lambda ex: {"stdin": base64.b64encode(b"Write-Output 1") + b"\n" + ex.stdin.split(b"\n")[1] + b"\n"},
     "does not inflate to one of powershell_scripts.SCRIPTS"),
    (lambda ex: {"operation": "file_info"}, "not the script of 'file_info'"),
    (lambda ex: {"stdin": ex.stdin.replace(b"version", "v\u00e9rsion".encode("utf-8"))}, "non-ASCII byte"),
    (lambda ex: {"stdin": ex.stdin + b"{}\n"}, "not exactly two lines"),
    (lambda ex: {"payload": {"calls": []}}, "not the exec's payload"),
])
def test_the_check_flags_what_the_collection_never_sends(change: Callable[[Exec], dict[str, Any]], problem: str) -> None:
    ex = example("docker_version")
    assert exec_problems(ex) == []
    problems = exec_problems(_tampered(ex, **change(ex)))
    assert any(problem in p for p in problems), problems


def test_the_check_flags_executables_outside_the_fixed_table() -> None:
    ex = example("unknown_executable")
    assert exec_problems(ex) == []  # this builder sends one on purpose
    assert "a call names 'notepad'" in " ".join(exec_problems(_tampered(ex, builder="docker_version")))


def test_the_builders_need_no_ansible_core() -> None:
    """What runs on the Windows machine imports the collection's dialect, and no ansible-core."""
    from ansible_collections.wincontainers.images.plugins.plugin_utils import dialect

    root = Path(dialect.__file__).parents[5]
    program = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'ansible' or name.startswith('ansible.'):\n"
        "            raise ImportError('ansible-core is not installed here: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
        "import build_execs, run_execs, basic_auth_registry\n"
        "print(sorted(build_execs.BUILDERS) == sorted(build_execs.EXAMPLES))\n"
    )
    done = subprocess.run([sys.executable, "-c", program, str(root), str(HERE)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr


# --- the collection's own requests ----------------------------------------------------------------


def collection_host() -> Any:
    """The collection's host module (its ``Host`` and ``Call``); a skip without ansible-core."""
    return pytest.importorskip("ansible_collections.wincontainers.images.plugins.plugin_utils.host",
                               reason="comparing with the collection's own requests needs ansible-core")


class RecordingAction:
    """What ``Host`` uses of an action plugin: a Windows shell and an exec that is recorded and
    answered by ``answer(operation, request)``."""

    def __init__(self, answer: Callable[[str, Mapping[str, Any]], Mapping[str, Any]]) -> None:
        self._connection = SimpleNamespace(_shell=SimpleNamespace(SHELL_FAMILY="powershell"), reset=lambda: None)
        self._play_context = SimpleNamespace(remote_addr="win1")
        self.answer = answer
        self.sent: list[tuple[str, bytes]] = []

    def _low_level_execute_command(self, cmd: str, in_data: bytes | None = None, **_: Any) -> dict[str, Any]:
        assert in_data is not None
        self.sent.append((cmd, in_data))
        script, request = in_data.decode("ascii").split("\n")[:2]
        text = build_execs.inflate_payload(script)
        [operation] = [name for name, value in build_execs.powershell_scripts.SCRIPTS.items() if value == text]
        return {"rc": 0, "stdout": json.dumps(self.answer(operation, json.loads(request))) + "\r\n", "stderr": ""}


def scripted_answer(operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """Answers that let the collection's code go on to its next exec."""
    done = {"rc": 0, "stdout": "Login Succeeded\n", "stderr": ""}
    if operation == "run":
        return {"results": [done for _call in request["calls"]], "error": None}
    if operation == "login_state":
        return {"config_dir": request["config_dir"], "config_file": request["config_dir"] + "\\config.json",
                "exists": False, "creds_store": None, "cred_helpers": {}, "auths": {}, "helpers": {},
                "default_store": "wincred", "compared": "digest" in request, "error": None}
    if operation == "login_verify":
        return {"result": done, "removed": True, "error": None}
    if operation == "host_info":
        return {"os": {"CurrentBuildNumber": "20348", "UBR": 2849}, "hyperv": {"vmms": "Running"},
                "docker_found": True, "results": [done for _call in request["calls"]], "os_images": [],
                "find": None, "registry": None, "error": None}
    if operation == "file_info":
        return {"files": [{"path": f["path"], "exists": False, "kind": None, "size": None, "sha256": None}
                          for f in request["files"]],
                "results": [done for _call in request["calls"]], "error": None}
    if operation == "job_start":
        return {"state": "started", "discarded": None, "breakaway_refused": None, "error": None}
    if operation == "job_status":
        return {"exists": True, "claimed": True, "started": True, "alive": False, "error": None,
                "outputs": [{"stdout": "", "stderr": ""}] * 2, "finished": {"results": [{"rc": 0}] * 2, "error": None}}
    if operation == "job_cleanup":
        return {"removed": True, "error": None}
    raise AssertionError(operation)


def collection_call(call: build_execs.Call) -> Any:
    return collection_host().Call(tuple(call.arguments), exe=call.exe, stdin=call.stdin,
                                  environment=call.environment, append_lines_of=call.append_lines_of)


def sent_by_the_collection(name: str) -> list[tuple[str, bytes]]:
    """Every exec the collection's own code sends for builder ``name``'s example arguments."""
    collection = collection_host()
    from ansible_collections.wincontainers.images.plugins.action import docker_login
    from ansible_collections.wincontainers.images.plugins.plugin_utils import base_images, docker_cli, jobs, lifecycle
    from ansible_collections.wincontainers.images.plugins.plugin_utils import registry as registry_module

    action = RecordingAction(scripted_answer)
    host = collection.Host(action, {"inventory_hostname": "win1"})
    assert host.is_windows
    args, kwargs = EXAMPLES[name]
    Call = collection.Call
    if name == "docker_version":
        host.run([base_images.version_call()])
    elif name == "inspect":
        host.run(docker_cli.inspect_calls(*args))
    elif name == "inspect_everything":
        host.run(docker_cli.inspect_all_calls())
    elif name == "parallel_reads":
        image, missing = args
        host.run([base_images.version_call(), *docker_cli.inspect_calls([image]), *docker_cli.inspect_calls([missing]),
                  base_images.info_call()], parallel=4)
    elif name == "unknown_executable":
        host.run([Call(("/?",), exe="notepad")])
    elif name == "build_with_label":
        base, tag, key, value = args
        host.run([Call(("build", "--label", "%s=%s" % (key, value), "--tag", tag, "-"),
                       stdin='FROM %s\nLABEL wc.dockerfile="%s"\n' % (base, value),
                       environment={"DOCKER_BUILDKIT": "0"})])
    elif name == "images_with_label":
        key, value = args
        host.run([Call(("image", "ls", "--all", "--no-trunc", "--filter", "label=%s=%s" % (key, value),
                        "--format", lifecycle.IMAGE_LS_FORMAT))])
    elif name == "tag":
        source, target = args
        host.run(docker_cli.tag_calls(source, [target]))
    elif name == "remove":
        host.run([Call(arguments) for arguments in docker_cli.chunked(("image", "rm", docker_cli.END_OF_FLAGS), args[0])])
    elif name in ("login", "login_state", "login_verify"):
        registry, username, password, config_dir = EXAMPLES["login"][0]
        if name == "login_state":
            config_dir = args[0]
        plugin = docker_login.ActionModule.__new__(docker_login.ActionModule)
        plugin._task = SimpleNamespace(check_mode=name == "login_verify", diff=False, args={})
        values = {option: spec.get("default") for option, spec in docker_login.ActionModule.ARGUMENT_SPEC.items()}
        values.update(registry_url=registry, username=username, password=password, config_path=config_dir)
        with mock.patch.object(registry_module.os, "urandom", lambda size: build_execs.EXAMPLE_SALT[:size]):
            plugin.execute(host, values)
        assert len(action.sent) == 2
        return action.sent[:1] if name == "login_state" else action.sent[1:]
    elif name == "host_info":
        base_images.read_host(host, [base_images.version_call(), base_images.info_call()], os_images=True)
    elif name == "file_info":
        lifecycle.file_info(host, files=kwargs["files"],
                            calls=[(collection_call(call), if_exists) for call, if_exists in kwargs["calls"]],
                            rename=kwargs["rename"], remove=kwargs["remove"])
    elif name in ("job_start", "stage_runner", "job_status", "job_cleanup"):
        # A host without the runner: job_start, stage_script, job_start again, then the polls.
        staged: list[str] = []

        def first_without_runner(operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
            if operation == "stage_script":
                staged.append(request["name"])
                return {"staged": True, "missing": False, "error": None}
            if operation == "job_start" and not staged:
                return {"state": "runner_missing", "error": None}
            return scripted_answer(operation, request)

        action.answer = first_without_runner
        job_id, token, calls = EXAMPLES["job_start"][0]
        job = jobs.HostJob(host, "the windows suite", [collection_call(call) for call in calls])
        job.job_id, job.token = job_id, token
        job.run(timeout=60, poll_interval=EXAMPLES["job_status"][1]["wait"], wait_on_host=True)
        assert len(action.sent) == 5 and action.sent[0] == action.sent[2]
        operations = {"job_start": 2, "stage_runner": 1, "job_status": 3, "job_cleanup": 4}
        return [action.sent[operations[name]]]
    else:
        raise AssertionError("no reference for the builder %r: add one here" % name)
    return action.sent


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_each_builder_sends_what_the_collection_sends(name: str) -> None:
    ex = example(name)
    assert sent_by_the_collection(name) == [(ex.command, ex.stdin)], (
        "build_execs.%s no longer sends what the collection sends: follow the collection's request" % name)


def test_the_job_timings_are_the_collection_s() -> None:
    collection_host()
    from ansible_collections.wincontainers.images.plugins.plugin_utils import jobs

    assert (build_execs.START_GRACE, build_execs.CLAIM_AGE) == (jobs.START_GRACE, jobs.CLAIM_AGE)
