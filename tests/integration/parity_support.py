# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the community.docker parity tests (tests/integration/test_parity_*.py).

Each parity test runs one of our modules the way a playbook written for community.docker's module
of the same name runs it (same options, same values), and checks what that module documents:
changed or not, check mode, the diff, the return keys and their shapes, the failures.

* ``task``: a task of our module, with ``register``-like access through ``PlaybookRun.task``;
* ``publish_multi_platform``: a tag in the anonymous registry that is a manifest list with a
  linux/amd64 and a linux/arm64 image (pushed with the registry's HTTP API: the test engine cannot
  build an arm64 image, but it can pull one and keep it, as community.docker's tests do with
  Docker < 29);
* ``engine_api_version``: the engine's API version, for options that need a newer engine.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import urllib.request
import uuid
from typing import Any

import registry_support as rs

COLLECTION = "wincontainers.images"
PREFIX = "wct5"
SCHEMA2 = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
CONFIG = "application/vnd.docker.container.image.v1+json"
LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def task(module: str, title: str, /, **args: Any) -> dict[str, Any]:
    """A task of ``wincontainers.images.<module>``; ``check_mode``/``ignore_errors``/``diff`` go to the task."""
    keywords = {key: args.pop(key) for key in ("check_mode", "ignore_errors", "diff") if key in args}
    return dict({"name": title, "%s.%s" % (COLLECTION, module): args}, **keywords)


def unique_repository(kind: str) -> str:
    return "%s/%s-%s" % (PREFIX, kind, uuid.uuid4().hex[:10])


def _upload_blob(registry: str, repository: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    start = urllib.request.Request("http://%s/v2/%s/blobs/uploads/" % (registry, repository), method="POST", data=b"")
    with urllib.request.urlopen(start, timeout=30) as response:
        location = response.headers["Location"]
    if location.startswith("/"):
        location = "http://%s%s" % (registry, location)
    separator = "&" if "?" in location else "?"
    put = urllib.request.Request("%s%sdigest=%s" % (location, separator, digest), method="PUT", data=data,
                                 headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(put, timeout=60):
        pass
    return digest


def _put_manifest(registry: str, repository: str, reference: str, media_type: str, body: bytes) -> str:
    request = urllib.request.Request("http://%s/v2/%s/manifests/%s" % (registry, repository, reference), method="PUT",
                                     data=body, headers={"Content-Type": media_type})
    with urllib.request.urlopen(request, timeout=30):
        pass
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _layer(seed: str) -> tuple[bytes, bytes]:
    """(gzipped layer, uncompressed tar) of one small file."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        content = (seed + "\n").encode() + os.urandom(4096)
        info = tarfile.TarInfo("parity.txt")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0), raw.getvalue()


def publish_multi_platform(engine, repository: str, tag: str = "1") -> dict[str, str]:
    """Push a manifest list with a linux/amd64 and a linux/arm64 image; {architecture: image ID}.

    The image ID of a pulled image is the digest of its config (the engine's image store)."""
    registry = engine.registry_anon
    entries = []
    ids = {}
    for arch, variant in (("amd64", None), ("arm64", "v8")):
        compressed, raw = _layer("%s %s %s" % (repository, arch, uuid.uuid4().hex))
        config = {"architecture": arch, "os": "linux", "created": "2026-01-01T00:00:00Z",
                  "config": {"Labels": {"org.wincontainers.test": PREFIX}},
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]},
                  "history": [{"created": "2026-01-01T00:00:00Z", "created_by": "parity test"}]}
        if variant:
            config["variant"] = variant
        config_bytes = json.dumps(config, sort_keys=True).encode()
        config_digest = _upload_blob(registry, repository, config_bytes)
        layer_digest = _upload_blob(registry, repository, compressed)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": SCHEMA2,
            "config": {"mediaType": CONFIG, "size": len(config_bytes), "digest": config_digest},
            "layers": [{"mediaType": LAYER, "size": len(compressed), "digest": layer_digest}],
        }).encode()
        digest = _put_manifest(registry, repository, "%s-%s" % (tag, arch), SCHEMA2, manifest)
        platform = {"architecture": arch, "os": "linux"}
        if variant:
            platform["variant"] = variant
        entries.append({"mediaType": SCHEMA2, "size": len(manifest), "digest": digest, "platform": platform})
        ids[arch] = config_digest
    _put_manifest(registry, repository, tag, MANIFEST_LIST,
                  json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_LIST, "manifests": entries}).encode())
    return ids


def remove_images(engine, *image_ids: str) -> None:
    for image_id in image_ids:
        rs.remove_image(engine, image_id)


def engine_api_version(engine) -> tuple[int, ...]:
    text = rs.docker(engine, "version", "--format", "{{.Server.APIVersion}}").stdout.decode().strip()
    return tuple(int(part) for part in text.split("."))
