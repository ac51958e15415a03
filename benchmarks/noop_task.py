# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-task cost of a no-op docker_image_tag / docker_image_info task, against the alternatives.

All variants run in one go on the same local engine through the ``local`` connection:

- ours: 50 no-op ``wincontainers.images.docker_image_tag`` + 50 ``docker_image_info`` tasks;
- community.docker: the same 100 tasks with ``community.docker.docker_image_tag`` / ``_info``
  (from the ``ansible`` package, installed in a virtualenv of its own);
- debug: 100 ``ansible.builtin.debug`` tasks (Ansible's own per-task overhead);
- raw task: 100 ``ansible.builtin.raw`` tasks running ``docker image inspect`` (the least any
  task that runs one docker call on the host can cost);
- raw: 100 ``docker image inspect`` calls from Python (one docker call).

Each playbook's time minus the time of the same playbook with no tasks, divided by the number
of tasks, is the per-task cost. Prints the figures and the ratios the foundation issue targets:
ours / community.docker <= 0.1, and ours <= 3 x (debug + raw).

Needs DOCKER_HOST (scripts/engine.sh env), WC_COLLECTIONS_PATH (an installed collection) and
the image named by --image.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMMUNITY_VENV = ROOT / "benchmarks" / "output" / "venv-community"


def community_ansible_playbook() -> Path:
    """ansible-playbook of a virtualenv with the ``ansible`` package (community.docker inside)."""
    executable = COMMUNITY_VENV / "bin" / "ansible-playbook"
    if not executable.exists():
        venv.create(COMMUNITY_VENV, with_pip=True)
        subprocess.run(
            [str(COMMUNITY_VENV / "bin" / "pip"), "install", "--quiet", "ansible", "requests"],
            check=True,
        )
    return executable


def playbook(tasks: list[dict]) -> list[dict]:
    return [{"name": "benchmark", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def time_playbook(ansible_playbook: Path, tasks: list[dict], python: str, env: dict[str, str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "playbook.yml"
        path.write_text(yaml.safe_dump(playbook(tasks), sort_keys=False))
        start = time.perf_counter()
        completed = subprocess.run(
            [str(ansible_playbook), str(path), "-e", "ansible_python_interpreter=%s" % python],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,  # the return code is checked below, with the output in the message
        )
        elapsed = time.perf_counter() - start
    if completed.returncode != 0 or re.search(r"changed=[1-9]", completed.stdout):
        sys.exit("benchmark playbook failed or changed something:\n%s" % completed.stdout[-3000:])
    return elapsed


def per_task(ansible_playbook: Path, tasks: list[dict], python: str, env: dict[str, str], repeat: int) -> float:
    """Best-of-``repeat`` seconds per task, with the empty playbook's start-up subtracted."""
    empty = min(time_playbook(ansible_playbook, [], python, env) for _round in range(repeat))
    full = min(time_playbook(ansible_playbook, tasks, python, env) for _round in range(repeat))
    return (full - empty) / len(tasks)


def raw_docker_per_call(image: str, count: int) -> float:
    start = time.perf_counter()
    for _call in range(count):
        subprocess.run(["docker", "image", "inspect", image], check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="wctest/busybox:1.0", help="an image present on the engine")
    parser.add_argument("--tasks", type=int, default=50, help="tasks of each module")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each playbook (best is kept)")
    options = parser.parse_args()

    for variable in ("DOCKER_HOST", "WC_COLLECTIONS_PATH"):
        if not os.environ.get(variable):
            sys.exit("%s is not set: source the engine env and install the collection first" % variable)
    image = options.image
    repository = image.rsplit(":", 1)[0]
    tag_target = "%s:bench-latest" % repository
    subprocess.run(["docker", "image", "tag", image, tag_target], check=True)

    ours = [{"wincontainers.images.docker_image_tag": {"name": image, "repository": [tag_target]}}] * options.tasks
    ours += [{"wincontainers.images.docker_image_info": {"name": [image]}}] * options.tasks
    community = [{"community.docker.docker_image_tag": {"name": image, "repository": [tag_target]}}] * options.tasks
    community += [{"community.docker.docker_image_info": {"name": [image]}}] * options.tasks
    debug = [{"ansible.builtin.debug": {"msg": "noop"}}] * (2 * options.tasks)
    raw_task = [{"ansible.builtin.raw": "docker image inspect %s" % image, "changed_when": False}] * (2 * options.tasks)

    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.environ["WC_COLLECTIONS_PATH"], ANSIBLE_NOCOLOR="1")
    community_env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    community_env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    our_playbook = Path(sys.executable).parent / "ansible-playbook"
    their_playbook = community_ansible_playbook()
    their_python = str(COMMUNITY_VENV / "bin" / "python")

    figures = {
        "ours": per_task(our_playbook, ours, sys.executable, env, options.repeat),
        "community.docker": per_task(their_playbook, community, their_python, community_env, options.repeat),
        "debug": per_task(our_playbook, debug, sys.executable, env, options.repeat),
        "raw task": per_task(our_playbook, raw_task, sys.executable, env, options.repeat),
        "raw docker call": raw_docker_per_call(image, 2 * options.tasks),
    }
    subprocess.run(["docker", "image", "rm", tag_target], check=True, stdout=subprocess.DEVNULL)

    for name, seconds in figures.items():
        print("%-18s %8.1f ms per task" % (name, seconds * 1000))
    floor = figures["debug"] + figures["raw docker call"]
    print("ours / community.docker     = %.3f  (target <= 0.100)" % (figures["ours"] / figures["community.docker"]))
    print("ours / (debug + raw docker) = %.2f   (target <= 3.00)" % (figures["ours"] / floor))
    print("ours / raw task             = %.2f" % (figures["ours"] / figures["raw task"]))


if __name__ == "__main__":
    main()
