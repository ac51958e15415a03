# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every program starts with: the answer, the request, the executables (from a fixed table,
never named by the request) and program calls.
"""
# wincontainers.images: program text below

import json
import os
import subprocess
import sys

KNOWN_EXECUTABLES = ("docker", "tar")


def answer(value):
    sys.stdout.write(json.dumps(value, ensure_ascii=True, separators=(",", ":")) + "\n")


def read_request():
    line = sys.stdin.readline()
    if not line.strip():
        raise ValueError("the request line on stdin is empty")
    return json.loads(line)


def resolve_executable(name):
    if name not in KNOWN_EXECUTABLES:
        raise ValueError("unknown executable %r" % name)
    for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(directory or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def run_call(path, argv, stdin, environment):
    env = dict(os.environ)
    env.update(environment or {})
    process = subprocess.run(
        [path] + list(argv),
        input=None if stdin is None else stdin.encode("utf-8"),
        stdin=subprocess.DEVNULL if stdin is None else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        check=False,
    )
    return {
        "rc": process.returncode,
        "stdout": process.stdout.decode("utf-8", "replace"),
        "stderr": process.stderr.decode("utf-8", "replace"),
    }
