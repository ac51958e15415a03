# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""login_state: the docker client configuration (credential settings, user names per registry) and,
for the registry of the request, whether the stored credential is the one the task gives. The
request carries a random salt and HMAC-SHA256(salt, "user:password") computed on the
controller, never the password; the script computes the same HMAC of what is stored (the
decoded "auth" of config.json, or "Username:Secret" from the credential helper's "get") and
answers one word per place: match, differs, token (an identity token is stored: a password
cannot be compared with it), absent, unknown. Neither the stored secret nor its HMAC leaves
the host. Only the registry's own entries are compared (request "hosts": the host names that
mean it, compared as docker's ConvertToHostname does, ignoring case).
Credential helper protocol (github.com/docker/docker-credential-helpers, README "Usage"):
"get" reads the server URL on stdin and prints {"ServerURL", "Username", "Secret"}; when it
holds nothing it prints "credentials not found in native keychain" and exits 1; Username
"<token>" means Secret is an identity token (docker/cli cli/config/credentials/native_store.go).
"""
import json
import os
import sys
from .prelude import answer, read_request, run_call
# wincontainers.images: program text below

import base64
import hashlib
import hmac
import shutil

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


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:
        answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
