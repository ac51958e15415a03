
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
