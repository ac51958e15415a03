# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker client configuration (docker_login): the config file's credential settings and, per
registry, the user it holds credentials for. A stored "auth" (base64 of "user:password") is
decoded here and only its user part is answered; credential helpers are asked with "list",
which answers "server -> user" and never a secret. Only the helpers named below are run.
"""
import json
import os
import sys
from .prelude import answer, read_request, run_call
# wincontainers.images: program text below

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


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:
        answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
