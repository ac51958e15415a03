# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Runs the request's calls, at most `parallel` at a time, and answers with their results in
# request order. A call may take extra arguments from the output lines of an earlier call
# (`append_lines_of`), so "list, then inspect what was listed" is one round trip.

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
