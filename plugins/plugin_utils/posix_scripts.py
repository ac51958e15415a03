# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The constant scripts that the POSIX dialect runs on a Linux Docker host.

They are Python 3 programs (Python is on every host Ansible manages over ``local`` or ``ssh``),
passed with ``python3 -c`` and fed the same one-line JSON request on stdin as the PowerShell
scripts, and they answer with the same JSON. Arguments are passed as argument vectors, so no
shell ever parses a user value. Each program is assembled from the ``.py`` files in
``host_scripts/posix/`` (read once, at import, by ``script_files``) as ``PARTS`` says. The one
sh script, ``DIRECT_RUN`` (``direct_run.sh``), runs a single docker call without starting
Python (see PosixDialect.exchange).
"""

from __future__ import annotations

from ansible_collections.wincontainers.images.plugins.plugin_utils import script_files

# The parts of each program, in order: prelude (the answer, the request, the table of
# executables, program calls), job_prelude (the job root and its checks, discarding a job),
# then the operation's own file. job_start carries the runner it installs as a constant.
PARTS: dict[str, tuple[str, ...]] = {
    "run": ("prelude", "run"),
    "job_runner": ("prelude", "job_prelude", "job_runner"),
    "job_start": ("prelude", "job_prelude", script_files.Embed("JOB_RUNNER", "job_runner"), "job_start"),
    "job_status": ("prelude", "job_prelude", "job_status"),
    "job_cleanup": ("prelude", "job_prelude", "job_cleanup"),
    "file_info": ("prelude", "file_info"),
    "join_parts": ("prelude", "join_parts"),
    "host_info": ("prelude", "host_info"),
    "container_image": ("windows_only",),
    "package_provider": ("windows_only",),
    "login_state": ("prelude", "login_state"),
    "login_verify": ("prelude", "login_verify"),
}

# One plain docker call (no stdin, no environment, no appended lines) needs no Python: see
# direct_run.sh and PosixDialect.exchange.
DIRECT_RUN = "".join(line for line in script_files.read("posix", "direct_run.sh").splitlines(True)
                     if not line.startswith("#")).strip()


def assemble(parts: tuple[str | script_files.Embed, ...], scripts: dict[str, str]) -> str:
    texts = []
    for index, part in enumerate(parts):
        if isinstance(part, script_files.Embed):
            texts.append(script_files.posix_embed(part, scripts))
        else:
            texts.append(script_files.posix_part(part, [p for p in parts[:index] if isinstance(p, str)]))
    return "".join(texts)


# Each program as the host runs it, in PARTS order (an embedded program comes first).
SCRIPTS: dict[str, str] = {}
for _operation, _parts in PARTS.items():
    SCRIPTS[_operation] = assemble(_parts, SCRIPTS)

# What follows "python3 -c": a constant one-line stub that inflates the program and runs it, as
# "python3 -c PROGRAM" would (__name__ is "__main__"): a third to a half of the program's size,
# so a job_status poll over ssh sends about 4 KB instead of 10 KB. A program that the stub would
# not make shorter (windows_only) is passed as it is.
STUB = 'import base64, zlib; exec(zlib.decompress(base64.b64decode("%s")))'


def _program(text: str) -> str:
    stub = STUB % script_files.zlib_base64(text)
    return stub if len(stub) < len(text) else text


PROGRAMS: dict[str, str] = {operation: _program(text) for operation, text in SCRIPTS.items()}
