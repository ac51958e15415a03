# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files of the image archive modules (docker_image_export / docker_image_load), in one exec:
remove and rename files, report files (exists, kind, size, sha256 when asked), then run
program calls, each optionally only when a reported file exists. A missing executable is
reported per call ("not_found"), so the caller can explain which program is missing.
"""
import os
from .prelude import answer, read_request, resolve_executable, run_call
# wincontainers.images: program text below

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


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:
        answer({"files": [], "results": [], "error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
