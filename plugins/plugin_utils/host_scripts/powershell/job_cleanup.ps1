# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Ends this run's interest in a job: with "kill", stops and removes it; otherwise removes this
# run's claim, and the job once its runner is done and no other run polled it lately.

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
