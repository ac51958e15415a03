# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the request's calls, at most `parallel` at a time, and answers with their results in
request order; a call may take extra arguments from the output lines of an earlier call.
"""
from .prelude import answer, read_request, resolve_executable, run_call
# wincontainers.images: program text below

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


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:
        answer({"results": [], "error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
