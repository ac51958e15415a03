# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# What Win32_Process.Create runs (as -EncodedCommand): runs runner.ps1 from the job directory,
# which is the new process's current directory. One line: the comment lines above are not sent.
$ErrorActionPreference = 'Stop'; & ([ScriptBlock]::Create([IO.File]::ReadAllText([IO.Path]::Combine([Environment]::CurrentDirectory, 'runner.ps1'))))
