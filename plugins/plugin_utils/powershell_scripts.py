# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The constant PowerShell scripts that the Windows dialect runs on a host.

The scripts are ``.ps1`` files in ``host_scripts/powershell/`` (read once, at import, by
``script_files``); ``PARTS`` says which files make which script. Every script is fixed text:
nothing a user types is ever placed in it. The command line is always ``BOOTSTRAP``
(``bootstrap.ps1``), which reads its input (``$input``, which works the same over ``winrm``
process stdin, ``psrp`` pipeline input and ``ssh``): the base64 of one of ``SCRIPTS``, which it
runs, and one JSON line with everything that varies, which it passes to that script as its
input. Each script answers with one JSON line whose non-ASCII characters are escaped, so no
console code page can corrupt it, and catches every exception into that answer instead of
letting CLIXML reach stderr.

The scripts target Windows PowerShell 5.1 (no ``??``, no ternaries, no ``-AsHashtable``).
"""

from __future__ import annotations

import hashlib

from ansible_collections.wincontainers.images.plugins.plugin_utils import script_files

# The parts of each script, in order: base_prelude (the answer, the request, the table of
# executables), then prelude (program calls in the exec itself) or job_root (the job root and its
# checks) and job_prelude (processes, shared reads) with job_files (atomic writes, the host clock) and job_discard (removing a
# job), then the operation's own file. job_start carries the command line that starts the runner,
# as a here-string; the runner itself is staged in the job root once (stage_script, DIGESTS), so
# that job_start stays within the wire budget.
PARTS: dict[str, tuple[str | script_files.Embed, ...]] = {
    "run": ("base_prelude", "prelude", "run"),
    "job_runner": ("base_prelude", "job_root", "job_prelude", "job_files", "job_runner"),
    "job_start": ("base_prelude", "job_root", "job_prelude", "job_files", "job_discard",
                  script_files.Embed("JobRunnerBootstrap", "job_runner_bootstrap"), "job_start"),
    "job_status": ("base_prelude", "job_root", "job_prelude", "job_status"),
    "job_cleanup": ("base_prelude", "job_root", "job_prelude", "job_discard", "job_cleanup"),
    "file_info": ("base_prelude", "prelude", "file_info"),
    "join_parts": ("base_prelude", "prelude", "join_parts"),
    "host_info": ("base_prelude", "prelude", "engine_facts", "host_info"),
    "engine_state": ("base_prelude", "prelude", "engine_facts", "engine_state"),
    "engine_job": ("base_prelude", "engine_job"),
    "stage_script": ("base_prelude", "job_root", "stage_script"),
    "container_image": ("base_prelude", "prelude", "container_image"),
    "package_provider": ("base_prelude", "prelude", "package_provider"),
    "login_state": ("base_prelude", "prelude", "login_state"),
    "login_verify": ("base_prelude", "prelude", "login_verify"),
}

# The command line of every exec: inflates the script of the first input line and runs it with
# the remaining lines as its input (see bootstrap.ps1).
BOOTSTRAP = script_files.powershell_part("bootstrap").strip()

# What Win32_Process.Create runs: a constant command line that runs runner.ps1 from the job
# directory, which is the new process's current directory.
JOB_RUNNER_BOOTSTRAP = script_files.powershell_part("job_runner_bootstrap").strip()


def assemble(parts: tuple[str | script_files.Embed, ...], scripts: dict[str, str], minify: bool = True) -> str:
    """The script made of ``parts``; ``minify``: as it is sent (script_files.minify_powershell)."""
    texts = []
    for part in parts:
        if isinstance(part, script_files.Embed):
            texts.append(script_files.powershell_embed(part, scripts))
        else:
            texts.append(script_files.powershell_part(part))
    text = "".join(texts)
    return script_files.minify_powershell(text) if minify else text


# Each script as the host compiles it, in PARTS order (an embedded script comes first).
SCRIPTS: dict[str, str] = {}
for _operation, _parts in PARTS.items():
    SCRIPTS[_operation] = assemble(_parts, {**SCRIPTS, "job_runner_bootstrap": JOB_RUNNER_BOOTSTRAP})

# What the first stdin line of an exec carries: the script, deflated, in base64.
PAYLOADS: dict[str, str] = {operation: script_files.deflate_base64(text) for operation, text in SCRIPTS.items()}

# The sha256 of each script's UTF-8 text: stage_script checks a staged script against it, and the
# staged file is named by its first 32 digits (staged_path).
DIGESTS: dict[str, str] = {operation: hashlib.sha256(text.encode("utf-8")).hexdigest() for operation, text in SCRIPTS.items()}


def staged_path(operation: str) -> str:
    """Where stage_script puts ``operation``'s script, from a job directory (``<root>\\<job>``)."""
    return "..\\scripts\\%s-%s.ps1" % (operation, DIGESTS[operation][:32])
