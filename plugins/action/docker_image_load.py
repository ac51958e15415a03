# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.docker_image_load (documentation in plugins/modules).

One exec reads the archive's ``manifest.json`` (through ``tar``, which also reads the archive
to its end, so a truncated archive is found before anything is loaded) and lists the images
the engine holds. When every image of the archive is present with the same ID and tags,
nothing more happens; otherwise ``docker load`` runs as a detached host job.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli, lifecycle
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, Host
from ansible_collections.wincontainers.images.plugins.plugin_utils.jobs import HostJob, verbose_progress


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "path": {"type": "str", "required": True},
        "timeout": {"type": "int", "default": 3600},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        path = lifecycle.host_path(host, args["path"], "path")
        if args["timeout"] <= 0:
            raise TaskFailed("timeout: %r must be a positive number of seconds" % args["timeout"])

        info = lifecycle.file_info(
            host,
            files=[(path, False)],
            calls=[(lifecycle.manifest_call(path), 0), (lifecycle.image_ls_call(), None)],
        )
        archive = info.files[0]
        tar, listing = info.results
        if archive.kind == "directory":
            raise TaskFailed("path: %s is a directory, not an image archive" % path)
        if not archive.exists:
            raise TaskFailed("path: the archive %s does not exist on %s" % (path, host.name))
        if lifecycle.tar_missing(tar):
            raise TaskFailed(lifecycle.tar_missing_message(host, "docker_image_load"))
        if not tar.ok:
            raise TaskFailed("path: %s is not a readable image archive (tar exit code %d: %s); nothing was loaded"
                             % (path, tar.rc, lifecycle.first_error_line(tar)))
        try:
            entries = lifecycle.parse_manifest(tar.stdout)
        except ValueError as exc:
            raise TaskFailed("path: %s is not a docker image archive: %s; nothing was loaded" % (path, exc)) from None
        present = lifecycle.read_image_ls(host, listing)
        missing = lifecycle.missing_from_engine(entries, present)
        before = {entry["id"]: sorted(present.get(entry["id"]) or []) if entry["id"] in present else None for entry in entries}
        if not missing:
            return self._result(False, path, entries, [], before, None)
        if self.check_mode:
            return self._result(True, path, entries, [], before, None)

        job = HostJob(host, "docker load of %s" % path, [Call(("image", "load", "--input", path))])
        loaded = job.run(timeout=args["timeout"], poll_interval=2.0, first_poll_interval=0.5, on_progress=verbose_progress(host, "docker load of %s" % path))[0]
        if not loaded.ok:
            docker_cli.raise_for_engine(host, [loaded])
            raise TaskFailed("%s: docker load of %s failed (exit code %d): %s"
                             % (host.name, path, loaded.rc, loaded.stderr.strip() or loaded.stdout.strip() or "no output"))
        # Read the engine back: every image of the archive must be there under its names now.
        [listing] = host.run([lifecycle.image_ls_call()])
        still_missing = lifecycle.missing_from_engine(entries, lifecycle.read_image_ls(host, listing))
        if still_missing:
            raise TaskFailed("%s: docker load of %s exited 0 but the engine lacks %s"
                             % (host.name, path, ", ".join(still_missing)))
        return self._result(True, path, entries, lifecycle.loaded_names(loaded.stdout), before, job.summary())

    def _result(self, changed, path, entries, loaded, before, job) -> dict[str, Any]:
        result: dict[str, Any] = {
            "changed": changed,
            "path": path,
            "images": [{"id": entry["id"], "tags": entry["tags"]} for entry in entries],
            "image_names": [tag for entry in entries for tag in entry["tags"]]
            + [entry["id"] for entry in entries if not entry["tags"]],
            "loaded": loaded,
        }
        if job is not None:
            result["job"] = job
        if self.diff_mode:
            result["diff"] = {
                "before": {"images": before},
                "after": {"images": {entry["id"]: sorted(set(entry["tags"]) | set(before.get(entry["id"]) or []))
                                     for entry in entries}},
            }
        return result
