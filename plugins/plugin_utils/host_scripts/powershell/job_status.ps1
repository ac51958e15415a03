# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# The state of a job: its outputs so far and, once there, its results. With "wait", the
# script waits (at most 10 s) for the results: one exec instead of several polls.

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
