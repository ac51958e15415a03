# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# The runner, started by Win32_Process.Create in the job directory: claims the job with an
# exclusive create of runner.pid (a second runner exits at once), runs the calls (at most
# `parallel` at a time, failed ones again up to `retries` times), renames the request's
# partial file to its final name when every call succeeded, then writes results.json.

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
