
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
