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

from ansible_collections.wincontainers.images.plugins.plugin_utils import script_files

# The parts of each script, in order: base_prelude (the answer, the request, the table of
# executables), then prelude (program calls in the exec itself) or job_prelude (the job root
# and its checks) with job_files (atomic writes, the host clock) and job_discard (removing a
# job), then the operation's own file.
PARTS: dict[str, tuple[str, ...]] = {
    "run": ("base_prelude", "prelude", "run"),
    "job_start": ("base_prelude", "job_prelude", "job_files", "job_discard", "job_start"),
    "job_status": ("base_prelude", "job_prelude", "job_status"),
    "job_cleanup": ("base_prelude", "job_prelude", "job_discard", "job_cleanup"),
    "job_runner": ("base_prelude", "job_prelude", "job_files", "job_runner"),
    "file_info": ("base_prelude", "prelude", "file_info"),
    "join_parts": ("base_prelude", "prelude", "join_parts"),
    "host_info": ("base_prelude", "prelude", "host_info"),
    "container_image": ("base_prelude", "prelude", "container_image"),
    "package_provider": ("base_prelude", "prelude", "package_provider"),
    "docker_config": ("base_prelude", "prelude", "docker_config"),
}

# Runs the script of the first input line with the remaining lines as its input. A failure to
# even start the script is answered in the same JSON form as the scripts' own errors.
BOOTSTRAP = script_files.powershell_part("bootstrap").strip()

# What Win32_Process.Create runs: a constant command line that runs runner.ps1 from the job
# directory, which is the new process's current directory.
JOB_RUNNER_BOOTSTRAP = script_files.powershell_part("job_runner_bootstrap").strip()


def _assemble(parts: tuple[str, ...]) -> str:
    return "".join(script_files.powershell_part(part) for part in parts)


SCRIPTS: dict[str, str] = {operation: _assemble(parts) for operation, parts in PARTS.items()}
