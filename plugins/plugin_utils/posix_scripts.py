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

# Detached jobs (see powershell_scripts for the why): the runner is started in its own session
# (setsid), so it outlives the exec and the connection that started it.
JOB_PRELUDE = PRELUDE + r'''
import re, shutil, tempfile
from concurrent.futures import ThreadPoolExecutor

def job_directory(job_id):
    if not re.match(r"^[0-9a-f]{16,64}$", str(job_id)):
        raise ValueError("invalid job id %r" % job_id)
    return os.path.join(tempfile.gettempdir(), "wincontainers.images-jobs-%d" % os.getuid(), job_id)


def read_shared(path, limit=262144):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            return handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def write_atomically(path, text):
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(path + ".tmp", path)
'''

JOB_RUNNER = JOB_PRELUDE + r'''
import threading, time


def main():
    directory = os.getcwd()
    write_atomically(os.path.join(directory, "runner.pid"), str(os.getpid()))
    with open(os.path.join(directory, "request.json"), encoding="utf-8") as handle:
        request = json.load(handle)
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
                    pids.write("%d\n" % process.pid)
                rc = process.wait()
            if rc == 0 or attempts > retries:
                return {"rc": rc, "attempts": attempts}

    with ThreadPoolExecutor(max_workers=max(1, int(request.get("parallel") or 1))) as pool:
        results = list(pool.map(run, range(len(calls))))
    write_atomically(os.path.join(directory, "results.json"), json.dumps({"results": results, "error": None}))


try:
    main()
except Exception as exc:
    write_atomically(os.path.join(os.getcwd(), "results.json"),
                     json.dumps({"results": [], "error": {"kind": "exception", "message": str(exc)}}))
'''

JOB_START = JOB_PRELUDE + r'''
def main():
    request = read_request()
    directory = job_directory(request["job"])
    if os.path.exists(os.path.join(directory, "request.json")):
        answer({"started": False, "error": None})
        return
    calls = []
    for call in request["calls"]:
        path = resolve_executable(call["exe"])
        if not path:
            answer({"error": {"kind": "not_found", "exe": call["exe"], "message": "%s was not found on this host" % call["exe"]}})
            return
        calls.append({"path": path, "argv": call["argv"], "env": call.get("env")})
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with open(os.path.join(directory, "runner.py"), "w", encoding="utf-8") as handle:
        handle.write(request["runner"])
    write_atomically(os.path.join(directory, "request.json"),
                     json.dumps({"parallel": request.get("parallel"), "retries": request.get("retries"), "calls": calls}))
    subprocess.Popen([sys.executable, "runner.py"], cwd=directory, start_new_session=True, close_fds=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    answer({"started": True, "error": None})


try:
    main()
except Exception as exc:
    answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''

JOB_STATUS = JOB_PRELUDE + r'''
import time


def alive(pid_text):
    try:
        os.kill(int(pid_text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    # A finished runner that nobody reaped is a zombie: not alive.
    try:
        with open("/proc/%d/stat" % int(pid_text)) as handle:
            return handle.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def main():
    request = read_request()
    directory = job_directory(request["job"])
    request_path = os.path.join(directory, "request.json")
    if not os.path.exists(request_path):
        answer({"exists": False, "error": None})
        return
    # With "wait", wait here (at most 10 s) for the job to finish: one exec instead of several polls.
    deadline = time.time() + min(10.0, max(0.0, float(request.get("wait") or 0)))
    while time.time() < deadline and not os.path.exists(os.path.join(directory, "results.json")):
        time.sleep(0.05)
    with open(request_path, encoding="utf-8") as handle:
        count = len(json.load(handle)["calls"])
    # Liveness first, results second: a runner writes its results before it exits, so a runner
    # seen dead here has results below unless it really died.
    runner_pid = read_shared(os.path.join(directory, "runner.pid"))
    runner_alive = bool(runner_pid) and alive(runner_pid)
    outputs = [{"stdout": read_shared(os.path.join(directory, "%d.out" % index)),
                "stderr": read_shared(os.path.join(directory, "%d.err" % index))} for index in range(count)]
    finished = None
    if os.path.exists(os.path.join(directory, "results.json")):
        with open(os.path.join(directory, "results.json"), encoding="utf-8") as handle:
            finished = json.load(handle)
    answer({"exists": True, "started": bool(runner_pid), "alive": runner_alive,
            "finished": finished, "outputs": outputs, "error": None})


try:
    main()
except Exception as exc:
    answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
'''

JOB_CLEANUP = JOB_PRELUDE + r'''
import signal


def main():
    request = read_request()
    directory = job_directory(request["job"])
    if request.get("kill"):
        ids = read_shared(os.path.join(directory, "runner.pid")).split() + read_shared(os.path.join(directory, "pids")).split()
        for pid in ids:
            try:
                os.kill(int(pid), signal.SIGTERM)
            except (ValueError, OSError):
                pass
    shutil.rmtree(directory, ignore_errors=True)
    answer({"removed": True, "error": None})


try:
    main()
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
