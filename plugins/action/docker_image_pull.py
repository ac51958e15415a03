# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.docker_image_pull (documentation in plugins/modules).

One exec inspects every named image. The pulls that are needed then run as ONE detached host
job (``parallel`` at a time, ``retries`` each), polled with short execs while the controller
shows progress; a dropped connection or a re-run re-attaches to the running job. A last exec
inspects the images again: an image changed when its ID changed or it appeared.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli, registry, transfers
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, Host, HostError
from ansible_collections.wincontainers.images.plugins.plugin_utils.jobs import HostJob
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import (
    ImageReference,
    ImageSpec,
    parse_reference,
    parse_tag,
)

PARALLEL_MAX = 32


def spec_of(reference: ImageReference) -> ImageSpec:
    """A reference that is only ever a name (never read as an image ID prefix)."""
    return ImageSpec(text=str(reference), reference=reference, is_id=False, may_be_id=False)


class ActionModule(DockerActionBase):
    CHUNKED_OPTIONS = ("name",)  # one pull per image; inspected in chunks
    ARGUMENT_SPEC = {
        "name": {"type": "list", "elements": "str", "required": True},
        "tag": {"type": "str", "default": "latest"},
        "platform": {"type": "str"},
        # not_present: community.docker's name of missing
        "pull": {"type": "str", "default": "missing", "choices": ["always", "missing", "not_present"]},
        "parallel": {"type": "int", "default": 3},
        "retries": {"type": "int", "default": 2},
        "timeout": {"type": "int", "default": 3600},
        "config_path": {"type": "str"},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        references = self._references(args)
        try:
            platform = registry.check_platform(args["platform"])
            config_dir = registry.check_config_path(args["config_path"], host.is_windows)
        except registry.OptionError as exc:
            raise TaskFailed(str(exc)) from None
        if not 1 <= args["parallel"] <= PARALLEL_MAX:
            raise TaskFailed("parallel: %r must be between 1 and %d" % (args["parallel"], PARALLEL_MAX))
        if args["retries"] < 0:
            raise TaskFailed("retries: %r must be 0 or more" % args["retries"])
        if args["timeout"] <= 0:
            raise TaskFailed("timeout: %r must be a positive number of seconds" % args["timeout"])
        environment = registry.config_environment(config_dir)
        always = args["pull"] == "always"

        # One exec: every image (and the engine's platform when `platform` names only an OS or
        # only an architecture); in check mode with pull=always also the registry's manifests.
        names = [str(reference) for reference in references]
        first_calls = docker_cli.inspect_calls(names)
        if registry.needs_engine_platform(platform):
            first_calls.append(registry.engine_platform_call())
        if self.check_mode and always:
            first_results, remote_results = registry.query_registry(host, references, environment, first_calls)
        else:
            first_results, remote_results = host.run(first_calls), {}
        inspect_results = first_results[:len(first_calls) - 1] if registry.needs_engine_platform(platform) else first_results
        before = self._find(docker_cli.read_inspect(host, inspect_results), references)
        wanted = None
        if platform:
            engine_os, engine_arch = (registry.read_engine_platform(first_results[-1])
                                      if registry.needs_engine_platform(platform) else (None, None))
            wanted = registry.resolve_platform(platform, engine_os, engine_arch)

        to_pull = []
        for reference in references:
            image = before[str(reference)]
            present = image is not None and (wanted is None or registry.same_platform(wanted, registry.image_platform(image)))
            if not present or (always and reference.digest is None):
                to_pull.append(reference)

        if self.check_mode:
            return self._predict(host, references, before, to_pull, remote_results, always, wanted)
        if not to_pull:
            return self._result(references, before, before, [], {})

        flags = ("--platform", platform) if platform else ()
        calls = [Call(("image", "pull", *flags, docker_cli.END_OF_FLAGS, str(reference)), environment=environment)
                 for reference in to_pull]
        job = HostJob(host, "pulling %s" % ", ".join(str(r) for r in to_pull), calls,
                      parallel=args["parallel"], retries=args["retries"])
        reporter = transfers.ProgressReporter(
            transfers.display_emitter(), "docker_image_pull on %s" % host.name, transfers.PULL_DONE, transfers.PULL_FINISHED)
        try:
            results = job.run(timeout=args["timeout"], poll_interval=transfers.POLL_INTERVAL, on_progress=reporter,
                              first_poll_interval=transfers.FIRST_POLL_INTERVAL, wait_on_host=True)
        except HostError as exc:
            # A timeout (the job goes on) or a job that failed: say what the host holds now.
            after = self._after(host, references) or before
            arrived = [reference for reference in to_pull if self._changed(before, after, reference)]
            raise TaskFailed(str(exc), **self._result(references, before, after, arrived, {}, reporter, attempted=to_pull)) from None

        outputs = {str(reference): result for reference, result in zip(to_pull, results)}
        after = self._after(host, references)
        if after is None:
            # The engine went away during the job: report what docker said had arrived before it did.
            arrived = [reference for reference in to_pull if outputs[str(reference)].ok]
            try:
                docker_cli.raise_for_engine(host, results)
                message = "%s: the Docker engine could not be asked about the images after the pulls" % host.name
            except HostError as exc:
                message = str(exc)
            result = self._result(references, before, before, arrived, outputs, reporter, attempted=to_pull,
                                  reported={str(r): transfers.downloaded(outputs[str(r)]) for r in arrived})
            raise TaskFailed("%s; %d of %d pulls had finished before (as docker reported them)"
                             % (message, len(arrived), len(to_pull)), **result)
        # Each pull is checked on the host: exit code 0 without the image is no success.
        pulled = [reference for reference in to_pull if outputs[str(reference)].ok and after[str(reference)] is not None]
        result = self._result(references, before, after, pulled, outputs, reporter, attempted=to_pull)
        failed = [reference for reference in to_pull if reference not in pulled]
        if failed:
            details = "; ".join("%s: %s" % (reference, transfers.failure_detail(outputs[str(reference)])
                                            if not outputs[str(reference)].ok else
                                            "docker pull exited 0 but the image is not on the host")
                                for reference in failed)
            raise TaskFailed("%s: %d of %d pulls failed: %s" % (host.name, len(failed), len(to_pull), details),
                             failed_images=[str(reference) for reference in failed], **result)
        return result

    # --- steps ----------------------------------------------------------------------------

    @staticmethod
    def _references(args: dict[str, Any]) -> list[ImageReference]:
        tag = parse_tag(args["tag"], "tag")
        references: dict[str, ImageReference] = {}
        for value in args["name"]:
            reference = parse_reference(value, "name", default_tag=tag)
            references.setdefault(reference.normalized, reference)
        if not references:
            raise TaskFailed("name: at least one image reference is required")
        return list(references.values())

    @staticmethod
    def _find(images: list[dict[str, Any]], references: list[ImageReference]) -> dict[str, dict[str, Any] | None]:
        return {str(reference): docker_cli.find_image(images, spec_of(reference)) for reference in references}

    def _after(self, host: Host, references: list[ImageReference]) -> dict[str, Any] | None:
        """The images as the host has them now; None when the engine cannot be asked."""
        names = [str(reference) for reference in references]
        try:
            return self._find(docker_cli.read_inspect(host, host.run(docker_cli.inspect_calls(names))), references)
        except HostError:
            return None

    @staticmethod
    def _changed(before: dict[str, Any], after: dict[str, Any], reference: ImageReference) -> bool:
        image, old = after.get(str(reference)), before.get(str(reference))
        return image is not None and (old is None or old["Id"] != image["Id"])

    def _predict(self, host, references, before, to_pull, remote_results, always, wanted) -> dict[str, Any]:
        """Check mode: missing images (or images of another platform than ``wanted``) would be
        pulled; with pull=always, present images change when the registry's tag (for ``wanted``)
        is another image."""
        changing = []
        errors = []
        for reference in to_pull:
            image = before[str(reference)]
            if image is None or not always or (wanted is not None and not registry.same_platform(wanted, registry.image_platform(image))):
                changing.append(reference)
                continue
            try:
                remote = registry.read_manifest(host.name, remote_results[str(reference)], reference)
            except registry.RegistryError as exc:
                errors.append(str(exc))
                continue
            if remote is None:
                errors.append("%s: the registry has no %s" % (host.name, reference))
            elif registry.registry_holds(image, remote, reference, wanted) is None:
                changing.append(reference)
        result = self._result(references, before, before, [], {}, predicted=changing, attempted=to_pull)
        if errors:
            raise TaskFailed("; ".join(errors), **result)
        return result

    def _result(self, references, before, after, pulled, outputs, reporter=None, predicted=None, reported=None,
                attempted=()) -> dict[str, Any]:
        """The task's result. ``reported``: for images the engine could not be asked about after
        the job, whether docker's own output said that it downloaded a newer image. ``attempted``:
        the references whose pull ran (in check mode, would run)."""
        images = []
        pulled_names = {str(reference) for reference in pulled}
        for reference in references:
            name = str(reference)
            image = after.get(name)
            if predicted is not None:
                changed = any(str(p) == name for p in predicted)
            elif reported and name in reported:
                changed = reported[name]
            else:
                changed = self._changed(before, after, reference)
            images.append({
                "reference": name,
                "id": image["Id"] if image else None,
                "digest": transfers.pick_digest(image, reference, outputs.get(name)),
                "changed": changed,
                "pulled": name in pulled_names,
            })
        result: dict[str, Any] = {
            "changed": any(item["changed"] for item in images),
            "images": images,
            # community.docker's shapes: one action per pull, the inspect object of a single image
            "actions": ["Pulled image %s" % reference for reference in attempted],
        }
        if len(references) == 1:
            result["image"] = after.get(str(references[0])) or {}
        if predicted is not None:
            result["missing"] = [str(r) for r in references if before.get(str(r)) is None]
        if reporter is not None:
            result["job"] = {"reattached": reporter.reattached, "progress": reporter.lines[-1] if reporter.lines else None}
        # The diff is returned always, as community.docker's module does; in check mode an image
        # that would change has the ID "unknown".
        states_before = {item["reference"]: image_state(before.get(item["reference"])) for item in images}
        states_after = {item["reference"]: ({"exists": True, "id": "unknown"} if predicted is not None and item["changed"]
                                            else image_state(after.get(item["reference"]))) for item in images}
        result["diff"] = {"before": {"images": states_before}, "after": {"images": states_after}}
        if len(references) == 1:
            result["diff"]["before"].update(states_before[str(references[0])])
            result["diff"]["after"].update(states_after[str(references[0])])
        return result


def image_state(image: dict[str, Any] | None) -> dict[str, Any]:
    """An image in a diff, as community.docker shows it: whether it exists, and its ID."""
    return {"exists": True, "id": image["Id"]} if image else {"exists": False}
