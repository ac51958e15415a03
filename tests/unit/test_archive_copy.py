# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_image_load with ``src``: an archive copied from the controller over the connection.

The decision (copy or not, which chunks), the reading of ``src`` on the controller, and the
action plugin against ``CopyHost`` (an in-memory host whose ``put_file`` and ``join_parts``
behave as the connection plugins and the constant scripts do). The POSIX ``join_parts`` script
itself is run for real, the way a Linux host runs it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from types import SimpleNamespace
from typing import Any

import pytest

from ansible_collections.wincontainers.images.plugins.action.docker_image_load import ActionModule as LoadAction
from ansible_collections.wincontainers.images.plugins.plugin_utils import archive_copy, lifecycle
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import PosixDialect, WindowsDialect, encode_request
from ansible_collections.wincontainers.images.plugins.plugin_utils.engine import Settings
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import CallResult, Host, HostError

IMAGE_A = "sha256:" + "a" * 64
IMAGE_B = "sha256:" + "b" * 64
CHUNK = 1000


def docker_archive(path, images=((IMAGE_A, ["wct3/a:1"]),), filler: int = 3500, oci: bool = False) -> str:
    """A small ``docker save``-like archive: layer bytes, configs and manifest.json (at the end,
    where docker puts it)."""
    manifest = []
    with tarfile.open(path, "w") as archive:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))

        for index, (image_id, tags) in enumerate(images):
            layer = ("layer-%d" % index).encode() * (filler // 7 + 1)
            add("%d/layer.tar" % index, layer[:filler])
            config = ("blobs/sha256/" + image_id[7:]) if oci else (image_id[7:] + ".json")
            add(config, b"{}")
            manifest.append({"Config": config, "RepoTags": tags or None, "Layers": ["%d/layer.tar" % index]})
        add("manifest.json", json.dumps(manifest).encode())
    return str(path)


# --- reading src on the controller ------------------------------------------------------------

def test_hash_file_chunks_cover_the_file_and_hash_each_part(tmp_path):
    data = os.urandom(2500)
    path = tmp_path / "f"
    path.write_bytes(data)
    size, digest, chunks = archive_copy.hash_file(str(path), 1000)
    assert size == 2500 and digest == hashlib.sha256(data).hexdigest()
    assert [(c.index, c.offset, c.size) for c in chunks] == [(0, 0, 1000), (1, 1000, 1000), (2, 2000, 500)]
    assert [c.sha256 for c in chunks] == [hashlib.sha256(data[i:i + 1000]).hexdigest() for i in (0, 1000, 2000)]


@pytest.mark.parametrize("size, count", [(0, 1), (1, 1), (1000, 1), (1001, 2), (3000, 3)])
def test_hash_file_chunk_count(tmp_path, size, count):
    path = tmp_path / "f"
    path.write_bytes(b"x" * size)
    _size, _digest, chunks = archive_copy.hash_file(str(path), 1000)
    assert len(chunks) == count and sum(c.size for c in chunks) == size


@pytest.mark.parametrize("oci", [False, True])
def test_read_source_reads_the_manifest_on_the_controller(tmp_path, oci):
    path = docker_archive(tmp_path / "ab.tar", [(IMAGE_A, ["wct3/a:1"]), (IMAGE_B, [])], oci=oci)
    source = archive_copy.read_source(path, CHUNK)
    assert source.entries == [{"id": IMAGE_A, "tags": ["wct3/a:1"]}, {"id": IMAGE_B, "tags": []}]
    assert source.size == os.path.getsize(path) and len(source.chunks) == -(-source.size // CHUNK)


def test_read_source_refuses_what_is_not_an_archive(tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "text").write_text("hello")
    with tarfile.open(tmp_path / "plain.tar", "w") as archive:
        info = tarfile.TarInfo("readme")
        archive.addfile(info, io.BytesIO(b""))
    cases = {
        str(tmp_path / "missing.tar"): "does not exist on the controller",
        str(tmp_path / "dir"): "is a directory on the controller",
        str(tmp_path / "text"): "is not a docker image archive",
        str(tmp_path / "plain.tar"): "is not a docker image archive .*no manifest.json",
    }
    os.mkfifo(tmp_path / "fifo")
    cases[str(tmp_path / "fifo")] = "is not a regular file"
    for path, message in cases.items():
        with pytest.raises(lifecycle.OptionError, match="^src: .*" + message):
            archive_copy.read_source(path, CHUNK)


def test_read_source_refuses_an_unreadable_file(tmp_path, monkeypatch):
    path = docker_archive(tmp_path / "a.tar")
    os.chmod(path, 0)
    if os.geteuid() == 0:
        # root reads any file whatever its mode: the open fails here as it does for other users
        def refused(name, *args, **kwargs):
            raise PermissionError(13, "Permission denied", name)
        monkeypatch.setattr(archive_copy, "open", refused, raising=False)
    with pytest.raises(lifecycle.OptionError, match="cannot be read on the controller: Permission denied"):
        archive_copy.read_source(path, CHUNK)


# --- the decision -------------------------------------------------------------------------------

def state(path, data: bytes | None = None, kind: str | None = "file") -> lifecycle.FileState:
    if data is None:
        return lifecycle.FileState(path, False, None, None, None)
    return lifecycle.FileState(path, True, kind, len(data), hashlib.sha256(data).hexdigest())


def source_of(tmp_path, data: bytes) -> archive_copy.Source:
    path = tmp_path / "src"
    path.write_bytes(data)
    size, digest, chunks = archive_copy.hash_file(str(path), CHUNK)
    return archive_copy.Source(str(path), size, digest, CHUNK, chunks)


def test_no_copy_when_the_host_file_has_the_sources_sha256(tmp_path):
    data = os.urandom(2500)
    plan = archive_copy.plan_copy(source_of(tmp_path, data), state("/t", data), [])
    assert not plan.needed and plan.send == () and plan.bytes_to_send == 0


def test_every_chunk_is_sent_when_the_host_has_no_file(tmp_path):
    source = source_of(tmp_path, os.urandom(2500))
    plan = archive_copy.plan_copy(source, state("/t"), [state("/p")] * 3)
    assert plan.needed and plan.send == source.chunks and plan.bytes_to_send == 2500


def test_a_different_file_is_replaced_and_chunks_already_there_are_kept(tmp_path):
    data = os.urandom(2500)
    source = source_of(tmp_path, data)
    parts = [state("/p0", data[:1000]), state("/p1", b"damaged" + data[1007:2000]), state("/p2")]
    plan = archive_copy.plan_copy(source, state("/t", b"an older archive"), parts)
    assert plan.needed and [c.index for c in plan.kept] == [0] and [c.index for c in plan.send] == [1, 2]


def test_a_directory_at_the_target_is_never_the_source(tmp_path):
    source = source_of(tmp_path, b"x")
    directory = lifecycle.FileState("/t", True, "directory", None, None)
    assert archive_copy.plan_copy(source, directory, [state("/p")]).needed


def test_chunk_names_depend_on_target_and_content(tmp_path):
    one, two = source_of(tmp_path, b"1" * 10), source_of(tmp_path / "..", b"2" * 10)
    token = archive_copy.copy_token("C:\\images\\a.tar", one)
    assert token == archive_copy.copy_token("C:\\images\\a.tar", one) and len(token) == 16
    assert token != archive_copy.copy_token("C:\\images\\b.tar", one)
    assert token != archive_copy.copy_token("C:\\images\\a.tar", two)
    assert archive_copy.part_path("C:\\images\\a.tar", token, 3) == "C:\\images\\a.tar.wcpart-%s-3" % token
    assert archive_copy.join_path("/srv/a.tar", token) == "/srv/a.tar.wcjoin-%s" % token


def test_progress_lines_name_chunk_amount_and_rate(tmp_path):
    source = source_of(tmp_path, os.urandom(2500))
    line = archive_copy.progress_line("h1", "C:\\a.tar", source.chunks[1], 3, 2 * 1024 * 1024, 5 * 1024 * 1024, 2.0)
    assert line == "h1: copying to C:\\a.tar: chunk 2/3, 2.0 MiB of 5.0 MiB sent, 1.0 MB/s, 2s elapsed"


# --- the action against an in-memory host ---------------------------------------------------------

class CopyHost:
    """The Host API for docker_image_load with src: files as bytes, put_file, join_parts."""

    engine = Settings()
    call_request = Host.call_request

    def __init__(self, windows: bool = False, files: dict[str, bytes] | None = None, images=None,
                 directories=("/srv", "C:\\images")) -> None:
        self.name = "host1"
        self.dialect = WindowsDialect() if windows else PosixDialect("python3")
        self.files = dict(files or {})
        self.directories = set(directories)
        self.images = {image_id: list(tags) for image_id, tags in (images or {}).items()}
        self.execs: list[str] = []
        self.puts: list[str] = []
        self.loaded: list[str] = []
        self.damage: set[int] = set()

    @property
    def is_windows(self) -> bool:
        return self.dialect.name == "windows"

    def put_file(self, local: str, remote: str) -> None:
        with open(local, "rb") as stream:
            data = stream.read()
        if len(self.puts) in self.damage:
            data = b"!" + data[1:]
        self.puts.append(remote)
        self.files[remote] = data

    def file_state(self, path: str, want_hash: bool) -> dict[str, Any]:
        if path in self.directories:
            return {"path": path, "exists": True, "kind": "directory", "size": None, "sha256": None}
        if path in self.files:
            data = self.files[path]
            return {"path": path, "exists": True, "kind": "file", "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest() if want_hash else None}
        return {"path": path, "exists": False, "kind": None, "size": None, "sha256": None}

    def rows(self) -> str:
        return "".join(json.dumps({"ID": image_id, "Repository": tag.rsplit(":", 1)[0], "Tag": tag.rsplit(":", 1)[1]})
                       + "\n" for image_id, tags in self.images.items() for tag in tags or ["<none>:<none>"])

    def answer(self, arguments) -> str:
        """docker image ls rows, or docker image inspect's objects of the IDs asked for."""
        arguments = list(arguments)
        if arguments[:2] == ["image", "inspect"]:
            return json.dumps([{"Id": image_id, "RepoTags": tags} for image_id, tags in self.images.items()
                               if image_id in arguments])
        return self.rows()

    def execute(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.execs.append(operation)
        if operation == "file_info":
            files = [self.file_state(f["path"], f["hash"]) for f in payload["files"]]
            results = [{"rc": 0, "stdout": self.answer(call.get("argv") or call["cmdline"].split()), "stderr": ""}
                       for call in payload["calls"]]
            return {"files": files, "results": results, "error": None}
        if operation == "join_parts":  # what JOIN_PARTS does
            joined = b""
            for index, part in enumerate(payload["parts"]):
                data = self.files.pop(part["path"])
                joined += data
                if hashlib.sha256(data).hexdigest() != part["sha256"]:
                    return {"problem": {"kind": "part_mismatch", "index": index,
                                        "sha256": hashlib.sha256(data).hexdigest()}, "error": None}
            self.files[payload["target"]] = joined
            return {"problem": None, "sha256": hashlib.sha256(joined).hexdigest(), "size": len(joined),
                    "removed": [], "error": None}
        if operation == "job_start":
            self.loaded.append(payload["calls"][0]["argv"][-1] if "argv" in payload["calls"][0] else "?")
            return {"state": "started", "error": None}
        if operation == "job_status":
            return {"exists": True, "claimed": True, "started": True, "alive": False, "error": None,
                    "finished": {"results": [{"rc": 0}], "error": None},
                    "outputs": [{"stdout": "Loaded image: wct3/a:1\n", "stderr": ""}]}
        if operation == "job_cleanup":
            return {"removed": True, "error": None}
        raise AssertionError("unexpected operation %s" % operation)

    def run(self, calls, parallel=1):
        del parallel
        self.execs.append("run")
        # after a load: the engine has what the archive holds
        self.images.setdefault(IMAGE_A, ["wct3/a:1"])
        return [CallResult(call, 0, self.answer(call.arguments), "") for call in calls]

    def reconnect(self) -> None:
        pass


def load_action(check=False, diff=False):
    plugin = LoadAction.__new__(LoadAction)
    plugin._task = SimpleNamespace(check_mode=check, diff=diff, args={})
    plugin._find_needle = lambda dirname, needle: needle
    plugin.CHUNK_SIZE = CHUNK
    return plugin


def args(src, path="/srv/a.tar"):
    return {"path": path, "src": src, "timeout": 3600}


@pytest.fixture
def archive(tmp_path):
    return docker_archive(tmp_path / "a.tar")


def test_first_run_copies_and_loads_then_nothing(archive):
    host = CopyHost()
    data = open(archive, "rb").read()
    result = load_action(diff=True).execute(host, args(archive))
    chunks = -(-len(data) // CHUNK)
    assert result["changed"] and result["copied"] and result["loaded"] == ["wct3/a:1"]
    assert result["sha256"] == hashlib.sha256(data).hexdigest() and result["size"] == len(data)
    assert result["transfer"]["chunks"] == result["transfer"]["chunks_sent"] == chunks == len(host.puts)
    assert host.files["/srv/a.tar"] == data and not any(".wcpart-" in name for name in host.files)
    assert host.execs[:2] == ["file_info", "join_parts"] and "job_start" in host.execs
    assert result["diff"]["before"]["archive"] is None
    assert result["diff"]["after"]["archive"] == {"sha256": result["sha256"], "size": len(data)}

    again = load_action().execute(host, args(archive))
    assert not again["changed"] and not again["copied"] and again["loaded"] == []
    assert "transfer" not in again and len(host.puts) == chunks and host.execs[-1] == "file_info"


def test_a_host_holding_a_different_file_gets_the_new_one(archive):
    host = CopyHost(files={"/srv/a.tar": b"an older archive"}, images={IMAGE_A: ["wct3/a:1"]})
    result = load_action(diff=True).execute(host, args(archive))
    assert result["changed"] and result["copied"] and result["loaded"] == [] and "job_start" not in host.execs
    assert host.files["/srv/a.tar"] == open(archive, "rb").read()
    assert result["diff"]["before"]["archive"] == {"sha256": hashlib.sha256(b"an older archive").hexdigest(), "size": 16}


def test_check_mode_reports_the_copy_and_the_load_without_either(archive):
    host = CopyHost(files={"/srv/a.tar": b"old"})
    result = load_action(check=True).execute(host, args(archive))
    assert result["changed"] and result["copied"] and host.puts == [] and host.execs == ["file_info"]
    assert host.files == {"/srv/a.tar": b"old"}


def test_an_interrupted_copy_is_resumed(archive):
    data = open(archive, "rb").read()
    source = archive_copy.read_source(archive, CHUNK)
    token = archive_copy.copy_token("/srv/a.tar", source)
    left = {archive_copy.part_path("/srv/a.tar", token, index): data[index * CHUNK:(index + 1) * CHUNK]
            for index in (0, 2)}
    host = CopyHost(files=left)
    result = load_action().execute(host, args(archive))
    sent = [name.rsplit("-", 1)[1] for name in host.puts]
    assert "0" not in sent and "2" not in sent and len(sent) == len(source.chunks) - 2
    assert result["transfer"]["chunks_kept"] == 2 and host.files["/srv/a.tar"] == data


def test_a_damaged_chunk_fails_clearly_and_leaves_the_target(archive):
    host = CopyHost(files={"/srv/a.tar": b"old"})
    host.damage = {1}
    with pytest.raises(archive_copy.CopyFailed, match="chunk 2 of the copy to /srv/a.tar arrived with sha256 .* "
                                                      "/srv/a.tar is unchanged. Run the task again"):
        load_action().execute(host, args(archive))
    assert host.files["/srv/a.tar"] == b"old" and "job_start" not in host.execs


def test_windows_paths_and_names(archive):
    host = CopyHost(windows=True)
    result = load_action().execute(host, args(archive, "C:\\images\\a.tar"))
    assert result["copied"] and all(name.startswith("C:\\images\\a.tar.wcpart-") for name in host.puts)


@pytest.mark.parametrize("path, message", [
    ("/nowhere/a.tar", "path: the directory /nowhere does not exist on host1; nothing was copied"),
    ("/srv", "path: /srv is a directory"),
])
def test_bad_targets_fail_before_any_copy(archive, path, message):
    host = CopyHost()
    with pytest.raises(TaskFailed, match=message):
        load_action().execute(host, args(archive, path))
    assert host.puts == [] and host.execs == ["file_info"]


def test_check_mode_warns_of_a_missing_directory_instead_of_failing(archive):
    host = CopyHost()
    result = load_action(check=True).execute(host, args(archive, "/nowhere/a.tar"))
    assert result["changed"] and result["copied"] and host.puts == []
    assert result["warnings"] == ["the directory /nowhere does not exist on host1 yet; the copy fails unless it is "
                                  "created first"]


@pytest.mark.parametrize("src, message", [
    ("/does/not/exist.tar", "src: /does/not/exist.tar does not exist on the controller"),
    (sys.executable, "is not a docker image archive"),
])
def test_bad_sources_fail_before_any_exec(src, message):
    host = CopyHost()
    with pytest.raises(HostError, match=message):
        load_action().execute(host, args(src))
    assert host.execs == [] and host.puts == []


def test_relative_src_is_looked_up_like_copy_does(archive):
    plugin = load_action()
    seen = []

    def find(dirname, needle):
        seen.append((dirname, needle))
        return archive

    plugin._find_needle = find
    host = CopyHost()
    assert plugin.execute(host, args("a.tar"))["copied"] and seen == [("files", "a.tar")]


# --- the POSIX join_parts script, run for real -------------------------------------------------------

def join(request: dict) -> dict:
    command = PosixDialect(sys.executable).command("join_parts")
    process = subprocess.run(["/bin/sh", "-c", command], input=encode_request(request), capture_output=True,
                             timeout=60, check=False)
    assert process.returncode == 0 and process.stderr == b"", process.stderr
    [line] = process.stdout.decode("ascii").splitlines()
    return json.loads(line)


def prepared(tmp_path, data: bytes, target_data: bytes | None = b"old", damage: int | None = None):
    directory = tmp_path / "images"
    directory.mkdir()
    target = directory / "a.tar"
    if target_data is not None:
        target.write_bytes(target_data)
    src = tmp_path / "src"
    src.write_bytes(data)
    size, digest, chunks = archive_copy.hash_file(str(src), CHUNK)
    source = archive_copy.Source(str(src), size, digest, CHUNK, chunks)
    token = archive_copy.copy_token(str(target), source)
    for chunk in chunks:
        piece = data[chunk.offset:chunk.offset + chunk.size]
        if chunk.index == damage:
            piece = b"!" + piece[1:]
        (directory / os.path.basename(archive_copy.part_path(str(target), token, chunk.index))).write_bytes(piece)
    return directory, target, archive_copy.join_request(source, str(target), token)


def test_posix_join_joins_checks_renames_and_cleans_up(tmp_path):
    data = os.urandom(2500)
    directory, target, request = prepared(tmp_path, data)
    stale = [directory / "a.tar.wcpart-0123456789abcdef-0", directory / "a.tar.wcjoin-0123456789abcdef"]
    keep = [directory / "a.tar.wcpart-notours", directory / "b.tar.wcpart-0123456789abcdef-0"]
    for path in stale + keep:
        path.write_bytes(b"left")
    answer = join(request)
    assert answer["error"] is None and answer["problem"] is None
    assert answer["sha256"] == hashlib.sha256(data).hexdigest() and answer["size"] == 2500
    assert target.read_bytes() == data
    assert sorted(answer["removed"]) == sorted(p.name for p in stale)
    assert sorted(p.name for p in directory.iterdir()) == sorted(["a.tar"] + [p.name for p in keep])


def test_posix_join_of_a_damaged_chunk_leaves_the_target_alone(tmp_path):
    data = os.urandom(2500)
    directory, target, request = prepared(tmp_path, data, damage=1)
    answer = join(request)
    assert answer["problem"]["kind"] == "part_mismatch" and answer["problem"]["index"] == 1
    assert target.read_bytes() == b"old"
    # the damaged chunk and the temporary file are gone; the chunk after it stays for a re-run
    assert sorted(p.name for p in directory.iterdir()) == ["a.tar", os.path.basename(request["parts"][2]["path"])]


def test_posix_join_refuses_a_whole_that_is_not_the_source(tmp_path):
    directory, target, request = prepared(tmp_path, os.urandom(2500), target_data=None)
    request["sha256"] = "0" * 64
    answer = join(request)
    assert answer["problem"]["kind"] == "mismatch" and not target.exists()
    assert [p.name for p in directory.iterdir()] == []


def test_posix_join_of_a_missing_chunk_is_an_error_and_no_target(tmp_path):
    directory, target, request = prepared(tmp_path, os.urandom(2500), target_data=None)
    os.remove(request["parts"][1]["path"])
    answer = join(request)
    assert answer["error"]["kind"] == "exception" and "FileNotFoundError" in answer["error"]["message"]
    assert not target.exists() and not os.path.exists(request["partial"])


def test_posix_join_does_not_follow_a_link_at_the_temporary_name(tmp_path):
    directory, target, request = prepared(tmp_path, os.urandom(100), target_data=None)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    os.symlink(victim, request["partial"])
    answer = join(request)
    assert answer["error"] is not None and victim.read_bytes() == b"precious" and not target.exists()
