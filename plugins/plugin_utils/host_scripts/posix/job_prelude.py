# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Detached jobs (docs/architecture.md, "Detached jobs: the lifecycle in one place"): the
runner is started in its own session (setsid), so it outlives the exec and the connection
that started it. Jobs live under the connecting user's home, in a directory that only that
user can reach; every script checks it (lstat: no link, owned by this user, private) before
it reads or writes anything there, so another local user can never choose what a runner runs.
"""
import json
import os
from .prelude import answer
# wincontainers.images: program text below

import re
import shutil
import signal
import stat

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


def answer_main(main):
    """Runs a job script's main(): an unsafe job root or directory is answered as "unsafe", any
    other failure as "exception"."""
    try:
        main()
    except Unsafe as exc:
        answer({"error": {"kind": "unsafe", "message": str(exc)}})
    except Exception as exc:
        answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
