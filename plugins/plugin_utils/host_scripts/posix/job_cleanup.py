# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ends this run's interest in a job: removes its claim, and the job when no other run polls it
(with "kill": stops and removes it).
"""
import os
from .prelude import answer, read_request
from .job_prelude import TOKEN, answer_main, checked, discard, job_directory, job_state, jobs_root, mtime
# wincontainers.images: program text below

import time


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


if __name__ == "__main__":
    answer_main(main)
