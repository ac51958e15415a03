# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copying an archive from the controller to the host over the task's own connection.

Windows hosts reached with NTLM, or with Kerberos without delegation, cannot open a UNC share
from inside the session (the second hop), so an offline archive has to travel through the
connection itself. ansible-core's ``winrm``, ``psrp``, ``ssh`` and ``local`` connection plugins
all implement ``put_file``; nothing from ``ansible.windows`` is needed.

How a copy goes (decided here, on the controller):

1. ``read_source``: ``src`` is checked (exists, is a file, readable) and read once: its sha256,
   the sha256 of each chunk of ``CHUNK_SIZE`` bytes, and its ``manifest.json`` (so a file that
   is not a ``docker save`` archive fails before anything is sent).
2. One exec (``file_info``) reports the host's file at ``path`` (sha256) and the chunk files an
   interrupted earlier copy of the same source to the same path left (``part_path``).
   ``plan_copy`` decides: nothing when the host's file has the source's sha256; otherwise the
   chunks the host does not already hold with the right sha256.
3. Each chunk to send is one ``put_file`` to its chunk file, with a progress line.
4. One exec of the constant ``join_parts`` script joins the chunk files, in order, into a
   temporary file (``join_path``), checking the sha256 of each chunk and of the whole, removes
   each chunk file once appended, and renames the temporary file to ``path`` only when the
   whole has the source's sha256 and size. A partial copy is never visible under ``path``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Host, HostError
from ansible_collections.wincontainers.images.plugins.plugin_utils.lifecycle import (
    MANIFEST,
    FileState,
    OptionError,
    check_text,
    parse_manifest,
)

# Bytes sent by one put_file. Each put_file is one command on the host (winrm: one WinRS
# command fed 250,000-byte stdin blocks; psrp: one pipeline; ssh: one sftp run), so a chunk
# bounds what an interrupted copy loses and gives one progress line; 64 MiB keeps the
# per-command overhead (a few hundred ms) under 2% at WinRM speeds (see benchmarks/archive_copy.py).
CHUNK_SIZE = 64 * 1024 * 1024
READ_BLOCK = 1024 * 1024
PART_INFIX = ".wcpart-"
JOIN_INFIX = ".wcjoin-"


class CopyFailed(HostError):
    """The copy could not be completed; the host's file at ``path`` is unchanged."""


@dataclass(frozen=True)
class Chunk:
    index: int
    offset: int
    size: int
    sha256: str


@dataclass(frozen=True)
class Source:
    """The archive on the controller, as read once before anything is sent."""

    path: str
    size: int
    sha256: str
    chunk_size: int
    chunks: tuple[Chunk, ...]
    entries: list[dict[str, Any]] = field(default_factory=list, compare=False)


def check_source(path: Any, option: str = "src") -> str:
    """``path`` (already resolved by the action) is an existing, readable regular file."""
    text = check_text(path, option, allow_newlines=False)
    if not os.path.lexists(text):
        raise OptionError("%s: %s does not exist on the controller" % (option, text))
    if os.path.isdir(text):
        raise OptionError("%s: %s is a directory on the controller, not an image archive" % (option, text))
    if not os.path.isfile(text):
        raise OptionError("%s: %s is not a regular file on the controller" % (option, text))
    try:
        with open(text, "rb"):
            pass
    except OSError as exc:
        raise OptionError("%s: %s cannot be read on the controller: %s" % (option, text, exc.strerror or exc)) from None
    return text


def hash_file(path: str, chunk_size: int = CHUNK_SIZE) -> tuple[int, str, tuple[Chunk, ...]]:
    """Size, sha256 and chunks of a file, in one pass."""
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    whole = hashlib.sha256()
    chunks = []
    offset = 0
    with open(path, "rb") as stream:
        while True:
            part = hashlib.sha256()
            size = 0
            while size < chunk_size:
                block = stream.read(min(READ_BLOCK, chunk_size - size))
                if not block:
                    break
                part.update(block)
                whole.update(block)
                size += len(block)
            if size or not chunks:
                chunks.append(Chunk(len(chunks), offset, size, part.hexdigest()))
            offset += size
            if size < chunk_size:
                break
    return offset, whole.hexdigest(), tuple(chunks)


def read_archive_manifest(path: str, option: str = "src") -> list[dict[str, Any]]:
    """The entries of the ``manifest.json`` of a ``docker save`` archive on the controller.

    ``tarfile`` seeks from header to header, so this reads a few KB of a multi-GB archive.
    """
    try:
        with tarfile.open(path, mode="r:") as archive:
            member = next((m for m in archive if m.name in (MANIFEST, "./" + MANIFEST)), None)
            if member is None or not member.isfile():
                raise ValueError("it holds no manifest.json")
            handle = archive.extractfile(member)
            text = handle.read().decode("utf-8") if handle is not None else ""
        return parse_manifest(text)
    except (tarfile.TarError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise OptionError("%s: %s is not a docker image archive (%s); nothing was copied" % (option, path, exc)) from None


def read_source(path: str, chunk_size: int = CHUNK_SIZE, option: str = "src") -> Source:
    checked = check_source(path, option)
    entries = read_archive_manifest(checked, option)
    size, digest, chunks = hash_file(checked, chunk_size)
    return Source(checked, size, digest, chunk_size, chunks, entries)


# --- names on the host -------------------------------------------------------------------------

def copy_token(target: str, source: Source) -> str:
    """The same for the same source copied to the same path: a re-run finds the chunk files an
    interrupted copy left and sends only the others."""
    material = json.dumps([target, source.sha256, source.size, source.chunk_size])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]


def part_path(target: str, token: str, index: int) -> str:
    return "%s%s%s-%d" % (target, PART_INFIX, token, index)


def join_path(target: str, token: str) -> str:
    return "%s%s%s" % (target, JOIN_INFIX, token)


# --- the decision --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CopyPlan:
    needed: bool
    send: tuple[Chunk, ...] = ()
    kept: tuple[Chunk, ...] = ()

    @property
    def bytes_to_send(self) -> int:
        return sum(chunk.size for chunk in self.send)


def target_matches(target: FileState, source: Source) -> bool:
    return target.kind == "file" and target.sha256 == source.sha256 and target.size == source.size


def plan_copy(source: Source, target: FileState, parts: Sequence[FileState]) -> CopyPlan:
    """Nothing when the host's file is the source; else the chunks the host lacks."""
    if target_matches(target, source):
        return CopyPlan(False)
    if len(parts) != len(source.chunks):
        raise ValueError("expected the state of %d chunk files, got %d" % (len(source.chunks), len(parts)))
    send, kept = [], []
    for chunk, state in zip(source.chunks, parts):
        if state.kind == "file" and state.size == chunk.size and state.sha256 == chunk.sha256:
            kept.append(chunk)
        else:
            send.append(chunk)
    return CopyPlan(True, tuple(send), tuple(kept))


# --- the copy ------------------------------------------------------------------------------------

def human_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return ("%d %s" % (size, unit)) if unit == "B" else ("%.1f %s" % (size, unit))
        size /= 1024.0
    return "%.1f GiB" % size  # pragma: no cover - the loop always returns


def progress_line(host: str, target: str, chunk: Chunk, chunks: int, sent: int, total: int, elapsed: float) -> str:
    rate = sent / elapsed / 1e6 if elapsed > 0 else 0.0
    return "%s: copying to %s: chunk %d/%d, %s of %s sent, %.1f MB/s, %ds elapsed" % (
        host, target, chunk.index + 1, chunks, human_size(sent), human_size(total), rate, int(elapsed))


def display_line() -> Callable[[str], None]:
    from ansible.utils.display import Display

    return Display().display


def send_chunks(
    host: Host,
    source: Source,
    target: str,
    token: str,
    plan: CopyPlan,
    emit: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """``put_file`` every chunk of the plan to its chunk file on the host, a line per chunk."""
    emit = emit or display_line()
    started = clock()
    sent = 0
    total = plan.bytes_to_send
    if plan.kept:
        emit("%s: copying to %s: %d of %d chunks already on the host from an interrupted copy, sending %d"
             % (host.name, target, len(plan.kept), len(source.chunks), len(plan.send)))
    with tempfile.TemporaryDirectory(prefix="wincontainers-copy-") as scratch:
        local = os.path.join(scratch, "chunk")
        for chunk in plan.send:
            if len(source.chunks) == 1:
                upload = source.path
            else:
                upload = local
                write_chunk(source.path, chunk, local)
            host.put_file(upload, part_path(target, token, chunk.index))
            sent += chunk.size
            emit(progress_line(host.name, target, chunk, len(source.chunks), sent, total, clock() - started))
    return {"chunks": len(source.chunks), "chunks_sent": len(plan.send), "chunks_kept": len(plan.kept),
            "bytes_sent": sent, "seconds": round(clock() - started, 3)}


def write_chunk(path: str, chunk: Chunk, destination: str) -> None:
    """The bytes of ``chunk`` in a file of their own (put_file takes a path); checked as written,
    so a source changed since it was hashed fails here instead of on the host."""
    digest = hashlib.sha256()
    remaining = chunk.size
    with open(path, "rb") as stream, open(destination, "wb") as out:
        stream.seek(chunk.offset)
        while remaining:
            block = stream.read(min(READ_BLOCK, remaining))
            if not block:
                break
            digest.update(block)
            out.write(block)
            remaining -= len(block)
    if remaining or digest.hexdigest() != chunk.sha256:
        raise CopyFailed("src: %s changed while it was being copied (chunk %d differs from what was hashed); "
                         "nothing was replaced on the host" % (path, chunk.index + 1))


def join_request(source: Source, target: str, token: str) -> dict[str, Any]:
    return {
        "target": target,
        "partial": join_path(target, token),
        "size": source.size,
        "sha256": source.sha256,
        "parts": [{"path": part_path(target, token, chunk.index), "size": chunk.size, "sha256": chunk.sha256}
                  for chunk in source.chunks],
    }


def join_parts(host: Host, source: Source, target: str, token: str) -> dict[str, Any]:
    """One exec: the chunk files joined, checked and renamed to ``target``."""
    answer = host.execute("join_parts", join_request(source, target, token))
    problem = answer.get("problem")
    if problem:
        kind = problem.get("kind")
        if kind == "part_mismatch":
            raise CopyFailed(
                "%s: chunk %d of the copy to %s arrived with sha256 %s, expected %s; it was removed and %s is "
                "unchanged. Run the task again to send it again."
                % (host.name, int(problem.get("index", 0)) + 1, target, problem.get("sha256"),
                   source.chunks[int(problem.get("index", 0))].sha256, target))
        raise CopyFailed("%s: the copy joined on the host has sha256 %s and %s bytes, expected %s and %s bytes; %s "
                         "is unchanged" % (host.name, problem.get("sha256"), problem.get("size"), source.sha256,
                                           source.size, target))
    if answer.get("sha256") != source.sha256 or int(answer.get("size") or -1) != source.size:
        raise CopyFailed("%s: join_parts answered sha256 %s for %s, expected %s"
                         % (host.name, answer.get("sha256"), target, source.sha256))
    return dict(answer)
