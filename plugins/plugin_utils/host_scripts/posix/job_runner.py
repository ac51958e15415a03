# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runner of a job, started by job_start in the job directory: claims the job with an
exclusive create of runner.pid, runs the calls (retrying failed ones), renames the request's
partial file when every call succeeded, then writes results.json.
"""
import json
import os
import subprocess
from .job_prelude import Unsafe, identity, private_directory, read_json, write_atomically
# wincontainers.images: program text below

import time
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


if __name__ == "__main__":
    try:
        main()
    except Unsafe:
        pass  # never write into a directory that is not ours
    except Exception as exc:
        write_atomically(os.path.join(os.getcwd(), "results.json"),
                         json.dumps({"results": [], "error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)},
                                     "finished": time.time()}))
