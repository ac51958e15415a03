
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

function Get-JobDirectory {
    param([string]$Id)
    if ($Id -notmatch '^[0-9a-f]{16,64}$') { throw "invalid job id '$Id'" }
    return (Join-Path -Path $env:ProgramData -ChildPath "wincontainers.images\jobs\$Id")
}

function Read-Shared {
    # Reads a file another process may still be writing; keeps the last $Limit characters.
    param([string]$Path, [int]$Limit = 262144)
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) { return '' }
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

function Write-Atomically {
    param([string]$Path, [string]$Text)
    [IO.File]::WriteAllText("$Path.tmp", $Text, $Utf8)
    Move-Item -LiteralPath "$Path.tmp" -Destination $Path -Force
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $dir = Get-JobDirectory -Id $request.job
    if ($request.kill) {
        $ids = @(Read-Shared -Path (Join-Path $dir 'runner.pid')) + @((Read-Shared -Path (Join-Path $dir 'pids')) -split "`r?`n")
        foreach ($id in $ids) {
            if ($id -match '^\d+$') { Stop-Process -Id ([int]$id) -Force -ErrorAction SilentlyContinue }
        }
    }
    if (Test-Path -LiteralPath $dir) { Remove-Item -LiteralPath $dir -Recurse -Force }
    Write-Answer @{ removed = $true; error = $null }
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
