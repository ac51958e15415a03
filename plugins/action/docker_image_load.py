# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.docker_image_load (documentation in plugins/modules).

One exec reads the archive's ``manifest.json`` (through ``tar``, which also reads the archive
to its end, so a truncated archive is found before anything is loaded) and lists the images
the engine holds. When every image of the archive is present with the same ID and tags,
nothing more happens; otherwise ``docker load`` runs as a detached host job.

With ``src`` (an archive on the controller) the manifest is read from ``src`` on the controller
instead, and the one exec reports the sha256 of the host's file at ``path`` (and the chunk files
of an interrupted earlier copy); when it differs, ``src`` is copied over the task's own
connection first (``archive_copy``), then the load is decided as above.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleError

from ansible_collections.wincontainers.images.plugins.plugin_utils import archive_copy, docker_cli, lifecycle
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, Host
from ansible_collections.wincontainers.images.plugins.plugin_utils.jobs import HostJob, verbose_progress


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "path": {"type": "str", "required": True},
        "src": {"type": "path"},
        "timeout": {"type": "int", "default": 3600},
    }
    # Bytes per put_file when copying ``src``; a class attribute so that tests and the
    # benchmark can use small chunks.
    CHUNK_SIZE = archive_copy.CHUNK_SIZE

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        path = lifecycle.host_path(host, args["path"], "path")
        if args["timeout"] <= 0:
            raise TaskFailed("timeout: %r must be a positive number of seconds" % args["timeout"])
        if args.get("src") is not None:
            source = archive_copy.read_source(self._find_source(args["src"]), self.CHUNK_SIZE)
            return self._copy_and_load(host, path, source, args["timeout"])

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
        return self._load(host, path, entries, listing, args["timeout"])

    def _find_source(self, src: str) -> str:
        """``src`` as ansible.builtin.copy finds it: relative paths in the role's or play's files/."""
        if not isinstance(src, str) or not src:
            raise TaskFailed("src: expected a path on the controller, got %r" % (src,))
        try:
            return str(self._find_needle("files", src))
        except AnsibleError:
            raise TaskFailed("src: %s was not found on the controller (relative paths are looked up in the "
                             "role's or playbook's files/ directory)" % src) from None

    def _copy_and_load(self, host: Host, path: str, source: archive_copy.Source, timeout: int) -> dict[str, Any]:
        token = archive_copy.copy_token(path, source)
        parts = [archive_copy.part_path(path, token, chunk.index) for chunk in source.chunks]
        # The archive's image IDs are known here: their inspect objects come in the same exec.
        inspect = docker_cli.inspect_calls(archive_ids(source.entries))
        info = lifecycle.file_info(
            host,
            files=[(path, True), (lifecycle.parent_directory(host, path), False)] + [(part, True) for part in parts],
            calls=[(lifecycle.image_ls_call(), None)] + [(call, None) for call in inspect],
        )
        target, directory = info.files[0], info.files[1]
        listing, inspected = info.results[0], info.results[1:]
        if target.kind == "directory":
            raise TaskFailed("path: %s is a directory, not an image archive" % path)
        missing_directory = directory.kind != "directory"
        if missing_directory and not self.check_mode:
            raise TaskFailed("path: the directory %s does not exist on %s; nothing was copied"
                             % (directory.path, host.name))
        plan = archive_copy.plan_copy(source, target, info.files[2:])
        copy: dict[str, Any] = {"src": source.path, "copied": plan.needed, "sha256": source.sha256, "size": source.size,
                                "before": {"sha256": target.sha256, "size": target.size} if target.exists else None}
        if missing_directory:
            # check mode: an earlier task of the play (ansible.builtin.file, a role) may create it
            copy["warning"] = ("the directory %s does not exist on %s yet; the copy fails unless it is created first"
                               % (directory.path, host.name))
        if plan.needed and not self.check_mode:
            copy["transfer"] = archive_copy.send_chunks(host, source, path, token, plan)
            archive_copy.join_parts(host, source, path, token)
        return self._load(host, path, source.entries, listing, timeout, copy, inspected)

    def _load(self, host: Host, path: str, entries: list[dict[str, Any]], listing: Any, timeout: int,
              copy: dict[str, Any] | None = None, inspected: list[Any] | None = None) -> dict[str, Any]:
        present = lifecycle.read_image_ls(host, listing)
        missing = lifecycle.missing_from_engine(entries, present)
        before = {entry["id"]: sorted(present.get(entry["id"]) or []) if entry["id"] in present else None for entry in entries}
        copied = bool(copy and copy["copied"])
        if not missing or self.check_mode:
            if inspected is None:
                # A host archive: its image IDs were known only from the first exec's tar output.
                inspected = host.run(docker_cli.inspect_calls(archive_ids(entries)))
            images = docker_cli.read_inspect(host, inspected)
            return self._result(copied or bool(missing), path, entries, [], before, None, copy, images)

        job = HostJob(host, "docker load of %s" % path, [Call(("image", "load", "--input", path))])
        loaded = job.run(timeout=timeout, poll_interval=2.0, first_poll_interval=0.5, on_progress=verbose_progress(host, "docker load of %s" % path))[0]
        if not loaded.ok:
            docker_cli.raise_for_engine(host, [loaded])
            raise TaskFailed("%s: docker load of %s failed (exit code %d): %s"
                             % (host.name, path, loaded.rc, loaded.stderr.strip() or loaded.stdout.strip() or "no output"))
        # Read the engine back: every image of the archive must be there under its names now.
        results = host.run([lifecycle.image_ls_call()] + docker_cli.inspect_calls(archive_ids(entries)))
        listing = results[0]
        images = docker_cli.read_inspect(host, results[1:])
        still_missing = lifecycle.missing_from_engine(entries, lifecycle.read_image_ls(host, listing))
        if still_missing:
            raise TaskFailed("%s: docker load of %s exited 0 but the engine lacks %s"
                             % (host.name, path, ", ".join(still_missing)))
        result = self._result(True, path, entries, lifecycle.loaded_names(loaded.stdout), before, job.summary(), copy, images)
        result["stdout"] = loaded.stdout
        return result

    def _result(self, changed, path, entries, loaded, before, job, copy, images) -> dict[str, Any]:
        by_id = {image["Id"]: image for image in images}
        result: dict[str, Any] = {
            "changed": changed,
            "path": path,
            # community.docker's images: the inspect objects of the archive's images (those on the
            # engine: in check mode, an image still to be loaded is not there yet)
            "images": [by_id[image_id] for image_id in archive_ids(entries) if image_id in by_id],
            "archive_images": [{"id": entry["id"], "tags": entry["tags"]} for entry in entries],
            "image_names": [tag for entry in entries for tag in entry["tags"]] + [
                entry["id"] for entry in entries if not entry["tags"]],
            "loaded": loaded,
        }
        if job is not None:
            result["job"] = job
        if copy is not None:
            result.update(copied=copy["copied"], sha256=copy["sha256"], size=copy["size"])
            if "warning" in copy:
                result["warnings"] = [copy["warning"]]
            if "transfer" in copy:
                result["transfer"] = copy["transfer"]
        if self.diff_mode:
            result["diff"] = {
                "before": {"images": before},
                "after": {"images": {entry["id"]: sorted(set(entry["tags"]) | set(before.get(entry["id"]) or []))
                                     for entry in entries}},
            }
            if copy is not None:
                result["diff"]["before"]["archive"] = copy["before"]
                result["diff"]["after"]["archive"] = {"sha256": copy["sha256"], "size": copy["size"]}
        return result


def archive_ids(entries: list[dict[str, Any]]) -> list[str]:
    """The image IDs of the archive's manifest, each once, in order."""
    return list(dict.fromkeys(entry["id"] for entry in entries))
