
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

function Get-HexDigest {
    param($Algorithm)
    return ([BitConverter]::ToString($Algorithm.Hash) -replace '-', '').ToLowerInvariant()
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $target = [string]$request.target
    $partial = [string]$request.partial
    $parts = @($request.parts)
    $buffer = New-Object -TypeName byte[] -ArgumentList 1048576
    $whole = [Security.Cryptography.SHA256]::Create()
    $total = [long]0
    $problem = $null
    $stream = New-Object -TypeName IO.FileStream -ArgumentList $partial, ([IO.FileMode]::Create), ([IO.FileAccess]::Write), ([IO.FileShare]::None)
    try {
        for ($index = 0; $index -lt $parts.Count; $index++) {
            $part = [string]$parts[$index].path
            $one = [Security.Cryptography.SHA256]::Create()
            $reader = New-Object -TypeName IO.FileStream -ArgumentList $part, ([IO.FileMode]::Open), ([IO.FileAccess]::Read), ([IO.FileShare]::Read)
            try {
                while (($read = $reader.Read($buffer, 0, $buffer.Length)) -gt 0) {
                    $null = $one.TransformBlock($buffer, 0, $read, $null, 0)
                    $null = $whole.TransformBlock($buffer, 0, $read, $null, 0)
                    $stream.Write($buffer, 0, $read)
                    $total += $read
                }
            } finally {
                $reader.Dispose()
            }
            $null = $one.TransformFinalBlock($buffer, 0, 0)
            $digest = Get-HexDigest -Algorithm $one
            Remove-Item -LiteralPath $part -Force
            if ($digest -ne [string]$parts[$index].sha256) {
                $problem = [ordered]@{ kind = 'part_mismatch'; index = $index; sha256 = $digest }
                break
            }
        }
    } finally {
        $stream.Dispose()
    }
    if ($null -eq $problem) {
        $null = $whole.TransformFinalBlock($buffer, 0, 0)
        $digest = Get-HexDigest -Algorithm $whole
        if ($digest -ne [string]$request.sha256 -or $total -ne [long]$request.size) {
            $problem = [ordered]@{ kind = 'mismatch'; sha256 = $digest; size = $total }
        }
    }
    if ($null -ne $problem) {
        Remove-Item -LiteralPath $partial -Force
        Write-Answer @{ problem = $problem; sha256 = $null; size = $null; removed = @(); error = $null }
        return
    }
    if (Test-Path -LiteralPath $target -PathType Leaf) {
        [IO.File]::Replace($partial, $target, [NullString]::Value)
    } else {
        [IO.File]::Move($partial, $target)
    }
    $directory = [IO.Path]::GetDirectoryName($target)
    $leaf = [IO.Path]::GetFileName($target)
    $pattern = '^' + [regex]::Escape($leaf) + '\.wc(part-[0-9a-f]{16}-[0-9]+|join-[0-9a-f]{16})$'
    $removed = @()
    foreach ($left in [IO.Directory]::GetFiles($directory, $leaf + '.wc*')) {
        $name = [IO.Path]::GetFileName($left)
        if ($name -match $pattern) {
            try {
                Remove-Item -LiteralPath $left -Force
                $removed += $name
            } catch {
                $null = $_
            }
        }
    }
    Write-Answer @{ problem = $null; sha256 = $digest; size = $total; removed = $removed; error = $null }
} catch {
    if ($partial) { Remove-Item -LiteralPath $partial -Force -ErrorAction SilentlyContinue }
    Write-Answer @{ problem = $null; sha256 = $null; size = $null; removed = @(); error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
