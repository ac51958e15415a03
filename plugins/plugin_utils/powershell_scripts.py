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
    r"$ErrorActionPreference = 'Stop'; $lines = @($input); "
    r"try { $script = [ScriptBlock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($lines[0]))) } "
    r"""catch { Write-Output ('{"results":[],"error":{"kind":"exception","message":"bootstrap: ' + """
    r"""($_.Exception.Message -replace '[^ -~]', '?' -replace '[\\"]', "'") + '"}}'); exit 1 }; """
    r"$lines | Select-Object -Skip 1 | & $script"
)

# Functions shared by the scripts. Executables are chosen from a fixed table, never named by
# the request: the request only says "docker" or "tar".
PRELUDE = r"""
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
    }
    if (-not $known.ContainsKey($Name)) { throw "unknown executable '$Name'" }
    $found = Get-Command -Name "$Name.exe" -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($found) { return $found.Path }
    foreach ($candidate in $known[$Name]) {
        if (Test-Path -LiteralPath $candidate -PathType Leaf) { return $candidate }
    }
    return $null
}

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
        if ($token -notmatch '^[A-Za-z0-9:._/@-]+$') { throw "refusing to pass '$token' as an argument" }
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
# job keeps its request, logs and results in a directory named by the job's ID; short execs
# poll it. The runner's own script is the constant JOB_RUNNER, written there by JOB_START.
JOB_PRELUDE = PRELUDE + r"""
function Get-JobDirectory {
    param([string]$Id)
    if ($Id -notmatch '^[0-9a-f]{16,64}$') { throw "invalid job id '$Id'" }
    return (Join-Path -Path $env:ProgramData -ChildPath "wincontainers.images\jobs\$Id")
}

function Read-Shared {
    # Reads a file another process may still be writing; keeps the last $Limit characters.
    param([string]$Path, [int]$Limit = 262144)
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) { return '' }
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

function Write-Atomically {
    param([string]$Path, [string]$Text)
    [IO.File]::WriteAllText("$Path.tmp", $Text, $Utf8)
    Move-Item -LiteralPath "$Path.tmp" -Destination $Path -Force
}
"""

JOB_RUNNER = JOB_PRELUDE + r"""
$dir = [Environment]::CurrentDirectory
try {
    [IO.File]::WriteAllText((Join-Path $dir 'runner.pid'), [string]$PID)
    $request = ConvertFrom-Json -InputObject ([IO.File]::ReadAllText((Join-Path $dir 'request.json')))
    $calls = @($request.calls)
    $parallel = [Math]::Max(1, [int]$request.parallel)
    $retries = [Math]::Max(0, [int]$request.retries)
    $results = New-Object -TypeName 'object[]' -ArgumentList $calls.Count
    $attempts = New-Object -TypeName 'int[]' -ArgumentList $calls.Count
    $queue = New-Object -TypeName System.Collections.Queue
    for ($index = 0; $index -lt $calls.Count; $index++) { $queue.Enqueue($index) }
    $running = New-Object -TypeName System.Collections.ArrayList
    while ($queue.Count -gt 0 -or $running.Count -gt 0) {
        while ($queue.Count -gt 0 -and $running.Count -lt $parallel) {
            $index = $queue.Dequeue()
            $call = $calls[$index]
            $attempts[$index]++
            if ($call.env) {
                foreach ($property in $call.env.PSObject.Properties) {
                    [Environment]::SetEnvironmentVariable($property.Name, [string]$property.Value, 'Process')
                }
            }
            $process = Start-Process -FilePath $call.path -ArgumentList $call.cmdline -NoNewWindow -PassThru `
                -RedirectStandardOutput (Join-Path $dir "$index.out") -RedirectStandardError (Join-Path $dir "$index.err")
            $null = $process.Handle
            Add-Content -LiteralPath (Join-Path $dir 'pids') -Value $process.Id
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
            $results[$entry.Index] = [ordered]@{ rc = $rc; attempts = $attempts[$entry.Index] }
        }
    }
    Write-Atomically -Path (Join-Path $dir 'results.json') -Text (ConvertTo-Json -InputObject @{ results = $results; error = $null } -Depth 6 -Compress)
} catch {
    Write-Atomically -Path (Join-Path $dir 'results.json') -Text (ConvertTo-Json -InputObject @{ results = @(); error = @{ kind = 'exception'; message = $_.Exception.Message } } -Compress)
}
"""

# What Win32_Process.Create runs: a constant command line that runs runner.ps1 from the job
# directory, which is the new process's current directory.
JOB_RUNNER_BOOTSTRAP = (
    "$ErrorActionPreference = 'Stop'; "
    "& ([ScriptBlock]::Create([IO.File]::ReadAllText([IO.Path]::Combine([Environment]::CurrentDirectory, 'runner.ps1'))))"
)

JOB_START = JOB_PRELUDE + r"""
try {
    $request = ConvertFrom-Request -Lines @($input)
    $dir = Get-JobDirectory -Id $request.job
    if (Test-Path -LiteralPath (Join-Path $dir 'request.json')) {
        Write-Answer @{ started = $false; error = $null }
        return
    }
    $calls = @()
    foreach ($call in @($request.calls)) {
        $path = Resolve-Executable -Name $call.exe
        if (-not $path) {
            Write-Answer @{ error = @{ kind = 'not_found'; exe = $call.exe; message = "$($call.exe).exe was not found on this host" } }
            return
        }
        $calls += @{ path = $path; cmdline = [string]$call.cmdline; env = $call.env }
    }
    $null = New-Item -ItemType Directory -Path $dir -Force
    $runner = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($request.runner))
    [IO.File]::WriteAllText((Join-Path $dir 'runner.ps1'), $runner, $Utf8)
    $jobRequest = @{ parallel = $request.parallel; retries = $request.retries; calls = $calls }
    Write-Atomically -Path (Join-Path $dir 'request.json') -Text (ConvertTo-Json -InputObject $jobRequest -Depth 6 -Compress)
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($request.runner_bootstrap))
    $created = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{
        CommandLine = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand $encoded"
        CurrentDirectory = $dir
    }
    if ($created.ReturnValue -ne 0) {
        Remove-Item -LiteralPath $dir -Recurse -Force
        throw "Win32_Process.Create could not start the job runner (return value $($created.ReturnValue))"
    }
    Write-Answer @{ started = $true; error = $null }
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
"""

JOB_STATUS = JOB_PRELUDE + r"""
try {
    $request = ConvertFrom-Request -Lines @($input)
    $dir = Get-JobDirectory -Id $request.job
    if (-not (Test-Path -LiteralPath (Join-Path $dir 'request.json'))) {
        Write-Answer @{ exists = $false; error = $null }
        return
    }
    $count = @((ConvertFrom-Json -InputObject (Read-Shared -Path (Join-Path $dir 'request.json'))).calls).Count
    $outputs = @()
    for ($index = 0; $index -lt $count; $index++) {
        $outputs += [ordered]@{
            stdout = Read-Shared -Path (Join-Path $dir "$index.out")
            stderr = Read-Shared -Path (Join-Path $dir "$index.err")
        }
    }
    $finished = $null
    $resultsPath = Join-Path $dir 'results.json'
    if (Test-Path -LiteralPath $resultsPath) {
        $finished = ConvertFrom-Json -InputObject (Read-Shared -Path $resultsPath)
    }
    $alive = $false
    $runnerPid = Read-Shared -Path (Join-Path $dir 'runner.pid')
    if ($runnerPid) { $alive = [bool](Get-Process -Id ([int]$runnerPid) -ErrorAction SilentlyContinue) }
    Write-Answer ([ordered]@{ exists = $true; started = [bool]$runnerPid; alive = $alive; finished = $finished; outputs = $outputs; error = $null })
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
"""

JOB_CLEANUP = JOB_PRELUDE + r"""
try {
    $request = ConvertFrom-Request -Lines @($input)
    $dir = Get-JobDirectory -Id $request.job
    if ($request.kill) {
        $ids = @(Read-Shared -Path (Join-Path $dir 'runner.pid')) + @((Read-Shared -Path (Join-Path $dir 'pids')) -split "`r?`n")
        foreach ($id in $ids) {
            if ($id -match '^\d+$') { Stop-Process -Id ([int]$id) -Force -ErrorAction SilentlyContinue }
        }
    }
    if (Test-Path -LiteralPath $dir) { Remove-Item -LiteralPath $dir -Recurse -Force }
    Write-Answer @{ removed = $true; error = $null }
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
"""

SCRIPTS: dict[str, str] = {
    "run": RUN,
    "job_start": JOB_START,
    "job_status": JOB_STATUS,
    "job_cleanup": JOB_CLEANUP,
    "job_runner": JOB_RUNNER,
}
