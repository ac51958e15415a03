# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Starts a detached job, or attaches to it while it runs (docs/architecture.md, "Detached jobs"):
sweeps orphans, creates the job directory, takes the path locks, writes the request, installs
the runner (JOB_RUNNER, the job_runner program, placed before this part by posix_scripts.PARTS)
and starts it in its own session.
"""
import json
import os
import shutil
import subprocess
import sys
from .prelude import answer, read_request, resolve_executable
from .job_prelude import (
    JOB_ID, LOCK_KEY, STALE, TOKEN, Unsafe, answer_main, checked, discard, job_state, jobs_root, mtime,
    private_directory, read_shared, release, write_atomically,
)
JOB_RUNNER = ""  # for linters: the assembled program holds the runner's text here
# wincontainers.images: program text below

import time  # noqa: E402 (the program starts here; JOB_RUNNER above is the linters' stand-in)


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
            handle.write(JOB_RUNNER)
        write_atomically(os.path.join(directory, "request.json"), json.dumps({
            "parallel": request.get("parallel"), "retries": request.get("retries"), "calls": calls,
            "created": time.time(), "locks": request.get("locks") or [], "rename": request.get("rename")}))
        claim(directory, token)
        subprocess.Popen([sys.executable, "runner.py"], cwd=directory, start_new_session=True, close_fds=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        answer({"state": "started", "discarded": discarded, "error": None})
        return
    raise Unsafe("%s: the job directory keeps changing; refusing to use it" % directory)


if __name__ == "__main__":
    answer_main(main)
