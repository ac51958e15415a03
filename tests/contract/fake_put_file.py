# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fake Windows host's side of ansible-core's own ``put_file``, and of ``join_parts``.

docker_image_load with ``src`` copies an archive with the connection plugin's ``put_file``.
Those exchanges are ansible-core's, not the collection's, so the fake host must recognise them
as a real Windows host would receive them, byte for byte, for each transport and for both
ansible-core versions the collection claims. Each form below is modelled on the ansible-core
source named with it:

* ``winrm``, ansible-core 2.21 (``plugins/connection/winrm.py``, ``put_file`` and
  ``_put_file_stdin_iterator``; ``executor/powershell/module_manifest.py``,
  ``_bootstrap_powershell_script``): one WinRS command, ``powershell ... -EncodedCommand
  <bootstrap_wrapper.ps1>``; stdin is the bootstrap input (the ``exec_wrapper`` JSON, a line of
  four NULs, the exec manifest JSON naming ``winrm_put_file.ps1`` with ``{"Path": <path>}``, and
  a line of four NULs), then one base64 line (``\\r\\n``) per 250,000 bytes of the file. The
  answer is ``{"sha1":"<hex>"}``, which the plugin compares with the file's own SHA-1.
* ``winrm``, ansible-core 2.16 (same file, ``put_file``): the script is the plugin's
  ``script_template`` with the path in single quotes (``ShellModule._escape``), encoded by
  ``_encode_script(strict_mode=False, preserve_rc=False)`` (lines stripped, empty ones
  dropped); stdin is only the base64 lines.
* ``psrp``, ansible-core 2.21 (``plugins/connection/psrp.py``, ``put_file``): one pipeline
  running ``bootstrap_wrapper.ps1`` as a script, fed the bootstrap input's lines as strings
  (``psrp_put_file.ps1`` in the manifest), then each chunk of ``(max_payload_size - 82) / 4 * 3``
  bytes as a one-element list holding its base64.
* ``psrp``, ansible-core 2.16 (same file): the pipeline runs the plugin's ``copy_script`` with
  the path as its one argument, fed the one-element lists only.
* ``ssh`` (``plugins/connection/ssh.py``, ``_file_transport_command``; the harness sets
  ``ssh_transfer_method=sftp``): ``sftp -b - [options] [host]`` with ``put <local> <remote>``
  on stdin, the remote path made ``/C:/dir/file`` by ``_escape_win_path``. The fake ``ssh``
  executable is also the ``sftp`` one and hands such a run to ``sftp_main``.

The 2.16 script texts are taken from the installed ansible-core's own source (``ast``), never
copied here, so the comparison is with what that version really sends.

Files of the host: a file that arrives through put_file is kept as a blob (``blobs/<sha256>``
in the host directory) and listed in the state's ``files`` (see ``fake_lifecycle.py``) as
``{"blob": ..., "blob_path": ..., "size": ...}``; when the bytes are a ``docker save`` archive,
its images are read from them (manifest.json and each image's config, the image ID being the
config's sha256), so ``tar.exe`` and ``docker load`` see what was really sent. ``file_info``
then hashes the real bytes.

``join_parts`` (``powershell_scripts.JOIN_PARTS``) is emulated here too: the chunk files joined
into a new blob, each chunk's and the whole's sha256 checked, the chunk files removed, the
target replaced, leftovers of other copies to the same target removed.
"""

from __future__ import annotations

import ast
import base64
import binascii
import hashlib
import importlib
import inspect
import json
import ntpath
import os
import re
import shlex
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import fake_windows_host as fwh  # first: it registers the emulations this one builds on
import fake_lifecycle
from fake_windows_host import (
    EXCHANGES_FILE,
    SCENARIO_FILE,
    STATE_FILE,
    FakeDocker,
    FakeHostError,
    FakeWindowsHost,
    HostAnswer,
    append_jsonl,
    powershell_json,
    utf16_length,
)

# SHA-256 of the join_parts script this emulation was written against (see EMULATED_SCRIPTS).
JOIN_PARTS_SHA256 = "20b238861e9236b22a283989b8003f22a7f89358870db3a990c8cc858f3b1f48"
BLOBS = "blobs"
NULS = "\0\0\0\0"
PART_NAME = r"\.wc(part-[0-9a-f]{16}-[0-9]+|join-[0-9a-f]{16})$"


# --------------------------------------------------------------------------------------------
# ansible-core's own texts


def _ansible_script(name: str) -> str | None:
    """An executor script of the installed ansible-core 2.17+ (None on 2.16, which has none)."""
    try:
        from ansible.executor.powershell.module_manifest import _get_powershell_script
    except ImportError:
        return None
    try:
        return _get_powershell_script(name).decode("utf-8")
    except Exception:  # noqa: BLE001 - the script does not exist in this version
        return None


def _put_file_literal(plugin: str, variable: str) -> str | None:
    """The string assigned to ``variable`` in ``Connection.put_file`` of an ansible-core
    connection plugin (2.16's winrm ``script_template``, psrp ``copy_script``), from its source."""
    module = importlib.import_module("ansible.plugins.connection.%s" % plugin)
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "put_file":
            for statement in ast.walk(node):
                if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                        and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == variable
                        and isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str)):
                    return statement.value.value
    return None


def _encoded_script_lines(script: str) -> str:
    """What 2.16's ``ShellModule._encode_script(strict_mode=False, preserve_rc=False)`` encodes."""
    return "\n".join(line.strip() for line in script.splitlines() if line.strip())


def _unescape_single_quoted(text: str) -> str:
    """The reverse of ``ShellModule._escape`` (each of the five quote characters doubled)."""
    return re.sub("(['\u2018\u2019\u201a\u201b])\\1", "\\1", text)


def winrm_216_path(script: str) -> str | None:
    """The path of a 2.16 winrm put_file script, or None when ``script`` is not one."""
    template = _put_file_literal("winrm", "script_template")
    if template is None:
        return None
    marker = "\x00PATH\x00"
    prefix, _sep, suffix = _encoded_script_lines(template.format(marker)).partition(marker)
    if not (script.startswith(prefix) and script.endswith(suffix) and len(script) >= len(prefix) + len(suffix)):
        return None
    escaped = script[len(prefix):len(script) - len(suffix)]
    if re.search("(?<!['\u2018\u2019\u201a\u201b])['\u2018\u2019\u201a\u201b](?!['\u2018\u2019\u201a\u201b])", escaped):
        return None
    return _unescape_single_quoted(escaped)


def decode_any_encoded_command(command: str) -> str | None:
    """The script of a ``powershell ... -EncodedCommand <b64>`` line (any case of the program
    name: ansible-core 2.21 writes ``powershell``), or None."""
    match = re.fullmatch(r"(?i:powershell) -NoProfile -NonInteractive -ExecutionPolicy Unrestricted "
                         r"-EncodedCommand ([A-Za-z0-9+/]+={0,2})", command)
    if not match:
        return None
    try:
        return base64.b64decode(match.group(1), validate=True).decode("utf-16-le")
    except (binascii.Error, UnicodeDecodeError):
        return None


# --------------------------------------------------------------------------------------------
# blobs and the host's files


class BlobWriter:
    """A file arriving on the host: written to the blob store, hashed as it comes."""

    def __init__(self, host: FakeWindowsHost) -> None:
        self.directory = host.directory / BLOBS
        self.directory.mkdir(exist_ok=True)
        handle, self.temporary = tempfile.mkstemp(dir=self.directory, prefix=".incoming-")
        self.stream = os.fdopen(handle, "wb")
        self.sha256 = hashlib.sha256()
        self.sha1 = hashlib.sha1()  # noqa: S324 - what ansible-core's put_file compares
        self.size = 0

    def write(self, data: bytes) -> None:
        self.stream.write(data)
        self.sha256.update(data)
        self.sha1.update(data)
        self.size += len(data)

    def close(self) -> dict[str, Any]:
        self.stream.close()
        digest = self.sha256.hexdigest()
        final = self.directory / digest
        os.replace(self.temporary, final)
        return describe(final, digest, self.size)

    def discard(self) -> None:
        self.stream.close()
        try:
            os.remove(self.temporary)
        except OSError:
            pass


def describe(path: Path, digest: str, size: int) -> dict[str, Any]:
    """A state ``files`` entry for a blob: a docker save archive's images, or what tar.exe
    would make of it."""
    entry: dict[str, Any] = {"blob": digest, "blob_path": str(path), "size": size}
    try:
        entry["images"] = archive_images(path)
    except (tarfile.TarError, OSError, EOFError):
        entry["corrupt"] = "truncated"
    except ValueError:
        entry["foreign"] = True
    return entry


def archive_images(path: Path) -> list[dict[str, Any]]:
    """The images of a docker save archive (legacy or OCI layout), as fake_lifecycle keeps them."""
    with tarfile.open(path, mode="r:") as archive:
        members = {member.name.lstrip("./") if member.name.startswith("./") else member.name: member
                   for member in archive}
        if "manifest.json" not in members:
            raise ValueError("no manifest.json")
        manifest = json.loads(archive.extractfile(members["manifest.json"]).read())
        images = []
        for item in manifest:
            data = archive.extractfile(members[item["Config"]]).read()
            config = json.loads(data)
            image_id = "sha256:" + hashlib.sha256(data).hexdigest()
            image = {
                "Id": image_id, "RepoTags": [], "RepoDigests": [], "Parent": "", "Comment": "",
                "Created": config.get("created") or "2024-01-01T00:00:00Z", "DockerVersion": "",
                "Author": config.get("author") or "", "Config": config.get("config") or {},
                "Architecture": config.get("architecture") or "amd64", "Os": config.get("os") or "windows",
                "OsVersion": config.get("os.version") or "", "Size": sum(
                    members[layer].size for layer in item.get("Layers") or [] if layer in members),
                "RootFS": config.get("rootfs") or {"Type": "layers", "Layers": []},
                "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
            }
            tags = [fake_lifecycle._ref_name(tag) for tag in item.get("RepoTags") or []]
            images.append({"id": image_id, "tags": tags, "image": image})
    return images


def file_bytes(archive: Mapping[str, Any]) -> bytes:
    """fake_lifecycle.file_bytes, with the real bytes of a file that arrived through put_file."""
    if "blob_path" in archive:
        return Path(archive["blob_path"]).read_bytes()
    return _stand_in_bytes(archive)


_stand_in_bytes = fake_lifecycle.file_bytes


def windows_path_problem(path: str) -> str | None:
    if not re.match(r"^[A-Za-z]:\\", path) or re.search(r'[<>"|?*]', path[2:]) or "/" in path:
        return "the path %r is not an absolute Windows path with backslashes" % path
    return None


def store(host: FakeWindowsHost, transport: str, form: str, path: str, writer: BlobWriter,
          record: dict[str, Any]) -> str | None:
    """Put the arrived file at ``path`` in the host's state; an error text when it cannot be."""
    with host._locked():
        scenario = json.loads((host.directory / SCENARIO_FILE).read_text(encoding="utf-8"))
        state_path = host.directory / STATE_FILE
        state = json.loads(state_path.read_text(encoding="utf-8"))
        docker = FakeDocker(scenario, state)
        files = fake_lifecycle.ready(docker)
        directory = ntpath.dirname(path)
        record["put_file"] = {"form": form, "path": path, "bytes": writer.size, "sha256": writer.sha256.hexdigest()}
        problem = windows_path_problem(path)
        if problem is None and not fake_lifecycle._directory_exists(files, directory):
            problem = "Could not find a part of the path '%s'." % path
        if problem is not None:
            writer.discard()
            record["put_file"]["error"] = problem
        else:
            files["files"][path] = writer.close()
            state_path.write_text(json.dumps(state, indent=2), encoding="utf-8")
        append_jsonl(host.directory / EXCHANGES_FILE, record)
        return problem


def exchange_record(transport: str, command: str | None = None) -> dict[str, Any]:
    return {
        "event": "exchange", "transport": transport,
        "variant": os.environ.get("WC_FAKE_TRANSPORT_VARIANT") or transport,
        "command": command, "command_length": None if command is None else utf16_length(command),
        "collection_command": None, "script_name": "put_file", "processes": [],
    }


# --------------------------------------------------------------------------------------------
# WinRS (winrm) and PSRP


class PutFileSink:
    """One put_file command: fed its stdin (winrm bytes) or pipeline input (psrp values)."""

    def __init__(self, host: FakeWindowsHost, transport: str, form: str, command: str | None,
                 path: str | None, action: str | None) -> None:
        self.host = host
        self.transport = transport
        self.form = form
        self.command = command
        self.path = path  # None until the bootstrap input named it (2.21)
        self.action = action  # the executor script the manifest must name (2.21)
        self.header: list[str] = []
        self.pending = b""
        self.writer = BlobWriter(host)
        self.problem: str | None = None

    # the bootstrap input of 2.21 ------------------------------------------------------------
    def _header_line(self, line: str) -> None:
        self.header.append(line)
        if len(self.header) < 4:
            return
        bootstrap, first, manifest, second = self.header
        if first != NULS or second != NULS:
            raise FakeHostError("put_file: the bootstrap input is not JSON, NULs, JSON, NULs: %r" % self.header)
        wrapper = json.loads(bootstrap)
        if wrapper.get("name") != "exec_wrapper" or wrapper.get("script") != _ansible_script("exec_wrapper.ps1"):
            raise FakeHostError("put_file: the bootstrap input does not run ansible-core's exec_wrapper.ps1")
        manifest_data = json.loads(manifest)
        actions = manifest_data.get("actions") or []
        script = (manifest_data.get("scripts") or {}).get(self.action) or {}
        if ([a.get("name") for a in actions] != [self.action]
                or base64.b64decode(script.get("script") or "").decode("utf-8") != _ansible_script(self.action)):
            raise FakeHostError("put_file: the exec manifest does not run ansible-core's own %s: %r"
                                % (self.action, [a.get("name") for a in actions]))
        path = (actions[0].get("params") or {}).get("Path")
        if not isinstance(path, str):
            raise FakeHostError("put_file: the manifest gives no Path")
        self.path = path

    def _data(self, text: str) -> None:
        if text == "":
            return
        try:
            self.writer.write(base64.b64decode(text, validate=True))
        except binascii.Error as exc:
            raise FakeHostError("put_file: an input line is not base64: %s" % exc) from exc

    def feed_bytes(self, data: bytes) -> None:
        """winrm: stdin as WinRS delivers it; lines end with \\n (data lines with \\r\\n)."""
        self.pending += data
        *lines, self.pending = self.pending.split(b"\n")
        for raw in lines:
            self.feed_value(raw.decode("ascii").rstrip("\r"))

    def feed_value(self, value: Any) -> None:
        """psrp: one pipeline input object (a string, or a one-element list holding base64)."""
        if self.path is None:
            if not isinstance(value, str):
                raise FakeHostError("put_file: data before the bootstrap input named the file")
            self._header_line(value)
            return
        if isinstance(value, list):
            if len(value) != 1 or not isinstance(value[0], str):
                raise FakeHostError("put_file: pipeline input %r is not a one-element list of base64" % (value,))
            value = value[0]
        if not isinstance(value, str):
            raise FakeHostError("put_file: pipeline input of type %s" % type(value).__name__)
        self._data(value)

    def finish(self) -> HostAnswer:
        if self.pending:
            self.feed_value(self.pending.decode("ascii").rstrip("\r"))
            self.pending = b""
        if self.path is None:
            raise FakeHostError("put_file: the input ended before the bootstrap input named the file")
        sha1 = self.writer.sha1.hexdigest()
        problem = store(self.host, self.transport, self.form, self.path, self.writer,
                        exchange_record(self.transport, self.command))
        if problem is not None:
            return HostAnswer(1, [], 'Exception calling "Create" with "1" argument(s): "%s"\r\n' % problem)
        return HostAnswer(0, ['{"sha1":"%s"}' % sha1], "")


def open_winrm(host: FakeWindowsHost, command_line: str) -> PutFileSink | None:
    """A sink when the WinRS command is ansible-core's put_file (2.21 or 2.16), else None."""
    script = decode_any_encoded_command(command_line)
    if script is None:
        return None
    if script == _ansible_script("bootstrap_wrapper.ps1"):
        if utf16_length(command_line) > fwh.CMD_EXE_LIMIT:
            raise FakeHostError("put_file: the command line has %d characters" % utf16_length(command_line))
        return PutFileSink(host, "winrm", "winrm 2.17+: bootstrap_wrapper.ps1 + winrm_put_file.ps1", command_line,
                           None, "winrm_put_file.ps1")
    path = winrm_216_path(script)
    if path is not None:
        return PutFileSink(host, "winrm", "winrm 2.16: script_template", command_line, path, None)
    return None


def _pipeline_arguments(create_pipeline: bytes) -> list[Any]:
    """The argument values of the first command of a CREATE_PIPELINE message."""
    from fake_wsman import clixml_string

    root = ET.fromstring(create_pipeline)
    values: list[Any] = []
    for element in root.iter("Obj"):
        if element.get("N") == "Args":
            for argument in element.findall("LST/Obj"):
                value = argument.find("MS/*[@N='V']")
                values.append(None if value is None else clixml_string(ET.tostring(value)))
            break
    return values


def open_psrp(host: FakeWindowsHost, create_pipeline: bytes) -> PutFileSink | None:
    """A sink when the PSRP pipeline is ansible-core's put_file (2.21 or 2.16), else None."""
    from fake_wsman import pipeline_commands

    _meta, *commands = pipeline_commands(create_pipeline)
    if len(commands) != 1 or not commands[0]["is_script"]:
        return None
    script = commands[0]["cmd"]
    if script == _ansible_script("bootstrap_wrapper.ps1") and commands[0]["args"] == 0:
        return PutFileSink(host, "psrp", "psrp 2.17+: bootstrap_wrapper.ps1 + psrp_put_file.ps1", None, None,
                           "psrp_put_file.ps1")
    copy_script = _put_file_literal("psrp", "copy_script")
    if copy_script is not None and script == copy_script and commands[0]["args"] == 1:
        [path] = _pipeline_arguments(create_pipeline)
        if not isinstance(path, str):
            raise FakeHostError("put_file: the copy script's argument is not a string: %r" % (path,))
        return PutFileSink(host, "psrp", "psrp 2.16: copy_script", None, path, None)
    return None


# --------------------------------------------------------------------------------------------
# sftp (the ssh plugin's put_file)


def sftp_main(argv: Sequence[str], stdin: bytes) -> int:
    """The fake ``sftp -b -``: each ``put LOCAL REMOTE`` of the batch, as Windows OpenSSH's
    sftp-server stores it (``/C:/dir/file`` is ``C:\\dir\\file``)."""
    host = FakeWindowsHost(os.environ["WC_FAKE_WINDOWS_HOST"])
    if list(argv[:2]) != ["-b", "-"]:
        host.record_error("ssh", "sftp: expected batch mode from stdin (-b -), got %r" % list(argv[:2]))
        return 255
    for line in stdin.decode("utf-8").splitlines():
        if not line.strip():
            continue
        words = shlex.split(line)
        sys.stdout.write("sftp> %s\n" % line)
        if len(words) != 3 or words[0] != "put":
            host.record_error("ssh", "sftp: the fake sftp emulates only 'put LOCAL REMOTE', not %r" % line)
            return 255
        local, remote = words[1], words[2]
        match = re.fullmatch(r"/([A-Za-z]:)(/.*)", remote)
        if not match:
            host.record_error("ssh", "sftp: %r is not a path ansible-core's _escape_win_path writes" % remote)
            return 255
        path = match.group(1) + match.group(2).replace("/", "\\")
        writer = BlobWriter(host)
        with open(local, "rb") as stream:
            for block in iter(lambda: stream.read(1024 * 1024), b""):
                writer.write(block)
        problem = store(host, "ssh", "ssh: sftp put", path, writer, exchange_record("ssh"))
        if problem is not None:
            sys.stderr.write('dest open "%s": No such file or directory\n' % remote)
            return 1
    return 0


def is_sftp(argv: Sequence[str]) -> bool:
    """Whether the fake ``ssh`` was started as ``sftp`` (the ssh plugin passes ``-b -`` first)."""
    return list(argv[:2]) == ["-b", "-"]


# --------------------------------------------------------------------------------------------
# join_parts


def script_join_parts(self: FakeWindowsHost, lines: list[str], record: dict[str, Any], scenario: Mapping[str, Any],
                      docker: FakeDocker) -> list[str]:
    """powershell_scripts.JOIN_PARTS."""
    del scenario

    def answer(value: Mapping[str, Any]) -> list[str]:
        return [powershell_json(value)]

    request = json.loads("\n".join(lines))
    record["request"] = request
    state = fake_lifecycle.ready(docker)
    files = state["files"]
    target, partial = request["target"], request["partial"]
    writer = None
    try:
        writer = BlobWriter(self)
        problem = None
        for index, part in enumerate(request["parts"]):
            entry = files.get(part["path"])
            if entry is None:
                raise _Failure('Exception calling ".ctor" with "4" argument(s): "Could not find file \'%s\'."'
                               % part["path"])
            data = file_bytes(entry)
            writer.write(data)
            del files[part["path"]]
            docker.changed = True
            digest = hashlib.sha256(data).hexdigest()
            if digest != part["sha256"]:
                problem = {"kind": "part_mismatch", "index": index, "sha256": digest}
                break
        if problem is None and (writer.sha256.hexdigest() != request["sha256"] or writer.size != int(request["size"])):
            problem = {"kind": "mismatch", "sha256": writer.sha256.hexdigest(), "size": writer.size}
        if problem is not None:
            writer.discard()
            return answer({"problem": problem, "sha256": None, "size": None, "removed": [], "error": None})
        digest, size = writer.sha256.hexdigest(), writer.size
        files[target] = writer.close()
        files.pop(partial, None)
        docker.changed = True
        folder, leaf = ntpath.split(target)
        pattern = re.compile("^" + re.escape(leaf.lower()) + PART_NAME)
        removed = []
        for name in sorted(files):
            other_folder, other_leaf = ntpath.split(name)
            if other_folder.lower() == folder.lower() and pattern.match(other_leaf.lower()):
                del files[name]
                removed.append(other_leaf)
        return answer({"problem": None, "sha256": digest, "size": size, "removed": removed, "error": None})
    except _Failure as exc:
        if writer is not None:
            writer.discard()
        return answer({"problem": None, "sha256": None, "size": None, "removed": [],
                       "error": {"kind": "exception", "message": str(exc)}})


class _Failure(Exception):
    """An exception the script's own try/catch turns into an ``exception`` answer."""


# --------------------------------------------------------------------------------------------
# registration


def register() -> None:
    """Add the join_parts emulation and real file bytes to the fake host. Done when this module
    is first imported, by fake_wsman.py or fake_ssh.py: every exchange reaches the fake host
    through one of them, and fake_windows_host.py stays as it is."""
    if getattr(FakeWindowsHost, "_script_join_parts", None) is script_join_parts:
        return
    FakeWindowsHost._script_join_parts = script_join_parts  # type: ignore[attr-defined]
    fwh.EMULATED_SCRIPTS["join_parts"] = JOIN_PARTS_SHA256
    fake_lifecycle.file_bytes = file_bytes


register()
