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

# Detached jobs (see powershell_scripts for the why): the runner is started in its own session
# (setsid), so it outlives the exec and the connection that started it.
JOB_PRELUDE = PRELUDE + r'''
import re, tempfile

def job_directory(job_id):
    if not re.match(r"^[0-9a-f]{16,64}$", str(job_id)):
        raise ValueError("invalid job id %r" % job_id)
    return os.path.join(tempfile.gettempdir(), "wincontainers.images-jobs-%d" % os.getuid(), job_id)


def read_shared(path, limit=262144):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            return handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def write_atomically(path, text):
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(path + ".tmp", path)
'''

JOB_RUNNER = JOB_PRELUDE + r'''
import threading, time


def main():
    directory = os.getcwd()
    write_atomically(os.path.join(directory, "runner.pid"), str(os.getpid()))
    with open(os.path.join(directory, "request.json"), encoding="utf-8") as handle:
        request = json.load(handle)
    calls = request["calls"]
    retries = max(0, int(request.get("retries") or 0))
    lock = threading.Lock()

    def run(index):
        call = calls[index]
        env = dict(os.environ)
        env.update(call.get("env") or {})
        attempts = 0
        while True:
            attempts += 1
            with open(os.path.join(directory, "%d.out" % index), "wb") as out, \
                    open(os.path.join(directory, "%d.err" % index), "wb") as err:
                process = subprocess.Popen([call["path"]] + call["argv"], stdin=subprocess.DEVNULL,
                                           stdout=out, stderr=err, env=env)
                with lock, open(os.path.join(directory, "pids"), "a") as pids:
                    pids.write("%d\n" % process.pid)
                rc = process.wait()
            if rc == 0 or attempts > retries:
                return {"rc": rc, "attempts": attempts}

    with ThreadPoolExecutor(max_workers=max(1, int(request.get("parallel") or 1))) as pool:
        results = list(pool.map(run, range(len(calls))))
    write_atomically(os.path.join(directory, "results.json"), json.dumps({"results": results, "error": None}))


try:
    main()
except Exception as exc:
    write_atomically(os.path.join(os.getcwd(), "results.json"),
                     json.dumps({"results": [], "error": {"kind": "exception", "message": str(exc)}}))
'''

JOB_START = JOB_PRELUDE + r'''
def main():
    request = read_request()
    directory = job_directory(request["job"])
    if os.path.exists(os.path.join(directory, "request.json")):
        answer({"started": False, "error": None})
        return
    calls = []
    for call in request["calls"]:
        path = resolve_executable(call["exe"])
        if not path:
            answer({"error": {"kind": "not_found", "exe": call["exe"], "message": "%s was not found on this host" % call["exe"]}})
            return
        calls.append({"path": path, "argv": call["argv"], "env": call.get("env")})
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with open(os.path.join(directory, "runner.py"), "w", encoding="utf-8") as handle:
        handle.write(request["runner"])
    write_atomically(os.path.join(directory, "request.json"),
                     json.dumps({"parallel": request.get("parallel"), "retries": request.get("retries"), "calls": calls}))
    subprocess.Popen([sys.executable, "runner.py"], cwd=directory, start_new_session=True, close_fds=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    answer({"started": True, "error": None})


try:
    main()
except Exception as exc:
    answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''

JOB_STATUS = JOB_PRELUDE + r'''
def alive(pid_text):
    try:
        os.kill(int(pid_text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    # A finished runner that nobody reaped is a zombie: not alive.
    try:
        with open("/proc/%d/stat" % int(pid_text)) as handle:
            return handle.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def main():
    request = read_request()
    directory = job_directory(request["job"])
    request_path = os.path.join(directory, "request.json")
    if not os.path.exists(request_path):
        answer({"exists": False, "error": None})
        return
    with open(request_path, encoding="utf-8") as handle:
        count = len(json.load(handle)["calls"])
    outputs = [{"stdout": read_shared(os.path.join(directory, "%d.out" % index)),
                "stderr": read_shared(os.path.join(directory, "%d.err" % index))} for index in range(count)]
    finished = None
    if os.path.exists(os.path.join(directory, "results.json")):
        with open(os.path.join(directory, "results.json"), encoding="utf-8") as handle:
            finished = json.load(handle)
    runner_pid = read_shared(os.path.join(directory, "runner.pid"))
    answer({"exists": True, "started": bool(runner_pid), "alive": bool(runner_pid) and alive(runner_pid),
            "finished": finished, "outputs": outputs, "error": None})


try:
    main()
except Exception as exc:
    answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''

JOB_CLEANUP = JOB_PRELUDE + r'''
import signal


def main():
    request = read_request()
    directory = job_directory(request["job"])
    if request.get("kill"):
        ids = read_shared(os.path.join(directory, "runner.pid")).split() + read_shared(os.path.join(directory, "pids")).split()
        for pid in ids:
            try:
                os.kill(int(pid), signal.SIGTERM)
            except (ValueError, OSError):
                pass
    shutil.rmtree(directory, ignore_errors=True)
    answer({"removed": True, "error": None})


try:
    main()
except Exception as exc:
    answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''

SCRIPTS: dict[str, str] = {
    "run": RUN,
    "job_start": JOB_START,
    "job_status": JOB_STATUS,
    "job_cleanup": JOB_CLEANUP,
    "job_runner": JOB_RUNNER,
}
