# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Starts the job, or attaches to it while it runs: sweeps orphans, creates the job directory
# (the exclusive create of request.json.tmp decides which run starts it), discards a stale one
# and starts again, takes the path locks, writes the request and starts the runner.
# The runner (job_runner) is not in this script: stage_script put it in <root>\scripts, named by
# the sha256 the request gives as `runner`, and a job directory gets a copy of it. Without it the
# answer is 'runner_missing', before anything is touched: the controller stages it and asks again.
# $JobRunnerBootstrap (job_runner_bootstrap) is a here-string placed before this part
# (powershell_scripts.PARTS).
#
# Win32_Process.Create starts the runner inside the job object of the WMI provider host
# (WmiPrvSE.exe), whose quotas (__ProviderHostQuotaConfiguration: memory per host, processes,
# threads) would then hold the runner and every docker.exe of a multi-GB pull. The runner is
# therefore started with CREATE_BREAKAWAY_FROM_JOB (0x01000000, Win32_ProcessStartup.CreateFlags),
# which works only where that job sets JOB_OBJECT_LIMIT_BREAKAWAY_OK; where it does not, the
# creation fails (no process is made: "Process Creation Flags"), the runner is started again without
# the flag and the answer says why (breakaway_refused). Sources, learn.microsoft.com: "Process
# Creation Flags", "Win32_ProcessStartup class", "Create method of the Win32_Process class" (a fully
# qualified path when the program is not on Winmgmt's search path), "Provider hosting and security".

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
    if ([string]$request.runner -cnotmatch '^[0-9a-f]{64}$') { throw 'invalid runner sha256' }
    $calls = @()
    foreach ($call in @($request.calls)) {
        $path = Resolve-Executable -Name $call.exe
        if (-not $path) {
            Write-Answer @{ error = @{ kind = 'not_found'; exe = $call.exe; message = "$($call.exe).exe was not found on this host" } }
            return
        }
        $calls += @{ path = $path; cmdline = [string]$call.cmdline; env = $call.env }
    }
    $security = New-JobSecurity
    $root = Get-JobRoot -Security $security
    $scripts = Join-Path -Path $root -ChildPath 'scripts'
    $stagedRunner = Join-Path -Path $scripts -ChildPath "job_runner-$(([string]$request.runner).Substring(0, 32)).ps1"
    if (-not (Test-PrivateDirectory -Path $scripts -Owners $JobTrusted) -or -not [IO.File]::Exists($stagedRunner)) {
        Write-Answer @{ state = 'runner_missing'; error = $null }
        return
    }
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
        # Until the runner runs, a failure (a file that cannot be written, WMI itself failing: the
        # service stopped, access denied) removes the half-made job, so that the next run starts
        # afresh instead of waiting out the start grace.
        try {
            [IO.File]::Copy($stagedRunner, (Join-Path $dir 'runner.ps1'))
            Write-Atomically -Path (Join-Path $dir 'request.json') -Value ([ordered]@{
                parallel = $request.parallel; retries = $request.retries; calls = $calls
                created = (Get-UnixTime); locks = $locks; rename = $request.rename
            })
            Set-Claim $claim
            $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($JobRunnerBootstrap))
            $arguments = @{
                CommandLine = "`"$PSHOME\powershell.exe`" -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand $encoded"
                CurrentDirectory = $dir
            }
            # With the flag first; refused (a return value, or a CIM error of its own), without it.
            $refused = $null
            try {
                $arguments.ProcessStartupInformation = New-CimInstance -CimClass (Get-CimClass -ClassName Win32_ProcessStartup) -Property @{ CreateFlags = [uint32]16777216 } -ClientOnly
                $created = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments $arguments
                if ($created.ReturnValue -ne 0) { $refused = "return value $($created.ReturnValue)" }
            } catch {
                $refused = "error: $($_.Exception.Message)"
            }
            if ($null -ne $refused) {
                $arguments.Remove('ProcessStartupInformation')
                $created = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments $arguments
            }
            if ($created.ReturnValue -ne 0) { throw "Win32_Process.Create could not start the job runner (return value $($created.ReturnValue))" }
        } catch {
            Remove-Job -Root $root -Id $id
            throw
        }
        Write-Answer @{ state = 'started'; discarded = $discarded; breakaway_refused = $refused; error = $null }
        return
    }
    throw "${dir}: the job directory keeps changing"
} catch {
    Write-Failure $_
}
