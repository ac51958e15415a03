# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX execution environment definition (meta/execution-environment.yml): ``ansible-builder create``
writes a build context with pywinrm, pypsrp, the collection tarball and the bindep file; and ansible-builder's
own introspection script, run on the collection installed from the tarball, finds the same requirements
through the collection's meta/execution-environment.yml (what happens inside the image build).

No container runtime or network is needed: ``create`` only writes files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def build_context(tmp_path: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """scripts/build-ee.sh --create, the context in tmp_path (WC_EE_CONTEXT); the tarball goes where the
    definition expects it, artifacts/ee/."""
    context = tmp_path / "context"
    proc = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "build-ee.sh"), "--create"], cwd=REPO_ROOT,
                          env={**os.environ, "WC_EE_CONTEXT": str(context)}, capture_output=True, text=True,
                          timeout=300, check=False)
    return context, proc


def test_ansible_builder_create(tmp_path):
    context, proc = build_context(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    build = context / "_build"

    definition = yaml.safe_load((REPO_ROOT / "meta" / "execution-environment.yml").read_text(encoding="utf-8"))
    assert definition["version"] == 3

    containerfile = (context / "Dockerfile").read_text(encoding="utf-8")
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.12"' in containerfile
    assert "ansible-core" in containerfile and "ansible-runner" in containerfile
    assert "ansible-galaxy collection install" in containerfile and "-r requirements.yml" in containerfile
    assert "COPY _build/bindep.txt bindep.txt" in containerfile or "bindep.txt" in containerfile
    assert "introspect" in containerfile

    requirements = (build / "requirements.txt").read_text(encoding="utf-8")
    names = [line.split("[")[0].split(">")[0].strip() for line in requirements.splitlines()
             if line.strip() and not line.startswith("#")]
    assert "pywinrm" in names and "pypsrp" in names

    bindep = (build / "bindep.txt").read_text(encoding="utf-8")
    assert "krb5-devel [platform:rpm compile]" in bindep and "krb5-workstation [platform:rpm]" in bindep

    galaxy = yaml.safe_load((build / "requirements.yml").read_text(encoding="utf-8"))
    (collection,) = galaxy["collections"]
    assert collection == {"name": "collections/wincontainers-images.tar.gz", "type": "file"}
    tarball = build / "collections" / "wincontainers-images.tar.gz"
    assert tarball.is_file(), "the collection tarball is missing from the build context"
    with tarfile.open(tarball) as archive:
        manifest = yaml.safe_load(archive.extractfile("MANIFEST.json"))
        members = set(archive.getnames())
    assert manifest["collection_info"]["namespace"] == "wincontainers"
    assert manifest["collection_info"]["name"] == "images"
    for needed in ("meta/execution-environment.yml", "meta/requirements.txt", "meta/bindep.txt",
                   "requirements.txt", "bindep.txt", "roles/base_images/meta/argument_specs.yml",
                   "playbooks/site.yml", "plugins/filter/fleet_report.py"):
        assert needed in members, f"{needed} is not in the collection tarball"

    # What the image build does after installing the collection: ansible-builder's introspection finds
    # the collection's own Python and system requirements through its meta/execution-environment.yml.
    installed = tmp_path / "collections"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_COLLECTIONS_PATH")}
    install = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "--force",
                              "-p", str(installed), str(tarball)], env=env, capture_output=True, text=True, timeout=300,
                             check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    assert (installed / "ansible_collections" / "wincontainers" / "images" / "MANIFEST.json").is_file(), install.stdout
    introspect = subprocess.run([sys.executable, str(build / "scripts" / "introspect.py"), "introspect", str(installed)],
                                capture_output=True, text=True, timeout=120, check=False)
    assert introspect.returncode == 0, introspect.stdout + introspect.stderr
    found = yaml.safe_load(introspect.stdout)
    python = " ".join(found["python"])
    assert "pywinrm" in python and "pypsrp" in python and "from collection wincontainers.images" in python
    assert any(line.startswith("krb5-devel [platform:rpm compile]") for line in found["system"])
