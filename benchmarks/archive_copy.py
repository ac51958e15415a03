# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throughput of docker_image_load's ``src`` copy per transport (ansible-core's own put_file).

One archive of --size-mb (a docker save archive with one random layer) is copied from the
controller by ``wincontainers.images.docker_image_load`` with ``src`` over each transport, with
the image already on the engine so that nothing is loaded: what is timed is the copy (chunks of
64 MiB through the connection plugin's ``put_file``, one progress line each, then the join and
its sha256 check on the host).

- winrm, psrp: ansible-core's real plugins, pywinrm and pypsrp, against the contract tests' fake
  WS-Management endpoint on loopback (tests/contract/fake_wsman.py: the server side is Python, so
  the figure is a floor for the client side, not what a Windows host achieves);
- ssh: the real ssh plugin (sftp) to the loopback sshd of scripts/sshd.sh (a POSIX host; needs
  WC_SSH_* from ``scripts/sshd.sh env``) and the real engine (DOCKER_HOST);
- local: the local connection (a file copy), the baseline.

Prints, per transport: seconds of the put_file phase (the module's ``transfer.seconds``), MB/s,
the whole task's seconds (hashing ``src`` on the controller and the join included), and each
transport's MB/s as a ratio of local's and of ssh's.

    source /tmp/wincontainers-engine/env; eval "$(bash scripts/sshd.sh env)"
    eval "$(bash scripts/build-collection.sh "$(mktemp -d)")"
    .venv/bin/python benchmarks/archive_copy.py --size-mb 256
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "tests" / "contract"
TAG = "wctest-bench/archive-copy:1"
WINDOWS_DIRECTORY = "C:\\bench"


def build_archive(path: Path, megabytes: int) -> dict:
    """A loadable docker save archive (legacy layout) with one layer of random bytes."""
    layer_buffer = io.BytesIO()
    with tarfile.open(fileobj=layer_buffer, mode="w") as layer:
        info = tarfile.TarInfo("random.bin")
        info.size = megabytes * 1024 * 1024
        layer.addfile(info, io.BytesIO(os.urandom(info.size)))
    layer_bytes = layer_buffer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "created": "2025-01-01T00:00:00Z",
                         "config": {"Cmd": ["/random.bin"]}, "rootfs": {"type": "layers", "diff_ids": [diff_id]}},
                        sort_keys=True).encode()
    image_id = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": image_id + ".json", "RepoTags": [TAG], "Layers": [diff_id[7:] + "/layer.tar"]}])
    with tarfile.open(path, "w") as archive:
        for name, data in ((diff_id[7:] + "/layer.tar", layer_bytes), (image_id + ".json", config),
                           ("manifest.json", manifest.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return {"id": "sha256:" + image_id, "size": path.stat().st_size}


def collections_root(scratch: Path) -> Path:
    installed = os.environ.get("WC_COLLECTIONS_PATH")
    if installed:
        return Path(installed.split(os.pathsep)[0])
    root = scratch / "collections"
    (root / "ansible_collections" / "wincontainers").mkdir(parents=True)
    (root / "ansible_collections" / "wincontainers" / "images").symlink_to(ROOT, target_is_directory=True)
    return root


def task(src: Path, path: str) -> dict:
    return {"name": "copy", "wincontainers.images.docker_image_load": {"src": str(src), "path": path}}


def run_fake(transport: str, archive: Path, image: dict, scratch: Path, root: Path) -> dict:
    """winrm / psrp against the fake endpoint, through the contract harness."""
    sys.path.insert(0, str(CONTRACT))
    sys.path.insert(0, str(root))
    from contract_harness import ContractHost

    workdir = scratch / ("host-" + transport)
    workdir.mkdir()
    scenario = {"images": [{"Id": image["id"], "RepoTags": [TAG], "RepoDigests": [], "Created": "2025-01-01T00:00:00Z",
                            "Os": "linux", "Architecture": "amd64", "Size": image["size"]}],
                "lifecycle": {"directories": [WINDOWS_DIRECTORY]}}
    host = ContractHost(workdir, transport, root, scenario)
    try:
        started = time.perf_counter()
        run = host.run([task(archive, WINDOWS_DIRECTORY + "\\archive.tar")])
        elapsed = time.perf_counter() - started
        result = run.task.result
        if run.task.failed or not result.get("copied") or result.get("loaded"):
            raise SystemExit("%s: the copy failed or loaded something:\n%s" % (transport, run.output))
        return {"put_seconds": result["transfer"]["seconds"], "task_seconds": elapsed,
                "bytes": result["transfer"]["bytes_sent"]}
    finally:
        host.close()


def run_real(transport: str, archive: Path, scratch: Path, root: Path, ansible_playbook: str) -> dict:
    """local, or ssh to the loopback sshd: the real engine already holds the image."""
    directory = scratch / ("host-" + transport)
    directory.mkdir()
    directory.chmod(0o755)
    if transport == "local":
        variables = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    else:
        for name in ("WC_SSH_HOST", "WC_SSH_PORT", "WC_SSH_USER", "WC_SSH_KEY"):
            if not os.environ.get(name):
                raise SystemExit("ssh: %s is not set; run: eval \"$(bash scripts/sshd.sh env)\"" % name)
        variables = {
            "ansible_connection": "ssh", "ansible_host": os.environ["WC_SSH_HOST"],
            "ansible_port": int(os.environ["WC_SSH_PORT"]), "ansible_user": os.environ["WC_SSH_USER"],
            "ansible_ssh_private_key_file": os.environ["WC_SSH_KEY"],
            "ansible_ssh_common_args": "-o UserKnownHostsFile=%s -o StrictHostKeyChecking=no"
                                       % os.environ.get("WC_SSH_KNOWN_HOSTS", "/dev/null"),
            "ansible_python_interpreter": "/usr/bin/python3" if Path("/usr/bin/python3").exists() else "python3",
        }
    inventory = scratch / ("inventory-%s.yml" % transport)
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"bench": variables}}}))
    play = [{"name": "bench", "hosts": "bench", "gather_facts": False,
             "environment": {"DOCKER_HOST": os.environ.get("DOCKER_HOST", "")} if os.environ.get("DOCKER_HOST") else {},
             "tasks": [dict(task(archive, str(directory / "archive.tar")), register="copied"),
                       {"name": "result", "delegate_to": "localhost", "ansible.builtin.copy": {
                           "content": "{{ copied | to_json }}", "dest": str(scratch / ("result-%s.json" % transport)),
                           "mode": "0600"}}]}]
    playbook = scratch / ("play-%s.yml" % transport)
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(root), ANSIBLE_HOST_KEY_CHECKING="0",
               ANSIBLE_LOCAL_TEMP=str(scratch / "tmp"))
    started = time.perf_counter()
    completed = subprocess.run([ansible_playbook, "-i", str(inventory), str(playbook)], env=env, capture_output=True,
                               text=True, check=False)
    elapsed = time.perf_counter() - started
    try:
        result = json.loads((scratch / ("result-%s.json" % transport)).read_text())
    except (OSError, ValueError):
        raise SystemExit("%s: ansible-playbook failed:\n%s\n%s" % (transport, completed.stdout[-3000:],
                                                                   completed.stderr[-3000:])) from None
    if result.get("failed") or not result.get("copied") or result.get("loaded"):
        raise SystemExit("%s: the copy failed or loaded something: %s" % (transport, result.get("msg") or result))
    return {"put_seconds": result["transfer"]["seconds"], "task_seconds": elapsed, "bytes": result["transfer"]["bytes_sent"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=256, help="size of the random layer (MiB)")
    parser.add_argument("--transports", default="local,ssh,winrm,psrp", help="comma-separated")
    parser.add_argument("--ansible-playbook", default=str(Path(sys.executable).with_name("ansible-playbook")),
                        help="for local and ssh (winrm and psrp use this Python's ansible-playbook)")
    args = parser.parse_args()
    transports = [name.strip() for name in args.transports.split(",") if name.strip()]
    with tempfile.TemporaryDirectory(prefix="wc-bench-copy-") as tmp:
        scratch = Path(tmp)
        scratch.chmod(0o755)
        archive = scratch / "archive.tar"
        image = build_archive(archive, args.size_mb)
        root = collections_root(scratch)
        if {"local", "ssh"} & set(transports):
            if not os.environ.get("DOCKER_HOST"):
                raise SystemExit("local/ssh need the engine: source /tmp/wincontainers-engine/env (or pass --transports)")
            subprocess.run(["docker", "load", "--input", str(archive)], check=True, capture_output=True)
        figures = {}
        try:
            for transport in transports:
                if transport in ("winrm", "psrp"):
                    figures[transport] = run_fake(transport, archive, image, scratch, root)
                else:
                    figures[transport] = run_real(transport, archive, scratch, root, args.ansible_playbook)
                figure = figures[transport]
                figure["mb_s"] = figure["bytes"] / figure["put_seconds"] / 1e6 if figure["put_seconds"] else float("inf")
        finally:
            if {"local", "ssh"} & set(transports):
                subprocess.run(["docker", "image", "rm", TAG], check=False, capture_output=True)
    from ansible.release import __version__

    print("archive: %.1f MB (one layer of %d MiB), chunks of 64 MiB, ansible-core %s"
          % (image["size"] / 1e6, args.size_mb, __version__))
    print("%-6s %10s %9s %10s %9s %9s" % ("", "put s", "MB/s", "task s", "/ local", "/ ssh"))
    for transport, figure in figures.items():
        ratio_local = "%9.3f" % (figure["mb_s"] / figures["local"]["mb_s"]) if "local" in figures else "%9s" % "-"
        ratio_ssh = "%9.3f" % (figure["mb_s"] / figures["ssh"]["mb_s"]) if "ssh" in figures else "%9s" % "-"
        print("%-6s %10.2f %9.1f %10.2f %s %s" % (transport, figure["put_seconds"], figure["mb_s"],
                                                  figure["task_seconds"], ratio_local, ratio_ssh))
    print("winrm and psrp ran against the contract tests' fake endpoint (Python, loopback): the client side is "
          "real, the server is not a Windows host.")


if __name__ == "__main__":
    main()
