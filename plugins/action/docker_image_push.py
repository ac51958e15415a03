# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.docker_image_push (documentation in plugins/modules).

One exec inspects the local image and asks the registry what the tag holds (``docker manifest
inspect --verbose``). When the tag already is this image, nothing is pushed. Otherwise the push
runs as a detached host job, followed in the same job by the same registry question, which
gives the digest the registry now serves.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli, registry, transfers
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, Host, HostError
from ansible_collections.wincontainers.images.plugins.plugin_utils.jobs import HostJob
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import (
    ImageSpec,
    parse_reference,
    parse_tag,
)


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "name": {"type": "str", "required": True},
        "tag": {"type": "str", "default": "latest"},
        "timeout": {"type": "int", "default": 3600},
        "config_path": {"type": "str"},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        tag = parse_tag(args["tag"], "tag")
        reference = parse_reference(args["name"], "name", default_tag=tag)
        if reference.digest is not None:
            raise TaskFailed("name: %r has a digest; docker pushes tags, give name:tag" % args["name"])
        if reference.domain == "docker.io" and reference.path.startswith("library/"):
            raise TaskFailed("name: %r has no namespace; Docker Hub takes pushes only to <user or organisation>/<repository>"
                             % args["name"])
        try:
            config_dir = registry.check_config_path(args["config_path"], host.is_windows)
        except registry.OptionError as exc:
            raise TaskFailed(str(exc)) from None
        if args["timeout"] <= 0:
            raise TaskFailed("timeout: %r must be a positive number of seconds" % args["timeout"])
        environment = registry.config_environment(config_dir)
        name = str(reference)
        where = registry.registry_of(reference).display

        [inspected], remote_results = registry.query_registry(
            host, [reference], environment, docker_cli.inspect_calls([name]))
        image = docker_cli.find_image(docker_cli.read_inspect(host, [inspected]),
                                      ImageSpec(text=name, reference=reference, is_id=False, may_be_id=False))
        if image is None:
            raise TaskFailed("name: there is no local image %s on %s to push (tag it first, e.g. with "
                             "wincontainers.images.docker_image_tag)" % (name, host.name))
        remote = registry.read_manifest(host.name, remote_results[name], reference)
        held = registry.registry_holds(image, remote, reference)
        before = {"digest": remote.digest if remote else None, "present": remote is not None}
        if held is not None:
            return self._result(False, reference, image, held.digest, held.foreign_layers, before, where)
        if self.check_mode:
            return self._result(True, reference, image, None, 0, before, where)

        job = HostJob(host, "pushing %s" % name, [
            Call(("image", "push", docker_cli.END_OF_FLAGS, name), environment=environment),
            remote_results[name].call,  # the registry question of the read, asked again after the push
        ], parallel=1)
        reporter = transfers.ProgressReporter(
            transfers.display_emitter(), "docker_image_push on %s" % host.name, transfers.PUSH_DONE,
            transfers.PUSH_FINISHED, items=1)
        try:
            pushed, checked = job.run(timeout=args["timeout"], poll_interval=transfers.POLL_INTERVAL,
                                      on_progress=reporter, first_poll_interval=transfers.FIRST_POLL_INTERVAL,
                                      wait_on_host=True)
        except HostError as exc:
            raise TaskFailed(str(exc), changed=False, name=name) from None
        docker_cli.raise_for_engine(host, [pushed])
        if not pushed.ok:
            raise TaskFailed("%s: pushing %s to %s failed: %s" % (host.name, name, where, transfers.failure_detail(pushed)),
                             changed=False, name=name)
        after = registry.read_manifest(host.name, checked, reference)
        manifest = registry.registry_holds(image, after, reference) if after else None
        digest = manifest.digest if manifest else transfers.digest_from_output(pushed.stdout)
        result = self._result(True, reference, image, digest, manifest.foreign_layers if manifest else 0, before, where)
        result["job"] = {"reattached": reporter.reattached, "progress": reporter.lines[-1] if reporter.lines else None}
        if result["foreign_layers"]:
            result.setdefault("warnings", []).append(
                "%d layer(s) of %s are marked non-distributable (foreign) and were not uploaded by this Docker engine: "
                "hosts pulling %s need to reach the URLs in those layers (Docker >= 28 uploads every layer)"
                % (result["foreign_layers"], name, name))
        return result

    def _result(self, changed, reference, image, digest, foreign, before, where) -> dict[str, Any]:
        result: dict[str, Any] = {
            "changed": changed,
            "name": str(reference),
            "registry": where,
            "image_id": image["Id"],
            "digest": digest,
            "foreign_layers": foreign,
            # community.docker's keys: the local image's inspect object, the push done (or that would be)
            "image": image,
            "actions": ["Pushed image %s" % reference] if changed else [],
        }
        if self.diff_mode:
            result["diff"] = {
                "before": before,
                "after": {"digest": digest if digest else "(pushed)", "present": True, "image_id": image["Id"]},
            }
        return result
