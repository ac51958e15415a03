
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
