# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Discarding a job (start, cleanup): stops its processes only while its runner runs (the
# runner holds its calls' process handles, so their PIDs cannot be reused meanwhile; the
# processes are waited for, as TerminateProcess returns before they end), removes the
# rename source, renames the directory to a .trash- name and removes it (Directory.Delete
# does not recurse through reparse points), and releases the locks naming the job.

function Remove-Job {
    param([string]$Root, [string]$Id)
    $dir = Join-Path -Path $Root -ChildPath $Id
    $runner = Get-LiveProcess (Read-Shared (Join-Path $dir 'runner.pid')) -Pin
    if ($runner) {
        $calls = @(foreach ($line in ((Read-Shared (Join-Path $dir 'pids')) -split "`r?`n")) { Get-LiveProcess $line -Pin })
        foreach ($process in @($runner) + $calls) {
            if (-not $process) { continue }
            try { $process.Kill() } catch { $null = $_ }
            $null = $process.WaitForExit(10000)
        }
    }
    $rename = $null
    try { $rename = (ConvertFrom-Json -InputObject (Read-Shared (Join-Path $dir 'request.json'))).rename } catch { $null = $_ }
    if ($rename -and [IO.File]::Exists([string]$rename.from)) { [IO.File]::Delete([string]$rename.from) }
    $trash = Join-Path -Path $Root -ChildPath ('.trash-{0}-{1}' -f $Id, [Guid]::NewGuid().ToString('N'))
    try {
        [IO.Directory]::Move($dir, $trash)
    } catch {
        if ([IO.Directory]::Exists($dir)) { throw }
        return
    }
    try { [IO.Directory]::Delete($trash, $true) } catch { $null = $_ }
    foreach ($lock in [IO.Directory]::GetFiles($Root, '*.lock')) {
        if ((Read-Shared $lock) -ceq $Id) { [IO.File]::Delete($lock) }
    }
}
