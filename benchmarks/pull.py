# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pulling 8 small images from the local registry, three ways, in one run:

(a) one ``wincontainers.images.docker_image_pull`` task naming the 8 images (one detached job,
    default ``parallel: 3``);
(b) a loop of 8 ``docker_image_pull`` tasks, one image each;
(c) 8 sequential ``docker pull`` calls from Python (the floor: no Ansible at all).

The images (``wct4/bench-N:1``, a random 2 MB layer each, so every pull downloads and extracts
a layer of its own) are built with ``docker import`` and pushed to the anonymous registry once;
before each variant they are removed from the engine. (a) and (b) are the task's own time (from
its start to its result, measured by ``benchmarks/callback_plugins/wc_task_timer.py``, so
Ansible's start-up is left out), best of ``--repeat``.

Targets: (a) not slower than (c), and (a) at least twice as fast as (b).

Needs DOCKER_HOST and WC_REGISTRY_ANON (``source /tmp/wincontainers-engine/env``) and
WC_COLLECTIONS_PATH (an installed collection).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

COUNT = 8
LAYER = 2 * 1024 * 1024


def docker(*arguments: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *arguments], capture_output=True, text=True, check=check)


def registry_config_digest(registry: str, repository: str) -> str | None:
    request = urllib.request.Request("http://%s/v2/%s/manifests/1" % (registry, repository),
                                     headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return json.loads(response.read())["config"]["digest"]
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def publish(registry: str) -> dict[str, str]:
    """reference -> image ID of the benchmark images, pushed once to the registry."""
    images = {}
    for number in range(1, COUNT + 1):
        repository = "wct4/bench-%d" % number
        reference = "%s/%s:1" % (registry, repository)
        image_id = registry_config_digest(registry, repository)
        if image_id is None:
            with tempfile.TemporaryDirectory() as work:
                payload = Path(work) / "random.bin"
                payload.write_bytes(os.urandom(LAYER))
                with tarfile.open(Path(work) / "layer.tar", "w") as tar:
                    tar.add(payload, arcname="random.bin")
                docker("import", str(Path(work) / "layer.tar"), reference)
            docker("push", reference)
            image_id = docker("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()
        images[reference] = image_id
    return images


def remove(images: dict[str, str]) -> None:
    for image_id in images.values():
        docker("image", "rm", "--force", image_id, check=False)


def time_task(tasks: list[dict], env: dict[str, str]) -> float:
    """Seconds the (one) task of the playbook took, from its start to its result (callback timer)."""
    play = [{"name": "benchmark", "hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": tasks}]
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "playbook.yml"
        path.write_text(yaml.safe_dump(play, sort_keys=False), encoding="utf-8")
        times = Path(work) / "times.jsonl"
        command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", str(path),
                   "-e", "ansible_python_interpreter=%s" % sys.executable]
        done = subprocess.run(command, env=dict(env, WC_TASK_TIMES=str(times)), capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            sys.exit("benchmark playbook failed:\n%s" % done.stdout[-4000:])
        [record] = [json.loads(line) for line in times.read_text(encoding="utf-8").splitlines()]
    return record["seconds"]


def measure(name: str, images: dict[str, str], run, repeat: int) -> float:
    times = []
    for _attempt in range(repeat):
        remove(images)
        times.append(run())
        missing = [ref for ref in images if docker("image", "inspect", ref, check=False).returncode != 0]
        if missing:
            sys.exit("%s did not pull %s" % (name, missing))
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of how many runs per variant (default 3)")
    options = parser.parse_args()
    registry = os.environ.get("WC_REGISTRY_ANON")
    if not registry or not os.environ.get("DOCKER_HOST") or not os.environ.get("WC_COLLECTIONS_PATH"):
        sys.exit("set DOCKER_HOST and WC_REGISTRY_ANON (source /tmp/wincontainers-engine/env) and WC_COLLECTIONS_PATH")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.environ["WC_COLLECTIONS_PATH"], ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACK_PLUGINS=str(Path(__file__).resolve().parent / "callback_plugins"),
               ANSIBLE_CALLBACKS_ENABLED="wc_task_timer")
    images = publish(registry)
    names = list(images)
    one_task = [{"wincontainers.images.docker_image_pull": {"name": names}}]
    loop = [{"wincontainers.images.docker_image_pull": {"name": ["{{ item }}"]}, "loop": names}]

    a = measure("(a)", images, lambda: time_task(one_task, env), options.repeat)
    b = measure("(b)", images, lambda: time_task(loop, env), options.repeat)

    def raw() -> float:
        started = time.perf_counter()
        for name in names:
            docker("pull", "--quiet", name)
        return time.perf_counter() - started

    c = measure("(c)", images, raw, options.repeat)
    remove(images)
    print("pulling %d images of %d MB each from %s, best of %d (a and b: the task's own time, without"
          " Ansible's start-up)" % (COUNT, LAYER // (1024 * 1024), registry, options.repeat))
    print("(a) one docker_image_pull task:     %6.2f s" % a)
    print("(b) loop of %d docker_image_pull:    %6.2f s" % (COUNT, b))
    print("(c) %d sequential docker pull:       %6.2f s" % (COUNT, c))
    print("a / c = %.2f (target <= 1.0)   b / a = %.2f (target >= 2.0)" % (a / c, b / a))


if __name__ == "__main__":
    main()
