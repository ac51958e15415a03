# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""login_verify: one docker login call (built on the controller, password on its stdin) run with
DOCKER_CONFIG set to a new private directory (tempfile.mkdtemp: created exclusively, mode
0700), removed afterwards, so the registry checks the credentials and the real configuration
is never written (check mode). That directory's config.json names one unrelated registry, so
docker keeps the credentials in that file and never picks a credential helper by itself.
"""
import os
from .prelude import answer, read_request, resolve_executable, run_call
# wincontainers.images: program text below

import shutil
import tempfile

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


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:
        answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
