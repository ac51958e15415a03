# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The constant scripts that the POSIX dialect runs on a Linux Docker host.

They are Python 3 programs (Python is on every host Ansible manages over ``local`` or ``ssh``),
passed with ``python3 -c`` and fed the same one-line JSON request on stdin as the PowerShell
scripts, and they answer with the same JSON. Arguments are passed as argument vectors, so no
shell ever parses a user value.
"""

from __future__ import annotations

PRELUDE = r'''
import json, os, shutil, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

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
    return shutil.which(name)


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
    )
    return {
        "rc": process.returncode,
        "stdout": process.stdout.decode("utf-8", "replace"),
        "stderr": process.stderr.decode("utf-8", "replace"),
    }
'''

RUN = PRELUDE + r'''
import re

SAFE_TOKEN = re.compile(r"^[A-Za-z0-9:._/@-]+$")


def lines_as_arguments(text, limit):
    """The distinct output lines of an earlier call, in chunks of at most `limit` characters."""
    chunks, chunk, size, seen = [], [], 0, set()
    for token in text.splitlines():
        if not token or token in seen:
            continue
        if not SAFE_TOKEN.match(token):
            raise ValueError("refusing to pass %r as an argument" % token)
        seen.add(token)
        if chunk and size + len(token) + 1 > limit:
            chunks.append(chunk)
            chunk, size = [], 0
        chunk.append(token)
        size += len(token) + 1
    if chunk:
        chunks.append(chunk)
    return chunks


def main():
    request = read_request()
    calls = request["calls"]
    paths = {}
    for call in calls:
        if call["exe"] not in paths:
            path = resolve_executable(call["exe"])
            if not path:
                answer({"results": [], "error": {"kind": "not_found", "exe": call["exe"],
                        "message": "%s was not found on this host" % call["exe"]}})
                return
            paths[call["exe"]] = path
    results = [None] * len(calls)
    parallel = max(1, int(request.get("parallel") or 1))
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        pending = {}
        for index, call in enumerate(calls):
            argv = list(call["argv"])
            if call.get("append_lines_of") is not None:
                for waiting, future in list(pending.items()):
                    results[waiting] = future.result()
                pending.clear()
                chunks = lines_as_arguments(results[call["append_lines_of"]]["stdout"], 30000)
                merged = {"rc": 0, "stdout": "", "stderr": "", "skipped": not chunks}
                for chunk in chunks:
                    part = run_call(paths[call["exe"]], argv + chunk, call.get("stdin"), call.get("env"))
                    merged["rc"] = merged["rc"] or part["rc"]
                    merged["stdout"] += part["stdout"] + "\n"
                    merged["stderr"] += part["stderr"]
                results[index] = merged
                continue
            pending[index] = pool.submit(run_call, paths[call["exe"]], argv, call.get("stdin"), call.get("env"))
        for index, future in pending.items():
            results[index] = future.result()
    answer({"results": results, "error": None})


try:
    main()
except Exception as exc:
    answer({"results": [], "error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''

SCRIPTS: dict[str, str] = {
    "run": RUN,
}
