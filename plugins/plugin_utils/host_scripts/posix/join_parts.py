# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An archive copied from the controller in chunks (archive_copy.py), joined as the PowerShell
JOIN_PARTS does: each chunk's sha256 and the whole's checked, chunk files removed once appended,
the temporary file renamed to the target only when complete, leftovers of interrupted copies
to the same target removed. The temporary file is opened without following a link and locked,
so a second join of the same copy fails instead of writing into it.
"""
import os
from .prelude import answer, read_request
# wincontainers.images: program text below

import fcntl
import hashlib
import re


def hex_digest(path_fd, out_fd, whole):
    one = hashlib.sha256()
    total = 0
    while True:
        block = os.read(path_fd, 1048576)
        if not block:
            return one.hexdigest(), total
        one.update(block)
        whole.update(block)
        view = memoryview(block)
        while view:
            view = view[os.write(out_fd, view):]
        total += len(block)


def main():
    request = read_request()
    target, partial = request["target"], request["partial"]
    whole = hashlib.sha256()
    total = 0
    problem = None
    out = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o640)
    created = True
    try:
        try:
            fcntl.flock(out, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            created = False
            raise RuntimeError("%s is being written by another copy of the same archive" % partial)
        os.ftruncate(out, 0)
        for index, part in enumerate(request.get("parts") or []):
            source = os.open(part["path"], os.O_RDONLY | os.O_NOFOLLOW)
            try:
                digest, size = hex_digest(source, out, whole)
            finally:
                os.close(source)
            total += size
            os.remove(part["path"])
            if digest != part["sha256"]:
                problem = {"kind": "part_mismatch", "index": index, "sha256": digest}
                break
        if problem is None and (whole.hexdigest() != request["sha256"] or total != int(request["size"])):
            problem = {"kind": "mismatch", "sha256": whole.hexdigest(), "size": total}
        if problem is not None:
            os.remove(partial)
            answer({"problem": problem, "sha256": None, "size": None, "removed": [], "error": None})
            return
        os.fsync(out)
        os.replace(partial, target)
    except BaseException:
        if created:
            try:
                os.remove(partial)
            except OSError:
                pass
        raise
    finally:
        os.close(out)
    directory, leaf = os.path.split(target)
    pattern = re.compile("^" + re.escape(leaf) + r"\.wc(part-[0-9a-f]{16}-[0-9]+|join-[0-9a-f]{16})$")
    removed = []
    for name in sorted(os.listdir(directory or "/")):
        left = os.path.join(directory, name)
        if pattern.match(name) and os.path.isfile(left) and not os.path.islink(left):
            try:
                os.remove(left)
                removed.append(name)
            except OSError:
                pass
    answer({"problem": None, "sha256": whole.hexdigest(), "size": total, "removed": removed, "error": None})


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:
        answer({"problem": None, "sha256": None, "size": None, "removed": [],
                "error": {"kind": "exception", "message": "%s: %s" % (type(exc).__name__, exc)}})
