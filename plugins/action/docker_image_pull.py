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
        "pull": {"type": "str", "default": "missing", "choices": ["always", "missing"]},
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

        # One exec: every image; in check mode with pull=always also the registry's manifests.
        names = [str(reference) for reference in references]
        if self.check_mode and always:
            inspect_results, remote_results = registry.query_registry(
                host, references, environment, docker_cli.inspect_calls(names))
        else:
            inspect_results, remote_results = host.run(docker_cli.inspect_calls(names)), {}
        before = self._find(docker_cli.read_inspect(host, inspect_results), references)

        to_pull = []
        for reference in references:
            image = before[str(reference)]
            present = image is not None and registry.platform_matches(image, platform)
            if not present or (always and reference.digest is None):
                to_pull.append(reference)

        if self.check_mode:
            return self._predict(host, references, before, to_pull, remote_results, always)
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
            raise TaskFailed(str(exc), **self._result(references, before, after, arrived, {}, reporter)) from None

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
            result = self._result(references, before, before, arrived, outputs, reporter,
                                  reported={str(r): transfers.downloaded(outputs[str(r)]) for r in arrived})
            raise TaskFailed("%s; %d of %d pulls had finished before (as docker reported them)"
                             % (message, len(arrived), len(to_pull)), **result)
        # Each pull is checked on the host: exit code 0 without the image is no success.
        pulled = [reference for reference in to_pull if outputs[str(reference)].ok and after[str(reference)] is not None]
        result = self._result(references, before, after, pulled, outputs, reporter)
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

    def _predict(self, host, references, before, to_pull, remote_results, always) -> dict[str, Any]:
        """Check mode: missing images would be pulled; with pull=always, present images change
        when the registry's tag is another image."""
        changing = []
        errors = []
        for reference in to_pull:
            image = before[str(reference)]
            if image is None or not always:
                changing.append(reference)
                continue
            try:
                remote = registry.read_manifest(host.name, remote_results[str(reference)], reference)
            except registry.RegistryError as exc:
                errors.append(str(exc))
                continue
            if remote is None:
                errors.append("%s: the registry has no %s" % (host.name, reference))
            elif registry.registry_holds(image, remote, reference) is None:
                changing.append(reference)
        result = self._result(references, before, before, [], {}, predicted=changing)
        if errors:
            raise TaskFailed("; ".join(errors), **result)
        return result

    def _result(self, references, before, after, pulled, outputs, reporter=None, predicted=None, reported=None) -> dict[str, Any]:
        """The task's result. ``reported``: for images the engine could not be asked about after
        the job, whether docker's own output said that it downloaded a newer image."""
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
        result: dict[str, Any] = {"changed": any(item["changed"] for item in images), "images": images}
        if predicted is not None:
            result["missing"] = [str(r) for r in references if before.get(str(r)) is None]
        if reporter is not None:
            result["job"] = {"reattached": reporter.reattached, "progress": reporter.lines[-1] if reporter.lines else None}
        if self.diff_mode:
            result["diff"] = {
                "before": {item["reference"]: before[item["reference"]]["Id"] if before.get(item["reference"]) else None
                           for item in images},
                "after": {item["reference"]: (item["id"] if predicted is None else
                                              ("(would be pulled)" if item["changed"] else item["id"])) for item in images},
            }
        return result
