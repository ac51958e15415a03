# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image lifecycle modules without a host: validation, fingerprints, parsing, decisions.

The action plugins run here against ``ScriptedHost``, which answers docker/tar calls from a
small in-memory engine (and the ``file_info`` and job operations the way the constant scripts
do), and counts execs. The POSIX ``file_info`` script itself is run for real, the way a Linux
host runs it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.wincontainers.images.plugins.action.docker_commit import ActionModule as CommitAction
from ansible_collections.wincontainers.images.plugins.action.docker_image_export import ActionModule as ExportAction
from ansible_collections.wincontainers.images.plugins.action.docker_image_history import ActionModule as HistoryAction
from ansible_collections.wincontainers.images.plugins.action.docker_image_load import ActionModule as LoadAction
from ansible_collections.wincontainers.images.plugins.action.docker_image_remove import ActionModule as RemoveAction
from ansible_collections.wincontainers.images.plugins.plugin_utils import lifecycle
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import (
    PosixDialect,
    WindowsDialect,
    encode_request,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils.engine import Settings
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import CallResult, Host, HostError
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import (
    ReferenceError,
    parse_image,
    parse_reference,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import join_arguments

from cmdline import parse as parse_windows_command_line  # tests/unit is on sys.path (no __init__.py)
from cmdline import pflag_split

CONTAINER_ID = "c" * 64
IMAGE_A = "sha256:" + "a" * 64
IMAGE_B = "sha256:" + "b" * 64
IMAGE_C = "sha256:" + "e" * 64


# --- a scripted host ----------------------------------------------------------------------------

class ScriptedHost:
    """What the action plugins use of a Host, answering from an in-memory engine."""

    engine = Settings()
    call_request = Host.call_request

    def __init__(self, windows: bool = False, **engine: Any) -> None:
        self.name = "host1"
        self.dialect = WindowsDialect() if windows else PosixDialect("python3")
        self.images: dict[str, dict[str, Any]] = {i["Id"]: i for i in engine.get("images", [])}
        self.containers: dict[str, dict[str, Any]] = engine.get("containers", {})
        self.diffs: dict[str, str] = engine.get("diffs", {})
        self.files: dict[str, bytes] = dict(engine.get("files", {}))
        self.directories: set[str] = set(engine.get("directories", {"/srv", "C:\\images"}))
        self.manifests: dict[str, str] = engine.get("manifests", {})
        self.has_tar = engine.get("has_tar", True)
        self.load_output = engine.get("load_output", "")
        self.execs: list[tuple[str, list[list[str]]]] = []
        self.argvs: list[list[str]] = []

    @property
    def is_windows(self) -> bool:
        return self.dialect.name == "windows"

    def argv_of(self, request: dict[str, Any]) -> list[str]:
        if "cmdline" in request:
            return parse_windows_command_line(request["cmdline"])
        return list(request["argv"])

    # Host API
    def run(self, calls, parallel=1):
        del parallel
        self.execs.append(("run", [list(c.arguments) for c in calls]))
        return [CallResult(call, *self.answer(call.exe, list(call.arguments))) for call in calls]

    def execute(self, operation, payload):
        requests = payload.get("calls") or []
        argvs = [self.argv_of(r) for r in requests]
        self.execs.append((operation, argvs))
        if operation == "file_info":
            for path in payload["remove"]:
                self.files.pop(path, None)
            for move in payload["rename"]:
                self.files[move["to"]] = self.files.pop(move["from"])
            files = [self.file_state(f["path"], f["hash"]) for f in payload["files"]]
            results = []
            for request, argv in zip(requests, argvs):
                if request.get("if_exists") is not None and files[request["if_exists"]]["kind"] != "file":
                    results.append({"rc": 0, "stdout": "", "stderr": "", "skipped": True})
                elif request["exe"] == "tar" and not self.has_tar:
                    results.append({"rc": -1, "stdout": "", "stderr": "", "skipped": True, "not_found": True})
                else:
                    rc, out, err = self.answer(request["exe"], argv)
                    results.append({"rc": rc, "stdout": out, "stderr": err})
            return {"files": files, "results": results, "error": None}
        if operation == "job_start":
            self.job = [self.answer(r["exe"], a) for r, a in zip(requests, argvs)]
            rename = payload.get("rename")
            if rename and all(job[0] == 0 for job in self.job):  # what the job's runner does
                self.files[rename["to"]] = self.files.pop(rename["from"])
                self.manifests[rename["to"]] = self.manifests.pop(rename["from"])
            elif rename:
                self.files.pop(rename["from"], None)
            return {"state": "started", "error": None}
        if operation == "job_status":
            return {"exists": True, "claimed": True, "started": True, "alive": False, "error": None,
                    "finished": {"results": [{"rc": job[0]} for job in self.job], "error": None},
                    "outputs": [{"stdout": job[1], "stderr": job[2]} for job in self.job]}
        if operation == "job_cleanup":
            return {"removed": True, "error": None}
        raise AssertionError("unexpected operation %s" % operation)

    def reconnect(self):
        pass

    def file_state(self, path, want_hash):
        if path in self.directories:
            return {"path": path, "exists": True, "kind": "directory", "size": None, "sha256": None}
        if path in self.files:
            data = self.files[path]
            return {"path": path, "exists": True, "kind": "file", "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest() if want_hash else None}
        return {"path": path, "exists": False, "kind": None, "size": None, "sha256": None}

    # the engine
    def find(self, name):
        spec = parse_image(name, "x")
        from ansible_collections.wincontainers.images.plugins.plugin_utils.docker_cli import find_image

        return find_image(self.images.values(), spec)

    def answer(self, exe, argv):
        self.argvs.append([exe] + argv)
        if exe == "tar":
            path = argv[1]
            if path not in self.manifests:
                return 2, "", "tar: Unexpected EOF in archive\n"
            return 0, self.manifests[path], ""
        head = tuple(argv[:2])
        # docker reads its arguments with Go's pflag: "--" ends the flags (cmdline.pflag_split)
        flags, names = pflag_split(argv[2:])
        if "--help" in flags:
            return 0, "Usage:  docker %s [OPTIONS]\n" % " ".join(head), ""
        if head == ("image", "inspect"):
            found = [self.find(n) for n in names]
            missing = [n for n, f in zip(names, found) if f is None]
            return (1 if missing else 0, json.dumps([f for f in found if f]),
                    "".join("Error: No such image: %s\n" % n for n in missing))
        if head == ("container", "inspect"):
            container = self.containers.get(names[-1])
            if container is None:
                return 1, "[]\n", "Error: No such container: %s\n" % names[-1]
            return 0, json.dumps([container]), ""
        if head == ("container", "diff"):
            container = self.containers.get(names[-1])
            if container is None:
                return 1, "", "Error: No such container: %s\n" % names[-1]
            if container["Platform"] == "windows" and container["State"]["Running"]:
                return 1, "", "Error response from daemon: Windows does not support diff of a running container\n"
            return 0, self.diffs.get(names[-1], ""), ""
        if head == ("container", "stop"):
            self.containers[names[-1]]["State"]["Running"] = False
            return 0, names[-1] + "\n", ""
        if head == ("container", "commit"):
            repo = names[-1]
            labels = {}
            for flag in flags:
                if flag.startswith("--change=LABEL io.wincontainers"):
                    for pair in flag[len("--change=LABEL "):].split(" "):
                        key, val = pair.split("=", 1)
                        labels[key] = val
            new = {"Id": IMAGE_C, "RepoTags": [repo], "RepoDigests": [], "Config": {"Labels": labels}}
            for image in self.images.values():
                image["RepoTags"] = [t for t in image["RepoTags"] if t != repo]
            self.images[IMAGE_C] = new
            return 0, IMAGE_C + "\n", ""
        if head == ("container", "ls"):
            return 0, "".join(json.dumps(c) + "\n" for c in self.containers.get("__ancestors__", [])), ""
        if head == ("image", "rm"):
            target = names[-1]
            image = self.find(target)
            if target.startswith("sha256:"):
                del self.images[image["Id"]]
                return 0, "Deleted: %s\n" % image["Id"], ""
            image["RepoTags"] = [t for t in image["RepoTags"] if t != target]
            if not image["RepoTags"]:
                del self.images[image["Id"]]
            return 0, "Untagged: %s\n" % target, ""
        if head == ("image", "history"):
            return 0, HISTORY_ROWS, ""
        if head == ("image", "save"):
            output = next(flag.split("=", 1)[1] for flag in flags if flag.startswith("--output="))
            self.files[output] = b"archive of " + " ".join(names).encode()
            entries: dict[str, list[str]] = {}
            for name in names:
                tags = entries.setdefault(self.find(name)["Id"], [])
                if not name.startswith("sha256:"):
                    tags.append(name)
            self.manifests[output] = json.dumps([{"Config": image_id[7:] + ".json", "RepoTags": tags}
                                                 for image_id, tags in entries.items()])
            return 0, "", ""
        if head == ("image", "load"):
            for entry in lifecycle.parse_manifest(self.manifests[argv[-1]]):
                loaded = self.images.setdefault(entry["id"], {"Id": entry["id"], "RepoTags": [], "RepoDigests": []})
                loaded["RepoTags"] = sorted(set(loaded["RepoTags"]) | set(entry["tags"]))
            return 0, self.load_output, ""
        if head == ("image", "ls"):
            rows = []
            for image in self.images.values():
                for tag in image["RepoTags"] or ["<none>:<none>"]:
                    repository, name = tag.rsplit(":", 1)
                    rows.append(json.dumps({"ID": image["Id"], "Repository": repository, "Tag": name}))
            return 0, "\n".join(rows) + "\n", ""
        raise AssertionError("unexpected docker call %r" % argv)


def action(cls, check=False, diff=False):
    plugin = cls.__new__(cls)
    plugin._task = SimpleNamespace(check_mode=check, diff=diff, args={})
    return plugin


def defaults(cls, **args):
    values = {name: spec.get("default") for name, spec in cls.ARGUMENT_SPEC.items()}
    values.update(args)
    return values


def container(running=False, platform="linux", labels=None):
    return {
        "Id": CONTAINER_ID,
        "Name": "/iis-build",
        "Image": IMAGE_A,
        "Platform": platform,
        "State": {"Running": running, "Paused": False, "Restarting": False, "Status": "running" if running else "exited"},
        "Config": {"Cmd": ["cmd.exe"], "Env": ["A=1"], "Labels": labels or {}},
        "SizeRw": 1234,
    }


# --- docker_commit: changes ------------------------------------------------------------------------

@pytest.mark.parametrize("change", [
    'CMD ["app.exe", "--name=it\'s"]',
    'LABEL note="naïve \u2018quoted\u2019"',
    "env PATH=C:\\app;C:\\Windows",
    "Expose 8080/tcp",
    "ONBUILD RUN echo hi",
    "USER ContainerAdministrator",
    'VOLUME ["C:\\\\data"]',
    "WORKDIR C:\\app",
    "ENTRYPOINT powershell.exe",
    "  CMD\tx",
])
def test_allowed_changes_pass_unchanged(change):
    assert lifecycle.validate_changes([change]) == [change]


@pytest.mark.parametrize(("change", "reason"), [
    ("RUN del C:\\x", "cannot be applied"),
    ("FROM scratch", "cannot be applied"),
    ("COPY a b", "cannot be applied"),
    ("# comment", "cannot be applied"),
    ("CMD", "has no value"),
    ("CMD   ", "has no value"),
    ("", "empty"),
    ("   ", "empty"),
    ("ENV A=1\nRUN x", "line break"),
    ("ENV A=1\r", "line break"),
    ("ENV A=1 \\", "line continuation"),
    ("LABEL io.wincontainers.images.commit.container=x", "reserves"),
    ("CMD a\x00b", "NUL"),
])
def test_other_changes_are_refused_naming_the_option_and_value(change, reason):
    with pytest.raises(lifecycle.OptionError) as caught:
        lifecycle.validate_changes(["CMD ok", change])
    assert str(caught.value).startswith("changes: ")
    assert reason in str(caught.value)


def test_changes_must_be_strings():
    with pytest.raises(lifecycle.OptionError, match="changes: expected a string"):
        lifecycle.validate_changes([5])


TRICKY_CHANGES = ['CMD ["app.exe", "--name=it\'s"]', 'LABEL note="naïve \u2018quoted\u2019"', 'ENV P="C:\\Program Files\\\\"']


def test_commit_command_line_parses_back_to_the_same_arguments_on_windows():
    call = lifecycle.commit_call(CONTAINER_ID, parse_reference("wct3/app:1", "repository"), TRICKY_CHANGES,
                                 'it\'s "the" message \u2018x\u2019', "Jane <j@example.com>", True, "f" * 64)
    request = WindowsDialect().call_request(call.exe, list(call.arguments))
    assert parse_windows_command_line(request["cmdline"]) == list(call.arguments)
    arguments = list(call.arguments)
    for change in TRICKY_CHANGES:
        assert arguments[arguments.index(change) - 1] == "--change"
    assert arguments[-2:] == [CONTAINER_ID, "wct3/app:1"]
    assert lifecycle.provenance_change(CONTAINER_ID, "f" * 64) in arguments
    assert "--pause=true" in arguments


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(exclude_characters="\x00\n\r"), min_size=1, max_size=30), max_size=4),
       st.one_of(st.none(), st.text(alphabet=st.characters(exclude_characters="\x00"), max_size=30)))
def test_any_change_value_reaches_docker_unchanged_on_windows(values, message):
    changes = ["LABEL x=" + value for value in values]
    call = lifecycle.commit_call(CONTAINER_ID, parse_reference("wct3/app", "repository", "latest"), changes, message,
                                 None, False, "0" * 64)
    assert parse_windows_command_line(join_arguments(call.arguments)) == list(call.arguments)


# --- docker_commit: fingerprint -------------------------------------------------------------------------

def test_fingerprint_is_stable_and_sensitive():
    base = container()
    rows = ["C /tmp", "A /tmp/x"]
    first = lifecycle.commit_fingerprint(base, rows, ["CMD x"], "m", "a")
    assert first == lifecycle.commit_fingerprint(json.loads(json.dumps(base)), list(reversed(rows)), ["CMD x"], "m", "a")
    assert len(first) == 64 and int(first, 16) >= 0
    variants = [
        (base, rows + ["A /new"], ["CMD x"], "m", "a"),
        (base, rows, ["CMD y"], "m", "a"),
        (base, rows, ["CMD x", "EXPOSE 80"], "m", "a"),
        (base, rows, ["CMD x"], "other", "a"),
        (base, rows, ["CMD x"], "m", None),
        (dict(base, SizeRw=99), rows, ["CMD x"], "m", "a"),
        (dict(base, Config={"Cmd": ["other"]}), rows, ["CMD x"], "m", "a"),
        (dict(base, Id="d" * 64), rows, ["CMD x"], "m", "a"),
    ]
    prints = {lifecycle.commit_fingerprint(*variant) for variant in variants}
    assert first not in prints and len(prints) == len(variants)


def test_provenance_needs_both_labels():
    image = {"Config": {"Labels": {lifecycle.CONTAINER_LABEL: CONTAINER_ID, lifecycle.FINGERPRINT_LABEL: "f"}}}
    assert lifecycle.has_provenance(image, CONTAINER_ID, "f")
    assert not lifecycle.has_provenance(image, CONTAINER_ID, "g")
    assert not lifecycle.has_provenance(image, "d" * 64, "f")
    assert not lifecycle.has_provenance({"Config": {"Labels": None}}, CONTAINER_ID, "f")
    assert not lifecycle.has_provenance(None, CONTAINER_ID, "f")


def test_diff_rows_are_sorted_lines():
    assert lifecycle.diff_rows("C /tmp\nA /tmp/x\r\n\nD /etc/old\n") == ["A /tmp/x", "C /tmp", "D /etc/old"]


# --- docker_commit: the action ---------------------------------------------------------------------------

def commit_host(windows=False, running=False, **engine):
    platform = "windows" if windows else "linux"
    engine.setdefault("images", [{"Id": IMAGE_A, "RepoTags": ["base:1"], "RepoDigests": [], "Config": {}}])
    return ScriptedHost(windows, containers={"iis-build": container(running, platform),
                                             CONTAINER_ID: None}, diffs={"iis-build": "C /tmp\n"}, **engine)


def fix_aliases(host):
    host.containers[CONTAINER_ID] = host.containers["iis-build"]
    host.diffs[CONTAINER_ID] = host.diffs["iis-build"]
    return host


@pytest.mark.parametrize("windows", [False, True])
def test_commit_then_no_change_with_one_exec(windows):
    host = fix_aliases(commit_host(windows))
    args = defaults(CommitAction, container="iis-build", repository="wct3/iis", changes=TRICKY_CHANGES)
    first = action(CommitAction).execute(host, args)
    assert first["changed"] and first["image_id"] == IMAGE_C and len(host.execs) == 2
    commit = [argv for argv in host.argvs if argv[1:3] == ["container", "commit"]][0]
    assert commit[-2:] == [CONTAINER_ID, "wct3/iis:latest"]
    host.execs.clear()
    second = action(CommitAction).execute(host, args)
    assert not second["changed"] and second["image_id"] == IMAGE_C and len(host.execs) == 1
    assert second["fingerprint"] == first["fingerprint"]


def test_commit_again_when_the_container_changed_or_forced():
    host = fix_aliases(commit_host())
    args = defaults(CommitAction, container="iis-build", repository="wct3/iis")
    action(CommitAction).execute(host, args)
    host.diffs["iis-build"] = host.diffs[CONTAINER_ID] = "C /tmp\nA /tmp/new\n"
    assert action(CommitAction).execute(host, args)["changed"]
    host.execs.clear()
    assert action(CommitAction).execute(host, dict(args, force=True))["changed"]
    assert len(host.execs) == 2


def test_commit_check_mode_predicts_and_commits_nothing():
    host = fix_aliases(commit_host())
    result = action(CommitAction, check=True, diff=True).execute(
        host, defaults(CommitAction, container="iis-build", repository="wct3/iis:2"))
    assert result["changed"] and result["image"] is None and len(host.execs) == 1
    assert result["diff"] == {"before": {"image_id": None}, "after": {"image_id": "(new image)"}}
    assert not any(argv[1:3] == ["container", "commit"] for argv in host.argvs)


def test_commit_of_a_running_windows_container_fails_clearly():
    host = fix_aliases(commit_host(windows=True, running=True))
    with pytest.raises(TaskFailed) as caught:
        action(CommitAction).execute(host, defaults(CommitAction, container="iis-build", repository="wct3/iis"))
    assert "Windows cannot commit a running container" in str(caught.value)
    assert "stop_running" in str(caught.value)
    assert len(host.execs) == 1
    assert not any(argv[1:3] in (["container", "stop"], ["container", "commit"]) for argv in host.argvs)


def test_commit_of_a_running_windows_container_with_stop_running():
    host = fix_aliases(commit_host(windows=True, running=True))
    args = defaults(CommitAction, container="iis-build", repository="wct3/iis", stop_running=True)
    checked = action(CommitAction, check=True).execute(host, args)
    assert checked["changed"] and checked["stopped"] and len(host.execs) == 1
    assert host.containers[CONTAINER_ID]["State"]["Running"]
    host.execs.clear()
    result = action(CommitAction).execute(host, args)
    assert result["changed"] and result["stopped"] and len(host.execs) == 3
    assert host.execs[1][1][0] == ["container", "stop", "--", CONTAINER_ID]
    host.execs.clear()
    again = action(CommitAction).execute(host, args)
    assert not again["changed"] and not again["stopped"] and len(host.execs) == 1


def test_a_running_linux_container_is_committed_without_stopping():
    host = fix_aliases(commit_host(windows=False, running=True))
    result = action(CommitAction).execute(
        host, defaults(CommitAction, container="iis-build", repository="wct3/iis", pause=False))
    assert result["changed"] and not result["stopped"]
    commit = [argv for argv in host.argvs if argv[1:3] == ["container", "commit"]][0]
    assert "--pause=false" in commit


@pytest.mark.parametrize(("args", "message"), [
    ({"repository": "Bad/Repo"}, "repository: 'Bad/Repo' is not a valid"),
    ({"repository": "wct3/x@sha256:" + "a" * 64}, "repository:"),
    ({"changes": ["RUN x"]}, "changes: 'RUN x'"),
    ({"message": "a\x00b"}, "message:"),
    ({"container": "  "}, "container:"),
    # docker would read these as its own flags: "--help" prints the usage (exit 0, not JSON)
    ({"container": "--help"}, "container: '--help' is not a container name or ID"),
    ({"container": "--format=json"}, "container: '--format=json' is not a container name or ID"),
    ({"container": "-s"}, "container: '-s' is not a container name or ID"),
    ({"container": "web 1"}, "container: 'web 1' is not a container name or ID"),
    ({"container": "x"}, "container: 'x' is not a container name or ID"),  # a name has 2 characters or more
    ({"changes": ["LABEL big=" + "x" * 65526]}, "changes: the instruction 'LABEL big=xxx"),
])
def test_commit_bad_input_fails_before_any_exec(args, message):
    host = fix_aliases(commit_host())
    values = defaults(CommitAction, container="iis-build", repository="wct3/iis")
    values.update(args)
    with pytest.raises((TaskFailed, HostError, ReferenceError, ValueError)) as caught:
        action(CommitAction).execute(host, values)
    assert message in str(caught.value)
    assert host.execs == []


def test_commit_of_a_missing_container_names_it():
    host = commit_host()
    with pytest.raises(HostError, match="container: no container 'nope'"):
        action(CommitAction).execute(host, defaults(CommitAction, container="nope", repository="wct3/iis"))


# --- docker_image_remove ---------------------------------------------------------------------------------

def image(image_id, tags, digests=()):
    return {"Id": image_id, "RepoTags": list(tags), "RepoDigests": list(digests), "Config": {}}


def test_references_after_removal():
    img = image(IMAGE_A, ["web:1", "web:2"], ["web@sha256:" + "1" * 64])
    assert lifecycle.references_after_removal(img, parse_reference("web:1", "n")) == (
        ["web:2"], ["web@sha256:" + "1" * 64], False)
    single = image(IMAGE_A, ["web:1"], ["web@sha256:" + "1" * 64])
    assert lifecycle.references_after_removal(single, parse_reference("web:1", "n")) == ([], [], True)
    other_repo = image(IMAGE_A, ["web:1"], ["registry.example.com/web@sha256:" + "1" * 64])
    assert lifecycle.references_after_removal(other_repo, parse_reference("web:1", "n"))[2] is False
    assert lifecycle.references_after_removal(img, None) == ([], [], True)


def test_removal_by_id_needs_force_for_several_references():
    assert lifecycle.removal_needs_force_for_tags(image(IMAGE_A, ["a:1", "a:2"]))
    assert lifecycle.removal_needs_force_for_tags(image(IMAGE_A, ["a:1"], ["b@sha256:" + "1" * 64]))
    assert not lifecycle.removal_needs_force_for_tags(image(IMAGE_A, ["a:1"], ["a@sha256:" + "1" * 64]))
    assert not lifecycle.removal_needs_force_for_tags(image(IMAGE_A, []))


def remove_host(tags=("wct3/web:1",), ancestors=()):
    return ScriptedHost(images=[image(IMAGE_A, tags), image(IMAGE_B, ["other:1"])],
                        containers={"__ancestors__": list(ancestors)})


def test_remove_absent_image_is_one_exec_and_no_change():
    host = remove_host()
    result = action(RemoveAction, diff=True).execute(host, defaults(RemoveAction, name="wct3/none"))
    assert not result["changed"] and len(host.execs) == 1
    assert result["diff"]["before"] == result["diff"]["after"]


def test_remove_one_tag_of_several_removes_only_that_tag():
    host = remove_host(tags=("wct3/web:1", "wct3/web:2"), ancestors=[{"ID": "x" * 64, "Names": "c1", "Status": "Up"}])
    result = action(RemoveAction, diff=True).execute(host, defaults(RemoveAction, name="wct3/web", tag="1"))
    assert result["changed"] and result["untagged"] == ["wct3/web:1"] and result["deleted"] == []
    # community.docker's diff shape
    assert result["diff"] == {"before": {"exists": True, "id": IMAGE_A, "tags": ["wct3/web:1", "wct3/web:2"], "digests": []},
                              "after": {"exists": True, "id": IMAGE_A, "tags": ["wct3/web:2"], "digests": []}}
    assert result["actions"] == ["Removed image wct3/web:1"]
    assert host.images[IMAGE_A]["RepoTags"] == ["wct3/web:2"]
    assert ["docker", "image", "rm", "--", "wct3/web:1"] in host.argvs
    assert len(host.execs) == 2


def test_remove_last_tag_deletes_and_passes_prune_and_force():
    host = remove_host()
    result = action(RemoveAction).execute(host, defaults(RemoveAction, name="wct3/web:1", prune=False, force=True))
    assert result["deleted"] == [IMAGE_A]
    assert ["docker", "image", "rm", "--force", "--no-prune", "--", "wct3/web:1"] in host.argvs


def test_remove_fails_listing_dependent_containers():
    ancestors = [{"ID": "1" * 64, "Names": "web-old", "Image": "wct3/web:1", "Status": "Exited (0) 2 hours ago"},
                 {"ID": "2" * 64, "Names": "web-live", "Image": "wct3/web:1", "Status": "Up 3 minutes"}]
    host = remove_host(ancestors=ancestors)
    with pytest.raises(TaskFailed) as caught:
        action(RemoveAction).execute(host, defaults(RemoveAction, name="wct3/web:1"))
    text = str(caught.value)
    assert "used by 2 container(s)" in text
    assert "web-old (ID 111111111111, Exited (0) 2 hours ago)" in text and "web-live (ID 222222222222, Up 3 minutes)" in text
    assert caught.value.result["containers"] == ancestors
    assert len(host.execs) == 1 and IMAGE_A in host.images


def test_forced_removal_keeps_an_image_that_a_running_container_uses():
    host = remove_host(ancestors=[{"ID": "1" * 64, "Names": "c", "Status": "Up 5 minutes (Paused)"}])
    result = action(RemoveAction, check=True, diff=True).execute(
        host, defaults(RemoveAction, name="wct3/web:1", force=True))
    assert result["changed"] and result["diff"]["after"] == {"exists": True, "id": IMAGE_A, "tags": [], "digests": []}
    assert result["deleted"] == [] and result["untagged"] == ["wct3/web:1"]
    assert len(host.execs) == 1 and host.images[IMAGE_A]["RepoTags"] == ["wct3/web:1"]


def test_forced_removal_deletes_an_image_that_only_stopped_containers_use():
    host = remove_host(ancestors=[{"ID": "1" * 64, "Names": "c", "Status": "Exited (0) 1 hour ago"}])
    result = action(RemoveAction, check=True).execute(host, defaults(RemoveAction, name="wct3/web:1", force=True))
    assert result["deleted"] == [IMAGE_A]


def test_removal_by_id_of_an_image_a_running_container_uses_fails_even_forced():
    host = remove_host(ancestors=[{"ID": "1" * 64, "Names": "web", "Status": "Restarting (1) 3 seconds ago"}])
    with pytest.raises(TaskFailed, match=r"used by 1 running container\(s\): web \(ID 111111111111, Restarting"):
        action(RemoveAction).execute(host, defaults(RemoveAction, name=IMAGE_A, force=True))
    assert len(host.execs) == 1


@pytest.mark.parametrize(("status", "running"), [
    ("Up 3 minutes", True), ("Up 2 hours (Paused)", True), ("Restarting (1) 2 seconds ago", True),
    ("Exited (0) 5 days ago", False), ("Created", False), ("Dead", False), ("Removal In Progress", False), (None, False),
])
def test_running_containers_by_status(status, running):
    assert lifecycle.is_running({"Status": status}) is running


def test_remove_by_id_with_several_tags_needs_force():
    host = remove_host(tags=("wct3/web:1", "wct3/web:2"))
    with pytest.raises(TaskFailed, match="several references"):
        action(RemoveAction).execute(host, defaults(RemoveAction, name=IMAGE_A))
    result = action(RemoveAction).execute(host, defaults(RemoveAction, name=IMAGE_A[7:19], force=True))
    assert result["deleted"] == [IMAGE_A] and sorted(result["untagged"]) == ["wct3/web:1", "wct3/web:2"]
    assert ["docker", "image", "rm", "--force", "--", IMAGE_A] in host.argvs


def test_remove_check_mode_changes_nothing():
    host = remove_host()
    result = action(RemoveAction, check=True).execute(host, defaults(RemoveAction, name="wct3/web:1"))
    assert result["changed"] and result["deleted"] == [IMAGE_A] and len(host.execs) == 1
    assert IMAGE_A in host.images


@pytest.mark.parametrize(("args", "message"), [
    ({"name": "UPPER/case"}, "name: 'UPPER/case'"),
    ({"name": "ok", "tag": "bad tag"}, "tag: 'bad tag'"),
])
def test_remove_bad_input_fails_before_any_exec(args, message):
    host = remove_host()
    with pytest.raises(ReferenceError, match=message):
        action(RemoveAction).execute(host, defaults(RemoveAction, **args))
    assert host.execs == []


# --- docker_image_history --------------------------------------------------------------------------------

HISTORY_ROWS = "\n".join(json.dumps(row) for row in [
    {"Comment": "installed IIS", "CreatedAt": "2024-05-14T11:12:44+02:00", "CreatedBy": "cmd /S /C dism.exe /online",
     "CreatedSince": "x", "ID": IMAGE_C, "Size": "104857600"},
    {"Comment": "", "CreatedAt": "2024-05-01T09:00:00Z", "CreatedBy": "Apply image 10.0.20348.2461",
     "CreatedSince": "x", "ID": "<missing>", "Size": "3.85GB"},
]) + "\n"


def test_history_rows():
    assert lifecycle.parse_history(HISTORY_ROWS) == [
        {"id": IMAGE_C, "created": "2024-05-14T09:12:44Z", "created_by": "cmd /S /C dism.exe /online",
         "size": 104857600, "comment": "installed IIS"},
        {"id": None, "created": "2024-05-01T09:00:00Z", "created_by": "Apply image 10.0.20348.2461",
         "size": 3850000000, "comment": ""},
    ]


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-05-14T09:12:44Z", "2024-05-14T09:12:44Z"),
    ("2024-05-14T09:12:44.123456789Z", "2024-05-14T09:12:44.123456789Z"),
    ("2024-05-14T11:12:44+02:00", "2024-05-14T09:12:44Z"),
    ("2024-05-14 11:12:44 +0200", "2024-05-14T09:12:44Z"),
    ("<missing>", None),
])
def test_iso8601(text, expected):
    assert lifecycle.iso8601(text) == expected


@pytest.mark.parametrize(("text", "expected"), [("0", 0), ("1982397", 1982397), ("1.5kB", 1500), ("2MiB", 2097152), (7, 7)])
def test_parse_size(text, expected):
    assert lifecycle.parse_size(text) == expected


def test_parse_size_refuses_garbage():
    with pytest.raises(ValueError):
        lifecycle.parse_size("lots")


@pytest.mark.parametrize("windows", [False, True])
def test_history_action_is_one_exec(windows):
    host = ScriptedHost(windows, images=[image(IMAGE_C, ["wct3/iis:latest"])])
    result = action(HistoryAction).execute(host, {"name": "wct3/iis"})
    assert not result["changed"] and result["image_id"] == IMAGE_C and len(result["history"]) == 2
    assert len(host.execs) == 1
    assert ["docker", "image", "history", "--no-trunc", "--human=false", "--format", "{{json .}}", "--", "wct3/iis"] in (
        host.argvs)


def test_history_of_a_missing_image_fails_clearly():
    host = ScriptedHost(images=[])
    with pytest.raises(TaskFailed, match="name: the image 'wct3/none' was not found on host1"):
        action(HistoryAction).execute(host, {"name": "wct3/none"})


# --- archives -------------------------------------------------------------------------------------------------

LEGACY_MANIFEST = json.dumps([
    {"Config": "a" * 64 + ".json", "RepoTags": ["wct3/a:1"], "Layers": ["x/layer.tar"]},
    {"Config": "b" * 64 + ".json", "RepoTags": None, "Layers": []},
])
OCI_MANIFEST = json.dumps([{"Config": "blobs/sha256/" + "a" * 64, "RepoTags": ["wct3/a:1", "wct3/a:2"], "Layers": []}])


def test_parse_manifest_of_both_formats():
    assert lifecycle.parse_manifest(LEGACY_MANIFEST) == [{"id": IMAGE_A, "tags": ["wct3/a:1"]}, {"id": IMAGE_B, "tags": []}]
    assert lifecycle.parse_manifest(OCI_MANIFEST) == [{"id": IMAGE_A, "tags": ["wct3/a:1", "wct3/a:2"]}]


@pytest.mark.parametrize("text", ["", "{}", "[]", "not json", '[{"Config": "x.json"}]', "[5]"])
def test_parse_manifest_refuses_foreign_files(text):
    with pytest.raises(ValueError):
        lifecycle.parse_manifest(text)


def test_loaded_names():
    output = "Loaded image: wct3/a:1\nLoaded image ID: %s\nLoaded image: wct3/a:1\nsomething else\n" % IMAGE_B
    assert lifecycle.loaded_names(output) == ["wct3/a:1", IMAGE_B]


def test_archive_matching():
    entries = lifecycle.parse_manifest(LEGACY_MANIFEST)
    images = [image(IMAGE_A, ["wct3/a:1", "wct3/a:9"]), image(IMAGE_B, [])]
    specs = [parse_image("wct3/a:1", "n"), parse_image(IMAGE_B, "n")]
    assert lifecycle.archive_matches(entries, images, specs)
    assert not lifecycle.archive_matches(entries, images, [parse_image("wct3/a:9", "n"), parse_image(IMAGE_B, "n")])
    assert not lifecycle.archive_matches(entries, images[:1], specs[:1])
    assert not lifecycle.archive_matches(entries, [image(IMAGE_A, []), image(IMAGE_C, [])], specs)


def test_missing_from_engine():
    entries = lifecycle.parse_manifest(LEGACY_MANIFEST)
    assert lifecycle.missing_from_engine(entries, {IMAGE_A: ["docker.io/wct3/a:1"], IMAGE_B: []}) == []
    assert lifecycle.missing_from_engine(entries, {IMAGE_A: ["wct3/a:2"], IMAGE_B: []}) == ["wct3/a:1"]
    assert lifecycle.missing_from_engine(entries, {IMAGE_A: ["wct3/a:1"]}) == [IMAGE_B]


@pytest.mark.parametrize(("windows", "path", "ok"), [
    (True, "C:\\images\\a.tar", True),
    (True, "c:/images/a.tar", True),
    (True, "\\\\server\\share\\a.tar", True),
    (True, "images\\a.tar", False),
    (True, "C:\\images\\a?.tar", False),
    (True, "C:\\images\\", False),
    (False, "/srv/a.tar", True),
    (False, "srv/a.tar", False),
    (False, "/srv/a\n.tar", False),
    (False, "/srv/", False),
])
def test_host_paths(windows, path, ok):
    host = ScriptedHost(windows)
    if ok:
        assert lifecycle.host_path(host, path, "path") == path
    else:
        with pytest.raises(lifecycle.OptionError, match="^path: "):
            lifecycle.host_path(host, path, "path")


def test_partial_path_is_deterministic_and_specific():
    host = ScriptedHost()
    first = lifecycle.partial_path(host, "/srv/a.tar", [IMAGE_A, IMAGE_B])
    assert first == lifecycle.partial_path(host, "/srv/a.tar", [IMAGE_B, IMAGE_A])
    assert first.startswith("/srv/a.tar.partial-") and len(first) == len("/srv/a.tar.partial-") + 16
    assert first != lifecycle.partial_path(host, "/srv/a.tar", [IMAGE_A])


def export_host(windows=False, **engine):
    engine.setdefault("images", [image(IMAGE_A, ["wct3/a:1"]), image(IMAGE_B, ["wct3/b:latest"])])
    return ScriptedHost(windows, **engine)


@pytest.mark.parametrize("windows", [False, True])
def test_export_writes_through_a_partial_file_then_is_idempotent(windows):
    path = "C:\\images\\ab.tar" if windows else "/srv/ab.tar"
    host = export_host(windows)
    args = defaults(ExportAction, names=["wct3/a:1", "wct3/b"], path=path)
    result = action(ExportAction, diff=True).execute(host, args)
    assert result["changed"] and result["image_ids"] == [IMAGE_A, IMAGE_B]
    partial = lifecycle.partial_path(host, path, [IMAGE_A, IMAGE_B])
    save = [argv for argv in host.argvs if argv[1:3] == ["image", "save"]]
    assert save == [["docker", "image", "save", "--output", partial, "--", "wct3/a:1", "wct3/b:latest"]]
    assert list(host.files) == [path]
    assert result["sha256"] == hashlib.sha256(host.files[path]).hexdigest() and result["size"] == len(host.files[path])
    assert [execution[0] for execution in host.execs] == ["file_info", "job_start", "job_status", "job_cleanup", "file_info"]
    assert result["diff"]["before"]["image_ids"] is None

    host.manifests[path] = json.dumps([{"Config": "a" * 64 + ".json", "RepoTags": ["wct3/a:1"]},
                                       {"Config": "b" * 64 + ".json", "RepoTags": ["wct3/b:latest"]}])
    host.execs.clear()
    again = action(ExportAction).execute(host, args)
    assert not again["changed"] and again["sha256"] == result["sha256"] and len(host.execs) == 1

    # another set of images: written again
    host.execs.clear()
    other = action(ExportAction, check=True).execute(host, dict(args, names=["wct3/a:1"]))
    assert other["changed"] and other["sha256"] is None and len(host.execs) == 1


def test_export_force_skips_reading_the_archive():
    host = export_host(has_tar=False, files={"/srv/ab.tar": b"old"})
    result = action(ExportAction).execute(host, defaults(ExportAction, names=["wct3/a:1"], path="/srv/ab.tar", force=True))
    assert result["changed"]
    assert not any(argv[0] == "tar" for argv in host.argvs)


def test_export_without_tar_fails_clearly_when_an_archive_exists():
    host = export_host(windows=True, has_tar=False, files={"C:\\images\\ab.tar": b"old"})
    with pytest.raises(TaskFailed) as caught:
        action(ExportAction).execute(host, defaults(ExportAction, names=["wct3/a:1"], path="C:\\images\\ab.tar"))
    assert "Windows Server 2016 has none" in str(caught.value) and "force: true" in str(caught.value)
    assert len(host.execs) == 1


def test_export_replaces_a_file_that_is_not_an_archive():
    host = export_host(files={"/srv/ab.tar": b"junk"})
    result = action(ExportAction).execute(host, defaults(ExportAction, names=["wct3/a:1"], path="/srv/ab.tar"))
    assert result["changed"] and host.files["/srv/ab.tar"] != b"junk"


@pytest.mark.parametrize(("args", "message"), [
    ({"names": ["wct3/none:1"]}, "names: no image 'wct3/none:1'"),
    ({"path": "/nowhere/a.tar"}, "path: the directory /nowhere does not exist"),
    ({"path": "/srv"}, "path: /srv is a directory"),
])
def test_export_fails_clearly_after_the_read(args, message):
    host = export_host()
    values = defaults(ExportAction, names=["wct3/a:1"], path="/srv/a.tar")
    values.update(args)
    with pytest.raises(TaskFailed, match=message):
        action(ExportAction).execute(host, values)
    assert len(host.execs) == 1 and host.files == {}


@pytest.mark.parametrize(("args", "error"), [
    ({"names": ["Bad Name"]}, ReferenceError),
    ({"names": []}, TaskFailed),
    ({"path": "relative.tar"}, lifecycle.OptionError),
    ({"timeout": 0}, TaskFailed),
])
def test_export_bad_input_fails_before_any_exec(args, error):
    host = export_host()
    values = defaults(ExportAction, names=["wct3/a:1"], path="/srv/a.tar")
    values.update(args)
    with pytest.raises(error):
        action(ExportAction).execute(host, values)
    assert host.execs == []


def load_host(windows=False, present=(), **engine):
    engine.setdefault("manifests", {"/srv/ab.tar": LEGACY_MANIFEST})
    engine.setdefault("files", {"/srv/ab.tar": b"archive"})
    return ScriptedHost(windows, images=list(present), **engine)


def test_load_then_no_change():
    host = load_host(load_output="Loaded image: wct3/a:1\nLoaded image ID: %s\n" % IMAGE_B)
    result = action(LoadAction, diff=True).execute(host, defaults(LoadAction, path="/srv/ab.tar"))
    assert result["changed"] and result["loaded"] == ["wct3/a:1", IMAGE_B]
    assert result["archive_images"] == [{"id": IMAGE_A, "tags": ["wct3/a:1"]}, {"id": IMAGE_B, "tags": []}]
    # community.docker's images: the inspect objects of the archive's images, read back after the load
    assert [found["Id"] for found in result["images"]] == [IMAGE_A, IMAGE_B]
    assert result["image_names"] == ["wct3/a:1", IMAGE_B]
    assert result["diff"]["before"] == {"images": {IMAGE_A: None, IMAGE_B: None}}
    assert [execution[0] for execution in host.execs] == ["file_info", "job_start", "job_status", "job_cleanup", "run"]
    assert ["docker", "image", "load", "--input", "/srv/ab.tar"] in host.argvs

    host = load_host(present=[image(IMAGE_A, ["wct3/a:1", "wct3/a:9"]), image(IMAGE_B, [])])
    again = action(LoadAction).execute(host, defaults(LoadAction, path="/srv/ab.tar"))
    # Two execs: the archive's image IDs come from the first one, their inspect objects from the second.
    assert not again["changed"] and again["loaded"] == [] and len(host.execs) == 2
    assert [found["Id"] for found in again["images"]] == [IMAGE_A, IMAGE_B]
    assert host.argvs[-1] == ["docker", "image", "inspect", "--", IMAGE_A, IMAGE_B]


def test_load_when_a_tag_is_missing_and_check_mode():
    host = load_host(present=[image(IMAGE_A, ["wct3/a:2"]), image(IMAGE_B, [])])
    result = action(LoadAction, check=True).execute(host, defaults(LoadAction, path="/srv/ab.tar"))
    assert result["changed"] and len(host.execs) == 2
    assert not any(argv[1:3] == ["image", "load"] for argv in host.argvs)


@pytest.mark.parametrize(("engine", "message"), [
    ({"files": {}}, "path: the archive /srv/ab.tar does not exist on host1"),
    ({"manifests": {}}, "path: /srv/ab.tar is not a readable image archive .*Unexpected EOF.*nothing was loaded"),
    ({"manifests": {"/srv/ab.tar": "[]"}}, "path: /srv/ab.tar is not a docker image archive"),
    ({"has_tar": False}, "tar was not found"),
])
def test_load_fails_clearly_and_loads_nothing(engine, message):
    host = load_host(**engine)
    with pytest.raises(TaskFailed, match=message):
        action(LoadAction).execute(host, defaults(LoadAction, path="/srv/ab.tar"))
    assert len(host.execs) == 1
    assert not any(argv[1:3] == ["image", "load"] for argv in host.argvs)


# --- the file_info script of the POSIX dialect, run for real ---------------------------------------------------

def run_file_info(payload: dict, path_env: str) -> dict:
    command = PosixDialect(sys.executable).command("file_info")
    process = subprocess.run(["/bin/sh", "-c", command], input=encode_request(payload), capture_output=True,
                             env={"PATH": path_env, "LANG": "C.UTF-8"}, timeout=60, check=False)
    assert process.returncode == 0 and process.stderr == b"", process.stderr
    lines = process.stdout.decode("ascii").splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_posix_file_info_script(tmp_path):
    archive = tmp_path / "naïve \u2018quoted\u2019 it's.tar"
    (tmp_path / "member").mkdir()
    (tmp_path / "member" / "manifest.json").write_text(LEGACY_MANIFEST, encoding="utf-8")
    subprocess.run(["tar", "-cf", str(archive), "-C", str(tmp_path / "member"), "manifest.json"], check=True)
    partial = tmp_path / "new.partial"
    partial.write_bytes(b"new archive")
    stale = tmp_path / "stale.partial"
    stale.write_bytes(b"x")
    dialect = PosixDialect(sys.executable)
    tar = dialect.call_request("tar", ["-xOf", str(archive), "manifest.json"])
    tar_missing_file = dict(dialect.call_request("tar", ["-xOf", str(tmp_path / "none.tar"), "manifest.json"]), if_exists=2)
    answer = run_file_info({
        "remove": [str(stale), str(tmp_path / "never-existed")],
        "rename": [{"from": str(partial), "to": str(tmp_path / "new.tar")}],
        "files": [{"path": str(archive), "hash": True}, {"path": str(tmp_path), "hash": True},
                  {"path": str(tmp_path / "none.tar"), "hash": True}, {"path": str(tmp_path / "new.tar"), "hash": False}],
        "calls": [tar, tar_missing_file],
    }, os.environ["PATH"])
    assert answer["error"] is None
    data = archive.read_bytes()
    assert answer["files"] == [
        {"path": str(archive), "exists": True, "kind": "file", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        {"path": str(tmp_path), "exists": True, "kind": "directory", "size": None, "sha256": None},
        {"path": str(tmp_path / "none.tar"), "exists": False, "kind": None, "size": None, "sha256": None},
        {"path": str(tmp_path / "new.tar"), "exists": True, "kind": "file", "size": 11, "sha256": None},
    ]
    assert answer["results"][0]["rc"] == 0 and json.loads(answer["results"][0]["stdout"]) == json.loads(LEGACY_MANIFEST)
    assert answer["results"][1] == {"rc": 0, "stdout": "", "stderr": "", "skipped": True}
    assert not stale.exists() and not partial.exists()


def test_posix_file_info_reports_a_missing_program_per_call(tmp_path):
    dialect = PosixDialect(sys.executable)
    empty = tmp_path / "bin"
    empty.mkdir()
    answer = run_file_info({"files": [], "calls": [dialect.call_request("tar", ["--version"])]}, str(empty))
    assert answer["error"] is None
    assert answer["results"] == [{"rc": -1, "stdout": "", "stderr": "", "skipped": True, "not_found": True}]


def test_posix_file_info_reports_exceptions_as_errors(tmp_path):
    answer = run_file_info({"rename": [{"from": str(tmp_path / "none"), "to": str(tmp_path / "x")}]}, os.environ["PATH"])
    assert answer["error"]["kind"] == "exception" and "FileNotFoundError" in answer["error"]["message"]


def test_file_info_payload_and_answer():
    host = ScriptedHost(windows=True, files={"C:\\images\\a.tar": b"abc"}, manifests={"C:\\images\\a.tar": OCI_MANIFEST})
    info = lifecycle.file_info(host, files=[("C:\\images\\a.tar", True)],
                               calls=[(lifecycle.manifest_call("C:\\images\\a.tar"), 0)])
    assert info.files[0].sha256 == hashlib.sha256(b"abc").hexdigest() and info.files[0].size == 3
    assert info.results[0].ok and lifecycle.parse_manifest(info.results[0].stdout)[0]["id"] == IMAGE_A
    assert host.execs == [("file_info", [["-xOf", "C:\\images\\a.tar", "manifest.json"]])]


def test_an_export_whose_archive_does_not_hold_the_images_afterwards_fails():
    """The archive is read back after the job: one another task replaced is not reported as ours."""
    host = export_host()
    original = host.execute

    def execute(operation, payload):
        answer = original(operation, payload)
        if operation == "job_start":
            host.manifests["/srv/ab.tar"] = json.dumps([{"Config": "e" * 64 + ".json", "RepoTags": ["other:1"]}])
        return answer

    host.execute = execute
    with pytest.raises(TaskFailed, match="the archive /srv/ab.tar does not hold the images after docker save"):
        action(ExportAction).execute(host, defaults(ExportAction, names=["wct3/a:1"], path="/srv/ab.tar"))


def test_export_job_holds_a_lock_on_the_path_and_its_runner_renames_the_partial_file():
    host = export_host()
    sent = []
    original = host.execute

    def execute(operation, payload):
        sent.append((operation, payload))
        return original(operation, payload)

    host.execute = execute
    action(ExportAction).execute(host, defaults(ExportAction, names=["wct3/a:1"], path="/srv/ab.tar"))
    [start] = [payload for operation, payload in sent if operation == "job_start"]
    partial = lifecycle.partial_path(host, "/srv/ab.tar", [IMAGE_A])
    assert start["rename"] == {"from": partial, "to": "/srv/ab.tar"}
    assert start["locks"] == [hashlib.sha256(b"/srv/ab.tar").hexdigest()]
    assert all(not payload.get("rename") for operation, payload in sent if operation == "file_info")


def test_a_load_that_exits_0_without_the_images_fails():
    host = load_host()
    original = host.answer

    def answer(exe, argv):
        if argv[:2] == ["image", "load"]:
            host.argvs.append([exe] + argv)
            return 0, "Loaded image: wct3/a:1\n", ""  # and nothing is in the engine
        return original(exe, argv)

    host.answer = answer
    with pytest.raises(TaskFailed, match="docker load of /srv/ab.tar exited 0 but the engine lacks"):
        action(LoadAction).execute(host, defaults(LoadAction, path="/srv/ab.tar"))
