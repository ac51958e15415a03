# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What HOST_INFO answers on Windows, for a Linux host: no Windows facts (``os`` says what the
host is), the docker calls of the request, and a registry's tag list or manifest digests.
"""
import json
from .prelude import answer, read_request, resolve_executable, run_call
# wincontainers.images: program text below

from concurrent.futures import ThreadPoolExecutor
import platform
import re
import urllib.error
import urllib.parse
import urllib.request

MANIFEST_TYPES = ("application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json, "
                  "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
TOKEN = {"value": ""}


def os_facts():
    facts = {"system": platform.system(), "release": platform.release(), "machine": platform.machine(), "pretty_name": None}
    try:
        with open("/etc/os-release", encoding="utf-8") as handle:
            for line in handle:
                key, _equals, value = line.strip().partition("=")
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
        for _page in range(200):
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


if __name__ == "__main__":
    try:
        answer(main())
    except Exception as exc:
        answer({"error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
