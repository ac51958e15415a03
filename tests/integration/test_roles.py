# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles as users call them: argument specs reject bad input clearly, before anything runs on the host,
and the offline_images role moves archives only when the checksums or image IDs say so.

Real ansible-playbook, local connection, the engine of scripts/engine.sh. Image names: wct6/...
"""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

ROLE = "wincontainers.images.{}"


def include(role: str, **variables) -> list[dict]:
    """One task including a role of the collection with the given variables."""
    return [{"name": f"run {role}", "ansible.builtin.include_role": {"name": ROLE.format(role)}, "vars": variables}]


def include_rescued(role: str, case: str, **variables) -> dict:
    """Include a role in a block whose rescue ends that case: the role's first failure stops it, and the next
    case runs, so that one playbook run can try several bad inputs."""
    return {
        "name": f"case {case}",
        "block": [{"name": f"run {role} ({case})", "ansible.builtin.include_role": {"name": ROLE.format(role)},
                   "vars": variables}],
        "rescue": [{"name": f"rejected ({case})", "ansible.builtin.debug": {"msg": "rejected"}}],
    }


def run_cases(run_playbook, role: str, cases, task: str = "Validating arguments") -> None:
    """Run every (variables, fragments) case against the role in ONE playbook; each must fail in ``task``
    with a message holding all its fragments, and no module of the collection may run."""
    cases = list(cases)
    run = run_playbook([include_rescued(role, str(i), **case[0]) for i, case in enumerate(cases)])
    assert run.rc == 0, run
    failed = [r for r in run.results if r["failed"]]
    assert len(failed) == len(cases), f"expected {len(cases)} rejections, got {len(failed)}\n{run}"
    assert len(run.tasks("rejected")) == 0  # (names carry the case number)
    assert [r["task"] for r in run.results if r["task"].startswith("rejected (")] == [
        f"rejected ({i})" for i in range(len(cases))
    ], run
    for (variables, fragments), result in zip(cases, failed):
        message = json.dumps(result.get("msg")) + json.dumps(result["result"].get("argument_errors", ""))
        assert task in result["task"], f"{variables}: failed in {result['task']!r}: {message}"
        for fragment in fragments:
            assert fragment in message, f"{variables}: {fragment!r} not in the error {message}"
    modules = [r for r in run.results if r["action"].startswith("wincontainers.images.")]
    assert not modules, f"modules ran although the arguments were rejected: {[r['task'] for r in modules]}"


def task(run, name: str) -> dict:
    """The single result of the role task called ``name`` (results carry the role's name as a prefix)."""
    found = [r for r in run.results if r["task"] == name or r["task"].endswith(" : " + name)]
    assert len(found) == 1, f"expected one result of {name!r}, got {len(found)}: {[r['task'] for r in run.results]}\n{run}"
    return found[0]


def failure(run) -> dict:
    failed = [r for r in run.results if r["failed"] and not r["ignore_errors"]]
    assert run.rc != 0 and failed, f"the run was expected to fail\n{run}"
    return failed[0]


def assert_rejected(run, *fragments: str, task_fragment: str = "Validating arguments") -> str:
    """The run failed in the role's validation (nothing ran on the host) with a message holding fragments."""
    result = failure(run)
    message = json.dumps(result.get("msg")) + json.dumps(result["result"].get("argument_errors", ""))
    assert task_fragment in result["task"], f"failed in {result['task']!r}, not in the validation: {message}\n{run}"
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in the error {message}"
    # nothing after the failing validation ran: no module of the collection was called
    later = [r for r in run.results if r["action"].startswith("wincontainers.images.")]
    assert not later, f"modules ran although the arguments were rejected: {[r['task'] for r in later]}"
    return message


# --- base_images ---------------------------------------------------------------------------------


BASE_IMAGES_BAD = [
    ({"base_images_list": "NanoServer"}, ["base_images_list", "list"]),
    ({"base_images_list": [{"version": "ltsc2022"}]}, ["name"]),
    ({"base_images_list": [{"name": "NanoServer", "state": "installed"}]}, ["state", "installed", "present, latest, absent"]),
    ({"base_images_list": [{"name": "NanoServer", "source": "internet"}]}, ["source", "internet", "registry, provider, archive"]),
    ({"base_images_list": [{"name": "NanoServer", "tag_latest": "perhaps"}]}, ["tag_latest", "perhaps"]),
    ({"base_images_list": [{"name": "NanoServer", "isolation": "container"}]}, ["isolation", "container", "process, hyperv"]),
    ({"base_images_timeout": "soon"}, ["base_images_timeout", "soon"]),
    ({"base_images_verify": "sometimes"}, ["base_images_verify", "sometimes"]),
]


def test_base_images_rejects_bad_arguments(run_playbook):
    run_cases(run_playbook, "base_images", BASE_IMAGES_BAD)


UNKNOWN_NAMES = ["NanoServr", "ServerCor", "Windows Server Core", "mcr", "['NanoServer']"]


def test_base_images_rejects_unknown_names(run_playbook):
    """Names without a '/' must be one of the four families; a list given as a name is refused too
    (Ansible turns it into the text "['NanoServer']"). The known name in the same list is not blamed."""
    cases = [({"base_images_list": [{"name": "WindowsServerCore"}, {"name": name}]},
              [f"unknown base image name(s) {name}.", "NanoServer, WindowsServerCore (or ServerCore), Server (or WindowsServer) or Windows, in any case",
               "full repository"]) for name in UNKNOWN_NAMES[:-1]]
    cases.append(({"base_images_list": [{"name": ["NanoServer"]}]}, ["unknown base image name(s) ['NanoServer']."]))
    run_cases(run_playbook, "base_images", cases, task="Check that every base image name is known or a full repository")


def test_base_images_accepts_known_names_case_insensitively(run_playbook):
    """Known names in any case and full repositories pass the role's check and reach the module (which, on
    this Linux engine, refuses the Windows families with its own message)."""
    items = [{"name": "nanoserver"}, {"name": "WINDOWSSERVERCORE"}, {"name": "ServerCore"}, {"name": "Server"},
             {"name": "windowsserver"}, {"name": "windows"}]
    run = run_playbook(include("base_images", base_images_list=items))
    task(run, "Check that every base image name is known or a full repository")  # it ran and passed
    result = failure(run)
    assert result["action"] == "wincontainers.images.win_container_base_image", run
    assert "need a Windows Docker host" in json.dumps(result["result"]), run


def test_base_images_archive_needs_a_path(run_playbook):
    run = run_playbook(include("base_images", base_images_list=[{"name": "wct6/base/servercore", "source": "archive"}]))
    result = failure(run)
    assert result["task"].endswith("Check that every image installed from an archive names its archive"), run
    assert "source=archive needs archive_path" in result["msg"] and "wct6/base/servercore" in result["msg"]


def test_base_images_empty_list_does_nothing(run_playbook):
    run = run_playbook(include("base_images")).assert_ok()
    assert not run.changed
    assert [r for r in run.results if r["action"] == "wincontainers.images.win_container_base_image"][0]["skipped"]


# --- app_images -----------------------------------------------------------------------------------


APP_IMAGES_BAD = [
    ({"app_images_list": {"web": "registry/web:1"}}, ["app_images_list"]),
    ({"app_images_pull": "sometimes"}, ["app_images_pull", "sometimes", "missing"]),
    ({"app_images_parallel": "many"}, ["app_images_parallel", "many"]),
    ({"app_images_registries": [{"username": "u"}]}, ["registry_url"]),
    ({"app_images_registries": [{"registry_url": "r.example", "state": "gone"}]}, ["state", "gone", "present"]),
    ({"app_images_tags": [{"name": "a"}]}, ["repository"]),
    ({"app_images_push": [{"tag": "1"}]}, ["name"]),
]


def test_app_images_rejects_bad_arguments(run_playbook):
    run_cases(run_playbook, "app_images", APP_IMAGES_BAD)


def test_app_images_login_password_is_not_shown(run_playbook, engine):
    """A wrong password fails the login task; the password appears in no output."""
    secret = "wct6-" + uuid.uuid4().hex
    run = run_playbook(
        include(
            "app_images",
            app_images_registry_from_env=False,
            app_images_registries=[{"registry_url": engine.registry_auth, "username": engine.registry_user, "password": secret}],
        ),
        verbosity=3,
    )
    result = failure(run)
    assert result["task"].endswith("Log in to the registries (S15)"), run
    everything = run.stdout + run.stderr + json.dumps(run.results)
    assert secret not in everything


def test_app_images_logs_in_from_the_environment(run_playbook, engine):
    """The AWX custom credential path: WINCONTAINERS_REGISTRY_* in the controller's environment."""
    env = {
        "WINCONTAINERS_REGISTRY_HOST": engine.registry_auth,
        "WINCONTAINERS_REGISTRY_USERNAME": engine.registry_user,
        "WINCONTAINERS_REGISTRY_PASSWORD": engine.registry_password,
    }
    first = run_playbook(include("app_images"), env=env).assert_ok()
    assert task(first, "Log in to the registries (S15)")["changed"], first
    second = run_playbook(include("app_images"), env=env).assert_ok()
    assert not second.changed, second
    assert engine.registry_password not in first.stdout + second.stdout + json.dumps(first.results + second.results)


# --- offline_images / container_image_provider -------------------------------------------------------------


OFFLINE_IMAGES_BAD = [
    ({"offline_images_mode": "both"}, ["offline_images_mode", "both", "export, import"]),
    ({"offline_images_archives": [{"images": ["a:1"]}]}, ["file"]),
    ({"offline_images_transfer": "ftp"}, ["offline_images_transfer", "ftp"]),
    ({"offline_images_force": "often"}, ["offline_images_force", "often"]),
    ({"offline_images_archives": [{"file": "a.tar", "images": "wct6/x:1"}], "offline_images_timeout": []},
     ["offline_images_timeout"]),
]


def test_offline_images_rejects_bad_arguments(run_playbook):
    run_cases(run_playbook, "offline_images", OFFLINE_IMAGES_BAD)


def test_offline_images_rejects_paths_in_file_names(run_playbook, tmp_path):
    run = run_playbook(
        include("offline_images", offline_images_archives=[{"file": "../escape.tar", "images": ["wct6/x:1"]}],
                offline_images_host_dir=str(tmp_path / "host"), offline_images_controller_dir=str(tmp_path / "ctl"))
    )
    result = failure(run)
    assert result["task"].endswith("Check the archive names"), run
    assert "../escape.tar" in result["msg"] and "plain file name" in result["msg"]


def test_offline_images_windows_exports_need_a_share(run_playbook, tmp_path):
    """export with transfer=controller on a Windows host is refused before anything runs (fetching the archive
    is not implemented there); imports copy from the controller on any host."""
    run = run_playbook(
        include("offline_images", offline_images_mode="export", offline_images_host_is_windows=True,
                offline_images_transfer="controller", offline_images_archives=[{"file": "a.tar", "images": ["wct6/x:1"]}])
    )
    result = failure(run)
    assert result["task"].endswith("Check that exported archives can travel through the controller"), run
    assert "share" in result["msg"] and "offline_images_transfer: none" in result["msg"]


def test_container_image_provider_rejects_bad_state(run_playbook):
    run = run_playbook(include("container_image_provider", container_image_provider_state="installed"))
    assert_rejected(run, "container_image_provider_state", "installed", "present, absent")


@pytest.fixture
def wct6_images(docker_client, engine):
    """Two wct6/ names on two distinct test images; removed afterwards."""
    names = {}
    token = uuid.uuid4().hex[:8]
    for version in ("1.0", "2.0"):
        source = docker_client.images.get(f"wctest/busybox:{version}")
        name = f"wct6/offline-{token}:{version}"
        source.tag(name)
        names[name] = source.id
    yield names
    for name in names:
        try:
            docker_client.images.remove(name)
        except Exception:  # noqa: BLE001 - best-effort cleanup
            pass


COPY_AND_LOAD = "Copy the archive when the host's file differs, and load it (S7): wct6.tar"


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_offline_images_round_trip(run_playbook, docker_client, wct6_images, tmp_path):
    """Export -> controller (verified sha256 + manifest) -> import: copied (docker_image_load's src, over the
    connection) only when the target's sha256 differs, loaded only when the engine lacks an image ID or tag;
    second runs change nothing."""
    names = list(wct6_images)
    common = {
        "offline_images_archives": [{"file": "wct6.tar", "images": names}],
        "offline_images_controller_dir": str(tmp_path / "controller"),
    }
    export = include("offline_images", offline_images_mode="export", offline_images_host_dir=str(tmp_path / "connected"),
                     **common)
    first = run_playbook(export).assert_ok()
    assert task(first, "Export the images to archives (S7, docker save)")["changed"]
    manifest = json.loads((tmp_path / "controller" / "wct6.tar.json").read_text())
    archive = tmp_path / "controller" / "wct6.tar"
    assert manifest["sha256"] == sha256(archive) == sha256(tmp_path / "connected" / "wct6.tar")
    assert sorted(manifest["image_ids"]) == sorted(set(wct6_images.values()))
    assert manifest["images"] == names
    assert not run_playbook(export).assert_ok().changed

    # the offline host: remove the names (the IDs stay, shared with wctest/busybox), then import
    for name in names:
        docker_client.images.remove(name)
    target = tmp_path / "offline"
    imp = include("offline_images", offline_images_mode="import", offline_images_host_dir=str(target), **common)
    check = run_playbook(imp, check=True).assert_ok()
    predicted = task(check, COPY_AND_LOAD)
    assert predicted["changed"] and predicted["result"]["copied"], check
    assert not (target / "wct6.tar").exists(), "check mode copied the archive"
    assert not [n for n in names if docker_client.images.list(name=n)], "check mode loaded images"

    loaded = run_playbook(imp).assert_ok()
    first = task(loaded, COPY_AND_LOAD)
    assert first["changed"] and first["result"]["copied"] and first["result"]["loaded"], loaded
    assert first["result"]["sha256"] == sha256(target / "wct6.tar") == manifest["sha256"]
    for name, image_id in wct6_images.items():
        assert docker_client.images.get(name).id == image_id

    again = run_playbook(imp).assert_ok()
    assert not again.changed, again
    assert task(again, COPY_AND_LOAD)["skipped"]  # the engine had every ID and tag

    # one tag missing, archive already on the target with the right sha256: load without copying
    docker_client.images.remove(names[0])
    partial = run_playbook(imp).assert_ok()
    reload = task(partial, COPY_AND_LOAD)
    assert reload["changed"] and not reload["result"]["copied"] and reload["result"]["loaded"], partial

    # a damaged archive on the target (other sha256): copied again, then loaded
    docker_client.images.remove(names[1])
    (target / "wct6.tar").write_bytes(b"not an archive")
    repaired = run_playbook(imp).assert_ok()
    assert task(repaired, COPY_AND_LOAD)["result"]["copied"], repaired
    assert sha256(target / "wct6.tar") == manifest["sha256"]
    assert docker_client.images.get(names[1]).id == wct6_images[names[1]]


def test_site_check_mode_changes_nothing(run_playbook, docker_client, wct6_images, engine, tmp_path):
    """site.yml's roles in check mode: they predict the changes and leave the engine as it was."""
    name = list(wct6_images)[0]
    before = sorted(tag for image in docker_client.images.list() for tag in image.tags)
    repository, version = name.rsplit(":", 1)
    absent = {"name": repository, "version": version, "source": "archive", "archive_path": str(tmp_path / "none.tar"),
              "state": "absent"}
    tasks = include("base_images", base_images_list=[absent])
    tasks += include("app_images", app_images_list=[f"{engine.registry_anon}/wctest/busybox:1.0"],
                     app_images_tags=[{"name": name, "repository": [name.rsplit(":", 1)[0] + ":check"]}])
    run = run_playbook(tasks, check=True).assert_ok()
    assert task(run, "Tag the application images (S6)")["changed"]
    after = sorted(tag for image in docker_client.images.list() for tag in image.tags)
    assert [t for t in after if t.startswith("wct6/")] == [t for t in before if t.startswith("wct6/")]
