
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
        if ($token -notmatch '^[A-Za-z0-9][A-Za-z0-9:._/@-]*$') { throw "refusing to pass '$token' as an argument" }
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
    # .NET Framework creates StandardInput with Console.InputEncoding and AutoFlush on, which
    # writes that encoding's preamble at once: a UTF-8 BOM before docker login's password whenever
    # the console code page is 65001 (the WinRS shells Ansible opens, chcp 65001 over ssh, the
    # "Use Unicode UTF-8" locale). A preamble-free encoding first, as ansible-core's wrapper does.
    try { [Console]::InputEncoding = $Utf8 } catch { $null = $_ }
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
