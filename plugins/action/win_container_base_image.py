# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.win_container_base_image (documentation in plugins/modules).

Workflows S1-S8 of the source document as one idempotent task:

* ``source: registry`` (default): the image ``<registry>/windows/<family>:<tag>``, the tag chosen
  for the host's build (``version: auto``) or given; pulled by a detached, polled host job.
* ``source: archive``: a ``docker save`` tar loaded by a detached host job, or a ``.wim`` file
  installed with ``Install-ContainerOSImage -WimPath -Force`` (S7).
* ``source: provider``: the legacy ContainerImage provider (``Install-ContainerImage``, S3).
* ``state: absent`` removes the image (``docker image rm``) or uninstalls the OS image (S8).
* ``tag_latest`` gives the image its short local name (``windowsservercore:latest``, S6).
* After a provider or WIM install the engine must list the image; if it does not, the docker
  service is restarted once and the engine asked again (S5).

Exec budget: the first exec reads everything (Windows build, engine, local images, installed OS
images); a task with nothing to do stops there. A change costs one more exec (plus the polls of
a pull or load job).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import (
    base_images,
    docker_cli,
    lifecycle,
    registry as registry_utils,
    tagging,
    transfers,
    windows_builds,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.base_images import Target
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, CallResult, Host, HostError
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import (
    ImageReference,
    parse_image,
    parse_tag,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_builds import HYPERV, PROCESS

REGISTRY = "registry"
PROVIDER = "provider"
ARCHIVE = "archive"
PRESENT = "present"
LATEST = "latest"
ABSENT = "absent"
RESTART_TIMEOUT = 120
# A JSON row per image from a template of fields: ``{{json .}}`` of ``docker images`` needs Docker
# 1.13, and the OS image path serves hosts with Docker 1.12. IDs, names and tags hold no quotes.
LEGACY_ROW_FORMAT = '{"ID":"{{.ID}}","Repository":"{{.Repository}}","Tag":"{{.Tag}}"}'


@dataclass(frozen=True)
class Request:
    """The task's options, checked."""

    target: Target
    source: str
    kind: str  # "registry", "tar", "wim" or "provider"
    state: str
    auto: bool
    tag: str | None  # registry and tar: the tag asked for (None with auto)
    os_version: str | None  # provider and wim: the four-part version asked for (None with auto)
    isolation: str
    latest: str | None  # the local name to tag, or None
    path: str | None
    environment: dict[str, str] | None
    restart: bool
    timeout: int


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "name": {"type": "str", "required": True},
        "version": {"type": "str", "default": "auto"},
        "isolation": {"type": "str", "default": PROCESS, "choices": [PROCESS, HYPERV]},
        "source": {"type": "str", "default": REGISTRY, "choices": [REGISTRY, PROVIDER, ARCHIVE]},
        "registry": {"type": "str", "default": windows_builds.MCR},
        "path": {"type": "str"},
        "state": {"type": "str", "default": PRESENT, "choices": [PRESENT, LATEST, ABSENT]},
        "tag_latest": {"type": "bool", "default": True},
        "latest_name": {"type": "str"},
        "restart_docker": {"type": "bool", "default": True},
        "config_path": {"type": "str"},
        "timeout": {"type": "int", "default": 3600},
    }

    # --- validation (before any exec) -----------------------------------------------------------

    def _request(self, host: Host, args: dict[str, Any]) -> Request:
        registry = base_images.check_registry(args["registry"])
        target = base_images.resolve_target(args["name"], registry)
        source, state = args["source"], args["state"]
        version = (args["version"] or "auto").strip()
        auto = version.lower() == "auto"
        if args["timeout"] <= 0:
            raise TaskFailed("timeout: %r must be a positive number of seconds" % args["timeout"])
        try:
            config_path = registry_utils.check_config_path(args["config_path"], host.is_windows)
        except registry_utils.OptionError as exc:
            raise TaskFailed(str(exc)) from None

        path = None
        if args["path"] is not None:
            if source != ARCHIVE:
                raise TaskFailed("path: %r is only used with source: archive (source is %s)" % (args["path"], source))
            path = lifecycle.host_path(host, args["path"], "path")
        kind = source
        if source == ARCHIVE:
            if path is None and state != ABSENT:
                raise TaskFailed("path: source: archive needs the path of a docker save archive (.tar) or of a .wim "
                                 "file on the host")
            kind = "wim" if path is not None and path.lower().endswith(".wim") else "tar"

        tag = os_version = None
        if kind in ("provider", "wim"):
            if not host.is_windows:
                raise TaskFailed("source: %s needs a Windows host (the OS image cmdlets of Windows Server 2016); "
                                 "%s is reached through a POSIX shell" % ("a .wim archive" if kind == "wim" else "provider",
                                                                          host.name))
            family = target.family if target.named_family else None
            if family is None or family.provider_name is None:
                raise TaskFailed("name: %r has no OS image in the ContainerImage provider; with source: %s, name is "
                                 "NanoServer or WindowsServerCore" % (args["name"], source))
            if not auto:
                os_version = base_images.check_provider_version(version)
            elif kind == "wim" and state != ABSENT:
                raise TaskFailed("version: a .wim install needs the image's four-part version (for example "
                                 "10.0.14393.1884): it names the installed image CN=Microsoft_%s_<version>"
                                 % family.provider_name)
        else:
            if not auto:
                tag = parse_tag(version, "version")
            elif target.family is None and state != ABSENT:
                raise TaskFailed("version: auto chooses among the channel tags of the Microsoft base images, and %s is "
                                 "not one of their repositories; give the tag to install in version" % target.repository)

        latest = None
        if args["tag_latest"]:
            latest = base_images.local_latest_name(target, args["latest_name"])
        elif args["latest_name"] is not None:
            raise TaskFailed("latest_name: %r is only used with tag_latest: true" % args["latest_name"])
        return Request(
            target=target,
            source=source,
            kind=kind,
            state=state,
            auto=auto,
            tag=tag,
            os_version=os_version,
            isolation=args["isolation"],
            latest=latest,
            path=path,
            environment=registry_utils.config_environment(config_path),
            restart=args["restart_docker"],
            timeout=args["timeout"],
        )

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        request = self._request(host, args)
        if request.kind in ("provider", "wim"):
            return OsImageTask(self, host, request).run()
        return DockerImageTask(self, host, request).run()


# --- shared decisions ---------------------------------------------------------------------------


def windows_host_required(host: Host, facts: base_images.HostFacts, info: dict[str, Any] | None, request: Request) -> None:
    """Windows base images need a Windows engine: fail before anything is fetched."""
    family = request.target.family if request.target.named_family else None
    if facts.is_windows and info and info.get("OSType") not in (None, "", "windows"):
        raise TaskFailed("%s: the Docker engine runs %s containers (OSType %s); Windows base images need the engine in "
                         "Windows containers mode" % (host.name, info.get("OSType"), info.get("OSType")))
    if not facts.is_windows and family is not None:
        raise TaskFailed("name: %s images need a Windows Docker host, and %s is not Windows (%s); name a repository "
                         "instead to pull it anyway" % (family.title, host.name, facts.product_name or "a POSIX host"))


def choose_version(host: Host, facts: base_images.HostFacts, request: Request, warnings: list[str]) -> tuple[str, int | None]:
    """The tag to install and its build; fails when an explicit tag cannot run on this host."""
    target, isolation = request.target, request.isolation
    family = target.family
    if request.auto:
        if facts.build is None:
            raise TaskFailed("version: auto needs the Windows build of the host, and %s reported none; give the tag"
                             % host.name)
        if family is None:  # _request refuses version: auto for a repository of no known family
            raise AssertionError("version: auto reached choose_version for %s, which is not a base image family"
                                 % target.repository)
        choice = windows_builds.choose_tag(family, facts.build, isolation)
        if choice is None:
            raise TaskFailed(
                "version: no %s image runs on %s, %s, with %s isolation (what this host runs: %s)"
                % (family.title, host.name, facts.describe(), isolation, windows_builds.describe_usable(family, facts.build)))
        if choice.retired:
            warnings.append("%s:%s (%s) is the only %s image that runs on %s with %s isolation, and its support has ended"
                            % (target.repository, choice.tag, windows_builds.image_name(choice.build), family.title,
                               facts.describe(), isolation))
        return choice.tag, choice.build
    if request.tag is None:  # _request sets the tag whenever version is not auto
        raise AssertionError("choose_version: version is not auto, and no tag of %s was given" % target.repository)
    info = windows_builds.classify_tag(request.tag)
    if family is not None and info.channel is not None:
        published = {tag.lower() for tag in family.channel_tags()}
        if info.channel not in published:
            raise TaskFailed("version: %s publishes no %s image (its channel tags: %s)"
                             % (target.repository, info.channel, ", ".join(family.channel_tags())))
    if info.build is not None and facts.is_windows and facts.build is not None:
        why = windows_builds.incompatibility(facts.build, info.build, isolation)
        if why is not None:
            if family is not None:
                works = windows_builds.describe_usable(family, facts.build)
            else:
                works = "%s with %s isolation" % (windows_builds.describe_builds(facts.build, isolation), isolation)
            raise TaskFailed(
                "version: %s:%s is a %s image, and %s runs %s: %s. Nothing was pulled. What works on this host: %s"
                % (target.repository, request.tag, windows_builds.image_name(info.build), host.name, facts.describe(),
                   why, works))
    return request.tag, info.build


def hyperv_warning(host: Host, facts: base_images.HostFacts, request: Request, warnings: list[str]) -> None:
    if request.isolation == HYPERV and facts.hyperv_available is False:
        warnings.append("%s has no Hyper-V (the vmms service is missing): containers of this image cannot use Hyper-V "
                        "isolation there until the Hyper-V role or feature is installed" % host.name)


def image_build(image: dict[str, Any] | None) -> int | None:
    return windows_builds.parse_os_version((image or {}).get("OsVersion"))[0]


def inspect_object(result: CallResult) -> dict[str, Any] | None:
    try:
        for document in docker_cli.json_documents(result.stdout):
            for image in document or []:
                return image
    except ValueError:
        return None
    return None


# --- registry pulls and docker save archives ---------------------------------------------------


class DockerImageTask:
    def __init__(self, action: ActionModule, host: Host, request: Request) -> None:
        self.action = action
        self.host = host
        self.request = request
        self.check_mode = action.check_mode
        self.actions: list[str] = []
        self.warnings: list[str] = []

    def run(self) -> dict[str, Any]:
        host, request = self.host, self.request
        target = request.target
        if request.auto:
            # With state absent and a repository of no known family, the listing finds the tags.
            candidates = [target.reference(tag) for tag in (target.family.channel_tags() if target.family else [])]
        else:
            if request.tag is None:  # _request sets the tag whenever version is not auto
                raise AssertionError("DockerImageTask: version is not auto, and no tag of %s was given" % target.repository)
            candidates = [target.reference(request.tag)]
        names = [str(reference) for reference in candidates] + ([request.latest] if request.latest else [])
        inspects = docker_cli.inspect_calls(names)
        calls = [base_images.info_call()] + inspects
        listing = request.state == ABSENT and request.auto
        if listing:
            calls.append(Call(("image", "ls", "--no-trunc", "--format", "{{json .}}", docker_cli.END_OF_FLAGS,
                               str(target.repository))))
        state = base_images.read_host(host, calls)
        info = base_images.require_info(host, state.results[0])
        images = docker_cli.read_inspect(host, state.results[1:1 + len(inspects)])
        facts = state.facts
        windows_host_required(host, facts, info, request)

        if request.state == ABSENT:
            rows = state.results[-1] if listing else None
            return self.absent(images, candidates, rows, facts)

        tag, build = choose_version(host, facts, request, self.warnings)
        hyperv_warning(host, facts, request, self.warnings)
        reference = target.reference(tag)
        image = docker_cli.find_image(images, parse_image(str(reference), "name"))
        before_id = image["Id"] if image else None
        latest_image = docker_cli.find_image(images, parse_image(request.latest, "latest_name")) if request.latest else None
        job = None

        fetch = image is None or (request.state == LATEST and self.moving(tag))
        if fetch and image is not None and self.check_mode:
            fetch = self.predict_update(reference, image)
        if fetch and not self.check_mode:
            image, job = self.fetch(reference, facts)
        after_id = image["Id"] if image else None
        changed = fetch and (self.check_mode or after_id != before_id)
        if changed:
            self.actions.append("%s %s" % (self.fetch_verb(), reference))

        tagged = False
        if request.latest:
            if fetch and self.check_mode:
                # The image to tag is not known before the pull or load: the name will move to it.
                tagged = True
            elif after_id is not None:
                plan = tagging.plan_tags([latest_image] if latest_image else [], after_id, [request.latest], option="latest_name")
                tagged = plan.changed
                if tagged and not self.check_mode:
                    docker_cli.raise_for_failures(host, host.run(docker_cli.tag_calls(after_id, [request.latest])), "tagging")
            if tagged:
                self.actions.append("tagged %s as %s" % (reference, request.latest))

        final_build = image_build(image) or build
        if image is not None and facts.is_windows and facts.build is not None and final_build is not None:
            why = windows_builds.incompatibility(facts.build, final_build, request.isolation)
            if why:
                self.warnings.append("%s is a %s image and %s runs %s: %s"
                                     % (reference, windows_builds.image_name(final_build), host.name, facts.describe(), why))
        result = self.result(changed or tagged, reference, tag, image, final_build, facts)
        if job is not None:
            result["job"] = job.summary
        if self.action.diff_mode:
            before = {str(reference): before_id}
            after = {str(reference): after_id if not (self.check_mode and fetch) else "(new image)"}
            if request.latest:
                before[request.latest] = latest_image["Id"] if latest_image else None
                after[request.latest] = after[str(reference)] if tagged else before[request.latest]
            result["diff"] = {"before": before, "after": after}
        return result

    def fetch_verb(self) -> str:
        return "loaded" if self.request.kind == "tar" else "pulled"

    def moving(self, tag: str) -> bool:
        """Whether a tag can move to a newer image (channel tags, KB tags, any other name)."""
        if self.request.kind == "tar":
            return True
        info = windows_builds.classify_tag(tag)
        return not (info.channel is None and info.build is not None and info.revision is not None)

    def predict_update(self, reference: ImageReference, image: dict[str, Any]) -> bool:
        """Check mode, state latest, image present: would a pull or load bring another image?"""
        host = self.host
        if self.request.kind == "tar":
            if self.request.path is None:  # _request requires path for an archive that is not removed
                raise AssertionError("predict_update: source: archive without a path")
            result = host.run([lifecycle.manifest_call(self.request.path)])[0]
            if not result.ok:
                self.warnings.append("check mode could not read %s (%s); a load is assumed"
                                     % (self.request.path, lifecycle.first_error_line(result)))
                return True
            try:
                entries = lifecycle.parse_manifest(result.stdout)
            except ValueError as exc:
                self.warnings.append("check mode could not read %s (%s); a load is assumed" % (self.request.path, exc))
                return True
            for entry in entries:
                if any(lifecycle.same_name(str(reference), tag) for tag in entry["tags"]):
                    return entry["id"] != image["Id"]
            return True
        state = base_images.read_host(
            host, registry=base_images.registry_request(reference, manifests=[reference.tag or "latest"]))
        answer = state.registry or {}
        digest = ((answer.get("digests") or {}).get(reference.tag) or {}).get("digest")
        if answer.get("problem") or not digest:
            self.warnings.append("check mode could not read the digest of %s from the registry (%s); a pull is assumed"
                                 % (reference, answer.get("problem") or "HTTP %s" % (
                                     ((answer.get("digests") or {}).get(reference.tag) or {}).get("status"))))
            return True
        return digest not in registry_utils.repo_digests(image, reference)

    def fetch(self, reference: ImageReference, facts: base_images.HostFacts) -> tuple[dict[str, Any], base_images.JobReport]:
        host, request = self.host, self.request
        inspect = Call(("image", "inspect", docker_cli.END_OF_FLAGS, str(reference)))
        if request.kind == "tar":
            if request.path is None:  # _request requires path for an archive that is not removed
                raise AssertionError("fetch: source: archive without a path")
            report = base_images.run_docker_job(
                host, "docker load of %s" % request.path, [base_images.load_call(request.path), inspect], request.timeout)
        else:
            pull = base_images.pull_call(reference, request.environment)
            report = base_images.run_docker_job(host, "docker pull of %s" % reference, [pull, inspect], request.timeout)
        fetched, inspected = report.results
        if not fetched.ok:
            docker_cli.raise_for_engine(host, [fetched])
            detail = transfers.failure_detail(fetched)
            hint = ""
            if "no matching manifest" in detail.lower() and facts.build is not None:
                hint = " (the registry has no image of this tag for %s)" % facts.describe()
            raise TaskFailed("%s: %s of %s failed (docker exit code %d)%s: %s"
                             % (host.name, "docker load" if request.kind == "tar" else "docker pull",
                                request.path if request.kind == "tar" else reference, fetched.rc, hint, detail),
                             job=report.summary)
        image = inspect_object(inspected) if inspected.ok else None
        if image is None:
            loaded = lifecycle.loaded_names(fetched.stdout)
            raise TaskFailed("%s: after the %s, the engine has no %s%s"
                             % (host.name, "load of %s" % request.path if request.kind == "tar" else "pull", reference,
                                " (the archive held: %s)" % ", ".join(loaded) if loaded else ""),
                             job=report.summary)
        return image, report

    def absent(self, images: list[dict[str, Any]], candidates: list[ImageReference], rows: CallResult | None,
               facts: base_images.HostFacts) -> dict[str, Any]:
        host, request = self.host, self.request
        present: dict[str, str] = {}
        for reference in candidates:
            image = docker_cli.find_image(images, parse_image(str(reference), "name"))
            if image is not None:
                present[str(reference)] = image["Id"]
        if rows is not None:
            docker_cli.raise_for_engine(host, [rows])
            if not rows.ok:
                raise docker_cli.command_failed(host, rows, "docker image ls")
            for row in docker_cli.json_documents(rows.stdout):
                repository, tag, image_id = row.get("Repository"), row.get("Tag"), str(row.get("ID") or "")
                if repository and tag and tag != "<none>" and repository != "<none>":
                    present["%s:%s" % (repository, tag)] = image_id if image_id.startswith("sha256:") else "sha256:" + image_id
        removed = sorted(present)
        latest_image = docker_cli.find_image(images, parse_image(request.latest, "latest_name")) if request.latest else None
        if latest_image is not None and latest_image["Id"] in present.values():
            removed.append(request.latest)
        if removed and not self.check_mode:
            removals = [Call(args) for args in docker_cli.chunked(("image", "rm", docker_cli.END_OF_FLAGS), removed)]
            docker_cli.raise_for_failures(host, host.run(removals), "removing the base image")
        self.actions.extend("removed %s" % name for name in removed)
        result: dict[str, Any] = {
            "changed": bool(removed),
            "source": request.source,
            "state": request.state,
            "removed": removed,
            "actions": self.actions,
            "restarted_docker": False,
            "host_build": facts.build,
        }
        if self.warnings:
            result["warnings"] = self.warnings
        if self.action.diff_mode:
            before = dict(present)
            if latest_image is not None and request.latest in removed:
                before[request.latest] = latest_image["Id"]
            result["diff"] = {"before": before, "after": {name: None for name in before}}
        return result

    def result(self, changed: bool, reference: ImageReference, tag: str, image: dict[str, Any] | None,
               build: int | None, facts: base_images.HostFacts) -> dict[str, Any]:
        result: dict[str, Any] = {
            "changed": changed,
            "source": self.request.source,
            "state": self.request.state,
            "reference": str(reference),
            "version": tag,
            "image_id": image["Id"] if image else None,
            "build": build,
            "os_version": (image or {}).get("OsVersion") or None,
            "isolation": self.request.isolation,
            "host_build": facts.build,
            "latest_name": self.request.latest,
            "actions": self.actions,
            "restarted_docker": False,
            "image": image,
        }
        if self.warnings:
            result["warnings"] = self.warnings
        return result


# --- OS images: the ContainerImage provider and .wim files (Windows Server 2016) --------------------


class OsImageTask:
    """Images installed with Install-ContainerImage or Install-ContainerOSImage.

    Docker of that era (1.12) has no ``docker image ...`` subcommands, so this path uses the
    classic ``docker images`` / ``docker inspect --type image`` / ``docker tag`` / ``docker rmi``.
    """

    def __init__(self, action: ActionModule, host: Host, request: Request) -> None:
        self.action = action
        self.host = host
        self.request = request
        family = request.target.family
        if family is None or family.provider_name is None:  # _request checks the family for provider and wim
            raise AssertionError("OsImageTask: %s has no OS image in the ContainerImage provider" % request.target.repository)
        self.family = family
        self.provider_name: str = family.provider_name
        self.check_mode = action.check_mode
        self.actions: list[str] = []
        self.warnings: list[str] = []

    def engine_rows_call(self) -> Call:
        return Call(("images", "--no-trunc", "--format", LEGACY_ROW_FORMAT, docker_cli.END_OF_FLAGS,
                     self.provider_name.lower()))

    def run(self) -> dict[str, Any]:
        host, request = self.host, self.request
        calls = [self.engine_rows_call()]
        if request.latest:
            calls.append(Call(("inspect", "--type", "image", docker_cli.END_OF_FLAGS, request.latest)))
        need_find = request.kind == "provider" and request.state != ABSENT and request.auto
        state = base_images.read_host(
            host, calls, os_images=True,
            find={"name": self.provider_name, "all_versions": True} if need_find else None)
        facts = state.facts
        rows = state.results[0]
        docker_cli.raise_for_engine(host, [rows])
        if not rows.ok:
            raise docker_cli.command_failed(host, rows, "docker images")
        engine: dict[str, str] = {}
        for row in docker_cli.json_documents(rows.stdout):
            image_id = str(row.get("ID") or "")
            if row.get("Tag") and row.get("Tag") != "<none>":
                engine[str(row["Tag"])] = image_id if image_id.startswith("sha256:") else "sha256:" + image_id
        latest_image = inspect_object(state.results[1]) if request.latest and state.results[1].ok else None
        installed = base_images.installed_versions(state.os_images, self.provider_name)

        if request.state == ABSENT:
            return self.absent(installed, engine, latest_image, facts)

        version = self.choose(facts, installed, state.find)
        full_name = base_images.os_image_full_name(self.provider_name, version)
        engine_name = base_images.engine_name(self.provider_name, version)
        install = version not in installed
        visible_id = engine.get(version)
        restarted = False
        image = None
        tagged = False
        if install or visible_id is None:
            if not self.check_mode:
                image, restarted = self.install_and_check(install, version, full_name, engine_name)
                visible_id = image["Id"]
                tagged = bool(request.latest) and (latest_image is None or latest_image["Id"] != visible_id)
            else:
                tagged = bool(request.latest)
            if install:
                origin = request.path if request.kind == "wim" else "the ContainerImage provider"
                self.actions.append("installed %s from %s" % (full_name, origin))
        elif request.latest:
            plan = tagging.plan_tags([latest_image] if latest_image else [], visible_id, [request.latest],
                                     option="latest_name")
            tagged = plan.changed
            if tagged and not self.check_mode:
                tag_call = Call(("tag", docker_cli.END_OF_FLAGS, visible_id, request.latest))
                docker_cli.raise_for_failures(host, host.run([tag_call]), "tagging")
        if tagged:
            self.actions.append("tagged %s as %s" % (engine_name, request.latest))
        changed = install or restarted or tagged or (self.check_mode and visible_id is None)
        result: dict[str, Any] = {
            "changed": changed,
            "source": request.source,
            "state": request.state,
            "reference": engine_name,
            "os_image": full_name,
            "version": version,
            "image_id": visible_id,
            "build": base_images.version_build(version),
            "os_version": version,
            "isolation": request.isolation,
            "host_build": facts.build,
            "latest_name": request.latest,
            "actions": self.actions,
            "restarted_docker": restarted,
            "image": image,
        }
        if self.warnings:
            result["warnings"] = self.warnings
        if self.action.diff_mode:
            before = {full_name: "installed" if not install else None, engine_name: engine.get(version)}
            after = {full_name: "installed", engine_name: visible_id if visible_id else "(visible after the install)"}
            if request.latest:
                before[request.latest] = latest_image["Id"] if latest_image else None
                after[request.latest] = after[engine_name] if tagged else before[request.latest]
            result["diff"] = {"before": before, "after": after}
        return result

    def choose(self, facts: base_images.HostFacts, installed: list[str], find: Any) -> str:
        """The version to install: the one asked for, or (auto) the newest one for this host's build."""
        request, host = self.request, self.host
        if request.os_version is not None:
            build = base_images.version_build(request.os_version)
            if facts.build is not None and build is not None:
                why = windows_builds.incompatibility(facts.build, build, request.isolation)
                if why is not None:
                    raise TaskFailed("version: %s %s is a %s image, and %s runs %s: %s. Nothing was installed"
                                     % (self.provider_name, request.os_version, windows_builds.image_name(build),
                                        host.name, facts.describe(), why))
            return request.os_version
        runs = [v for v in installed if self.runs(facts, v)]
        if request.state == PRESENT and runs:
            return runs[0]
        find = find or {}
        if find.get("problem"):
            message = str(find.get("message"))
            cause = base_images.legacy_provider_failure(message)
            if cause is None:
                cause = "the provider and its download service are retired: " + base_images.LEGACY_ALTERNATIVES
            raise TaskFailed("%s: the ContainerImage provider could not list the %s images: %s (%s)"
                             % (host.name, self.provider_name, message, cause))
        versions = {str(item.get("version")) for item in find.get("images") or []
                    if str(item.get("name") or "").lower() == self.provider_name.lower()}
        offered = sorted((v for v in versions if base_images.version_build(v) is not None), key=base_images.version_key,
                         reverse=True)
        usable = [v for v in offered if self.runs(facts, v)]
        if request.state == LATEST and runs:
            usable = sorted(set(usable) | set(runs), key=base_images.version_key, reverse=True)
        if not usable:
            raise TaskFailed("version: the ContainerImage provider offers no %s image that runs on %s, %s, with %s "
                             "isolation (it offers: %s)" % (self.provider_name, host.name, facts.describe(),
                                                            request.isolation, ", ".join(offered) or "none"))
        return usable[0]

    def runs(self, facts: base_images.HostFacts, version: str) -> bool:
        build = base_images.version_build(version)
        if build is None or facts.build is None:
            return False
        return windows_builds.compatible(facts.build, build, self.request.isolation)

    def install_and_check(self, install: bool, version: str, full_name: str, engine_name: str) -> tuple[dict[str, Any], bool]:
        """Install (or only check), then make sure the engine lists the image: S5 restarts docker once."""
        host, request = self.host, self.request
        calls = [Call(("inspect", "--type", "image", docker_cli.END_OF_FLAGS, engine_name))]
        if request.latest:
            calls.append(Call(("tag", docker_cli.END_OF_FLAGS, engine_name, request.latest)))
        payload: dict[str, Any] = {
            "action": "check",
            "calls": [host.call_request(call) for call in calls],
            "restart": request.restart,
            "restart_timeout": RESTART_TIMEOUT,
        }
        if install and request.kind == "wim":
            payload.update(action="install_wim", path=request.path)
        elif install:
            payload.update(action="install", name=self.provider_name, version=version)
        try:
            answer = host.execute("container_image", payload)
        except HostError as exc:
            cause = base_images.legacy_provider_failure(str(exc)) if install else None
            if cause is None:
                raise
            raise TaskFailed("%s: %s" % (exc, cause), actions=self.actions) from None
        restarted = bool(answer.get("restarted"))
        if restarted:
            self.actions.append("restarted the docker service so that it lists %s (S5)" % engine_name)
        final = answer.get("rechecks") if restarted else answer.get("checks")
        results = [CallResult(call, int(r.get("rc", -1)), r.get("stdout") or "", r.get("stderr") or "")
                   for call, r in zip(calls, final or [])]
        if len(results) != len(calls):
            raise HostError("%s: expected %d check results from the host, got %d" % (host.name, len(calls), len(results)))
        docker_cli.raise_for_engine(host, results)
        image = inspect_object(results[0]) if results[0].ok else None
        if image is None:
            what = "installed %s, but" % full_name if install else "%s is installed, but" % full_name
            after = (" even after the docker service was restarted" if restarted
                     else " and restart_docker is false" if not request.restart else "")
            raise TaskFailed(
                "%s: %s the Docker engine does not list it as %s%s. Docker 1.13 and later no longer import OS images "
                "installed with Install-ContainerOSImage; use source: registry, or a docker save archive with "
                "source: archive" % (host.name, what, engine_name, after),
                restarted_docker=restarted, actions=self.actions, os_image=full_name)
        if len(results) > 1 and not results[1].ok:
            raise docker_cli.command_failed(host, results[1], "tagging %s as %s" % (engine_name, request.latest))
        return image, restarted

    def absent(self, installed: list[str], engine: dict[str, str], latest_image: dict[str, Any] | None,
               facts: base_images.HostFacts) -> dict[str, Any]:
        host, request = self.host, self.request
        versions = [request.os_version] if request.os_version else sorted(set(installed) | set(
            v for v in engine if base_images.version_build(v) is not None), key=base_images.version_key, reverse=True)
        uninstall = [base_images.os_image_full_name(self.provider_name, v) for v in versions if v in installed]
        untag = [base_images.engine_name(self.provider_name, v) for v in versions if v in engine]
        removed_ids = {engine[v] for v in versions if v in engine}
        if request.latest and latest_image is not None and latest_image["Id"] in removed_ids:
            untag.insert(0, request.latest)
        changed = bool(uninstall or untag)
        if changed and not self.check_mode:
            calls = [Call(("rmi", docker_cli.END_OF_FLAGS) + tuple(untag))] if untag else []
            payload = {
                "action": "uninstall" if uninstall else "check",
                "full_names": uninstall,
                "calls": [host.call_request(call) for call in calls],
                "restart": False,
            }
            answer = host.execute("container_image", payload)
            results = [CallResult(call, int(r.get("rc", -1)), r.get("stdout") or "", r.get("stderr") or "")
                       for call, r in zip(calls, answer.get("checks") or [])]
            docker_cli.raise_for_failures(host, results, "removing the base image")
        self.actions.extend(["uninstalled %s" % name for name in uninstall] + ["removed %s" % name for name in untag])
        result: dict[str, Any] = {
            "changed": changed,
            "source": request.source,
            "state": request.state,
            "removed": uninstall + untag,
            "actions": self.actions,
            "restarted_docker": False,
            "host_build": facts.build,
        }
        if self.action.diff_mode:
            before = {name: "installed" for name in uninstall}
            before.update({name: engine.get(name.rpartition(":")[2]) for name in untag if name != request.latest})
            if request.latest in untag and latest_image is not None:
                before[request.latest] = latest_image["Id"]
            result["diff"] = {"before": before, "after": {name: None for name in before}}
        return result
