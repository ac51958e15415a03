
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
