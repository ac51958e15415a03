# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state of a job: its outputs so far and, once there, its results (with "wait", waiting on
the host for at most 10 s).
"""
import os
from .prelude import answer, read_request
from .job_prelude import TOKEN, alive, answer_main, checked, job_directory, jobs_root, read_json, read_shared
# wincontainers.images: program text below

import time


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


if __name__ == "__main__":
    answer_main(main)
