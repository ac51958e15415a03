# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The constant PowerShell scripts that the Windows dialect runs on a host.

Every script here is fixed text: nothing a user types is ever placed in it. The command line
is always ``BOOTSTRAP`` (a few hundred characters, far below cmd.exe's 8,191-character limit
that WinRS imposes); it reads two lines from its input (``$input``, which works the same over
``winrm`` process stdin, ``psrp`` pipeline input and ``ssh``): the base64 of one of ``SCRIPTS``,
which it runs, and one JSON line with everything that varies, which it passes to that script as
its input. Each script answers with one JSON line
whose non-ASCII characters are escaped, so no console code page can corrupt it, and catches
every exception into that answer instead of letting CLIXML reach stderr.

The scripts target Windows PowerShell 5.1 (no ``??``, no ternaries, no ``-AsHashtable``).
"""

from __future__ import annotations

# Runs the script of the first input line with the remaining lines as its input. A failure to
# even start the script is answered in the same JSON form as the scripts' own errors.
BOOTSTRAP = (
    r"$ErrorActionPreference = 'Stop'; $lines = @((@($input) -join [char]10) -split '\r?\n'); "
    r"try { $script = [ScriptBlock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($lines[0]))) } "
    r"""catch { Write-Output ('{"results":[],"error":{"kind":"exception","message":"bootstrap: ' + """
    r"""($_.Exception.Message -replace '[^ -~]', '?' -replace '[\\"]', "'") + '"}}'); exit 1 }; """
    r"$lines | Select-Object -Skip 1 | & $script"
)

# Functions every script uses: the answer, the request, and the executables, which are chosen
# from a fixed table, never named by the request (the request only says "docker" or "tar").
BASE_PRELUDE = r"""
$ErrorActionPreference = 'Stop'
$Utf8 = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
try { [Console]::OutputEncoding = $Utf8 } catch { $null = $_ }

function Write-Answer {
    param($Answer)
    $json = ConvertTo-Json -InputObject $Answer -Compress -Depth 8
    $ascii = [regex]::Replace($json, '[^\x00-\x7F]', {
        param($m)
        '\u{0:x4}' -f [int][char]$m.Value
    })
    Write-Output $ascii
}

function ConvertFrom-Request {
    # The script's own $input is passed in: inside a function $input is the function's.
    param([object[]]$Lines)
    $text = @($Lines) -join "`n"
    if (-not $text.Trim()) { throw 'the request line on stdin is empty' }
    ConvertFrom-Json -InputObject $text
}

function Resolve-Executable {
    param([string]$Name)
    $known = @{
        docker = @("$env:ProgramFiles\Docker\docker.exe", "$env:ProgramFiles\Docker\Docker\resources\bin\docker.exe")
        tar = @("$env:SystemRoot\System32\tar.exe")
        powershell = @("$PSHOME\powershell.exe")
    }
    if (-not $known.ContainsKey($Name)) { throw "unknown executable '$Name'" }
    $found = Get-Command -Name "$Name.exe" -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($found) { return $found.Path }
    foreach ($candidate in $known[$Name]) {
        if (Test-Path -LiteralPath $candidate -PathType Leaf) { return $candidate }
    }
    return $null
}
"""

# Functions shared by the scripts that run program calls in the exec itself.
PRELUDE = BASE_PRELUDE + r"""
function Split-LinesIntoArguments {
    # The distinct output lines of an earlier call, in chunks that keep each command line
    # under CreateProcess's limit. Only plain tokens (IDs, references) are accepted, so
    # none of them needs quoting.
    param([string]$Text, [int]$Limit)
    $seen = @{}
    $chunks = New-Object -TypeName System.Collections.ArrayList
    $chunk = ''
    foreach ($token in ($Text -split "`r?`n")) {
        if (-not $token -or $seen.ContainsKey($token)) { continue }
        if ($token -notmatch '^[A-Za-z0-9][A-Za-z0-9:._/@-]*$') { throw "refusing to pass '$token' as an argument" }
        $seen[$token] = $true
        if ($chunk -and ($chunk.Length + $token.Length + 1) -gt $Limit) {
            $null = $chunks.Add($chunk)
            $chunk = ''
        }
        $chunk = ($chunk + ' ' + $token).Trim()
    }
    if ($chunk) { $null = $chunks.Add($chunk) }
    return ,$chunks
}

function Start-Call {
    param([string]$Path, [string]$CommandLine, $Stdin, $Environment)
    $info = New-Object -TypeName System.Diagnostics.ProcessStartInfo
    $info.FileName = $Path
    $info.Arguments = $CommandLine
    $info.UseShellExecute = $false
    $info.CreateNoWindow = $true
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.StandardOutputEncoding = $Utf8
    $info.StandardErrorEncoding = $Utf8
    if ($Environment) {
        foreach ($property in $Environment.PSObject.Properties) {
            $info.EnvironmentVariables[$property.Name] = [string]$property.Value
        }
    }
    # .NET Framework creates StandardInput with Console.InputEncoding and AutoFlush on, which
    # writes that encoding's preamble at once: a UTF-8 BOM before docker login's password whenever
    # the console code page is 65001 (the WinRS shells Ansible opens, chcp 65001 over ssh, the
    # "Use Unicode UTF-8" locale). A preamble-free encoding first, as ansible-core's wrapper does.
    try { [Console]::InputEncoding = $Utf8 } catch { $null = $_ }
    $process = [System.Diagnostics.Process]::Start($info)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    if ($null -ne $Stdin) {
        $writer = New-Object -TypeName System.IO.StreamWriter -ArgumentList $process.StandardInput.BaseStream, $Utf8
        $writer.Write([string]$Stdin)
        $writer.Close()
    } else {
        $process.StandardInput.Close()
    }
    return @{ Process = $process; Stdout = $stdout; Stderr = $stderr }
}

function Complete-Call {
    param($Started)
    $Started.Process.WaitForExit()
    $answer = [ordered]@{
        rc = $Started.Process.ExitCode
        stdout = $Started.Stdout.Result
        stderr = $Started.Stderr.Result
    }
    $Started.Process.Dispose()
    return $answer
}
"""

# Runs the request's calls, at most `parallel` at a time, and answers with their results in
# request order. A call may take extra arguments from the output lines of an earlier call
# (`append_lines_of`), so "list, then inspect what was listed" is one round trip.
RUN = PRELUDE + r"""
try {
    $request = ConvertFrom-Request -Lines @($input)
    $calls = @($request.calls)
    $parallel = [Math]::Max(1, [int]$request.parallel)
    $paths = @{}
    foreach ($call in $calls) {
        if (-not $paths.ContainsKey($call.exe)) {
            $path = Resolve-Executable -Name $call.exe
            if (-not $path) {
                Write-Answer @{ results = @(); error = @{ kind = 'not_found'; exe = $call.exe; message = "$($call.exe).exe was not found on this host" } }
                return
            }
            $paths[$call.exe] = $path
        }
    }
    $results = New-Object -TypeName 'object[]' -ArgumentList $calls.Count
    $running = New-Object -TypeName System.Collections.ArrayList
    for ($index = 0; $index -lt $calls.Count; $index++) {
        $call = $calls[$index]
        $commandLine = [string]$call.cmdline
        if ($null -ne $call.append_lines_of) {
            while ($running.Count -gt 0) {
                $done = $running[0]
                $running.RemoveAt(0)
                $results[$done.Index] = Complete-Call -Started $done.Started
            }
            $previous = $results[[int]$call.append_lines_of]
            $chunks = Split-LinesIntoArguments -Text $previous.stdout -Limit (30000 - $commandLine.Length)
            $merged = [ordered]@{ rc = 0; stdout = ''; stderr = ''; skipped = ($chunks.Count -eq 0) }
            foreach ($chunk in $chunks) {
                $started = Start-Call -Path $paths[$call.exe] -CommandLine ($commandLine + ' ' + $chunk) -Stdin $call.stdin -Environment $call.env
                $part = Complete-Call -Started $started
                if ($merged.rc -eq 0) { $merged.rc = $part.rc }
                $merged.stdout += $part.stdout + "`n"
                $merged.stderr += $part.stderr
            }
            $results[$index] = $merged
            continue
        }
        while ($running.Count -ge $parallel) {
            $done = $running[0]
            $running.RemoveAt(0)
            $results[$done.Index] = Complete-Call -Started $done.Started
        }
        $started = Start-Call -Path $paths[$call.exe] -CommandLine $commandLine -Stdin $call.stdin -Environment $call.env
        $null = $running.Add(@{ Index = $index; Started = $started })
    }
    foreach ($done in $running) {
        $results[$done.Index] = Complete-Call -Started $done.Started
    }
    Write-Answer @{ results = $results; error = $null }
} catch {
    Write-Answer @{ results = @(); error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
"""

# Detached jobs: long operations (multi-GB pulls, save, load) run in a process that Windows
# Management Instrumentation starts outside the WinRM shell, so a dropped or timed-out shell
# does not cancel them (the Docker daemon cancels a pull when its last client goes away). The
# job keeps its request, logs and results in a directory named by the job's ID under a root
# that only SYSTEM, Administrators and the connecting user may write to; short execs poll it.
# The runner's own script is the constant JOB_RUNNER, written there by JOB_START. The rules
# (start, attach, stale jobs, collect, clean up, orphans, locks) are in docs/architecture.md,
# "Detached jobs: the lifecycle in one place"; the requests and answers in jobs.py.
#
# Windows behaviour relied on (learn.microsoft.com): %ProgramData% subfolders are writable by
# Users and new folders inherit that ("FolderLocations ProgramData"), so the root gets its own
# protected ACL (ObjectSecurity.SetAccessRuleProtection; Directory.CreateDirectory(String,
# DirectorySecurity) applies it only to a directory it creates); FileMode.CreateNew fails when
# the file exists (the exclusive creates); File.GetAttributes does not follow a reparse point;
# Directory.Delete does not recurse through reparse points; File.Replace needs an existing
# destination; a PID is not reused while a handle to the process is open (OpenProcess).
#
# Test-PrivateDirectory answers $false for a missing path and refuses (an "unsafe" error naming
# the path) a directory another principal controls: not a directory, a reparse point, an owner
# outside $Owners, or an allow rule (explicit or inherited) that gives any other SID one of the
# write rights: WriteData, AppendData, WriteExtendedAttributes, DeleteSubdirectoriesAndFiles,
# WriteAttributes, Delete, ChangePermissions, TakeOwnership, GENERIC_ALL, GENERIC_WRITE
# (0x500D0156). Get-JobRoot checks both levels of the root (creating missing ones with the
# -Security given); Get-LiveProcess gives the process a "<pid> <start time ticks>" line names
# while it runs, so a reused PID is never taken for the runner (-Pin: with a handle open first,
# which keeps the PID from being reused before the process is stopped; that asks for all access,
# so liveness alone only asks what Process.StartTime needs).
JOB_PRELUDE = BASE_PRELUDE + r"""
$JobUser = [Security.Principal.WindowsIdentity]::GetCurrent().User.Value
$JobTrusted = @('S-1-5-18', 'S-1-5-32-544', $JobUser)

function Stop-Unsafe {
    param([string]$Path, [string]$Problem)
    $exception = New-Object -TypeName System.InvalidOperationException -ArgumentList ('{0}: {1}; refusing to use it' -f $Path, $Problem)
    $exception.Data['kind'] = 'unsafe'
    throw $exception
}

function Write-Failure {
    param($Record)
    $kind = $Record.Exception.Data['kind']
    if (-not $kind) { $kind = 'exception' }
    Write-Answer @{ error = @{ kind = $kind; message = $Record.Exception.Message } }
}

function Test-PrivateDirectory {
    param([string]$Path, [string[]]$Owners)
    if (-not [IO.Directory]::Exists($Path)) {
        if ([IO.File]::Exists($Path)) { Stop-Unsafe $Path 'it is not a directory' }
        return $false
    }
    if ([int][IO.File]::GetAttributes($Path) -band [int][IO.FileAttributes]::ReparsePoint) { Stop-Unsafe $Path 'it is a reparse point (a link or junction)' }
    try { $acl = [IO.Directory]::GetAccessControl($Path) } catch { Stop-Unsafe $Path 'its owner and access rules cannot be read' }
    $owner = $acl.GetOwner([Security.Principal.SecurityIdentifier]).Value
    if ($Owners -notcontains $owner) { Stop-Unsafe $Path "it is owned by $owner" }
    foreach ($rule in $acl.GetAccessRules($true, $true, [Security.Principal.SecurityIdentifier])) {
        $sid = $rule.IdentityReference.Value
        if ($rule.AccessControlType -eq 'Allow' -and $JobTrusted -notcontains $sid -and ([int]$rule.FileSystemRights -band 0x500D0156)) {
            Stop-Unsafe $Path "$sid may write to it"
        }
    }
    return $true
}

function Get-JobRoot {
    param($Security)
    $path = [Environment]::GetFolderPath('CommonApplicationData')
    foreach ($name in 'wincontainers.images', 'jobs') {
        $path = Join-Path -Path $path -ChildPath $name
        if ($Security) { $null = [IO.Directory]::CreateDirectory($path, $Security) }
        if (-not (Test-PrivateDirectory -Path $path -Owners $JobTrusted)) { return $null }
    }
    return $path
}

function Get-LiveProcess {
    param([string]$Line, [switch]$Pin)
    if ($Line -notmatch '^(\d+) (\d+)') { return $null }
    try {
        $process = [Diagnostics.Process]::GetProcessById([int]$Matches[1])
        if ($Pin) { $null = $process.Handle }
        if ($process.StartTime.ToUniversalTime().Ticks -eq [long]$Matches[2]) { return $process }
    } catch { $null = $_ }
    return $null
}

function Read-Shared {
    # Reads a file another process may still be writing; keeps the last $Limit characters.
    param([string]$Path, [int]$Limit = 262144)
    if (-not [IO.File]::Exists($Path)) { return '' }
    $stream = [IO.File]::Open($Path, 'Open', 'Read', 'ReadWrite')
    try {
        $reader = New-Object -TypeName System.IO.StreamReader -ArgumentList $stream, $Utf8
        $text = $reader.ReadToEnd()
    } finally {
        $stream.Dispose()
    }
    if ($text.Length -gt $Limit) { $text = $text.Substring($text.Length - $Limit) }
    return $text
}
"""

# Writing files atomically (a temporary file, then File.Move, or File.Replace over an existing one),
# and the host clock as the requests and answers carry it (seconds since the Unix epoch).
JOB_FILES = r"""
function Move-File {
    param([string]$From, [string]$To)
    if ([IO.File]::Exists($To)) { [IO.File]::Replace($From, $To, [NullString]::Value) } else { [IO.File]::Move($From, $To) }
}

function Write-Atomically {
    param([string]$Path, $Value)
    [IO.File]::WriteAllText("$Path.tmp", (ConvertTo-Json -InputObject $Value -Depth 6 -Compress), $Utf8)
    Move-File -From "$Path.tmp" -To $Path
}

function Get-UnixTime {
    return ([DateTime]::UtcNow - [DateTime]'1970-01-01').TotalSeconds
}
"""

# Discarding a job (start, cleanup): stops its processes only while its runner runs (the
# runner holds its calls' process handles, so their PIDs cannot be reused meanwhile; the
# processes are waited for, as TerminateProcess returns before they end), removes the
# rename source, renames the directory to a .trash- name and removes it (Directory.Delete
# does not recurse through reparse points), and releases the locks naming the job.
JOB_DISCARD = r"""
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
"""

# The runner, started by Win32_Process.Create in the job directory: claims the job with an
# exclusive create of runner.pid (a second runner exits at once), runs the calls (at most
# `parallel` at a time, failed ones again up to `retries` times), renames the request's
# partial file to its final name when every call succeeded, then writes results.json.
JOB_RUNNER = JOB_PRELUDE + JOB_FILES + r"""
$dir = [Environment]::CurrentDirectory
try {
    $root = Get-JobRoot
    if (-not $root -or [IO.Path]::GetDirectoryName($dir) -ne $root -or -not (Test-PrivateDirectory -Path $dir -Owners $JobUser)) { return }
    $stream = [IO.File]::Open((Join-Path $dir 'runner.pid'), 'CreateNew', 'Write', 'Read')
} catch {
    return
}
try {
    $writer = New-Object -TypeName System.IO.StreamWriter -ArgumentList $stream, $Utf8
    $writer.Write(('{0} {1}' -f $PID, [Diagnostics.Process]::GetCurrentProcess().StartTime.ToUniversalTime().Ticks))
    $writer.Close()
    $request = ConvertFrom-Json -InputObject ([IO.File]::ReadAllText((Join-Path $dir 'request.json')))
    $calls = @($request.calls)
    $parallel = [Math]::Max(1, [int]$request.parallel)
    $retries = [Math]::Max(0, [int]$request.retries)
    $results = New-Object -TypeName 'object[]' -ArgumentList $calls.Count
    $attempts = New-Object -TypeName 'int[]' -ArgumentList $calls.Count
    $queue = New-Object -TypeName System.Collections.Queue
    for ($index = 0; $index -lt $calls.Count; $index++) { $queue.Enqueue($index) }
    $running = New-Object -TypeName System.Collections.ArrayList
    $failed = $false
    while ($queue.Count -gt 0 -or $running.Count -gt 0) {
        while ($queue.Count -gt 0 -and $running.Count -lt $parallel) {
            $index = $queue.Dequeue()
            $call = $calls[$index]
            $attempts[$index]++
            # Start-Process has no per-process environment: set the call's variables for the
            # start only, then put the runner's own values back for the next call.
            $saved = @{}
            if ($call.env) {
                foreach ($property in $call.env.PSObject.Properties) {
                    $saved[$property.Name] = [Environment]::GetEnvironmentVariable($property.Name, 'Process')
                    [Environment]::SetEnvironmentVariable($property.Name, [string]$property.Value, 'Process')
                }
            }
            $process = Start-Process -FilePath $call.path -ArgumentList $call.cmdline -NoNewWindow -PassThru `
                -RedirectStandardOutput (Join-Path $dir "$index.out") -RedirectStandardError (Join-Path $dir "$index.err")
            foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name], 'Process') }
            # The open handle keeps the PID from being reused while the runner lives.
            $null = $process.Handle
            Add-Content -LiteralPath (Join-Path $dir 'pids') -Value ('{0} {1}' -f $process.Id, $process.StartTime.ToUniversalTime().Ticks)
            $null = $running.Add(@{ Index = $index; Process = $process })
        }
        Start-Sleep -Milliseconds 250
        foreach ($entry in @($running)) {
            if (-not $entry.Process.HasExited) { continue }
            $running.Remove($entry)
            $rc = $entry.Process.ExitCode
            if ($rc -ne 0 -and $attempts[$entry.Index] -le $retries) {
                $queue.Enqueue($entry.Index)
                continue
            }
            if ($rc -ne 0) { $failed = $true }
            $results[$entry.Index] = [ordered]@{ rc = $rc; attempts = $attempts[$entry.Index] }
        }
    }
    $renamed = $false
    if ($request.rename) {
        $from = [string]$request.rename.from
        if (-not $failed) {
            Move-File -From $from -To ([string]$request.rename.to)
            $renamed = $true
        } elseif ([IO.File]::Exists($from)) {
            [IO.File]::Delete($from)
        }
    }
    $finished = [ordered]@{ results = $results; error = $null; finished = (Get-UnixTime); renamed = $renamed }
    Write-Atomically -Path (Join-Path $dir 'results.json') -Value $finished
} catch {
    $failure = [ordered]@{ kind = 'exception'; message = $_.Exception.Message }
    Write-Atomically -Path (Join-Path $dir 'results.json') -Value ([ordered]@{ results = @(); error = $failure; finished = (Get-UnixTime) })
}
"""

# What Win32_Process.Create runs: a constant command line that runs runner.ps1 from the job
# directory, which is the new process's current directory.
JOB_RUNNER_BOOTSTRAP = (
    "$ErrorActionPreference = 'Stop'; "
    "& ([ScriptBlock]::Create([IO.File]::ReadAllText([IO.Path]::Combine([Environment]::CurrentDirectory, 'runner.ps1'))))"
)

# Starts the job, or attaches to it while it runs: sweeps orphans, creates the job directory
# (the exclusive create of request.json.tmp decides which run starts it), discards a stale one
# and starts again, takes the path locks, writes the request and starts the runner.
JOB_START = JOB_PRELUDE + JOB_FILES + JOB_DISCARD + r"""
function Get-StaleReason {
    # Why the job must not be attached to, or 'busy' (another run starts it), or $null.
    param([string]$Dir, [double]$Grace)
    $now = [DateTime]::UtcNow
    $requestPath = Join-Path $Dir 'request.json'
    if ([IO.File]::Exists((Join-Path $Dir 'results.json'))) { return 'finished' }
    if (-not [IO.File]::Exists($requestPath)) {
        if (($now - [IO.File]::GetLastWriteTimeUtc($Dir)).TotalSeconds -lt $Grace) { return 'busy' }
        return 'incomplete'
    }
    $runnerPid = Read-Shared (Join-Path $Dir 'runner.pid')
    if ($runnerPid -match '^\d+ \d+') {
        if (Get-LiveProcess $runnerPid) { return $null }
        return 'dead'
    }
    if (($now - [IO.File]::GetLastWriteTimeUtc($requestPath)).TotalSeconds -gt $Grace) { return 'never_started' }
    return $null
}

function New-ExclusiveFile {
    param([string]$Path, [string]$Text = '')
    try {
        $stream = [IO.File]::Open($Path, 'CreateNew', 'Write', 'Read')
    } catch {
        if ([IO.File]::Exists($Path)) { return $false }
        throw
    }
    $bytes = $Utf8.GetBytes($Text)
    $stream.Write($bytes, 0, $bytes.Length)
    $stream.Dispose()
    return $true
}

function Set-Claim {
    param([string]$Path)
    [IO.File]::Open($Path, 'OpenOrCreate', 'Write', 'ReadWrite').Dispose()
    [IO.File]::SetLastWriteTimeUtc($Path, [DateTime]::UtcNow)
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $id = [string]$request.job
    if ("$id $($request.token)" -cnotmatch '^[0-9a-f]{32} [0-9a-f]{32}$') { throw 'invalid job id or token' }
    $locks = @(@($request.locks) | Where-Object { $_ })
    foreach ($key in $locks) { if ([string]$key -cnotmatch '^[0-9a-f]{64}$') { throw "invalid lock key '$key'" } }
    $calls = @()
    foreach ($call in @($request.calls)) {
        $path = Resolve-Executable -Name $call.exe
        if (-not $path) {
            Write-Answer @{ error = @{ kind = 'not_found'; exe = $call.exe; message = "$($call.exe).exe was not found on this host" } }
            return
        }
        $calls += @{ path = $path; cmdline = [string]$call.cmdline; env = $call.env }
    }
    $security = New-Object -TypeName System.Security.AccessControl.DirectorySecurity
    $security.SetAccessRuleProtection($true, $false)
    $security.SetOwner((New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $JobUser))
    foreach ($sid in $JobTrusted) {
        $security.AddAccessRule((New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList @(
            (New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $sid),
            'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow')))
    }
    $root = Get-JobRoot -Security $security
    $grace = 60
    if ($null -ne $request.start_grace) { $grace = [double]$request.start_grace }
    $claimAge = 60
    if ($null -ne $request.claim_age) { $claimAge = [double]$request.claim_age }
    $stale = @('finished', 'dead', 'never_started', 'incomplete')
    $now = [DateTime]::UtcNow

    # Orphans: .trash- entries, jobs that do not run and that no run started, polled or saw end
    # for claim_age, and locks whose job is gone.
    foreach ($entry in [IO.Directory]::GetFileSystemEntries($root)) {
        $name = [IO.Path]::GetFileName($entry)
        try {
            if ($name.StartsWith('.trash-')) {
                if ([IO.Directory]::Exists($entry)) { [IO.Directory]::Delete($entry, $true) } else { [IO.File]::Delete($entry) }
            } elseif ($name -cmatch '^[0-9a-f]{32}$' -and $name -ne $id -and (Test-PrivateDirectory -Path $entry -Owners $JobUser)) {
                $last = [IO.File]::GetLastWriteTimeUtc($entry)
                foreach ($file in @([IO.Directory]::GetFiles($entry, 'claim-*')) + @((Join-Path $entry 'request.json'), (Join-Path $entry 'results.json'))) {
                    $time = [IO.File]::GetLastWriteTimeUtc($file)
                    if ($time -gt $last) { $last = $time }
                }
                if (($now - $last).TotalSeconds -gt $claimAge -and $stale -contains (Get-StaleReason -Dir $entry -Grace $grace)) {
                    Remove-Job -Root $root -Id $name
                }
            }
        } catch {
            $null = $_  # another run removes it right now, or it is not this user's
        }
    }
    foreach ($lock in [IO.Directory]::GetFiles($root, '*.lock')) {
        $holder = Read-Shared $lock
        if ($holder -cnotmatch '^[0-9a-f]{32}$' -or -not [IO.Directory]::Exists((Join-Path $root $holder))) { [IO.File]::Delete($lock) }
    }

    $dir = Join-Path -Path $root -ChildPath $id
    $claim = Join-Path $dir "claim-$($request.token)"
    $discarded = $null
    for ($attempt = 0; $attempt -lt 3; $attempt++) {
        $null = [IO.Directory]::CreateDirectory($dir, $security)
        if (-not (Test-PrivateDirectory -Path $dir -Owners $JobUser)) { continue }
        $won = New-ExclusiveFile -Path (Join-Path $dir 'request.json.tmp')
        if ($won -and [IO.File]::Exists((Join-Path $dir 'request.json'))) {
            [IO.File]::Delete((Join-Path $dir 'request.json.tmp'))
            $won = $false
        } elseif ($won -and @([IO.Directory]::GetFileSystemEntries($dir)).Count -gt 1) {
            # What a failed start left: never reused.
            Remove-Job -Root $root -Id $id
            $discarded = 'incomplete'
            continue
        }
        if (-not $won) {
            if ([IO.File]::Exists($claim)) {
                Set-Claim $claim
                Write-Answer @{ state = 'attached'; discarded = $null; error = $null }
                return
            }
            $reason = Get-StaleReason -Dir $dir -Grace $grace
            if ($reason -eq 'busy') {
                Write-Answer @{ state = 'busy'; discarded = $null; error = $null }
                return
            }
            if ($reason) {
                Remove-Job -Root $root -Id $id
                $discarded = $reason
                continue
            }
            Set-Claim $claim
            Write-Answer @{ state = 'attached'; discarded = $null; error = $null }
            return
        }
        $held = @()
        foreach ($key in $locks) {
            $lock = Join-Path $root "$key.lock"
            $taken = New-ExclusiveFile -Path $lock -Text $id
            if (-not $taken) {
                $holder = Read-Shared $lock
                $free = $holder -ceq $id -or $holder -cnotmatch '^[0-9a-f]{32}$' -or -not [IO.Directory]::Exists((Join-Path $root $holder))
                if (-not $free) { $free = $stale -contains (Get-StaleReason -Dir (Join-Path $root $holder) -Grace $grace) }
                if ($free) {
                    [IO.File]::Delete($lock)
                    $taken = New-ExclusiveFile -Path $lock -Text $id
                }
            }
            if (-not $taken) {
                foreach ($path in $held) { [IO.File]::Delete($path) }
                [IO.Directory]::Delete($dir, $true)
                Write-Answer @{ state = 'locked'; lock = $key; holder = (Read-Shared $lock); error = $null }
                return
            }
            $held += $lock
        }
        $runner = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($request.runner))
        [IO.File]::WriteAllText((Join-Path $dir 'runner.ps1'), $runner, $Utf8)
        Write-Atomically -Path (Join-Path $dir 'request.json') -Value ([ordered]@{
            parallel = $request.parallel; retries = $request.retries; calls = $calls
            created = (Get-UnixTime); locks = $locks; rename = $request.rename
        })
        Set-Claim $claim
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($request.runner_bootstrap))
        try {
            $created = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{
                CommandLine = "`"$PSHOME\powershell.exe`" -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand $encoded"
                CurrentDirectory = $dir
            }
        } catch {
            # WMI itself failed (the service stopped, access denied): no runner will ever come.
            Remove-Job -Root $root -Id $id
            throw
        }
        if ($created.ReturnValue -ne 0) {
            Remove-Job -Root $root -Id $id
            throw "Win32_Process.Create could not start the job runner (return value $($created.ReturnValue))"
        }
        Write-Answer @{ state = 'started'; discarded = $discarded; error = $null }
        return
    }
    throw "${dir}: the job directory keeps changing"
} catch {
    Write-Failure $_
}
"""

# The state of a job: its outputs so far and, once there, its results. With "wait", the
# script waits (at most 10 s) for the results: one exec instead of several polls.
JOB_STATUS = JOB_PRELUDE + r"""
try {
    $request = ConvertFrom-Request -Lines @($input)
    if ("$($request.job) $($request.token)" -cnotmatch '^[0-9a-f]{32} [0-9a-f]{32}$') { throw 'invalid job id or token' }
    $root = Get-JobRoot
    $dir = $null
    if ($root) { $dir = Join-Path -Path $root -ChildPath $request.job }
    if (-not $dir -or -not (Test-PrivateDirectory -Path $dir -Owners $JobUser) -or -not [IO.File]::Exists((Join-Path $dir 'request.json'))) {
        Write-Answer @{ exists = $false; claimed = $false; error = $null }
        return
    }
    # The claim is touched before and after the wait: a run that still polls is seen as alive.
    $claim = Join-Path $dir "claim-$($request.token)"
    $claimed = [IO.File]::Exists($claim)
    if ($claimed) { try { [IO.File]::SetLastWriteTimeUtc($claim, [DateTime]::UtcNow) } catch { $claimed = $false } }
    $resultsPath = Join-Path $dir 'results.json'
    $waitUntil = [DateTime]::UtcNow.AddSeconds([Math]::Min(10.0, [Math]::Max(0.0, [double]$request.wait)))
    while ([DateTime]::UtcNow -lt $waitUntil -and -not [IO.File]::Exists($resultsPath)) {
        Start-Sleep -Milliseconds 100
    }
    if ($claimed) { try { [IO.File]::SetLastWriteTimeUtc($claim, [DateTime]::UtcNow) } catch { $null = $_ } }
    # Liveness first, results second: the runner writes its results before it exits, so a
    # runner seen dead here has results below unless it really died.
    $runnerPid = Read-Shared (Join-Path $dir 'runner.pid')
    $alive = [bool](Get-LiveProcess $runnerPid)
    $count = @((ConvertFrom-Json -InputObject (Read-Shared (Join-Path $dir 'request.json'))).calls).Count
    $outputs = @()
    for ($index = 0; $index -lt $count; $index++) {
        $outputs += [ordered]@{
            stdout = Read-Shared (Join-Path $dir "$index.out")
            stderr = Read-Shared (Join-Path $dir "$index.err")
        }
    }
    $finished = $null
    if ([IO.File]::Exists($resultsPath)) { $finished = ConvertFrom-Json -InputObject (Read-Shared $resultsPath) }
    Write-Answer ([ordered]@{
        exists = $true; claimed = $claimed; started = ($runnerPid -match '^\d+ \d+'); alive = $alive
        finished = $finished; outputs = $outputs; error = $null
    })
} catch {
    Write-Failure $_
}
"""

# Ends this run's interest in a job: with "kill", stops and removes it; otherwise removes this
# run's claim, and the job once its runner is done and no other run polled it lately.
JOB_CLEANUP = JOB_PRELUDE + JOB_DISCARD + r"""
try {
    $request = ConvertFrom-Request -Lines @($input)
    if ("$($request.job) $($request.token)" -cnotmatch '^[0-9a-f]{32} [0-9a-f]{32}$') { throw 'invalid job id or token' }
    $root = Get-JobRoot
    $dir = $null
    if ($root) { $dir = Join-Path -Path $root -ChildPath $request.job }
    if (-not $dir -or -not (Test-PrivateDirectory -Path $dir -Owners $JobUser)) {
        Write-Answer @{ removed = $false; error = $null }
        return
    }
    if (-not $request.kill) {
        [IO.File]::Delete((Join-Path $dir "claim-$($request.token)"))
        if (-not [IO.File]::Exists((Join-Path $dir 'results.json')) -and (Get-LiveProcess (Read-Shared (Join-Path $dir 'runner.pid')))) {
            Write-Answer @{ removed = $false; error = $null }
            return
        }
        $claimAge = 60
        if ($null -ne $request.claim_age) { $claimAge = [double]$request.claim_age }
        $since = [DateTime]::UtcNow.AddSeconds(-$claimAge)
        foreach ($other in [IO.Directory]::GetFiles($dir, 'claim-*')) {
            if ([IO.File]::GetLastWriteTimeUtc($other) -gt $since) {
                Write-Answer @{ removed = $false; error = $null }
                return
            }
        }
    }
    Remove-Job -Root $root -Id $request.job
    Write-Answer @{ removed = $true; error = $null }
} catch {
    Write-Failure $_
}
"""

SCRIPTS: dict[str, str] = {
    "run": RUN,
    "job_start": JOB_START,
    "job_status": JOB_STATUS,
    "job_cleanup": JOB_CLEANUP,
    "job_runner": JOB_RUNNER,
}

# Files of the image archive modules (docker_image_export / docker_image_load), in one exec:
# remove and rename files, report files (exists, kind, size, sha256 when asked), then run
# program calls, each optionally only when a reported file exists. A missing executable
# (tar.exe on Windows Server 2016) is reported per call ("not_found"), not as an error.
FILE_INFO = PRELUDE + r"""
function Get-FileState {
    param([string]$Path, [bool]$Hash)
    $state = [ordered]@{ path = $Path; exists = $false; kind = $null; size = $null; sha256 = $null }
    if (Test-Path -LiteralPath $Path -PathType Container) {
        $state.exists = $true
        $state.kind = 'directory'
    } elseif (Test-Path -LiteralPath $Path -PathType Leaf) {
        $state.exists = $true
        $state.kind = 'file'
        $state.size = (Get-Item -LiteralPath $Path -Force).Length
        if ($Hash) { $state.sha256 = (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant() }
    }
    return $state
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    foreach ($path in @($request.remove)) {
        if ($path -and (Test-Path -LiteralPath $path -PathType Leaf)) { Remove-Item -LiteralPath $path -Force }
    }
    foreach ($move in @($request.rename)) {
        if (-not $move) { continue }
        if (Test-Path -LiteralPath $move.to -PathType Leaf) {
            [IO.File]::Replace([string]$move.from, [string]$move.to, [NullString]::Value)
        } else {
            [IO.File]::Move([string]$move.from, [string]$move.to)
        }
    }
    $files = @()
    foreach ($file in @($request.files)) {
        if ($file) { $files += Get-FileState -Path $file.path -Hash ([bool]$file.hash) }
    }
    $results = @()
    foreach ($call in @($request.calls)) {
        if (-not $call) { continue }
        if ($null -ne $call.if_exists -and $files[[int]$call.if_exists].kind -ne 'file') {
            $results += [ordered]@{ rc = 0; stdout = ''; stderr = ''; skipped = $true }
            continue
        }
        $exe = Resolve-Executable -Name $call.exe
        if (-not $exe) {
            $results += [ordered]@{ rc = -1; stdout = ''; stderr = ''; skipped = $true; not_found = $true }
            continue
        }
        $started = Start-Call -Path $exe -CommandLine ([string]$call.cmdline) -Stdin $call.stdin -Environment $call.env
        $results += Complete-Call -Started $started
    }
    Write-Answer @{ files = $files; results = $results; error = $null }
} catch {
    Write-Answer @{ files = @(); results = @(); error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
"""
SCRIPTS["file_info"] = FILE_INFO

# An archive copied from the controller in chunks (archive_copy.py): join the chunk files, in
# order, into the temporary file, checking each chunk's sha256 and the whole's; remove each chunk
# file once appended; rename the temporary file to the target only when the whole has the
# expected sha256 and size (so a partial copy is never visible under the target's name); then
# remove what interrupted copies to the same target left (<name>.wcpart-*, <name>.wcjoin-*).
# The temporary file is opened without sharing: a second join of the same copy fails instead of
# writing into it.
JOIN_PARTS = PRELUDE + r"""
function Get-HexDigest {
    param($Algorithm)
    return ([BitConverter]::ToString($Algorithm.Hash) -replace '-', '').ToLowerInvariant()
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $target = [string]$request.target
    $partial = [string]$request.partial
    $parts = @($request.parts)
    $buffer = New-Object -TypeName byte[] -ArgumentList 1048576
    $whole = [Security.Cryptography.SHA256]::Create()
    $total = [long]0
    $problem = $null
    $stream = New-Object -TypeName IO.FileStream -ArgumentList $partial, ([IO.FileMode]::Create), ([IO.FileAccess]::Write), ([IO.FileShare]::None)
    try {
        for ($index = 0; $index -lt $parts.Count; $index++) {
            $part = [string]$parts[$index].path
            $one = [Security.Cryptography.SHA256]::Create()
            $reader = New-Object -TypeName IO.FileStream -ArgumentList $part, ([IO.FileMode]::Open), ([IO.FileAccess]::Read), ([IO.FileShare]::Read)
            try {
                while (($read = $reader.Read($buffer, 0, $buffer.Length)) -gt 0) {
                    $null = $one.TransformBlock($buffer, 0, $read, $null, 0)
                    $null = $whole.TransformBlock($buffer, 0, $read, $null, 0)
                    $stream.Write($buffer, 0, $read)
                    $total += $read
                }
            } finally {
                $reader.Dispose()
            }
            $null = $one.TransformFinalBlock($buffer, 0, 0)
            $digest = Get-HexDigest -Algorithm $one
            Remove-Item -LiteralPath $part -Force
            if ($digest -ne [string]$parts[$index].sha256) {
                $problem = [ordered]@{ kind = 'part_mismatch'; index = $index; sha256 = $digest }
                break
            }
        }
    } finally {
        $stream.Dispose()
    }
    if ($null -eq $problem) {
        $null = $whole.TransformFinalBlock($buffer, 0, 0)
        $digest = Get-HexDigest -Algorithm $whole
        if ($digest -ne [string]$request.sha256 -or $total -ne [long]$request.size) {
            $problem = [ordered]@{ kind = 'mismatch'; sha256 = $digest; size = $total }
        }
    }
    if ($null -ne $problem) {
        Remove-Item -LiteralPath $partial -Force
        Write-Answer @{ problem = $problem; sha256 = $null; size = $null; removed = @(); error = $null }
        return
    }
    if (Test-Path -LiteralPath $target -PathType Leaf) {
        [IO.File]::Replace($partial, $target, [NullString]::Value)
    } else {
        [IO.File]::Move($partial, $target)
    }
    $directory = [IO.Path]::GetDirectoryName($target)
    $leaf = [IO.Path]::GetFileName($target)
    $pattern = '^' + [regex]::Escape($leaf) + '\.wc(part-[0-9a-f]{16}-[0-9]+|join-[0-9a-f]{16})$'
    $removed = @()
    foreach ($left in [IO.Directory]::GetFiles($directory, $leaf + '.wc*')) {
        $name = [IO.Path]::GetFileName($left)
        if ($name -match $pattern) {
            try {
                Remove-Item -LiteralPath $left -Force
                $removed += $name
            } catch {
                $null = $_
            }
        }
    }
    Write-Answer @{ problem = $null; sha256 = $digest; size = $total; removed = $removed; error = $null }
} catch {
    if ($partial) { Remove-Item -LiteralPath $partial -Force -ErrorAction SilentlyContinue }
    Write-Answer @{ problem = $null; sha256 = $null; size = $null; removed = @(); error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
"""
SCRIPTS["join_parts"] = JOIN_PARTS

# --- Windows base OS images (win_container_host_info, win_container_base_image*, provider) -----

# Reads what the base image modules decide on, in one exec: the Windows version from the
# registry (never from docker's KernelVersion, which shows a stale revision), whether Hyper-V
# can isolate containers, the docker calls of the request (run at the same time), and, when
# asked, the OS images installed by Install-ContainerOSImage, the images the legacy
# ContainerImage provider offers, and a registry's tag list or manifest digests (fetched from
# the host, so its proxy and name resolution apply; anonymous bearer tokens only).
HOST_INFO = PRELUDE + r"""
$ProgressPreference = 'SilentlyContinue'
$ManifestTypes = @(
    'application/vnd.docker.distribution.manifest.list.v2+json'
    'application/vnd.oci.image.index.v1+json'
    'application/vnd.docker.distribution.manifest.v2+json'
    'application/vnd.oci.image.manifest.v1+json'
) -join ', '
$RegistryValues = @('CurrentBuildNumber', 'CurrentBuild', 'UBR', 'DisplayVersion', 'ReleaseId', 'ProductName',
    'EditionID', 'InstallationType', 'CurrentMajorVersionNumber', 'CurrentMinorVersionNumber')
$script:RegistryToken = ''

function Get-WindowsFacts {
    $values = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    $facts = [ordered]@{}
    foreach ($name in $RegistryValues) {
        $property = $values.PSObject.Properties[$name]
        if ($null -ne $property) { $facts[$name] = $property.Value } else { $facts[$name] = $null }
    }
    return $facts
}

function Get-HyperVFacts {
    $facts = [ordered]@{ vmms = $null; hypervisor_present = $null; problem = $null }
    try {
        $service = Get-Service -Name 'vmms' -ErrorAction SilentlyContinue
        if ($service) { $facts.vmms = [string]$service.Status }
        $system = Get-CimInstance -ClassName 'Win32_ComputerSystem'
        $facts.hypervisor_present = [bool]$system.HypervisorPresent
    } catch {
        $facts.problem = $_.Exception.Message
    }
    return $facts
}

function Get-ContainerOsImages {
    $root = Join-Path -Path $env:ProgramData -ChildPath 'Microsoft\Windows\Images'
    $names = New-Object -TypeName System.Collections.ArrayList
    if (Test-Path -LiteralPath $root -PathType Container) {
        foreach ($item in @(Get-ChildItem -LiteralPath $root -Directory)) {
            if ($item.Name -like 'CN=Microsoft_*') { $null = $names.Add($item.Name) }
        }
    }
    return ,$names
}

function Find-ProviderImages {
    param($Find)
    $found = [ordered]@{ images = @(); problem = $null; message = $null }
    if (-not (Get-Command -Name 'Find-ContainerImage' -ErrorAction SilentlyContinue)) {
        $found.problem = 'provider_missing'
        $found.message = 'Find-ContainerImage is not available: the ContainerImage provider is not installed'
        return $found
    }
    try {
        $parameters = @{}
        if ($Find.name) { $parameters['Name'] = [string]$Find.name }
        if ($Find.all_versions) { $parameters['AllVersions'] = $true }
        $images = New-Object -TypeName System.Collections.ArrayList
        foreach ($item in @(Find-ContainerImage @parameters)) {
            $null = $images.Add([ordered]@{
                name = [string]$item.Name
                version = [string]$item.Version
                source = [string]$item.Source
                summary = [string]$item.Summary
            })
        }
        $found.images = $images
    } catch {
        $found.problem = 'failed'
        $found.message = $_.Exception.Message
    }
    return $found
}

function Invoke-RegistryRequest {
    param([string]$Url, [string]$Method, [string]$Accept, [string]$Token)
    $request = [System.Net.WebRequest]::Create($Url)
    $request.Method = $Method
    $request.Accept = $Accept
    $request.UserAgent = 'wincontainers.images'
    $request.Timeout = 60000
    if ($Token) { $request.Headers.Add('Authorization', 'Bearer ' + $Token) }
    $response = $null
    try {
        $response = $request.GetResponse()
    } catch {
        $failure = $_.Exception
        while ($failure -and -not ($failure -is [System.Net.WebException])) { $failure = $failure.InnerException }
        if (-not $failure -or -not $failure.Response) { throw }
        $response = $failure.Response
    }
    try {
        $body = ''
        if ($Method -ne 'HEAD') {
            $stream = $response.GetResponseStream()
            $reader = New-Object -TypeName System.IO.StreamReader -ArgumentList $stream, $Utf8
            $body = $reader.ReadToEnd()
            $reader.Dispose()
        }
        return @{
            status = [int]$response.StatusCode
            body = $body
            authenticate = [string]$response.Headers['WWW-Authenticate']
            link = [string]$response.Headers['Link']
            digest = [string]$response.Headers['Docker-Content-Digest']
        }
    } finally {
        $response.Close()
    }
}

function Get-AnonymousToken {
    # The registry's bearer challenge names the token service: ask it for an anonymous token.
    param([string]$Challenge)
    if ($Challenge -notmatch '^\s*Bearer\s+(.+)$') { return '' }
    $fields = @{}
    foreach ($match in [regex]::Matches($Matches[1], '(\w+)="([^"]*)"')) {
        $fields[$match.Groups[1].Value.ToLowerInvariant()] = $match.Groups[2].Value
    }
    if (-not $fields.ContainsKey('realm')) { return '' }
    $query = @()
    foreach ($name in @('service', 'scope')) {
        if ($fields.ContainsKey($name)) { $query += ($name + '=' + [Uri]::EscapeDataString($fields[$name])) }
    }
    $url = $fields['realm']
    if ($query.Count -gt 0) { $url = $url + '?' + ($query -join '&') }
    $answer = Invoke-RegistryRequest -Url $url -Method 'GET' -Accept 'application/json' -Token ''
    if ($answer.status -ne 200) { return '' }
    $document = ConvertFrom-Json -InputObject $answer.body
    if ($document.token) { return [string]$document.token }
    return [string]$document.access_token
}

function Invoke-Registry {
    param([string]$Url, [string]$Method, [string]$Accept)
    $answer = Invoke-RegistryRequest -Url $Url -Method $Method -Accept $Accept -Token $script:RegistryToken
    if ($answer.status -eq 401 -and $answer.authenticate) {
        $script:RegistryToken = Get-AnonymousToken -Challenge $answer.authenticate
        if ($script:RegistryToken) {
            $answer = Invoke-RegistryRequest -Url $Url -Method $Method -Accept $Accept -Token $script:RegistryToken
        }
    }
    return $answer
}

function Read-Registry {
    param($Registry)
    $result = [ordered]@{ base = $null; status = $null; tags = $null; digests = [ordered]@{}; problem = $null }
    $failures = @()
    foreach ($candidate in $Registry.bases) {
        try {
            $null = Invoke-RegistryRequest -Url ([string]$candidate + '/v2/') -Method 'GET' -Accept 'application/json' -Token ''
            $result.base = [string]$candidate
            break
        } catch {
            $failures += ([string]$candidate + ': ' + $_.Exception.Message)
        }
    }
    if (-not $result.base) {
        $result.problem = 'the registry did not answer: ' + ($failures -join '; ')
        return $result
    }
    if ($Registry.tags_path) {
        $tags = New-Object -TypeName System.Collections.ArrayList
        $url = $result.base + [string]$Registry.tags_path
        for ($page = 0; $url -and $page -lt 200; $page++) {
            $answer = Invoke-Registry -Url $url -Method 'GET' -Accept 'application/json'
            $result.status = $answer.status
            if ($answer.status -ne 200) {
                $result.problem = 'listing the tags answered HTTP ' + $answer.status + ': ' + $answer.body
                break
            }
            $document = ConvertFrom-Json -InputObject $answer.body
            foreach ($tag in $document.tags) {
                if ($null -ne $tag) { $null = $tags.Add([string]$tag) }
            }
            $url = $null
            if ($answer.link -match '<([^>]+)>\s*;\s*rel="?next"?') {
                $url = [string](New-Object -TypeName System.Uri -ArgumentList ([Uri]($result.base + '/')), $Matches[1])
            }
        }
        $result.tags = $tags
    }
    foreach ($manifest in $Registry.manifests) {
        $answer = Invoke-Registry -Url ($result.base + [string]$manifest.path) -Method 'HEAD' -Accept $ManifestTypes
        $result.digests[[string]$manifest.tag] = [ordered]@{ status = $answer.status; digest = $answer.digest }
    }
    return $result
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $answer = [ordered]@{
        os = Get-WindowsFacts
        hyperv = Get-HyperVFacts
        docker_found = $false
        results = @()
        os_images = $null
        find = $null
        registry = $null
        error = $null
    }
    if ($request.calls) {
        $docker = Resolve-Executable -Name 'docker'
        if ($docker) {
            $answer.docker_found = $true
            $started = @()
            foreach ($call in $request.calls) {
                $started += ,(Start-Call -Path $docker -CommandLine ([string]$call.cmdline) -Stdin $null -Environment $call.env)
            }
            $results = New-Object -TypeName System.Collections.ArrayList
            foreach ($item in $started) { $null = $results.Add((Complete-Call -Started $item)) }
            $answer.results = $results
        }
    }
    if ($request.os_images) { $answer.os_images = Get-ContainerOsImages }
    if ($request.find) { $answer.find = Find-ProviderImages -Find $request.find }
    if ($request.registry) {
        [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
        $answer.registry = Read-Registry -Registry $request.registry
    }
    Write-Answer $answer
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
"""

# Changes made with the cmdlets of the Windows Server 2016 Containers feature and the legacy
# ContainerImage provider: install an image from the provider (Install-ContainerImage) or from
# a WIM file (Install-ContainerOSImage), uninstall images (Uninstall-ContainerOSImage), or only
# check. Then the request's docker calls run (after an install: whether the engine lists the
# image); when one fails and the request allows it, the docker service is restarted once
# (workflow S5: Docker 1.12 imported such images only when it started) and the calls run again.
CONTAINER_IMAGE = PRELUDE + r"""
$ProgressPreference = 'SilentlyContinue'

function Invoke-Collected {
    # Runs a command, returns its output lines; an error record in any stream fails the script.
    param([scriptblock]$Command)
    $lines = New-Object -TypeName System.Collections.ArrayList
    foreach ($item in @(& $Command *>&1)) {
        if ($item -is [System.Management.Automation.ErrorRecord]) { throw $item.Exception }
        $null = $lines.Add([string]$item)
    }
    return ,$lines
}

function Get-ContainerCommand {
    param([string]$Name, [string]$Hint)
    $command = Get-Command -Name $Name -ErrorAction SilentlyContinue
    if (-not $command) { throw "$Name is not available on this host: $Hint" }
    return $command
}

function Invoke-Checks {
    param([string]$Docker, $Calls)
    $results = New-Object -TypeName System.Collections.ArrayList
    foreach ($call in $Calls) {
        $started = Start-Call -Path $Docker -CommandLine ([string]$call.cmdline) -Stdin $null -Environment $call.env
        $null = $results.Add((Complete-Call -Started $started))
    }
    return ,$results
}

function Test-AllSucceeded {
    param($Results)
    foreach ($result in $Results) { if ($result.rc -ne 0) { return $false } }
    return $true
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $answer = [ordered]@{ output = @(); checks = $null; restarted = $false; rechecks = $null; error = $null }
    $action = [string]$request.action
    if ($action -eq 'install') {
        $null = Get-ContainerCommand -Name 'Install-ContainerImage' -Hint 'the ContainerImage provider is not installed'
        $parameters = @{ Name = [string]$request.name }
        if ($request.version) { $parameters['RequiredVersion'] = [string]$request.version }
        $answer.output = Invoke-Collected -Command { Install-ContainerImage @parameters }
    } elseif ($action -eq 'install_wim') {
        $path = [string]$request.path
        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { throw "the WIM file '$path' does not exist on this host" }
        $command = Get-ContainerCommand -Name 'Install-ContainerOSImage' -Hint 'it comes with the Containers feature of Windows Server 2016'
        $parameters = @{ WimPath = $path }
        if ($command.Parameters.ContainsKey('Force')) { $parameters['Force'] = $true }
        $answer.output = Invoke-Collected -Command { Install-ContainerOSImage @parameters }
    } elseif ($action -eq 'uninstall') {
        $command = Get-ContainerCommand -Name 'Uninstall-ContainerOSImage' -Hint 'it comes with the Containers feature of Windows Server 2016'
        $output = New-Object -TypeName System.Collections.ArrayList
        foreach ($fullName in $request.full_names) {
            if ([string]$fullName -notmatch '^CN=Microsoft_[A-Za-z0-9]+_[0-9]+(\.[0-9]+){1,3}$') { throw "refusing to uninstall '$fullName'" }
            $parameters = @{ FullName = [string]$fullName }
            if ($command.Parameters.ContainsKey('Force')) { $parameters['Force'] = $true }
            if ($command.Parameters.ContainsKey('Confirm')) { $parameters['Confirm'] = $false }
            foreach ($line in (Invoke-Collected -Command { Uninstall-ContainerOSImage @parameters })) { $null = $output.Add($line) }
        }
        $answer.output = $output
    } elseif ($action -ne 'check') {
        throw "unknown action '$action'"
    }
    if ($request.calls) {
        $docker = Resolve-Executable -Name 'docker'
        if (-not $docker) { throw 'docker.exe was not found on this host' }
        $answer.checks = Invoke-Checks -Docker $docker -Calls $request.calls
        if ($request.restart -and -not (Test-AllSucceeded -Results $answer.checks)) {
            Restart-Service -Name 'docker' -Force
            $answer.restarted = $true
            $deadline = (Get-Date).AddSeconds([Math]::Max(10, [int]$request.restart_timeout))
            do {
                Start-Sleep -Seconds 1
                $probe = Complete-Call -Started (Start-Call -Path $docker -CommandLine 'version' -Stdin $null -Environment $null)
            } while ($probe.rc -ne 0 -and (Get-Date) -lt $deadline)
            $answer.rechecks = Invoke-Checks -Docker $docker -Calls $request.calls
        }
    }
    Write-Answer $answer
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
"""

# PackageManagement providers (workflow S1): list those available, install one from the
# PowerShell Gallery (Install-PackageProvider -Force, then Import-PackageProvider to check that
# it loads), or remove one that was installed that way (there is no Uninstall-PackageProvider:
# the provider's version folder under a Modules or ProviderAssemblies directory is deleted;
# anything else is refused). Every answer carries the list as it is before and afterwards.
PACKAGE_PROVIDER = PRELUDE + r"""
$ProgressPreference = 'SilentlyContinue'

function Get-ProviderList {
    $list = New-Object -TypeName System.Collections.ArrayList
    foreach ($provider in @(Get-PackageProvider -ListAvailable -ErrorAction SilentlyContinue)) {
        $null = $list.Add([ordered]@{
            name = [string]$provider.Name
            version = [string]$provider.Version
            path = [string]$provider.ProviderPath
        })
    }
    return ,$list
}

function Get-RemovableItem {
    # What Install-PackageProvider created for the provider file at $Path: the folder named
    # after the provider (or its version folder) under a Modules or ProviderAssemblies
    # directory outside Windows' own folders; $null for anything else.
    param([string]$Path, [string]$Name)
    if (-not $Path) { return $null }
    $item = Get-Item -LiteralPath $Path -ErrorAction SilentlyContinue
    if (-not $item -or $item.PSIsContainer) { return $null }
    $child = $null
    $current = $item.Directory
    while ($current) {
        if ($current.Name -eq 'Modules' -or $current.Name -eq 'ProviderAssemblies') {
            foreach ($system in @($PSHOME, $env:SystemRoot)) {
                if ($system -and $current.FullName.StartsWith($system, [StringComparison]::OrdinalIgnoreCase)) { return $null }
            }
            if (-not $child -or $child.Name -ne $Name) { return $null }
            return $item.Directory.FullName
        }
        $child = $current
        $current = $current.Parent
    }
    return $null
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $answer = [ordered]@{ before = $null; providers = $null; output = @(); removed = @(); error = $null }
    $name = [string]$request.name
    $action = [string]$request.action
    $answer.before = Get-ProviderList
    if ($action -eq 'install') {
        [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
        $parameters = @{ Name = $name; Force = $true; ForceBootstrap = $true }
        if ($request.version) { $parameters['RequiredVersion'] = [string]$request.version }
        $lines = New-Object -TypeName System.Collections.ArrayList
        foreach ($item in @(Install-PackageProvider @parameters *>&1)) {
            if ($item -is [System.Management.Automation.ErrorRecord]) { throw $item.Exception }
            $null = $lines.Add([string]$item)
        }
        $import = @{ Name = $name; Force = $true }
        if ($request.version) { $import['RequiredVersion'] = [string]$request.version }
        $null = Import-PackageProvider @import
        $answer.output = $lines
    } elseif ($action -eq 'remove') {
        $removed = New-Object -TypeName System.Collections.ArrayList
        foreach ($provider in $answer.before) {
            if ($provider.name -ne $name) { continue }
            if ($request.version -and $provider.version -ne [string]$request.version) { continue }
            $folder = Get-RemovableItem -Path $provider.path -Name $name
            if (-not $folder) { throw "the provider '$name' at '$($provider.path)' was not installed by Install-PackageProvider; it is not removed" }
            if (Test-Path -LiteralPath $folder) {
                Remove-Item -LiteralPath $folder -Recurse -Force
                $null = $removed.Add($folder)
            }
        }
        $answer.removed = $removed
    } elseif ($action -ne 'list') {
        throw "unknown action '$action'"
    }
    if ($action -ne 'list') { $answer.providers = Get-ProviderList } else { $answer.providers = $answer.before }
    Write-Answer $answer
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
"""

SCRIPTS["host_info"] = HOST_INFO
SCRIPTS["container_image"] = CONTAINER_IMAGE
SCRIPTS["package_provider"] = PACKAGE_PROVIDER

# Docker client configuration (docker_login): the config file's credential settings and, per
# registry, the user it holds credentials for. A stored "auth" (base64 of "user:password") is
# decoded here and only its user part is answered; credential helpers are asked with "list",
# which answers "server -> user" and never a secret. Only the helpers named below are run.
DOCKER_CONFIG = PRELUDE + r"""
function Get-HelperUsers {
    param([string]$Name)
    $known = @('desktop', 'osxkeychain', 'pass', 'secretservice', 'wincred')
    if ($known -notcontains $Name) { return [ordered]@{ found = $false; users = $null; error = 'not a known credential helper' } }
    $command = Get-Command -Name "docker-credential-$Name.exe" -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $command) { return [ordered]@{ found = $false; users = $null; error = "docker-credential-$Name.exe was not found on PATH" } }
    $result = Complete-Call -Started (Start-Call -Path $command.Path -CommandLine 'list' -Stdin $null -Environment $null)
    if ($result.rc -ne 0) {
        $text = ([string]$result.stderr + [string]$result.stdout).Trim()
        if ($text.Length -gt 500) { $text = $text.Substring(0, 500) }
        return [ordered]@{ found = $true; users = $null; error = $text }
    }
    $users = @{}
    if ($result.stdout.Trim()) {
        foreach ($property in (ConvertFrom-Json -InputObject $result.stdout).PSObject.Properties) {
            $users[[string]$property.Name] = [string]$property.Value
        }
    }
    return [ordered]@{ found = $true; users = $users; error = $null }
}

function Get-AuthUser {
    param([string]$Auth)
    try {
        return ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($Auth)) -split ':', 2)[0]
    } catch {
        return $null
    }
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $directory = [string]$request.config_dir
    if (-not $directory) { $directory = [string]$env:DOCKER_CONFIG }
    if (-not $directory) { $directory = Join-Path -Path $env:USERPROFILE -ChildPath '.docker' }
    $path = Join-Path -Path $directory -ChildPath 'config.json'
    $exists = Test-Path -LiteralPath $path -PathType Leaf
    $config = $null
    if ($exists) {
        $text = [IO.File]::ReadAllText($path, $Utf8)
        # The parser's message may quote the file: never answer it.
        try { if ($text.Trim()) { $config = ConvertFrom-Json -InputObject $text } } catch { throw "$path is not valid JSON" }
    }
    $auths = @{}
    $credsStore = $null
    $credHelpers = @{}
    if ($config) {
        if ($config.auths) {
            foreach ($property in $config.auths.PSObject.Properties) {
                $entry = $property.Value
                $user = $null
                $hasAuth = $false
                $hasToken = $false
                if ($entry) {
                    if ($entry.auth) { $hasAuth = $true; $user = Get-AuthUser -Auth ([string]$entry.auth) }
                    if ($entry.identitytoken) { $hasToken = $true }
                }
                $auths[[string]$property.Name] = [ordered]@{ user = $user; auth = $hasAuth; identity_token = $hasToken }
            }
        }
        if ($config.credsStore) { $credsStore = [string]$config.credsStore }
        if ($config.credHelpers) {
            foreach ($property in $config.credHelpers.PSObject.Properties) { $credHelpers[[string]$property.Name] = [string]$property.Value }
        }
    }
    $names = @($credHelpers.Values)
    if ($credsStore) { $names += $credsStore }
    $helpers = @{}
    foreach ($name in ($names | Sort-Object -Unique)) { $helpers[$name] = Get-HelperUsers -Name $name }
    $defaultStore = $null
    if (Get-Command -Name 'docker-credential-wincred.exe' -CommandType Application -ErrorAction SilentlyContinue) { $defaultStore = 'wincred' }
    Write-Answer ([ordered]@{
        config_dir = $directory; config_file = $path; exists = $exists; creds_store = $credsStore
        cred_helpers = $credHelpers; auths = $auths; helpers = $helpers; default_store = $defaultStore; error = $null
    })
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
"""
SCRIPTS["docker_config"] = DOCKER_CONFIG

# --- The Docker engine of a container host (win_container_engine, win_container_host_info) ------
#
# Windows facts used, with their sources (the decisions are in container_engine.py):
# Get-WindowsFeature (ServerManager, Server editions) gives InstallState (Available, Installed,
# InstallPending, Removed, UninstallPending) and Install-WindowsFeature answers Success and
# RestartNeeded (No, Yes, Maybe); client editions have Get-/Enable-WindowsOptionalFeature (DISM),
# whose State is Enabled, Disabled, EnablePending, DisablePending or DisabledWithPayloadRemoved
# and whose RestartNeeded is a bool (learn.microsoft.com). The servicing stack marks a pending
# reboot with the key Component Based Servicing\RebootPending, Windows Update with
# WindowsUpdate\Auto Update\RebootRequired. "dockerd --version" prints "Docker version X.Y.Z,
# build ..."; "dockerd --register-service <flags>" registers the service docker to run
# "<dockerd.exe> --run-service <flags>" with automatic start (moby cmd/dockerd/service_windows.go).
# The static binaries are docker-<version>.zip holding docker\docker.exe and docker\dockerd.exe.

# The engine facts: features, pending reboot, dockerd's version in the install directory, the
# docker service (Win32_Service), daemon.json (<data-root>\config\daemon.json, the data root from
# the request, the service's --data-root flag, or %ProgramData%\docker) and, when the service
# runs, whether the engine answers. dockerd.exe and docker.exe are the fixed names in the
# install directory the request names (the module's install_dir option).
ENGINE_FACTS = r"""
function Get-EngineFacts {
    param($Request)
    $features = [ordered]@{ kind = 'unknown'; containers = $null; hyperv = $null; problem = $null }
    try {
        if (Get-Command -Name 'Get-WindowsFeature' -ErrorAction SilentlyContinue) {
            $features.kind = 'server'
            foreach ($item in @(Get-WindowsFeature -Name 'Containers', 'Hyper-V')) {
                if ($item.Name -eq 'Containers') { $features.containers = [string]$item.InstallState } else { $features.hyperv = [string]$item.InstallState }
            }
        } else {
            $features.kind = 'client'
            $item = Get-WindowsOptionalFeature -Online -FeatureName 'Containers'
            if ($item) { $features.containers = [string]$item.State }
            $item = Get-WindowsOptionalFeature -Online -FeatureName 'Microsoft-Hyper-V'
            if ($item) { $features.hyperv = [string]$item.State }
        }
    } catch {
        $features.problem = $_.Exception.Message
    }
    $reasons = @()
    foreach ($key in 'Component Based Servicing\RebootPending', 'WindowsUpdate\Auto Update\RebootRequired') {
        if (Test-Path -LiteralPath ('HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\' + $key)) { $reasons += $key }
    }
    $dir = [string]$Request.install_dir
    if (-not $dir) { $dir = Join-Path -Path $env:ProgramFiles -ChildPath 'Docker' }
    $dir = [Environment]::ExpandEnvironmentVariables($dir)
    $facts = [ordered]@{
        features = $features; reboot = @{ pending = ($reasons.Count -gt 0); reasons = $reasons }
        install_dir = $dir; dockerd = $null; service = @{ exists = $false }; engine = $null; data_root = $null; daemon_json = $null
    }
    $dockerd = Join-Path -Path $dir -ChildPath 'dockerd.exe'
    if ([IO.File]::Exists($dockerd)) {
        $facts.dockerd = (Complete-Call -Started (Start-Call -Path $dockerd -CommandLine '--version' -Stdin $null -Environment $null)).stdout
    }
    $service = Get-CimInstance -ClassName 'Win32_Service' -Filter "Name='docker'"
    if ($service) {
        $facts.service = @{ exists = $true; state = [string]$service.State; start_mode = [string]$service.StartMode; path_name = [string]$service.PathName }
    }
    $root = [string]$Request.data_root
    if (-not $root -and $service -and ([string]$service.PathName -match '--data-root[= ]+("[^"]+"|\S+)')) { $root = $Matches[1].Trim('"') }
    if (-not $root) { $root = Join-Path -Path $env:ProgramData -ChildPath 'docker' }
    $facts.data_root = [Environment]::ExpandEnvironmentVariables($root)
    $path = Join-Path -Path $facts.data_root -ChildPath 'config\daemon.json'
    $facts.daemon_json = @{ path = $path; exists = [IO.File]::Exists($path); text = $null }
    if ($facts.daemon_json.exists) { $facts.daemon_json.text = [IO.File]::ReadAllText($path, $Utf8) }
    $docker = Join-Path -Path $dir -ChildPath 'docker.exe'
    if ($service -and [string]$service.State -eq 'Running' -and [IO.File]::Exists($docker)) {
        $facts.engine = Complete-Call -Started (Start-Call -Path $docker -CommandLine 'version --format "{{json .Server.Version}}"' -Stdin $null -Environment $null)
    }
    return $facts
}
"""

# win_container_engine's read: the engine facts and, when asked, the download index (for
# version: latest; fetched from the host, so its proxy applies) and the sha256 of an archive.
ENGINE_STATE = PRELUDE + ENGINE_FACTS + r"""
try {
    $request = ConvertFrom-Request -Lines @($input)
    $answer = Get-EngineFacts -Request $request
    $answer.index = $null
    $answer.archive = $null
    $answer.error = $null
    if ($request.index) {
        $answer.index = @{ status = $null; body = $null; problem = $null }
        try {
            [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
            $response = Invoke-WebRequest -Uri ([string]$request.index) -UseBasicParsing -TimeoutSec 60
            $answer.index.status = [int]$response.StatusCode
            $answer.index.body = [string]$response.Content
        } catch {
            $answer.index.problem = $_.Exception.Message
        }
    }
    if ($request.archive) {
        $path = [string]$request.archive
        $answer.archive = @{ exists = [IO.File]::Exists($path); size = $null; sha256 = $null }
        if ($answer.archive.exists) {
            $answer.archive.size = (New-Object -TypeName System.IO.FileInfo -ArgumentList $path).Length
            $answer.archive.sha256 = (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash.ToLowerInvariant()
        }
    }
    Write-Answer $answer
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
"""
SCRIPTS["engine_state"] = ENGINE_STATE

# win_container_host_info reads the engine facts in its one exec (request key "engine").
HOST_INFO = PRELUDE + ENGINE_FACTS + HOST_INFO[len(PRELUDE):].replace(
    "    if ($request.os_images) {", "    if ($request.engine) { $answer.engine = Get-EngineFacts -Request $request.engine }\n"
    "    if ($request.os_images) {", 1)
SCRIPTS["host_info"] = HOST_INFO

# The steps of a change, run by powershell.exe in a detached job (the job's only call): the
# request is the environment variable WC_ENGINE_REQUEST, this script WC_ENGINE_SCRIPT, which the
# constant ENGINE_JOB_BOOTSTRAP compiles. Steps, in this order, each when the request asks:
# features (Install-WindowsFeature or Enable-WindowsOptionalFeature; stops when a reboot is
# needed), fetch (download to <zip>.partial, sha256 checked, then renamed), install (sha256 of the
# zip checked before anything is replaced, extracted beside the install directory, its dockerd
# must be the version asked for; the service is stopped and the old directory kept as
# <dir>.wcold), register (dockerd --unregister-service, --register-service <flags>), config
# (daemon.json written to a temporary file, then moved over it; the old text kept), start
# (automatic start, started or restarted, then docker version must answer with the version
# asked for). When install, register, config or start fails, the old directory and daemon.json
# are put back and the service started again: the answer says rolled_back. remove: the service
# stopped and unregistered, the install directory deleted. Progress lines go to stdout; the
# answer is the last line.
ENGINE_JOB = BASE_PRELUDE + r"""
$ProgressPreference = 'SilentlyContinue'
$request = ConvertFrom-Json -InputObject $env:WC_ENGINE_REQUEST
$answer = [ordered]@{ done = @(); restart_needed = $false; features = @(); server_version = $null; rolled_back = $false; error = $null }
$dir = [string]$request.install_dir
$old = $dir + '.wcold'
$new = $dir + '.wcnew'

function Invoke-Exe {
    # Short calls with little output (versions, service registration): read after the exit.
    param([string]$Path, [string]$Arguments)
    $info = New-Object -TypeName System.Diagnostics.ProcessStartInfo -ArgumentList $Path, $Arguments
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $process = [Diagnostics.Process]::Start($info)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEnd()
    $process.WaitForExit()
    return @{ rc = $process.ExitCode; stdout = $stdout.Result; stderr = $stderr }
}

function Get-Sha256 {
    param([string]$Path)
    return (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
}

function Invoke-Dockerd {
    param([string]$Arguments)
    $result = Invoke-Exe (Join-Path $dir 'dockerd.exe') $Arguments
    if ($result.rc -ne 0) { throw ('dockerd ' + $Arguments + ' failed: ' + $result.stderr + $result.stdout) }
}

function Stop-Engine {
    $service = Get-Service -Name 'docker' -ErrorAction SilentlyContinue
    if ($service -and $service.Status -ne 'Stopped') {
        Stop-Service -Name 'docker' -Force
        $service.WaitForStatus('Stopped', [TimeSpan]::FromSeconds(120))
    }
}

function Start-Engine {
    param([bool]$Restart)
    Set-Service -Name 'docker' -StartupType Automatic
    if ($Restart) { Restart-Service -Name 'docker' -Force } else { Start-Service -Name 'docker' }
    $until = [DateTime]::UtcNow.AddSeconds([int]$request.wait)
    while ($true) {
        $result = Invoke-Exe (Join-Path $dir 'docker.exe') 'version --format "{{json .Server.Version}}"'
        if ($result.rc -eq 0) { return (ConvertFrom-Json -InputObject $result.stdout) }
        if ([DateTime]::UtcNow -gt $until) { throw ('the engine did not answer docker version within ' + $request.wait + ' s: ' + $result.stderr.Trim()) }
        Start-Sleep -Seconds 2
    }
}

try {
    if ($request.features) {
        foreach ($name in @($request.features)) {
            if ($request.server) {
                $result = Install-WindowsFeature -Name $name
                $needed = [string]$result.RestartNeeded
                if (-not $result.Success) { throw ('Install-WindowsFeature ' + $name + ' did not succeed (exit code ' + $result.ExitCode + ')') }
            } else {
                $needed = [string](Enable-WindowsOptionalFeature -Online -FeatureName $name -All -NoRestart).RestartNeeded
            }
            $answer.features += @{ name = [string]$name; restart_needed = $needed }
            if ('Yes', 'Maybe', 'True' -contains $needed) { $answer.restart_needed = $true }
        }
        $answer.done += 'features'
        if ($answer.restart_needed) {
            Write-Answer $answer
            return
        }
    }
    $zip = [string]$request.zip
    if ($request.fetch -and -not ([IO.File]::Exists($zip) -and (Get-Sha256 $zip) -eq $request.sha256)) {
        [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
        $response = [Net.WebRequest]::Create([string]$request.url).GetResponse()
        $stream = $response.GetResponseStream()
        $file = [IO.File]::Create($zip + '.partial')
        try {
            $buffer = New-Object -TypeName 'byte[]' -ArgumentList 1048576
            $got = 0
            $shown = 0
            while (($count = $stream.Read($buffer, 0, $buffer.Length)) -gt 0) {
                $file.Write($buffer, 0, $count)
                $got += $count
                if ($got - $shown -ge 8388608) { Write-Output ('progress {0} {1}' -f $got, $response.ContentLength); $shown = $got }
            }
        } finally {
            $file.Dispose()
            $response.Close()
        }
        $sha = Get-Sha256 ($zip + '.partial')
        if ($request.sha256 -and $sha -ne $request.sha256) {
            [IO.File]::Delete($zip + '.partial')
            throw ('the download of ' + $request.url + ' has sha256 ' + $sha + ', not ' + $request.sha256 + '; nothing was replaced')
        }
        if ([IO.File]::Exists($zip)) { [IO.File]::Delete($zip) }
        [IO.File]::Move($zip + '.partial', $zip)
        $answer.done += 'fetch'
    }
    $previous = $null
    $touched = $false
    try {
        if ($request.install) {
            $sha = Get-Sha256 $zip
            if ($request.sha256 -and $sha -ne $request.sha256) { throw ($zip + ' has sha256 ' + $sha + ', not ' + $request.sha256 + '; nothing was replaced') }
            foreach ($path in $new, $old) { if ([IO.Directory]::Exists($path)) { [IO.Directory]::Delete($path, $true) } }
            Add-Type -AssemblyName 'System.IO.Compression.FileSystem'
            [IO.Compression.ZipFile]::ExtractToDirectory($zip, $new)
            $staged = Join-Path $new 'docker'
            if (-not [IO.File]::Exists((Join-Path $staged 'dockerd.exe')) -or -not [IO.File]::Exists((Join-Path $staged 'docker.exe'))) {
                throw ($zip + ' does not hold docker\docker.exe and docker\dockerd.exe; nothing was replaced')
            }
            $check = Invoke-Exe (Join-Path $staged 'dockerd.exe') '--version'
            if ($check.stdout -notmatch ('^Docker version ' + [regex]::Escape([string]$request.version) + ',')) {
                throw ($zip + ' holds ' + $check.stdout.Trim() + ', not ' + $request.version + '; nothing was replaced')
            }
            Stop-Engine
            $touched = $true
            if ([IO.Directory]::Exists($dir)) { [IO.Directory]::Move($dir, $old) }
            [IO.Directory]::Move($staged, $dir)
            $answer.done += 'install'
        }
        if ($request.register) {
            if (Get-Service -Name 'docker' -ErrorAction SilentlyContinue) {
                Stop-Engine
                Invoke-Dockerd '--unregister-service'
            }
            Invoke-Dockerd ([string]$request.register_arguments)
            $answer.done += 'register'
        }
        if ($null -ne $request.config) {
            $path = [string]$request.config.path
            $previous = @{ exists = [IO.File]::Exists($path); text = $null }
            if ($previous.exists) { $previous.text = [IO.File]::ReadAllText($path) }
            $null = [IO.Directory]::CreateDirectory([IO.Path]::GetDirectoryName($path))
            [IO.File]::WriteAllText($path + '.wctmp', [string]$request.config.text, $Utf8)
            if ($previous.exists) { [IO.File]::Replace($path + '.wctmp', $path, [NullString]::Value) } else { [IO.File]::Move($path + '.wctmp', $path) }
            $touched = $true
            $answer.done += 'config'
        }
        if ($request.start) {
            $running = (Get-Service -Name 'docker').Status -eq 'Running'
            $answer.server_version = Start-Engine -Restart $running
            if ($request.version -and $answer.server_version -ne $request.version) {
                throw ('the engine answers as ' + $answer.server_version + ', not ' + $request.version)
            }
            $answer.done += 'start'
        }
    } catch {
        $failure = $_.Exception.Message
        if ($touched) {
            try {
                Stop-Engine
                if ([IO.Directory]::Exists($old)) {
                    if ([IO.Directory]::Exists($dir)) { [IO.Directory]::Delete($dir, $true) }
                    [IO.Directory]::Move($old, $dir)
                }
                if ($previous -and $previous.exists) { [IO.File]::WriteAllText($path, $previous.text, $Utf8) }
                elseif ($previous) { [IO.File]::Delete($path) }
                $answer.server_version = Start-Engine -Restart $false
                $answer.rolled_back = $true
            } catch {
                $failure += '; putting the previous engine back failed too: ' + $_.Exception.Message
            }
        }
        throw $failure
    }
    foreach ($path in $new, $old) { if ([IO.Directory]::Exists($path)) { [IO.Directory]::Delete($path, $true) } }
    if ($request.remove) {
        if (Get-Service -Name 'docker' -ErrorAction SilentlyContinue) {
            Stop-Engine
            Invoke-Dockerd '--unregister-service'
        }
        if ([IO.Directory]::Exists($dir)) { [IO.Directory]::Delete($dir, $true) }
        $answer.done += 'remove'
    }
    Write-Answer $answer
} catch {
    $answer.error = @{ kind = 'exception'; message = $_.Exception.Message }
    Write-Answer $answer
}
"""

SCRIPTS["engine_job"] = ENGINE_JOB

# What powershell.exe runs in the job: the script from the job's environment (a constant of this
# module, put there by the controller; never text a user wrote).
ENGINE_JOB_BOOTSTRAP = "$ErrorActionPreference = 'Stop'; & ([ScriptBlock]::Create($env:WC_ENGINE_SCRIPT))"
