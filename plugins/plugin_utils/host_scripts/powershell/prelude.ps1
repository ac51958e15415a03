# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Functions shared by the scripts that run program calls in the exec itself.

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
