# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.docker_image_export (documentation in plugins/modules).

One exec reads the images, the archive (exists, size, sha256) and its ``manifest.json`` (through
``tar``). An archive that already holds exactly the asked images under the asked names is left
alone. Otherwise ``docker save`` runs as a detached host job that writes ``<path>.partial-<token>``,
which the job's runner renames to ``path`` only when the save succeeded (the job holds a lock on
``path`` meanwhile); a last exec reads the archive back (size, sha256, manifest): an interrupted
export never leaves a file at ``path`` that looks complete.
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli, lifecycle, limits, registry
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, Host
from ansible_collections.wincontainers.images.plugins.plugin_utils.jobs import HostJob, verbose_progress
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import parse_tag


# What docker says when the engine or the CLI cannot save one platform: a CLI older than 28 does
# not know the flag; CLI 28 on an engine older than API 1.48 names the API version it needs.
_PLATFORM_UNSUPPORTED = re.compile(r"unknown flag: --platform|requires API version|platform.*not supported", re.IGNORECASE)


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "names": {"type": "list", "elements": "str", "required": True, "aliases": ["name"]},
        "tag": {"type": "str", "default": "latest"},
        "path": {"type": "str", "required": True},
        "force": {"type": "bool", "default": False},
        "timeout": {"type": "int", "default": 3600},
        "platform": {"type": "str"},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        tag = parse_tag(args["tag"], "tag")
        if not args["names"]:
            raise TaskFailed("names: at least one image is required")
        specs = lifecycle.image_specs(args["names"], "names", tag)
        path = lifecycle.host_path(host, args["path"], "path")
        if args["timeout"] <= 0:
            raise TaskFailed("timeout: %r must be a positive number of seconds" % args["timeout"])
        try:
            platform = registry.check_platform(args["platform"])
        except registry.OptionError as exc:
            raise TaskFailed(str(exc)) from None
        directory = lifecycle.parent_directory(host, path)
        texts = list(dict.fromkeys(spec.text for spec in specs))
        # One docker save takes every name: it must fit in one command line (the partial name has
        # the same length whatever the images).
        limits.check_call(host.is_windows, host.name, self._save_arguments(lifecycle.partial_path(host, path, []), texts, platform),
                          [("path", path, False)] + [("names", text, False) for text in texts])

        read_archive = not args["force"]
        calls = [(call, None) for call in docker_cli.inspect_calls(texts)]
        if read_archive:
            calls.append((lifecycle.manifest_call(path), 0))
        info = lifecycle.file_info(host, files=[(path, read_archive), (directory, False)], calls=calls)
        archive, folder = info.files
        inspect_results = info.results[:-1] if read_archive else info.results
        images = docker_cli.read_inspect(host, inspect_results)
        found = []
        per_name = []  # one inspect object per name, in order (community.docker's images)
        missing = []
        for spec in specs:
            image = docker_cli.find_image(images, spec)
            if image is None:
                missing.append(spec.text)
                continue
            per_name.append(image)
            if image not in found:
                found.append(image)
        if missing:
            raise TaskFailed("names: no image %s on %s" % (", ".join(repr(name) for name in missing), host.name))
        if archive.kind == "directory":
            raise TaskFailed("path: %s is a directory; give the archive's file name" % path)
        if folder.kind != "directory":
            raise TaskFailed("path: the directory %s does not exist on %s" % (directory, host.name))

        image_ids = [image["Id"] for image in found]
        before_ids = None
        if archive.exists and read_archive:
            tar = info.results[-1]
            if lifecycle.tar_missing(tar):
                raise TaskFailed("%s; or set force: true to overwrite it"
                                 % lifecycle.tar_missing_message(host, "comparing the existing archive %s" % path))
            entries = None
            if tar.ok:
                try:
                    entries = lifecycle.parse_manifest(tar.stdout)
                except ValueError:
                    entries = None
            if entries is not None:
                before_ids = sorted({entry["id"] for entry in entries})
                if lifecycle.archive_matches(entries, found, specs):
                    return self._result(False, path, archive.sha256, archive.size, per_name, before_ids, None)

        if self.check_mode:
            return self._result(True, path, None, None, per_name, before_ids, None)

        # docker save writes <path>.partial-<token>; the job's runner renames it to path only when
        # the save succeeded, and the job holds a lock on path: no other export writes it meanwhile.
        partial = lifecycle.partial_path(host, path, image_ids)
        save = Call(self._save_arguments(partial, texts, platform))
        job = HostJob(host, "docker save to %s" % path, [save], locks=[path], rename=(partial, path))
        saved = job.run(timeout=args["timeout"], poll_interval=2.0, first_poll_interval=0.5, on_progress=verbose_progress(host, "docker save to %s" % path))[0]
        if not saved.ok:
            docker_cli.raise_for_engine(host, [saved])
            if platform and _PLATFORM_UNSUPPORTED.search(saved.stderr):
                raise TaskFailed("platform: %s: this Docker engine cannot save one platform of an image (docker save "
                                 "--platform needs Docker 28, API 1.48, on the host; and a docker CLI that knows the "
                                 "flag): %s; leave platform unset to save the images as they are"
                                 % (host.name, docker_cli.first_line(saved.stderr)))
            raise TaskFailed("%s: docker save failed (exit code %d): %s"
                             % (host.name, saved.rc, saved.stderr.strip() or saved.stdout.strip() or "no output"))
        # Read the archive back: it must be there and hold the asked images under the asked names.
        info = lifecycle.file_info(host, files=[(path, True)], calls=[(lifecycle.manifest_call(path), 0)])
        final, tar = info.files[0], info.results[0]
        if not final.exists:
            raise TaskFailed("%s: the archive %s is missing after docker save" % (host.name, path))
        if tar.ok and not lifecycle.archive_matches(lifecycle.manifest_entries(tar), found, specs):
            raise TaskFailed("%s: the archive %s does not hold the images after docker save (did another task write it?)"
                             % (host.name, path))
        return self._result(True, path, final.sha256, final.size, per_name, before_ids, job.summary())

    @staticmethod
    def _save_arguments(partial: str, texts: list[str], platform: str | None = None) -> tuple[str, ...]:
        platform_flags = ("--platform", platform) if platform else ()
        return ("image", "save", "--output", partial) + platform_flags + (docker_cli.END_OF_FLAGS,) + tuple(texts)

    def _result(self, changed, path, sha256, size, images, before_ids, job) -> dict[str, Any]:
        result: dict[str, Any] = {
            "changed": changed,
            "path": path,
            "sha256": sha256,
            "size": size,
            "images": images,
            "image_ids": list(dict.fromkeys(image["Id"] for image in images)),
        }
        if job is not None:
            result["job"] = job
        if self.diff_mode:
            result["diff"] = {
                "before": {"path": path, "image_ids": before_ids},
                "after": {"path": path, "image_ids": sorted({image["Id"] for image in images})},
            }
        return result
