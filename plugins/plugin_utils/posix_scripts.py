# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The constant scripts that the POSIX dialect runs on a Linux Docker host.

They are Python 3 programs (Python is on every host Ansible manages over ``local`` or ``ssh``),
passed with ``python3 -c`` and fed the same one-line JSON request on stdin as the PowerShell
scripts, and they answer with the same JSON. Arguments are passed as argument vectors, so no
shell ever parses a user value. The one sh script, ``DIRECT_RUN``, runs a single docker call
without starting Python (see PosixDialect.exchange).
"""

from __future__ import annotations

PRELUDE = r'''
import json, os, subprocess, sys

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
    )
    return {
        "rc": process.returncode,
        "stdout": process.stdout.decode("utf-8", "replace"),
        "stderr": process.stderr.decode("utf-8", "replace"),
    }
'''

RUN = PRELUDE + r'''
import re


class InlineExecutor:
    """The part of ThreadPoolExecutor that main() uses, running each call at once."""

    def __init__(self, max_workers):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def submit(self, function, *args):
        return Done(function(*args))


class Done:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value

# A plain token (an ID, a reference); never one that docker would read as an option.
SAFE_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._/@-]*$")


def lines_as_arguments(text, limit):
    """The distinct output lines of an earlier call, in chunks of at most `limit` characters."""
    chunks, chunk, size, seen = [], [], 0, set()
    for token in text.split("\n"):
        token = token.rstrip("\r")
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
    # Threads only when calls may overlap: importing them costs a no-op task measurable time.
    if parallel > 1:
        from concurrent.futures import ThreadPoolExecutor
    else:
        ThreadPoolExecutor = InlineExecutor
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

# Detached jobs (docs/architecture.md, "Detached jobs: the lifecycle in one place"): the
# runner is started in its own session (setsid), so it outlives the exec and the connection
# that started it. Jobs live under the connecting user's home, in a directory that only that
# user can reach; every script checks it (lstat: no link, owned by this user, private) before
# it reads or writes anything there, so another local user can never choose what a runner runs.
JOB_PRELUDE = PRELUDE + r'''
import re, shutil, signal, stat, time

JOB_ID = re.compile(r"^[0-9a-f]{32}$")
TOKEN = re.compile(r"^[0-9a-f]{32}$")
LOCK_KEY = re.compile(r"^[0-9a-f]{64}$")
STALE = ("finished", "dead", "never_started", "incomplete")


class Unsafe(Exception):
    pass


def checked(value, pattern, what):
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError("invalid %s %r" % (what, value))
    return value


def refuse(path, what):
    raise Unsafe("%s: %s; refusing to use it" % (path, what))


def check_ancestor(path):
    # What OpenSSH's StrictModes asks of the directories above a private file.
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        refuse(path, "not a directory")
    if info.st_uid not in (0, os.geteuid()):
        refuse(path, "owned by uid %d, neither root nor this user (uid %d)" % (info.st_uid, os.geteuid()))
    if info.st_mode & 0o022 and not (info.st_mode & stat.S_ISVTX and info.st_uid == 0):
        refuse(path, "writable by other users (mode %o)" % stat.S_IMODE(info.st_mode))


def private_directory(path, create=False):
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        if not create:
            raise
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        refuse(path, "a symbolic link")
    if not stat.S_ISDIR(info.st_mode):
        refuse(path, "not a directory")
    if info.st_uid != os.geteuid():
        refuse(path, "owned by uid %d, not by this user (uid %d)" % (info.st_uid, os.geteuid()))
    if info.st_mode & 0o077:
        refuse(path, "open to other users (mode %o)" % stat.S_IMODE(info.st_mode))


def jobs_root(create):
    # ~/.ansible/wincontainers.images-jobs, or None when it does not exist and create is false.
    home = os.path.realpath(os.path.expanduser("~"))
    if not os.path.isabs(home):
        raise Unsafe("this user has no home directory for the job directory")
    current = "/"
    for part in [p for p in home.split("/") if p]:
        current = os.path.join(current, part)
        check_ancestor(current)
    dot_ansible = os.path.join(home, ".ansible")
    root = os.path.join(dot_ansible, "wincontainers.images-jobs")
    if not os.path.lexists(root) and not create:
        if os.path.lexists(dot_ansible):
            check_ancestor(dot_ansible)
        return None
    if not os.path.lexists(dot_ansible):
        try:
            os.mkdir(dot_ansible, 0o700)
        except FileExistsError:
            pass
    check_ancestor(dot_ansible)
    private_directory(root, create=True)
    return root


def job_directory(root, job):
    # The job's directory, checked when it exists; None when it does not.
    directory = os.path.join(root, checked(job, JOB_ID, "job id"))
    try:
        private_directory(directory)
    except FileNotFoundError:
        return None
    return directory


def read_shared(path, limit=262144):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            return handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def read_json(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


def write_atomically(path, text):
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(path + ".tmp", path)


def mtime(path):
    try:
        return os.lstat(path).st_mtime
    except FileNotFoundError:
        return None


def process_start(pid):
    # The process's start time (field 22 of /proc/PID/stat), None when it is not running: a PID
    # alone could be a later process that reused it. A zombie is not running.
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        if os.path.isdir("/proc/self"):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "?"
    return None if fields[0] == "Z" else fields[19]


def identity(pid):
    return "%d %s" % (pid, process_start(pid))


def alive(text):
    # True when "PID START" names a process that runs now with that start time.
    try:
        pid, start = text.split()
        return process_start(int(pid)) == start
    except ValueError:
        return False


def job_state(directory, now, grace):
    if os.path.exists(os.path.join(directory, "results.json")):
        return "finished"
    requested = mtime(os.path.join(directory, "request.json"))
    if requested is None:
        return "busy" if now - (mtime(directory) or 0) < grace else "incomplete"
    runner = read_shared(os.path.join(directory, "runner.pid")).strip()
    if runner:
        return "running" if alive(runner) else "dead"
    return "starting" if now - requested < grace else "never_started"


def discard(root, directory):
    # Stop what still runs, remove the partial file, the directory and the job's locks.
    job = os.path.basename(directory)
    request = read_json(os.path.join(directory, "request.json")) or {}
    runner = read_shared(os.path.join(directory, "runner.pid")).strip()
    if runner and alive(runner):
        try:
            os.killpg(int(runner.split()[0]), signal.SIGTERM)
        except OSError:
            pass
    for line in read_shared(os.path.join(directory, "pids")).splitlines():
        if line.strip() and alive(line):
            try:
                os.kill(int(line.split()[0]), signal.SIGTERM)
            except OSError:
                pass
    source = (request.get("rename") or {}).get("from")
    if source and os.path.isfile(source):
        os.remove(source)
    trash = os.path.join(root, ".trash-%s-%s" % (job, os.urandom(4).hex()))
    try:
        os.rename(directory, trash)
    except FileNotFoundError:
        return
    shutil.rmtree(trash, ignore_errors=True)
    for key in request.get("locks") or []:
        release(root, key, job)


def release(root, key, job):
    path = os.path.join(root, checked(key, LOCK_KEY, "lock") + ".lock")
    if read_shared(path).strip() == job:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
'''

JOB_RUNNER = JOB_PRELUDE + r'''
import threading


def main():
    directory = os.getcwd()
    private_directory(os.path.dirname(directory))
    private_directory(directory)
    # Exactly one runner per job: the second finds runner.pid and leaves.
    try:
        descriptor = os.open("runner.pid", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.write(descriptor, identity(os.getpid()).encode("ascii"))
    os.close(descriptor)
    request = read_json(os.path.join(directory, "request.json"))
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
                    pids.write(identity(process.pid) + "\n")
                rc = process.wait()
            if rc == 0 or attempts > retries:
                return {"rc": rc, "attempts": attempts}

    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=max(1, int(request.get("parallel") or 1))) as pool:
        results = list(pool.map(run, range(len(calls))))
    # The runner itself puts a written file in place, only when every call succeeded: a partial
    # file is never seen under its final name, and two runs attached to the job never race.
    renamed = False
    rename = request.get("rename")
    if rename and all(result["rc"] == 0 for result in results):
        os.replace(rename["from"], rename["to"])
        renamed = True
    elif rename and os.path.isfile(rename["from"]):
        os.remove(rename["from"])
    write_atomically(os.path.join(directory, "results.json"),
                     json.dumps({"results": results, "error": None, "finished": time.time(), "renamed": renamed}))


try:
    main()
except Unsafe:
    pass  # never write into a directory that is not ours
except Exception as exc:
    write_atomically(os.path.join(os.getcwd(), "results.json"),
                     json.dumps({"results": [], "error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)},
                                 "finished": time.time()}))
'''

JOB_START = JOB_PRELUDE + r'''
def last_activity(directory):
    # When a run last started, polled or finished the job.
    names = ["results.json", "request.json"] + [n for n in os.listdir(directory) if n.startswith("claim-")]
    return max([mtime(os.path.join(directory, n)) or 0 for n in names] + [mtime(directory) or 0])


def sweep(root, now, claim_age, current, grace):
    # Orphans: jobs that do not run and that no run has polled for claim_age; trash; locks whose
    # job is gone. A running job is never touched.
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if name.startswith(".trash-"):
            shutil.rmtree(path, ignore_errors=True)
        elif JOB_ID.match(name) and name != current:
            try:
                private_directory(path)
            except (Unsafe, OSError):
                continue  # not this user's job: never touched
            if job_state(path, now, grace) in STALE and now - last_activity(path) > claim_age:
                discard(root, path)
        elif name.endswith(".lock") and LOCK_KEY.match(name[:-5]):
            holder = read_shared(path).strip()
            if not JOB_ID.match(holder) or not os.path.isdir(os.path.join(root, holder)):
                release(root, name[:-5], holder)


def take_locks(root, job, keys, now, grace):
    # Each key's lock file, created exclusively; None, or the (key, holder) that stopped us.
    taken = []
    for key in keys:
        path = os.path.join(root, checked(key, LOCK_KEY, "lock") + ".lock")
        for _attempt in range(3):
            try:
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                holder = read_shared(path).strip()
                if JOB_ID.match(holder) and holder != job and os.path.isdir(os.path.join(root, holder)) \
                        and job_state(os.path.join(root, holder), now, grace) not in STALE:
                    for held in taken:
                        release(root, held, job)
                    return key, holder
                release(root, key, holder)
                continue
            os.write(descriptor, job.encode("ascii"))
            os.close(descriptor)
            taken.append(key)
            break
        else:
            raise Unsafe("%s: the lock keeps changing; refusing to use it" % path)
    return None


def claim(directory, token):
    with open(os.path.join(directory, "claim-" + token), "w"):
        pass


def main():
    request = read_request()
    job = checked(request["job"], JOB_ID, "job id")
    token = checked(request["token"], TOKEN, "token")
    grace = float(request.get("start_grace", 60))
    calls = []
    for call in request["calls"]:
        path = resolve_executable(call["exe"])
        if not path:
            answer({"error": {"kind": "not_found", "exe": call["exe"], "message": "%s was not found on this host" % call["exe"]}})
            return
        calls.append({"path": path, "argv": call["argv"], "env": call.get("env")})
    root = jobs_root(create=True)
    sweep(root, time.time(), float(request.get("claim_age", 60)), job, grace)
    directory = os.path.join(root, job)
    discarded = None
    for _attempt in range(3):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            private_directory(directory)
            if os.path.exists(os.path.join(directory, "claim-" + token)):
                answer({"state": "attached", "discarded": None, "error": None})
                return
            state = job_state(directory, time.time(), grace)
            if state == "busy":
                answer({"state": "busy", "discarded": None, "error": None})
                return
            if state in ("running", "starting"):
                claim(directory, token)
                answer({"state": "attached", "discarded": None, "error": None})
                return
            discard(root, directory)
            discarded = state
            continue
        stopped = take_locks(root, job, request.get("locks") or [], time.time(), grace)
        if stopped:
            shutil.rmtree(directory, ignore_errors=True)
            answer({"state": "locked", "lock": stopped[0], "holder": stopped[1], "error": None})
            return
        with open(os.path.join(directory, "runner.py"), "w", encoding="utf-8") as handle:
            handle.write(request["runner"])
        write_atomically(os.path.join(directory, "request.json"), json.dumps({
            "parallel": request.get("parallel"), "retries": request.get("retries"), "calls": calls,
            "created": time.time(), "locks": request.get("locks") or [], "rename": request.get("rename")}))
        claim(directory, token)
        subprocess.Popen([sys.executable, "runner.py"], cwd=directory, start_new_session=True, close_fds=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        answer({"state": "started", "discarded": discarded, "error": None})
        return
    raise Unsafe("%s: the job directory keeps changing; refusing to use it" % directory)


try:
    main()
except Unsafe as exc:
    answer({"error": {"kind": "unsafe", "message": str(exc)}})
except Exception as exc:
    answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''

JOB_STATUS = JOB_PRELUDE + r'''
def main():
    request = read_request()
    token = checked(request["token"], TOKEN, "token")
    root = jobs_root(create=False)
    directory = root and job_directory(root, request["job"])
    request_path = directory and os.path.join(directory, "request.json")
    if not directory or not os.path.exists(request_path):
        answer({"exists": False, "claimed": False, "error": None})
        return
    # The claim is touched before and after the wait: a run that still polls is seen as alive.
    claim_path = os.path.join(directory, "claim-" + token)
    claimed = os.path.exists(claim_path)
    if claimed:
        os.utime(claim_path)
    # With "wait", wait here (at most 10 s) for the job to finish: one exec instead of several polls.
    deadline = time.time() + min(10.0, max(0.0, float(request.get("wait") or 0)))
    while time.time() < deadline and not os.path.exists(os.path.join(directory, "results.json")):
        time.sleep(0.05)
    if claimed and os.path.exists(claim_path):
        os.utime(claim_path)
    count = len(read_json(request_path)["calls"])
    # Liveness first, results second: a runner writes its results before it exits, so a runner
    # seen dead here has results below unless it really died.
    runner = read_shared(os.path.join(directory, "runner.pid")).strip()
    runner_alive = bool(runner) and alive(runner)
    outputs = [{"stdout": read_shared(os.path.join(directory, "%d.out" % index)),
                "stderr": read_shared(os.path.join(directory, "%d.err" % index))} for index in range(count)]
    finished = read_json(os.path.join(directory, "results.json"))
    answer({"exists": True, "claimed": claimed, "started": bool(runner), "alive": runner_alive,
            "finished": finished, "outputs": outputs, "error": None})


try:
    main()
except Unsafe as exc:
    answer({"error": {"kind": "unsafe", "message": str(exc)}})
except Exception as exc:
    answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''

JOB_CLEANUP = JOB_PRELUDE + r'''
def main():
    request = read_request()
    token = checked(request["token"], TOKEN, "token")
    root = jobs_root(create=False)
    directory = root and job_directory(root, request["job"])
    if not directory:
        answer({"removed": False, "error": None})
        return
    if not request.get("kill"):
        try:
            os.remove(os.path.join(directory, "claim-" + token))
        except FileNotFoundError:
            pass
        now = time.time()
        if job_state(directory, now, 0) == "running":
            answer({"removed": False, "error": None})
            return
        # Another run that still polls this job keeps it: its claim was touched lately.
        fresh = now - float(request.get("claim_age", 60))
        for name in os.listdir(directory):
            if name.startswith("claim-") and (mtime(os.path.join(directory, name)) or 0) > fresh:
                answer({"removed": False, "error": None})
                return
    discard(root, directory)
    answer({"removed": True, "error": None})


try:
    main()
except Unsafe as exc:
    answer({"error": {"kind": "unsafe", "message": str(exc)}})
except Exception as exc:
    answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''

# One plain docker call (no stdin, no environment, no appended lines) needs no Python: xargs
# turns the NUL-terminated arguments on stdin into docker's argument vector, and this constant
# sh script frames docker's output with marker lines: a start line on stdout and on stderr
# (whatever a noisy login shell printed before is not docker's), and docker's exit code after
# it (xargs itself would fold it into 123); or it says that docker is missing. "$0" is the
# marker that the dialect names after the script; the first argument is the number of
# arguments, itself included, so that an xargs which split a long line into several commands
# (BusyBox and GNU xargs both may, -x or not) runs nothing. Starting Python and importing json
# and subprocess costs more than the docker call, so this makes a no-op task (one docker image
# inspect) about twice as fast.
DIRECT_RUN = (
    '[ "$1" = "$#" ] || { printf "%ssplit\\n" "$0"; exit 0; }; shift; '
    'command -v docker >/dev/null 2>&1 || { printf "%snot_found\\n" "$0"; exit 0; }; '
    'printf "%sstart\\n" "$0"; printf "%sstart\\n" "$0" >&2; '
    'docker "$@" </dev/null; printf "%src=%d\\n" "$0" "$?"'
)

SCRIPTS: dict[str, str] = {
    "run": RUN,
    "job_start": JOB_START,
    "job_status": JOB_STATUS,
    "job_cleanup": JOB_CLEANUP,
    "job_runner": JOB_RUNNER,
}

# Files of the image archive modules (docker_image_export / docker_image_load), in one exec:
# remove and rename files, report files (exists, kind, size, sha256 when asked), then run
# program calls, each optionally only when a reported file exists. A missing executable is
# reported per call ("not_found"), so the caller can explain which program is missing.
FILE_INFO = PRELUDE + r'''
import hashlib


def file_state(path, want_hash):
    state = {"path": path, "exists": False, "kind": None, "size": None, "sha256": None}
    if os.path.isdir(path):
        state.update(exists=True, kind="directory")
    elif os.path.isfile(path):
        state.update(exists=True, kind="file", size=os.path.getsize(path))
        if want_hash:
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1048576), b""):
                    digest.update(block)
            state["sha256"] = digest.hexdigest()
    return state


def main():
    request = read_request()
    for path in request.get("remove") or []:
        if os.path.isfile(path):
            os.remove(path)
    for move in request.get("rename") or []:
        os.replace(move["from"], move["to"])
    files = [file_state(item["path"], item.get("hash")) for item in request.get("files") or []]
    results = []
    for call in request.get("calls") or []:
        if call.get("if_exists") is not None and files[int(call["if_exists"])]["kind"] != "file":
            results.append({"rc": 0, "stdout": "", "stderr": "", "skipped": True})
            continue
        path = resolve_executable(call["exe"])
        if not path:
            results.append({"rc": -1, "stdout": "", "stderr": "", "skipped": True, "not_found": True})
            continue
        results.append(run_call(path, call["argv"], call.get("stdin"), call.get("env")))
    answer({"files": files, "results": results, "error": None})


try:
    main()
except Exception as exc:
    answer({"files": [], "results": [], "error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''
SCRIPTS["file_info"] = FILE_INFO

# An archive copied from the controller in chunks (archive_copy.py), joined as the PowerShell
# JOIN_PARTS does: each chunk's sha256 and the whole's checked, chunk files removed once appended,
# the temporary file renamed to the target only when complete, leftovers of interrupted copies
# to the same target removed. The temporary file is opened without following a link and locked,
# so a second join of the same copy fails instead of writing into it.
JOIN_PARTS = PRELUDE + r'''
import fcntl, hashlib, re


def hex_digest(path_fd, out_fd, whole):
    one = hashlib.sha256()
    total = 0
    while True:
        block = os.read(path_fd, 1048576)
        if not block:
            return one.hexdigest(), total
        one.update(block)
        whole.update(block)
        view = memoryview(block)
        while view:
            view = view[os.write(out_fd, view):]
        total += len(block)


def main():
    request = read_request()
    target, partial = request["target"], request["partial"]
    whole = hashlib.sha256()
    total = 0
    problem = None
    out = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o640)
    created = True
    try:
        try:
            fcntl.flock(out, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            created = False
            raise RuntimeError("%s is being written by another copy of the same archive" % partial)
        os.ftruncate(out, 0)
        for index, part in enumerate(request.get("parts") or []):
            source = os.open(part["path"], os.O_RDONLY | os.O_NOFOLLOW)
            try:
                digest, size = hex_digest(source, out, whole)
            finally:
                os.close(source)
            total += size
            os.remove(part["path"])
            if digest != part["sha256"]:
                problem = {"kind": "part_mismatch", "index": index, "sha256": digest}
                break
        if problem is None and (whole.hexdigest() != request["sha256"] or total != int(request["size"])):
            problem = {"kind": "mismatch", "sha256": whole.hexdigest(), "size": total}
        if problem is not None:
            os.remove(partial)
            answer({"problem": problem, "sha256": None, "size": None, "removed": [], "error": None})
            return
        os.fsync(out)
        os.replace(partial, target)
    except BaseException:
        if created:
            try:
                os.remove(partial)
            except OSError:
                pass
        raise
    finally:
        os.close(out)
    directory, leaf = os.path.split(target)
    pattern = re.compile("^" + re.escape(leaf) + r"\.wc(part-[0-9a-f]{16}-[0-9]+|join-[0-9a-f]{16})$")
    removed = []
    for name in sorted(os.listdir(directory or "/")):
        left = os.path.join(directory, name)
        if pattern.match(name) and os.path.isfile(left) and not os.path.islink(left):
            try:
                os.remove(left)
                removed.append(name)
            except OSError:
                pass
    answer({"problem": None, "sha256": whole.hexdigest(), "size": total, "removed": removed, "error": None})


try:
    main()
except Exception as exc:
    answer({"problem": None, "sha256": None, "size": None, "removed": [],
            "error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''
SCRIPTS["join_parts"] = JOIN_PARTS

# --- Windows base OS images: the same requests answered on a Linux Docker host -----------------

# What HOST_INFO answers on Windows, for a Linux host: no Windows facts (``os`` says what the
# host is), the docker calls of the request, and a registry's tag list or manifest digests.
HOST_INFO = PRELUDE + r'''
from concurrent.futures import ThreadPoolExecutor
import platform, re, urllib.error, urllib.parse, urllib.request

MANIFEST_TYPES = ("application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json, "
                  "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
TOKEN = {"value": ""}


def os_facts():
    facts = {"system": platform.system(), "release": platform.release(), "machine": platform.machine(), "pretty_name": None}
    try:
        with open("/etc/os-release", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.strip().partition("=")
                if key == "PRETTY_NAME":
                    facts["pretty_name"] = value.strip().strip('"')
    except OSError:
        pass
    return facts


def http(url, method, accept, token):
    request = urllib.request.Request(url, method=method, headers={"Accept": accept, "User-Agent": "wincontainers.images"})
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        response = urllib.request.build_opener().open(request, timeout=60)
    except urllib.error.HTTPError as exc:
        response = exc
    with response:
        body = b"" if method == "HEAD" else response.read()
        headers = response.headers
        return {"status": response.getcode(), "body": body.decode("utf-8", "replace"),
                "authenticate": headers.get("WWW-Authenticate") or "", "link": headers.get("Link") or "",
                "digest": headers.get("Docker-Content-Digest") or ""}


def anonymous_token(challenge):
    match = re.match(r"\s*Bearer\s+(.+)$", challenge, re.IGNORECASE)
    if not match:
        return ""
    fields = {key.lower(): value for key, value in re.findall(r'(\w+)="([^"]*)"', match.group(1))}
    if "realm" not in fields:
        return ""
    query = urllib.parse.urlencode([(name, fields[name]) for name in ("service", "scope") if name in fields])
    answer = http(fields["realm"] + ("?" + query if query else ""), "GET", "application/json", "")
    if answer["status"] != 200:
        return ""
    document = json.loads(answer["body"])
    return str(document.get("token") or document.get("access_token") or "")


def registry_call(url, method, accept):
    answer = http(url, method, accept, TOKEN["value"])
    if answer["status"] == 401 and answer["authenticate"]:
        TOKEN["value"] = anonymous_token(answer["authenticate"])
        if TOKEN["value"]:
            answer = http(url, method, accept, TOKEN["value"])
    return answer


def read_registry(registry):
    result = {"base": None, "status": None, "tags": None, "digests": {}, "problem": None}
    failures = []
    for candidate in registry.get("bases") or []:
        try:
            http(candidate + "/v2/", "GET", "application/json", "")
        except Exception as exc:  # noqa: BLE001 - the next base may answer
            failures.append("%s: %s" % (candidate, exc))
            continue
        result["base"] = candidate
        break
    if not result["base"]:
        result["problem"] = "the registry did not answer: " + "; ".join(failures)
        return result
    if registry.get("tags_path"):
        tags = []
        url = result["base"] + registry["tags_path"]
        for _ in range(200):
            answer = registry_call(url, "GET", "application/json")
            result["status"] = answer["status"]
            if answer["status"] != 200:
                result["problem"] = "listing the tags answered HTTP %s: %s" % (answer["status"], answer["body"])
                break
            tags.extend(str(tag) for tag in json.loads(answer["body"]).get("tags") or [] if tag is not None)
            match = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', answer["link"])
            if not match:
                break
            url = urllib.parse.urljoin(result["base"] + "/", match.group(1))
        result["tags"] = tags
    for manifest in registry.get("manifests") or []:
        answer = registry_call(result["base"] + manifest["path"], "HEAD", MANIFEST_TYPES)
        result["digests"][manifest["tag"]] = {"status": answer["status"], "digest": answer["digest"]}
    return result


def main():
    request = read_request()
    result = {"os": os_facts(), "hyperv": None, "docker_found": False, "results": [], "os_images": None,
              "find": None, "registry": None, "error": None}
    calls = request.get("calls") or []
    if calls:
        docker = resolve_executable("docker")
        if docker:
            result["docker_found"] = True
            with ThreadPoolExecutor(max_workers=len(calls)) as pool:
                result["results"] = list(pool.map(
                    lambda call: run_call(docker, call["argv"], None, call.get("env")), calls))
    if request.get("find"):
        result["find"] = {"images": [], "problem": "unsupported",
                          "message": "the ContainerImage provider exists on Windows hosts only"}
    if request.get("registry"):
        result["registry"] = read_registry(request["registry"])
    return result


try:
    answer(main())
except Exception as exc:
    answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''

# Operations that exist on Windows hosts only (the Containers feature's OS image cmdlets,
# PackageManagement providers): a Linux host answers that it cannot do them.
WINDOWS_ONLY = r'''
import json, sys

sys.stdout.write(json.dumps({"error": {"kind": "unsupported",
                                       "message": "this operation needs a Windows host"}}) + "\n")
'''

SCRIPTS["host_info"] = HOST_INFO
SCRIPTS["container_image"] = WINDOWS_ONLY
SCRIPTS["package_provider"] = WINDOWS_ONLY

# Docker client configuration (docker_login): the config file's credential settings and, per
# registry, the user it holds credentials for. A stored "auth" (base64 of "user:password") is
# decoded here and only its user part is answered; credential helpers are asked with "list",
# which answers "server -> user" and never a secret. Only the helpers named below are run.
DOCKER_CONFIG = PRELUDE + r'''
import shutil
import base64

HELPERS = ("desktop", "osxkeychain", "pass", "secretservice", "wincred")


def helper_users(name):
    if name not in HELPERS:
        return {"found": False, "users": None, "error": "not a known credential helper"}
    path = shutil.which("docker-credential-" + name)
    if not path:
        return {"found": False, "users": None, "error": "docker-credential-%s was not found on PATH" % name}
    result = run_call(path, ["list"], None, None)
    if result["rc"] != 0:
        return {"found": True, "users": None, "error": (result["stderr"] or result["stdout"]).strip()[:500]}
    users = json.loads(result["stdout"] or "{}")
    return {"found": True, "users": {str(k): str(v) for k, v in (users or {}).items()}, "error": None}


def default_store():
    # The helper the docker CLI picks when config.json names no credentials at all.
    if sys.platform == "darwin":
        name = "osxkeychain"
    elif shutil.which("pass"):
        name = "pass"
    else:
        name = "secretservice"
    return name if shutil.which("docker-credential-" + name) else None


def user_of(auth):
    try:
        return base64.b64decode(auth).decode("utf-8", "replace").split(":", 1)[0]
    except ValueError:
        return None


def main():
    request = read_request()
    directory = request.get("config_dir") or os.environ.get("DOCKER_CONFIG") or os.path.join(
        os.path.expanduser("~"), ".docker")
    path = os.path.join(directory, "config.json")
    config = {}
    exists = os.path.isfile(path)
    if exists:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        try:
            config = json.loads(text) if text.strip() else {}
        except ValueError:
            raise ValueError("%s is not valid JSON" % path) from None
    auths = {}
    for key, entry in (config.get("auths") or {}).items():
        entry = entry or {}
        auths[key] = {"user": user_of(entry["auth"]) if entry.get("auth") else None,
                      "auth": bool(entry.get("auth")), "identity_token": bool(entry.get("identitytoken"))}
    creds_store = config.get("credsStore") or None
    cred_helpers = {str(k): str(v) for k, v in (config.get("credHelpers") or {}).items()}
    helpers = {}
    for name in sorted(set(cred_helpers.values()) | ({creds_store} if creds_store else set())):
        helpers[name] = helper_users(name)
    answer({"config_dir": directory, "config_file": path, "exists": exists, "creds_store": creds_store,
            "cred_helpers": cred_helpers, "auths": auths, "helpers": helpers,
            "default_store": default_store(), "error": None})


try:
    main()
except Exception as exc:
    answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''
SCRIPTS["docker_config"] = DOCKER_CONFIG


# --- docker_login: stored credentials compared, credentials verified -------------------------
# (New scripts of the login-creds branch, kept together at the end for the move to files.)
#
# login_state: what docker_config answers (credential settings, user names per registry) and,
# for the registry of the request, whether the stored credential is the one the task gives. The
# request carries a random salt and HMAC-SHA256(salt, "user:password") computed on the
# controller, never the password; the script computes the same HMAC of what is stored (the
# decoded "auth" of config.json, or "Username:Secret" from the credential helper's "get") and
# answers one word per place: match, differs, token (an identity token is stored: a password
# cannot be compared with it), absent, unknown. Neither the stored secret nor its HMAC leaves
# the host. Only the registry's own entries are compared (request "hosts": the host names that
# mean it, compared as docker's ConvertToHostname does, ignoring case).
# Credential helper protocol (github.com/docker/docker-credential-helpers, README "Usage"):
# "get" reads the server URL on stdin and prints {"ServerURL", "Username", "Secret"}; when it
# holds nothing it prints "credentials not found in native keychain" and exits 1; Username
# "<token>" means Secret is an identity token (docker/cli cli/config/credentials/native_store.go).
LOGIN_STATE = PRELUDE + r'''
import base64, hashlib, hmac, shutil

HELPERS = ("desktop", "osxkeychain", "pass", "secretservice", "wincred")


def server_host(server):
    text = str(server).strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    return text.split("/", 1)[0].rsplit("@", 1)[-1].lower()


class Comparison:
    def __init__(self, request):
        self.hosts = set(str(h).lower() for h in request.get("hosts") or [])
        self.salt = base64.b64decode(request["salt"]) if request.get("digest") else None
        self.digest = base64.b64decode(request["digest"]) if request.get("digest") else None

    def wanted(self, server):
        return self.salt is not None and server_host(server) in self.hosts

    def same(self, stored):
        mine = hmac.new(self.salt, stored, hashlib.sha256).digest()
        return "match" if hmac.compare_digest(mine, self.digest) else "differs"

    def entry(self, entry):
        if entry.get("identitytoken"):
            return "token"
        if not entry.get("auth"):
            return "absent"
        try:
            stored = base64.b64decode(entry["auth"])
        except ValueError:
            return "differs"
        return self.same(stored)

    def helper(self, path, server):
        result = run_call(path, ["get"], server, None)
        if result["rc"] != 0:
            # Only a fixed word: what a helper prints on failure is not ours to pass on.
            return "absent" if "credentials not found" in (result["stdout"] + result["stderr"]).lower() else "unknown"
        try:
            stored = json.loads(result["stdout"])
            user, secret = str(stored.get("Username") or ""), str(stored.get("Secret") or "")
        except (ValueError, AttributeError):
            return "unknown"
        if user == "<token>":
            return "token"
        return self.same((user + ":" + secret).encode("utf-8"))


def helper_state(name, comparison, server):
    if name not in HELPERS:
        return {"found": False, "users": None, "error": "not a known credential helper", "credentials": {}}
    path = shutil.which("docker-credential-" + name)
    if not path:
        return {"found": False, "users": None, "error": "docker-credential-%s was not found on PATH" % name,
                "credentials": {}}
    result = run_call(path, ["list"], None, None)
    credentials = {}
    if result["rc"] != 0:
        if comparison.salt is not None:
            credentials[server] = comparison.helper(path, server)
        return {"found": True, "users": None, "error": (result["stderr"] or result["stdout"]).strip()[:500],
                "credentials": credentials}
    users = {str(k): str(v) for k, v in (json.loads(result["stdout"] or "{}") or {}).items()}
    for listed in users:
        if comparison.wanted(listed):
            credentials[listed] = comparison.helper(path, listed)
    return {"found": True, "users": users, "error": None, "credentials": credentials}


def default_store():
    # The helper the docker CLI picks when config.json names no credentials at all.
    if sys.platform == "darwin":
        name = "osxkeychain"
    elif shutil.which("pass"):
        name = "pass"
    else:
        name = "secretservice"
    return name if shutil.which("docker-credential-" + name) else None


def user_of(auth):
    try:
        return base64.b64decode(auth).decode("utf-8", "replace").split(":", 1)[0]
    except ValueError:
        return None


def main():
    request = read_request()
    comparison = Comparison(request)
    directory = request.get("config_dir") or os.environ.get("DOCKER_CONFIG") or os.path.join(
        os.path.expanduser("~"), ".docker")
    path = os.path.join(directory, "config.json")
    config = {}
    exists = os.path.isfile(path)
    if exists:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        try:
            config = json.loads(text) if text.strip() else {}
        except ValueError:
            raise ValueError("%s is not valid JSON" % path) from None
    auths = {}
    for key, entry in (config.get("auths") or {}).items():
        entry = entry or {}
        auths[key] = {"user": user_of(entry["auth"]) if entry.get("auth") else None,
                      "auth": bool(entry.get("auth")), "identity_token": bool(entry.get("identitytoken")),
                      "credential": comparison.entry(entry) if comparison.wanted(key) else None}
    creds_store = config.get("credsStore") or None
    cred_helpers = {str(k): str(v) for k, v in (config.get("credHelpers") or {}).items()}
    helpers = {}
    for name in sorted(set(cred_helpers.values()) | ({creds_store} if creds_store else set())):
        helpers[name] = helper_state(name, comparison, str(request.get("server") or ""))
    answer({"config_dir": directory, "config_file": path, "exists": exists, "creds_store": creds_store,
            "cred_helpers": cred_helpers, "auths": auths, "helpers": helpers,
            "default_store": default_store(), "compared": comparison.salt is not None, "error": None})


try:
    main()
except Exception as exc:
    answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''
SCRIPTS["login_state"] = LOGIN_STATE

# login_verify: one docker login call (built on the controller, password on its stdin) run with
# DOCKER_CONFIG set to a new private directory (tempfile.mkdtemp: created exclusively, mode
# 0700), removed afterwards, so the registry checks the credentials and the real configuration
# is never written (check mode). That directory's config.json names one unrelated registry, so
# docker keeps the credentials in that file and never picks a credential helper by itself.
LOGIN_VERIFY = PRELUDE + r'''
import shutil, tempfile

PLACEHOLDER = '{"auths": {"wincontainers.images.invalid": {}}}\n'


def main():
    request = read_request()
    call = request["call"]
    path = resolve_executable(call["exe"])
    if not path:
        answer({"error": {"kind": "not_found", "exe": call["exe"], "message": "%s was not found on this host" % call["exe"]}})
        return
    directory = tempfile.mkdtemp(prefix="wincontainers-login-")
    try:
        with open(os.path.join(directory, "config.json"), "x", encoding="utf-8") as handle:
            handle.write(PLACEHOLDER)
        environment = dict(call.get("env") or {})
        environment["DOCKER_CONFIG"] = directory
        result = run_call(path, call["argv"], call.get("stdin"), environment)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    answer({"result": result, "removed": not os.path.exists(directory), "error": None})


try:
    main()
except Exception as exc:
    answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''
SCRIPTS["login_verify"] = LOGIN_VERIFY
